import type {
  Actor,
  CareWorker,
  DelegationCommand,
  DelegationLifecycleEvent,
  DelegationSuspensionCause,
  Instruction,
  PersonFacts,
  RegisteredProfessional,
} from '@tandem/contracts';
import { assertEvent, assign, setup, type SnapshotFrom } from 'xstate';
import type { Framework } from '../frameworks/schema';
import { addDays, decider, forEvent, guardsFrom, isAtOrAfter, isBefore, refuse, type Check, type Decision, type Refusal, type Timed } from './decider';
import { asCareWorker, asProfessional, asStaff, registeredProfessionalProblem } from './people';

/**
 * One delegation, person x framework x care worker (stream delegation-<id>): proposed by a
 * registered professional the framework allows, with a person-specific instruction -> accepted or
 * declined by the named care worker (declining is normal) -> active once the person has agreed and
 * the care worker's competence is current -> review due -> reviewed (active again), suspended,
 * withdrawn or ended. A lapsed, suspended or revoked competence suspends it at once.
 */

export interface DelegationContext {
  readonly framework: Framework;
  readonly delegationId?: string;
  readonly patientId?: string;
  readonly activityId?: string;
  readonly delegatedBy?: RegisteredProfessional;
  readonly careWorker?: CareWorker;
  readonly instruction?: Instruction;
  readonly reviewIntervalDays?: number;
  readonly personAgreed: boolean;
  readonly reviewDueAt?: string;
  readonly suspendedFor?: DelegationSuspensionCause;
  readonly reason?: string;
}

export type DelegationMachineEvent = Timed<DelegationLifecycleEvent>;
export interface DelegationInput {
  readonly framework: Framework;
}

type C = DelegationContext;
type E = DelegationMachineEvent;

/**
 * Every way the person does not meet the framework's eligibility (all of them, not the first), each
 * naming its fact (`eligibility.<fact>`). The facts the record holds (the age, from the birth date in
 * the person's record) are put in by the command edge, never typed by the client.
 */
export const eligibilityProblems = (framework: Framework, facts: PersonFacts): Refusal[] => {
  const problems: Refusal[] = [];
  for (const criterion of framework.eligibility) {
    const value = facts[criterion.fact];
    const field = `eligibility.${criterion.fact}`;
    const fails = (why: string) => problems.push(refuse('delegation.person-not-eligible', field, `${framework.title}: ${criterion.description} (${why})`));
    if (value === undefined) fails(`${criterion.fact} was not recorded`);
    else if (criterion.equals !== undefined && value !== criterion.equals) fails(`${criterion.fact} is ${String(value)}, needs ${String(criterion.equals)}`);
    else if (criterion.atLeast !== undefined && !(typeof value === 'number' && value >= criterion.atLeast)) fails(`${criterion.fact} is ${String(value)}, needs at least ${criterion.atLeast}`);
    else if (criterion.atMost !== undefined && !(typeof value === 'number' && value <= criterion.atMost)) fails(`${criterion.fact} is ${String(value)}, needs at most ${criterion.atMost}`);
  }
  return problems;
};

/** One refusal carrying every eligibility problem (its `errors` list them all), or undefined when the person is eligible. */
export const eligibilityProblem = (framework: Framework, facts: PersonFacts): Refusal | undefined => {
  const problems = eligibilityProblems(framework, facts);
  if (problems.length === 0) return undefined;
  const [first] = problems as [Refusal, ...Refusal[]];
  if (problems.length === 1) return first;
  return {
    ...first,
    reason: `The person does not meet ${problems.length} of the criteria of ${framework.title}: ${problems.map((p) => p.reason.slice(framework.title.length + 2)).join('; ')}`,
    errors: problems.map((p) => ({ field: p.field, message: p.reason })),
  };
};

const mayPropose = forEvent<C, E, 'DelegationProposed'>('DelegationProposed', ({ framework }, { data }) => {
  if (data.frameworkId !== framework.id) return refuse('delegation.wrong-framework', 'frameworkId', `this delegation is for ${framework.id}`);
  const activity = framework.activities.find((a) => a.id === data.activityId);
  return (
    registeredProfessionalProblem(data.delegatedBy, framework.mayDelegate, { code: 'delegation.delegator', action: 'Delegating' }) ??
    (framework.mayReceive.includes(data.careWorker.role)
      ? undefined
      : refuse('delegation.care-worker-role', 'careWorker.role', `${framework.title} is delegated only to ${framework.mayReceive.join(' or ')}`)) ??
    (data.careWorker.practitionerId === data.delegatedBy.practitionerId
      ? refuse('delegation.self', 'careWorker.practitionerId', 'nobody delegates to themselves')
      : undefined) ??
    (activity
      ? undefined
      : refuse('delegation.unknown-activity', 'activityId', `${data.activityId} is not an activity of ${framework.title} (${framework.activities.map((a) => a.id).join(', ')})`)) ??
    (activity && activity.instruction !== data.instruction.kind
      ? refuse('delegation.instruction-kind', 'instruction.kind', `${activity.title} needs a ${activity.instruction} instruction`)
      : undefined) ??
    eligibilityProblem(framework, data.eligibility)
  );
});

