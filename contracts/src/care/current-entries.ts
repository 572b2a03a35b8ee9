import type { Actor } from '../metadata';
import { CORRECTABLE_ENTRY_TYPES, type CorrectableEntryType } from './corrections';
import type { CareRecordEvent } from './index';

// ---------------------------------------------------------------------------------------------
// The entries of a care record as they stand: the ONE place corrections are applied. The record's
// write model (its decider's state), the delegation rules, the FHIR projection and the FHIR write
// path all read an entry through `evolveEntries`, so "what this entry says now", "is it entered in
// error" and "which version is it" mean the same everywhere (an If-Match on a FHIR resource is
// this version, decided on the stream).
// ---------------------------------------------------------------------------------------------

/** A care-stream event with what the entries need: its id, its bedside time, and who recorded it when (where known). */
export type EntryStreamEvent = CareRecordEvent & {
  /** The event id (an entry is named by the id of the event that first recorded it). */
  readonly id: string;
  /** The event's bedside time (metadata.occurredAt). */
  readonly occurredAt: string;
  /** When it was stored (metadata.recordedAt), where the reader has it. */
  readonly recordedAt?: string;
  readonly recordedBy?: Actor;
};

/** The version an entry has when first recorded. */
export const FIRST_ENTRY_VERSION = 1;
/**
 * The version after a correction. The FHIR projection publishes this same number as the versionId
 * of every resource of the entry, so a client's If-Match names a version of the write model.
 */
export const nextEntryVersion = (version: number): number => version + 1;

/** One correction of an entry, in the order made. */
export interface EntryCorrection {
  readonly kind: 'amended' | 'entered-in-error';
  /** The EntryAmended or EntryMarkedEnteredInError event. */
  readonly eventId: string;
  readonly reason: string;
  /** When the correction was made (its own bedside time, not the corrected entry's). */
  readonly occurredAt: string;
  readonly recordedAt?: string;
  readonly recordedBy?: Actor;
  /** The entry's version this correction made. */
  readonly version: number;
}

/**
 * The flags the record appends right after a dose, in the same append: each a note on that dose
 * (a new version of its MedicationAdministration), so each is a version of the entry too.
 */
export const DOSE_FLAG_TYPES = ['DoseInsideMinimumIntervalFlagged', 'UnknownInsulinProductFlagged', 'DoseOutsideInstructionFlagged'] as const;
export type DoseFlagType = (typeof DOSE_FLAG_TYPES)[number];
export type DoseFlag = Extract<CareRecordEvent, { type: DoseFlagType }>;
const FLAG_TYPES: ReadonlySet<string> = new Set<string>(DOSE_FLAG_TYPES);
export const isDoseFlag = <E extends { type: string }>(event: E): event is E & DoseFlag => FLAG_TYPES.has(event.type);

/** A flag on an entry, and the version it made. */
export type EntryFlag = DoseFlag & { readonly eventId: string; readonly recordedAt?: string; readonly recordedBy?: Actor; readonly version: number };

/** The effect of a PRN dose, recorded later, and the version it made. */
export interface EntryEffect {
  readonly effect: string;
  readonly eventId: string;
  readonly occurredAt: string;
  readonly recordedAt?: string;
  readonly recordedBy?: Actor;
  readonly version: number;
}

type EntryDataOf<Type> = Extract<CareRecordEvent, { type: Type }>['data'];

/** One entry at its current version. Earlier versions stay in the stream. */
export type CurrentEntry = {
  [Type in CorrectableEntryType]: {
    /** The event id that first recorded it. */
    readonly id: string;
    readonly type: Type;
    /** The current version's content, with the person's id as the original holds it. */
    readonly data: EntryDataOf<Type>;
    /** The current bedside time (an amendment may correct it). */
    readonly occurredAt: string;
    /** When, and by whom, the entry was first recorded. */
    readonly recordedAt?: string;
    readonly recordedBy?: Actor;
    /** FIRST_ENTRY_VERSION when recorded; each correction applied makes nextEntryVersion. */
    readonly version: number;
    /** The events that made each version, oldest first. */
    readonly eventIds: readonly string[];
    readonly status: 'final' | 'amended' | 'entered-in-error';
    readonly corrections: readonly EntryCorrection[];
    /** Flags appended with the entry (a dose inside its minimum interval, ...), in order. */
    readonly flags: readonly EntryFlag[];
    /** What a PRN dose did, recorded later (PrnEffectRecorded), in order. */
    readonly effects?: readonly EntryEffect[];
    /** The mark, once entered in error (the last correction an entry can have). */
    readonly enteredInError?: EntryCorrection;
  };
}[CorrectableEntryType];

export type CurrentEntries = Readonly<Record<string, CurrentEntry>>;

const ENTRY_TYPES: ReadonlySet<string> = new Set<string>(CORRECTABLE_ENTRY_TYPES);

export const isEntryEvent = <E extends { type: string }>(event: E): event is E & { type: CorrectableEntryType } => ENTRY_TYPES.has(event.type);

const own = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);

