import {
  CORRECTABLE_ENTRY_TYPES,
  evolveVisit,
  isLateEntry,
  NO_VISIT,
  scoreNews2,
  SHORT_VISIT_TOLERANCE_MINUTES,
  streamOfKind,
  type EscalationAcknowledgedData,
  type EscalationRaisedData,
  type EscalationSentToTierData,
  type IndicatorId,
  type MedicationOrderedData,
  type MedicineDoseRecordedData,
  type PlannedVisit,
  type CarePromptIssuedData,
  type DelegationProposedData,
  type InsulinAdministeredData,
  type InsulinWithheldData,
  type StoredVisitEvent,
  type VisitCheckedOutData,
  type VitalSignsRecordedData,
} from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';

/**
 * The quality indicators' fold (issue 15), pure: an event and the item it changes (a visit, an
 * escalation, a scheduled dose) in, the item's new state out; an item's state in, its rows out
 * (one per indicator it counts for: in the denominator always, in the numerator when `inNumerator`).
 * The projection (./projection.ts) stores both; nothing here reads a clock or a database.
 */

/** What the fold needs to know that is not in the event: England's calendar and the medicines ruleset's tolerance. */
export interface QualityContext {
  /** England's date (YYYY-MM-DD) at an instant: an item's day. */
  readonly dayOf: (instant: Date) => string;
  /** The instant of a time of day ("HH:MM") on an England date. */
  readonly instantOf: (date: string, timeOfDay: string) => string;
  /** The latest a scheduled dose due at `dueAt` counts as on time (the medicines ruleset's tolerance: one home for the number). */
  readonly onTimeUntil: (timeCritical: boolean, dueAt: string) => string;
  /** The id the scheduler gives the escalation of an overdue dose (the delegation service's own naming), to know which dose an escalation is about. */
  readonly doseEscalationId: (orderId: string, scheduledAt: string) => string;
  /**
   * How the record names one insulin product however it was written, and how far from an
   * instructed time a dose still counts as given at it (the record's own rule and setting, passed
   * in: a delegated insulin dose is then one scheduled dose, as a visit's check-out names it).
   * Without them a delegated insulin dose is not matched to its time.
   */
  readonly insulin?: { readonly productKey: (product: string, productCode?: string) => string; readonly timeWindowMinutes: number };
}

/** One item's contribution to one indicator: the drill-down's line. */
export interface IndicatorRow {
  readonly indicator: IndicatorId;
  readonly itemId: string;
  readonly patientId: string;
  readonly organisations: readonly string[];
  readonly day: string;
  readonly inNumerator: boolean;
  /** A figure reported with the count (minutes to acknowledge; a visit's minutes). */
  readonly minutes?: number;
  /** What the item is, as a person reads it. */
  readonly what: string;
  /** When it happened (planned start, raised, due, recorded). */
  readonly at: string;
  /** Who recorded it (who planned the visit, who gave the dose...). */
  readonly recordedBy: string;
}

export interface VisitItem {
  readonly kind: 'visit';
  readonly visit: PlannedVisit;
  readonly plannedBy: string;
}

export interface EscalationItem {
  readonly kind: 'escalation';
  readonly escalationId: string;
  readonly patientId: string;
  readonly organisations: readonly string[];
  readonly ruleId: string;
  readonly urgency: string;
  readonly raisedAt: string;
  readonly raisedBy: string;
  /** The first tier's deadline: undefined until sent, null when the first tier was the last (no deadline). */
  readonly firstDueAt?: string | null;
  readonly acknowledged?: { readonly at: string; readonly by: string };
}

export interface DoseItem {
  readonly kind: 'dose';
  readonly doseId: string;
  readonly patientId: string;
  readonly organisations: readonly string[];
  readonly dueAt: string;
  readonly timeCritical: boolean;
  readonly description: string;
  /** The outcome recorded, when one is (a dose named at check-out with none has no outcome). */
  readonly outcome?: { readonly outcome: string; readonly at: string; readonly by: string; readonly entryId: string };
  /** The care worker who closed a visit with this dose unrecorded. */
  readonly closedWithoutOutcomeBy?: string;
}

/** A medication order, for whether a dose a visit closed without is time-critical. */
export interface OrderItem {
  readonly kind: 'order';
  readonly orderId: string;
  readonly patientId: string;
  readonly timeCritical: boolean;
  readonly display: string;
  /** Its scheduled times of day ("HH:MM"); none for a PRN order. */
  readonly times: readonly string[];
}

