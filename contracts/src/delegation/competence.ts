import { z } from 'zod';
import { defineEvent } from '../events';
import { DateTimeSchema, IdSchema, PatientIdSchema, textSchema, type EventOf } from '../care/common';
import {
  CareWorkerSchema,
  DelegationReasonSchema,
  delegationCommandBaseShape,
  FrameworkIdSchema,
  frameworkRefShape,
  RegisteredProfessionalSchema,
  StaffMemberSchema,
} from './common';

// ---------------------------------------------------------------------------------------------
// Competence, per care worker per framework (stream competency-<careWorkerId>-<frameworkId>):
// the care worker's "skills passport", portable across employers and people. Training, then
// supervised practice observed by a named registered professional, then formal assessment and
// sign-off by a registered professional (never the care worker themselves, and with the care
// worker's consent), valid until a date; lapses at expiry, or is suspended or revoked with a reason.
// ---------------------------------------------------------------------------------------------

/** What the framework asked of this care worker when training started (kept with the record). */
export const CompetenceRequirementsSchema = z.object({
  trainingModules: z.array(IdSchema).min(1),
  supervisedPractices: z.number().int().min(1),
  reassessmentMonths: z.number().int().min(1),
});
export type CompetenceRequirements = z.infer<typeof CompetenceRequirementsSchema>;

/**
 * The assessing team: the organisation (district nursing team) of the nurse who started the
 * training, from that nurse's practitioner record. Only its nurses (and the safeguarding authority
 * of docs/decisions/0012-competence-authority.md) may act on this competence afterwards. Optional
 * for streams recorded before it was kept.
 */
export const AssessingTeamSchema = z.object({ organisationId: IdSchema, startedBy: RegisteredProfessionalSchema });
export type AssessingTeam = z.infer<typeof AssessingTeamSchema>;

export const TrainingStarted = defineEvent(
  'TrainingStarted',
  z.object({ careWorker: CareWorkerSchema, ...frameworkRefShape, requirements: CompetenceRequirementsSchema, assessingTeam: AssessingTeamSchema.optional() }),
);
export type TrainingStartedData = z.infer<typeof TrainingStarted.schema>;

export const TrainingModuleCompleted = defineEvent('TrainingModuleCompleted', z.object({ moduleId: IdSchema, evidence: textSchema(1000).optional() }));
export type TrainingModuleCompletedData = z.infer<typeof TrainingModuleCompleted.schema>;

/** Every training module the framework asks for is done: supervised practice can start. */
export const TrainingCompleted = defineEvent('TrainingCompleted', z.object({ modules: z.array(IdSchema).min(1) }));
export type TrainingCompletedData = z.infer<typeof TrainingCompleted.schema>;

export const SupervisedPracticeOutcomeSchema = z.enum(['satisfactory', 'needs-more-practice']);

/** One observed practice (e.g. an insulin dose given under supervision), by a named registered professional. */
export const SupervisedPracticeRecorded = defineEvent(
  'SupervisedPracticeRecorded',
  z.object({
    observer: RegisteredProfessionalSchema,
    outcome: SupervisedPracticeOutcomeSchema,
    /** n of N: the satisfactory practices so far, this one included. */
    satisfactoryCount: z.number().int().min(0),
    required: z.number().int().min(1),
    patientId: PatientIdSchema.optional(),
    notes: textSchema(2000).optional(),
  }),
);
export type SupervisedPracticeRecordedData = z.infer<typeof SupervisedPracticeRecorded.schema>;

export const ReadyForAssessment = defineEvent(
  'ReadyForAssessment',
  z.object({ satisfactoryPractices: z.number().int().min(1), required: z.number().int().min(1) }),
);
export type ReadyForAssessmentData = z.infer<typeof ReadyForAssessment.schema>;

/** "Safe to practise unsupervised" until `validUntil`; the care worker consented to the sign-off. */
export const CompetenceSignedOff = defineEvent(
  'CompetenceSignedOff',
  z.object({
    assessor: RegisteredProfessionalSchema,
    validUntil: DateTimeSchema,
    careWorkerConsent: z.literal(true, { error: 'the care worker must consent to the sign-off' }),
    ...frameworkRefShape,
  }),
);
export type CompetenceSignedOffData = z.infer<typeof CompetenceSignedOff.schema>;

/** The assessment was not passed: more supervised practice first (declining to sign off is normal). */
export const CompetenceAssessmentNotPassed = defineEvent(
  'CompetenceAssessmentNotPassed',
  z.object({ assessor: RegisteredProfessionalSchema, feedback: textSchema(2000) }),
);
export type CompetenceAssessmentNotPassedData = z.infer<typeof CompetenceAssessmentNotPassed.schema>;

/** Reassessment was not done by `validUntil` (fired by the scheduler at that time). */
export const CompetenceLapsed = defineEvent('CompetenceLapsed', z.object({ validUntil: DateTimeSchema }));
export type CompetenceLapsedData = z.infer<typeof CompetenceLapsed.schema>;

/**
 * By what authority a competence was suspended: a nurse of the assessing team, or (safeguarding)
 * the registered manager of the care worker's employer (docs/decisions/0012-competence-authority.md).
 * Left out on streams recorded before it was kept (those were all by registered professionals).
 */
