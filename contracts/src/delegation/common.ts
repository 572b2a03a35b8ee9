import { z } from 'zod';
import { RegistrationSchema, RoleSchema } from '../metadata';
import { DateTimeSchema, IdSchema, textSchema } from '../care/common';

// ---------------------------------------------------------------------------------------------
// Pieces shared by the competence, delegation and escalation contracts (docs/clinical/reference.md sections
// 1 and 5). Frameworks themselves are data owned by the delegation service; events name them by
// id and version, so a fourth framework needs no change here.
// ---------------------------------------------------------------------------------------------

/** A framework's id, safe inside a stream name (`competency-<careWorkerId>-<frameworkId>`). */
export const FrameworkIdSchema = z
  .string()
  .min(2)
  .max(64)
  .regex(/^[a-z][a-z0-9-]*[a-z0-9]$/, { error: 'must be lower-case letters, digits and hyphens, e.g. insulin-administration' });

/** Frameworks are versioned data: every event records the version it was decided under. */
export const FrameworkVersionSchema = z.number().int().positive();

export const frameworkRefShape = { frameworkId: FrameworkIdSchema, frameworkVersion: FrameworkVersionSchema };

/** A care worker named in a delegation or a competence record. */
export const CareWorkerSchema = z.object({ practitionerId: IdSchema, role: RoleSchema });
export type CareWorker = z.infer<typeof CareWorkerSchema>;

/**
 * A named registered professional (nurse, nursing associate, GP...) and their registration:
 * who delegates, who observes supervised practice, who assesses and signs off.
 */
export const RegisteredProfessionalSchema = z.object({
  practitionerId: IdSchema,
  role: RoleSchema,
  registration: RegistrationSchema,
});
export type RegisteredProfessional = z.infer<typeof RegisteredProfessionalSchema>;

/** Anyone named as acting: a registered professional, or a care worker with no registration. */
export const StaffMemberSchema = z.object({
  practitionerId: IdSchema,
  role: RoleSchema,
  registration: RegistrationSchema.optional(),
});
export type StaffMember = z.infer<typeof StaffMemberSchema>;

/** Why something was suspended, revoked, withdrawn or ended: always given, never blank. */
export const DelegationReasonSchema = textSchema(1000);

/** How fast a deterioration needs a response (NEWS2 / RESTORE2 response bands). */
export const UrgencySchema = z.enum(['emergency', 'urgent', 'routine'], { error: 'urgency must be emergency, urgent or routine' });
export type Urgency = z.infer<typeof UrgencySchema>;

/** Situation, Background, Assessment, Recommendation, Decision: the shape of every escalation message. */
export const SbardSchema = z.object({
  situation: textSchema(2000),
  background: textSchema(2000),
  assessment: textSchema(2000),
  recommendation: textSchema(2000),
  decision: textSchema(2000),
});
export type Sbard = z.infer<typeof SbardSchema>;

/**
 * What every delegation command carries. The actor is not here: it comes from the caller's token
 * (or is the scheduler, for timers), and decisions take it from their context.
 */
export const delegationCommandBaseShape = {
  /** The client's key: a retried command with the same key never records twice. */
  idempotencyKey: z.string().min(1).max(200),
  /** When it happened (for a timer: when it fell due). */
  occurredAt: DateTimeSchema,
  /** A person's command dated more than OCCURRED_AT_CONFIRM_OLDER_THAN_DAYS back is taken only with this true (issue 9.6), as a care entry. */
  confirmedLate: z.boolean({ error: 'confirmedLate: answer true or false' }).optional(),
};
