import { z } from 'zod';
import { defineEvent } from '../events';
import { careCommandShape, EntryIdSchema, IdSchema, PatientIdSchema, ReasonSchema, textSchema, type EventOf } from './common';
import { MedicationProductSchema, MedicineDoseSchema, OrderTimeSchema } from './medication-orders';

// ---------------------------------------------------------------------------------------------
// The medicines administration record (MAR): one outcome for each dose of a medication order,
// recorded at the bedside in the person's care stream (with insulin, observations and notes, so
// corrections, the FHIR projection and the delegation rules treat it as any other entry). Insulin
// given keeps its own command (RecordInsulinAdministered: pen, units, duplicate and instruction
// checks) and is linked to its order by orderId (docs/decisions/0023-medication-orders-and-mar.md).
// ---------------------------------------------------------------------------------------------

/**
 * given: the care worker gave it. self-administered: the person took it themselves, now, with the
 * care worker there. already-taken: the person (or someone else) had taken it before the visit.
 * refused: the person declined it. not-given: not given for another reason (always said). missed:
 * the time passed and nobody gave it.
 */
export const DOSE_OUTCOMES = ['given', 'self-administered', 'already-taken', 'refused', 'not-given', 'missed'] as const;
export const DoseOutcomeSchema = z.enum(DOSE_OUTCOMES, { error: `outcome must be one of ${DOSE_OUTCOMES.join(', ')}` });
export type DoseOutcome = z.infer<typeof DoseOutcomeSchema>;

/** Outcomes in which the person had the medicine: they count towards the minimum interval and the 24-hour maximum. */
export const TAKEN_OUTCOMES: ReadonlySet<DoseOutcome> = new Set(['given', 'self-administered', 'already-taken']);

/** What is sent (and what an amendment sends again). */
const doseInputShape = {
  orderId: IdSchema,
  outcome: DoseOutcomeSchema,
  /** The scheduled time this outcome is for ("HH:MM", as on the order); left out for a PRN dose. */
  scheduledTime: OrderTimeSchema.optional(),
  /** The dose taken: required when given or self-administered; must be in the order's unit. */
  dose: MedicineDoseSchema.optional(),
  /** Why it was refused, not given or missed (required for not-given). */
  reason: ReasonSchema.optional(),
  /** Why a PRN dose was given (required for a PRN dose taken). */
  prnReason: textSchema(500).optional(),
};
export const MedicineDoseInputSchema = z.strictObject(doseInputShape);

/** The confirmations a dose may need (each asked for, then recorded as the dose's flag). */
const confirmationShape = {
  /** A scheduled order's dose at a time the order does not name. */
  confirmedOutsideSchedule: z.boolean().optional(),
  /** A PRN dose sooner than the order's minimum interval after the last one taken. */
  confirmedInsideMinimumInterval: z.boolean().optional(),
  /** A PRN dose beyond the order's maximum in 24 hours. */
  confirmedOverDailyMaximum: z.boolean().optional(),
  /** A dose given although the person's record holds an allergy to it: recorded, flagged and escalated. */
  confirmedDespiteAllergy: z.boolean().optional(),
};

export const RecordMedicineDoseSchema = z.strictObject({ ...careCommandShape, ...doseInputShape, ...confirmationShape });
export type RecordMedicineDose = z.infer<typeof RecordMedicineDoseSchema>;

/** What the stored dose carries besides what was sent: the order's product and whether it is PRN, so the MAR reads without the order. */
export const MedicineDoseDetailsSchema = z.object({
  ...doseInputShape,
  product: MedicationProductSchema,
  prn: z.boolean(),
  timeCritical: z.boolean(),
  ...confirmationShape,
  /** The allergies (AllergyIntolerance ids) the dose was given despite. */
  allergyIds: z.array(IdSchema).optional(),
});
export type MedicineDoseDetails = z.infer<typeof MedicineDoseDetailsSchema>;

export const MedicineDoseRecorded = defineEvent('MedicineDoseRecorded', z.object({ patientId: PatientIdSchema, ...MedicineDoseDetailsSchema.shape }));
export type MedicineDoseRecordedData = z.infer<typeof MedicineDoseRecorded.schema>;

/** Later, what a PRN dose did ("pain eased from 7 to 3 within the hour"): a new version of the dose's MedicationAdministration. */
export const RecordPrnEffectSchema = z.strictObject({ ...careCommandShape, doseEntryId: EntryIdSchema, effect: textSchema(500) });
export type RecordPrnEffect = z.infer<typeof RecordPrnEffectSchema>;
export const PrnEffectRecorded = defineEvent('PrnEffectRecorded', z.object({ patientId: PatientIdSchema, doseEntryId: EntryIdSchema, effect: textSchema(500) }));
export type PrnEffectRecordedData = z.infer<typeof PrnEffectRecorded.schema>;

export const marEventDefinitions = [MedicineDoseRecorded, PrnEffectRecorded] as const;
export type MarEvent = EventOf<(typeof marEventDefinitions)[number]>;
