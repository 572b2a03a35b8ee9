import {
  careEventDefinitions,
  DeclineDelegationSchema,
  delegationEventDefinitions,
  delegationServiceCommandSchemas,
  EventRegistry,
  parseCommand,
  ProposeDelegationSchema,
  SignOffCompetenceSchema,
} from '@tandem/contracts';
import { MR_JONES } from './fixtures';
import { EVENING_INSULIN } from './stories';

const base = { idempotencyKey: 'k1', occurredAt: '2025-03-06T17:00:00Z', delegationId: 'jones-evening-insulin' };
const proposal = {
  ...base,
  patientId: MR_JONES,
  frameworkId: 'insulin-administration',
  activityId: 'insulin-administration',
  careWorker: { practitionerId: 'amira', role: 'care-worker' },
  instruction: EVENING_INSULIN,
  eligibility: { ageYears: 78, diabetesStable: true, insulinDevice: 'pen' },
};
const issuesOf = (schema: Parameters<typeof parseCommand>[0], input: unknown) => {
  const parsed = parseCommand(schema, input);
  return parsed.ok ? [] : parsed.issues;
};

describe('delegation contracts', () => {
  it('the event store can accept every care and delegation event type together (no type defined twice)', () => {
    const registry = new EventRegistry([...careEventDefinitions, ...delegationEventDefinitions]);
    expect(delegationEventDefinitions.map((d) => d.type)).toEqual([
      'TrainingStarted',
      'TrainingModuleCompleted',
      'TrainingCompleted',
      'SupervisedPracticeRecorded',
      'ReadyForAssessment',
      'CompetenceSignedOff',
      'CompetenceAssessmentNotPassed',
      'CompetenceLapsed',
      'CompetenceSuspended',
      'CompetenceRevoked',
      'CompetenceReinstated',
      'DelegationProposed',
      'DelegationAccepted',
      'DelegationDeclined',
      'PersonAgreementRecorded',
      'DelegationActivated',
      'ReviewDue',
      'DelegationReviewed',
      'DelegationSuspended',
      'DelegationWithdrawn',
      'DelegationEnded',
      'EscalationRaised',
      'EscalationSentToTier',
      'EscalationAcknowledged',
      'EscalationReEscalated',
      'EscalationResolved',
      'OnCallRotaSet',
      'CarePromptIssued',
      'CarePromptAcknowledged',
      'RecheckRecorded',
      'RecheckMissed',
    ]);
    expect(registry.types).toHaveLength(careEventDefinitions.length + delegationEventDefinitions.length);
  });

  it('accepts a person-specific insulin instruction', () => {
    expect(issuesOf(ProposeDelegationSchema, proposal)).toEqual([]);
  });

  it('refuses an instruction naming an insulin the record does not know, naming instruction.product (issue 9.5)', () => {
    const issues = issuesOf(ProposeDelegationSchema, { ...proposal, instruction: { ...EVENING_INSULIN, product: 'Humalog?? maybe' } });
    expect(issues.map((i) => i.path)).toEqual(['instruction.product']);
    expect(issues[0]!.message).toContain('must be an insulin the record knows');
  });

  it.each(['U', 'IU', 'unit'])('refuses the insulin unit %p in an instruction (Never Event: abbreviations)', (unit) => {
    const issues = issuesOf(ProposeDelegationSchema, { ...proposal, instruction: { ...EVENING_INSULIN, dose: { value: 8, unit } } });
    expect(issues).toEqual([{ path: 'instruction.dose.unit', message: expect.stringContaining('the unit must be the word "units"') }]);
  });

  it('refuses a syringe, a target range upside down, and a time that is not a time of day', () => {
    expect(issuesOf(ProposeDelegationSchema, { ...proposal, instruction: { ...EVENING_INSULIN, device: 'syringe' } }).map((i) => i.path)).toEqual(['instruction.device']);
    expect(issuesOf(ProposeDelegationSchema, { ...proposal, instruction: { ...EVENING_INSULIN, glucoseTargets: { lowMmolL: 10, highMmolL: 6 } } }).map((i) => i.path)).toEqual([
      'instruction.glucoseTargets.highMmolL',
    ]);
    expect(issuesOf(ProposeDelegationSchema, { ...proposal, instruction: { ...EVENING_INSULIN, times: ['6pm'] } }).map((i) => i.path)).toEqual(['instruction.times.0']);
  });

  it('a decline needs no reason; the actor never comes from the body', () => {
    expect(issuesOf(DeclineDelegationSchema, base)).toEqual([]);
    expect(issuesOf(DeclineDelegationSchema, { ...base, actor: { id: 'x', role: 'gp' } })).toEqual([{ path: 'actor', message: 'is not a field of this command' }]);
  });

  it('a sign-off asks the care worker\'s consent', () => {
    const signOff = { idempotencyKey: 'k', occurredAt: '2025-03-06T17:00:00Z', careWorkerId: 'amira', frameworkId: 'insulin-administration' };
    expect(issuesOf(SignOffCompetenceSchema, signOff).map((i) => i.path)).toEqual(['careWorkerConsent']);
  });

  it('names every command of the service', () => {
    // 9 competence, 12 delegation (RestoreDelegationAfterCompetence), 4 escalation, 4 prompt (the hypo protocol's acknowledgement and recheck)
    expect(Object.keys(delegationServiceCommandSchemas)).toHaveLength(29);
  });
});
