import type { RecordedEvent } from '@tandem/event-store';
import type { Projection } from '../projection';
import { auditHandlers } from './mapping/audit';
import { careTeamHandlers, careTeamReads } from './mapping/care-team';
import { goalHandlers, goalReads } from './mapping/goals';
import type { FhirHandlers, FhirReadKeys } from './mapping/common';
import { correctionHandlers } from './mapping/corrections';
import { delegationServiceHandlers, delegationServiceReads } from './mapping/delegation';
import { medicationHandlers } from './mapping/medication';
import { medicationOrderHandlers, medicationOrderReads } from './mapping/medication-orders';
import { observationHandlers } from './mapping/observations';
import { patientHandlers, patientReads } from './mapping/patient';
import { practitionerHandlers } from './mapping/practitioner';
import { provenanceFor } from './mapping/provenance';
import { fhirSchemaSql } from '@tandem/fhir-read-model';
import { EntryStates, fhirEntryStateSql } from './entries';
import { visitHandlers, visitReads } from './mapping/visits';
import { FhirBatch } from './writer';

/** Every event type the FHIR read model maps; other types (other services' events) are ignored. */
export const FHIR_HANDLERS: FhirHandlers = {
  ...patientHandlers,
  ...practitionerHandlers,
  ...careTeamHandlers,
  ...observationHandlers,
  ...medicationHandlers,
  ...medicationOrderHandlers,
  ...correctionHandlers,
  ...delegationServiceHandlers,
  ...auditHandlers,
  ...visitHandlers,
  ...goalHandlers,
};

/** Events that record access to the record rather than change it: they get no Provenance. */
const NOT_WRITES = new Set(['AccessRecorded']);

/** What the handlers will read, by event type: loaded for a whole batch in one query. */
export const FHIR_READS: FhirReadKeys = { ...patientReads, ...medicationOrderReads, ...careTeamReads, ...delegationServiceReads, ...visitReads, ...goalReads };

const entry = <T>(table: Readonly<Record<string, T>>, type: string): T | undefined => (Object.hasOwn(table, type) ? table[type] : undefined);

/**
 * The FHIR R4 read model: each event becomes new versions of the resources it changes, written at
 * the event's position (so a replayed event changes nothing) and stamped with its recordedAt.
 * A batch reads what it needs in one query, keeps its writes in memory (later events read them),
 * and stores them all in one statement. Every event that changed the record also gets a
 * Provenance naming the versions it created.
 */
/**
 * The mapping's release: a table named for it, empty. A release that changes what the mapping
 * writes (UK Core profiles and codes, docs/decisions/0035) renames it, so the runner finds a table
 * missing from the generation in use and rebuilds every read model from the log, as it does for
 * any new table (runner.ts): resources already served are written again the new way.
 */
export const FHIR_MAPPING_RELEASE_SQL = 'create table if not exists fhir_mapping_uk_core_1 (released_at timestamptz not null default now());';

export const fhirProjection: Projection = {
  name: 'fhir',
  schemaSql: `${fhirSchemaSql}\n${fhirEntryStateSql}\n${FHIR_MAPPING_RELEASE_SQL}`,
  async apply(events, tx) {
    const batch = new FhirBatch(tx);
    const entries = new EntryStates(tx);
    await batch.prefetch(events.flatMap((event) => entry(FHIR_READS, event.type)?.(event) ?? []));
    await entries.prefetch(events);
    const writes: RecordedEvent[] = [];
    for (const event of events) {
      // Every care event is folded into the entry state, mapped or not, so the state is the events'.
      const change = await entries.evolve(event);
      const handler = entry(FHIR_HANDLERS, event.type);
      if (!handler) continue;
      for (const indexed of await handler(event, batch, change)) batch.write(indexed, event.position, event.metadata.recordedAt);
      if (!NOT_WRITES.has(event.type)) writes.push(event);
    }
    // Provenance names versions, which are numbered once the resources written are loaded.
    await batch.resolve();
    for (const event of writes) {
      const provenance = provenanceFor(event, batch.versionsAt(event.position));
      if (provenance) batch.write(provenance, event.position, event.metadata.recordedAt);
    }
    const changed = await batch.flush();
    await entries.flush();
    return { changed };
  },
};
