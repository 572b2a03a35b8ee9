import { z } from 'zod';
import { defineEvent } from '../events';
import { commandBaseShape, DateSchema, DateTimeSchema, IdSchema, PatientIdSchema, ReasonSchema, textSchema, type EventOf } from './common';
import { DMD_SYSTEM, INSULIN_PRODUCT_SYSTEM, INSULIN_PRODUCTS, insulinProductOf } from './insulin-products';
import { SNOMED } from './fhir-vocabulary';

// ---------------------------------------------------------------------------------------------
// What is prescribed for a person, and what they must not be given: the `medicines-<patientId>`
// stream (streamName.medicines). Medication orders (a dm+d product, a dose with its unit, a route,
// scheduled times or PRN limits, start and stop, the prescriber, time-critical), allergies and
// conditions. Entered by a nurse or a GP (the policy's `medicine.prescribe`), or received from
// another system as FHIR. Changes are events: an order changed is a new version, never an overwrite
// (docs/decisions/0023-medication-orders-and-mar.md).
// ---------------------------------------------------------------------------------------------

/**
 * The product, coded. dm+d (https://dmd.nhs.uk; its concepts are SNOMED CT identifiers, 6 to 18
 * digits) or, for the insulins the record knows, Tandem's insulin product code (INSULIN_PRODUCTS),
 * whose dm+d numbers are still UNVERIFIED. The display is what the chart shows.
 */
export const MEDICATION_PRODUCT_SYSTEMS = [DMD_SYSTEM, INSULIN_PRODUCT_SYSTEM] as const;
export const MedicationProductSchema = z
  .strictObject({
    system: z.enum(MEDICATION_PRODUCT_SYSTEMS, { error: `must be ${DMD_SYSTEM} (dm+d) or ${INSULIN_PRODUCT_SYSTEM} (the insulins this record knows)` }),
    code: z.string({ error: 'must be the product code' }).min(1, { error: 'must not be empty' }).max(64),
    display: textSchema(200),
  })
  .superRefine((product, ctx) => {
    if (product.system === DMD_SYSTEM && !/^\d{6,18}$/.test(product.code)) {
      ctx.addIssue({ code: 'custom', path: ['code'], message: 'a dm+d code is a SNOMED CT identifier of 6 to 18 digits' });
    }
    if (product.system === INSULIN_PRODUCT_SYSTEM && !INSULIN_PRODUCTS.some((p) => p.code === product.code)) {
      ctx.addIssue({ code: 'custom', path: ['code'], message: `must be one of the insulin product codes: ${INSULIN_PRODUCTS.map((p) => p.code).join(', ')}` });
    }
  });
export type MedicationProduct = z.infer<typeof MedicationProductSchema>;

/** True for an insulin: by Tandem's code, or a dm+d product whose name is one the record knows. */
export const isInsulinProduct = (product: MedicationProduct): boolean =>
  product.system === INSULIN_PRODUCT_SYSTEM || insulinProductOf(product.display) !== undefined;

/**
 * Dose units, written in full: "units" (insulin, heparin: never "U" or "IU"), "microgram" (never
 * "mcg" or "ug", misread as mg: NPSA and ISMP error-prone abbreviations).
 */
export const DOSE_UNITS = ['units', 'tablet', 'capsule', 'mg', 'microgram', 'g', 'ml', 'puff', 'drop', 'sachet', 'patch', 'application', 'suppository'] as const;
export const DoseUnitSchema = z.enum(DOSE_UNITS, {
  error: `the unit must be one of ${DOSE_UNITS.join(', ')}, written in full ("units", never "U" or "IU"; "microgram", never "mcg")`,
});
export type DoseUnit = z.infer<typeof DoseUnitSchema>;

export const MedicineDoseSchema = z.strictObject({
  value: z.number({ error: 'dose must be a number' }).gt(0, { error: 'dose must be more than 0' }).max(10_000, { error: 'dose must be at most 10000' }),
  unit: DoseUnitSchema,
});
export type MedicineDose = z.infer<typeof MedicineDoseSchema>;

export const MEDICATION_ROUTES = ['oral', 'subcutaneous', 'intramuscular', 'topical', 'transdermal', 'inhaled', 'sublingual', 'buccal', 'rectal', 'eye', 'ear', 'nasal'] as const;
export const MedicationRouteSchema = z.enum(MEDICATION_ROUTES, { error: `route must be one of ${MEDICATION_ROUTES.join(', ')}` });
export type MedicationRoute = z.infer<typeof MedicationRouteSchema>;

/** A time of day in England, "HH:MM" (as the chart and the instruction write it). */
export const OrderTimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: "must be a time of day in England written HH:MM (24-hour)" });

