import { z } from 'zod';
import { defineEvent } from '../events';
import { DateTimeSchema, IdSchema, PatientIdSchema, textSchema, type EventOf } from '../care/common';
import { INSULIN_PRODUCTS, insulinProductOf } from '../care/insulin-products';
import { InjectionSiteSchema, InsulinDeviceSchema, InsulinDoseSchema, InsulinProductSchema } from '../care/medicines';
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
// One delegation (stream delegation-<id>): a registered professional transfers to a competent care
// worker the authority to perform one activity for one person, under a person-specific
// instruction (docs/clinical/reference.md section 1). The care worker accepts or declines (declining is normal and
// needs no reason); activation needs a current competence and the person's agreement.
// ---------------------------------------------------------------------------------------------

/** A time of day, "HH:MM" (24-hour clock). */
export const TimeOfDaySchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'must be a time of day written HH:MM, e.g. 18:00' });

/**
 * The person-specific insulin instruction (docs/clinical/reference.md section 2): product, device, dose in
 * "units" (never "U" or "IU"), times, injection sites, blood glucose targets, the minimum interval
 * between doses, and what to do when out of range.
 */
export const InsulinInstructionSchema = z
  .object({
    kind: z.literal('insulin'),
    product: InsulinProductSchema,
    device: InsulinDeviceSchema,
    dose: InsulinDoseSchema,
    times: z.array(TimeOfDaySchema).min(1, { error: 'must name at least one time' }).max(6),
    sites: z.array(InjectionSiteSchema).min(1, { error: 'must name at least one injection site' }),
    glucoseTargets: z.object({
      lowMmolL: z.number().min(2).max(30),
      highMmolL: z.number().min(2).max(30),
    }),
    minimumIntervalMinutes: z.number().int().min(1).max(24 * 60),
    whenOutOfRange: textSchema(2000),
  })
  .refine((i) => i.glucoseTargets.lowMmolL < i.glucoseTargets.highMmolL, {
    path: ['glucoseTargets', 'highMmolL'],
    error: 'the high target must be above the low target',
  });

/** Any other delegated activity: the agreed plan in words, and when it is done. */
export const GeneralInstructionSchema = z.object({
  kind: z.literal('general'),
  plan: textSchema(4000),
  times: z.array(TimeOfDaySchema).max(12).optional(),
});

export const InstructionSchema = z.discriminatedUnion('kind', [InsulinInstructionSchema, GeneralInstructionSchema]);
export type Instruction = z.infer<typeof InstructionSchema>;
export type InstructionKind = Instruction['kind'];

/** What the delegating professional asserts about the person, checked against the framework's eligibility. */
export const PersonFactsSchema = z.record(
  z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/, { error: 'a fact name is one word, e.g. ageYears' }),
  z.union([z.number(), z.boolean(), textSchema(200)]),
);
export type PersonFacts = z.infer<typeof PersonFactsSchema>;

export const COMPETENCE_STATUSES = [
  'notStarted',
  'inTraining',
  'supervisedPractice',
  'readyForAssessment',
  'signedOff',
  'lapsed',
  'suspended',
  'revoked',
] as const;
export const CompetenceStatusSchema = z.enum(COMPETENCE_STATUSES);
export type CompetenceStatus = z.infer<typeof CompetenceStatusSchema>;

/** The care worker's competence as read from their competency stream when a delegation is activated. */
export const CompetenceSnapshotSchema = z.object({
  careWorkerId: IdSchema,
  frameworkId: FrameworkIdSchema,
  status: CompetenceStatusSchema,
  validUntil: DateTimeSchema.optional(),
});
export type CompetenceSnapshot = z.infer<typeof CompetenceSnapshotSchema>;

export const PersonAgreementSchema = z
  .object({
    agreedBy: z.enum(['person', 'representative']),
    representative: z.object({ name: textSchema(200), relationship: textSchema(100) }).optional(),
  })
  .refine((a) => (a.agreedBy === 'representative') === (a.representative !== undefined), {
    path: ['representative'],
    error: 'name the representative (and only) when a representative agreed',
  });

export const DelegationSuspensionCauseSchema = z.enum(['competence-lapsed', 'competence-suspended', 'competence-revoked', 'decision']);
export type DelegationSuspensionCause = z.infer<typeof DelegationSuspensionCauseSchema>;

