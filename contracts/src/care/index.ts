import type { EventOf } from './common';
import { AmendEntrySchema, correctionEventDefinitions, MarkEntryEnteredInErrorSchema } from './corrections';
import { medicineEventDefinitions, RecordInsulinAdministeredSchema, RecordInsulinWithheldSchema } from './medicines';
import { marEventDefinitions, RecordMedicineDoseSchema, RecordPrnEffectSchema } from './mar';
import { medicinesStreamEventDefinitions } from './medication-orders';
import {
  CheckCellulitisSchema,
  observationEventDefinitions,
  RecordBloodGlucoseSchema,
  RecordFluidIntakeSchema,
  RecordSoftSignsSchema,
  RecordVitalSignsSchema,
  ScreenUrinarySymptomsSchema,
  WriteNoteSchema,
} from './observations';
import { organisationEventDefinitions, patientEventDefinitions, practitionerEventDefinitions } from './people';
import { staffingEventDefinitions } from '../capacity/capacity';
import { goalEventDefinitions } from '../goals/goals';

export * from './common';
export * from './people';
export * from './observations';
export * from './medicines';
export * from './insulin-products';
export * from './medication-orders';
export * from './mar';
export * from './hypoglycaemia';
export * from './news2';
export * from './bedside-advice';
export * from './replies';
export * from './corrections';
export * from './patient-facts';
export * from './current-entries';
export * from './fhir-vocabulary';

/** Events of a `care-<patientId>` stream: everything observed and done for one person. */
export const careRecordEventDefinitions = [...observationEventDefinitions, ...medicineEventDefinitions, ...marEventDefinitions, ...correctionEventDefinitions] as const;
export type CareRecordEvent = EventOf<(typeof careRecordEventDefinitions)[number]>;
export type CareRecordEventType = CareRecordEvent['type'];

/** Every event of the care record, for `new EventRegistry([...careEventDefinitions, ...])`. */
export const careEventDefinitions = [
  ...patientEventDefinitions,
  // A person's own outcomes (Goals, issue 15), on the person's stream.
  ...goalEventDefinitions,
  ...practitionerEventDefinitions,
  // A practitioner's contracted hours and absences (capacity, issue 15), on the practitioner's stream.
  ...staffingEventDefinitions,
  ...organisationEventDefinitions,
  ...careRecordEventDefinitions,
  ...medicinesStreamEventDefinitions,
] as const;
export type CareEvent = EventOf<(typeof careEventDefinitions)[number]>;

/** The commands addressed to a `care-<patientId>` stream, by name. */
export const careRecordCommandSchemas = {
  RecordVitalSigns: RecordVitalSignsSchema,
  RecordBloodGlucose: RecordBloodGlucoseSchema,
  RecordSoftSigns: RecordSoftSignsSchema,
  ScreenUrinarySymptoms: ScreenUrinarySymptomsSchema,
  RecordFluidIntake: RecordFluidIntakeSchema,
  CheckCellulitis: CheckCellulitisSchema,
  WriteNote: WriteNoteSchema,
  RecordInsulinAdministered: RecordInsulinAdministeredSchema,
  RecordInsulinWithheld: RecordInsulinWithheldSchema,
  RecordMedicineDose: RecordMedicineDoseSchema,
  RecordPrnEffect: RecordPrnEffectSchema,
  AmendEntry: AmendEntrySchema,
  MarkEntryEnteredInError: MarkEntryEnteredInErrorSchema,
} as const;
export type CareRecordCommandName = keyof typeof careRecordCommandSchemas;
