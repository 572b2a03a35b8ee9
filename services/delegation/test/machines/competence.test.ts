import { insulinAdministration, resolveFramework } from '../../src/frameworks';
import { competenceSnapshotOf, decideCompetence, evolveCompetence, replayCompetence } from '../../src/machines';
import { amira, ben, drShah, FakeClock, insulin, manager, nadia, owen, scheduler, Stream, unregisteredNurse, uti } from '../fixtures';
import { competenceCommand, competenceStream, trainAndSignOff, type CompetenceStream } from '../stories';

const startedOn = '2025-03-03T09:00:00Z';

/** Amira in training on insulin, every module done: supervised practice next. */
const inSupervisedPractice = (framework = insulin) => {
  const clock = new FakeClock(startedOn);
  const stream = competenceStream(framework);
  stream.ok(nadia, competenceCommand(clock, amira, framework, { type: 'StartTraining' }));
  for (const m of framework.competence.trainingModules) stream.ok(nadia, competenceCommand(clock, amira, framework, { type: 'CompleteTrainingModule', moduleId: m.id }));
  return { clock, stream, say: (actor = nadia, command: Parameters<typeof competenceCommand>[3]) => stream.run(actor, competenceCommand(clock, amira, framework, command)) };
};

const practise = (stream: CompetenceStream, clock: FakeClock, actor = nadia, outcome: 'satisfactory' | 'needs-more-practice' = 'satisfactory') =>
  stream.run(actor, competenceCommand(clock, amira, insulin, { type: 'RecordSupervisedPractice', outcome }));

describe('training', () => {
  it('is delegated only to the roles the framework names', () => {
    const clock = new FakeClock(startedOn);
    const refusal = competenceStream(insulin).refused(nadia, competenceCommand(clock, owen, insulin, { type: 'StartTraining' }));
    expect(refusal).toMatchObject({ code: 'competence.role-not-eligible', field: 'careWorker.role' });
  });

  it('counts each of the framework\'s modules once, and only those', () => {
    const clock = new FakeClock(startedOn);
    const stream = competenceStream(insulin);
    stream.ok(nadia, competenceCommand(clock, amira, insulin, { type: 'StartTraining' }));
    expect(stream.refused(nadia, competenceCommand(clock, amira, insulin, { type: 'CompleteTrainingModule', moduleId: 'first-aid' }))).toMatchObject({
      code: 'competence.unknown-module',
      field: 'moduleId',
    });
    stream.ok(nadia, competenceCommand(clock, amira, insulin, { type: 'CompleteTrainingModule', moduleId: 'insulin-safety' }));
    expect(stream.refused(nadia, competenceCommand(clock, amira, insulin, { type: 'CompleteTrainingModule', moduleId: 'insulin-safety' })).code).toBe(
      'competence.module-already-completed',
    );
    expect(stream.state.value).toBe('inTraining');
  });

  it('records what the framework asked when training started', () => {
    const { stream } = inSupervisedPractice();
    expect(stream.last('TrainingStarted').requirements).toEqual({
      trainingModules: ['diabetes-awareness', 'blood-glucose-monitoring', 'subcutaneous-insulin-by-pen', 'hypo-and-hyperglycaemia', 'insulin-safety'],
      supervisedPractices: 3,
      reassessmentMonths: 12,
    });
  });
});