export const ScheduledTimingSchema = z.strictObject({
  kind: z.literal('scheduled'),
  times: z
    .array(OrderTimeSchema, { error: 'times must be a list of times of day' })
    .min(1, { error: 'a scheduled medicine needs at least one time' })
    .max(12, { error: 'at most 12 times a day' })
    .refine((times) => new Set(times).size === times.length, { error: 'each time once' }),
});

/** "When required": why, how often at most, and how many in 24 hours at most. */
export const PrnTimingSchema = z.strictObject({
  kind: z.literal('prn'),
  indication: textSchema(200),
  minimumIntervalMinutes: z.number({ error: 'minimumIntervalMinutes must be a number of minutes' }).int().min(15).max(24 * 60),
  maxDosesIn24Hours: z.number({ error: 'maxDosesIn24Hours must be a number' }).int().min(1).max(24),
});

export const MedicationTimingSchema = z.discriminatedUnion('kind', [ScheduledTimingSchema, PrnTimingSchema], {
  error: 'timing.kind must be "scheduled" (with times) or "prn" (with indication, minimumIntervalMinutes and maxDosesIn24Hours)',
});
export type MedicationTiming = z.infer<typeof MedicationTimingSchema>;

/** What an order says (the same in a prescription and each of its changes). */
const orderShape = {
  product: MedicationProductSchema,
  dose: MedicineDoseSchema,
  route: MedicationRouteSchema,
  timing: MedicationTimingSchema,
  start: DateTimeSchema,
  stop: DateTimeSchema.optional(),
  /**
   * Time-critical (insulin, Parkinson's medicines): a late dose is noticed sooner. An insulin is
   * always time-critical whatever is sent (the decider sets it).
   */
  timeCritical: z.boolean({ error: 'timeCritical: answer true or false' }).optional(),
  /** How to give it, as the prescriber writes it ("with food"). */
  instructions: textSchema(500).optional(),
};

/** The stored order: every field the decider settled (timeCritical decided, prescriber named). */
export const MedicationOrderDetailsSchema = z.object({
  ...orderShape,
  timeCritical: z.boolean(),
  /** The nurse or GP who prescribed (the actor, or the requester another system named). */
  prescriberId: IdSchema,
});
export type MedicationOrderDetails = z.infer<typeof MedicationOrderDetailsSchema>;

export const PrescribeMedicationSchema = z.strictObject({
  ...commandBaseShape,
  ...orderShape,
  /** The prescriber when another system sends the order (MedicationRequest.requester); otherwise the one recording it. */
  prescriberId: IdSchema.optional(),
});
export type PrescribeMedication = z.infer<typeof PrescribeMedicationSchema>;

export const ChangeMedicationOrderSchema = z.strictObject({
  ...commandBaseShape,
  orderId: IdSchema,
  reason: ReasonSchema,
  /** The order's version the change was made against (FHIR If-Match). */
  expectedVersion: z.number().int().positive().optional(),
  ...orderShape,
  prescriberId: IdSchema.optional(),
});
export type ChangeMedicationOrder = z.infer<typeof ChangeMedicationOrderSchema>;

export const StopMedicationOrderSchema = z.strictObject({
  ...commandBaseShape,
  orderId: IdSchema,
  reason: ReasonSchema,
  /** The order's version the stop was made against (FHIR If-Match): a stop decided on a copy someone has since changed is refused. */
  expectedVersion: z.number().int().positive().optional(),
});
export type StopMedicationOrder = z.infer<typeof StopMedicationOrderSchema>;

/** An order is named by the event id of its MedicationOrdered (as an entry is), and is MedicationRequest/<orderId>. */
export const MedicationOrdered = defineEvent('MedicationOrdered', z.object({ patientId: PatientIdSchema, ...MedicationOrderDetailsSchema.shape }));
export type MedicationOrderedData = z.infer<typeof MedicationOrdered.schema>;

/** The order again, whole, at its next version (the earlier version stays in the stream and in _history). */
export const MedicationOrderChanged = defineEvent(
  'MedicationOrderChanged',
  z.object({ patientId: PatientIdSchema, orderId: IdSchema, reason: ReasonSchema, order: MedicationOrderDetailsSchema }),
);
export type MedicationOrderChangedData = z.infer<typeof MedicationOrderChanged.schema>;

export const MedicationOrderStopped = defineEvent('MedicationOrderStopped', z.object({ patientId: PatientIdSchema, orderId: IdSchema, reason: ReasonSchema }));
export type MedicationOrderStoppedData = z.infer<typeof MedicationOrderStopped.schema>;

