import type { CompetenceCommand, DelegationCommand, EscalationCommand, PromptCommand, VisitDeadline } from '@tandem/contracts';
import { competenceTimer, delegationTimer, escalationTimer, type CompetenceState, type DelegationState, type EscalationState } from '../machines';
import { promptTimer, type PromptState } from '../prompts';

/**
 * A deadline the scheduler holds: a stream's `dueAt` (competence expiry, delegation review, an
 * escalation tier's deadline, a recheck) and the command that fires it. The timer's id is the
 * command's idempotency key, which names the stream, the deadline and the dueAt: the same timer
 * fired twice (a retry, a restart between firing and marking it fired) records once.
 */
export type TimerCommand =
  | { readonly kind: 'competence'; readonly command: CompetenceCommand }
  | { readonly kind: 'delegation'; readonly command: DelegationCommand }
  | { readonly kind: 'escalation'; readonly command: EscalationCommand }
  | { readonly kind: 'prompt'; readonly command: PromptCommand }
  | { readonly kind: 'monitoring'; readonly command: CheckMonitoring }
  | { readonly kind: 'visit'; readonly command: CheckVisit }
  | { readonly kind: 'dose'; readonly command: CheckDose };

/**
 * A scheduled dose's deadline (the person's medicines stream gives the order and its times): at
 * the dose's time plus its tolerance (`overdue`) the care worker(s) are prompted unless an
 * outcome is recorded; at the prompt's `escalateAt` (`escalate`) the nursing team is told unless
 * one is recorded by then. Both are decided from the care stream when they fire.
 */
export interface CheckDose {
  readonly type: 'CheckDose';
  readonly idempotencyKey: string;
  readonly occurredAt: string;
  readonly stage: 'overdue' | 'escalate';
  readonly patientId: string;
  readonly orderId: string;
  readonly scheduledTime: string;
  readonly scheduledAt: string;
}

/**
 * A visit's deadline (the record's visit stream gives it: planned start plus tolerance, then the
 * planned end): the scheduler asks the record to notice it, which records it once unless the visit
 * was checked in, cancelled or moved, and then escalates it to the provider's registered manager.
 */
export interface CheckVisit {
  readonly type: 'CheckVisit';
  readonly idempotencyKey: string;
  readonly occurredAt: string;
  readonly visitId: string;
  readonly deadline: 'late' | 'missed';
  readonly dueAt: string;
}

/**
 * A repeating check a framework asks for (the daily cellulitis check, the fluid chart) falls due at
 * `dueAt` (the last such entry, or the delegation's activation, plus the interval and its grace):
 * the scheduler looks then whether it was recorded, and escalates when it was not.
 */
export interface CheckMonitoring {
  readonly type: 'CheckMonitoring';
  readonly idempotencyKey: string;
  readonly occurredAt: string;
  readonly delegationId: string;
  readonly monitoringId: string;
}

export interface Timer {
  readonly timerId: string;
  readonly stream: string;
  readonly dueAt: string;
  readonly fire: TimerCommand;
}

const timer = (stream: string, found: { dueAt: string; command: TimerCommand['command'] } | undefined, kind: TimerCommand['kind']): Timer | undefined =>
  found && { timerId: found.command.idempotencyKey, stream, dueAt: found.dueAt, fire: { kind, command: found.command } as TimerCommand };

export const competenceTimerOf = (stream: string, state: CompetenceState) => timer(stream, competenceTimer(state), 'competence');
export const delegationTimerOf = (stream: string, state: DelegationState) => timer(stream, delegationTimer(state), 'delegation');
export const escalationTimerOf = (stream: string, state: EscalationState) => timer(stream, escalationTimer(state), 'escalation');
export const promptTimerOf = (stream: string, state: PromptState) => timer(stream, promptTimer(state), 'prompt');

/** A visit's next deadline as a timer (one per visit stream at a time: the late one, then the missed one). */
export const visitTimer = (stream: string, visitId: string, deadline: VisitDeadline | undefined): Timer | undefined => {
  if (!deadline) return undefined;
  const command: CheckVisit = { type: 'CheckVisit', idempotencyKey: `visit-${deadline.kind}:${visitId}:${deadline.dueAt}`, occurredAt: deadline.dueAt, visitId, deadline: deadline.kind, dueAt: deadline.dueAt };
  return { timerId: command.idempotencyKey, stream, dueAt: deadline.dueAt, fire: { kind: 'visit', command } };
};

/** The timer key of a delegation's repeating check: one unfired timer per delegation and check. */
export const monitoringTimerStream = (delegationId: string, monitoringId: string): string => `monitoring-${delegationId}-${monitoringId}`;

export const monitoringTimer = (delegationId: string, monitoringId: string, missedAt: string): Timer => {
  const stream = monitoringTimerStream(delegationId, monitoringId);
  const command: CheckMonitoring = { type: 'CheckMonitoring', idempotencyKey: `${stream}:missed:${missedAt}`, occurredAt: missedAt, delegationId, monitoringId };
  return { timerId: command.idempotencyKey, stream, dueAt: missedAt, fire: { kind: 'monitoring', command } };
};

/** The timer key of an order's next scheduled dose: one unfired timer per order. */
export const doseTimerStream = (orderId: string): string => `dose-${orderId}`;

export const doseTimer = (
  stream: string,
  dose: { stage: CheckDose['stage']; patientId: string; orderId: string; scheduledTime: string; scheduledAt: string; dueAt: string },
): Timer => {
  const command: CheckDose = {
    type: 'CheckDose',
    idempotencyKey: `dose-${dose.stage}:${dose.orderId}:${dose.scheduledAt}`,
    occurredAt: dose.dueAt,
    stage: dose.stage,
    patientId: dose.patientId,
    orderId: dose.orderId,
    scheduledTime: dose.scheduledTime,
    scheduledAt: dose.scheduledAt,
  };
  return { timerId: command.idempotencyKey, stream, dueAt: dose.dueAt, fire: { kind: 'dose', command } };
};
