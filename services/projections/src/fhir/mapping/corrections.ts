import type { RecordedEvent } from '@tandem/event-store';
import type { EntryChange } from '../entries';
import type { FhirHandlers } from './common';
import { isMedicationEntryType, medicationChange } from './medication';
import { observationChange } from './observations';

/**
 * Corrections address an entry by the id of the event that first recorded it, which is the id of
 * its resource. Nothing is overwritten: each correction is a new version, earlier versions stay
 * readable (vread, _history), and entered-in-error keeps the resource readable, marked. What the
 * correction made of the entry comes from the contracts' one function (the projection's entry
 * state), not from the resources written before; a correction it ignores (of an entry entered in
 * error, of another kind, of no entry of this person's) writes nothing.
 */
const corrected = async (_event: RecordedEvent, _reads: unknown, change?: EntryChange) =>
  !change ? [] : isMedicationEntryType(change.after.entry.type) ? medicationChange(change) : observationChange(change);

export const correctionHandlers: FhirHandlers = { EntryAmended: corrected, EntryMarkedEnteredInError: corrected };
