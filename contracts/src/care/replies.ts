import { z } from 'zod';
import { News2ParameterSchema, News2ResultSchema } from './observations';

/**
 * What the command API answers to a recorded entry: where it went, and what to do at the bedside
 * now, so the care worker's screen shows it at once (docs/clinical/reference.md sections 2, 5, 6).
 */

export const AdviceUrgencySchema = z.enum(['emergency', 'urgent', 'soon', 'routine']);
export type AdviceUrgency = z.infer<typeof AdviceUrgencySchema>;

/** One thing to do, in plain words; "emergency" advice starts with "Call 999 now". */
export const BedsideAdviceSchema = z.object({
  urgency: AdviceUrgencySchema,
  text: z.string(),
  /** The rule it comes from, for the curious and for audit (e.g. "NEWS2 7 or more (RCP 2017)"). */
  basis: z.string(),
});
export type BedsideAdvice = z.infer<typeof BedsideAdviceSchema>;

export const News2BandSchema = z.enum(['low', 'low-medium', 'medium', 'high', 'incomplete']);

/** The NEWS2 of a set of vital signs as the bedside reads it: the stored result plus its band in words. */
export const News2ReplySchema = News2ResultSchema.extend({
  band: News2BandSchema.describe('The clinical risk band (RCP 2017); "incomplete" when any parameter is missing: never shown as low'),
  missing: z.array(News2ParameterSchema).describe('The parameters not measured; an incomplete NEWS2 has no total'),
});
export type News2Reply = z.infer<typeof News2ReplySchema>;

/** The prompts and escalations the delegation service's rules started for this entry. */
export const FollowUpsSchema = z.object({
  promptIds: z.array(z.string()),
  escalationIds: z.array(z.string()),
});
export type FollowUps = z.infer<typeof FollowUpsSchema>;

export const CommandReplySchema = z.object({
  position: z.number().int().describe('Global position: send it as X-Tandem-Min-Position to read your own write from /fhir'),
  revision: z.number().int(),
  eventIds: z.array(z.uuid()),
  eventTypes: z.array(z.string()),
  replayed: z.boolean().describe('True when this user already sent this command with this idempotency key: nothing new was stored, the answer is the first one'),
});

export const CareEntryReplySchema = CommandReplySchema.extend({
  /** The entry's id (the event that first recorded it): name it to amend or mark it entered in error. */
  entryId: z.uuid().optional(),
  news2: News2ReplySchema.optional().describe('Vital signs only: NEWS2 as the server scored it on the person\'s SpO2 scale'),
  advice: z.array(BedsideAdviceSchema).describe('What to do now, most urgent first (empty when the entry calls for nothing)'),
  late: z.boolean().optional().describe('True when the entry is dated more than 7 days back (confirmed with confirmedLate) and is shown as late'),
  followUps: FollowUpsSchema.optional().describe('Prompts and escalations this entry started (ids in /api/prompts and /api/escalations)'),
  followUpsPending: z
    .boolean()
    .optional()
    .describe('True when the rules had not finished with this entry in time: follow-ups may still start; look at /api/prompts and /api/escalations shortly'),
});
export type CareEntryReply = z.infer<typeof CareEntryReplySchema>;
