import type { EventStore, RecordedEvent, SqlDriver } from '@tandem/event-store';
import type { Logger } from 'pino';
import type { Projection } from './projection';

const checkpointsSql = `
create table if not exists tandem_projection_checkpoints (
  name text primary key,
  position bigint not null,
  updated_at timestamptz not null default now()
);`;

const IDLE = Symbol('idle');
const MAX_BATCH = 1000;

export interface ProjectionStatus {
  readonly checkpoint: number;
  readonly head: number;
  /** Events stored but not yet projected (counted up to 1,000). */
  readonly lagEvents: number;
  readonly running: boolean;
}

/**
 * Runs projections from their stored checkpoint: catch-up, then live. Events are applied in
 * batches: a batch closes when 1,000 events are waiting or when the subscription has nothing
 * more at hand, so catching up is fast and live events are applied at once.
 */
export class ProjectionRunner {
  private checkpoint = -1;
  private controller = new AbortController();
  private loop: Promise<void> | undefined;
  private waiters: { position: number; resolve: () => void }[] = [];

  constructor(
    private readonly store: EventStore,
    private readonly db: SqlDriver,
    private readonly projections: readonly Projection[],
    private readonly logger?: Logger,
    private readonly checkpointName = 'read-models',
  ) {}

  async migrate(): Promise<void> {
    await this.db.migrate([checkpointsSql, ...this.projections.map((p) => p.schemaSql)].join('\n'));
  }

  async start(): Promise<void> {
    await this.migrate();
    const [row] = await this.db.query<{ position: string }>('select position from tandem_projection_checkpoints where name = $1', [this.checkpointName]);
    this.checkpoint = row ? Number(row.position) : -1;
    this.controller = new AbortController();
    this.loop = this.run(this.controller.signal).catch((error: unknown) => {
      this.logger?.error({ err: error }, 'projection runner stopped on an error');
      throw error;
    });
    this.loop.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop?.catch(() => undefined);
    this.loop = undefined;
  }

  get position(): number {
    return this.checkpoint;
  }

  /** Read-your-writes: resolves true once the read models hold `position`, false after the timeout. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    if (this.checkpoint >= position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { position, resolve: () => resolve(true) };
      this.waiters.push(waiter);
      setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(this.checkpoint >= position);
      }, timeoutMs);
    });
  }

  async status(): Promise<ProjectionStatus> {
    const head = await this.store.headPosition();
    const behind = head > this.checkpoint ? await this.store.readAll({ fromPosition: this.checkpoint + 1, maxCount: 1000 }) : [];
    return { checkpoint: Math.max(this.checkpoint, 0), head, lagEvents: behind.length, running: this.loop !== undefined };
  }

  private async run(signal: AbortSignal): Promise<void> {
    const events = this.store.subscribeToAll({ after: this.checkpoint < 0 ? undefined : this.checkpoint, signal })[Symbol.asyncIterator]();
    let batch: RecordedEvent[] = [];
    const idle = () => new Promise<typeof IDLE>((resolve) => setImmediate(() => resolve(IDLE)));
    let next = events.next();
    while (!signal.aborted) {
      const result = batch.length > 0 ? await Promise.race([next, idle()]) : await next;
      if (result === IDLE) {
        await this.applyBatch(batch);
        batch = [];
        continue;
      }
      if (result.done) break;
      batch.push(result.value);
      next = events.next();
      if (batch.length >= MAX_BATCH) {
        await this.applyBatch(batch);
        batch = [];
      }
    }
    if (batch.length > 0 && !signal.aborted) await this.applyBatch(batch);
    await events.return?.();
  }

  private async applyBatch(batch: readonly RecordedEvent[]): Promise<void> {
    const last = batch[batch.length - 1]!.position;
    await this.db.transaction(async (tx) => {
      for (const projection of this.projections) await projection.apply(batch, tx);
      await tx.query(
        `insert into tandem_projection_checkpoints (name, position) values ($1, $2)
         on conflict (name) do update set position = excluded.position, updated_at = now()`,
        [this.checkpointName, last],
      );
    });
    this.checkpoint = last;
    const ready = this.waiters.filter((w) => w.position <= last);
    this.waiters = this.waiters.filter((w) => w.position > last);
    for (const w of ready) w.resolve();
  }
}
