import { currentEntriesOf, evolveEntry, isEntryEvent, type Actor, type CareRecordEvent, type CorrectableEntryType, type CurrentEntry } from '@tandem/contracts';
import { instantOf } from '../machines/decider';

/**
 * What the rules read from a person's care record: the entries as they stand now (an amended
 * entry at its latest version, an entry marked entered in error left out), in bedside order.
 */

/** A care-stream event with the parts the rules need: its event id, bedside time and who recorded it. */
export type CareStreamEvent = CareRecordEvent & {
  /** The event id. */
  readonly id: string;
  readonly occurredAt: string;
  readonly recordedBy?: Actor;
};

type EntryDataOf<Type> = Omit<Extract<CareRecordEvent, { type: Type }>['data'], 'patientId'>;

/** One entry of the record at its current version, named by the event id that first recorded it. */
export type CareEntry = {
  [Type in CorrectableEntryType]: {
    readonly id: string;
    readonly type: Type;
    readonly data: EntryDataOf<Type>;
    readonly occurredAt: string;
    readonly recordedBy?: Actor;
  };
}[CorrectableEntryType];

export const byBedsideTime = (a: { occurredAt: string }, b: { occurredAt: string }): number => instantOf(a.occurredAt) - instantOf(b.occurredAt);

/** The rules' view of an entry: who recorded it, when at the bedside, and what it says now. */
const ruleEntry = (entry: CurrentEntry, recordedBy: Actor | undefined = entry.recordedBy): CareEntry =>
  ({ id: entry.id, type: entry.type, data: entry.data, occurredAt: entry.occurredAt, ...(recordedBy ? { recordedBy } : {}) }) as CareEntry;

/**
 * The entries as they stand: amendments applied, entries entered in error left out, oldest first.
 * Corrections are applied by the contracts' currentEntriesOf (the record's decider and the FHIR
 * projection apply them with the same function), in the order the events are given.
 */
export const currentEntries = (events: readonly CareStreamEvent[]): CareEntry[] =>
  Object.values(currentEntriesOf(events))
    .filter((entry) => !entry.enteredInError)
    .map((entry) => ruleEntry(entry))
    .sort(byBedsideTime);

/**
 * The entry a new care-stream event means for the rules: itself, an amendment's new version (an
 * amended glucose of 3.4 is as low as a recorded one), or nothing (entered in error, a flag).
 */
export const entryOf = (event: CareStreamEvent, entries: readonly CareEntry[]): CareEntry | undefined => {
  if (isEntryEvent(event)) return ruleEntry(evolveEntry(undefined, event)!);
  if (event.type !== 'EntryAmended') return undefined;
  // The original as the history holds it; an amendment of one older than the history stands on its own.
  const original = entries.find((e) => e.id === event.data.entryId);
  const { type, data, occurredAt } = event.data.replacement;
  const before = evolveEntry(undefined, (original ?? { id: event.data.entryId, type, data, occurredAt: occurredAt ?? event.occurredAt }) as CareStreamEvent);
  const after = evolveEntry(before, event);
  return after ? ruleEntry(after, event.recordedBy) : undefined;
};