// ---------------------------------------------------------------------------------------------
// Allergies and conditions
// ---------------------------------------------------------------------------------------------

/** What the person is allergic to: a dm+d product or ingredient, or a SNOMED CT substance. */
export const AllergySubstanceSchema = z
  .strictObject({
    system: z.enum([DMD_SYSTEM, SNOMED], { error: `must be ${DMD_SYSTEM} (dm+d) or ${SNOMED} (a SNOMED CT substance)` }),
    code: z.string().regex(/^\d{6,18}$/, { error: 'must be a SNOMED CT or dm+d identifier of 6 to 18 digits' }),
    display: textSchema(200),
  });

export const AllergyInputShape = {
  substance: AllergySubstanceSchema,
  category: z.enum(['medication', 'food', 'environment', 'biologic'], { error: 'category must be medication, food, environment or biologic' }),
  criticality: z.enum(['low', 'high', 'unable-to-assess'], { error: 'criticality must be low, high or unable-to-assess' }),
  reaction: textSchema(500).optional(),
};
export const RecordAllergySchema = z.strictObject({ ...commandBaseShape, ...AllergyInputShape });
export type RecordAllergy = z.infer<typeof RecordAllergySchema>;
export const AllergyRecorded = defineEvent('AllergyRecorded', z.object({ patientId: PatientIdSchema, ...AllergyInputShape }));
export type AllergyRecordedData = z.infer<typeof AllergyRecorded.schema>;

/**
 * Where an allergy stands (FHIR AllergyIntolerance clinicalStatus and verificationStatus). Recorded
 * active and confirmed; a change may say it was only suspected (unconfirmed: it still stops a dose,
 * a suspected allergy is an allergy to a care worker), ruled out (refuted), or is no longer active.
 */
export const ALLERGY_CLINICAL_STATUSES = ['active', 'inactive', 'resolved'] as const;
export const ALLERGY_VERIFICATION_STATUSES = ['confirmed', 'unconfirmed', 'refuted'] as const;
export type AllergyClinicalStatus = (typeof ALLERGY_CLINICAL_STATUSES)[number];
export type AllergyVerificationStatus = (typeof ALLERGY_VERIFICATION_STATUSES)[number];

/** An allergy as it stands after a change: the substance it was recorded for, the rest as changed. */
export const AllergyDetailsShape = {
  ...AllergyInputShape,
  clinicalStatus: z.enum(ALLERGY_CLINICAL_STATUSES, { error: `clinicalStatus must be ${ALLERGY_CLINICAL_STATUSES.join(', ')}` }),
  verificationStatus: z.enum(ALLERGY_VERIFICATION_STATUSES, { error: `verificationStatus must be ${ALLERGY_VERIFICATION_STATUSES.join(', ')}` }),
};
const AllergyDetailsSchema = z.object(AllergyDetailsShape);
export type AllergyDetails = z.infer<typeof AllergyDetailsSchema>;

/** The field naming the allergy or condition a change or a withdrawal is of. */
const idField = <Id extends string>(name: Id) => ({ [name]: IdSchema }) as { [K in Id]: typeof IdSchema };

/** What every change or withdrawal of an allergy or a condition says: which, why, and the version it was made against (FHIR If-Match). */
const revisionShape = <Id extends string>(name: Id) => ({ ...commandBaseShape, ...idField(name), reason: ReasonSchema, expectedVersion: z.number().int().positive().optional() });
/** What every change or withdrawal records: whose, which, why (who is the event's actor). */
const revisedShape = <Id extends string>(name: Id) => ({ patientId: PatientIdSchema, ...idField(name), reason: ReasonSchema });

/** The allergy again, whole, with why (its substance cannot change: that is another allergy). */
export const ChangeAllergySchema = z.strictObject({ ...revisionShape('allergyId'), ...AllergyDetailsShape });
export type ChangeAllergy = z.infer<typeof ChangeAllergySchema>;
export const AllergyChanged = defineEvent('AllergyChanged', z.object({ ...revisedShape('allergyId'), allergy: AllergyDetailsSchema }));
export type AllergyChangedData = z.infer<typeof AllergyChanged.schema>;

/** An allergy that should never have been recorded (the wrong person, the wrong substance): it no longer stops a dose; it stays in the stream and its history. */
export const MarkAllergyEnteredInErrorSchema = z.strictObject(revisionShape('allergyId'));
export type MarkAllergyEnteredInError = z.infer<typeof MarkAllergyEnteredInErrorSchema>;
export const AllergyEnteredInError = defineEvent('AllergyEnteredInError', z.object(revisedShape('allergyId')));
export type AllergyEnteredInErrorData = z.infer<typeof AllergyEnteredInError.schema>;

