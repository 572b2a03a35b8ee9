import { PGlite } from '@electric-sql/pglite';
import { pgliteDriver, type EventStore, type RecordedEvent } from '@tandem/event-store';
import { ensureReadModels, fhirProjection } from '@tandem/projections';
import type { Bundle, FhirResource } from 'fhir/r4';

const PAGE = 1000;

/** Every event of a stream, read a page at a time; `progress` hears how many so far on long streams. */
export const readWholeStream = async (store: EventStore, stream: string, progress?: (read: number) => void): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for (let from = 0; ; ) {
    const page = await store.readStream(stream, { fromRevision: from, maxCount: PAGE });
    events.push(...page);
    if (page.length < PAGE) return events;
    from += page.length;
    progress?.(events.length);
  }
};

/**
 * The stream's events as FHIR, by the same projection the API uses, run over just these events in
 * a scratch database: the record as it was known then, not as it is now.
 */
export const replayAsFhir = async (events: readonly RecordedEvent[], asOf: Date | undefined): Promise<Bundle> => {
  const scratch = new PGlite();
  try {
    const db = pgliteDriver(scratch, false);
    await ensureReadModels(db, [fhirProjection]);
    await db.transaction((tx) => fhirProjection.apply(events, tx));
    const rows = await db.query<{ resource: FhirResource }>('select resource from fhir_resource order by resource_type, id');
    return { resourceType: 'Bundle', type: 'collection', timestamp: (asOf ?? new Date()).toISOString(), entry: rows.map((r) => ({ resource: r.resource })) };
  } finally {
    await scratch.close();
  }
};
