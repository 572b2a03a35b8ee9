import type { SqlQueryable } from '@tandem/event-store';
import type { FhirResource as Resource } from 'fhir/r4';
import { ukCoreProfileOf } from './mapping/profiles';

/** What the projection knows about a resource besides its body: the search columns. */
export interface IndexedResource {
  readonly resource: Resource & { id: string };
  readonly patientId?: string;
  readonly tokens?: readonly string[];
  readonly refs?: readonly string[];
  readonly nameText?: string;
  /** String search entries (fhir-read-model stringKeys): family, given, address-postalcode. */
  readonly strings?: readonly string[];
  readonly birthdate?: string;
  readonly effective?: string;
  /**
   * The version this write makes, when the event says which: an entry's resources all carry the
   * entry's version (contracts' nextEntryVersion), the number an If-Match is decided on. Left out,
   * the one after the stored version.
   */
  readonly versionId?: number;
}

export interface ResourceKey {
  readonly type: Resource['resourceType'];
  readonly id: string;
}

/** A version a batch wrote, by reference. */
export interface WrittenVersion {
  readonly type: Resource['resourceType'];
  readonly id: string;
  readonly versionId: number;
  readonly patientId?: string;
}

/** The current version of a resource as a handler sees it: the body (with meta) and its tokens. */
export interface CurrentResource<R extends Resource = Resource> {
  readonly resource: R & { id: string };
  readonly tokens: readonly string[];
}

/** What handlers may read: the read model as it stands after the events before theirs (this batch's included). */
export interface FhirReads {
  /** The current versions of those of `ids` that exist, in the order of `ids`. */
  current<R extends Resource>(type: R['resourceType'], ids: readonly string[]): Promise<CurrentResource<R>[]>;
  /** The id of a resource of the person's with `token` among its tokens (hidden index keys included). */
  findByToken(type: Resource['resourceType'], patientId: string, token: string): Promise<string | undefined>;
}

/** The current version of a resource: `indexed.resource` is the stored body, meta included; `position` is its last event's. */
interface Head {
  readonly indexed: IndexedResource;
  readonly versionId: number;
  readonly position: number;
}

interface Version extends Head {
  readonly recordedAt: string;
  /** The order it was written in the batch (numbering may happen later, in another order). */
  readonly sequence: number;
}

interface Write {
  readonly indexed: IndexedResource;
  readonly position: number;
  readonly recordedAt: string;
  readonly sequence: number;
}

/** A resource's key in the batch, and in what a batch says it changed (`AppliedBatch`). */
export const fhirResourceKey = (type: string, id: string): string => `${type}/${id}`;
const keyOf = fhirResourceKey;
const keyOfResource = (resource: Resource & { id: string }): ResourceKey => ({ type: resource.resourceType, id: resource.id });

interface StoredRow {
  readonly resource_type: string;
  readonly id: string;
  readonly version_id: number;
  readonly last_position: string;
  readonly patient_id: string | null;
  readonly tokens: string[];
  readonly resource: Resource & { id: string };
}

const LOAD_SQL = `
  select r.resource_type, r.id, r.version_id, r.last_position, r.patient_id, r.tokens, r.resource
  from unnest($1::text[], $2::text[]) as k(resource_type, id)
  join fhir_resource r on r.resource_type = k.resource_type and r.id = k.id`;

/** Every new version into fhir_resource_version, and each resource's last one into fhir_resource: one statement. */
const FLUSH_SQL = `
  with v as (
    select v.* from json_array_elements($1::json) as row, json_to_record(row) as v(resource_type text, id text, version_id int, last_updated timestamptz, patient_id text,
      tokens text[], refs text[], name_text text, strings text[], birthdate date, effective timestamptz, resource jsonb, last_position bigint, latest boolean)
  ), history as (
    insert into fhir_resource_version (resource_type, id, version_id, last_updated, patient_id, resource)
    select resource_type, id, version_id, last_updated, patient_id, resource from v
    on conflict do nothing
  )
  insert into fhir_resource (resource_type, id, version_id, last_updated, patient_id, tokens, refs, name_text, strings, birthdate, effective, resource, last_position)
  select resource_type, id, version_id, last_updated, patient_id, tokens, refs, name_text, coalesce(strings, '{}'), birthdate, effective, resource, last_position from v where latest
  on conflict (resource_type, id) do update set version_id = excluded.version_id, last_updated = excluded.last_updated,
    patient_id = excluded.patient_id, tokens = excluded.tokens, refs = excluded.refs, name_text = excluded.name_text, strings = excluded.strings,
    birthdate = excluded.birthdate, effective = excluded.effective, resource = excluded.resource, last_position = excluded.last_position`;

/**
 * The FHIR read model's unit of work for one batch of events, inside the batch's transaction.
 * Writes go to an in-memory overlay that later reads in the batch see; `flush` stores them all in
 * one statement. Versions count the events that changed a resource; a write at a position not
 * beyond the resource's last changes nothing, so replays are harmless.
 *
 * Numbering a write needs the stored version, so a write to a resource the batch has not loaded
 * waits until the resource is read, or until `flush` loads every such resource in one query: a
 * batch of new entries costs two queries (prefetch aside), however many resources it writes.
 */
export class FhirBatch implements FhirReads {
  /** Current versions known to the batch; null: no such resource. */
  private readonly heads = new Map<string, Head | null>();
  /** Writes to resources whose stored version is not loaded yet, in order. */
  private readonly unresolved = new Map<string, Write[]>();
  private readonly versions: Version[] = [];
  private writes = 0;

  constructor(private readonly tx: SqlQueryable) {}

