import { Checkpoint, type EventStore, type RecordedEvent, type SqlDriver } from '@tandem/event-store';
import type { Logger } from 'pino';
import type { DelegationCommands } from '../application/commands';
import type { Clock } from '../application/clock';
import { streamKind } from '../application/streams';
import { reactToCareEntry, isCareEntryEvent } from './care';
import { reactToActivation, reactToCompetenceChange, reactToReinstatement } from './competence';
import { ACTIVE_STATUSES, type ReactionContext } from './context';
import { reactToUnreachedTier } from './gaps';
import { monitoringTimersOf, scheduleMonitoringTimers } from './monitoring';
import { DelegationViews, delegationSchemaSql, indexCompetence, indexDelegation, indexEscalation, indexPrompt } from './read-model';

const CHECKPOINT = 'delegation-reactions';
/** Events that change nothing here still move the stored checkpoint, every so often. */
const CHECKPOINT_EVERY = 250;
const MAX_ATTEMPTS = 5;

export interface ProcessorStatus {
  readonly checkpoint: number;
  readonly head: number;
  readonly running: boolean;
  readonly error?: string;
}

/**
 * The delegation service's subscription to the whole log, from its own stored checkpoint. For each
 * event, in global order:
 *
 * 1. React: a care entry is evaluated against the rules of the frameworks the person is under
 *    (escalations, prompts, rechecks); a lapsed, suspended or revoked competence suspends every
 *    delegation depending on it; an activation is checked against the competence again. Reactions
 *    are commands with deterministic idempotency keys, so an event handled twice (a crash before
 *    the checkpoint moved, a replay from scratch) appends nothing twice.
 * 2. Index: the read model row of a delegation-service stream (the state its events rebuild up to
 *    this one) and the stream's timer, with the checkpoint, in one transaction.
 *
 * A reaction that keeps failing stops the subscription (reported by /health) rather than skip an
 * entry that might need escalating.
 */
export class DelegationProcessor {
  private readonly checkpoint = new Checkpoint();
  private storedCheckpoint = -1;
  private unsaved = 0;
  private controller = new AbortController();
  private loop: Promise<void> | undefined;
  private failure: string | undefined;
  readonly views: DelegationViews;
  private readonly context: ReactionContext;

  constructor(
    private readonly deps: { store: EventStore; db: SqlDriver; commands: DelegationCommands; clock: Clock; logger?: Logger; onIndexed?: () => void },
  ) {
    this.views = new DelegationViews(deps.db);
    this.context = { store: deps.store, commands: deps.commands, views: this.views, clock: deps.clock, indexNow: (stream) => this.indexStream(stream) };
  }

  async start(): Promise<void> {
    await this.deps.db.migrate(delegationSchemaSql);
    const [row] = await this.deps.db.query<{ position: string }>('select position from delegation_checkpoints where name = $1', [CHECKPOINT]);
    this.storedCheckpoint = row ? Number(row.position) : -1;
    this.checkpoint.advance(this.storedCheckpoint);
    this.controller = new AbortController();
    this.failure = undefined;
    this.loop = this.run(this.controller.signal).catch((error: unknown) => {
      this.failure = error instanceof Error ? error.message : String(error);
      this.deps.logger?.error({ err: error }, 'delegation reactions stopped on an error');
      this.loop = undefined;
    });
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop?.catch(() => undefined);
    this.loop = undefined;
    if (this.checkpoint.position > this.storedCheckpoint) await this.saveCheckpoint(this.deps.db, this.checkpoint.position).catch(() => undefined);
  }

  get position(): number {
    return this.checkpoint.position;
  }

  async status(): Promise<ProcessorStatus> {
    return { checkpoint: Math.max(this.checkpoint.position, 0), head: await this.deps.store.headPosition(), running: this.loop !== undefined, ...(this.failure ? { error: this.failure } : {}) };
  }

  /** Resolves true once every event up to `position` has been reacted to and indexed; false after the timeout. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    return this.checkpoint.waitFor(position, timeoutMs);
  }

  /** Waits until the processor has handled everything stored now. */
  async settle(timeoutMs = 10_000): Promise<boolean> {
    return this.waitFor(await this.deps.store.headPosition(), timeoutMs);
  }

  private async run(signal: AbortSignal): Promise<void> {
    const events = this.deps.store.subscribeToAll({ ...(this.checkpoint.position >= 0 ? { after: this.checkpoint.position } : {}), signal });
    for await (const event of events) {
      if (signal.aborted) break;
      await this.handle(event);
    }
  }

  private async handle(event: RecordedEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.react(event);
        break;
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS) throw error;
        this.deps.logger?.warn({ err: error, position: event.position, type: event.type }, 'delegation reaction failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
    const indexed = await this.index(event);
    this.checkpoint.advance(event.position);
    if (indexed) this.deps.onIndexed?.();
  }

