import { z } from 'zod';
import { defineEvent } from '../events';
import { InsulinProductCodeSchema } from './insulin-products';
import { careCommandShape, DateTimeSchema, EntryIdSchema, IdSchema, PatientIdSchema, ReasonSchema, textSchema, type EventOf } from './common';

// ---------------------------------------------------------------------------------------------
// Insulin (docs/clinical/reference.md section 2). Never Event: overdose due to abbreviations or the wrong
// device. The unit is always the word "units" (never "U" or "IU"), and insulin is given by pen:
// never drawn from a pen with a syringe.
// ---------------------------------------------------------------------------------------------

export const INSULIN_UNIT = 'units';

/** The one accepted unit, refused with the reason when abbreviated. */
export const InsulinUnitSchema = z.literal(INSULIN_UNIT, {
  error: 'the unit must be the word "units": "U" and "IU" are never accepted (misread abbreviations cause insulin overdoses)',
});

export const InsulinDoseSchema = z.object({
  value: z
    .number({ error: 'dose must be a number of units' })
    .gt(0, { error: 'dose must be more than 0 units' })
    .max(100, { error: 'dose must be at most 100 units' })
    .refine((v) => Number.isInteger(v * 2), { error: 'dose must be in whole or half units, as a pen dials' }),
  unit: InsulinUnitSchema,
});
export type InsulinDose = z.infer<typeof InsulinDoseSchema>;

export const InsulinDeviceSchema = z.literal('pen', {
  error: 'insulin is given by pen only: never draw insulin from a pen with a syringe',
});

export const InjectionSiteSchema = z.enum(['abdomen', 'thigh', 'buttock', 'upper-arm'], {
  error: 'site must be one of abdomen, thigh, buttock, upper-arm',
});
export const BodySideSchema = z.enum(['left', 'right']);

/**
 * The product as written on the person's instruction and Insulin Passport (e.g. "Humulin I KwikPen"),
 * or its code in INSULIN_PRODUCTS. A command's product the record does not know asks for confirmation
 * (see recordInsulinAdministered); stored events keep whatever was confirmed.
 */
export const InsulinProductSchema = textSchema(200);

const administeredShape = {
  product: InsulinProductSchema,
  device: InsulinDeviceSchema,
  dose: InsulinDoseSchema,
  site: InjectionSiteSchema,
  side: BodySideSchema.optional(),
};

/** The record's code for the product (INSULIN_PRODUCTS); absent when a product it does not know was confirmed. */
const storedProductCode = { productCode: InsulinProductCodeSchema.optional() };

export const InsulinAdministeredInputSchema = z.strictObject(administeredShape);
export const RecordInsulinAdministeredSchema = z.strictObject({
  ...careCommandShape,
  ...administeredShape,
  /** The person giving it confirmed that a dose recorded shortly before is not this same dose. */
  confirmedNotDuplicate: z.boolean().optional(),
  /** The person giving it confirmed a product the record does not know: recorded, flagged and escalated. */
  confirmedUnknownProduct: z.boolean().optional(),
  /**
   * The delegation the dose is given under: the dose is then checked against its instruction
   * (product, dose, time) before it is recorded (docs/decisions/0013-coded-insulin.md).
   */
  delegationId: IdSchema.optional(),
  /** The person giving it confirmed a dose that differs from the instruction: recorded and flagged for the nurse. */
  confirmedAgainstInstruction: z.boolean().optional(),
  /** The medication order (MedicationRequest) this dose is given for: checked to be an active insulin order of the same product. */
  orderId: IdSchema.optional(),
});
export type RecordInsulinAdministered = z.infer<typeof RecordInsulinAdministeredSchema>;
export const InsulinAdministeredDetailsSchema = z.object({ ...administeredShape, ...storedProductCode });

