import {
  allergyMatchesProduct,
  isInsulinProduct,
  TAKEN_OUTCOMES,
  type CareRecordEvent,
  type MedicineDoseRecordedData,
  type RecordMedicineDose,
  type RecordPrnEffect,
} from '@tandem/contracts';
import type { CareState } from './care-state';
import { entryOf } from './care-state';
import { compact } from './compact';
import type { CareContext } from './context';
import { DomainRuleBroken, NeedsConfirmation, StopAndConfirm } from './errors';
import { allergyStopsADose, type AllergyState, type MedicationOrderState } from './medicines';
import { assertBedsideTime, dateInEngland, instantOf, minutesBetween } from './time';

/**
 * The medicines administration record: one outcome per dose of a medication order, decided on the
 * person's care stream (the doses already recorded) and the order and allergies the edge read from
 * their medicines stream. A dose that may harm is never recorded silently: outside the schedule,
 * inside a PRN's minimum interval, over its 24-hour maximum, or despite an allergy, it asks for
 * confirmation first; confirmed (it happened), it is recorded and flagged.
 */

const DAY_MS = 24 * 60 * 60_000;

interface DoseRef {
  readonly entryId: string;
  readonly occurredAt: string;
  readonly data: Omit<MedicineDoseRecordedData, 'patientId'> & { patientId?: string };
}

/** The outcomes recorded for an order, at their current versions, entries entered in error left out. */
export const dosesOfOrder = (state: CareState, orderId: string): DoseRef[] =>
  Object.values(state.entries).flatMap((entry) =>
    entry.type === 'MedicineDoseRecorded' && !entry.enteredInError && entry.data.orderId === orderId ? [{ entryId: entry.id, occurredAt: entry.occurredAt, data: entry.data }] : [],
  );

/**
 * The outcome recorded for one scheduled dose: the order's entry for that time of day on that day in
 * England (each dose has one outcome). The MAR refuses a second with it; a visit's check-out asks it.
 */
export const outcomeOfScheduledDose = (state: CareState, orderId: string, scheduledTime: string, day: string): DoseRef | undefined =>
  dosesOfOrder(state, orderId).find((d) => d.data.scheduledTime === scheduledTime && dateInEngland(new Date(d.occurredAt)) === day);

/** The order a dose is for, active at the dose's bedside time (a late entry of a dose given before a stop is fine). */
export const orderFor = (orderId: string, occurredAt: string, context: CareContext): MedicationOrderState => {
  const order = context.medicines?.order;
  if (!order || order.id !== orderId) throw new DomainRuleBroken('mar.unknown-order', 'orderId', `there is no medication order ${orderId} for this person`);
  const at = instantOf(occurredAt);
  if (at < instantOf(order.details.start)) {
    throw new DomainRuleBroken('mar.order-not-started', 'orderId', `${order.details.product.display} is prescribed from ${order.details.start}, after this dose's time`);
  }
  const stoppedAt = order.stopped ? order.stopped.at : order.details.stop;
  if (stoppedAt !== undefined && at >= instantOf(stoppedAt)) {
    throw new DomainRuleBroken('mar.order-stopped', 'orderId', `${order.details.product.display} was stopped at ${stoppedAt}${order.stopped ? ` (${order.stopped.reason})` : ''}: it is no longer on the chart`);
  }
  return order;
};

/**
 * The most doses taken in any 24 hours that holds this dose, this dose counted (doses recorded
 * late, after it in bedside time, count too).
 */
export const mostDosesIn24Hours = (taken: readonly string[], occurredAt: string): number => {
  const at = instantOf(occurredAt);
  const times = taken.map(instantOf).filter((t) => Math.abs(t - at) < DAY_MS);
  // A window gains a dose as its end passes one and loses one as its start does: the most is at a start just after 24 hours back, at a dose, or 24 hours before a later dose.
  const starts = [at - DAY_MS + 1, ...times.filter((t) => t <= at), ...times.filter((t) => t > at).map((t) => t - DAY_MS + 1)];
  return Math.max(...starts.map((start) => 1 + times.filter((t) => t >= start && t < start + DAY_MS).length));
};

const allergyText = (a: AllergyState): string =>
  `${a.substance.display} (AllergyIntolerance/${a.id}${a.verificationStatus === 'unconfirmed' ? ', suspected (unconfirmed)' : ''}, criticality ${a.criticality}${a.reaction ? `, reaction: ${a.reaction}` : ''})`;

