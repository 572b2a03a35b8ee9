import {
  careRecordEventDefinitions,
  CORRECTABLE_ENTRY_TYPES,
  entryIdOf,
  evolveEntry,
  isEntryEvent,
  type Actor,
  type BloodGlucoseRecordedData,
  type CareRecordEvent,
  type CurrentEntry,
  type EntryCorrection,
  type EntryStreamEvent,
  insulinProductOf,
  type InsulinDose,
} from '@tandem/contracts';
import { instantOf } from './time';

/**
 * The state of one `care-<patientId>` stream, folded from its events: what decisions that span
 * entries need (a second insulin dose, a correction of an earlier entry, a run of glucose readings).
 */

/** A care-stream event as read back from the store: the parts evolve needs. */
export type StoredCareEvent = CareRecordEvent & {
  readonly id: string;
  readonly metadata: { readonly occurredAt: string; readonly recordedAt?: string; readonly actor?: Actor };
};

export const CARE_RECORD_ENTRY_TYPES: ReadonlySet<string> = new Set<string>(CORRECTABLE_ENTRY_TYPES);

/** An entered-in-error mark: the correction that made it (reason, event, when). */
export type EnteredInErrorMark = EntryCorrection;

/** One entry of the record, at its current version: derived by the contracts' one corrections function. */
export type CareEntry = CurrentEntry;

export interface InsulinDoseRef {
  readonly entryId: string;
  readonly product: string;
  /** The product's key (its code when the record knows it). */
  readonly productKey: string;
  readonly occurredAt: string;
  readonly dose: InsulinDose;
}

export interface GlucoseReading {
  readonly entryId: string;
  readonly occurredAt: string;
  readonly glucoseMmolL: number;
  readonly ketonesMmolL?: number;
  readonly relationToMeal?: BloodGlucoseRecordedData['relationToMeal'];
}

/** How many glucose readings the state keeps, newest first (enough for trend rules). */
export const RECENT_GLUCOSE_LIMIT = 20;

export interface CareState {
  readonly entries: Readonly<Record<string, CareEntry>>;
  /** Doses given (not entered in error), per product key, in bedside-time order. */
  readonly insulinDoses: Readonly<Record<string, readonly InsulinDoseRef[]>>;
  /** The latest dose by bedside time, per product key. */
  readonly lastInsulinDose: Readonly<Record<string, InsulinDoseRef>>;
  /** Up to RECENT_GLUCOSE_LIMIT readings not entered in error, newest first by bedside time. */
  readonly recentGlucose: readonly GlucoseReading[];
  /** Entered-in-error marks by entry id. */
  readonly enteredInError: Readonly<Record<string, EnteredInErrorMark>>;
  /** The entry recorded last in the stream: the one a dose flag appended after it belongs to. */
  readonly lastRecordedEntryId?: string;
}

export const initialCareState: CareState = {
  entries: {},
  insulinDoses: {},
  lastInsulinDose: {},
  recentGlucose: [],
  enteredInError: {},
};

const own = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);

/**
 * One product however it was named: by its code in the record's table (INSULIN_PRODUCTS), so
 * "Humulin I  KwikPen", "humulin i kwikpen" and "humulin-i-kwikpen" are one product. A product
 * the record does not know (recorded only when confirmed, and flagged) keys by its words alone.
 */
export const insulinProductKey = (product: string, productCode?: string): string =>
  productCode ?? insulinProductOf(product)?.code ?? `unknown:${product.trim().replace(/\s+/g, ' ').toLowerCase()}`;

export const entryOf = (state: CareState, entryId: string): CareEntry | undefined => own(state.entries, entryId);

export const lastInsulinDose = (state: CareState, product: string): InsulinDoseRef | undefined =>
  own(state.lastInsulinDose, insulinProductKey(product));

export const insulinDosesOf = (state: CareState, product: string): readonly InsulinDoseRef[] =>
  own(state.insulinDoses, insulinProductKey(product)) ?? [];

const byTime = (a: { occurredAt: string }, b: { occurredAt: string }) => instantOf(a.occurredAt) - instantOf(b.occurredAt);

const insulinRefOf = (entry: CareEntry | undefined): InsulinDoseRef | undefined =>
  entry?.type === 'InsulinAdministered' && !entry.enteredInError
    ? { entryId: entry.id, product: entry.data.product, productKey: insulinProductKey(entry.data.product, entry.data.productCode), occurredAt: entry.occurredAt, dose: entry.data.dose }
    : undefined;