describe('supervised practice: n of N, each observed by a named registered professional', () => {
  it.each([
    ['a care worker', ben, 'competence.observer.role-not-allowed', 'actor.role'],
    ['a nurse with no registration on record', unregisteredNurse, 'competence.observer.registration-required', 'actor.registration'],
    ['a GP (insulin practice is assessed by district nurses)', drShah, 'competence.observer.role-not-allowed', 'actor.role'],
    ['a nurse registered on the wrong register', { ...owen, registration: { system: 'https://fhir.hl7.org.uk/Id/gmc-number' as const, value: '123' } }, 'competence.observer.wrong-register', 'actor.registration.system'],
    ['Amira herself', amira, 'competence.observer.role-not-allowed', 'actor.role'],
  ])('is not observed by %s', (_who, actor, code, field) => {
    const { stream, clock } = inSupervisedPractice();
    expect(stream.refused(actor, competenceCommand(clock, amira, insulin, { type: 'RecordSupervisedPractice', outcome: 'satisfactory' }))).toMatchObject({ code, field });
  });

  it('counts only satisfactory practices, and is ready for assessment at the third', () => {
    const { stream, clock } = inSupervisedPractice();
    practise(stream, clock);
    practise(stream, clock, owen, 'needs-more-practice');
    practise(stream, clock, owen);
    expect(stream.state.value).toBe('supervisedPractice');
    expect(stream.last('SupervisedPracticeRecorded')).toMatchObject({ satisfactoryCount: 2, required: 3, observer: { practitionerId: 'owen' } });
    const third = practise(stream, clock);
    expect(third.ok && third.events.map((e) => e.type)).toEqual(['SupervisedPracticeRecorded', 'ReadyForAssessment']);
    expect(stream.state.value).toBe('readyForAssessment');
  });

  it('an assessment not passed goes back to supervised practice, counted again from zero', () => {
    const { stream, clock } = inSupervisedPractice();
    for (let i = 0; i < 3; i++) practise(stream, clock);
    stream.ok(nadia, competenceCommand(clock, amira, insulin, { type: 'RecordAssessmentNotPassed', feedback: 'Site rotation not yet consistent.' }));
    expect(stream.state.value).toBe('supervisedPractice');
    expect(stream.state.context.satisfactoryPractices).toBe(0);
  });
});

describe('sign-off', () => {
  const ready = () => {
    const s = inSupervisedPractice();
    for (let i = 0; i < 3; i++) practise(s.stream, s.clock);
    return s;
  };

  it('is valid for the framework\'s reassessment interval by default (12 months, LOCAL)', () => {
    const { stream, clock } = ready();
    stream.ok(nadia, competenceCommand(clock, amira, insulin, { type: 'SignOffCompetence', careWorkerConsent: true }));
    expect(stream.last('CompetenceSignedOff').validUntil).toBe('2026-03-03T09:00:00.000Z');
    expect(competenceSnapshotOf(stream.state)).toEqual({ careWorkerId: 'amira', frameworkId: insulin.id, status: 'signedOff', validUntil: '2026-03-03T09:00:00.000Z' });
  });

  it.each([
    ['after the interval', '2026-03-04T09:00:00Z', 'competence.valid-until-too-late'],
    ['at the sign-off itself', startedOn, 'competence.valid-until-not-after-sign-off'],
  ])('refuses a validUntil %s', (_when, validUntil, code) => {
    const { stream, clock } = ready();
    expect(stream.refused(nadia, competenceCommand(clock, amira, insulin, { type: 'SignOffCompetence', careWorkerConsent: true, validUntil }))).toMatchObject({
      code,
      field: 'validUntil',
    });
  });

  it('needs a registered assessor of the framework\'s professions: not a registered manager', () => {
    const { stream, clock } = ready();
    expect(stream.refused(manager, competenceCommand(clock, amira, insulin, { type: 'SignOffCompetence', careWorkerConsent: true })).code).toBe(
      'competence.sign-off.role-not-allowed',
    );
  });
});