/** An insulin delegation, for matching a dose given or withheld under it to its instructed time. */
export interface DelegationItem {
  readonly kind: 'delegation';
  readonly delegationId: string;
  readonly patientId: string;
  readonly product: string;
  readonly doseUnits: number;
  /** Its instructed times of day ("HH:MM"). */
  readonly times: readonly string[];
  /** Activated and not since suspended, withdrawn or ended. */
  readonly active: boolean;
}

export type QualityItem = VisitItem | EscalationItem | DoseItem | OrderItem | DelegationItem;

const DELEGATION_STATES: Readonly<Record<string, boolean>> = { DelegationActivated: true, DelegationSuspended: false, DelegationWithdrawn: false, DelegationEnded: false, DelegationDeclined: false };

const ENTRY_TYPES: ReadonlySet<string> = new Set(CORRECTABLE_ENTRY_TYPES);
const TAKEN_BY_THE_VISIT: ReadonlySet<string> = new Set(['given', 'self-administered']);

const minutesBetween = (from: string, to: string): number => Math.round((Date.parse(to) - Date.parse(from)) / 60_000);
const iso = (instant: string): string => new Date(instant).toISOString();
const dataOf = <T>(event: RecordedEvent): T => event.data as T;

/** A dose is named by its order and due instant (as a visit's check-out names it: `<orderId>@<dueAt>`). */
export const doseKey = (orderId: string, dueAt: string): string => `${orderId}@${iso(dueAt)}`;

/**
 * The keys of the items an event changes (state kept between events), or none. A check-out
 * changes its visit and every dose it closed without.
 */
export const itemKeysOf = (event: RecordedEvent, context: QualityContext): string[] => {
  const visit = streamOfKind(event.stream, 'visit');
  if (visit) {
    const unrecorded = event.type === 'VisitCheckedOut' ? (dataOf<VisitCheckedOutData>(event).unrecordedDoses ?? []) : [];
    return [`visit:${visit.visitId}`, ...unrecorded.map((d) => `dose:${doseKey(d.doseId.slice(0, d.doseId.indexOf('@')), d.dueAt)}`)];
  }
  const escalation = streamOfKind(event.stream, 'escalation');
  if (escalation) return [`escalation:${escalation.escalationId}`];
  const delegation = streamOfKind(event.stream, 'delegation');
  if (delegation) return event.type === 'DelegationProposed' || Object.hasOwn(DELEGATION_STATES, event.type) ? [`delegation:${delegation.delegationId}`] : [];
  // A dose past its tolerance with no outcome, prompted by the scheduler: due, whether or not anyone records it later.
  const overdue = event.type === 'CarePromptIssued' ? dataOf<CarePromptIssuedData>(event).dose : undefined;
  if (overdue) return [`dose:${doseKey(overdue.orderId, overdue.scheduledAt)}`];
  if (event.type === 'MedicationOrdered') return [`order:${event.id}`];
  if (event.type === 'MedicineDoseRecorded') {
    const dose = dataOf<MedicineDoseRecordedData>(event);
    if (dose.prn || dose.scheduledTime === undefined) return [];
    const dueAt = context.instantOf(context.dayOf(new Date(event.metadata.occurredAt)), dose.scheduledTime);
    return [`dose:${doseKey(dose.orderId, dueAt)}`];
  }
  return [];
};

/** The order a dose key names (`dose:<orderId>@<dueAt>`), for looking up whether it is time-critical. */
export const orderKeyOfDose = (key: string): string | undefined => (key.startsWith('dose:') ? `order:${key.slice(5, key.lastIndexOf('@'))}` : undefined);

export interface EvolveInput {
  /** The person the event is about (a check-out names no person: the visit does). */
  readonly patientId: string;
  /** The organisations of the person's care team now (for an item attributed to the care team). */
  readonly careTeamOrganisations: readonly string[];
  /** The order of a dose, when known. */
  readonly order?: OrderItem;
}

