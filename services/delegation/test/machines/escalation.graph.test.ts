import type { Actor, EscalationCommand, StaffMember, Urgency } from '@tandem/contracts';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import {
  decideEscalation,
  escalationDecider,
  escalationMachine,
  replayEscalation,
  startTierOf,
  tierMessage,
  type EscalationMachineEvent,
  type EscalationState,
} from '../../src/machines';
import { insulin, MR_JONES, nadia, scheduler } from '../fixtures';
import { eventsOf, shortestByState, statesOf, typesOf } from '../graph';

const T = '2025-03-06T17:45:00.000Z';
const nurse: StaffMember = { practitionerId: nadia.id, role: nadia.role, registration: nadia.registration! };
const sbard = {
  situation: 'Blood glucose 3.4 mmol/L',
  background: 'Insulin delegated',
  assessment: 'Hypoglycaemia',
  recommendation: 'Review the dose',
  decision: 'Urgent clinical review',
};

/** One valid event of every type, as it would be in this state (the next tier, the current deadline). */
const eventsFor =
  (urgency: Urgency) =>
  (state: EscalationState): EscalationMachineEvent[] => {
    const { tier, dueAt, nextTier } = state.context;
    const sendTo = nextTier ?? startTierOf(insulin, urgency);
    return [
      {
        type: 'EscalationRaised',
        occurredAt: T,
        data: {
          escalationId: 'e1',
          patientId: MR_JONES,
          frameworkId: insulin.id,
          frameworkVersion: 1,
          ruleId: 'insulin.hypo',
          urgency,
          sbard,
          triggeringEntryIds: [],
          incident: false,
        },
      },
      ...(sendTo < insulin.escalation.tiers.length ? [{ type: 'EscalationSentToTier' as const, occurredAt: T, data: tierMessage(insulin, sendTo, urgency, T) }] : []),
      { type: 'EscalationAcknowledged', occurredAt: T, data: { by: nurse, tier } },
      {
        type: 'EscalationReEscalated',
        occurredAt: dueAt ?? T,
        data: { fromTier: tier, toTier: tier + 1, missedDueAt: dueAt ?? T, reason: 'Not acknowledged in time' },
      },
      { type: 'EscalationResolved', occurredAt: T, data: { by: nurse, outcome: 'Dose reduced' } },
    ];
  };

const walk = (urgency: Urgency) =>
  getShortestPaths(escalationMachine, {
    input: { framework: insulin },
    events: eventsFor(urgency),
    serializeState: (s) => JSON.stringify({ value: s.value, tier: s.context.tier, next: s.context.nextTier }),
  });

const urgentPaths = walk('urgent');
const byState = shortestByState(urgentPaths);

describe('escalation machine: walking its graph', () => {
  it('reaches every state', () => {
    expect([...byState.keys()].sort()).toEqual(statesOf(escalationMachine));
  });

  it.each([
    ['notRaised', []],
    ['raised', ['EscalationRaised']],
    ['sentToTier', ['EscalationRaised', 'EscalationSentToTier']],
    ['reEscalated', ['EscalationRaised', 'EscalationSentToTier', 'EscalationReEscalated']],
    ['acknowledged', ['EscalationRaised', 'EscalationSentToTier', 'EscalationAcknowledged']],
    ['resolved', ['EscalationRaised', 'EscalationSentToTier', 'EscalationAcknowledged', 'EscalationResolved']],
  ])('the shortest path to %s', (state, types) => {
    const path = byState.get(state)!;
    expect(typesOf(path)).toEqual(types);
    expect(replayEscalation(insulin, eventsOf(path)).value).toBe(state);
  });

  it('an urgent escalation can reach every tier, one re-escalation per tier, and no further than the last', () => {
    const tiers = urgentPaths.filter((p) => p.state.value === 'sentToTier').map((p) => [p.state.context.tier, typesOf(p).filter((t) => t === 'EscalationReEscalated').length]);
    expect(tiers.sort()).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
  });

  it('an emergency goes straight to the 999 advice tier with the nurse informed, and has nowhere further to go', () => {
    const emergency = shortestByState(walk('emergency'));
    const sent = emergency.get('sentToTier')!;
    expect(sent.state.context).toMatchObject({ tier: 2, dueAt: null });
    expect(eventsOf(sent)[1]).toMatchObject({ data: { tierId: 'nhs-111-999-advice', informed: ['accountable-district-nurse'], dueAt: null } });
    expect(emergency.has('reEscalated')).toBe(false);
  });

  it('there is one way only to each step of an escalation (its graph is a tree), and every simple path replays to its state', () => {
    const simple = getSimplePaths(escalationMachine, {
      input: { framework: insulin },
      events: eventsFor('urgent'),
      serializeState: (s) => JSON.stringify({ value: s.value, tier: s.context.tier, next: s.context.nextTier }),
    });
    expect(simple.length).toBe(urgentPaths.length);
    for (const path of simple) expect(replayEscalation(insulin, eventsOf(path)).value).toBe(path.state.value);
  });

  it('in every state, an event it does not allow is refused with a reason, and one it allows is not', () => {
    for (const path of urgentPaths) {
      for (const event of eventsFor('urgent')(path.state)) {
        const refusal = escalationDecider.refusalFor(path.state, event, event.type);
        const expected = path.state.can(event) ? undefined : { code: expect.any(String), field: expect.any(String), reason: expect.stringMatching(/.{20,}/) };
        expect({ state: path.state.value, tier: path.state.context.tier, event: event.type, refusal }).toEqual({
          state: path.state.value,
          tier: path.state.context.tier,
          event: event.type,
          refusal: expected,
        });
      }
    }
  });
});

const commandsFor = (state: EscalationState): [EscalationCommand, Actor][] => {
  const base = { idempotencyKey: 'k', occurredAt: T, escalationId: 'e1' };
  return [
    [{ type: 'RaiseEscalation', ...base, patientId: MR_JONES, frameworkId: insulin.id, ruleId: 'insulin.hypo', urgency: 'urgent', sbard, triggeringEntryIds: [] }, scheduler],
    [{ type: 'AcknowledgeEscalation', ...base }, nadia],
    [{ type: 'EscalationDeadlinePassed', ...base, occurredAt: state.context.dueAt ?? T }, scheduler],
    [{ type: 'ResolveEscalation', ...base, outcome: 'Reviewed' }, nadia],
  ];
};

const allowed: Record<string, string[]> = {
  notRaised: ['RaiseEscalation'],
  raised: [],
  sentToTier: ['AcknowledgeEscalation', 'EscalationDeadlinePassed'],
  reEscalated: [],
  acknowledged: ['ResolveEscalation'],
  resolved: [],
};

describe('escalation decide: every command in every state', () => {
  const table = Object.entries(allowed).flatMap(([state, commands]) =>
    commandsFor(byState.get(state)!.state).map(([command, actor]) => [state, command.type, commands.includes(command.type), command, actor] as const),
  );

  it.each(table)('%s: %s allowed %p', (state, type, isAllowed, command, actor) => {
    const decision = decideEscalation(byState.get(state)!.state, command, { actor });
    if (isAllowed) {
      expect(decision).toMatchObject({ ok: true });
      return;
    }
    expect(decision).toMatchObject({ ok: false, refusal: { code: 'escalation.not-allowed-in-state', field: 'escalationId' } });
    if (!decision.ok) expect(decision.refusal.reason).toContain(`${type} is not allowed: the escalation is`);
  });
});
