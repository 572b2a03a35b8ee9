import type { Actor, EscalationCommand, EscalationEvent, EscalationSentToTierData, Role, StaffMember, Urgency } from '@tandem/contracts';
import { assertEvent, assign, setup, type SnapshotFrom } from 'xstate';
import type { Ruleset } from '../frameworks/schema';
import { distinctRecipients, type ResolveRecipients } from '../rules/recipients';
import { addMinutes, decider, forEvent, guardsFrom, isBefore, refuse, type Check, type Decision, type Timed } from './decider';
import { asStaff, registeredProfessionalProblem } from './people';

/**
 * One escalation (stream escalation-<id>): raised -> sent to a tier -> acknowledged -> resolved.
 * Not acknowledged by the tier's dueAt (the scheduler sends DEADLINE_PASSED) -> re-escalated to
 * the next tier: accountable district nurse -> on-call nurse or GP -> NHS 111 / 999 advice to the
 * care worker, each step an event. An emergency goes straight to 999 advice, with the nurse
 * informed. Deadlines by urgency come from the framework.
 */

export interface EscalationContext {
  readonly framework: Ruleset;
  readonly escalationId?: string;
  readonly patientId?: string;
  readonly ruleId?: string;
  readonly urgency?: Urgency;
  /** Recorded by someone other than a care worker at the bedside: an emergency starts at the first tier. */
  readonly recordedAwayFromBedside?: boolean;
  /** The tier it is with (-1 before it is first sent). */
  readonly tier: number;
  /** When it goes to the next tier; null at the last tier. */
  readonly dueAt?: string | null;
  /** When it was last sent (the last tier is reminded from here). */
  readonly sentAt?: string;
  /** Reminders sent at the last tier so far. */
  readonly reminders?: number;
  /** The tier it is being re-escalated to. */
  readonly nextTier?: number;
  readonly acknowledgedBy?: StaffMember;
  readonly outcome?: string;
}

export type EscalationMachineEvent = Timed<EscalationEvent>;
export interface EscalationInput {
  readonly framework: Ruleset;
}

type C = EscalationContext;
type E = EscalationMachineEvent;

/**
 * Where an escalation of this urgency starts: an emergency at the framework's emergency tier (999
 * advice to the care worker at the bedside), unless nobody recorded it at the bedside: then at the
 * first tier, whose people must acknowledge it by a deadline (hazard O5).
 */
export const startTierOf = (framework: Ruleset, urgency: Urgency, recordedAwayFromBedside = false): number =>
  urgency === 'emergency' && !recordedAwayFromBedside ? framework.escalation.tiers.findIndex((t) => t.id === framework.escalation.emergency.tier) : 0;

/** Minutes a tier has to acknowledge: its own deadline for the urgency, or the escalation's (an emergency uses the urgent one). */
export const tierDeadlineMinutes = (framework: Ruleset, tier: number, urgency: Urgency): number => {
  const minutes = framework.escalation.tiers[tier]?.deadlineMinutes ?? framework.escalation.deadlineMinutes;
  return urgency === 'routine' ? minutes.routine : minutes.urgent;
};

/**
 * The message to one tier, with its deadline by urgency (none at the last tier) and, given who the
 * tier's recipients are now (`recipients`), the people it reaches by name. A tier that reaches
 * nobody (nobody on call) is due at once: the next tier is told in the same decision.
 */
