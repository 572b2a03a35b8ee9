import { PGlite } from '@electric-sql/pglite';
import { pgliteDriver, type EventStore, type RecordedEvent, type SqlDriver } from '@tandem/event-store';
import { ensureReadModels, fhirProjection } from '@tandem/projections';
import type { Bundle, FhirResource } from 'fhir/r4';
import { Bulkhead } from '../operations';

const PAGE = 1000;

/** A stream's events a page at a time, in revision order. */
export async function* streamPages(store: EventStore, stream: string, pageSize = PAGE): AsyncGenerator<RecordedEvent[]> {
  for (let from = 0; ; ) {
    const page = await store.readStream(stream, { fromRevision: from, maxCount: pageSize });
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    from += page.length;
  }
}

/** Every event of a stream, read a page at a time; `progress` hears how many so far on long streams. */
export const readWholeStream = async (store: EventStore, stream: string, progress?: (read: number) => void): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const page of streamPages(store, stream)) {
    events.push(...page);
    if (page.length === PAGE) progress?.(events.length);
  }
  return events;
};

const recordedBy = (asOf: Date | undefined) => (e: RecordedEvent) => asOf === undefined || Date.parse(e.metadata.recordedAt) <= asOf.getTime();
const yieldToOthers = () => new Promise<void>((resolve) => setImmediate(resolve));

class RolledBack<T> {
  constructor(readonly value: T) {}
}

/**
 * Projects the pages into a scratch database inside one transaction that is rolled back, so the
 * scratch is empty again after: the record as it was known then, by the same projection the API
 * uses, not as it is now. Between pages it gives way to other requests.
 */
const projectInScratch = async (scratch: SqlDriver, pages: AsyncIterable<readonly RecordedEvent[]>, asOf: Date | undefined): Promise<Bundle | undefined> => {
  try {
    await scratch.transaction(async (tx) => {
      let any = false;
      for await (const page of pages) {
        any = true;
        const shown = page.filter(recordedBy(asOf));
        if (shown.length > 0) await fhirProjection.apply(shown, tx);
        await yieldToOthers();
      }
      if (!any) throw new RolledBack(undefined);
      const rows = await tx.query<{ resource: FhirResource }>('select resource from fhir_resource order by resource_type, id');
      throw new RolledBack<Bundle>({ resourceType: 'Bundle', type: 'collection', timestamp: (asOf ?? new Date()).toISOString(), entry: rows.map((r) => ({ resource: r.resource })) });
    });
  } catch (outcome) {
    if (outcome instanceof RolledBack) return outcome.value as Bundle | undefined;
    throw outcome;
  }
  return undefined;
};

async function* once(events: readonly RecordedEvent[]): AsyncGenerator<readonly RecordedEvent[]> {
  yield events;
}

/** The events as FHIR, in a scratch database of their own (the CLI on a stopped store: one replay, then exit). */
export const replayAsFhir = async (events: readonly RecordedEvent[], asOf: Date | undefined): Promise<Bundle> => {
  const scratch = new PGlite();
  try {
    const db = pgliteDriver(scratch, false);
    await ensureReadModels(db, [fhirProjection]);
    return (await projectInScratch(db, once(events), asOf)) ?? { resourceType: 'Bundle', type: 'collection', timestamp: (asOf ?? new Date()).toISOString(), entry: [] };
  } finally {
    await scratch.close();
  }
};

/** At most this many replays at once on a server, and this many waiting; beyond, 503 with Retry-After. */
export const REPLAYS_RUNNING = 1;
export const REPLAYS_WAITING = 3;

/**
 * Replays on the running server share one scratch database (opened on first use) and a bound:
 * one at a time, a few waiting, the rest refused at once (Busy). A new PGlite per request made eight
 * parallel replays double the server's memory and stall /health for seconds (H39).
 */
export class Replayer {
  readonly bulkhead = new Bulkhead('replays', REPLAYS_RUNNING, REPLAYS_WAITING);
  private scratch: Promise<{ db: PGlite; driver: SqlDriver }> | undefined;

  constructor(private readonly store: EventStore) {}

  /** The stream's events (whole), within the bound; for the text and json timelines. */
  events(stream: string): Promise<RecordedEvent[]> {
    return this.bulkhead.run(() => readWholeStream(this.store, stream));
  }

  /** The stream as known at `asOf`, as a FHIR Bundle, read and projected a page at a time; undefined when there is no such stream. */
  fhir(stream: string, asOf: Date | undefined): Promise<Bundle | undefined> {
    return this.bulkhead.run(async () => projectInScratch((await this.openScratch()).driver, streamPages(this.store, stream), asOf));
  }

  async close(): Promise<void> {
    const scratch = this.scratch;
    this.scratch = undefined;
    if (scratch) await (await scratch.catch(() => undefined))?.db.close();
  }

  private openScratch() {
    this.scratch ??= (async () => {
      const db = new PGlite();
      const driver = pgliteDriver(db, false);
      await ensureReadModels(driver, [fhirProjection]);
      return { db, driver };
    })();
    this.scratch.catch(() => (this.scratch = undefined));
    return this.scratch;
  }
}
