import { z } from 'zod';
import { defineEvent } from '../events';
import { DateTimeSchema, EntryIdSchema, IdSchema, PatientIdSchema, textSchema, type EventOf } from '../care/common';
import { delegationCommandBaseShape, FrameworkIdSchema, frameworkRefShape, SbardSchema, StaffMemberSchema, UrgencySchema } from './common';

// ---------------------------------------------------------------------------------------------
// One escalation (stream escalation-<id>): raised by a framework rule with an SBARD message and
// the entries that triggered it, sent to the first tier (the accountable district nurse) with a
// deadline by urgency; not acknowledged by the deadline -> re-escalated to the next tier (on-call
// nurse or GP, then NHS 111 / 999 advice to the care worker), every step an event. An emergency
// goes straight to 999 advice, with the nurse informed.
// ---------------------------------------------------------------------------------------------

export const EscalationRaised = defineEvent(
  'EscalationRaised',
  z.object({
    escalationId: IdSchema,
    patientId: PatientIdSchema,
    ...frameworkRefShape,
    delegationId: IdSchema.optional(),
    /** The framework rule that raised it, by its clinical name (e.g. insulin.hypo). */
    ruleId: IdSchema,
    urgency: UrgencySchema,
    sbard: SbardSchema,
    /** The care entries (event ids) that triggered the rule; none for a missed monitoring. */
    triggeringEntryIds: z.array(EntryIdSchema).max(50),
    /** An incident (e.g. insulin given without an active delegation), not only a deterioration. */
    incident: z.boolean(),
  }),
);
export type EscalationRaisedData = z.infer<typeof EscalationRaised.schema>;

export const EscalationSentToTier = defineEvent(
  'EscalationSentToTier',
  z.object({
    /** 0 is the first tier of the framework's escalation path. */
    tier: z.number().int().min(0),
    tierId: IdSchema,
    /** Who receives it at this tier (e.g. accountable-district-nurse, care-worker). */
    recipient: IdSchema,
    /** When it goes to the next tier if nobody acknowledges; null at the last tier. */
    dueAt: DateTimeSchema.nullable(),
    /** Recipients told as well (an emergency informs the accountable nurse). */
    informed: z.array(IdSchema),
    /** What the recipient is asked to do (e.g. call 999 now). */
    advice: textSchema(2000).optional(),
  }),
);
export type EscalationSentToTierData = z.infer<typeof EscalationSentToTier.schema>;

export const EscalationAcknowledged = defineEvent(
  'EscalationAcknowledged',
  z.object({ by: StaffMemberSchema, tier: z.number().int().min(0), note: textSchema(2000).optional() }),
);
export type EscalationAcknowledgedData = z.infer<typeof EscalationAcknowledged.schema>;

export const EscalationReEscalated = defineEvent(
  'EscalationReEscalated',
  z.object({ fromTier: z.number().int().min(0), toTier: z.number().int().min(0), missedDueAt: DateTimeSchema, reason: textSchema(1000) }),
);
export type EscalationReEscalatedData = z.infer<typeof EscalationReEscalated.schema>;

export const EscalationResolved = defineEvent('EscalationResolved', z.object({ by: StaffMemberSchema, outcome: textSchema(2000) }));
export type EscalationResolvedData = z.infer<typeof EscalationResolved.schema>;

export const escalationEventDefinitions = [
  EscalationRaised,
  EscalationSentToTier,
  EscalationAcknowledged,
  EscalationReEscalated,
  EscalationResolved,
] as const;
export type EscalationEvent = EventOf<(typeof escalationEventDefinitions)[number]>;
export type EscalationEventType = EscalationEvent['type'];

// ---------------------------------------------------------------------------------------------
// Commands (stream escalation-<escalationId>).
// ---------------------------------------------------------------------------------------------

const escalationStreamShape = { ...delegationCommandBaseShape, escalationId: IdSchema };

export const RaiseEscalationSchema = z.strictObject({
  ...escalationStreamShape,
  patientId: PatientIdSchema,
  frameworkId: FrameworkIdSchema,
  delegationId: IdSchema.optional(),
  ruleId: IdSchema,
  urgency: UrgencySchema,
  sbard: SbardSchema,
  triggeringEntryIds: z.array(EntryIdSchema).max(50),
  incident: z.boolean().optional(),
});
export type RaiseEscalation = z.infer<typeof RaiseEscalationSchema>;

export const AcknowledgeEscalationSchema = z.strictObject({ ...escalationStreamShape, note: textSchema(2000).optional() });
export type AcknowledgeEscalation = z.infer<typeof AcknowledgeEscalationSchema>;

/** Sent by the scheduler at the current tier's `dueAt` (the DEADLINE_PASSED timer). */
export const EscalationDeadlinePassedSchema = z.strictObject(escalationStreamShape);
export type EscalationDeadlinePassed = z.infer<typeof EscalationDeadlinePassedSchema>;

export const ResolveEscalationSchema = z.strictObject({ ...escalationStreamShape, outcome: textSchema(2000) });
export type ResolveEscalation = z.infer<typeof ResolveEscalationSchema>;

/** The commands addressed to an `escalation-<escalationId>` stream, by name. */
export const escalationCommandSchemas = {
  RaiseEscalation: RaiseEscalationSchema,
  AcknowledgeEscalation: AcknowledgeEscalationSchema,
  EscalationDeadlinePassed: EscalationDeadlinePassedSchema,
  ResolveEscalation: ResolveEscalationSchema,
} as const;
export type EscalationCommandName = keyof typeof escalationCommandSchemas;