export const tierMessage = (
  framework: Ruleset,
  tier: number,
  urgency: Urgency,
  occurredAt: string,
  recipients?: ResolveRecipients,
  /** Recipients told as well, beyond the emergency's (a reminder tells the first tier again). */
  alsoInform: readonly string[] = [],
): EscalationSentToTierData => {
  const { tiers, emergency } = framework.escalation;
  const definition = tiers[tier]!;
  const isLast = tier === tiers.length - 1;
  const emergencyStart = urgency === 'emergency' && definition.id === emergency.tier;
  const awayFromBedsideStart = urgency === 'emergency' && tier === 0 && !emergencyStart;
  const advice = emergencyStart ? emergency.advice : awayFromBedsideStart ? (emergency.awayFromBedsideAdvice ?? definition.advice) : definition.advice;
  const informed = [...new Set([...(emergencyStart ? emergency.inform : []), ...alsoInform])];
  const named = recipients?.(definition.recipient, occurredAt);
  const nobody = named !== undefined && named.length === 0;
  const informedRecipients = recipients ? informed.flatMap((who) => recipients(who, occurredAt)) : undefined;
  return {
    tier,
    tierId: definition.id,
    recipient: definition.recipient,
    ...(named ? { recipients: named } : {}),
    ...(informedRecipients ? { informedRecipients: distinctRecipients(informedRecipients) } : {}),
    ...(nobody ? { nobodyAvailable: true } : {}),
    dueAt: isLast ? null : nobody ? occurredAt : addMinutes(occurredAt, tierDeadlineMinutes(framework, tier, urgency)),
    informed,
    ...(advice ? { advice } : {}),
  };
};

/** Sends to a tier; while a tier reaches nobody, on to the next at once (each step an event). */
const sendFrom = (framework: Ruleset, tier: number, urgency: Urgency, occurredAt: string, recipients?: ResolveRecipients): EscalationEvent[] => {
  const message = tierMessage(framework, tier, urgency, occurredAt, recipients);
  const sent: EscalationEvent = { type: 'EscalationSentToTier', data: message };
  if (!message.nobodyAvailable || message.dueAt === null) return [sent];
  const title = framework.escalation.tiers[tier]?.title ?? `tier ${tier + 1}`;
  return [
    sent,
    { type: 'EscalationReEscalated', data: { fromTier: tier, toTier: tier + 1, missedDueAt: occurredAt, reason: `Nobody available at ${title} (nobody on call): sent on at once` } },
    ...sendFrom(framework, tier + 1, urgency, occurredAt, recipients),
  ];
};

const mayRaise = forEvent<C, E, 'EscalationRaised'>('EscalationRaised', ({ framework }, { data }) =>
  data.frameworkId === framework.id ? undefined : refuse('escalation.wrong-framework', 'frameworkId', `this escalation follows ${framework.id}`),
);

const tierProblem = (context: C, data: EscalationSentToTierData, expected: number) => {
  const tiers = context.framework.escalation.tiers;
  if (data.tier !== expected || tiers[expected]?.id !== data.tierId) {
    return refuse('escalation.wrong-tier', 'tier', `it must go to tier ${expected} (${tiers[expected]?.title ?? 'none'}), not ${data.tier} (${data.tierId})`);
  }
  if ((data.dueAt === null) !== (expected === tiers.length - 1)) {
    return refuse('escalation.deadline', 'dueAt', 'every tier but the last has a deadline');
  }
  return undefined;
};

const isStartTier = forEvent<C, E, 'EscalationSentToTier'>('EscalationSentToTier', (context, { data }) =>
  tierProblem(context, data, startTierOf(context.framework, context.urgency ?? 'urgent', context.recordedAwayFromBedside)),
);

/** When the last tier is reminded: its own interval for the urgency after it was last sent. */
export const reminderDueAt = (context: C): string | undefined => {
  const { framework, tier, sentAt, urgency } = context;
  if (sentAt === undefined || tier !== framework.escalation.tiers.length - 1) return undefined;
  return addMinutes(sentAt, tierDeadlineMinutes(framework, tier, urgency ?? 'urgent'));
};

const isReminder = forEvent<C, E, 'EscalationSentToTier'>('EscalationSentToTier', (context, { data, occurredAt }) => {
  const due = reminderDueAt(context);
  if (due === undefined || data.reminder === undefined) return refuse('escalation.not-last-tier', 'tier', 'only the last tier is reminded; the others are re-escalated');
  if (isBefore(occurredAt, due)) return refuse('escalation.not-yet-due', 'occurredAt', `the last tier is reminded at ${due}`);
  if (data.reminder !== (context.reminders ?? 0) + 1) return refuse('escalation.reminder', 'reminder', `this is reminder ${(context.reminders ?? 0) + 1}`);
  return tierProblem(context, data, context.tier);
});

