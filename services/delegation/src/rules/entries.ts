import { CORRECTABLE_ENTRY_TYPES, type Actor, type CareRecordEvent, type CorrectableEntryType } from '@tandem/contracts';
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

const ENTRY_TYPES: ReadonlySet<string> = new Set<string>(CORRECTABLE_ENTRY_TYPES);

export const byBedsideTime = (a: { occurredAt: string }, b: { occurredAt: string }): number => instantOf(a.occurredAt) - instantOf(b.occurredAt);

/**
 * The entries as they stand: amendments applied, entries entered in error removed, oldest first.
 * Events may come in any order; corrections are applied in the order given.
 */
export const currentEntries = (events: readonly CareStreamEvent[]): CareEntry[] => {
  const entries = new Map<string, CareEntry>();
  for (const event of events) {
    if (ENTRY_TYPES.has(event.type)) {
      entries.set(event.id, event as unknown as CareEntry);
    } else if (event.type === 'EntryAmended') {
      const original = entries.get(event.data.entryId);
      if (!original) continue;
      const { type, data, occurredAt } = event.data.replacement;
      entries.set(original.id, { ...original, type, data, occurredAt: occurredAt ?? original.occurredAt } as CareEntry);
    } else if (event.type === 'EntryMarkedEnteredInError') {
      entries.delete(event.data.entryId);
    }
  }
  return [...entries.values()].sort(byBedsideTime);
};

/**
 * The entry a new care-stream event means for the rules: itself, an amendment's new version (an
 * amended glucose of 3.4 is as low as a recorded one), or nothing (entered in error, a flag).
 */
export const entryOf = (event: CareStreamEvent, entries: readonly CareEntry[]): CareEntry | undefined => {
  if (ENTRY_TYPES.has(event.type)) return event as unknown as CareEntry;
  if (event.type === 'EntryAmended') {
    const original = entries.find((e) => e.id === event.data.entryId);
    const { type, data, occurredAt } = event.data.replacement;
    const at = occurredAt ?? original?.occurredAt ?? event.occurredAt;
    return { id: event.data.entryId, type, data, occurredAt: at, ...(event.recordedBy ? { recordedBy: event.recordedBy } : {}) } as CareEntry;
  }
  return undefined;
};
