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
    /**
     * The entry was recorded by no one at the bedside (a system integration, a remote device, a
     * clinician elsewhere): an emergency then starts at the first tier, whose people must
     * acknowledge it by a deadline, instead of the 999 advice to a care worker who may not be there.
     */
    recordedAwayFromBedside: z.boolean().optional(),
    /** The visit a late or missed visit escalation is about (its provider's registered manager is told first). */
    visitId: IdSchema.optional(),
  }),
);
export type EscalationRaisedData = z.infer<typeof EscalationRaised.schema>;

/** One named person an escalation reached, and why they were chosen (docs/clinical/escalation-recipients.md). */
export const EscalationRecipientSchema = z.object({
  practitionerId: IdSchema,
  /** e.g. "delegating nurse", "nursing team", "registered GP", "on call (org-north-district-nursing rota)". */
  reason: textSchema(200),
});
export type EscalationRecipient = z.infer<typeof EscalationRecipientSchema>;

export const EscalationSentToTier = defineEvent(
  'EscalationSentToTier',
  z.object({
    /**
     * The people it reached at this tier, by name: resolved when it was sent from the delegation,
     * the person's care team and GP, and the organisations' on-call rotas. Left out on events
     * stored before recipients were named.
     */
    recipients: z.array(EscalationRecipientSchema).max(50).optional(),
    /** The people told as well, by name (an emergency informs the nursing team). */
    informedRecipients: z.array(EscalationRecipientSchema).max(50).optional(),
    /** Nobody could be found for this tier (nobody on call): it goes to the next tier at once, and the gap is an incident escalation. */
    nobodyAvailable: z.boolean().optional(),
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
    /**
     * A reminder: nobody at the last tier has acknowledged, so it is sent to them again (and the
     * first tier's people told again) at the tier's interval, until someone acknowledges.
     */
    reminder: z.number().int().min(1).optional(),
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
/** The type of every event of an escalation stream, for readers that tell of escalations (the live stream, subscription topics). */
export const ESCALATION_EVENT_TYPES: ReadonlySet<string> = new Set(escalationEventDefinitions.map((d) => d.type));
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
  recordedAwayFromBedside: z.boolean().optional(),
  visitId: IdSchema.optional(),
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

// ---------------------------------------------------------------------------------------------
// The on-call rota of one organisation (stream oncall-<organisationId>): who is on call when,
// as a weekly pattern in England's local time. Each OnCallRotaSet replaces the whole rota. It
// decides who the "on-call nurse or GP" tier of an escalation reaches.
// ---------------------------------------------------------------------------------------------

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const WeekdaySchema = z.enum(WEEKDAYS);
export type Weekday = z.infer<typeof WeekdaySchema>;

const TimeOfDaySchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'must be a time of day in England, HH:MM (00:00 to 23:59)' });

export const OnCallShiftSchema = z.strictObject({
  practitionerId: IdSchema,
  /** The days the shift starts on; every day when left out. */
  days: z.array(WeekdaySchema).min(1).max(7).optional(),
  /** From this local time; until the local time `until` (earlier or equal: it ends the next day; equal: 24 hours). */
  from: TimeOfDaySchema,
  until: TimeOfDaySchema,
});
export type OnCallShift = z.infer<typeof OnCallShiftSchema>;

const rotaShape = {
  organisationId: IdSchema,
  shifts: z.array(OnCallShiftSchema).max(200),
  /** The registered manager of a care service: told when the person has no nursing team and no GP. */
  registeredManager: IdSchema.optional(),
};

export const OnCallRotaSet = defineEvent('OnCallRotaSet', z.object(rotaShape));
export type OnCallRotaSetData = z.infer<typeof OnCallRotaSet.schema>;
export const rotaEventDefinitions = [OnCallRotaSet] as const;

export const SetOnCallRotaSchema = z.strictObject({ ...delegationCommandBaseShape, ...rotaShape });
export type SetOnCallRota = z.infer<typeof SetOnCallRotaSchema>;
