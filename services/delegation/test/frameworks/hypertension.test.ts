import { getShortestPaths } from 'xstate/graph';
import {
  competenceSettings,
  ESCALATION_PATH,
  ESCALATION_SETTINGS,
  localNumber,
  NEWS2_RULES,
  resolveFramework,
  type FrameworkDefinition,
} from '../../src/frameworks';
import { competenceMachine, escalationTimer, isDelegationActive } from '../../src/machines';
import { evaluateEntry, missedMonitoring } from '../../src/rules';
import { ben, drShah, FakeClock, MRS_PATEL, scheduler, vitals } from '../fixtures';
import { competenceEventsFor, competenceSerialized, shortestByState, statesOf } from '../graph';
import { delegateAndActivate, raise, trainAndSignOff } from '../stories';

/**
 * A fourth framework needs data and tests, not machine code: blood pressure monitoring for people
 * with hypertension, delegated by a GP, written here as data and run through the same machines and
 * the same rule interpreter as the shipped three.
 */
const hypertensionMonitoring = {
  id: 'hypertension-monitoring',
  version: 1,
  title: 'Blood pressure monitoring for hypertension',
  summary: 'A GP or nurse delegates a daily blood pressure check to a trained care worker; very high or low readings go to the GP.',
  sources: ['Test framework (data only)'],
  activities: [{ id: 'blood-pressure-check', title: 'Take and record blood pressure and pulse', entry: 'VitalSignsRecorded', instruction: 'general' }],
  mayDelegate: ['gp', 'district-nurse'],
  mayReceive: ['care-worker'],
  eligibility: [
    { fact: 'ageYears', description: 'An adult', atLeast: 18, source: { reference: 'test', status: 'national' } },
    { fact: 'hypertensionDiagnosed', description: 'Hypertension diagnosed by the GP', equals: true, source: { reference: 'test', status: 'national' } },
  ],
  competence: {
    trainingModules: [{ id: 'blood-pressure-measurement', title: 'Measuring blood pressure with an automated cuff' }],
    supervisedPractices: { setting: 'competence.supervised-practices' },
    assessors: ['gp', 'district-nurse'],
    reassessmentMonths: { setting: 'competence.reassessment-months' },
  },
  review: { intervalDays: { setting: 'delegation.review-interval-days' } },
  monitoring: [
    {
      id: 'daily-blood-pressure',
      title: 'Blood pressure, daily',
      entry: 'VitalSignsRecorded',
      schedule: { kind: 'every', everyMinutes: 1440, graceMinutes: { setting: 'monitoring.grace-minutes' } },
      missedUrgency: 'routine',
      source: { reference: 'test', status: 'LOCAL' },
    },
  ],
  escalation: ESCALATION_PATH,
  parameters: {},
  prompts: { 'recheck-bp': { title: 'Very high blood pressure', steps: ['Sit the person down for 5 minutes and measure again in {recheckMinutes} minutes.'] } },
  rules: [
    {
      id: 'bp.very-high',
      title: 'Systolic blood pressure 180 mmHg or more',
      when: { observation: 'systolic', atLeast: { setting: 'bp.very-high-systolic' } },
      urgency: 'urgent',
      prompt: 'recheck-bp',
      recheckMinutes: 5,
      recommendation: 'GP to review today.',
      source: { reference: 'test', status: 'LOCAL' },
    },
    {
      id: 'bp.high-twice',
      title: 'Systolic 160 mmHg or more on two readings running',
      when: { observation: 'systolic', atLeast: 160, consecutive: 2 },
      urgency: 'routine',
      recommendation: 'GP to review the medication.',
      source: { reference: 'test', status: 'LOCAL' },
    },
    ...NEWS2_RULES,
  ],
  settings: {
    ...competenceSettings({ supervisedPractices: 2, supervisedSource: 'test (LOCAL)', reviewIntervalDays: 28, reviewSource: 'test (LOCAL)' }),
    ...ESCALATION_SETTINGS,
    'monitoring.grace-minutes': localNumber(120, { min: 0, max: 720, integer: true, unit: 'minutes', source: 'test' }),
    'bp.very-high-systolic': localNumber(180, { min: 160, max: 220, integer: true, unit: 'mmHg', source: 'test' }),
  },
} satisfies FrameworkDefinition;

