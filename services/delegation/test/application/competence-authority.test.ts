import type { Actor } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import { DelegationCommandRefused } from '../../src/application/errors';
import { competencyStreamId, delegationStreamId } from '../../src/application/streams';
import { restorationsFor } from '../../src/reactions/competence';
import { amira, CARE_AGENCY, EVENING_INSULIN, Harness, key, sarah } from './harness';

/**
 * Who may act on a competence (docs/decisions/0012-competence-authority.md), on a real store:
 * the nursing team that trained the care worker, as the competency stream records it; the
 * registered manager of the care worker's employer may suspend for safeguarding; nobody else.
 * Identity facts are read from the practitioners' own records, never trusted from a token.
 * Reinstating restores exactly the delegations the suspension suspended.
 */

const NMC = 'https://fhir.hl7.org.uk/Id/nmc-number' as const;
const FRAMEWORK = 'insulin-administration';
const SOUTH_TEAM = 'org-south-district-nursing';

/** Zoe: a registered district nurse, of another team. */
const zoe: Actor = { id: 'nurse-zoe-adams', role: 'district-nurse', registration: { system: NMC, value: '15C7788E' }, organisation: SOUTH_TEAM };
/** The registered manager of Kindly Care, Amira's employer; and of another agency. */
const kindlyManager: Actor = { id: 'manager-kindly', role: 'registered-manager', organisation: CARE_AGENCY };
const otherManager: Actor = { id: 'manager-elsewhere', role: 'registered-manager', organisation: 'org-other-agency' };

/** Refused with this status, naming this field; returns the refusal. */
const refusedWith = async (attempt: Promise<unknown>, status: number, field: string) => {
  const error = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DelegationCommandRefused);
  const refused = error as DelegationCommandRefused;
  expect({ status: refused.status, field: refused.refusal.field }).toEqual({ status, field });
  return refused.refusal;
};

const NHS_WEIGHTS = [10, 9, 8, 7, 6, 5, 4, 3, 2];
/** A valid NHS number from nine digits (modulus 11), for people registered in these stories. */
const nhsNumber = (nine: string): string => {
  const check = 11 - (NHS_WEIGHTS.reduce((sum, w, i) => sum + w * Number(nine[i]), 0) % 11);
  if (check === 10) throw new Error(`${nine} has no valid check digit`);
  return `${nine}${check === 11 ? 0 : check}`;
};

