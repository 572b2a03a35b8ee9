import { z } from 'zod';
import { defineEvent } from '../events';
import { commandBaseShape, DateSchema, PatientIdSchema, textSchema } from '../care/common';

// ---------------------------------------------------------------------------------------------
// A person's own outcomes (issue 15; docs/decisions/0037-capacity-and-outcomes.md): what matters
// to them, in their words, as TLAP's "I statements" put it ("I can do the things that are
// important to me"), agreed with them, its progress over time, and its close. On the person's
// own stream (patient-<id>), like their care team: an outcome is about the person, not one entry
// of their care. Served as FHIR Goal (a version for each change: the progress is its history).
// ---------------------------------------------------------------------------------------------

/** FHIR R4 goal-achievement (http://terminology.hl7.org/CodeSystem/goal-achievement). */
export const GOAL_ACHIEVEMENT_CODES = ['in-progress', 'improving', 'worsening', 'no-change', 'achieved', 'sustaining', 'not-achieved', 'no-progress', 'not-attainable'] as const;
export const GoalAchievementSchema = z.enum(GOAL_ACHIEVEMENT_CODES, { error: `must be one of ${GOAL_ACHIEVEMENT_CODES.join(', ')}` });
export type GoalAchievement = z.infer<typeof GoalAchievementSchema>;

/** How a goal ends: met or let go of (completed), or no longer wanted or agreed in error (cancelled). */
export const GoalCloseStatusSchema = z.enum(['completed', 'cancelled'], { error: 'must be completed or cancelled' });

/** A goal's id is the client's UUID: Goal/<goalId>, unique across people. */
export const GoalIdSchema = z.uuid({ error: 'must be a UUID the client chose for this goal' });

const GoalTargetSchema = z.strictObject({
  /** What "achieved" will look like, in the person's words ("walk to the shop on my own"). */
  description: textSchema(500),
  dueDate: DateSchema.optional(),
});

const agreedShape = {
  patientId: PatientIdSchema,
  goalId: GoalIdSchema,
  /** The outcome in the person's own words, an "I statement": "I can get to chapel on Sundays". */
  statement: textSchema(500),
  target: GoalTargetSchema.optional(),
  note: textSchema(2000).optional(),
};
const progressShape = { patientId: PatientIdSchema, goalId: GoalIdSchema, achievementStatus: GoalAchievementSchema, note: textSchema(2000) };
const closedShape = { patientId: PatientIdSchema, goalId: GoalIdSchema, lifecycleStatus: GoalCloseStatusSchema, achievementStatus: GoalAchievementSchema.optional(), reason: textSchema(1000) };

export const GoalAgreed = defineEvent('GoalAgreed', z.object(agreedShape));
export type GoalAgreedData = z.infer<typeof GoalAgreed.schema>;
export const GoalProgressRecorded = defineEvent('GoalProgressRecorded', z.object(progressShape));
export type GoalProgressRecordedData = z.infer<typeof GoalProgressRecorded.schema>;
export const GoalClosed = defineEvent('GoalClosed', z.object(closedShape));
export type GoalClosedData = z.infer<typeof GoalClosed.schema>;

export const goalEventDefinitions = [GoalAgreed, GoalProgressRecorded, GoalClosed] as const;
export type GoalEvent = { type: 'GoalAgreed'; data: GoalAgreedData } | { type: 'GoalProgressRecorded'; data: GoalProgressRecordedData } | { type: 'GoalClosed'; data: GoalClosedData };

export const AgreeGoalSchema = z.strictObject({ ...commandBaseShape, ...agreedShape });
export type AgreeGoal = z.infer<typeof AgreeGoalSchema>;
export const RecordGoalProgressSchema = z.strictObject({ ...commandBaseShape, ...progressShape });
export type RecordGoalProgress = z.infer<typeof RecordGoalProgressSchema>;
export const CloseGoalSchema = z.strictObject({ ...commandBaseShape, ...closedShape });
export type CloseGoal = z.infer<typeof CloseGoalSchema>;
