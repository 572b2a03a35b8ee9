import { z } from 'zod';
import { defineEvent } from '../events';
import { DateTimeSchema, EntryIdSchema, IdSchema, PatientIdSchema, textSchema, type EventOf } from '../care/common';
import { CorrectableEntryTypeSchema } from '../care/corrections';
import { delegationCommandBaseShape, frameworkRefShape, StaffMemberSchema } from './common';

// ---------------------------------------------------------------------------------------------
// A prompt to the care worker at the bedside (stream prompt-<promptId>): what a framework rule
// asks them to do at once (the hypo protocol: treat, do not give insulin, recheck in 15 minutes).
// Issued by the delegation service's reaction to a care entry; acknowledged by the care worker;
// its recheck is recorded (a later entry of the same kind) or missed at `dueAt`, which raises an
// escalation. Every deadline is a field of an event, fired by the scheduler.
// ---------------------------------------------------------------------------------------------

export const RecheckSchema = z.object({
  /** The entry that shows the recheck was done (e.g. BloodGlucoseRecorded). */
  entry: CorrectableEntryTypeSchema,
  /** The observation to recheck (e.g. glucose), when the rule names one. */
  observation: z.string().min(1).max(40).optional(),
  /** The entry that started the prompt: the recheck is an entry of the same kind after it. */
  afterEntryId: EntryIdSchema,
  dueAt: DateTimeSchema,
});
export type Recheck = z.infer<typeof RecheckSchema>;

export const CarePromptIssued = defineEvent(
  'CarePromptIssued',
  z.object({
    promptId: IdSchema,
    patientId: PatientIdSchema,
    ...frameworkRefShape,
    delegationId: IdSchema.optional(),
    /** The framework rule that asked for it (e.g. insulin.hypo). */
    ruleId: IdSchema,
    /** The framework's prompt (e.g. hypo-protocol), when the rule names one. */
    promptKey: IdSchema.optional(),
    title: textSchema(200),
    steps: z.array(textSchema(500)).min(1).max(20),
    /** Who is prompted: the care worker who recorded the entry. */
    careWorkerId: IdSchema,
    triggeringEntryId: EntryIdSchema,
    /** The activity not to perform now (e.g. insulin while glucose is below 4.0 mmol/L). */
    withholdActivityId: IdSchema.optional(),
    recheck: RecheckSchema.optional(),
    /** The escalation raised by the same entry, if any. */
    escalationId: IdSchema.optional(),
    /**
     * A scheduled dose left with no outcome past its tolerance (docs/decisions/0023): the order,
     * the dose's time, and when it is escalated to the nursing team if still nothing is recorded.
     * `triggeringEntryId` is then the order (its MedicationOrdered event id).
     */
    dose: z
      .object({ orderId: IdSchema, scheduledTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/), scheduledAt: DateTimeSchema, escalateAt: DateTimeSchema, timeCritical: z.boolean() })
      .optional(),
  }),
);
export type CarePromptIssuedData = z.infer<typeof CarePromptIssued.schema>;

export const CarePromptAcknowledged = defineEvent('CarePromptAcknowledged', z.object({ by: StaffMemberSchema }));
export type CarePromptAcknowledgedData = z.infer<typeof CarePromptAcknowledged.schema>;

/** The recheck the prompt asked for was recorded (the entry that shows it). */
export const RecheckRecorded = defineEvent('RecheckRecorded', z.object({ entryId: EntryIdSchema }));
export type RecheckRecordedData = z.infer<typeof RecheckRecorded.schema>;

/** Nothing was recorded by the recheck's dueAt: an escalation was raised. */
export const RecheckMissed = defineEvent('RecheckMissed', z.object({ dueAt: DateTimeSchema, escalationId: IdSchema }));
export type RecheckMissedData = z.infer<typeof RecheckMissed.schema>;

export const promptEventDefinitions = [CarePromptIssued, CarePromptAcknowledged, RecheckRecorded, RecheckMissed] as const;
/** The type of every event of a prompt stream. */
export const PROMPT_EVENT_TYPES: ReadonlySet<string> = new Set(promptEventDefinitions.map((d) => d.type));
export type PromptEvent = EventOf<(typeof promptEventDefinitions)[number]>;
export type PromptEventType = PromptEvent['type'];

// ---------------------------------------------------------------------------------------------
// Commands (stream prompt-<promptId>). Only the acknowledgement comes from a person; the others
// are sent by the delegation service's reactions and scheduler.
// ---------------------------------------------------------------------------------------------

const promptStreamShape = { ...delegationCommandBaseShape, promptId: IdSchema };

export const IssueCarePromptSchema = z.strictObject({ ...promptStreamShape, prompt: CarePromptIssued.schema });
export type IssueCarePrompt = z.infer<typeof IssueCarePromptSchema>;

export const AcknowledgeCarePromptSchema = z.strictObject({ ...promptStreamShape, note: textSchema(1000).optional() });
export type AcknowledgeCarePrompt = z.infer<typeof AcknowledgeCarePromptSchema>;

export const RecordRecheckSchema = z.strictObject({ ...promptStreamShape, entryId: EntryIdSchema });
export type RecordRecheck = z.infer<typeof RecordRecheckSchema>;

/** Sent by the scheduler at the recheck's dueAt, with the escalation raised for the missed recheck. */
export const RecheckDueSchema = z.strictObject({ ...promptStreamShape, escalationId: IdSchema });
export type RecheckDue = z.infer<typeof RecheckDueSchema>;

export const promptCommandSchemas = {
  IssueCarePrompt: IssueCarePromptSchema,
  AcknowledgeCarePrompt: AcknowledgeCarePromptSchema,
  RecordRecheck: RecordRecheckSchema,
  RecheckDue: RecheckDueSchema,
} as const;
export type PromptCommandName = keyof typeof promptCommandSchemas;