export const DelegationProposed = defineEvent(
  'DelegationProposed',
  z.object({
    delegationId: IdSchema,
    patientId: PatientIdSchema,
    ...frameworkRefShape,
    activityId: IdSchema,
    delegatedBy: RegisteredProfessionalSchema,
    careWorker: CareWorkerSchema,
    instruction: InstructionSchema,
    eligibility: PersonFactsSchema,
    reviewIntervalDays: z.number().int().min(1),
  }),
);
export type DelegationProposedData = z.infer<typeof DelegationProposed.schema>;

export const DelegationAccepted = defineEvent('DelegationAccepted', z.object({ careWorker: CareWorkerSchema }));
export type DelegationAcceptedData = z.infer<typeof DelegationAccepted.schema>;

/** Declining is a normal, recorded outcome: a reason may be given, never required. */
export const DelegationDeclined = defineEvent('DelegationDeclined', z.object({ careWorker: CareWorkerSchema, reason: textSchema(1000).optional() }));
export type DelegationDeclinedData = z.infer<typeof DelegationDeclined.schema>;

export const PersonAgreementRecorded = defineEvent('PersonAgreementRecorded', PersonAgreementSchema);
export type PersonAgreementRecordedData = z.infer<typeof PersonAgreementRecorded.schema>;

export const DelegationActivated = defineEvent(
  'DelegationActivated',
  z.object({
    activatedBy: RegisteredProfessionalSchema,
    competence: CompetenceSnapshotSchema,
    reviewDueAt: DateTimeSchema,
    /** Set when the activation restores a delegation that a competence suspension suspended, once that competence was reinstated. */
    reason: DelegationReasonSchema.optional(),
  }),
);
export type DelegationActivatedData = z.infer<typeof DelegationActivated.schema>;

/** Fired by the scheduler at the review date set when the delegation was activated or last reviewed. */
export const ReviewDue = defineEvent('ReviewDue', z.object({ dueAt: DateTimeSchema }));
export type ReviewDueData = z.infer<typeof ReviewDue.schema>;

export const DelegationReviewed = defineEvent(
  'DelegationReviewed',
  z.object({ reviewedBy: RegisteredProfessionalSchema, notes: textSchema(2000), nextReviewDueAt: DateTimeSchema }),
);
export type DelegationReviewedData = z.infer<typeof DelegationReviewed.schema>;

export const DelegationSuspended = defineEvent(
  'DelegationSuspended',
  z.object({ by: StaffMemberSchema, cause: DelegationSuspensionCauseSchema, reason: DelegationReasonSchema }),
);
export type DelegationSuspendedData = z.infer<typeof DelegationSuspended.schema>;

export const DelegationWithdrawn = defineEvent('DelegationWithdrawn', z.object({ by: StaffMemberSchema, reason: DelegationReasonSchema }));
export type DelegationWithdrawnData = z.infer<typeof DelegationWithdrawn.schema>;

export const DelegationEnded = defineEvent('DelegationEnded', z.object({ by: RegisteredProfessionalSchema, reason: DelegationReasonSchema }));
export type DelegationEndedData = z.infer<typeof DelegationEnded.schema>;

export const delegationLifecycleEventDefinitions = [
  DelegationProposed,
  DelegationAccepted,
  DelegationDeclined,
  PersonAgreementRecorded,
  DelegationActivated,
  ReviewDue,
  DelegationReviewed,
  DelegationSuspended,
  DelegationWithdrawn,
  DelegationEnded,
] as const;
export type DelegationLifecycleEvent = EventOf<(typeof delegationLifecycleEventDefinitions)[number]>;
export type DelegationLifecycleEventType = DelegationLifecycleEvent['type'];

// ---------------------------------------------------------------------------------------------
// Commands (stream delegation-<delegationId>).
// ---------------------------------------------------------------------------------------------

const delegationStreamShape = { ...delegationCommandBaseShape, delegationId: IdSchema };

export const ProposeDelegationSchema = z.strictObject({
  ...delegationStreamShape,
  patientId: PatientIdSchema,
  frameworkId: FrameworkIdSchema,
  activityId: IdSchema,
  careWorker: CareWorkerSchema,
  // An insulin instruction names one product the record knows (docs/decisions/0013-coded-insulin.md);
  // checked on the command only, so every delegation already stored still reads.
  instruction: InstructionSchema.superRefine((instruction, ctx) => {
    if (instruction.kind === 'insulin' && !insulinProductOf(instruction.product)) {
      ctx.addIssue({ code: 'custom', path: ['product'], message: `must be an insulin the record knows, by name or code: ${INSULIN_PRODUCTS.map((p) => p.name).join(', ')}` });
    }
  }),
  eligibility: PersonFactsSchema,
});
export type ProposeDelegation = z.infer<typeof ProposeDelegationSchema>;

