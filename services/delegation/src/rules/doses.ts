import {
  currentEntriesOf,
  type CurrentEntry,
  type EntryStreamEvent,
  type MedicationOrderChangedData,
  type MedicationOrderDetails,
  type MedicationOrderedData,
  type MedicationOrderStoppedData,
} from '@tandem/contracts';
import { englandDate, englandInstant } from '@tandem/contracts';
import { DOSE_RULE_IDS, DOSE_SETTINGS } from '../frameworks/medicines';
import type { Ruleset } from '../frameworks/schema';
import { sbardFor, type EscalationToRaise } from './escalations';

/**
 * A scheduled dose left with no outcome (issue 13; docs/decisions/0023): pure. The scheduler
 * gives the person's medicines stream (the orders) and care stream (the outcomes) as they are.
 */

/** One order as its stream tells it now: its current version, or stopped. */
export interface OrderFacts {
  readonly orderId: string;
  readonly patientId: string;
  readonly details: MedicationOrderDetails;
  readonly stopped: boolean;
}

/** A medicines-stream event as the fold needs it. */
export interface MedicinesStreamEntry {
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
}

export type OrdersState = Readonly<Record<string, OrderFacts>>;

export const evolveOrders = (state: OrdersState, event: MedicinesStreamEntry): OrdersState => {
  switch (event.type) {
    case 'MedicationOrdered': {
      const { patientId, ...details } = event.data as MedicationOrderedData;
      return { ...state, [event.id]: { orderId: event.id, patientId, details, stopped: false } };
    }
    case 'MedicationOrderChanged': {
      const { orderId, order } = event.data as MedicationOrderChangedData;
      const before = state[orderId];
      return before ? { ...state, [orderId]: { ...before, details: order } } : state;
    }
    case 'MedicationOrderStopped': {
      const { orderId } = event.data as MedicationOrderStoppedData;
      const before = state[orderId];
      return before ? { ...state, [orderId]: { ...before, stopped: true } } : state;
    }
    default:
      return state;
  }
};

export const ordersFrom = (events: readonly MedicinesStreamEntry[]): OrdersState => events.reduce(evolveOrders, {});

/** One scheduled dose of an order: its time of day on the chart and the instant that is in England on its day. */
export interface ScheduledDose {
  readonly scheduledTime: string;
  readonly scheduledAt: string;
}

const timesOf = (details: MedicationOrderDetails): readonly string[] => (details.timing.kind === 'scheduled' ? [...details.timing.times].sort() : []);

/** Whether the order asks for a dose at this instant: not stopped, started, not past its stop, and the time on its chart. */
export const isDoseScheduled = (order: OrderFacts, dose: ScheduledDose): boolean =>
  !order.stopped &&
  timesOf(order.details).includes(dose.scheduledTime) &&
  englandInstant(englandDate(new Date(dose.scheduledAt)), dose.scheduledTime) === dose.scheduledAt &&
  Date.parse(dose.scheduledAt) >= Date.parse(order.details.start) &&
  (order.details.stop === undefined || Date.parse(dose.scheduledAt) < Date.parse(order.details.stop));

/** The order's first scheduled dose strictly after `after` (none for a PRN order, a stopped one, or past its stop). */
export const nextScheduledDose = (order: OrderFacts, after: string): ScheduledDose | undefined => {
  const times = timesOf(order.details);
  if (order.stopped || times.length === 0) return undefined;
  const from = Math.max(Date.parse(after), Date.parse(order.details.start) - 1);
  for (let day = 0; day < 3; day++) {
    const date = englandDate(new Date(from + (day - 1) * 86_400_000));
    for (const scheduledTime of times) {
      const scheduledAt = englandInstant(date, scheduledTime);
      if (Date.parse(scheduledAt) <= from) continue;
      const dose = { scheduledTime, scheduledAt };
      if (order.details.stop !== undefined && Date.parse(scheduledAt) >= Date.parse(order.details.stop)) return undefined;
      if (isDoseScheduled(order, dose)) return dose;
    }
  }
  return undefined;
};

/** How late a dose may be before it is overdue, and how much later it reaches the nursing team (LOCAL settings). */
export const doseDeadlines = (ruleset: Ruleset, timeCritical: boolean, scheduledAt: string): { overdueAt: string; escalateAt: string } => {
  const minutes = (id: string): number => Number(ruleset.settings[id]?.value);
  const tolerance = minutes(timeCritical ? DOSE_SETTINGS.timeCriticalTolerance : DOSE_SETTINGS.tolerance);
  const further = minutes(timeCritical ? DOSE_SETTINGS.timeCriticalEscalateAfter : DOSE_SETTINGS.escalateAfter);
  const overdueAt = Date.parse(scheduledAt) + tolerance * 60_000;
  return { overdueAt: new Date(overdueAt).toISOString(), escalateAt: new Date(overdueAt + further * 60_000).toISOString() };
};

const INSULIN_OUTCOME_TYPES: ReadonlySet<string> = new Set(['InsulinAdministered', 'InsulinWithheld']);

