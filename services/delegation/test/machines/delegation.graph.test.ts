import type { Actor, DelegationCommand, RegisteredProfessional } from '@tandem/contracts';
import { getShortestPaths } from 'xstate/graph';
import {
  addDays,
  addMonths,
  decideDelegation,
  delegationDecider,
  delegationMachine,
  replayDelegation,
  type DelegationMachineEvent,
  type DelegationState,
} from '../../src/machines';
import { amira, insulin, MR_JONES, nadia, scheduler } from '../fixtures';
import { eventsOf, shortestByState, statesOf, typesOf } from '../graph';
import { EVENING_INSULIN } from '../stories';

const T = '2025-03-03T09:00:00.000Z';
const nurse: RegisteredProfessional = { practitionerId: nadia.id, role: nadia.role, registration: nadia.registration! };
const careWorker = { practitionerId: 'amira', role: 'care-worker' as const };
const competence = { careWorkerId: 'amira', frameworkId: insulin.id, status: 'signedOff' as const, validUntil: addMonths(T, 12) };
const eligibility = { ageYears: 78, diabetesStable: true, insulinDevice: 'pen' };

/** One valid event of every type, as it would be in this state. */
const eventsFor = (state: DelegationState): DelegationMachineEvent[] => {
  const dueAt = state.context.reviewDueAt ?? addDays(T, 90);
  return [
    {
      type: 'DelegationProposed',
      occurredAt: T,
      data: {
        delegationId: 'd1',
        patientId: MR_JONES,
        frameworkId: insulin.id,
        frameworkVersion: 1,
        activityId: 'insulin-administration',
        delegatedBy: nurse,
        careWorker,
        instruction: EVENING_INSULIN,
        eligibility,
        reviewIntervalDays: 90,
      },
    },
    { type: 'DelegationAccepted', occurredAt: T, data: { careWorker } },
    { type: 'DelegationDeclined', occurredAt: T, data: { careWorker } },
    { type: 'PersonAgreementRecorded', occurredAt: T, data: { agreedBy: 'person' } },
    { type: 'DelegationActivated', occurredAt: T, data: { activatedBy: nurse, competence, reviewDueAt: addDays(T, 90) } },
    { type: 'ReviewDue', occurredAt: dueAt, data: { dueAt } },
    { type: 'DelegationReviewed', occurredAt: T, data: { reviewedBy: nurse, notes: 'Going well', nextReviewDueAt: addDays(T, 90) } },
    { type: 'DelegationSuspended', occurredAt: T, data: { by: nurse, cause: 'decision', reason: 'Hospital admission' } },
    { type: 'DelegationWithdrawn', occurredAt: T, data: { by: nurse, reason: 'Insulin regime changed to a pump' } },
    { type: 'DelegationEnded', occurredAt: T, data: { by: nurse, reason: 'Mr Jones moved to a nursing home' } },
  ];
};

const paths = getShortestPaths(delegationMachine, {
  input: { framework: insulin },
  events: eventsFor,
  serializeState: (s) => JSON.stringify({ value: s.value, agreed: s.context.personAgreed, reviewDueAt: s.context.reviewDueAt }),
});
const byState = shortestByState(paths);
const toActive = ['DelegationProposed', 'DelegationAccepted', 'PersonAgreementRecorded', 'DelegationActivated'];

describe('delegation machine: walking its graph', () => {
  it('reaches every state', () => {
    expect([...byState.keys()].sort()).toEqual(statesOf(delegationMachine));
  });

  it.each([
    ['notProposed', []],
    ['proposed', ['DelegationProposed']],
    ['accepted', ['DelegationProposed', 'DelegationAccepted']],
    ['declined', ['DelegationProposed', 'DelegationDeclined']],
    ['withdrawn', ['DelegationProposed', 'DelegationWithdrawn']],
    ['active', toActive],
    ['reviewDue', [...toActive, 'ReviewDue']],
    ['suspended', [...toActive, 'DelegationSuspended']],
    ['ended', [...toActive, 'DelegationEnded']],
  ])('the shortest path to %s', (state, types) => {
    const path = byState.get(state)!;
    expect(typesOf(path)).toEqual(types);
    expect(path.state.value).toBe(state);
    expect(replayDelegation(insulin, eventsOf(path)).value).toBe(state);
  });

  it('every path found ends in the state it claims, on replay too', () => {
    for (const path of paths) expect(replayDelegation(insulin, eventsOf(path)).value).toBe(path.state.value);
  });

  it('declined, withdrawn and ended are final', () => {
    for (const state of ['declined', 'withdrawn', 'ended']) expect(byState.get(state)!.state.status).toBe('done');
  });

  it('in every state, an event it does not allow is refused with a reason, and one it allows is not', () => {
    for (const [state, path] of byState) {
      for (const event of eventsFor(path.state)) {
        const refusal = delegationDecider.refusalFor(path.state, event, event.type);
        const expected = path.state.can(event) ? undefined : { code: expect.any(String), field: expect.any(String), reason: expect.stringMatching(/.{20,}/) };
        expect({ state, event: event.type, refusal }).toEqual({ state, event: event.type, refusal: expected });
      }
    }
  });
});