/** The item after the event; `key` is one of `itemKeysOf(event)`. */
export const evolveItem = (key: string, state: QualityItem | undefined, event: RecordedEvent, input: EvolveInput): QualityItem | undefined => {
  const at = event.metadata.occurredAt;
  const by = event.metadata.actor.id;
  if (key.startsWith('visit:')) {
    const before = state?.kind === 'visit' ? state.visit : NO_VISIT;
    const after = evolveVisit(before, event as unknown as StoredVisitEvent);
    if (!after.planned) return state;
    return { kind: 'visit', visit: after, plannedBy: state?.kind === 'visit' ? state.plannedBy : by };
  }
  if (key.startsWith('order:')) {
    const order = dataOf<MedicationOrderedData>(event);
    const times = order.timing.kind === 'scheduled' ? order.timing.times : [];
    return { kind: 'order', orderId: event.id, patientId: order.patientId, timeCritical: order.timeCritical, display: `${order.dose.value} ${order.dose.unit} of ${order.product.display}`, times };
  }
  if (key.startsWith('delegation:')) {
    if (event.type === 'DelegationProposed') {
      const proposed = dataOf<DelegationProposedData>(event);
      if (state || proposed.instruction.kind !== 'insulin') return state;
      const i = proposed.instruction;
      return { kind: 'delegation', delegationId: proposed.delegationId, patientId: proposed.patientId, product: i.product, doseUnits: i.dose.value, times: i.times, active: false };
    }
    return state?.kind === 'delegation' && Object.hasOwn(DELEGATION_STATES, event.type) ? { ...state, active: DELEGATION_STATES[event.type]! } : state;
  }
  if (key.startsWith('escalation:')) {
    if (event.type === 'EscalationRaised') {
      if (state) return state;
      const raised = dataOf<EscalationRaisedData>(event);
      return { kind: 'escalation', escalationId: raised.escalationId, patientId: raised.patientId, organisations: input.careTeamOrganisations, ruleId: raised.ruleId, urgency: raised.urgency, raisedAt: at, raisedBy: by };
    }
    if (state?.kind !== 'escalation') return state;
    if (event.type === 'EscalationSentToTier') return state.firstDueAt === undefined ? { ...state, firstDueAt: dataOf<EscalationSentToTierData>(event).dueAt } : state;
    if (event.type === 'EscalationAcknowledged') return state.acknowledged ? state : { ...state, acknowledged: { at, by: dataOf<EscalationAcknowledgedData>(event).by.practitionerId } };
    return state;
  }
  if (key.startsWith('dose:')) {
    const doseId = key.slice(5);
    const previous = state?.kind === 'dose' ? state : undefined;
    if (event.type === 'MedicineDoseRecorded') {
      const dose = dataOf<MedicineDoseRecordedData>(event);
      const base = previous ?? { kind: 'dose' as const, doseId, patientId: dose.patientId, organisations: input.careTeamOrganisations, dueAt: doseId.slice(doseId.lastIndexOf('@') + 1), timeCritical: dose.timeCritical, description: `${dose.product.display} at ${dose.scheduledTime}` };
      // Each scheduled dose has one outcome (the record refuses a second): the first is kept.
      return base.outcome ? base : { ...base, timeCritical: dose.timeCritical, outcome: { outcome: dose.outcome, at, by, entryId: event.id } };
    }
    if (event.type === 'EntryMarkedEnteredInError') {
      // The outcome was recorded in error: the dose is still due, with no outcome (not quietly dropped).
      if (!previous?.outcome) return state;
      const { outcome: _wrong, ...withoutOutcome } = previous;
      return withoutOutcome;
    }
    if (event.type === 'CarePromptIssued') {
      const dose = dataOf<CarePromptIssuedData>(event).dose;
      return dose ? overdueDose(previous, doseId, { ...input, dueAt: dose.scheduledAt, scheduledTime: dose.scheduledTime, timeCritical: dose.timeCritical }) : state;
    }
    if (event.type === 'VisitCheckedOut') {
      if (previous) return previous.outcome ? previous : { ...previous, closedWithoutOutcomeBy: by };
      const unrecorded = (dataOf<VisitCheckedOutData>(event).unrecordedDoses ?? []).find((d) => doseKey(d.doseId.slice(0, d.doseId.indexOf('@')), d.dueAt) === doseId);
      if (!unrecorded) return state;
      // A dose named by no medication order is a delegated insulin dose (`<delegationId>@<dueAt>`): insulin is always time-critical.
      return { kind: 'dose', doseId, patientId: input.patientId, organisations: input.careTeamOrganisations, dueAt: iso(unrecorded.dueAt), timeCritical: input.order?.timeCritical ?? true, description: unrecorded.description, closedWithoutOutcomeBy: by };
    }
  }
  return state;
};

/** A dose the scheduler found past its tolerance with no outcome (prompted, or escalated with nobody to prompt): due, whether or not anyone records it later. */
export const overdueDose = (previous: DoseItem | undefined, doseId: string, found: EvolveInput & { dueAt: string; scheduledTime: string; timeCritical: boolean }): DoseItem =>
  previous ?? {
    kind: 'dose',
    doseId,
    patientId: found.patientId,
    organisations: found.careTeamOrganisations,
    dueAt: iso(found.dueAt),
    timeCritical: found.timeCritical,
    description: `${found.order?.display ?? 'A scheduled medicine'} at ${found.scheduledTime}`,
  };