const isNamedCareWorker: Check<C, E> = (context, event) => {
  if (event.type !== 'DelegationAccepted' && event.type !== 'DelegationDeclined') return undefined;
  return event.data.careWorker.practitionerId === context.careWorker?.practitionerId
    ? undefined
    : refuse('delegation.not-the-care-worker', 'actor', `only the care worker named in the delegation (${context.careWorker?.practitionerId}) may accept or decline it`);
};

const mayActivate = forEvent<C, E, 'DelegationActivated'>('DelegationActivated', (context, { data, occurredAt }) => {
  const { competence } = data;
  return (
    registeredProfessionalProblem(data.activatedBy, context.framework.mayDelegate, { code: 'delegation.activator', action: 'Activating a delegation' }) ??
    (context.personAgreed
      ? undefined
      : refuse('delegation.person-agreement-required', 'personAgreement', "the person's (or their representative's) agreement must be recorded first")) ??
    (competence.careWorkerId === context.careWorker?.practitionerId && competence.frameworkId === context.framework.id
      ? undefined
      : refuse('delegation.competence-mismatch', 'competence', `the competence given is not ${context.careWorker?.practitionerId}'s for ${context.framework.id}`)) ??
    (competence.status === 'signedOff'
      ? undefined
      : refuse('delegation.competence-not-current', 'competence.status', `the care worker's competence is ${competence.status}, not signed off`)) ??
    (competence.validUntil !== undefined && isBefore(occurredAt, competence.validUntil)
      ? undefined
      : refuse('delegation.competence-expired', 'competence.validUntil', `the care worker's competence expired at ${competence.validUntil ?? 'an unknown time'}`)) ??
    (isBefore(occurredAt, data.reviewDueAt) ? undefined : refuse('delegation.review-date', 'reviewDueAt', 'the review date must be after activation'))
  );
});

const reviewIsDue = forEvent<C, E, 'ReviewDue'>('ReviewDue', (context, { occurredAt }) =>
  context.reviewDueAt !== undefined && isAtOrAfter(occurredAt, context.reviewDueAt)
    ? undefined
    : refuse('delegation.review-not-due', 'occurredAt', `the review is due at ${context.reviewDueAt ?? 'no set time'}`),
);

const mayReview = forEvent<C, E, 'DelegationReviewed'>('DelegationReviewed', (context, { data, occurredAt }) =>
  registeredProfessionalProblem(data.reviewedBy, context.framework.mayDelegate, { code: 'delegation.reviewer', action: 'Reviewing a delegation' }) ??
  (isBefore(occurredAt, data.nextReviewDueAt) ? undefined : refuse('delegation.review-date', 'nextReviewDueAt', 'the next review must be after this one')),
);

const maySuspend = forEvent<C, E, 'DelegationSuspended'>('DelegationSuspended', (context, { data }) =>
  // a change of competence suspends at once, whoever relays it (the system reacting to the competency stream)
  data.cause === 'decision'
    ? registeredProfessionalProblem(data.by, context.framework.mayDelegate, { code: 'delegation.suspender', action: 'Suspending a delegation' })
    : undefined,
);

const mayWithdraw = forEvent<C, E, 'DelegationWithdrawn'>('DelegationWithdrawn', (context, { data }) =>
  // the care worker may hand a delegation back at any time, for any safety reason
  data.by.practitionerId === context.careWorker?.practitionerId
    ? undefined
    : registeredProfessionalProblem(data.by, context.framework.mayDelegate, { code: 'delegation.withdrawer', action: 'Withdrawing a delegation' }),
);

const mayEnd = forEvent<C, E, 'DelegationEnded'>('DelegationEnded', (context, { data }) =>
  registeredProfessionalProblem(data.by, context.framework.mayDelegate, { code: 'delegation.ender', action: 'Ending a delegation' }),
);

export const delegationChecks = { mayPropose, isNamedCareWorker, mayActivate, reviewIsDue, mayReview, maySuspend, mayWithdraw, mayEnd };

const withdraw = { guard: 'mayWithdraw', target: 'withdrawn', actions: 'noteReason' } as const;
const end = { guard: 'mayEnd', target: 'ended', actions: 'noteReason' } as const;
const suspend = { guard: 'maySuspend', target: 'suspended', actions: 'suspend' } as const;
const agree = { actions: 'recordAgreement' } as const;

