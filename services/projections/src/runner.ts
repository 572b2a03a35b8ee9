import { Checkpoint, type EventStore, type RecordedEvent, type SqlDriver } from '@tandem/event-store';
import type { Logger } from 'pino';
import type { CommittedChange, Projection } from './projection';
import { activeGeneration, baseSchema, checkpointName, controlSql, createGeneration, ensureReadModels, generationSchema, inGeneration, switchViews, tablesOf } from './read-model-schema';

const IDLE = Symbol('idle');
const MAX_BATCH = 1000;
/**
 * A rebuild's batches are smaller and it gives way between them: on PGlite a batch's transaction
 * holds the one connection, and a rebuild that never yielded stalled every read for seconds (H39).
 */
export const REBUILD_BATCH = 100;
const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface ProjectionStatus {
  readonly generation: number;
  readonly checkpoint: number;
  readonly head: number;
  /** Events stored but not yet projected (counted up to 1,000). */
  readonly lagEvents: number;
  readonly running: boolean;
  /** A rebuild is under way (the current generation keeps serving reads meanwhile). */
  readonly rebuilding: boolean;
}

export interface RebuildReport {
  readonly generation: number;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
}

/**
 * Runs projections from their stored checkpoint: catch-up, then live. Events are applied in
 * batches: a batch closes when 1,000 events are waiting or when the subscription has nothing
 * more at hand, so catching up is fast and live events are applied at once. The batch and the
 * checkpoint commit together, so a crash never half-applies a batch.
 */
export class ProjectionRunner {
  private readonly checkpoint = new Checkpoint();
  private base = 'public';
  private generation = 1;
  private controller = new AbortController();
  private loop: Promise<void> | undefined;
  private rebuilds = 0;
  private readonly listeners: ((position: number) => void)[] = [];
  private readonly committedListeners: ((change: CommittedChange) => void)[] = [];

  constructor(
    private readonly store: EventStore,
    private readonly db: SqlDriver,
    private readonly projections: readonly Projection[],
    private readonly logger?: Logger,
  ) {}

  async start(): Promise<void> {
    for (const projection of this.projections) await projection.prepare?.(this.db);
    const added = await this.projectionsNotInGeneration();
    ({ base: this.base, generation: this.generation } = await ensureReadModels(this.db, this.projections));
    this.checkpoint.advance(await this.storedCheckpoint(this.generation));
    this.startLoop();
    // A projection this release adds to a generation already filled, or a table it adds to one (the
    // FHIR projection's entry state), would start empty at the stored checkpoint: every read model
    // is rebuilt from the log instead (the current ones serve meanwhile).
    if (added.length > 0 && this.checkpoint.position >= 0) {
      this.logger?.info({ projections: added }, 'new read models: rebuilding every read model from the log');
      void this.rebuild().catch((error: unknown) => this.logger?.error({ err: error }, 'rebuilding for the new read models failed'));
    }
  }

