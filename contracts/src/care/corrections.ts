import { z } from 'zod';
import { defineEvent } from '../events';
import { commandBaseShape, DateTimeSchema, EntryIdSchema, PatientIdSchema, ReasonSchema, type EventOf } from './common';
import {
  InsulinAdministeredDetailsSchema,
  InsulinAdministeredInputSchema,
  InsulinWithheldDetailsSchema,
  InsulinWithheldInputSchema,
} from './medicines';
import { MedicineDoseDetailsSchema, MedicineDoseInputSchema } from './mar';
import {
  BloodGlucoseDetailsSchema,
  BloodGlucoseInputSchema,
  CellulitisDetailsSchema,
  CellulitisInputSchema,
  FluidIntakeDetailsSchema,
  FluidIntakeInputSchema,
  NoteDetailsSchema,
  NoteInputSchema,
  SoftSignsDetailsSchema,
  SoftSignsInputSchema,
  UrinarySymptomsDetailsSchema,
  UrinarySymptomsInputSchema,
  VitalSignsDetailsSchema,
  VitalSignsInputSchema,
} from './observations';

// ---------------------------------------------------------------------------------------------
// Corrections. Nothing is overwritten or deleted: an amendment adds a new version of an entry
// (the replacement is the whole entry again, of the same kind), and "entered in error" marks it,
// keeping every earlier version. An entry is named by the event id that first recorded it.
// ---------------------------------------------------------------------------------------------

/** The event types whose entries can be amended or marked entered in error. */
export const CORRECTABLE_ENTRY_TYPES = [
  'VitalSignsRecorded',
  'BloodGlucoseRecorded',
  'SoftSignsRecorded',
  'UrinarySymptomsScreened',
  'FluidIntakeRecorded',
  'CellulitisChecked',
  'NoteWritten',
  'InsulinAdministered',
  'InsulinWithheld',
  'MedicineDoseRecorded',
] as const;
export const CorrectableEntryTypeSchema = z.enum(CORRECTABLE_ENTRY_TYPES);
export type CorrectableEntryType = z.infer<typeof CorrectableEntryTypeSchema>;

/** When the original's time was what was wrong, the corrected time; otherwise left out. */
const correctedOccurredAt = { occurredAt: DateTimeSchema.optional() };

const replacement = <Type extends CorrectableEntryType, Data extends z.ZodType>(type: Type, data: Data) =>
  z.strictObject({ type: z.literal(type), data, ...correctedOccurredAt });

/** What a person sends: the entry again, as they would record it. */
export const ReplacementInputSchema = z.discriminatedUnion('type', [
  replacement('VitalSignsRecorded', VitalSignsInputSchema),
  replacement('BloodGlucoseRecorded', BloodGlucoseInputSchema),
  replacement('SoftSignsRecorded', SoftSignsInputSchema),
  replacement('UrinarySymptomsScreened', UrinarySymptomsInputSchema),
  replacement('FluidIntakeRecorded', FluidIntakeInputSchema),
  replacement('CellulitisChecked', CellulitisInputSchema),
  replacement('NoteWritten', NoteInputSchema),
  replacement('InsulinAdministered', InsulinAdministeredInputSchema),
  replacement('InsulinWithheld', InsulinWithheldInputSchema),
  replacement('MedicineDoseRecorded', MedicineDoseInputSchema),
]);
export type ReplacementInput = z.infer<typeof ReplacementInputSchema>;

/** What is stored: the entry's data without patientId (with NEWS2 recomputed for vital signs). */
export const ReplacementSchema = z.discriminatedUnion('type', [
  replacement('VitalSignsRecorded', VitalSignsDetailsSchema),
  replacement('BloodGlucoseRecorded', BloodGlucoseDetailsSchema),
  replacement('SoftSignsRecorded', SoftSignsDetailsSchema),
  replacement('UrinarySymptomsScreened', UrinarySymptomsDetailsSchema),
  replacement('FluidIntakeRecorded', FluidIntakeDetailsSchema),
  replacement('CellulitisChecked', CellulitisDetailsSchema),
  replacement('NoteWritten', NoteDetailsSchema),
  replacement('InsulinAdministered', InsulinAdministeredDetailsSchema),
  replacement('InsulinWithheld', InsulinWithheldDetailsSchema),
  replacement('MedicineDoseRecorded', MedicineDoseDetailsSchema),
]);
export type Replacement = z.infer<typeof ReplacementSchema>;

/**
 * A correction is made now: its own occurredAt may be left out and is then the server's time, as
 * in the delegation service's commands (the corrected entry's time is replacement.occurredAt).
 */
const correctionCommandShape = {
  ...commandBaseShape,
  occurredAt: commandBaseShape.occurredAt.optional(),
  /**
   * The entry version the correction was made against (FHIR If-Match: the versionId the client
   * read). Given, the decider refuses the correction when the entry is at another version, so a
   * correction made on a stale copy never overwrites a newer one (hazard H49).
   */
  expectedVersion: z.number().int().positive().optional(),
};

export const AmendEntrySchema = z.strictObject({
  ...correctionCommandShape,
  entryId: EntryIdSchema,
  reason: ReasonSchema,
  replacement: ReplacementInputSchema,
});
export type AmendEntry = z.infer<typeof AmendEntrySchema>;

export const EntryAmended = defineEvent(
  'EntryAmended',
  z.object({ patientId: PatientIdSchema, entryId: EntryIdSchema, reason: ReasonSchema, replacement: ReplacementSchema }),
);
export type EntryAmendedData = z.infer<typeof EntryAmended.schema>;

export const MarkEntryEnteredInErrorSchema = z.strictObject({ ...correctionCommandShape, entryId: EntryIdSchema, reason: ReasonSchema });
export type MarkEntryEnteredInError = z.infer<typeof MarkEntryEnteredInErrorSchema>;

export const EntryMarkedEnteredInError = defineEvent(
  'EntryMarkedEnteredInError',
  z.object({ patientId: PatientIdSchema, entryId: EntryIdSchema, reason: ReasonSchema }),
);
export type EntryMarkedEnteredInErrorData = z.infer<typeof EntryMarkedEnteredInError.schema>;

export const correctionEventDefinitions = [EntryAmended, EntryMarkedEnteredInError] as const;
export type CorrectionEvent = EventOf<(typeof correctionEventDefinitions)[number]>;