describe('competence authority: the assessing team, the safeguarding manager, nobody else', () => {
  let h: Harness;
  const competency = competencyStreamId(amira.id, FRAMEWORK);
  const competence = () => ({ idempotencyKey: key('c'), occurredAt: h.now(), careWorkerId: amira.id, frameworkId: FRAMEWORK });

  beforeAll(async () => {
    h = await Harness.create('2025-03-03T09:00:00Z');
    await h.registerPractitioner(zoe, SOUTH_TEAM);
    await h.registerPractitioner(kindlyManager, CARE_AGENCY);
    await h.registerPractitioner(otherManager, 'org-other-agency');
    await h.trainAndSignOff(amira);
    await h.delegateInsulin('jones-evening-insulin');
    await h.settle();
  });
  afterAll(() => h.close());

  it('given training by Sarah (north team), the competency stream records her team as the assessing team', async () => {
    const [started] = await h.eventsOf(competency);
    expect(started!.data).toMatchObject({
      assessingTeam: { organisationId: 'org-north-district-nursing', startedBy: { practitionerId: sarah.id, registration: sarah.registration } },
    });
  });

  it('when Zoe (south team) suspends Amira’s competence: refused 403, no event, the delegation stays active', async () => {
    const before = (await h.eventsOf(competency)).length;
    const refusal = await refusedWith(h.core.commands.competence({ ...competence(), type: 'SuspendCompetence', reason: 'Concern raised' }, zoe), 403, 'actor');
    expect(refusal.code).toBe('competence.not-authorised');
    expect(refusal.reason).toContain('org-north-district-nursing');
    expect(await h.eventsOf(competency)).toHaveLength(before);
    for (const type of ['RevokeCompetence', 'RecordAssessmentNotPassed'] as const) {
      const command = type === 'RevokeCompetence' ? { ...competence(), type, reason: 'x' } : { ...competence(), type, feedback: 'x' };
      await refusedWith(h.core.commands.competence(command, zoe), 403, 'actor');
    }
    await h.settle();
    expect(await h.core.views.delegation('jones-evening-insulin')).toMatchObject({ status: 'active' });
  });

  it('a token claiming the north team does not make Zoe one of it: the team is read from her practitioner record', async () => {
    await refusedWith(
      h.core.commands.competence({ ...competence(), type: 'SuspendCompetence', reason: 'Concern raised' }, { ...zoe, organisation: 'org-north-district-nursing' }),
      403,
      'actor',
    );
  });

  it('someone Tandem holds no practitioner record for is refused 403, whatever their token says', async () => {
    const stranger: Actor = { id: 'nurse-not-in-tandem', role: 'district-nurse', registration: { system: NMC, value: '99Z9999E' }, organisation: 'org-north-district-nursing' };
    await refusedWith(h.core.commands.competence({ ...competence(), type: 'SuspendCompetence', reason: 'x' }, stranger), 403, 'actor');
  });

  it('the registered manager of another agency may not suspend; of Amira’s employer may only suspend (not reinstate or revoke)', async () => {
    await refusedWith(h.core.commands.competence({ ...competence(), type: 'SuspendCompetence', reason: 'x' }, otherManager), 403, 'actor');
    await refusedWith(h.core.commands.competence({ ...competence(), type: 'RevokeCompetence', reason: 'x' }, kindlyManager), 403, 'actor');
  });

  it('when Sarah suspends then reinstates: the delegation the suspension suspended is active again; one suspended for another reason stays suspended', async () => {
    // a second delegation of Amira's, suspended by Sarah's own decision before the competence was suspended
    await h.delegateInsulin('jones-morning-insulin');
    await h.core.commands.delegation({ type: 'SuspendDelegation', delegationId: 'jones-morning-insulin', idempotencyKey: key('d'), occurredAt: h.now(), reason: 'Dose under review with the GP' }, sarah);
    await h.settle();

    await h.core.commands.competence({ ...competence(), type: 'SuspendCompetence', reason: 'Drug error under investigation' }, sarah);
    await h.settle();
    expect(await h.core.views.delegation('jones-evening-insulin')).toMatchObject({ status: 'suspended' });
    const suspended = (await h.eventsOf(competency)).at(-1)!;
    expect(suspended.data).toMatchObject({ by: { practitionerId: sarah.id }, authority: 'assessing-team' });

    h.advance(60);
    const reinstated = await h.core.commands.competence({ ...competence(), type: 'ReinstateCompetence', reason: 'Investigation found no fault' }, sarah);
    await h.settle();

    expect(await h.core.views.delegation('jones-evening-insulin')).toMatchObject({ status: 'active' });
    expect(await h.core.views.delegation('jones-morning-insulin')).toMatchObject({ status: 'suspended' });
    const restored = (await h.eventsOf(delegationStreamId('jones-evening-insulin'))).at(-1)!;
    expect(restored).toMatchObject({
      type: 'DelegationActivated',
      data: { activatedBy: { practitionerId: sarah.id }, reason: expect.stringContaining('Restored') },
      metadata: { causationId: reinstated.eventIds[0] },
    });
    // the review date is the one it had: restoring never moves it
    const activations = (await h.eventsOf(delegationStreamId('jones-evening-insulin'))).filter((e) => e.type === 'DelegationActivated');
    expect((activations.at(-1)!.data as { reviewDueAt: string }).reviewDueAt).toBe((activations[0]!.data as { reviewDueAt: string }).reviewDueAt);

    // the reinstatement's answer, computed again after the restoring: the same plan
    const event = (await h.eventsOf(competency)).find((e) => e.id === reinstated.eventIds[0]) as RecordedEvent;
    const plan = await restorationsFor({ store: h.store, commands: h.core.commands, views: h.core.views }, event);
    expect(plan.restore.map((r) => r.delegationId)).toEqual(['jones-evening-insulin']);
    expect(plan.needReactivating).toEqual([]);
  });

  it('a delegation whose review fell due while suspended is not restored: the reinstatement names it as needing reactivating', async () => {
    await h.core.commands.competence({ ...competence(), type: 'SuspendCompetence', reason: 'Second concern' }, sarah);
    await h.settle();
    h.advance(100 * 24 * 60); // past the 90-day review, well within the 12-month competence
    const reinstated = await h.core.commands.competence({ ...competence(), type: 'ReinstateCompetence', reason: 'Cleared' }, sarah);
    await h.settle();
    expect(await h.core.views.delegation('jones-evening-insulin')).toMatchObject({ status: 'suspended' });
    const event = (await h.eventsOf(competency)).find((e) => e.id === reinstated.eventIds[0]) as RecordedEvent;
    const plan = await restorationsFor({ store: h.store, commands: h.core.commands, views: h.core.views }, event);
    expect(plan.restore).toEqual([]);
    expect(plan.needReactivating).toEqual([{ delegationId: 'jones-evening-insulin', patientId: h.patientId, reason: expect.stringMatching(/review fell due .* while it was suspended/) }]);
  });

  it('the registered manager of Amira’s employer may suspend for safeguarding, recorded as such', async () => {
    await h.core.commands.competence({ ...competence(), type: 'SuspendCompetence', reason: 'Safeguarding concern reported to the agency' }, kindlyManager);
    const last = (await h.eventsOf(competency)).at(-1)!;
    expect(last).toMatchObject({ type: 'CompetenceSuspended', data: { by: { practitionerId: kindlyManager.id, role: 'registered-manager' }, authority: 'safeguarding' } });
    // reinstating is for the assessing team, not the manager
    await refusedWith(h.core.commands.competence({ ...competence(), type: 'ReinstateCompetence', reason: 'x' }, kindlyManager), 403, 'actor');
  });
});