  /** Calls `listener` with the position each time the read models move on (a scheduler looking for new timers). */
  onAdvance(listener: (position: number) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Calls `listener`, synchronously, with what each committed batch changed, before the position
   * moves on (`waitFor` resolves after it): an in-memory copy of a read model dropped here is never
   * read stale by a client waiting for its own write. After a rebuild's switch, `everything`.
   */
  onCommitted(listener: (change: CommittedChange) => void): void {
    this.committedListeners.push(listener);
  }

  private committed(change: CommittedChange): void {
    for (const listener of this.committedListeners) listener(change);
  }

  /** The projections some of whose tables the active generation does not have yet. */
  private async projectionsNotInGeneration(): Promise<string[]> {
    await this.db.migrate(controlSql);
    const generation = await activeGeneration(this.db);
    if (generation === undefined) return [];
    const schema = generationSchema(await baseSchema(this.db), generation);
    const rows = await this.db.query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1', [schema]);
    const present = new Set(rows.map((r) => r.table_name));
    return this.projections.filter((p) => !tablesOf([p]).every((t) => present.has(t))).map((p) => p.name);
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop?.catch(() => undefined);
    this.loop = undefined;
  }

  get rebuilding(): boolean {
    return this.rebuilds > 0;
  }

  get position(): number {
    return this.checkpoint.position;
  }

  /** Read-your-writes: resolves true once the read models hold `position`, false after the timeout. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    return this.checkpoint.waitFor(position, timeoutMs);
  }

  async status(): Promise<ProjectionStatus> {
    const head = await this.store.headPosition();
    const behind = head > this.checkpoint.position ? await this.store.readAll({ fromPosition: this.checkpoint.position + 1, maxCount: 1000 }) : [];
    return { generation: this.generation, checkpoint: Math.max(this.checkpoint.position, 0), head, lagEvents: behind.length, running: this.loop !== undefined, rebuilding: this.rebuilding };
  }

  /**
   * Rebuilds every read model from position 0 into a new generation while the current one keeps
   * serving reads and following live events; then stops the live loop for the last few events,
   * switches the views in one transaction, and carries on from the new generation.
   */
  async rebuild(onProgress?: (events: number) => void): Promise<RebuildReport> {
    this.rebuilds += 1;
    try {
      return await this.rebuildOnce(onProgress);
    } finally {
      this.rebuilds -= 1;
    }
  }

  private async rebuildOnce(onProgress?: (events: number) => void): Promise<RebuildReport> {
    const started = process.hrtime.bigint();
    const next = this.generation + 1;
    await this.db.query(`drop schema if exists ${generationSchema(this.base, next)} cascade`);
    await this.db.query('delete from tandem_projection_checkpoints where name = $1', [checkpointName(next)]);
    await createGeneration(this.db, this.base, next, this.projections);
    let checkpoint = -1;
    let events = 0;
    const catchUp = async () => {
      for (;;) {
        const page = await this.store.readAll({ fromPosition: checkpoint + 1, maxCount: REBUILD_BATCH });
        if (page.length === 0) return;
        await this.applyBatch(page, next);
        checkpoint = page[page.length - 1]!.position;
        events += page.length;
        onProgress?.(events);
        await yieldToRequests();
      }
    };
    await catchUp();
    await this.stop();
    try {
      await catchUp();
      const previous = this.generation;
      await this.db.transaction((tx) => switchViews(tx, this.base, next, this.projections));
      this.generation = next;
      this.committed('everything');
      this.checkpoint.advance(checkpoint);
      await this.db.query(`drop schema if exists ${generationSchema(this.base, previous)} cascade`);
      await this.db.query('delete from tandem_projection_checkpoints where name = $1', [checkpointName(previous)]);
    } finally {
      this.startLoop();
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { generation: next, events, seconds, eventsPerSecond: Math.round(events / seconds) };
  }

  private async storedCheckpoint(generation: number): Promise<number> {
    const [row] = await this.db.query<{ position: string }>('select position from tandem_projection_checkpoints where name = $1', [checkpointName(generation)]);
    return row ? Number(row.position) : -1;
  }

  private startLoop(): void {
    this.controller = new AbortController();
    const generation = this.generation;
    this.loop = this.run(this.controller.signal, generation).catch((error: unknown) => {
      this.logger?.error({ err: error }, 'projection runner stopped on an error');
      this.loop = undefined;
    });
  }

  private async run(signal: AbortSignal, generation: number): Promise<void> {
    const events = this.store.subscribeToAll({ after: this.checkpoint.position < 0 ? undefined : this.checkpoint.position, signal })[Symbol.asyncIterator]();
    let batch: RecordedEvent[] = [];
    const idle = () => new Promise<typeof IDLE>((resolve) => setImmediate(() => resolve(IDLE)));
    const flush = async () => {
      const changes = await this.applyBatch(batch, generation);
      const position = batch[batch.length - 1]!.position;
      for (const change of changes) this.committed(change);
      this.checkpoint.advance(position);
      batch = [];
      for (const listener of this.listeners) listener(position);
    };
    let next = events.next();
    while (!signal.aborted) {
      const result = batch.length > 0 ? await Promise.race([next, idle()]) : await next;
      if (result === IDLE) {
        await flush();
        continue;
      }
      if (result.done) break;
      batch.push(result.value);
      next = events.next();
      if (batch.length >= MAX_BATCH) await flush();
    }
    if (batch.length > 0) await flush();
    await events.return?.();
  }

  /** Applies a batch and moves the checkpoint in one transaction; resolves, once committed, with what each projection said it changed. */
  private async applyBatch(batch: readonly RecordedEvent[], generation: number): Promise<CommittedChange[]> {
    const last = batch[batch.length - 1]!.position;
    const changes: CommittedChange[] = [];
    await this.db.transaction((tx) =>
      inGeneration(tx, this.base, generation, async () => {
        changes.length = 0;
        for (const projection of this.projections) {
          const applied = await projection.apply(batch, tx);
          if (applied && applied.changed.length > 0) changes.push({ projection: projection.name, changed: applied.changed });
        }
        await tx.query(
          `insert into tandem_projection_checkpoints (name, position) values ($1, $2)
           on conflict (name) do update set position = excluded.position, updated_at = now()`,
          [checkpointName(generation), last],
        );
      }),
    );
    return changes;
  }

}
