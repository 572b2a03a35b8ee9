import { entryIdOf, evolveEntries, isEntryEvent, parseStreamName, type CurrentEntry, type EntryStreamEvent } from '@tandem/contracts';
import type { RecordedEvent, SqlQueryable } from '@tandem/event-store';
import { isLateEntry } from './mapping/common';

/**
 * The FHIR projection's own state of each care entry (issue 12 item 3, H50): the entry as the
 * contracts' one function (`evolveEntries`) makes it from the events the projection has seen, so a
 * correction's resources are rendered from the current entry, never from the Observations the
 * projection wrote before. Kept in the read model's generation with the resources, so a rebuild
 * makes it again from the events alone. `fhir_care_stream` holds what the fold needs between
 * batches besides the entries: the last entry recorded in the stream (a dose flag names the dose
 * appended just before it) and the stream's last position seen (a replayed event changes nothing).
 */
export const fhirEntryStateSql = `
create table if not exists fhir_care_entry (
  stream text not null,
  entry_id text not null,
  state jsonb not null,
  primary key (stream, entry_id)
);
create table if not exists fhir_care_stream (
  stream text primary key,
  last_recorded text,
  last_position bigint not null
);`;

/** What the first recording said that the current entry does not keep, and the resources still show. */
export interface EntryOriginal {
  /** Written more than an hour after the event (NMC Code 10.1), as first recorded. */
  readonly late: boolean;
  /** A dose recorded with "confirmed not a duplicate": the note the first version carried. */
  readonly confirmedNotDuplicate: boolean;
}

export interface ProjectedEntry {
  readonly entry: CurrentEntry;
  readonly original: EntryOriginal;
}

/** What one event made of an entry: the resources are rendered from `after` (and `before`, for members an amendment took out). */
export interface EntryChange {
  readonly event: RecordedEvent;
  readonly before?: ProjectedEntry;
  readonly after: ProjectedEntry;
}

interface StreamState {
  readonly lastRecorded?: string;
  readonly lastPosition: number;
}

const isCareStream = (stream: string): boolean => parseStreamName(stream)?.kind === 'care';

/** A stored care event as the one function reads it: id, bedside time, stored time, who. */
export const entryStreamEventOf = (event: RecordedEvent): EntryStreamEvent =>
  ({ type: event.type, data: event.data, id: event.id, occurredAt: event.metadata.occurredAt, recordedAt: event.metadata.recordedAt, recordedBy: event.metadata.actor }) as EntryStreamEvent;

const originalOf = (event: RecordedEvent): EntryOriginal => ({
  late: isLateEntry(event.metadata.occurredAt, event.metadata.recordedAt),
  confirmedNotDuplicate: (event.data as { confirmedNotDuplicate?: boolean }).confirmedNotDuplicate === true,
});

const key = (stream: string, entryId: string): string => `${stream}\u0000${entryId}`;

/**
 * One batch's view of the entry state, inside the batch's transaction: loaded in two queries
 * (streams, then entries), folded in memory in event order, stored in two statements.
 */
export class EntryStates {
  private readonly streams = new Map<string, StreamState | null>();
  private readonly entries = new Map<string, ProjectedEntry | null>();
  private readonly dirtyStreams = new Set<string>();
  private readonly dirtyEntries = new Map<string, { stream: string; entryId: string }>();

  constructor(private readonly tx: SqlQueryable) {}

  /** Loads the state of every stream and entry the batch's care events name. */
  async prefetch(events: readonly RecordedEvent[]): Promise<void> {
    const care = events.filter((e) => isCareStream(e.stream));
    await this.loadStreams([...new Set(care.map((e) => e.stream))]);
    const wanted = care.flatMap((e) => {
      const id = entryIdOf(entryStreamEventOf(e), this.streams.get(e.stream)?.lastRecorded);
      return id === undefined ? [] : [{ stream: e.stream, entryId: id }];
    });
    await this.loadEntries(wanted);
  }