describe('a competency stream recorded before the assessing team was kept', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.create('2025-03-03T09:00:00Z');
    await h.registerPractitioner(zoe, SOUTH_TEAM);
    // as the command edge appended it before: no assessingTeam, Sarah only in the metadata
    const framework = h.core.commands.framework(FRAMEWORK);
    await h.store.append(
      competencyStreamId(amira.id, FRAMEWORK),
      [
        {
          id: '00000000-0000-4000-8000-00000000a001',
          type: 'TrainingStarted',
          data: {
            careWorker: { practitionerId: amira.id, role: 'care-worker' },
            frameworkId: FRAMEWORK,
            frameworkVersion: framework.version,
            requirements: { trainingModules: framework.competence.trainingModules.map((m) => m.id), supervisedPractices: 3, reassessmentMonths: 12 },
          },
          metadata: { actor: sarah, correlationId: '00000000-0000-4000-8000-00000000a002', occurredAt: h.now() },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
  });
  afterAll(() => h.close());

  it('takes the team of the nurse who started the training (from her record): Zoe is refused, Sarah goes on', async () => {
    const module = { careWorkerId: amira.id, frameworkId: FRAMEWORK, moduleId: h.core.commands.framework(FRAMEWORK).competence.trainingModules[0]!.id };
    await refusedWith(h.core.commands.competence({ ...module, type: 'CompleteTrainingModule', idempotencyKey: key('c'), occurredAt: h.now() }, zoe), 403, 'actor');
    const done = await h.core.commands.competence({ ...module, type: 'CompleteTrainingModule', idempotencyKey: key('c'), occurredAt: h.now() }, sarah);
    expect(done.eventTypes).toEqual(['TrainingModuleCompleted']);
  });
});