/** The checks on what a dose outcome must say, by outcome. */
const assertOutcomeFields = (cmd: RecordMedicineDose, order: MedicationOrderState): void => {
  const taken = TAKEN_OUTCOMES.has(cmd.outcome);
  if ((cmd.outcome === 'given' || cmd.outcome === 'self-administered') && cmd.dose === undefined) {
    throw new DomainRuleBroken('mar.dose-required', 'dose', `the dose taken is required when the outcome is ${cmd.outcome} (in ${order.details.dose.unit})`);
  }
  if (!taken && cmd.dose !== undefined) {
    throw new DomainRuleBroken('mar.dose-not-taken', 'dose', `a dose that was ${cmd.outcome} was not taken: leave dose out`);
  }
  if (cmd.dose !== undefined && cmd.dose.unit !== order.details.dose.unit) {
    // Never converted: a dose in another unit than the prescription's is a likely ten- or thousand-fold error.
    throw new DomainRuleBroken(
      'mar.wrong-unit',
      'dose.unit',
      `${order.details.product.display} is prescribed in ${order.details.dose.unit} (${order.details.dose.value} ${order.details.dose.unit}); the dose was sent in ${cmd.dose.unit}: check the chart and record it in ${order.details.dose.unit}`,
    );
  }
  if (cmd.outcome === 'not-given' && cmd.reason === undefined) throw new DomainRuleBroken('mar.reason-required', 'reason', 'say why the dose was not given');
};

const scheduledChecks = (cmd: RecordMedicineDose, order: MedicationOrderState, state: CareState, times: readonly string[]): Partial<MedicineDoseRecordedData> => {
  if (cmd.prnReason !== undefined) throw new DomainRuleBroken('mar.not-prn', 'prnReason', `${order.details.product.display} is scheduled, not PRN: leave prnReason out`);
  if (cmd.scheduledTime === undefined) {
    throw new DomainRuleBroken('mar.scheduled-time-required', 'scheduledTime', `say which scheduled dose this is (${times.join(', ')})`);
  }
  const outsideSchedule = !times.includes(cmd.scheduledTime);
  if (outsideSchedule && cmd.confirmedOutsideSchedule !== true) {
    throw new NeedsConfirmation(
      'mar.outside-schedule',
      'scheduledTime',
      `${order.details.product.display} is prescribed at ${times.join(', ')}, not at ${cmd.scheduledTime}: check the chart; if this dose really was outside the schedule, send it again with confirmedOutsideSchedule true and it is recorded and flagged for the nurse`,
    );
  }
  const day = dateInEngland(new Date(cmd.occurredAt));
  const already = outcomeOfScheduledDose(state, order.id, cmd.scheduledTime, day);
  if (already) {
    throw new DomainRuleBroken(
      'mar.outcome-already-recorded',
      'scheduledTime',
      `the ${cmd.scheduledTime} dose of ${order.details.product.display} on ${day} already has an outcome (${already.data.outcome}, entry ${already.entryId}): each dose has one outcome; if it was wrong, amend that entry`,
    );
  }
  return outsideSchedule ? { confirmedOutsideSchedule: true } : {};
};

const prnChecks = (
  cmd: RecordMedicineDose,
  order: MedicationOrderState,
  state: CareState,
  timing: { minimumIntervalMinutes: number; maxDosesIn24Hours: number; indication: string },
): Partial<MedicineDoseRecordedData> => {
  if (cmd.scheduledTime !== undefined) throw new DomainRuleBroken('mar.prn-has-no-schedule', 'scheduledTime', `${order.details.product.display} is PRN (when required): leave scheduledTime out`);
  if (!TAKEN_OUTCOMES.has(cmd.outcome)) return {};
  if (cmd.prnReason === undefined) throw new DomainRuleBroken('mar.prn-reason-required', 'prnReason', `say why the PRN dose was needed (prescribed for: ${timing.indication})`);
  const taken = dosesOfOrder(state, order.id).filter((d) => TAKEN_OUTCOMES.has(d.data.outcome));
  const nearest = taken.reduce<DoseRef | undefined>((best, d) => (!best || minutesBetween(d.occurredAt, cmd.occurredAt) < minutesBetween(best.occurredAt, cmd.occurredAt) ? d : best), undefined);
  const minutesApart = nearest ? minutesBetween(nearest.occurredAt, cmd.occurredAt) : undefined;
  const insideInterval = minutesApart !== undefined && minutesApart < timing.minimumIntervalMinutes;
  if (insideInterval && cmd.confirmedInsideMinimumInterval !== true) {
    throw new NeedsConfirmation(
      'mar.inside-minimum-interval',
      'occurredAt',
      `${order.details.product.display} was taken at ${nearest!.occurredAt}, ${Math.round(minutesApart)} minutes from this dose; the minimum interval is ${timing.minimumIntervalMinutes} minutes. ` +
        'Do not give it yet; if it has been given, send it again with confirmedInsideMinimumInterval true: it is recorded and flagged for the nurse',
    );
  }
  const most = mostDosesIn24Hours(taken.map((d) => d.occurredAt), cmd.occurredAt);
  const overMaximum = most > timing.maxDosesIn24Hours;
  if (overMaximum && cmd.confirmedOverDailyMaximum !== true) {
    throw new NeedsConfirmation(
      'mar.over-daily-maximum',
      'occurredAt',
      `this would be dose ${most} of ${order.details.product.display} in 24 hours; the most prescribed is ${timing.maxDosesIn24Hours}. ` +
        'Do not give it; call the nurse or GP. If it has been given, send it again with confirmedOverDailyMaximum true: it is recorded and flagged',
    );
  }
  return compact({ confirmedInsideMinimumInterval: insideInterval ? true : undefined, confirmedOverDailyMaximum: overMaximum ? true : undefined });
};

