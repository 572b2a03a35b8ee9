import type { CareRecordCommandName, careRecordCommandSchemas, CareRecordEvent } from '@tandem/contracts';
import type { z } from 'zod';
import type { CareState } from './care-state';
import type { CareContext } from './context';
import { checkCellulitis } from './cellulitis';
import { amendEntry, markEntryEnteredInError } from './corrections';
import { recordFluidIntake } from './fluid-intake';
import { recordBloodGlucose } from './glucose';
import { recordInsulinAdministered, recordInsulinWithheld } from './insulin';
import { recordMedicineDose, recordPrnEffect } from './mar';
import { writeNote } from './notes';
import { recordSoftSigns } from './soft-signs';
import { screenUrinarySymptoms } from './urinary-symptoms';
import { recordVitalSigns } from './vital-signs';

export * from './errors';
export * from './context';
export * from './time';
export * from './nhs-number';
export * from './care-state';
export * from './vital-signs';
export * from './glucose';
export * from './insulin';
export * from './medicines';
export * from './mar';
export * from './soft-signs';
export * from './urinary-symptoms';
export * from './fluid-intake';
export * from './cellulitis';
export * from './notes';
export * from './corrections';
export * from './patient';
export * from './practitioners';
export * from './visits';
export * from './visit-doses';

export type CareDecision<Command> = (command: Command, state: CareState, context: CareContext) => CareRecordEvent[];

/** One decision per care-stream command, keyed like `careRecordCommandSchemas` in the contracts. */
export const careRecordDecisions: {
  readonly [Name in CareRecordCommandName]: CareDecision<z.output<(typeof careRecordCommandSchemas)[Name]>>;
} = {
  RecordVitalSigns: recordVitalSigns,
  RecordBloodGlucose: recordBloodGlucose,
  RecordSoftSigns: recordSoftSigns,
  ScreenUrinarySymptoms: screenUrinarySymptoms,
  RecordFluidIntake: recordFluidIntake,
  CheckCellulitis: checkCellulitis,
  WriteNote: writeNote,
  RecordInsulinAdministered: recordInsulinAdministered,
  RecordInsulinWithheld: recordInsulinWithheld,
  RecordMedicineDose: recordMedicineDose,
  RecordPrnEffect: recordPrnEffect,
  AmendEntry: amendEntry,
  MarkEntryEnteredInError: markEntryEnteredInError,
};
export * from './goals';