describe('identity facts are checked against the record, not trusted', () => {
  let h: Harness;
  const start = (careWorker: { practitionerId: string; role: Actor['role'] }) => ({ type: 'StartTraining' as const, idempotencyKey: key('c'), occurredAt: h.now(), careWorker, frameworkId: FRAMEWORK });

  beforeAll(async () => {
    h = await Harness.create('2025-03-03T09:00:00Z');
  });
  afterAll(() => h.close());

  it('training for a care worker Tandem does not hold is refused naming careWorker.practitionerId; nothing stored', async () => {
    const refusal = await refusedWith(h.core.commands.competence(start({ practitionerId: 'cw-does-not-exist', role: 'care-worker' }), sarah), 422, 'careWorker.practitionerId');
    expect(refusal.reason).toContain('not a practitioner registered in Tandem');
    expect(await h.eventsOf(competencyStreamId('cw-does-not-exist', FRAMEWORK))).toEqual([]);
  });

  it('training for a registered practitioner who is not a care worker is refused naming careWorker.practitionerId', async () => {
    const nurse: Actor = { id: 'nurse-colleague', role: 'district-nurse', registration: { system: NMC, value: '10D1111E' } };
    await h.registerPractitioner(nurse, 'org-north-district-nursing');
    await refusedWith(h.core.commands.competence(start({ practitionerId: nurse.id, role: 'care-worker' }), sarah), 422, 'careWorker.practitionerId');
  });

  it('a sign-off by a token carrying NMC 12A3456B, when Sarah’s record says 12A3456E, is refused naming assessor.registration; nothing stored', async () => {
    // trained and observed by Sarah, ready for assessment
    const cw: Actor = { id: 'cw-new', role: 'care-worker' };
    await h.registerPractitioner(cw, CARE_AGENCY);
    const framework = h.core.commands.framework(FRAMEWORK);
    const base = () => ({ idempotencyKey: key('c'), occurredAt: h.now(), frameworkId: FRAMEWORK, careWorkerId: cw.id });
    await h.core.commands.competence(start({ practitionerId: cw.id, role: 'care-worker' }), sarah);
    for (const m of framework.competence.trainingModules) await h.core.commands.competence({ ...base(), type: 'CompleteTrainingModule', moduleId: m.id }, sarah);
    for (let i = 0; i < framework.competence.supervisedPractices; i++) {
      await h.core.commands.competence({ ...base(), type: 'RecordSupervisedPractice', outcome: 'satisfactory', patientId: h.patientId }, sarah);
    }
    const stream = competencyStreamId(cw.id, FRAMEWORK);
    const before = (await h.eventsOf(stream)).length;
    const forged: Actor = { ...sarah, registration: { system: NMC, value: '12A3456B' } };
    const refusal = await refusedWith(h.core.commands.competence({ ...base(), type: 'SignOffCompetence', careWorkerConsent: true }, forged), 422, 'assessor.registration');
    expect(refusal.reason).toContain('NMC 12A3456B');
    expect(await h.eventsOf(stream)).toHaveLength(before);
    // the same with a supervised practice: the observer's registration
    await refusedWith(h.core.commands.competence({ ...base(), type: 'RecordSupervisedPractice', outcome: 'satisfactory' }, forged), 422, 'observer.registration');
    // with her own registration it is signed off, naming the registration her record holds
    await h.core.commands.competence({ ...base(), type: 'SignOffCompetence', careWorkerConsent: true }, sarah);
    expect((await h.eventsOf(stream)).at(-1)!.data).toMatchObject({ assessor: { practitionerId: sarah.id, registration: { system: NMC, value: '12A3456E' } } });
  });

  it('a delegation proposed by a token with another registration is refused naming delegatedBy.registration', async () => {
    const forged: Actor = { ...sarah, registration: { system: NMC, value: '12A3456B' } };
    await refusedWith(
      h.core.commands.delegation(
        {
          type: 'ProposeDelegation',
          delegationId: 'forged-proposal',
          idempotencyKey: key('d'),
          occurredAt: h.now(),
          patientId: h.patientId,
          frameworkId: FRAMEWORK,
          activityId: 'insulin-administration',
          careWorker: { practitionerId: amira.id, role: 'care-worker' },
          instruction: EVENING_INSULIN,
          eligibility: { diabetesStable: true, insulinDevice: 'pen' },
        },
        forged,
      ),
      422,
      'delegatedBy.registration',
    );
    expect(await h.eventsOf(delegationStreamId('forged-proposal'))).toEqual([]);
  });
});

