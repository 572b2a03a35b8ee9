import type { EntryAmendedData, EntryMarkedEnteredInErrorData, Replacement } from '@tandem/contracts';
import { dataOf, type FhirHandlers } from './common';
import { amendMedicationEntry, isMedicationEntryType, markMedicationEntryInError, type MedicationEntryType } from './medication';
import { amendObservationEntry, currentEntryObservations, isObservationEntryType, markObservationEntryInError, type ObservationEntryType } from './observations';

/**
 * Corrections address an entry by the id of the event that first recorded it, which is the id of
 * its resource. Nothing is overwritten: each correction is a new version, earlier versions stay
 * readable (vread, _history), and entered-in-error keeps the resource readable, marked.
 */
export const correctionHandlers: FhirHandlers = {
  EntryAmended: async (event, tx) => {
    const { patientId, entryId, reason, replacement } = dataOf<EntryAmendedData>(event);
    if (isObservationEntryType(replacement.type)) {
      return amendObservationEntry(tx, event, patientId, entryId, reason, replacement as Extract<Replacement, { type: ObservationEntryType }>);
    }
    if (isMedicationEntryType(replacement.type)) {
      return amendMedicationEntry(tx, event, patientId, entryId, reason, replacement as Extract<Replacement, { type: MedicationEntryType }>);
    }
    return [];
  },

  EntryMarkedEnteredInError: async (event, tx) => {
    const { patientId, entryId, reason } = dataOf<EntryMarkedEnteredInErrorData>(event);
    const observations = await currentEntryObservations(tx, entryId);
    if (observations.length > 0) return markObservationEntryInError(tx, event, patientId, entryId, reason);
    return markMedicationEntryInError(tx, event, patientId, entryId, reason);
  },
};