export const delegationMachine = setup({
  types: {} as { context: DelegationContext; events: DelegationMachineEvent; input: DelegationInput },
  guards: guardsFrom<C, E, keyof typeof delegationChecks>(delegationChecks),
  actions: {
    propose: assign(({ event }) => {
      assertEvent(event, 'DelegationProposed');
      const { data } = event;
      return {
        delegationId: data.delegationId,
        patientId: data.patientId,
        activityId: data.activityId,
        delegatedBy: data.delegatedBy,
        careWorker: data.careWorker,
        instruction: data.instruction,
        reviewIntervalDays: data.reviewIntervalDays,
      };
    }),
    recordAgreement: assign({ personAgreed: true }),
    activate: assign(({ event }) => {
      assertEvent(event, 'DelegationActivated');
      return { reviewDueAt: event.data.reviewDueAt, suspendedFor: undefined, reason: undefined };
    }),
    review: assign(({ event }) => {
      assertEvent(event, 'DelegationReviewed');
      return { reviewDueAt: event.data.nextReviewDueAt };
    }),
    suspend: assign(({ event }) => {
      assertEvent(event, 'DelegationSuspended');
      return { suspendedFor: event.data.cause, reason: event.data.reason };
    }),
    noteReason: assign(({ event }) => {
      assertEvent(event, ['DelegationDeclined', 'DelegationWithdrawn', 'DelegationEnded']);
      return { reason: event.data.reason };
    }),
  },
}).createMachine({
  id: 'delegation',
  context: ({ input }) => ({ framework: input.framework, personAgreed: false }),
  initial: 'notProposed',
  states: {
    notProposed: {
      on: { DelegationProposed: { guard: 'mayPropose', target: 'proposed', actions: 'propose' } },
    },
    proposed: {
      on: {
        DelegationAccepted: { guard: 'isNamedCareWorker', target: 'accepted' },
        DelegationDeclined: { guard: 'isNamedCareWorker', target: 'declined', actions: 'noteReason' },
        PersonAgreementRecorded: agree,
        DelegationWithdrawn: withdraw,
      },
    },
    accepted: {
      on: {
        PersonAgreementRecorded: agree,
        DelegationActivated: { guard: 'mayActivate', target: 'active', actions: 'activate' },
        DelegationWithdrawn: withdraw,
      },
    },
    declined: { type: 'final' },
    active: {
      on: {
        ReviewDue: { guard: 'reviewIsDue', target: 'reviewDue' },
        /** Reviewed early: still active, with the next review date. */
        DelegationReviewed: { guard: 'mayReview', target: 'active', actions: 'review' },
        DelegationSuspended: suspend,
        DelegationWithdrawn: withdraw,
        DelegationEnded: end,
      },
    },
    reviewDue: {
      on: {
        DelegationReviewed: { guard: 'mayReview', target: 'active', actions: 'review' },
        DelegationSuspended: suspend,
        DelegationWithdrawn: withdraw,
        DelegationEnded: end,
      },
    },
    suspended: {
      on: {
        /** Reactivated: the competence is checked again. */
        DelegationActivated: { guard: 'mayActivate', target: 'active', actions: 'activate' },
        DelegationWithdrawn: withdraw,
        DelegationEnded: end,
      },
    },
    withdrawn: { type: 'final' },
    ended: { type: 'final' },
  },
});

export type DelegationState = SnapshotFrom<typeof delegationMachine>;
export type DelegationStatus = 'notProposed' | 'proposed' | 'accepted' | 'declined' | 'active' | 'reviewDue' | 'suspended' | 'withdrawn' | 'ended';

export const DELEGATION_STATE_DESCRIPTIONS: Record<DelegationStatus, string> = {
  notProposed: 'not proposed yet',
  proposed: 'proposed',
  accepted: 'accepted',
  declined: 'declined',
  active: 'active',
  reviewDue: 'due for review',
  suspended: 'suspended',
  withdrawn: 'withdrawn',
  ended: 'ended',
};

const core = decider({
  machine: delegationMachine,
  subject: 'delegation',
  streamField: 'delegationId',
  describeState: DELEGATION_STATE_DESCRIPTIONS,
  checks: delegationChecks as Record<string, Check<C, unknown>>,
});

/** The pure core behind decideDelegation and evolveDelegation: replay machine, refusal reasons, states accepting an event. */
export const delegationDecider = core;
export const delegationReplayMachine = core.replayMachine;
export const initialDelegationState = (framework: Framework): DelegationState => core.initialState({ framework });
export const evolveDelegation = (state: DelegationState, event: DelegationMachineEvent): DelegationState => core.evolve(state, event);
export const replayDelegation = (framework: Framework, events: readonly DelegationMachineEvent[]): DelegationState => core.replay({ framework }, events);

