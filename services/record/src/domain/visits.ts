import {
  lateAfter,
  type Actor,
  type CancelVisit,
  type CheckInVisit,
  type CheckOutVisit,
  type PlannedVisit,
  type PlanVisit,
  type RescheduleVisit,
  type UnrecordedDose,
  type VisitEvent,
  type VisitFacts,
} from '@tandem/contracts';
import { compact } from './compact';
import { DomainRuleBroken } from './errors';
import { assertNotInFuture, instantOf } from './time';

/**
 * A person's visits (the `visit-<visitId>` stream, folded by the contracts' `evolveVisit`): pure
 * deciders. Planning is the registered manager's or the rostering system's (the policy decides
 * who); checking in and out is the assigned care worker's (decided here, on the visit). Issue 13.
 */

export interface VisitContext {
  readonly now: Date;
  readonly actor: Actor;
}

export interface PlanContext extends VisitContext {
  /** The deployment's LOCAL late tolerance, for a visit planned without its own. */
  readonly defaultLateToleranceMinutes: number;
}

/** A scheduled dose due in the visit, as the medicines administration record holds it. */
export interface ScheduledDoseInVisit {
  /** Stable for the dose (e.g. `<delegationId>@<dueAt>`): named in the check-out when it had no outcome. */
  readonly doseId: string;
  /** What a person reads: "8 units of Humulin I KwikPen at 08:00". */
  readonly description: string;
  readonly dueAt: string;
  /** The outcome recorded (given, withheld, refused ...); undefined: none yet. */
  readonly outcome?: string;
}

export interface CheckOutContext extends VisitContext {
  /** The scheduled doses due in this visit and their outcomes, from the write model (ScheduledDosesOfVisit). */
  readonly dosesDue: readonly ScheduledDoseInVisit[];
}

type Decided = VisitEvent[];

const planned = (state: VisitFacts, visitId: string): PlannedVisit => {
  if (!state.planned) throw new DomainRuleBroken('visit.unknown', 'visitId', `There is no visit ${visitId}`);
  return state;
};

const forThisPerson = (visit: PlannedVisit, patientId: string): void => {
  if (visit.patientId !== patientId) throw new DomainRuleBroken('visit.for-another-person', 'patientId', `Visit ${visit.visitId} is for another person`);
};

const notCancelled = (visit: PlannedVisit, doing: string): void => {
  if (visit.status === 'cancelled') throw new DomainRuleBroken('visit.cancelled', 'visitId', `Visit ${visit.visitId} was cancelled (${visit.cancelled!.reason}): it cannot be ${doing}`);
};

const notStarted = (visit: PlannedVisit, doing: string): void => {
  notCancelled(visit, doing);
  if (visit.status !== 'planned') throw new DomainRuleBroken('visit.already-started', 'visitId', `Visit ${visit.visitId} was checked in at ${visit.checkedIn!.at}: it cannot be ${doing}`);
};

const sameList = (a: readonly unknown[], b: readonly unknown[]): boolean => JSON.stringify(a) === JSON.stringify(b);
const sameInstant = (a: string, b: string): boolean => instantOf(a) === instantOf(b);

/**
 * Plans a visit, or brings a planned one up to date (a re-sent roster): what changed is recorded
 * (new times: VisitRescheduled; new care workers, tasks or tolerance: VisitReplanned), nothing
 * when nothing did. A visit already under way or cancelled is not replanned.
 */