export const InsulinAdministered = defineEvent(
  'InsulinAdministered',
  z.object({
    patientId: PatientIdSchema,
    ...administeredShape,
    ...storedProductCode,
    confirmedNotDuplicate: z.boolean().optional(),
    /** Confirmed with a product the record does not know (flagged; the framework's rules raise an incident). */
    confirmedUnknownProduct: z.boolean().optional(),
    /** Confirmed although it differs from its delegation's instruction (flagged; an incident too). */
    confirmedAgainstInstruction: z.boolean().optional(),
    /** The medication order it was given for (MedicationRequest/<orderId>). */
    orderId: IdSchema.optional(),
  }),
);
export type InsulinAdministeredData = z.infer<typeof InsulinAdministered.schema>;

const withheldShape = {
  product: InsulinProductSchema,
  plannedDose: InsulinDoseSchema,
  reason: ReasonSchema,
};
export const InsulinWithheldInputSchema = z.strictObject(withheldShape);
export const RecordInsulinWithheldSchema = z.strictObject({ ...careCommandShape, ...withheldShape, confirmedUnknownProduct: z.boolean().optional(), orderId: IdSchema.optional() });
export type RecordInsulinWithheld = z.infer<typeof RecordInsulinWithheldSchema>;
export const InsulinWithheldDetailsSchema = z.object({ ...withheldShape, ...storedProductCode });

export const InsulinWithheld = defineEvent('InsulinWithheld', z.object({ patientId: PatientIdSchema, ...withheldShape, ...storedProductCode, orderId: IdSchema.optional() }));
export type InsulinWithheldData = z.infer<typeof InsulinWithheld.schema>;

/**
 * A confirmed dose given inside the minimum interval after another dose of the same product:
 * recorded (the record never refuses a fact) and flagged for the delegating nurse. It is appended
 * with that dose, in the same append, right after it.
 */
export const DoseInsideMinimumIntervalFlagged = defineEvent(
  'DoseInsideMinimumIntervalFlagged',
  z.object({
    patientId: PatientIdSchema,
    product: InsulinProductSchema,
    previousDoseEntryId: EntryIdSchema,
    previousDoseOccurredAt: DateTimeSchema,
    minutesApart: z.number().min(0),
    minimumIntervalMinutes: z.number().int().positive(),
  }),
);
export type DoseInsideMinimumIntervalFlaggedData = z.infer<typeof DoseInsideMinimumIntervalFlagged.schema>;

/**
 * A dose (given or withheld) of a product the record does not know, recorded because the person
 * confirmed it: appended right after the dose (or withheld dose), in the same append, as
 * DoseInsideMinimumIntervalFlagged is (the entry is the event before it in the stream). Nothing can check it against a
 * duplicate, an interval or the instruction, so it is an incident for the delegating nurse (the
 * FHIR projection and the rules see this event).
 */
export const UnknownInsulinProductFlagged = defineEvent(
  'UnknownInsulinProductFlagged',
  z.object({ patientId: PatientIdSchema, product: InsulinProductSchema }),
);
export type UnknownInsulinProductFlaggedData = z.infer<typeof UnknownInsulinProductFlagged.schema>;

/**
 * A confirmed dose that differs from the instruction of the delegation it was given under (another
 * product, another dose, or outside the instructed times): appended after the dose, in the same
 * append. Recorded (it happened) and flagged for the delegating nurse.
 */
export const DoseOutsideInstructionFlagged = defineEvent(
  'DoseOutsideInstructionFlagged',
  z.object({
    patientId: PatientIdSchema,
    delegationId: IdSchema,
    differences: z.array(z.object({ field: z.enum(['product', 'dose.value', 'occurredAt']), instructed: z.string(), given: z.string() })).min(1),
  }),
);
export type DoseOutsideInstructionFlaggedData = z.infer<typeof DoseOutsideInstructionFlagged.schema>;

export const medicineEventDefinitions = [InsulinAdministered, InsulinWithheld, DoseInsideMinimumIntervalFlagged, UnknownInsulinProductFlagged, DoseOutsideInstructionFlagged] as const;
export type MedicineEvent = EventOf<(typeof medicineEventDefinitions)[number]>;