export const AcceptDelegationSchema = z.strictObject(delegationStreamShape);
export type AcceptDelegation = z.infer<typeof AcceptDelegationSchema>;

export const DeclineDelegationSchema = z.strictObject({ ...delegationStreamShape, reason: textSchema(1000).optional() });
export type DeclineDelegation = z.infer<typeof DeclineDelegationSchema>;

export const RecordPersonAgreementSchema = z.strictObject({ ...delegationStreamShape, agreement: PersonAgreementSchema });
export type RecordPersonAgreement = z.infer<typeof RecordPersonAgreementSchema>;

export const ActivateDelegationSchema = z.strictObject({
  ...delegationStreamShape,
  /** Read from the care worker's competency stream by the caller. */
  competence: CompetenceSnapshotSchema,
});
export type ActivateDelegation = z.infer<typeof ActivateDelegationSchema>;

/** Sent by the scheduler at the review date. */
export const MarkReviewDueSchema = z.strictObject(delegationStreamShape);
export type MarkReviewDue = z.infer<typeof MarkReviewDueSchema>;

export const ReviewDelegationSchema = z.strictObject({
  ...delegationStreamShape,
  notes: textSchema(2000),
  /** Defaults to the framework's review interval from the review. */
  nextReviewDueAt: DateTimeSchema.optional(),
});
export type ReviewDelegation = z.infer<typeof ReviewDelegationSchema>;

export const SuspendDelegationSchema = z.strictObject({ ...delegationStreamShape, reason: DelegationReasonSchema });
export type SuspendDelegation = z.infer<typeof SuspendDelegationSchema>;

/**
 * Sent for every delegation that depends on a competence that lapsed, was suspended or was revoked
 * (COMPETENCE_LAPSED / COMPETENCE_REVOKED): an active delegation is suspended at once.
 */
export const SuspendDelegationForCompetenceSchema = z.strictObject({
  ...delegationStreamShape,
  change: z.enum(['lapsed', 'suspended', 'revoked']),
  reason: DelegationReasonSchema.optional(),
});
export type SuspendDelegationForCompetence = z.infer<typeof SuspendDelegationForCompetenceSchema>;

/**
 * Sent by the delegation service when a competence is reinstated, for each delegation that the
 * reversed suspension suspended (and nothing else since): active again with its review date
 * unchanged, activated in the name of the professional who reinstated the competence.
 */
export const RestoreDelegationAfterCompetenceSchema = z.strictObject({
  ...delegationStreamShape,
  reinstatedBy: RegisteredProfessionalSchema,
  competence: CompetenceSnapshotSchema,
  /** The review date the delegation had when it was suspended: restoring never moves it. */
  reviewDueAt: DateTimeSchema,
});
export type RestoreDelegationAfterCompetence = z.infer<typeof RestoreDelegationAfterCompetenceSchema>;

export const WithdrawDelegationSchema = z.strictObject({ ...delegationStreamShape, reason: DelegationReasonSchema });
export type WithdrawDelegation = z.infer<typeof WithdrawDelegationSchema>;

export const EndDelegationSchema = z.strictObject({ ...delegationStreamShape, reason: DelegationReasonSchema });
export type EndDelegation = z.infer<typeof EndDelegationSchema>;

/** The commands addressed to a `delegation-<delegationId>` stream, by name. */
export const delegationCommandSchemas = {
  ProposeDelegation: ProposeDelegationSchema,
  AcceptDelegation: AcceptDelegationSchema,
  DeclineDelegation: DeclineDelegationSchema,
  RecordPersonAgreement: RecordPersonAgreementSchema,
  ActivateDelegation: ActivateDelegationSchema,
  MarkReviewDue: MarkReviewDueSchema,
  ReviewDelegation: ReviewDelegationSchema,
  SuspendDelegation: SuspendDelegationSchema,
  SuspendDelegationForCompetence: SuspendDelegationForCompetenceSchema,
  RestoreDelegationAfterCompetence: RestoreDelegationAfterCompetenceSchema,
  WithdrawDelegation: WithdrawDelegationSchema,
  EndDelegation: EndDelegationSchema,
} as const;
export type DelegationCommandName = keyof typeof delegationCommandSchemas;