  /** Folds one event (batch order is stream order) and answers what it made of its entry, if anything. */
  async evolve(event: RecordedEvent): Promise<EntryChange | undefined> {
    if (!isCareStream(event.stream)) return undefined;
    await this.loadStreams([event.stream]);
    const stream = this.streams.get(event.stream) ?? undefined;
    if (stream && event.position <= stream.lastPosition) return undefined;
    const e = entryStreamEventOf(event);
    const entryId = entryIdOf(e, stream?.lastRecorded);
    if (entryId === undefined) return undefined;
    await this.loadEntries([{ stream: event.stream, entryId }]);
    const before = this.entries.get(key(event.stream, entryId)) ?? undefined;
    // The one function, on the part of the stream's state this event can touch.
    const folded = evolveEntries({ entries: before ? { [entryId]: before.entry } : {}, ...(stream?.lastRecorded ? { lastRecorded: stream.lastRecorded } : {}) }, e);
    this.streams.set(event.stream, { ...(folded.lastRecorded ? { lastRecorded: folded.lastRecorded } : {}), lastPosition: event.position });
    this.dirtyStreams.add(event.stream);
    const entry = Object.hasOwn(folded.entries, entryId) ? folded.entries[entryId] : undefined;
    if (!entry || entry === before?.entry) return undefined;
    const after: ProjectedEntry = { entry, original: before?.original ?? (isEntryEvent(event) ? originalOf(event) : { late: false, confirmedNotDuplicate: false }) };
    this.entries.set(key(event.stream, entryId), after);
    this.dirtyEntries.set(key(event.stream, entryId), { stream: event.stream, entryId });
    return { event, ...(before ? { before } : {}), after };
  }

  /** Stores what the batch changed. */
  async flush(): Promise<void> {
    if (this.dirtyStreams.size > 0) {
      const rows = [...this.dirtyStreams].map((stream) => {
        const s = this.streams.get(stream)!;
        return { stream, last_recorded: s.lastRecorded ?? null, last_position: s.lastPosition };
      });
      await this.tx.query(
        `insert into fhir_care_stream (stream, last_recorded, last_position)
         select stream, last_recorded, last_position from json_to_recordset($1::json) as r(stream text, last_recorded text, last_position bigint)
         on conflict (stream) do update set last_recorded = excluded.last_recorded, last_position = excluded.last_position`,
        [JSON.stringify(rows)],
      );
    }
    if (this.dirtyEntries.size > 0) {
      const rows = [...this.dirtyEntries.values()].map(({ stream, entryId }) => ({ stream, entry_id: entryId, state: this.entries.get(key(stream, entryId)) }));
      await this.tx.query(
        `insert into fhir_care_entry (stream, entry_id, state)
         select stream, entry_id, state from json_to_recordset($1::json) as r(stream text, entry_id text, state jsonb)
         on conflict (stream, entry_id) do update set state = excluded.state`,
        [JSON.stringify(rows)],
      );
    }
  }

  private async loadStreams(streams: readonly string[]): Promise<void> {
    const missing = streams.filter((s) => !this.streams.has(s));
    if (missing.length === 0) return;
    const rows = await this.tx.query<{ stream: string; last_recorded: string | null; last_position: string }>(
      'select stream, last_recorded, last_position from fhir_care_stream where stream = any($1::text[])',
      [missing],
    );
    for (const s of missing) this.streams.set(s, null);
    for (const r of rows) this.streams.set(r.stream, { ...(r.last_recorded === null ? {} : { lastRecorded: r.last_recorded }), lastPosition: Number(r.last_position) });
  }

  private async loadEntries(wanted: readonly { stream: string; entryId: string }[]): Promise<void> {
    const missing = wanted.filter((w) => !this.entries.has(key(w.stream, w.entryId)));
    if (missing.length === 0) return;
    const rows = await this.tx.query<{ stream: string; entry_id: string; state: ProjectedEntry }>(
      `select e.stream, e.entry_id, e.state from unnest($1::text[], $2::text[]) as k(stream, entry_id)
       join fhir_care_entry e on e.stream = k.stream and e.entry_id = k.entry_id`,
      [missing.map((w) => w.stream), missing.map((w) => w.entryId)],
    );
    for (const w of missing) this.entries.set(key(w.stream, w.entryId), null);
    for (const r of rows) this.entries.set(key(r.stream, r.entry_id), r.state);
  }
}
