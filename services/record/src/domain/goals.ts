import type { AgreeGoal, CloseGoal, GoalAchievement, GoalAgreedData, GoalClosedData, GoalEvent, GoalProgressRecordedData, RecordGoalProgress } from '@tandem/contracts';
import { compact } from './compact';
import { DomainRuleBroken } from './errors';
import type { PatientContext } from './patient';
import { assertNotInFuture } from './time';

/**
 * A person's own outcomes (issue 15; docs/decisions/0037): agreed with them, progress recorded,
 * closed. Folded from the person's stream (`patient-<id>`) beside their registration; pure.
 */

export interface GoalState {
  readonly agreed: GoalAgreedData;
  readonly achievementStatus?: GoalAchievement;
  readonly closed?: GoalClosedData;
}

export type GoalsState = ReadonlyMap<string, GoalState>;
export const initialGoalsState: GoalsState = new Map();

export const evolveGoals = (state: GoalsState, event: { type: string; data: unknown }): GoalsState => {
  switch (event.type) {
    case 'GoalAgreed': {
      const d = event.data as GoalAgreedData;
      return state.has(d.goalId) ? state : new Map([...state, [d.goalId, { agreed: d }]]);
    }
    case 'GoalProgressRecorded': {
      const d = event.data as GoalProgressRecordedData;
      const goal = state.get(d.goalId);
      return goal ? new Map([...state, [d.goalId, { ...goal, achievementStatus: d.achievementStatus }]]) : state;
    }
    case 'GoalClosed': {
      const d = event.data as GoalClosedData;
      const goal = state.get(d.goalId);
      return goal ? new Map([...state, [d.goalId, { ...goal, closed: d, ...(d.achievementStatus ? { achievementStatus: d.achievementStatus } : {}) }]]) : state;
    }
    default:
      return state;
  }
};

const sameAgreement = (a: GoalAgreedData, cmd: AgreeGoal): boolean =>
  a.statement === cmd.statement && a.note === cmd.note && a.target?.description === cmd.target?.description && a.target?.dueDate === cmd.target?.dueDate;

/** Agreeing the same goal again records nothing; the same id for another goal is refused. */
export const agreeGoal = (cmd: AgreeGoal, goals: GoalsState, context: PatientContext): GoalEvent[] => {
  assertNotInFuture(cmd.occurredAt, context.now);
  const known = goals.get(cmd.goalId);
  if (known) {
    if (sameAgreement(known.agreed, cmd)) return [];
    throw new DomainRuleBroken('goal.id-in-use', 'goalId', `The goal ${cmd.goalId} is already agreed with other words: record its progress, or agree a new goal`);
  }
  const { idempotencyKey: _key, occurredAt: _at, ...data } = cmd;
  return [{ type: 'GoalAgreed', data: compact(data) }];
};

const openGoal = (goals: GoalsState, goalId: string): GoalState => {
  const goal = goals.get(goalId);
  if (!goal) throw new DomainRuleBroken('goal.not-found', 'goalId', `This person has no goal ${goalId}`);
  if (goal.closed) throw new DomainRuleBroken('goal.closed', 'goalId', `The goal ${goalId} was closed (${goal.closed.lifecycleStatus}): agree a new goal`);
  return goal;
};

export const recordGoalProgress = (cmd: RecordGoalProgress, goals: GoalsState, context: PatientContext): GoalEvent[] => {
  assertNotInFuture(cmd.occurredAt, context.now);
  openGoal(goals, cmd.goalId);
  const { idempotencyKey: _key, occurredAt: _at, ...data } = cmd;
  return [{ type: 'GoalProgressRecorded', data }];
};

export const closeGoal = (cmd: CloseGoal, goals: GoalsState, context: PatientContext): GoalEvent[] => {
  assertNotInFuture(cmd.occurredAt, context.now);
  openGoal(goals, cmd.goalId);
  const { idempotencyKey: _key, occurredAt: _at, ...data } = cmd;
  return [{ type: 'GoalClosed', data: compact(data) }];
};