/** Records one dose outcome of a medication order. */
export const recordMedicineDose = (cmd: RecordMedicineDose, state: CareState, context: CareContext): CareRecordEvent[] => {
  assertBedsideTime(cmd, context.now);
  const order = orderFor(cmd.orderId, cmd.occurredAt, context);
  if ((cmd.outcome === 'given' || cmd.outcome === 'self-administered') && isInsulinProduct(order.details.product)) {
    throw new DomainRuleBroken(
      'mar.insulin-by-pen',
      'outcome',
      `${order.details.product.display} is insulin: record it given with RecordInsulinAdministered naming orderId ${order.id} (pen, units, site, and its duplicate and instruction checks)`,
    );
  }
  assertOutcomeFields(cmd, order);
  // The allergy first: of everything a dose can be, one the person is allergic to is the most dangerous.
  const allergies = TAKEN_OUTCOMES.has(cmd.outcome) && cmd.outcome !== 'already-taken' ? (context.medicines?.allergies ?? []).filter((a) => allergyStopsADose(a) && allergyMatchesProduct(a, order.details.product)) : [];
  if (allergies.length > 0 && cmd.confirmedDespiteAllergy !== true) {
    throw new StopAndConfirm(
      'mar.allergy',
      'orderId',
      `STOP: the record holds an allergy to ${allergies.map(allergyText).join('; ')}, and ${order.details.product.display} may contain it. Do not give it; call the nurse or GP now. ` +
        'If it has already been given, send it again with confirmedDespiteAllergy true: it is recorded, flagged and escalated to the nurse',
    );
  }
  const flags = order.details.timing.kind === 'scheduled' ? scheduledChecks(cmd, order, state, order.details.timing.times) : prnChecks(cmd, order, state, order.details.timing);
  return [
    {
      type: 'MedicineDoseRecorded',
      data: compact({
        patientId: cmd.patientId,
        orderId: order.id,
        outcome: cmd.outcome,
        scheduledTime: cmd.scheduledTime,
        dose: cmd.dose,
        reason: cmd.reason,
        prnReason: cmd.prnReason,
        product: order.details.product,
        prn: order.details.timing.kind === 'prn',
        timeCritical: order.details.timeCritical,
        ...flags,
        // Only a confirmation that was needed is kept: the rules read these as the dose's signs.
        confirmedDespiteAllergy: allergies.length > 0 ? true : undefined,
        allergyIds: allergies.length > 0 ? allergies.map((a) => a.id) : undefined,
      }),
    },
  ];
};

/** Later, what a PRN dose did: only for a PRN dose that was taken and stands. */
export const recordPrnEffect = (cmd: RecordPrnEffect, state: CareState, context: CareContext): CareRecordEvent[] => {
  assertBedsideTime(cmd, context.now);
  const entry = entryOf(state, cmd.doseEntryId);
  if (entry?.type !== 'MedicineDoseRecorded') throw new DomainRuleBroken('mar.unknown-dose', 'doseEntryId', `no medicine dose ${cmd.doseEntryId} in this person's record`);
  if (entry.enteredInError) throw new DomainRuleBroken('mar.dose-in-error', 'doseEntryId', `dose ${cmd.doseEntryId} was marked entered in error`);
  if (!entry.data.prn || !TAKEN_OUTCOMES.has(entry.data.outcome)) {
    throw new DomainRuleBroken('mar.effect-of-prn-only', 'doseEntryId', `dose ${cmd.doseEntryId} is not a PRN dose that was taken: an effect is recorded for a PRN dose`);
  }
  if (instantOf(cmd.occurredAt) < instantOf(entry.occurredAt)) throw new DomainRuleBroken('mar.effect-before-dose', 'occurredAt', `the effect is seen after the dose (${entry.occurredAt})`);
  return [{ type: 'PrnEffectRecorded', data: { patientId: cmd.patientId, doseEntryId: entry.id, effect: cmd.effect } }];
};