export const ConditionInputShape = {
  code: z.strictObject({
    system: z.literal(SNOMED, { error: `must be ${SNOMED}` }),
    code: z.string().regex(/^\d{6,18}$/, { error: 'must be a SNOMED CT identifier of 6 to 18 digits' }),
    display: textSchema(200),
  }),
  clinicalStatus: z.enum(['active', 'recurrence', 'relapse', 'inactive', 'remission', 'resolved'], { error: 'clinicalStatus must be active, recurrence, relapse, inactive, remission or resolved' }),
  onset: DateSchema.optional(),
  note: textSchema(1000).optional(),
};
export const RecordConditionSchema = z.strictObject({ ...commandBaseShape, ...ConditionInputShape });
export type RecordCondition = z.infer<typeof RecordConditionSchema>;
export const ConditionRecorded = defineEvent('ConditionRecorded', z.object({ patientId: PatientIdSchema, ...ConditionInputShape }));
export type ConditionRecordedData = z.infer<typeof ConditionRecorded.schema>;

/** A condition as it stands after a change: the code it was recorded for; its status, abatement and note as changed. */
export const ConditionDetailsShape = {
  ...ConditionInputShape,
  /** The day it ended (resolved, in remission or inactive): FHIR abatementDateTime. */
  abatement: DateSchema.optional(),
};
const ConditionDetailsSchema = z.object(ConditionDetailsShape);
export type ConditionDetails = z.infer<typeof ConditionDetailsSchema>;

/** The condition again, whole, with why (its code cannot change: that is another condition). */
export const ChangeConditionSchema = z.strictObject({ ...revisionShape('conditionId'), ...ConditionDetailsShape });
export type ChangeCondition = z.infer<typeof ChangeConditionSchema>;
export const ConditionChanged = defineEvent('ConditionChanged', z.object({ ...revisedShape('conditionId'), condition: ConditionDetailsSchema }));
export type ConditionChangedData = z.infer<typeof ConditionChanged.schema>;

export const MarkConditionEnteredInErrorSchema = z.strictObject(revisionShape('conditionId'));
export type MarkConditionEnteredInError = z.infer<typeof MarkConditionEnteredInErrorSchema>;
export const ConditionEnteredInError = defineEvent('ConditionEnteredInError', z.object(revisedShape('conditionId')));
export type ConditionEnteredInErrorData = z.infer<typeof ConditionEnteredInError.schema>;

const normalisedWords = (text: string): string => ` ${text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim()} `;

/**
 * Whether an allergy is to this product: the same code, or the allergy's substance named inside the
 * product's name ("Penicillin" in "Phenoxymethylpenicillin 250mg tablets", "Amoxicillin" in
 * "Amoxicillin 500mg capsules"). Without dm+d's ingredient tables (VMP to VTM) this is by words, so
 * it errs towards asking: a false match asks the care worker to check, a missed one could harm.
 */
export const allergyMatchesProduct = (allergy: Pick<AllergyRecordedData, 'substance'>, product: MedicationProduct): boolean => {
  if (allergy.substance.code === product.code) return true;
  const substance = normalisedWords(allergy.substance.display).trim();
  if (substance.length < 4) return false;
  return normalisedWords(product.display).replace(/ /g, '').includes(substance.replace(/ /g, ''));
};

export const medicinesStreamEventDefinitions = [
  MedicationOrdered,
  MedicationOrderChanged,
  MedicationOrderStopped,
  AllergyRecorded,
  AllergyChanged,
  AllergyEnteredInError,
  ConditionRecorded,
  ConditionChanged,
  ConditionEnteredInError,
] as const;
export type MedicinesStreamEvent = EventOf<(typeof medicinesStreamEventDefinitions)[number]>;

/** The commands addressed to a `medicines-<patientId>` stream, by name. */
export const medicinesCommandSchemas = {
  PrescribeMedication: PrescribeMedicationSchema,
  ChangeMedicationOrder: ChangeMedicationOrderSchema,
  StopMedicationOrder: StopMedicationOrderSchema,
  RecordAllergy: RecordAllergySchema,
  RecordCondition: RecordConditionSchema,
  ChangeAllergy: ChangeAllergySchema,
  MarkAllergyEnteredInError: MarkAllergyEnteredInErrorSchema,
  ChangeCondition: ChangeConditionSchema,
  MarkConditionEnteredInError: MarkConditionEnteredInErrorSchema,
} as const;
export type MedicinesCommandName = keyof typeof medicinesCommandSchemas;