const isNextTier = forEvent<C, E, 'EscalationSentToTier'>('EscalationSentToTier', (context, { data }) => tierProblem(context, data, context.nextTier ?? -1));

const deadlinePassed = forEvent<C, E, 'EscalationReEscalated'>('EscalationReEscalated', (context, { data, occurredAt }) => {
  const tier = context.framework.escalation.tiers[context.tier];
  if (context.dueAt === null || context.dueAt === undefined) {
    return refuse('escalation.last-tier', 'escalationId', `it is already with the last tier (${tier?.title ?? context.tier}): there is no one further to escalate to`);
  }
  if (isBefore(occurredAt, context.dueAt)) {
    return refuse('escalation.not-yet-due', 'occurredAt', `${tier?.title ?? 'the tier'} has until ${context.dueAt} to acknowledge`);
  }
  if (data.fromTier !== context.tier || data.toTier !== context.tier + 1) {
    return refuse('escalation.wrong-tier', 'tier', `it goes from tier ${context.tier} to tier ${context.tier + 1}`);
  }
  return undefined;
});

const mayAcknowledge = forEvent<C, E, 'EscalationAcknowledged'>('EscalationAcknowledged', (context, { data }) => {
  const tier = context.framework.escalation.tiers[context.tier];
  if (!tier || data.tier !== context.tier) return refuse('escalation.wrong-tier', 'tier', `it is with tier ${context.tier}`);
  return tier.acknowledgedBy.includes(data.by.role)
    ? undefined
    : refuse('escalation.acknowledger', 'actor.role', `at ${tier.title} it is acknowledged by ${tier.acknowledgedBy.join(' or ')}, not ${data.by.role}`);
});

const clinicianRoles = (framework: Ruleset): Role[] => [
  ...new Set(framework.escalation.tiers.flatMap((t) => t.acknowledgedBy).filter((role) => role !== 'care-worker')),
];

const mayResolve = forEvent<C, E, 'EscalationResolved'>('EscalationResolved', (context, { data }) =>
  registeredProfessionalProblem(data.by, clinicianRoles(context.framework), { code: 'escalation.resolver', action: 'Resolving an escalation' }),
);

export const escalationChecks = { mayRaise, isStartTier, isNextTier, isReminder, deadlinePassed, mayAcknowledge, mayResolve };

export const escalationMachine = setup({
  types: {} as { context: EscalationContext; events: EscalationMachineEvent; input: EscalationInput },
  guards: guardsFrom<C, E, keyof typeof escalationChecks>(escalationChecks),
  actions: {
    raise: assign(({ event }) => {
      assertEvent(event, 'EscalationRaised');
      return {
        escalationId: event.data.escalationId,
        patientId: event.data.patientId,
        ruleId: event.data.ruleId,
        urgency: event.data.urgency,
        recordedAwayFromBedside: event.data.recordedAwayFromBedside ?? false,
      };
    }),
    send: assign(({ event }) => {
      assertEvent(event, 'EscalationSentToTier');
      return { tier: event.data.tier, dueAt: event.data.dueAt, nextTier: undefined, sentAt: event.occurredAt, reminders: event.data.reminder ?? 0 };
    }),
    reEscalate: assign(({ event }) => {
      assertEvent(event, 'EscalationReEscalated');
      return { nextTier: event.data.toTier };
    }),
    acknowledge: assign(({ event }) => {
      assertEvent(event, 'EscalationAcknowledged');
      return { acknowledgedBy: event.data.by };
    }),
    resolve: assign(({ event }) => {
      assertEvent(event, 'EscalationResolved');
      return { outcome: event.data.outcome };
    }),
  },
}).createMachine({
  id: 'escalation',
  context: ({ input }) => ({ framework: input.framework, tier: -1 }),
  initial: 'notRaised',
  states: {
    notRaised: { on: { EscalationRaised: { guard: 'mayRaise', target: 'raised', actions: 'raise' } } },
    raised: { on: { EscalationSentToTier: { guard: 'isStartTier', target: 'sentToTier', actions: 'send' } } },
    sentToTier: {
      on: {
        EscalationAcknowledged: { guard: 'mayAcknowledge', target: 'acknowledged', actions: 'acknowledge' },
        EscalationReEscalated: { guard: 'deadlinePassed', target: 'reEscalated', actions: 'reEscalate' },
        // the last tier has nobody further: it is told again until someone acknowledges
        EscalationSentToTier: { guard: 'isReminder', target: 'sentToTier', actions: 'send' },
      },
    },
    reEscalated: { on: { EscalationSentToTier: { guard: 'isNextTier', target: 'sentToTier', actions: 'send' } } },
    acknowledged: { on: { EscalationResolved: { guard: 'mayResolve', target: 'resolved', actions: 'resolve' } } },
    resolved: { type: 'final' },
  },
});