describe('after sign-off', () => {
  const signedOff = () => {
    const clock = new FakeClock(startedOn);
    return { clock, stream: trainAndSignOff(clock, amira, insulin, nadia) };
  };

  it('suspended with a reason, reinstated by a registered nurse while still valid', () => {
    const { stream, clock } = signedOff();
    stream.ok(nadia, competenceCommand(clock, amira, insulin, { type: 'SuspendCompetence', reason: 'Dose given at the wrong time; under review' }));
    expect(stream.state.value).toBe('suspended');
    expect(stream.refused(manager, competenceCommand(clock, amira, insulin, { type: 'ReinstateCompetence', reason: 'ok' })).code).toBe('competence.change.role-not-allowed');
    stream.ok(owen, competenceCommand(clock, amira, insulin, { type: 'ReinstateCompetence', reason: 'Reviewed: refresher completed' }));
    expect(stream.state.value).toBe('signedOff');
  });

  it('not reinstated once its validUntil has passed: it lapses instead, and is reassessed', () => {
    const { stream, clock } = signedOff();
    stream.ok(nadia, competenceCommand(clock, amira, insulin, { type: 'SuspendCompetence', reason: 'Under review' }));
    clock.set(stream.state.context.validUntil!);
    expect(stream.refused(nadia, competenceCommand(clock, amira, insulin, { type: 'ReinstateCompetence', reason: 'Cleared' })).code).toBe(
      'competence.expired-while-suspended',
    );
    stream.ok(scheduler, competenceCommand(clock, amira, insulin, { type: 'ExpireCompetence' }));
    expect(stream.state.value).toBe('lapsed');
    stream.ok(nadia, competenceCommand(clock, amira, insulin, { type: 'SignOffCompetence', careWorkerConsent: true }));
    expect(stream.state.value).toBe('signedOff');
  });

  it('revoked with a reason; retrained from the start afterwards', () => {
    const { stream, clock } = signedOff();
    stream.ok(nadia, competenceCommand(clock, amira, insulin, { type: 'RevokeCompetence', reason: 'Falsified a record' }));
    expect(stream.state.value).toBe('revoked');
    stream.ok(nadia, competenceCommand(clock, amira, insulin, { type: 'StartTraining' }));
    expect(stream.state.context).toMatchObject({ modulesCompleted: [], satisfactoryPractices: 0, validUntil: undefined });
  });

  it('a command for another care worker\'s record is refused', () => {
    const { stream, clock } = signedOff();
    expect(stream.refused(nadia, competenceCommand(clock, ben, insulin, { type: 'SuspendCompetence', reason: 'x'.repeat(12) }))).toMatchObject({
      code: 'competence.wrong-stream',
      field: 'careWorkerId',
    });
    expect(stream.refused(nadia, competenceCommand(clock, amira, uti, { type: 'SuspendCompetence', reason: 'x'.repeat(12) }))).toMatchObject({
      code: 'competence.wrong-framework',
      field: 'frameworkId',
    });
  });
});

describe('local settings and replay', () => {
  const fiveObserved = resolveFramework(insulinAdministration, {
    organisationId: 'leeds-community',
    frameworkId: 'insulin-administration',
    settings: { 'competence.supervised-practices': 5 },
  });

  it('an organisation that asks for five supervised practices gets five', () => {
    const { stream, clock } = inSupervisedPractice(fiveObserved);
    for (let i = 0; i < 4; i++) stream.run(nadia, competenceCommand(clock, amira, fiveObserved, { type: 'RecordSupervisedPractice', outcome: 'satisfactory' }));
    expect(stream.state.value).toBe('supervisedPractice');
    stream.run(nadia, competenceCommand(clock, amira, fiveObserved, { type: 'RecordSupervisedPractice', outcome: 'satisfactory' }));
    expect(stream.state.value).toBe('readyForAssessment');
  });

  it('a care worker who started training under three is held to three when the organisation moves to five', () => {
    const { stream, clock } = inSupervisedPractice(insulin);
    practise(stream, clock);
    practise(stream, clock);
    const underFive = new Stream(replayCompetence(fiveObserved, stream.events), decideCompetence, evolveCompetence);
    underFive.ok(nadia, competenceCommand(clock, amira, fiveObserved, { type: 'RecordSupervisedPractice', outcome: 'satisfactory' }));
    expect(underFive.state.value).toBe('readyForAssessment');
  });

  it('an old stream replays under any later framework version: stored events are never re-judged', () => {
    const clock = new FakeClock(startedOn);
    const stream = trainAndSignOff(clock, amira, insulin, nadia);
    // the framework changed since: the stored events are facts, and replay never re-judges them
    const replayed = replayCompetence({ ...fiveObserved, mayReceive: ['district-nurse'], competence: { ...fiveObserved.competence, assessors: ['gp'] } }, stream.events);
    expect(replayed.value).toBe('signedOff');
    expect(replayed.context.requirements?.supervisedPractices).toBe(3);
  });

  it('a stream that is corrupt (an event its state can never take) is not silently replayed', () => {
    const clock = new FakeClock(startedOn);
    const stream = trainAndSignOff(clock, amira, insulin, nadia);
    const [first, ...rest] = stream.events;
    expect(() => replayCompetence(insulin, [...rest, first!])).toThrow('competence stream: TrainingModuleCompleted cannot follow a competence that is not started');
  });
});
