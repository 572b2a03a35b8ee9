import type { SqlQueryable } from '@tandem/event-store';
import { FhirReader, holdJsonText, type SearchQuery, type SearchResult, type StoredResource } from '@tandem/fhir-read-model';
import { fhirResourceKey } from './fhir/writer';
import type { CommittedChange } from './projection';

/** Where the FHIR read model's committed changes are told: the projection runner of this process. */
export interface CommittedChanges {
  onCommitted(listener: (change: CommittedChange) => void): void;
}

export interface LatestVersionsOptions {
  /** How many resources are held (least recently read are dropped). */
  readonly maxResources?: number;
  /** How many search and $everything results are held (least recently used are dropped). */
  readonly maxSearches?: number;
}

/** What a held answer depends on: the resource types whose change drops it, or `record`: every type of a person's record. */
type Depends = readonly string[] | 'record';

/** The types $everything leaves out (reader.ts): their changes do not touch a person's record. */
const NOT_IN_RECORD = new Set(['AuditEvent', 'Provenance']);

const touches = (depends: Depends, types: ReadonlySet<string>): boolean =>
  depends === 'record' ? [...types].some((type) => !NOT_IN_RECORD.has(type)) : depends.some((type) => types.has(type));

/** A search's key: its type and every parameter, in one order whatever order they were sent in. */
const searchKey = (kind: string, subject: string, query: SearchQuery): string =>
  JSON.stringify([kind, subject, Object.entries(query).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);

/** A read under way: spoiled by a change to what it depends on while it runs. */
interface UnderWay {
  /** A resource's key (a read by id), or what an answer depends on (a search). */
  readonly on: { readonly key: string } | { readonly depends: Depends };
  spoiled: boolean;
}

/**
 * A FHIR reader that holds what it has read, kept current by the projection itself rather than by
 * a time to live: the runner tells it, after each batch commits and before the read model's
 * position moves on, which resources the batch wrote, and what they touch is dropped (the next read
 * reads the read model again).
 *
 * - The latest version of each resource read, with its JSON text ready to send: a version never
 *   changes, so what is held is what the row says until the projection writes the resource again.
 * - Search and $everything answers, each dropped when any resource of a type it depends on is
 *   written (the searched type, the Patient too for a chained search or an `_include`; for
 *   $everything any type of a person's record): coarse, so a held answer is never one a write
 *   could have changed.
 *   Each resource of a held answer is held with its JSON text too (`holdJsonText`), so a bundle is
 *   written from ready text (ADR 0039); the text belongs to the resource object, which a new
 *   version replaces.
 *
 * Read-your-writes holds: a client that waited for its command's position (`X-Tandem-Min-Position`,
 * or the write's own answer) reads after the drop. A read under way while what it depends on was
 * written is not kept (its rows may be the older ones). A rebuild's switch to a new generation
 * drops everything. Only for a process whose own runner writes the read model: where the
 * projections run elsewhere nothing would tell this one of their writes (tandem.ts then uses the
 * plain reader).
 */
export class LatestVersionsReader extends FhirReader {
  private readonly resources = new Map<string, StoredResource & { readonly json: string }>();
  private readonly searches = new Map<string, { readonly depends: Depends; readonly result: SearchResult | undefined }>();
  private readonly underWay = new Set<UnderWay>();
  private readonly maxResources: number;
  private readonly maxSearches: number;

  constructor(db: SqlQueryable, changes: CommittedChanges, { maxResources = 20_000, maxSearches = 1_000 }: LatestVersionsOptions = {}) {
    super(db);
    this.maxResources = maxResources;
    this.maxSearches = maxSearches;
    changes.onCommitted((change) => {
      if (change === 'everything') {
        this.resources.clear();
        this.searches.clear();
        for (const read of this.underWay) read.spoiled = true;
        return;
      }
      if (change.projection !== 'fhir') return;
      const keys = new Set(change.changed);
      const types = new Set(change.changed.map((key) => key.slice(0, key.indexOf('/'))));
      for (const key of keys) this.resources.delete(key);
      for (const [key, held] of this.searches) if (touches(held.depends, types)) this.searches.delete(key);
      for (const read of this.underWay) {
        if ('key' in read.on ? keys.has(read.on.key) : touches(read.on.depends, types)) read.spoiled = true;
      }
    });
  }

  /** How many resources and answers are held (tests). */
  get size(): number {
    return this.resources.size + this.searches.size;
  }

  override async read(type: string, id: string): Promise<StoredResource | undefined> {
    const key = fhirResourceKey(type, id);
    const held = this.resources.get(key);
    if (held) return mostRecent(this.resources, key, held);
    // Not recorded is not held: the next read asks again.
    return this.underway({ key }, () => super.read(type, id), (stored) => {
      if (!stored) return;
      const json = JSON.stringify(stored.resource);
      holdJsonText(stored.resource, json);
      bounded(this.resources, key, { ...stored, json }, this.maxResources);
    });
  }

  override async search(type: string, query: SearchQuery): Promise<SearchResult> {
    const chained = Object.keys(query).some((name) => name.includes('.')) || query._include !== undefined;
    const found = await this.answer(searchKey('search', type, query), chained ? [type, 'Patient'] : [type], () => super.search(type, query));
    return found!;
  }

  override async everything(patientId: string, query: SearchQuery): Promise<SearchResult | undefined> {
    return this.answer(searchKey('everything', patientId, query), 'record', () => super.everything(patientId, query));
  }

  private async answer(key: string, depends: Depends, load: () => Promise<SearchResult | undefined>): Promise<SearchResult | undefined> {
    const held = this.searches.get(key);
    if (held) return mostRecent(this.searches, key, held).result;
    return this.underway({ depends }, load, (result) => {
      // Each resource's text once, when the answer is held: its bundle is assembled from them.
      for (const resource of [...(result?.matches ?? []), ...(result?.included ?? [])]) holdJsonText(resource, JSON.stringify(resource));
      bounded(this.searches, key, { depends, result }, this.maxSearches);
    });
  }

  /** Runs a read of the read model; keeps its answer only if nothing it depends on was written meanwhile. */
  private async underway<T>(on: UnderWay['on'], load: () => Promise<T>, keep: (value: T) => void): Promise<T> {
    const read: UnderWay = { on, spoiled: false };
    this.underWay.add(read);
    try {
      const value = await load();
      if (!read.spoiled) keep(value);
      return value;
    } finally {
      this.underWay.delete(read);
    }
  }
}

/** Most recently used last, so the bound drops the least recently used. */
const mostRecent = <V>(map: Map<string, V>, key: string, value: V): V => {
  map.delete(key);
  map.set(key, value);
  return value;
};

const bounded = <V>(map: Map<string, V>, key: string, value: V, max: number): void => {
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
};