const correctionOf = (event: EntryStreamEvent, kind: EntryCorrection['kind'], reason: string, version: number): EntryCorrection => ({
  kind,
  eventId: event.id,
  reason,
  occurredAt: event.occurredAt,
  ...(event.recordedAt === undefined ? {} : { recordedAt: event.recordedAt }),
  ...(event.recordedBy === undefined ? {} : { recordedBy: event.recordedBy }),
  version,
});

/**
 * The entry an event makes of `before` (the entry it names, as it stood): a new entry, the next
 * version, or `before` itself when the event changes nothing. Applied only where it can have been
 * decided: an entry recorded twice keeps its first recording; an amendment of another kind, or of
 * an entry entered in error, and a second entered-in-error mark, are ignored (the decider refuses
 * them, so they are only ever met in hand-made streams).
 */
export const evolveEntry = (before: CurrentEntry | undefined, event: EntryStreamEvent): CurrentEntry | undefined => {
  if (isEntryEvent(event)) {
    if (before) return before;
    return {
      id: event.id,
      type: event.type,
      data: event.data,
      occurredAt: event.occurredAt,
      ...(event.recordedAt === undefined ? {} : { recordedAt: event.recordedAt }),
      ...(event.recordedBy === undefined ? {} : { recordedBy: event.recordedBy }),
      version: FIRST_ENTRY_VERSION,
      eventIds: [event.id],
      status: 'final',
      corrections: [],
      flags: [],
    } as CurrentEntry;
  }
  if (!before) return before;
  if (isDoseFlag(event)) {
    const version = nextEntryVersion(before.version);
    const flag = {
      type: event.type,
      data: event.data,
      eventId: event.id,
      ...(event.recordedAt === undefined ? {} : { recordedAt: event.recordedAt }),
      ...(event.recordedBy === undefined ? {} : { recordedBy: event.recordedBy }),
      version,
    } as EntryFlag;
    return { ...before, version, eventIds: [...before.eventIds, event.id], flags: [...before.flags, flag] };
  }
  if (before.enteredInError) return before;
  // A PRN dose's effect, recorded later: a note on that dose, so a version of its entry too.
  if (event.type === 'PrnEffectRecorded') {
    const version = nextEntryVersion(before.version);
    const effect: EntryEffect = {
      effect: event.data.effect,
      eventId: event.id,
      occurredAt: event.occurredAt,
      ...(event.recordedAt === undefined ? {} : { recordedAt: event.recordedAt }),
      ...(event.recordedBy === undefined ? {} : { recordedBy: event.recordedBy }),
      version,
    };
    return { ...before, version, eventIds: [...before.eventIds, event.id], effects: [...(before.effects ?? []), effect] };
  }
  if (event.type === 'EntryAmended') {
    const { replacement, reason } = event.data;
    if (replacement.type !== before.type) return before;
    const version = nextEntryVersion(before.version);
    return {
      ...before,
      data: { patientId: before.data.patientId, ...replacement.data },
      occurredAt: replacement.occurredAt ?? before.occurredAt,
      version,
      eventIds: [...before.eventIds, event.id],
      status: 'amended',
      corrections: [...before.corrections, correctionOf(event, 'amended', reason, version)],
    } as CurrentEntry;
  }
  if (event.type === 'EntryMarkedEnteredInError') {
    const version = nextEntryVersion(before.version);
    const mark = correctionOf(event, 'entered-in-error', event.data.reason, version);
    return { ...before, version, eventIds: [...before.eventIds, event.id], status: 'entered-in-error', corrections: [...before.corrections, mark], enteredInError: mark };
  }
  return before;
};

/** The entries, and the last one recorded (a flag belongs to the dose appended just before it). */
export interface EntriesState {
  readonly entries: CurrentEntries;
  readonly lastRecorded?: string;
}
export const initialEntriesState: EntriesState = { entries: {} };

/** The id of the entry an event records, corrects or flags; undefined for any other event. */
export const entryIdOf = (event: EntryStreamEvent, lastRecorded: string | undefined): string | undefined => {
  if (isEntryEvent(event)) return event.id;
  if (event.type === 'EntryAmended' || event.type === 'EntryMarkedEnteredInError') return event.data.entryId;
  if (event.type === 'PrnEffectRecorded') return event.data.doseEntryId;
  return isDoseFlag(event) ? lastRecorded : undefined;
};

/** Folds one event (in stream order) into the entries (the same object back when it changes none). */
export const evolveEntries = (state: EntriesState, event: EntryStreamEvent): EntriesState => {
  const id = entryIdOf(event, state.lastRecorded);
  if (id === undefined) return state;
  const before = own(state.entries, id);
  const after = evolveEntry(before, event);
  const lastRecorded = isEntryEvent(event) ? event.id : state.lastRecorded;
  if (after === before || after === undefined) return lastRecorded === state.lastRecorded ? state : { ...state, lastRecorded };
  return { entries: { ...state.entries, [id]: after }, ...(lastRecorded === undefined ? {} : { lastRecorded }) };
};

/** Every entry of a stream (events in stream order), at its current version, entries entered in error included. */
export const currentEntriesOf = (events: readonly EntryStreamEvent[]): CurrentEntries => events.reduce(evolveEntries, initialEntriesState).entries;

/** One entry by id, safely (ids come from outside). */
export const currentEntryOf = (entries: CurrentEntries, entryId: string): CurrentEntry | undefined => own(entries, entryId);