const glucoseOf = (entry: CareEntry | undefined): GlucoseReading | undefined => {
  if (entry?.type !== 'BloodGlucoseRecorded' || entry.enteredInError) return undefined;
  const { glucoseMmolL, ketonesMmolL, relationToMeal } = entry.data;
  return {
    entryId: entry.id,
    occurredAt: entry.occurredAt,
    glucoseMmolL,
    ...(ketonesMmolL === undefined ? {} : { ketonesMmolL }),
    ...(relationToMeal === undefined ? {} : { relationToMeal }),
  };
};

const reindexInsulin = (state: CareState, before: CareEntry | undefined, after: CareEntry): Pick<CareState, 'insulinDoses' | 'lastInsulinDose'> => {
  if (before?.type !== 'InsulinAdministered' && after.type !== 'InsulinAdministered') {
    return { insulinDoses: state.insulinDoses, lastInsulinDose: state.lastInsulinDose };
  }
  const next = insulinRefOf(after);
  const keys = new Set<string>();
  if (before?.type === 'InsulinAdministered') keys.add(insulinProductKey(before.data.product, before.data.productCode));
  if (after.type === 'InsulinAdministered') keys.add(insulinProductKey(after.data.product, after.data.productCode));
  const insulinDoses = { ...state.insulinDoses };
  const lastDose = { ...state.lastInsulinDose };
  for (const key of keys) {
    const doses = (own(insulinDoses, key) ?? []).filter((d) => d.entryId !== after.id);
    if (next && next.productKey === key) doses.push(next);
    doses.sort(byTime);
    insulinDoses[key] = doses;
    const latest = doses[doses.length - 1];
    if (latest) lastDose[key] = latest;
    else delete lastDose[key];
  }
  return { insulinDoses, lastInsulinDose: lastDose };
};

const reindexGlucose = (state: CareState, before: CareEntry | undefined, after: CareEntry): readonly GlucoseReading[] => {
  if (before?.type !== 'BloodGlucoseRecorded' && after.type !== 'BloodGlucoseRecorded') return state.recentGlucose;
  const reading = glucoseOf(after);
  const readings = state.recentGlucose.filter((r) => r.entryId !== after.id);
  if (reading) readings.push(reading);
  return readings.sort((a, b) => byTime(b, a)).slice(0, RECENT_GLUCOSE_LIMIT);
};

const withEntry = (state: CareState, before: CareEntry | undefined, after: CareEntry): CareState => ({
  ...state,
  entries: { ...state.entries, [after.id]: after },
  ...reindexInsulin(state, before, after),
  recentGlucose: reindexGlucose(state, before, after),
});

/** The entries' view of a stored event: its bedside time, and when and by whom it was recorded. */
const entryEventOf = (event: StoredCareEvent): EntryStreamEvent =>
  ({
    ...event,
    occurredAt: event.metadata.occurredAt,
    ...(event.metadata.recordedAt === undefined ? {} : { recordedAt: event.metadata.recordedAt }),
    ...(event.metadata.actor === undefined ? {} : { recordedBy: event.metadata.actor }),
  }) as EntryStreamEvent;

/**
 * Folds one care-stream event into the state. The entry itself (version, corrections) comes from
 * the contracts' evolveEntry, the same function the projection and the delegation rules use;
 * this state adds the indexes the decisions need. Unknown or out-of-place events leave it unchanged.
 */
export const evolve = (state: CareState, event: StoredCareEvent): CareState => {
  const id = entryIdOf(event as unknown as EntryStreamEvent, state.lastRecordedEntryId);
  if (id === undefined) return state;
  const before = own(state.entries, id);
  const after = evolveEntry(before, entryEventOf(event));
  const lastRecordedEntryId = isEntryEvent(event) ? event.id : state.lastRecordedEntryId;
  if (!after || after === before) return lastRecordedEntryId === state.lastRecordedEntryId ? state : { ...state, ...(lastRecordedEntryId === undefined ? {} : { lastRecordedEntryId }) };
  const next = { ...withEntry(state, before, after), ...(lastRecordedEntryId === undefined ? {} : { lastRecordedEntryId }) };
  return after.enteredInError && !before?.enteredInError ? { ...next, enteredInError: { ...state.enteredInError, [id]: after.enteredInError } } : next;
};

/** Folds a whole stream. */
export const careStateFrom = (events: readonly StoredCareEvent[]): CareState => events.reduce(evolve, initialCareState);

const CARE_RECORD_EVENT_TYPES: ReadonlySet<string> = new Set<string>(careRecordEventDefinitions.map((d) => d.type));

/**
 * True for the event types of a care stream, so a store's RecordedEvent (already validated by the
 * registry) can be handed to evolve.
 */
export const isCareRecordEvent = <E extends { type: string }>(event: E): event is E & CareRecordEvent => CARE_RECORD_EVENT_TYPES.has(event.type);
