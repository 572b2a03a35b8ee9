import { competenceTimer, escalationTimer, isCompetenceCurrent, isDelegationActive, replayEscalation } from '../../src/machines';
import { evaluateEntry, missedRecheck } from '../../src/rules';
import { amira, drShah, FakeClock, glucose, insulin, insulinGiven, MR_JONES, nadia, owen, scheduler } from '../fixtures';
import { competenceCommand, delegateAndActivate, EVENING_INSULIN, escalationCommand, raise, trainAndSignOff } from '../stories';

/**
 * A nurse trains Amira on insulin, observes three supervised doses, signs her off and delegates
 * Mr Jones's evening insulin. Amira records a blood glucose of 3.4 mmol/L: the hypo protocol starts
 * and the nurse is alerted. Nobody acknowledges for 30 minutes: it goes to the next tier.
 */
describe('Mr Jones\'s evening insulin, delegated to Amira', () => {
  const clock = new FakeClock('2025-03-03T09:00:00Z');

  const competence = trainAndSignOff(clock, amira, insulin, nadia);
  const delegation = delegateAndActivate(clock, {
    delegationId: 'jones-evening-insulin',
    framework: insulin,
    patientId: MR_JONES,
    careWorker: amira,
    nurse: nadia,
    competence,
    instruction: EVENING_INSULIN,
    eligibility: { ageYears: 78, diabetesStable: true, insulinDevice: 'pen' },
  });

  it('Nadia trained Amira on every module, observed three satisfactory doses, and signed her off with her consent', () => {
    expect(competence.events.map((e) => e.type)).toEqual([
      'TrainingStarted',
      'TrainingModuleCompleted',
      'TrainingModuleCompleted',
      'TrainingModuleCompleted',
      'TrainingModuleCompleted',
      'TrainingModuleCompleted',
      'TrainingCompleted',
      'SupervisedPracticeRecorded',
      'SupervisedPracticeRecorded',
      'SupervisedPracticeRecorded',
      'ReadyForAssessment',
      'CompetenceSignedOff',
    ]);
    const practices = competence.events.filter((e) => e.type === 'SupervisedPracticeRecorded').map((e) => e.data);
    expect(practices.map((p) => [p.observer.practitionerId, p.observer.registration.value, p.satisfactoryCount, p.required])).toEqual([
      ['nadia', '09A1234E', 1, 3],
      ['nadia', '09A1234E', 2, 3],
      ['nadia', '09A1234E', 3, 3],
    ]);
    expect(competence.last('CompetenceSignedOff')).toMatchObject({
      assessor: { practitionerId: 'nadia', registration: { value: '09A1234E' } },
      careWorkerConsent: true,
      validUntil: '2026-03-06T09:00:00.000Z',
    });
    expect(isCompetenceCurrent(competence.state, clock.now())).toBe(true);
  });

  it('Mr Jones\'s evening insulin is delegated to Amira: accepted, agreed by Mr Jones, active until its review', () => {
    expect(delegation.events.map((e) => e.type)).toEqual(['DelegationProposed', 'DelegationAccepted', 'PersonAgreementRecorded', 'DelegationActivated']);
    expect(delegation.last('DelegationProposed').instruction).toEqual(EVENING_INSULIN);
    expect(delegation.last('DelegationActivated').competence).toEqual({
      careWorkerId: 'amira',
      frameworkId: 'insulin-administration',
      status: 'signedOff',
      validUntil: '2026-03-06T09:00:00.000Z',
    });
    expect(isDelegationActive(delegation.state)).toBe(true);
  });

  describe('at 17:45 Amira records a blood glucose of 3.4 mmol/L', () => {
    clock.at('17:45');
    const earlier = [glucose(MR_JONES, 6.8, '2025-03-05T17:50:00Z'), insulinGiven(MR_JONES, '2025-03-05T18:00:00Z')];
    const low = glucose(MR_JONES, 3.4, clock.now());
    const outcome = evaluateEntry(insulin, {
      event: low,
      history: earlier,
      authority: { activeDelegation: true, currentCompetence: true },
      background: 'Mr Jones, 78, type 2 diabetes, Humulin I 8 units at 18:00, delegated to Amira by Nadia.',
    });

    it('the hypo protocol starts: Amira is told to treat, not to give insulin, and to recheck in 15 minutes', () => {
      expect(outcome.prompts).toHaveLength(1);
      const [prompt] = outcome.prompts;
      expect(prompt).toMatchObject({
        ruleId: 'insulin.hypo',
        promptId: 'hypo-protocol',
        withholdActivityId: 'insulin-administration',
        recheck: { entry: 'BloodGlucoseRecorded', observation: 'glucose', afterEntryId: low.id, dueAt: '2025-03-06T18:00:00.000Z' },
      });
      expect(prompt!.steps[0]).toBe('Do not give insulin now: the nurse will advise on this dose.');
      expect(prompt!.steps).toContain('Recheck blood glucose in 15 minutes and record it.');
    });

    it('and an urgent escalation, with its SBARD, goes to Nadia, the accountable district nurse, due in 30 minutes', () => {
      expect(outcome.escalations).toHaveLength(1);
      const [escalation] = outcome.escalations;
      expect(escalation).toMatchObject({ ruleId: 'insulin.hypo', urgency: 'urgent', incident: false, triggeringEntryIds: [low.id] });
      expect(escalation!.sbard.assessment).toBe('blood glucose 3.4 mmol/L (below 4.0 mmol/L).');
      expect(escalation!.sbard.background).toContain('Mr Jones, 78');
      expect(escalation!.sbard.decision).toContain('within 30 minutes');

      const { stream, types } = raise(clock, insulin, escalation!, MR_JONES, 'esc-jones-hypo', 'jones-evening-insulin');
      expect(types).toEqual(['EscalationRaised', 'EscalationSentToTier']);
      expect(stream.last('EscalationSentToTier')).toEqual({
        tier: 0,
        tierId: 'accountable-district-nurse',
        recipient: 'accountable-district-nurse',
        dueAt: '2025-03-06T18:15:00.000Z',
        informed: [],
      });
    });

    it('nobody acknowledges for 30 minutes: the scheduler\'s DEADLINE_PASSED sends it to the on-call nurse or GP', () => {
      const clockHere = new FakeClock(clock.now());
      const { stream } = raise(clockHere, insulin, outcome.escalations[0]!, MR_JONES, 'esc-jones-hypo-2');

      clockHere.advance({ minutes: 29 });
      const early = stream.refused(scheduler, escalationCommand(clockHere, 'esc-jones-hypo-2', { type: 'EscalationDeadlinePassed' }));
      expect(early).toMatchObject({ code: 'escalation.not-yet-due', field: 'occurredAt' });

      // the service restarts: the state is rebuilt from the stored events, and the same timer is due
      const rebuilt = replayEscalation(insulin, stream.events);
      const timer = escalationTimer(rebuilt)!;
      expect(timer.dueAt).toBe('2025-03-06T18:15:00.000Z');

      clockHere.set(timer.dueAt);
      expect(stream.ok(scheduler, timer.command)).toEqual(['EscalationReEscalated', 'EscalationSentToTier']);
      expect(stream.last('EscalationReEscalated')).toEqual({
        fromTier: 0,
        toTier: 1,
        missedDueAt: '2025-03-06T18:15:00.000Z',
        reason: 'Not acknowledged by Accountable district nurse by 2025-03-06T18:15:00.000Z',
      });
      expect(stream.last('EscalationSentToTier')).toMatchObject({ tier: 1, recipient: 'on-call-nurse-or-gp', dueAt: '2025-03-06T18:45:00.000Z' });

      // the same timer fired again (a retry) cannot escalate twice: the next tier has its own deadline
      expect(stream.refused(scheduler, timer.command)).toMatchObject({ code: 'escalation.not-yet-due', field: 'occurredAt' });

      // Owen, on call, acknowledges; Dr Shah resolves with the outcome
      clockHere.advance({ minutes: 10 });
      expect(stream.ok(owen, escalationCommand(clockHere, 'esc-jones-hypo-2', { type: 'AcknowledgeEscalation', note: 'Calling Amira now' }))).toEqual([
        'EscalationAcknowledged',
      ]);
      expect(escalationTimer(stream.state)).toBeUndefined();
      clockHere.advance({ minutes: 20 });
      stream.ok(drShah, escalationCommand(clockHere, 'esc-jones-hypo-2', { type: 'ResolveEscalation', outcome: 'Glucose 5.9 after treatment; dose reduced to 6 units.' }));
      expect(stream.state.value).toBe('resolved');
    });

    it('a recheck not recorded by 18:00 is escalated as well', () => {
      const prompt = outcome.prompts[0]!;
      expect(missedRecheck(insulin, prompt, { events: [...earlier, low], now: '2025-03-06T17:59:00Z' })).toBeUndefined();
      expect(missedRecheck(insulin, prompt, { events: [...earlier, low, glucose(MR_JONES, 4.6, '2025-03-06T18:01:00Z')], now: '2025-03-06T18:05:00Z' })).toBeUndefined();
      expect(missedRecheck(insulin, prompt, { events: [...earlier, low], now: '2025-03-06T18:00:00Z' })).toMatchObject({
        ruleId: 'insulin.hypo.recheck-missed',
        urgency: 'urgent',
        triggeringEntryIds: [low.id],
      });
    });
  });

  it('Amira\'s competence carries its own expiry timer for the scheduler', () => {
    expect(competenceTimer(competence.state)).toMatchObject({ dueAt: '2026-03-06T09:00:00.000Z', command: { type: 'ExpireCompetence', careWorkerId: 'amira' } });
  });

  it('Nadia cannot sign off herself, and an assessor cannot sign off without Amira\'s consent', () => {
    const c = new FakeClock('2025-03-03T09:00:00Z');
    const stream = trainAndSignOff(c, nadia, { ...insulin, mayReceive: ['care-worker', 'district-nurse'] }, owen);
    // Owen signed Nadia off; now Nadia tries to renew her own sign-off
    const self = stream.refused(nadia, competenceCommand(c, nadia, insulin, { type: 'SignOffCompetence', careWorkerConsent: true }));
    expect(self).toMatchObject({ code: 'competence.sign-off.self', field: 'actor' });
    const noConsent = stream.refused(owen, competenceCommand(c, nadia, insulin, { type: 'SignOffCompetence', careWorkerConsent: false }));
    expect(noConsent).toMatchObject({ code: 'competence.consent-required', field: 'careWorkerConsent' });
  });
});