export const planVisit = (cmd: PlanVisit, state: VisitFacts, context: PlanContext): Decided => {
  assertNotInFuture(cmd.occurredAt, context.now);
  if (!state.planned) {
    return [
      {
        type: 'VisitPlanned',
        data: {
          patientId: cmd.patientId,
          visitId: cmd.visitId,
          providerOrganisationId: cmd.providerOrganisationId,
          plannedStart: cmd.plannedStart,
          plannedEnd: cmd.plannedEnd,
          careWorkerIds: cmd.careWorkerIds,
          tasks: cmd.tasks,
          lateToleranceMinutes: cmd.lateToleranceMinutes ?? context.defaultLateToleranceMinutes,
        },
      },
    ];
  }
  forThisPerson(state, cmd.patientId);
  if (state.providerOrganisationId !== cmd.providerOrganisationId) {
    throw new DomainRuleBroken('visit.other-provider', 'providerOrganisationId', `Visit ${cmd.visitId} is planned by ${state.providerOrganisationId}: a visit does not change provider (plan a new one)`);
  }
  const timesChanged = !sameInstant(state.plannedStart, cmd.plannedStart) || !sameInstant(state.plannedEnd, cmd.plannedEnd);
  const careWorkersChanged = !sameList(state.careWorkerIds, cmd.careWorkerIds);
  const tasksChanged = !sameList(state.tasks, cmd.tasks);
  const toleranceChanged = cmd.lateToleranceMinutes !== undefined && cmd.lateToleranceMinutes !== state.lateToleranceMinutes;
  if (!timesChanged && !careWorkersChanged && !tasksChanged && !toleranceChanged) return [];
  notStarted(state, 'replanned');
  return [
    ...(timesChanged ? [{ type: 'VisitRescheduled' as const, data: { visitId: cmd.visitId, plannedStart: cmd.plannedStart, plannedEnd: cmd.plannedEnd } }] : []),
    ...(careWorkersChanged || tasksChanged || toleranceChanged
      ? [
          {
            type: 'VisitReplanned' as const,
            data: compact({
              visitId: cmd.visitId,
              careWorkerIds: careWorkersChanged ? cmd.careWorkerIds : undefined,
              tasks: tasksChanged ? cmd.tasks : undefined,
              lateToleranceMinutes: toleranceChanged ? cmd.lateToleranceMinutes : undefined,
            }),
          },
        ]
      : []),
  ];
};

export const rescheduleVisit = (cmd: RescheduleVisit, state: VisitFacts, context: VisitContext): Decided => {
  assertNotInFuture(cmd.occurredAt, context.now);
  const visit = planned(state, cmd.visitId);
  forThisPerson(visit, cmd.patientId);
  if (sameInstant(visit.plannedStart, cmd.plannedStart) && sameInstant(visit.plannedEnd, cmd.plannedEnd)) return [];
  notStarted(visit, 'rescheduled');
  return [{ type: 'VisitRescheduled', data: compact({ visitId: cmd.visitId, plannedStart: cmd.plannedStart, plannedEnd: cmd.plannedEnd, reason: cmd.reason }) }];
};

export const cancelVisit = (cmd: CancelVisit, state: VisitFacts, context: VisitContext): Decided => {
  assertNotInFuture(cmd.occurredAt, context.now);
  const visit = planned(state, cmd.visitId);
  forThisPerson(visit, cmd.patientId);
  if (visit.status === 'cancelled') return [];
  notStarted(visit, 'cancelled');
  return [{ type: 'VisitCancelled', data: { visitId: cmd.visitId, reason: cmd.reason } }];
};

const assigned = (visit: PlannedVisit, actor: Actor): void => {
  if (!visit.careWorkerIds.includes(actor.id)) {
    throw new DomainRuleBroken('visit.not-assigned', 'actor.id', `${actor.id} is not a care worker assigned to visit ${visit.visitId} (${visit.careWorkerIds.join(', ')})`);
  }
};

/** How far a check-in is after the visit's planned start, in whole minutes, when beyond its tolerance. */
export const latenessOf = (visit: PlannedVisit, checkedInAt: string): number | undefined =>
  instantOf(checkedInAt) > instantOf(lateAfter(visit)) ? Math.floor((instantOf(checkedInAt) - instantOf(visit.plannedStart)) / 60_000) : undefined;

/** The assigned care worker arrives: a check-in beyond the tolerance records how late it was. */
export const checkInVisit = (cmd: CheckInVisit, state: VisitFacts, context: VisitContext): Decided => {
  assertNotInFuture(cmd.occurredAt, context.now);
  const visit = planned(state, cmd.visitId);
  forThisPerson(visit, cmd.patientId);
  notStarted(visit, 'checked in again');
  assigned(visit, context.actor);
  const lateByMinutes = latenessOf(visit, cmd.occurredAt);
  return [{ type: 'VisitCheckedIn', data: compact({ visitId: cmd.visitId, careWorkerId: context.actor.id, location: cmd.location, lateByMinutes }) }];
};

/**
 * The care worker leaves: every planned task has an outcome (not done: with a reason), and the
 * visit is not closed while a scheduled medicine due in it has no outcome, unless she says why
 * (`unrecordedDosesReason`); then the doses left are named in the event.
 */