describe('eligibility: the age from the birth date in the record, and every failing criterion at once', () => {
  let h: Harness;
  let youngId = '';
  let sixtyFourId = '';
  const propose = (over: { patientId: string; frameworkId: string; activityId: string; eligibility: Record<string, string | number | boolean>; general?: boolean; delegationId?: string }) =>
    h.core.commands.delegation(
      {
        type: 'ProposeDelegation',
        delegationId: over.delegationId ?? `eligibility-${key('d')}`,
        idempotencyKey: key('d'),
        occurredAt: h.now(),
        patientId: over.patientId,
        frameworkId: over.frameworkId,
        activityId: over.activityId,
        careWorker: { practitionerId: amira.id, role: 'care-worker' },
        instruction: over.general ? { kind: 'general', plan: 'Look for signs of a urine infection each visit; fluids chart.' } : EVENING_INSULIN,
        eligibility: over.eligibility,
      },
      sarah,
    );
  const register = async (nine: string, birthDate: string) =>
    (
      await h.given.patientRegistered(
        { nhsNumber: nhsNumber(nine), name: { given: ['Test'], family: `Person ${nine}` }, birthDate, gpPractice: { odsCode: 'Y12345', name: 'Riverside Surgery' } },
        sarah,
      )
    ).patientId;

  beforeAll(async () => {
    h = await Harness.create('2025-03-03T09:00:00Z');
    // 64 today (65 tomorrow), and 17
    sixtyFourId = await register('943476591', '1960-03-04');
    youngId = await register('943476592', '2007-06-01');
  });
  afterAll(() => h.close());

  it('a 64-year-old (by the birth date in the record) under UTI 65+ is refused naming eligibility.ageYears, from the record', async () => {
    const refusal = await refusedWith(propose({ patientId: sixtyFourId, frameworkId: 'suspected-uti-65-plus', activityId: 'uti-observation', eligibility: {}, general: true }), 422, 'eligibility.ageYears');
    expect(refusal.reason).toMatch(/ageYears is 64, needs at least 65.*birth date 1960-03-04/);
  });

  it('a typed ageYears is not accepted, and is listed with the criterion the record’s age fails: both errors at once', async () => {
    const refusal = await refusedWith(
      propose({ patientId: sixtyFourId, frameworkId: 'suspected-uti-65-plus', activityId: 'uti-observation', eligibility: { ageYears: 70 }, general: true }),
      422,
      'eligibility.ageYears',
    );
    expect(refusal.errors).toEqual([
      { field: 'eligibility.ageYears', message: expect.stringContaining('is not accepted') },
      { field: 'eligibility.ageYears', message: expect.stringContaining('ageYears is 64, needs at least 65') },
    ]);
  });

  it('a 17-year-old with unstable diabetes on a syringe: every failing insulin criterion is listed, not the first', async () => {
    const refusal = await refusedWith(
      propose({ patientId: youngId, frameworkId: FRAMEWORK, activityId: 'insulin-administration', eligibility: { diabetesStable: false, insulinDevice: 'syringe' } }),
      422,
      'eligibility.ageYears',
    );
    expect(refusal.errors?.map((e) => e.field)).toEqual(['eligibility.ageYears', 'eligibility.diabetesStable', 'eligibility.insulinDevice']);
  });

  it('the person turns 65 on their birthday: proposed, with the age from the record stored in the event', async () => {
    h.clock.set('2025-03-04T09:00:00Z');
    const proposed = await propose({ patientId: sixtyFourId, frameworkId: 'suspected-uti-65-plus', activityId: 'uti-observation', eligibility: {}, general: true, delegationId: 'uti-on-the-birthday' });
    expect(proposed.eventTypes).toEqual(['DelegationProposed']);
    const [stored] = await h.eventsOf(delegationStreamId('uti-on-the-birthday'));
    expect(stored!.data).toMatchObject({ eligibility: { ageYears: 65 } });
  });

  it('a delegation to someone Tandem holds no care worker record for is refused naming careWorker.practitionerId', async () => {
    const refusal = await refusedWith(
      h.core.commands.delegation(
        {
          type: 'ProposeDelegation',
          delegationId: 'to-nobody',
          idempotencyKey: key('d'),
          occurredAt: h.now(),
          patientId: h.patientId,
          frameworkId: FRAMEWORK,
          activityId: 'insulin-administration',
          careWorker: { practitionerId: 'cw-does-not-exist', role: 'care-worker' },
          instruction: EVENING_INSULIN,
          eligibility: { diabetesStable: true, insulinDevice: 'pen' },
        },
        sarah,
      ),
      422,
      'careWorker.practitionerId',
    );
    expect(refusal.code).toBe('delegation.care-worker-not-registered');
  });
});