/**
 * The delegated insulin dose an insulin entry is the outcome of: the instructed time, of an active
 * insulin delegation of the same product, nearest the entry and within the record's time window
 * (the rule a visit's check-out applies, so the item is the one the check-out names
 * `<delegationId>@<dueAt>`). None when no instructed time is near: the dose was not a scheduled one.
 */
export const delegatedDoseOf = (event: RecordedEvent, delegations: readonly DelegationItem[], context: QualityContext): { delegation: DelegationItem; dueAt: string; time: string } | undefined => {
  if (!context.insulin || (event.type !== 'InsulinAdministered' && event.type !== 'InsulinWithheld')) return undefined;
  const { productKey, timeWindowMinutes } = context.insulin;
  const entry = dataOf<InsulinAdministeredData | InsulinWithheldData>(event);
  const key = productKey(entry.product, entry.productCode);
  const at = Date.parse(event.metadata.occurredAt);
  const days = [-1, 0, 1].map((d) => context.dayOf(new Date(at + d * 86_400_000)));
  let best: { delegation: DelegationItem; dueAt: string; time: string; distance: number } | undefined;
  for (const delegation of delegations) {
    if (!delegation.active || productKey(delegation.product) !== key) continue;
    for (const day of days) {
      for (const time of delegation.times) {
        const dueAt = context.instantOf(day, time);
        const distance = Math.abs(Date.parse(dueAt) - at);
        if (distance <= timeWindowMinutes * 60_000 && (!best || distance < best.distance)) best = { delegation, dueAt: iso(dueAt), time, distance };
      }
    }
  }
  return best && { delegation: best.delegation, dueAt: best.dueAt, time: best.time };
};

/** A delegated insulin dose with the entry's outcome (given, or withheld: not given); insulin is time-critical. The first outcome is kept. */
export const delegatedDose = (previous: DoseItem | undefined, event: RecordedEvent, found: { delegation: DelegationItem; dueAt: string; time: string }, organisations: readonly string[]): DoseItem => {
  const base: DoseItem = previous ?? {
    kind: 'dose',
    doseId: doseKey(found.delegation.delegationId, found.dueAt),
    patientId: found.delegation.patientId,
    organisations,
    dueAt: found.dueAt,
    timeCritical: true,
    description: `${found.delegation.doseUnits} units of ${found.delegation.product} at ${found.time} (delegated)`,
  };
  if (base.outcome) return base;
  return { ...base, timeCritical: true, outcome: { outcome: event.type === 'InsulinAdministered' ? 'given' : 'not-given', at: event.metadata.occurredAt, by: event.metadata.actor.id, entryId: event.id } };
};

/**
 * The scheduled dose an escalation is about, when it is an overdue dose's: the scheduler names
 * that escalation from the order and the dose's time, so each dose of the person's orders on the
 * day it was raised (or the day before) is tried against its id.
 */
export const doseOfEscalation = (escalationId: string, raisedAt: string, orders: readonly OrderItem[], context: QualityContext): { order: OrderItem; scheduledAt: string; scheduledTime: string } | undefined => {
  const raised = new Date(raisedAt);
  const days = [context.dayOf(raised), context.dayOf(new Date(raised.getTime() - 86_400_000))];
  for (const order of orders) {
    for (const day of days) {
      for (const scheduledTime of order.times) {
        const scheduledAt = context.instantOf(day, scheduledTime);
        if (context.doseEscalationId(order.orderId, scheduledAt) === escalationId) return { order, scheduledAt, scheduledTime };
      }
    }
  }
  return undefined;
};