/** One command of every kind, from the right actor, at a time the state allows. */
const commandsFor = (state: DelegationState): [DelegationCommand, Actor][] => {
  const base = { idempotencyKey: 'k', occurredAt: T, delegationId: 'd1' };
  return [
    [
      {
        type: 'ProposeDelegation',
        ...base,
        patientId: MR_JONES,
        frameworkId: insulin.id,
        activityId: 'insulin-administration',
        careWorker,
        instruction: EVENING_INSULIN,
        eligibility,
      },
      nadia,
    ],
    [{ type: 'AcceptDelegation', ...base }, amira],
    [{ type: 'DeclineDelegation', ...base }, amira],
    [{ type: 'RecordPersonAgreement', ...base, agreement: { agreedBy: 'representative', representative: { name: 'Ann Jones', relationship: 'daughter' } } }, nadia],
    [{ type: 'ActivateDelegation', ...base, competence }, nadia],
    [{ type: 'MarkReviewDue', ...base, occurredAt: state.context.reviewDueAt ?? T }, scheduler],
    [{ type: 'ReviewDelegation', ...base, notes: 'Reviewed with Amira and Mr Jones' }, nadia],
    [{ type: 'SuspendDelegation', ...base, reason: 'Admitted to hospital' }, nadia],
    [{ type: 'SuspendDelegationForCompetence', ...base, change: 'revoked' }, scheduler],
    [{ type: 'WithdrawDelegation', ...base, reason: 'No longer needed' }, nadia],
    [{ type: 'EndDelegation', ...base, reason: 'Course completed' }, nadia],
  ];
};

const suspensions = ['SuspendDelegation', 'SuspendDelegationForCompetence'];
const allowed: Record<string, string[]> = {
  notProposed: ['ProposeDelegation'],
  proposed: ['AcceptDelegation', 'DeclineDelegation', 'RecordPersonAgreement', 'WithdrawDelegation'],
  // accepted without the person's agreement yet: activation is refused by its guard (below)
  accepted: ['RecordPersonAgreement', 'WithdrawDelegation'],
  declined: [],
  active: ['MarkReviewDue', 'ReviewDelegation', ...suspensions, 'WithdrawDelegation', 'EndDelegation'],
  reviewDue: ['ReviewDelegation', ...suspensions, 'WithdrawDelegation', 'EndDelegation'],
  suspended: ['ActivateDelegation', 'WithdrawDelegation', 'EndDelegation'],
  withdrawn: [],
  ended: [],
};
/** Refusals by a guard (the state takes the event, the circumstances do not allow it). */
const refusedByGuard: Record<string, Record<string, string>> = {
  accepted: { ActivateDelegation: 'delegation.person-agreement-required' },
};

describe('delegation decide: every command in every state', () => {
  const table = Object.entries(allowed).flatMap(([state, commands]) =>
    commandsFor(byState.get(state)!.state).map(([command, actor]) => [state, command.type, commands.includes(command.type), command, actor] as const),
  );

  it.each(table)('%s: %s allowed %p', (state, type, isAllowed, command, actor) => {
    const decision = decideDelegation(byState.get(state)!.state, command, { actor });
    if (isAllowed) {
      expect(decision).toMatchObject({ ok: true });
      return;
    }
    expect(decision.ok).toBe(false);
    if (decision.ok) return;
    const byGuard = refusedByGuard[state]?.[type];
    expect(decision.refusal.code).toBe(byGuard ?? 'delegation.not-allowed-in-state');
    if (!byGuard) expect(decision.refusal.reason).toContain(`${type} is not allowed: the delegation is`);
  });
});