export const CompetenceAuthoritySchema = z.enum(['assessing-team', 'safeguarding']);
export type CompetenceAuthority = z.infer<typeof CompetenceAuthoritySchema>;

/** `by` is a registered professional of the assessing team, or the care worker's employer's registered manager (safeguarding). */
export const CompetenceSuspended = defineEvent(
  'CompetenceSuspended',
  z.object({ by: StaffMemberSchema, reason: DelegationReasonSchema, authority: CompetenceAuthoritySchema.optional() }),
);
export type CompetenceSuspendedData = z.infer<typeof CompetenceSuspended.schema>;

export const CompetenceRevoked = defineEvent('CompetenceRevoked', z.object({ by: RegisteredProfessionalSchema, reason: DelegationReasonSchema }));
export type CompetenceRevokedData = z.infer<typeof CompetenceRevoked.schema>;

export const CompetenceReinstated = defineEvent(
  'CompetenceReinstated',
  z.object({ by: RegisteredProfessionalSchema, reason: DelegationReasonSchema, validUntil: DateTimeSchema }),
);
export type CompetenceReinstatedData = z.infer<typeof CompetenceReinstated.schema>;

export const competenceEventDefinitions = [
  TrainingStarted,
  TrainingModuleCompleted,
  TrainingCompleted,
  SupervisedPracticeRecorded,
  ReadyForAssessment,
  CompetenceSignedOff,
  CompetenceAssessmentNotPassed,
  CompetenceLapsed,
  CompetenceSuspended,
  CompetenceRevoked,
  CompetenceReinstated,
] as const;
export type CompetenceEvent = EventOf<(typeof competenceEventDefinitions)[number]>;
export type CompetenceEventType = CompetenceEvent['type'];

// ---------------------------------------------------------------------------------------------
// Commands. The stream is named by careWorkerId and frameworkId; the actor (the nurse observing,
// the assessor signing off, the scheduler at expiry) comes from the caller.
// ---------------------------------------------------------------------------------------------

const competenceStreamShape = { ...delegationCommandBaseShape, careWorkerId: IdSchema, frameworkId: FrameworkIdSchema };

export const StartTrainingSchema = z.strictObject({ ...delegationCommandBaseShape, careWorker: CareWorkerSchema, frameworkId: FrameworkIdSchema });
export type StartTraining = z.infer<typeof StartTrainingSchema>;

export const CompleteTrainingModuleSchema = z.strictObject({ ...competenceStreamShape, moduleId: IdSchema, evidence: textSchema(1000).optional() });
export type CompleteTrainingModule = z.infer<typeof CompleteTrainingModuleSchema>;

export const RecordSupervisedPracticeSchema = z.strictObject({
  ...competenceStreamShape,
  outcome: SupervisedPracticeOutcomeSchema,
  patientId: PatientIdSchema.optional(),
  notes: textSchema(2000).optional(),
});
export type RecordSupervisedPractice = z.infer<typeof RecordSupervisedPracticeSchema>;

export const SignOffCompetenceSchema = z.strictObject({
  ...competenceStreamShape,
  /** Asked of the care worker at sign-off; false is refused with the reason. */
  careWorkerConsent: z.boolean({ error: 'careWorkerConsent: answer true or false' }),
  /** Defaults to the framework's reassessment interval from the sign-off. */
  validUntil: DateTimeSchema.optional(),
});
export type SignOffCompetence = z.infer<typeof SignOffCompetenceSchema>;

export const RecordAssessmentNotPassedSchema = z.strictObject({ ...competenceStreamShape, feedback: textSchema(2000) });
export type RecordAssessmentNotPassed = z.infer<typeof RecordAssessmentNotPassedSchema>;

/** Sent by the scheduler at `validUntil` (the EXPIRE timer). */
export const ExpireCompetenceSchema = z.strictObject(competenceStreamShape);
export type ExpireCompetence = z.infer<typeof ExpireCompetenceSchema>;

export const SuspendCompetenceSchema = z.strictObject({ ...competenceStreamShape, reason: DelegationReasonSchema });
export type SuspendCompetence = z.infer<typeof SuspendCompetenceSchema>;

export const RevokeCompetenceSchema = z.strictObject({ ...competenceStreamShape, reason: DelegationReasonSchema });
export type RevokeCompetence = z.infer<typeof RevokeCompetenceSchema>;

export const ReinstateCompetenceSchema = z.strictObject({ ...competenceStreamShape, reason: DelegationReasonSchema });
export type ReinstateCompetence = z.infer<typeof ReinstateCompetenceSchema>;

/** The commands addressed to a `competency-<careWorkerId>-<frameworkId>` stream, by name. */
export const competenceCommandSchemas = {
  StartTraining: StartTrainingSchema,
  CompleteTrainingModule: CompleteTrainingModuleSchema,
  RecordSupervisedPractice: RecordSupervisedPracticeSchema,
  SignOffCompetence: SignOffCompetenceSchema,
  RecordAssessmentNotPassed: RecordAssessmentNotPassedSchema,
  ExpireCompetence: ExpireCompetenceSchema,
  SuspendCompetence: SuspendCompetenceSchema,
  RevokeCompetence: RevokeCompetenceSchema,
  ReinstateCompetence: ReinstateCompetenceSchema,
} as const;
export type CompetenceCommandName = keyof typeof competenceCommandSchemas;
