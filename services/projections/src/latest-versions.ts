import type { SqlQueryable } from '@tandem/event-store';
import { FhirReader, type StoredResource } from '@tandem/fhir-read-model';
import { fhirResourceKey } from './fhir/writer';
import type { CommittedChange } from './projection';

/** Where the FHIR read model's committed changes are told: the projection runner of this process. */
export interface CommittedChanges {
  onCommitted(listener: (change: CommittedChange) => void): void;
}

export interface LatestVersionsOptions {
  /** How many resources are held (least recently read are dropped). */
  readonly maxResources?: number;
}

/**
 * A FHIR reader that holds the latest version of each resource read, as its JSON text ready to
 * send, kept current by the projection itself rather than by a time to live: the runner tells it,
 * after each batch commits and before the read model's position moves on, which resources the batch
 * wrote, and those are dropped (the next read reads the row again). A version never changes, so
 * what is held is exactly what the row says until the projection writes the resource again.
 *
 * - Read-your-writes holds: a client that waited for its command's position (`X-Tandem-Min-Position`,
 *   or the write's own answer) reads after the drop.
 * - A read under way while its resource was written is not kept (its row may be the older one).
 * - A rebuild's switch to a new generation drops everything.
 *
 * Only for a process whose own runner writes the read model: where the projections run elsewhere
 * nothing would tell this one of their writes (tandem.ts then uses the plain reader).
 */
export class LatestVersionsReader extends FhirReader {
  private readonly held = new Map<string, StoredResource & { readonly json: string }>();
  /** Reads under way, by key: each is spoiled by a write to its resource while it runs. */
  private readonly reading = new Map<string, Set<{ spoiled: boolean }>>();
  private readonly maxResources: number;

  constructor(db: SqlQueryable, changes: CommittedChanges, { maxResources = 20_000 }: LatestVersionsOptions = {}) {
    super(db);
    this.maxResources = maxResources;
    changes.onCommitted((change) => {
      if (change === 'everything') {
        this.held.clear();
        for (const reads of this.reading.values()) for (const read of reads) read.spoiled = true;
        return;
      }
      if (change.projection !== 'fhir') return;
      for (const key of change.changed) {
        this.held.delete(key);
        for (const read of this.reading.get(key) ?? []) read.spoiled = true;
      }
    });
  }

  /** How many resources are held (tests, /health). */
  get size(): number {
    return this.held.size;
  }

  override async read(type: string, id: string): Promise<StoredResource | undefined> {
    const key = fhirResourceKey(type, id);
    const held = this.held.get(key);
    if (held) {
      // Most recently read last, so the bound drops the least recently read.
      this.held.delete(key);
      this.held.set(key, held);
      return held;
    }
    const read = { spoiled: false };
    const reads = this.reading.get(key) ?? new Set();
    reads.add(read);
    this.reading.set(key, reads);
    try {
      const stored = await super.read(type, id);
      // Not recorded is not held: the next read asks again (a create is not waited for here).
      if (stored && !read.spoiled) {
        this.held.set(key, { ...stored, json: JSON.stringify(stored.resource) });
        if (this.held.size > this.maxResources) this.held.delete(this.held.keys().next().value!);
      }
      return stored;
    } finally {
      reads.delete(read);
      if (reads.size === 0) this.reading.delete(key);
    }
  }
}