  private async react(event: RecordedEvent): Promise<void> {
    if (isCareEntryEvent(event)) return reactToCareEntry(this.context, event);
    if (event.type === 'CompetenceReinstated') return reactToReinstatement(this.context, event);
    if (event.stream.startsWith('competency-')) return reactToCompetenceChange(this.context, event);
    if (event.type === 'DelegationActivated') return reactToActivation(this.context, event);
    if (event.type === 'EscalationSentToTier') return reactToUnreachedTier(this.context, event);
  }

  /** Indexes the event's stream as it stood at this event, with the checkpoint; returns whether a row may have changed. */
  private async index(event: RecordedEvent): Promise<boolean> {
    const kind = streamKind(event.stream);
    if (kind === 'care' && isCareEntryEvent(event)) {
      // A check recorded (or not) moves the deadline of the person's repeating checks.
      const writes = await this.monitoringWriters(event.stream.slice('care-'.length), event.position);
      if (writes.length > 0) {
        await this.deps.db.transaction(async (tx) => {
          for (const write of writes) await write(tx);
          await this.saveCheckpoint(tx, event.position);
        });
        return true;
      }
    }
    if (kind === 'care' || kind === 'other') {
      if (++this.unsaved >= CHECKPOINT_EVERY) await this.saveCheckpoint(this.deps.db, event.position);
      return false;
    }
    const write = await this.rowWriter(event.stream, event.revision, event.position);
    await this.deps.db.transaction(async (tx) => {
      await write?.(tx);
      await this.saveCheckpoint(tx, event.position);
    });
    return true;
  }

  /** Indexes a stream at its latest event (a reaction's own append), ahead of the subscription. */
  async indexStream(stream: string): Promise<void> {
    const [last] = await this.deps.store.readStream(stream, { direction: 'backwards', maxCount: 1 });
    if (!last) return;
    const write = await this.rowWriter(stream, last.revision, last.position);
    if (write) await this.deps.db.transaction(write);
    this.deps.onIndexed?.();
  }

  /** Loads the stream up to a revision (outside any transaction: the store may share the database) and returns the write. */
  private async rowWriter(stream: string, revision: number, position: number): Promise<((tx: Parameters<Parameters<SqlDriver['transaction']>[0]>[0]) => Promise<void>) | undefined> {
    const { commands } = this.deps;
    const id = stream.slice(stream.indexOf('-') + 1);
    switch (streamKind(stream)) {
      case 'competency': {
        const framework = commands.frameworks.all().find((f) => stream.endsWith(`-${f.id}`));
        if (!framework) return undefined;
        const careWorkerId = stream.slice('competency-'.length, stream.length - framework.id.length - 1);
        const state = await commands.loadCompetence(careWorkerId, framework.id, revision);
        return state && ((tx) => indexCompetence(tx, state, position));
      }
      case 'delegation': {
        const loaded = await commands.loadDelegation(id, revision);
        const timers = await monitoringTimersOf(commands, this.deps.store, id);
        return (
          loaded &&
          (async (tx) => {
            await indexDelegation(tx, loaded, position);
            await scheduleMonitoringTimers(tx, id, timers, position);
          })
        );
      }
      case 'escalation': {
        const loaded = await commands.loadEscalation(id, revision);
        return loaded && ((tx) => indexEscalation(tx, loaded, position));
      }
      case 'prompt': {
        const loaded = await commands.loadPrompt(id, revision);
        return loaded && ((tx) => indexPrompt(tx, loaded.state, position));
      }
      default:
        return undefined;
    }
  }

  /** The repeating-check timers of a person's active delegations, recomputed after a care entry. */
  private async monitoringWriters(patientId: string, position: number): Promise<((tx: Parameters<Parameters<SqlDriver['transaction']>[0]>[0]) => Promise<void>)[]> {
    const { commands } = this.deps;
    const writes = [];
    for (const delegation of await this.views.delegationsForPatient(patientId)) {
      if (!ACTIVE_STATUSES.includes(delegation.status)) continue;
      if (!commands.frameworks.get(delegation.frameworkId)?.monitoring.some((m) => m.schedule.kind === 'every')) continue;
      const timers = await monitoringTimersOf(commands, this.deps.store, delegation.delegationId);
      writes.push((tx: Parameters<Parameters<SqlDriver['transaction']>[0]>[0]) => scheduleMonitoringTimers(tx, delegation.delegationId, timers, position));
    }
    return writes;
  }

  private async saveCheckpoint(db: { query: SqlDriver['query'] }, position: number): Promise<void> {
    await db.query(
      `insert into delegation_checkpoints (name, position) values ($1, $2)
       on conflict (name) do update set position = excluded.position, updated_at = now()`,
      [CHECKPOINT, position],
    );
    this.storedCheckpoint = Math.max(this.storedCheckpoint, position);
    this.unsaved = 0;
  }

}