const hypertension = resolveFramework(hypertensionMonitoring);

describe('a fourth framework, hypertension monitoring, as data only', () => {
  const clock = new FakeClock('2025-06-02T09:00:00Z');
  const competence = trainAndSignOff(clock, ben, hypertension, drShah);
  const delegation = delegateAndActivate(clock, {
    delegationId: 'patel-bp',
    framework: hypertension,
    patientId: MRS_PATEL,
    careWorker: ben,
    nurse: drShah,
    competence,
    instruction: { kind: 'general', plan: 'Blood pressure and pulse daily at 09:00, seated, left arm.', times: ['09:00'] },
    eligibility: { ageYears: 84, hypertensionDiagnosed: true },
  });

  it('the competence machine trains, observes twice and signs off, with the GP as assessor', () => {
    expect(competence.events.map((e) => e.type)).toEqual([
      'TrainingStarted',
      'TrainingModuleCompleted',
      'TrainingCompleted',
      'SupervisedPracticeRecorded',
      'SupervisedPracticeRecorded',
      'ReadyForAssessment',
      'CompetenceSignedOff',
    ]);
  });

  it('the competence machine\'s graph, walked with this framework, reaches every state', () => {
    const paths = getShortestPaths(competenceMachine, {
      input: { framework: hypertension },
      events: competenceEventsFor(hypertension, '2025-06-02T09:00:00.000Z', drShah),
      serializeState: competenceSerialized,
    });
    expect([...shortestByState(paths).keys()].sort()).toEqual(statesOf(competenceMachine));
  });

  it('the delegation machine proposes (by a GP), accepts and activates it', () => {
    expect(isDelegationActive(delegation.state)).toBe(true);
    expect(delegation.last('DelegationActivated').reviewDueAt).toBe('2025-07-02T09:00:00.000Z');
  });

  it('the rules escalate a systolic of 180 (not 179), prompt a recheck, and the escalation machine runs its tiers', () => {
    clock.at('09:00');
    expect(evaluateEntry(hypertension, { event: vitals(MRS_PATEL, clock.now(), 0, { systolic: 179 }, ben), history: [] }).escalations).toEqual([]);
    const reading = vitals(MRS_PATEL, clock.now(), 0, { systolic: 180 }, ben);
    const outcome = evaluateEntry(hypertension, { event: reading, history: [] });
    expect(outcome.escalations.map((e) => [e.ruleId, e.urgency])).toEqual([['bp.very-high', 'urgent']]);
    expect(outcome.prompts[0]!.steps).toEqual(['Sit the person down for 5 minutes and measure again in 5 minutes.']);

    const { stream } = raise(clock, hypertension, outcome.escalations[0]!, MRS_PATEL, 'esc-patel-bp', 'patel-bp');
    const timer = escalationTimer(stream.state)!;
    clock.set(timer.dueAt);
    expect(stream.ok(scheduler, timer.command)).toEqual(['EscalationReEscalated', 'EscalationSentToTier']);
    expect(stream.last('EscalationSentToTier').recipient).toBe('on-call-nurse-or-gp');
  });

  it('two readings of 160 or more running are routine', () => {
    const first = vitals(MRS_PATEL, '2025-06-10T09:00:00Z', 0, { systolic: 164 }, ben);
    const second = vitals(MRS_PATEL, '2025-06-11T09:00:00Z', 0, { systolic: 162 }, ben);
    expect(evaluateEntry(hypertension, { event: second, history: [first] }).escalations.map((e) => [e.ruleId, e.urgency])).toEqual([['bp.high-twice', 'routine']]);
  });

  it('a missed daily reading is escalated', () => {
    const last = vitals(MRS_PATEL, '2025-06-10T09:00:00Z', 0, {}, ben);
    expect(missedMonitoring(hypertension, { events: [last], since: '2025-06-05T09:00:00Z', now: '2025-06-11T11:00:00Z' }).map((e) => e.ruleId)).toEqual([
      'monitoring.daily-blood-pressure.missed',
    ]);
  });
});