export type EscalationState = SnapshotFrom<typeof escalationMachine>;
export type EscalationStatus = 'notRaised' | 'raised' | 'sentToTier' | 'reEscalated' | 'acknowledged' | 'resolved';

export const ESCALATION_STATE_DESCRIPTIONS: Record<EscalationStatus, string> = {
  notRaised: 'not raised',
  raised: 'raised and not yet sent',
  sentToTier: 'waiting for acknowledgement',
  reEscalated: 'being re-escalated',
  acknowledged: 'acknowledged',
  resolved: 'resolved',
};

const core = decider({
  machine: escalationMachine,
  subject: 'escalation',
  streamField: 'escalationId',
  describeState: ESCALATION_STATE_DESCRIPTIONS,
  checks: escalationChecks as Record<string, Check<C, unknown>>,
});

/** The pure core behind decideEscalation and evolveEscalation: replay machine, refusal reasons, states accepting an event. */
export const escalationDecider = core;
export const escalationReplayMachine = core.replayMachine;
export const initialEscalationState = (framework: Ruleset): EscalationState => core.initialState({ framework });
export const evolveEscalation = (state: EscalationState, event: EscalationMachineEvent): EscalationState => core.evolve(state, event);
export const replayEscalation = (framework: Ruleset, events: readonly EscalationMachineEvent[]): EscalationState => core.replay({ framework }, events);

export interface EscalationDecisionContext {
  readonly actor: Actor;
  /** Who each tier's recipient is now, by name; without it the tiers are sent unnamed (as before recipients were named). */
  readonly recipients?: ResolveRecipients;
}

/** The last tier told again, and the first tier's people with it: nobody has acknowledged yet. */
const remind = (context: C, occurredAt: string, recipients?: ResolveRecipients): EscalationEvent => {
  const { framework, tier } = context;
  const firstTier = framework.escalation.tiers[0]!.recipient;
  return { type: 'EscalationSentToTier', data: { ...tierMessage(framework, tier, context.urgency!, occurredAt, recipients, [firstTier]), reminder: (context.reminders ?? 0) + 1 } };
};

