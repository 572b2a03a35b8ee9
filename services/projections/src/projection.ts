import type { RecordedEvent, SqlDriver, SqlQueryable } from '@tandem/event-store';

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
  apply(events: readonly RecordedEvent[], tx: SqlQueryable): Promise<void>;
  /** Run once before the runner starts (a release moving its tables from an older layout). */
  prepare?(db: SqlDriver): Promise<void>;
}