  /** Loads in one query the resources the batch will read (reads of anything else still work). */
  async prefetch(keys: readonly ResourceKey[]): Promise<void> {
    await this.load(keys);
  }

  async current<R extends Resource>(type: R['resourceType'], ids: readonly string[]): Promise<CurrentResource<R>[]> {
    await this.load(ids.map((id) => ({ type, id })));
    return ids.flatMap((id) => {
      const head = this.heads.get(keyOf(type, id));
      return head ? [{ resource: head.indexed.resource as R & { id: string }, tokens: head.indexed.tokens ?? [] }] : [];
    });
  }

  async findByToken(type: Resource['resourceType'], patientId: string, token: string): Promise<string | undefined> {
    const matches = (indexed: IndexedResource) => indexed.resource.resourceType === type && indexed.patientId === patientId && indexed.tokens?.includes(token) === true;
    for (const head of this.heads.values()) if (head && matches(head.indexed)) return head.indexed.resource.id;
    for (const writes of this.unresolved.values()) if (matches(writes[writes.length - 1]!.indexed)) return writes[0]!.indexed.resource.id;
    const [row] = await this.tx.query<{ id: string }>('select id from fhir_resource where resource_type = $1 and patient_id = $2 and tokens @> $3::text[]', [
      type,
      patientId,
      [token],
    ]);
    return row?.id;
  }

  /** A new version of a resource caused by the event at `position`, recorded at `recordedAt`. */
  write(indexed: IndexedResource, position: number, recordedAt: string): void {
    const key = keyOf(indexed.resource.resourceType, indexed.resource.id);
    const write = { indexed, position, recordedAt, sequence: this.writes++ };
    if (this.heads.has(key)) this.apply(key, write);
    else if (this.unresolved.has(key)) this.unresolved.get(key)!.push(write);
    else this.unresolved.set(key, [write]);
  }

  /** Numbers every write made so far (loading, in one query, the resources they change). */
  async resolve(): Promise<void> {
    await this.load([...this.unresolved.values()].map(([write]) => keyOfResource(write!.indexed.resource)));
  }

  /** The versions the event at `position` created, once resolved: what its Provenance is about. */
  versionsAt(position: number): WrittenVersion[] {
    // In the order the handler wrote them, whether or not their resources were loaded first.
    return this.versions
      .filter((v) => v.position === position)
      .sort((a, b) => a.sequence - b.sequence)
      .map((v) => ({ type: v.indexed.resource.resourceType, id: v.indexed.resource.id, versionId: v.versionId, ...(v.indexed.patientId ? { patientId: v.indexed.patientId } : {}) }));
  }

  /** Stores every version written in the batch: each resource's last as its current row. Resolves with their keys (`Type/id`). */
  async flush(): Promise<string[]> {
    await this.resolve();
    if (this.versions.length === 0) return [];
    const rows = this.versions.map((version) => {
      const { indexed, versionId, position, recordedAt } = version;
      const { resource } = indexed;
      return {
        resource_type: resource.resourceType,
        id: resource.id,
        version_id: versionId,
        last_updated: recordedAt,
        patient_id: indexed.patientId ?? null,
        tokens: indexed.tokens ?? [],
        refs: indexed.refs ?? [],
        name_text: indexed.nameText ?? null,
        strings: indexed.strings ?? [],
        birthdate: indexed.birthdate ?? null,
        effective: indexed.effective ?? null,
        resource,
        last_position: position,
        latest: this.heads.get(keyOf(resource.resourceType, resource.id)) === version,
      };
    });
    await this.tx.query(FLUSH_SQL, [JSON.stringify(rows)]);
    return [...new Set(rows.filter((row) => row.latest).map((row) => keyOf(row.resource_type, row.id)))];
  }

  private apply(key: string, { indexed, position, recordedAt, sequence }: Write): void {
    const head = this.heads.get(key);
    if (head && head.position >= position) return;
    const versionId = indexed.versionId ?? (head?.versionId ?? 0) + 1;
    if (head && head.versionId >= versionId) return;
    const { versionId: _given, ...rest } = indexed;
    const { resource } = rest;
    const profile = ukCoreProfileOf(resource);
    const body = { ...resource, meta: { ...resource.meta, versionId: String(versionId), lastUpdated: recordedAt, ...(profile ? { profile: [profile] } : {}) } };
    const version: Version = { indexed: { ...rest, resource: body }, versionId, position, recordedAt, sequence };
    this.heads.set(key, version);
    this.versions.push(version);
  }

  /** Loads those of `keys` not yet known, in one query; then numbers the writes that waited for them. */
  private async load(keys: readonly ResourceKey[]): Promise<void> {
    const wanted = new Map<string, ResourceKey>();
    for (const k of keys) if (!this.heads.has(keyOf(k.type, k.id))) wanted.set(keyOf(k.type, k.id), k);
    if (wanted.size === 0) return;
    const targets = [...wanted.values()];
    const rows = await this.tx.query<StoredRow>(LOAD_SQL, [targets.map((k) => k.type), targets.map((k) => k.id)]);
    const stored = new Map(rows.map((row) => [keyOf(row.resource_type, row.id), row]));
    for (const key of wanted.keys()) {
      if (this.heads.has(key)) continue;
      const row = stored.get(key);
      const indexed = row && { resource: row.resource, tokens: row.tokens, ...(row.patient_id === null ? {} : { patientId: row.patient_id }) };
      this.heads.set(key, row && indexed ? { indexed, versionId: row.version_id, position: Number(row.last_position) } : null);
      for (const write of this.unresolved.get(key) ?? []) this.apply(key, write);
      this.unresolved.delete(key);
    }
  }
}