const intend = (state: EscalationState, command: EscalationCommand, actor: Actor, recipients?: ResolveRecipients): EscalationEvent[] => {
  const { context } = state;
  const { framework } = context;
  switch (command.type) {
    case 'RaiseEscalation': {
      const start = startTierOf(framework, command.urgency, command.recordedAwayFromBedside);
      return [
        {
          type: 'EscalationRaised',
          data: {
            escalationId: command.escalationId,
            patientId: command.patientId,
            frameworkId: command.frameworkId,
            frameworkVersion: framework.version,
            ...(command.delegationId ? { delegationId: command.delegationId } : {}),
            ruleId: command.ruleId,
            urgency: command.urgency,
            sbard: command.sbard,
            triggeringEntryIds: command.triggeringEntryIds,
            incident: command.incident ?? false,
            ...(command.recordedAwayFromBedside ? { recordedAwayFromBedside: true } : {}),
            ...(command.visitId ? { visitId: command.visitId } : {}),
          },
        },
        ...(start >= 0 ? sendFrom(framework, start, command.urgency, command.occurredAt, recipients) : []),
      ];
    }
    case 'AcknowledgeEscalation':
      return [{ type: 'EscalationAcknowledged', data: { by: asStaff(actor), tier: context.tier, ...(command.note ? { note: command.note } : {}) } }];
    case 'EscalationDeadlinePassed': {
      if (context.dueAt === null && context.urgency !== undefined) return [remind(context, command.occurredAt, recipients)];
      const next = context.tier + 1;
      const tier = framework.escalation.tiers[context.tier];
      const reEscalated: EscalationEvent = {
        type: 'EscalationReEscalated',
        data: {
          fromTier: context.tier,
          toTier: next,
          missedDueAt: context.dueAt ?? command.occurredAt,
          reason: `Not acknowledged by ${tier?.title ?? `tier ${context.tier}`} by ${context.dueAt ?? 'the deadline'}`,
        },
      };
      const hasNext = next < framework.escalation.tiers.length && context.urgency !== undefined;
      return hasNext
        ? [reEscalated, ...sendFrom(framework, next, context.urgency!, command.occurredAt, recipients)]
        : [reEscalated];
    }
    case 'ResolveEscalation':
      return [{ type: 'EscalationResolved', data: { by: asStaff(actor), outcome: command.outcome } }];
  }
};

/** Decides an escalation command on the state rebuilt from the stream: the events to append, or a refusal with the reason. */
export const decideEscalation = (state: EscalationState, command: EscalationCommand, { actor, recipients }: EscalationDecisionContext): Decision<EscalationEvent> => {
  const { escalationId } = state.context;
  if (escalationId !== undefined && command.escalationId !== escalationId) {
    return { ok: false, refusal: refuse('escalation.wrong-stream', 'escalationId', `this is escalation ${escalationId}`) };
  }
  return core.decideEvents(state, command.type, command.occurredAt, intend(state, command, actor, recipients));
};

/** Open: raised and not yet resolved (shown as an active Flag). */
export const isEscalationOpen = (state: EscalationState): boolean => state.value !== 'notRaised' && state.value !== 'resolved';

const REMINDER_KEY = ':reminder:';

/**
 * A reminder is about now: fired late (the service was down, or the entry came from the past), it
 * is sent at the time it fires, once, and the next is due an interval after that. Replaying every
 * missed reminder at its due time would send a burst of them and none would chase anyone.
 */
export const isEscalationReminder = (command: EscalationCommand): boolean =>
  command.type === 'EscalationDeadlinePassed' && command.idempotencyKey.includes(REMINDER_KEY);

/** The timer the scheduler must hold for this stream: DEADLINE_PASSED at the tier's dueAt while unacknowledged. */
export const escalationTimer = (state: EscalationState): { dueAt: string; command: EscalationCommand } | undefined => {
  const { escalationId, tier } = state.context;
  const reminderAt = state.context.dueAt === null ? reminderDueAt(state.context) : undefined;
  const dueAt = state.context.dueAt ?? reminderAt;
  if (state.value !== 'sentToTier' || !dueAt || !escalationId) return undefined;
  if (reminderAt) {
    const n = (state.context.reminders ?? 0) + 1;
    return { dueAt, command: { type: 'EscalationDeadlinePassed', idempotencyKey: `escalation-${escalationId}${REMINDER_KEY}${tier}:${n}`, occurredAt: dueAt, escalationId } };
  }
  return {
    dueAt,
    command: { type: 'EscalationDeadlinePassed', idempotencyKey: `escalation-${escalationId}:deadline:${tier}:${dueAt}`, occurredAt: dueAt, escalationId },
  };
};