export interface DelegationDecisionContext {
  readonly actor: Actor;
}

const intend = (state: DelegationState, command: DelegationCommand, actor: Actor): DelegationLifecycleEvent[] => {
  const { context } = state;
  const { framework } = context;
  const intervalDays = context.reviewIntervalDays ?? framework.review.intervalDays;
  switch (command.type) {
    case 'ProposeDelegation':
      return [
        {
          type: 'DelegationProposed',
          data: {
            delegationId: command.delegationId,
            patientId: command.patientId,
            frameworkId: command.frameworkId,
            frameworkVersion: framework.version,
            activityId: command.activityId,
            delegatedBy: asProfessional(actor),
            careWorker: command.careWorker,
            instruction: command.instruction,
            eligibility: command.eligibility,
            reviewIntervalDays: framework.review.intervalDays,
          },
        },
      ];
    case 'AcceptDelegation':
      return [{ type: 'DelegationAccepted', data: { careWorker: asCareWorker(actor) } }];
    case 'DeclineDelegation':
      return [{ type: 'DelegationDeclined', data: { careWorker: asCareWorker(actor), ...(command.reason ? { reason: command.reason } : {}) } }];
    case 'RecordPersonAgreement':
      return [{ type: 'PersonAgreementRecorded', data: command.agreement }];
    case 'ActivateDelegation':
      return [
        {
          type: 'DelegationActivated',
          data: { activatedBy: asProfessional(actor), competence: command.competence, reviewDueAt: addDays(command.occurredAt, intervalDays) },
        },
      ];
    case 'MarkReviewDue':
      return [{ type: 'ReviewDue', data: { dueAt: context.reviewDueAt ?? command.occurredAt } }];
    case 'ReviewDelegation':
      return [
        {
          type: 'DelegationReviewed',
          data: { reviewedBy: asProfessional(actor), notes: command.notes, nextReviewDueAt: command.nextReviewDueAt ?? addDays(command.occurredAt, intervalDays) },
        },
      ];
    case 'SuspendDelegation':
      return [{ type: 'DelegationSuspended', data: { by: asStaff(actor), cause: 'decision', reason: command.reason } }];
    case 'SuspendDelegationForCompetence':
      return [
        {
          type: 'DelegationSuspended',
          data: {
            by: asStaff(actor),
            cause: `competence-${command.change}`,
            reason: command.reason ?? `The care worker's competence for ${framework.title} was ${command.change === 'lapsed' ? 'not reassessed in time (lapsed)' : command.change}`,
          },
        },
      ];
    case 'RestoreDelegationAfterCompetence':
      return [
        {
          type: 'DelegationActivated',
          data: {
            activatedBy: command.reinstatedBy,
            competence: command.competence,
            reviewDueAt: command.reviewDueAt,
            reason: `Restored: the care worker's competence for ${framework.title} was reinstated, lifting the suspension that suspended this delegation`,
          },
        },
      ];
    case 'WithdrawDelegation':
      return [{ type: 'DelegationWithdrawn', data: { by: asStaff(actor), reason: command.reason } }];
    case 'EndDelegation':
      return [{ type: 'DelegationEnded', data: { by: asProfessional(actor), reason: command.reason } }];
  }
};

/**
 * Decides a delegation command on the state rebuilt from the stream: the events to append, or a
 * refusal with the reason.
 */
export const decideDelegation = (state: DelegationState, command: DelegationCommand, { actor }: DelegationDecisionContext): Decision<DelegationLifecycleEvent> => {
  const { delegationId } = state.context;
  if (delegationId !== undefined && command.delegationId !== delegationId) {
    return { ok: false, refusal: refuse('delegation.wrong-stream', 'delegationId', `this is delegation ${delegationId}`) };
  }
  return core.decideEvents(state, command.type, command.occurredAt, intend(state, command, actor));
};

/** Whether the care worker named in it may perform the activity now. */
export const isDelegationActive = (state: DelegationState): boolean => state.value === 'active' || state.value === 'reviewDue';

/** The timer the scheduler must hold for this stream: the review date while active. */
export const delegationTimer = (state: DelegationState): { dueAt: string; command: DelegationCommand } | undefined => {
  const { reviewDueAt, delegationId } = state.context;
  if (state.value !== 'active' || !reviewDueAt || !delegationId) return undefined;
  return {
    dueAt: reviewDueAt,
    command: { type: 'MarkReviewDue', idempotencyKey: `delegation-${delegationId}:review-due:${reviewDueAt}`, occurredAt: reviewDueAt, delegationId },
  };
};