/**
 * The scheduled dose a recorded outcome is for: a MAR outcome names its time, on the day it was
 * recorded in England (as the record keeps one outcome per time a day); an insulin dose given or
 * withheld against the order is for the order's time that day nearest to it. Undefined for
 * anything else (a PRN dose, another order's, an entry that is no dose).
 */
export const doseOfOutcome = (order: OrderFacts, entry: { type: string; data: unknown; occurredAt: string }): ScheduledDose | undefined => {
  const data = entry.data as { orderId?: string; scheduledTime?: string };
  if (data.orderId !== order.orderId) return undefined;
  const date = englandDate(new Date(entry.occurredAt));
  if (entry.type === 'MedicineDoseRecorded') {
    return data.scheduledTime === undefined ? undefined : { scheduledTime: data.scheduledTime, scheduledAt: englandInstant(date, data.scheduledTime) };
  }
  if (!INSULIN_OUTCOME_TYPES.has(entry.type)) return undefined;
  const at = Date.parse(entry.occurredAt);
  const nearest = timesOf(order.details)
    .map((scheduledTime) => ({ scheduledTime, scheduledAt: englandInstant(date, scheduledTime) }))
    .sort((a, b) => Math.abs(Date.parse(a.scheduledAt) - at) - Math.abs(Date.parse(b.scheduledAt) - at))[0];
  return nearest;
};

/** The outcome recorded for a dose, if any: from the care stream's current entries (an entry marked entered in error is no outcome). */
export const outcomeOfDose = (order: OrderFacts, dose: ScheduledDose, careEvents: readonly EntryStreamEvent[]): CurrentEntry | undefined =>
  Object.values(currentEntriesOf(careEvents)).find((entry) => entry.status !== 'entered-in-error' && doseOfOutcome(order, entry)?.scheduledAt === dose.scheduledAt);

const timeInEngland = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', weekday: 'short', day: 'numeric', month: 'short' });

const whatAndWhen = (order: OrderFacts, dose: ScheduledDose): string =>
  `${order.details.product.display}, ${order.details.dose.value} ${order.details.dose.unit} ${order.details.route}, due ${dose.scheduledTime} (${timeInEngland.format(new Date(dose.scheduledAt))})`;

/** What the care worker is told: what, when due, and what to do. */
export const doseOverduePrompt = (order: OrderFacts, dose: ScheduledDose): { ruleId: string; title: string; steps: string[] } => ({
  ruleId: DOSE_RULE_IDS.overdue,
  title: `Dose overdue: ${whatAndWhen(order, dose)}${order.details.timeCritical ? ' (time-critical)' : ''}`,
  steps: [
    'Check the chart and the person: has this dose been given, refused or taken already?',
    'Record its outcome now (given, refused, not given with the reason, already taken, or missed).',
    order.details.timeCritical
      ? 'This medicine is time-critical: if it cannot be given now, tell the nursing team straight away.'
      : 'If you cannot give it, say why in the outcome: the nursing team is told if nothing is recorded.',
  ],
});

/** How long after its time a dose is, in words a nurse reads at a glance (45 minutes, 2 hours 5 minutes). */
export const lateInWords = (scheduledAt: string, at: string): string => {
  const minutes = Math.max(0, Math.round((Date.parse(at) - Date.parse(scheduledAt)) / 60_000));
  const [hours, rest] = [Math.floor(minutes / 60), minutes % 60];
  const part = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  return hours === 0 ? part(rest, 'minute') : rest === 0 ? part(hours, 'hour') : `${part(hours, 'hour')} ${part(rest, 'minute')}`;
};

/** What the nursing team is told when the dose still has no outcome (how late, at `raisedAt`): urgent for a time-critical medicine. */
export const doseOverdueEscalation = (ruleset: Ruleset, order: OrderFacts, dose: ScheduledDose, prompted: readonly string[], raisedAt: string): EscalationToRaise => {
  const urgency = order.details.timeCritical ? 'urgent' : 'routine';
  const title = `Dose with no outcome ${lateInWords(dose.scheduledAt, raisedAt)} after it was due: ${whatAndWhen(order, dose)}`;
  return {
    frameworkId: ruleset.id,
    ruleId: DOSE_RULE_IDS.overdue,
    title,
    urgency,
    incident: false,
    triggeringEntryIds: [],
    sbard: sbardFor(
      ruleset,
      {
        title: `${title}${order.details.timeCritical ? ': a time-critical medicine' : ''}`,
        urgency,
        findings: [
          prompted.length ? `care worker${prompted.length > 1 ? 's' : ''} ${prompted.join(', ')} prompted, and no outcome recorded since` : 'no care worker of the person could be prompted',
          `order MedicationRequest/${order.orderId}`,
        ],
        recommendation: order.details.timeCritical
          ? 'Decide now whether the dose is to be given late, and by whom; a delayed time-critical dose can cause serious harm.'
          : 'Find out whether the dose was given, and decide whether it is still to be given today.',
      },
      'A medicine prescribed for the person at a scheduled time (docs/decisions/0023).',
    ),
  };
};