/** The rows an item counts for now. */
export const rowsOfItem = (item: QualityItem, context: QualityContext): IndicatorRow[] => {
  switch (item.kind) {
    case 'order':
    case 'delegation':
      return [];
    case 'visit': {
      const v = item.visit;
      if (v.status === 'cancelled') return [];
      const base = { itemId: v.visitId, patientId: v.patientId, organisations: [v.providerOrganisationId], day: context.dayOf(new Date(v.plannedStart)), at: v.plannedStart };
      const rows: IndicatorRow[] = [
        { ...base, indicator: 'missed-visits', inNumerator: v.missed.length > 0, what: `Visit planned ${v.plannedStart} to ${v.plannedEnd} (${v.careWorkerIds.join(', ')})`, recordedBy: item.plannedBy },
      ];
      if (v.checkedIn && v.checkedOut) {
        const plannedMinutes = minutesBetween(v.plannedStart, v.plannedEnd);
        const minutes = minutesBetween(v.checkedIn.at, v.checkedOut.at);
        rows.push({ ...base, indicator: 'short-visits', inNumerator: minutes < plannedMinutes - SHORT_VISIT_TOLERANCE_MINUTES, minutes, what: `Visit of ${minutes} minutes, planned ${plannedMinutes}`, recordedBy: v.checkedOut.careWorkerId });
      }
      return rows;
    }
    case 'escalation': {
      const ack = item.acknowledged;
      const inTime = ack !== undefined && (item.firstDueAt === null || item.firstDueAt === undefined || Date.parse(ack.at) <= Date.parse(item.firstDueAt));
      return [
        {
          indicator: 'escalations-acknowledged-in-time',
          itemId: item.escalationId,
          patientId: item.patientId,
          organisations: item.organisations,
          day: context.dayOf(new Date(item.raisedAt)),
          inNumerator: inTime,
          ...(ack ? { minutes: minutesBetween(item.raisedAt, ack.at) } : {}),
          what: `${item.urgency} escalation (${item.ruleId})${ack ? `, acknowledged by ${ack.by} after ${minutesBetween(item.raisedAt, ack.at)} minutes` : ', not acknowledged'}`,
          at: item.raisedAt,
          recordedBy: item.raisedBy,
        },
      ];
    }
    case 'dose': {
      const outcome = item.outcome;
      const onTime =
        outcome !== undefined &&
        TAKEN_BY_THE_VISIT.has(outcome.outcome) &&
        Math.abs(Date.parse(outcome.at) - Date.parse(item.dueAt)) <= Date.parse(context.onTimeUntil(item.timeCritical, item.dueAt)) - Date.parse(item.dueAt);
      const row = {
        itemId: item.doseId,
        patientId: item.patientId,
        organisations: item.organisations,
        day: context.dayOf(new Date(item.dueAt)),
        inNumerator: onTime,
        what: outcome ? `${item.description}: ${outcome.outcome} at ${outcome.at}` : `${item.description}: no outcome recorded`,
        at: item.dueAt,
        recordedBy: outcome?.by ?? item.closedWithoutOutcomeBy ?? '',
      };
      return [{ ...row, indicator: 'scheduled-doses-on-time' }, ...(item.timeCritical ? [{ ...row, indicator: 'time-critical-doses-on-time' as const }] : [])];
    }
  }
};

/** The rows of an entry that needs no state of its own (a set of vital signs, any care entry's lateness). */
/** Whether an event is a care entry (an observation, a note, a medicine): counted for the entries' indicators. */
export const isCareEntry = (event: RecordedEvent): boolean => ENTRY_TYPES.has(event.type) && streamOfKind(event.stream, 'care') !== undefined;

export const rowsOfEntry = (event: RecordedEvent, careTeamOrganisations: readonly string[], context: QualityContext): IndicatorRow[] => {
  const care = streamOfKind(event.stream, 'care');
  if (!care || !ENTRY_TYPES.has(event.type)) return [];
  const { occurredAt, recordedAt, actor } = event.metadata;
  const base = { itemId: event.id, patientId: care.patientId, organisations: careTeamOrganisations, recordedBy: actor.id };
  const late = isLateEntry(occurredAt, new Date(recordedAt));
  const rows: IndicatorRow[] = [
    // An entry is counted on the day it was recorded: that is when its lateness shows.
    { ...base, indicator: 'late-entries', day: context.dayOf(new Date(recordedAt)), inNumerator: late, minutes: minutesBetween(occurredAt, recordedAt), what: `${event.type} of ${occurredAt}, recorded ${recordedAt}`, at: recordedAt },
  ];
  if (event.type === 'VitalSignsRecorded') {
    const vitals = dataOf<VitalSignsRecordedData>(event);
    const news2 = scoreNews2(vitals, { spo2Scale: vitals.spo2Scale });
    rows.push({
      ...base,
      indicator: 'news2-sets-complete',
      day: context.dayOf(new Date(occurredAt)),
      inNumerator: news2.total !== null,
      what: news2.total !== null ? `NEWS2 ${news2.total}` : `NEWS2 incomplete: ${news2.missing.join(', ')} missing`,
      at: occurredAt,
    });
  }
  return rows;
};

/** The indicators an entry's own rows count for (dropped when the entry is marked entered in error). */
export const ENTRY_INDICATORS: readonly IndicatorId[] = ['late-entries', 'news2-sets-complete'];

/** Whether an event changes who is on a person's care team, or which organisation a practitioner is of. */
export const CONTEXT_EVENT_TYPES: ReadonlySet<string> = new Set(['CareTeamMemberAdded', 'CareTeamMemberRemoved', 'PractitionerRegistered']);
