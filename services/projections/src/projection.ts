import type { RecordedEvent, SqlDriver, SqlQueryable } from '@tandem/event-store';

/** What one batch changed in a read model: the keys of the rows it wrote (the FHIR read model: `Type/id`). */
export interface AppliedBatch {
  readonly changed: readonly string[];
}

/**
 * What the runner tells its listeners after a batch has committed and before the read models'
 * position moves on (so a read that waited for the position never finds an older copy): the keys
 * each projection changed, or `everything` when a rebuild has switched to a new generation.
 */
export type CommittedChange = { readonly projection: string; readonly changed: readonly string[] } | 'everything';

/**
 * A read model fed by the global log. `apply` receives events in global order, in batches,
 * inside the same transaction that moves the checkpoint, so a crash never half-applies a batch.
 * It must still be idempotent (replaying an event changes nothing), because rebuilds and
 * operators replay.
 */
export interface Projection {
  readonly name: string;
  /** Creates the read model's tables if missing. */
  readonly schemaSql: string;
  /** May say what the batch changed (`AppliedBatch`), for in-memory copies the runner keeps current. */
  apply(events: readonly RecordedEvent[], tx: SqlQueryable): Promise<void | AppliedBatch>;
  /** Run once before the runner starts (a release moving its tables from an older layout). */
  prepare?(db: SqlDriver): Promise<void>;
}
