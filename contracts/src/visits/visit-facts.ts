import type { PlannedTask, TaskOutcome, UnrecordedDose, VisitEvent, VisitLocation } from './visits';

/**
 * One visit as its stream tells it, folded the same way by everyone who decides or shows on it:
 * the record's decider, the delegation service's scheduler (its deadlines) and the FHIR
 * Appointment and Encounter. Pure, like `patientFactsFrom`.
 */

export type VisitStatus = 'planned' | 'in-progress' | 'finished' | 'cancelled';

export interface PlannedVisit {
  readonly planned: true;
  readonly visitId: string;
  readonly patientId: string;
  readonly providerOrganisationId: string;
  readonly plannedStart: string;
  readonly plannedEnd: string;
  readonly careWorkerIds: readonly string[];
  readonly tasks: readonly PlannedTask[];
  readonly lateToleranceMinutes: number;
  readonly status: VisitStatus;
  readonly checkedIn?: { readonly at: string; readonly careWorkerId: string; readonly location?: VisitLocation; readonly lateByMinutes?: number };
  readonly checkedOut?: {
    readonly at: string;
    readonly careWorkerId: string;
    readonly tasks: readonly TaskOutcome[];
    readonly location?: VisitLocation;
    readonly unrecordedDoses?: readonly UnrecordedDose[];
    readonly unrecordedDosesReason?: string;
  };
  readonly cancelled?: { readonly at: string; readonly reason: string };
  /** The planned starts the scheduler found late, and the planned ends it found missed: each noticed once. */
  readonly lateNoticed: readonly string[];
  readonly missed: readonly string[];
  /** How many events changed the visit: the Appointment's version. */
  readonly version: number;
}

export type VisitFacts = { readonly planned: false } | PlannedVisit;

export const NO_VISIT: VisitFacts = { planned: false };

/** A visit event as stored: its bedside time says when it was checked in or out. */
export type StoredVisitEvent = VisitEvent & { readonly metadata: { readonly occurredAt: string } };

export const evolveVisit = (state: VisitFacts, event: StoredVisitEvent): VisitFacts => {
  if (event.type === 'VisitPlanned') {
    if (state.planned) return state;
    const d = event.data;
    return {
      planned: true,
      visitId: d.visitId,
      patientId: d.patientId,
      providerOrganisationId: d.providerOrganisationId,
      plannedStart: d.plannedStart,
      plannedEnd: d.plannedEnd,
      careWorkerIds: d.careWorkerIds,
      tasks: d.tasks,
      lateToleranceMinutes: d.lateToleranceMinutes,
      status: 'planned',
      lateNoticed: [],
      missed: [],
      version: 1,
    };
  }
  if (!state.planned) return state;
  const at = event.metadata.occurredAt;
  const next = { ...state, version: state.version + 1 };
  switch (event.type) {
    case 'VisitRescheduled':
      return { ...next, plannedStart: event.data.plannedStart, plannedEnd: event.data.plannedEnd };
    case 'VisitReplanned':
      return {
        ...next,
        ...(event.data.careWorkerIds ? { careWorkerIds: event.data.careWorkerIds } : {}),
        ...(event.data.tasks ? { tasks: event.data.tasks } : {}),
        ...(event.data.lateToleranceMinutes !== undefined ? { lateToleranceMinutes: event.data.lateToleranceMinutes } : {}),
      };
    case 'VisitCancelled':
      return { ...next, status: 'cancelled', cancelled: { at, reason: event.data.reason } };
    case 'VisitCheckedIn': {
      const { careWorkerId, location, lateByMinutes } = event.data;
      return { ...next, status: 'in-progress', checkedIn: { at, careWorkerId, ...(location ? { location } : {}), ...(lateByMinutes !== undefined ? { lateByMinutes } : {}) } };
    }
    case 'VisitCheckedOut': {
      const { visitId: _visitId, ...out } = event.data;
      return { ...next, status: 'finished', checkedOut: { at, ...out } };
    }
    case 'VisitLateNoticed':
      // Noticing lateness changes nothing the Appointment shows (the projection writes no version for it): the
      // version an update's If-Match is checked against stays the Appointment's as read (H108).
      return { ...state, lateNoticed: [...state.lateNoticed, event.data.plannedStart] };
    case 'VisitMissed':
      return { ...next, missed: [...state.missed, event.data.plannedEnd] };
  }
};

export const visitFactsFrom = (events: readonly StoredVisitEvent[]): VisitFacts => events.reduce(evolveVisit, NO_VISIT);

/** When a visit not checked in is late: its planned start plus its tolerance. */
export const lateAfter = (visit: PlannedVisit): string => new Date(Date.parse(visit.plannedStart) + visit.lateToleranceMinutes * 60_000).toISOString();

/** What the scheduler must still look at for a visit: the late deadline and the missed one, each until noticed (none once checked in or cancelled). */
export interface VisitDeadline {
  readonly kind: 'late' | 'missed';
  readonly dueAt: string;
}

export const visitDeadlines = (visit: VisitFacts): VisitDeadline[] => {
  if (!visit.planned || visit.status !== 'planned') return [];
  const deadlines: VisitDeadline[] = [];
  const late = lateAfter(visit);
  // A tolerance that reaches the planned end makes the visit missed, not late.
  if (!visit.lateNoticed.includes(visit.plannedStart) && Date.parse(late) < Date.parse(visit.plannedEnd)) deadlines.push({ kind: 'late', dueAt: late });
  if (!visit.missed.includes(visit.plannedEnd)) deadlines.push({ kind: 'missed', dueAt: new Date(Date.parse(visit.plannedEnd)).toISOString() });
  return deadlines;
};
