import type { CompetenceCommand } from '@tandem/contracts';
import { getShortestPaths } from 'xstate/graph';
import {
  competenceDecider,
  competenceMachine,
  decideCompetence,
  replayCompetence,
  type CompetenceState,
} from '../../src/machines';
import { amira, insulin, nadia, scheduler } from '../fixtures';
import { competenceEventsFor, competenceSerialized, eventsOf, shortestByState, statesOf, typesOf } from '../graph';

const T = '2025-03-03T09:00:00.000Z';
const modules = insulin.competence.trainingModules.map((m) => m.id);
const eventsFor = competenceEventsFor(insulin, T);

const paths = getShortestPaths(competenceMachine, {
  input: { framework: insulin },
  events: eventsFor,
  serializeState: competenceSerialized,
});
const byState = shortestByState(paths);

const signedOffPath = [
  'TrainingStarted',
  ...modules.map(() => 'TrainingModuleCompleted'),
  'TrainingCompleted',
  'SupervisedPracticeRecorded',
  'SupervisedPracticeRecorded',
  'SupervisedPracticeRecorded',
  'ReadyForAssessment',
  'CompetenceSignedOff',
];

describe('competence machine: walking its graph', () => {
  it('reaches every state', () => {
    expect([...byState.keys()].sort()).toEqual(statesOf(competenceMachine));
  });

  it.each([
    ['notStarted', []],
    ['inTraining', ['TrainingStarted']],
    ['supervisedPractice', signedOffPath.slice(0, 7)],
    ['readyForAssessment', signedOffPath.slice(0, 11)],
    ['signedOff', signedOffPath],
    ['lapsed', [...signedOffPath, 'CompetenceLapsed']],
    ['suspended', [...signedOffPath, 'CompetenceSuspended']],
    ['revoked', [...signedOffPath, 'CompetenceRevoked']],
  ])('the shortest path to %s', (state, types) => {
    const path = byState.get(state)!;
    expect(typesOf(path)).toEqual(types);
    expect(path.state.value).toBe(state);
    // the stream of those events replays to the same state
    expect(replayCompetence(insulin, eventsOf(path)).value).toBe(state);
  });

  it('every path found ends in the state it claims, on replay too', () => {
    for (const path of paths) expect(replayCompetence(insulin, eventsOf(path)).value).toBe(path.state.value);
  });

  it('in every state, an event it does not allow is refused with a reason, and one it allows is not', () => {
    for (const [state, path] of byState) {
      for (const event of eventsFor(path.state)) {
        const refusal = competenceDecider.refusalFor(path.state, event, event.type);
        const expected = path.state.can(event) ? undefined : { code: expect.any(String), field: expect.any(String), reason: expect.stringMatching(/.{20,}/) };
        expect({ state, event: event.type, refusal }).toEqual({ state, event: event.type, refusal: expected });
      }
    }
  });
});

/** One command of every kind, from the right actor, at a time the state allows. */
const commandsFor = (state: CompetenceState): [CompetenceCommand, typeof nadia][] => {
  const base = { idempotencyKey: 'k', occurredAt: T, careWorkerId: 'amira', frameworkId: insulin.id };
  return [
    [{ type: 'StartTraining', idempotencyKey: 'k', occurredAt: T, frameworkId: insulin.id, careWorker: { practitionerId: 'amira', role: 'care-worker' } }, nadia],
    [{ type: 'CompleteTrainingModule', ...base, moduleId: modules[0]! }, nadia],
    [{ type: 'RecordSupervisedPractice', ...base, outcome: 'satisfactory' }, nadia],
    [{ type: 'SignOffCompetence', ...base, careWorkerConsent: true }, nadia],
    [{ type: 'RecordAssessmentNotPassed', ...base, feedback: 'Not yet' }, nadia],
    [{ type: 'ExpireCompetence', ...base, occurredAt: state.context.validUntil ?? T }, scheduler],
    [{ type: 'SuspendCompetence', ...base, reason: 'Under investigation' }, nadia],
    [{ type: 'RevokeCompetence', ...base, reason: 'Unsafe' }, nadia],
    [{ type: 'ReinstateCompetence', ...base, reason: 'Cleared' }, nadia],
  ];
};

const allowed: Record<string, string[]> = {
  notStarted: ['StartTraining'],
  inTraining: ['CompleteTrainingModule'],
  supervisedPractice: ['RecordSupervisedPractice'],
  readyForAssessment: ['SignOffCompetence', 'RecordAssessmentNotPassed'],
  signedOff: ['SignOffCompetence', 'ExpireCompetence', 'SuspendCompetence', 'RevokeCompetence'],
  suspended: ['ExpireCompetence', 'RevokeCompetence', 'ReinstateCompetence'],
  lapsed: ['StartTraining', 'SignOffCompetence'],
  revoked: ['StartTraining'],
};

describe('competence decide: every command in every state', () => {
  const table = Object.entries(allowed).flatMap(([state, commands]) =>
    commandsFor(byState.get(state)!.state).map(([command, actor]) => [state, command.type, commands.includes(command.type), command, actor] as const),
  );

  it.each(table)('%s: %s allowed %p', (state, _type, isAllowed, command, actor) => {
    const decision = decideCompetence(byState.get(state)!.state, command, { actor });
    if (isAllowed) {
      expect(decision).toMatchObject({ ok: true });
    } else {
      expect(decision.ok).toBe(false);
      if (decision.ok) return;
      expect(decision.refusal.code).toBe('competence.not-allowed-in-state');
      expect(decision.refusal.field).toBe('careWorkerId');
      expect(decision.refusal.reason).toContain(`${command.type} is not allowed: the competence is`);
    }
  });
});

it('care worker Amira is never the one who signs off: a refusal names the rule', () => {
  const ready = byState.get('readyForAssessment')!.state;
  const decision = decideCompetence(ready, { type: 'SignOffCompetence', idempotencyKey: 'k', occurredAt: T, careWorkerId: 'amira', frameworkId: insulin.id, careWorkerConsent: true }, { actor: amira });
  expect(decision).toMatchObject({ ok: false, refusal: { code: 'competence.sign-off.role-not-allowed', field: 'actor.role' } });
});
