import type { EntryAmendedData, EntryMarkedEnteredInErrorData, Replacement } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import { dataOf, type FhirHandlers, type FhirReadKeys } from './common';
import { amendMedicationEntry, isMedicationEntryType, markMedicationEntryInError, type MedicationEntryType } from './medication';
import { amendObservationEntry, currentEntryObservations, entryObservationIds, isObservationEntryType, markObservationEntryInError, type ObservationEntryType } from './observations';

/**
 * Corrections address an entry by the id of the event that first recorded it, which is the id of
 * its resource. Nothing is overwritten: each correction is a new version, earlier versions stay
 * readable (vread, _history), and entered-in-error keeps the resource readable, marked.
 */
export const correctionHandlers: FhirHandlers = {
  EntryAmended: async (event, reads) => {
    const { patientId, entryId, reason, replacement } = dataOf<EntryAmendedData>(event);
    if (isObservationEntryType(replacement.type)) {
      return amendObservationEntry(reads, event, patientId, entryId, reason, replacement as Extract<Replacement, { type: ObservationEntryType }>);
    }
    if (isMedicationEntryType(replacement.type)) {
      return amendMedicationEntry(reads, event, patientId, entryId, reason, replacement as Extract<Replacement, { type: MedicationEntryType }>);
    }
    return [];
  },

  EntryMarkedEnteredInError: async (event, reads) => {
    const { patientId, entryId, reason } = dataOf<EntryMarkedEnteredInErrorData>(event);
    const observations = await currentEntryObservations(reads, entryId);
    if (observations.length > 0) return markObservationEntryInError(reads, event, patientId, entryId, reason);
    return markMedicationEntryInError(reads, event, patientId, entryId, reason);
  },
};

/** Whatever the corrected entry is: its Observations or its MedicationAdministration. */
const entryOf = (event: RecordedEvent) => {
  const { entryId } = dataOf<{ entryId: string }>(event);
  return [...entryObservationIds(entryId).map((id) => ({ type: 'Observation' as const, id })), { type: 'MedicationAdministration' as const, id: entryId }];
};
export const correctionReads: FhirReadKeys = { EntryAmended: entryOf, EntryMarkedEnteredInError: entryOf };