export const checkOutVisit = (cmd: CheckOutVisit, state: VisitFacts, context: CheckOutContext): Decided => {
  assertNotInFuture(cmd.occurredAt, context.now);
  const visit = planned(state, cmd.visitId);
  forThisPerson(visit, cmd.patientId);
  notCancelled(visit, 'checked out');
  if (visit.status === 'planned') throw new DomainRuleBroken('visit.not-checked-in', 'visitId', `Visit ${visit.visitId} was not checked in: check in first`);
  if (visit.status === 'finished') throw new DomainRuleBroken('visit.already-checked-out', 'visitId', `Visit ${visit.visitId} was checked out at ${visit.checkedOut!.at}`);
  assigned(visit, context.actor);
  if (instantOf(cmd.occurredAt) < instantOf(visit.checkedIn!.at)) {
    throw new DomainRuleBroken('visit.out-before-in', 'occurredAt', `occurredAt ${cmd.occurredAt} is before the check-in at ${visit.checkedIn!.at}`);
  }
  const plannedIds = new Set(visit.tasks.map((t) => t.taskId));
  cmd.tasks.forEach((task, i) => {
    if (!plannedIds.has(task.taskId)) throw new DomainRuleBroken('visit.unknown-task', `tasks.${i}.taskId`, `Task ${task.taskId} is not planned for visit ${visit.visitId}`);
  });
  const answered = new Set(cmd.tasks.map((t) => t.taskId));
  const unanswered = visit.tasks.filter((t) => !answered.has(t.taskId));
  if (unanswered.length > 0) {
    throw new DomainRuleBroken(
      'visit.task-without-outcome',
      'tasks',
      `Every planned task needs an outcome (done, or not-done with a reason): ${unanswered.map((t) => `${t.taskId} (${t.description})`).join(', ')}`,
    );
  }
  const withoutOutcome: UnrecordedDose[] = context.dosesDue.filter((d) => d.outcome === undefined).map((d) => ({ doseId: d.doseId, description: d.description, dueAt: d.dueAt }));
  if (withoutOutcome.length > 0 && cmd.unrecordedDosesReason === undefined) {
    throw new DomainRuleBroken(
      'visit.dose-without-outcome',
      'unrecordedDosesReason',
      `A scheduled medicine due in this visit has no outcome: ${withoutOutcome.map((d) => d.description).join('; ')}. ` +
        'Record each dose (given, withheld with the reason); or, if it cannot be, say why in unrecordedDosesReason and the visit closes with the dose named',
    );
  }
  return [
    {
      type: 'VisitCheckedOut',
      data: compact({
        visitId: cmd.visitId,
        careWorkerId: context.actor.id,
        tasks: cmd.tasks,
        location: cmd.location,
        unrecordedDoses: withoutOutcome.length > 0 ? withoutOutcome : undefined,
        unrecordedDosesReason: withoutOutcome.length > 0 ? cmd.unrecordedDosesReason : undefined,
      }),
    },
  ];
};

/** What the scheduler asks the record to notice, at a deadline the visit's own events gave. */
export interface NoticeVisitDeadline {
  readonly visitId: string;
  readonly kind: 'late' | 'missed';
  readonly dueAt: string;
}

/**
 * The scheduler's deadline came: noticed once (VisitLateNoticed, VisitMissed), or nothing when the
 * visit was checked in, cancelled or moved since (the deadline is no longer the visit's).
 * Returns why nothing, for the scheduler's log.
 */
export const noticeVisitDeadline = (cmd: NoticeVisitDeadline, state: VisitFacts): { events: Decided; why?: string } => {
  const visit = planned(state, cmd.visitId);
  if (visit.status !== 'planned') return { events: [], why: `the visit is ${visit.status}` };
  if (cmd.kind === 'late') {
    if (!sameInstant(lateAfter(visit), cmd.dueAt)) return { events: [], why: 'the visit was moved' };
    if (visit.lateNoticed.includes(visit.plannedStart)) return { events: [], why: 'already noticed' };
    return { events: [{ type: 'VisitLateNoticed', data: { visitId: visit.visitId, dueAt: lateAfter(visit), plannedStart: visit.plannedStart } }] };
  }
  if (!sameInstant(visit.plannedEnd, cmd.dueAt)) return { events: [], why: 'the visit was moved' };
  if (visit.missed.includes(visit.plannedEnd)) return { events: [], why: 'already noticed' };
  return { events: [{ type: 'VisitMissed', data: { visitId: visit.visitId, plannedEnd: visit.plannedEnd } }] };
};
