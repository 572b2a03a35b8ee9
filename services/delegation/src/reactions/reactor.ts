import { streamOfKind } from '@tandem/contracts';
import { Checkpoint, type EventStore, type RecordedEvent, type SqlDriver, type SqlQueryable } from '@tandem/event-store';
import type { Logger } from 'pino';
import type { DelegationCommands } from '../application/commands';
import type { Clock } from '../application/clock';
import { reactToCareEntry, isCareEntryEvent } from './care';
import { reactToActivation, reactToCompetenceChange, reactToReinstatement } from './competence';
import type { ReactionContext } from './context';
import { reactToUnreachedTier } from './gaps';
import { reactToVisitDeadline } from './visits';
import type { DelegationViews } from './read-model';

const CHECKPOINT = 'delegation-reactions';
/** Events nothing reacts to still move the stored checkpoint, every so often. */
const CHECKPOINT_EVERY = 250;
const MAX_ATTEMPTS = 5;
/** How long one wait for the read model lasts before the reactor says it is waiting (and waits on). */
const READ_MODEL_WAIT_MS = 10_000;

/** The reactor's own state: the checkpoint it has reacted up to (not a view: a rebuild leaves it alone). */
export const reactorSchemaSql = `
create table if not exists delegation_checkpoints (
  name text primary key,
  position bigint not null,
  updated_at timestamptz not null default now()
);`;

export interface ReactorStatus {
  readonly checkpoint: number;
  readonly head: number;
  readonly running: boolean;
  readonly error?: string;
}

/** Where the read model has got to in the log: the projection runner in this process, or its stored checkpoint (checkpointWatcher). */
export interface ReadModelPosition {
  waitFor(position: number, timeoutMs: number): Promise<boolean>;
}

/**
 * The delegation service's reactions (Emmett's reactors): a subscription to the whole log, from
 * its own stored checkpoint, that turns events into commands, deciding on the write model. A care
 * entry is evaluated against the rules of the frameworks the person is under (escalations,
 * prompts, rechecks); a lapsed, suspended or revoked competence suspends every delegation
 * depending on it; an activation is checked against the competence again; a tier that reached
 * nobody becomes an incident. Commands carry deterministic idempotency keys, so an event handled
 * twice (a crash before the checkpoint moved, a replay from scratch) appends nothing twice.
 *
 * It writes no read-model row: the projection (reactions/projection.ts) keeps every view, on the
 * projection runner. The lookups a reaction makes in the views (which delegations a person has,
 * which escalations are open) are read once the read model holds the event, and the reactor
 * moves past an event only once the read model also holds what reacting to it appended: the next
 * event sees an escalation just raised open, as before, and `waitFor(position)` means the views
 * show the event and everything it set off.
 *
 * A reaction that keeps failing stops the subscription (reported by /health) rather than skip an
 * entry that might need escalating.
 */
export class DelegationReactor {
  private readonly checkpoint = new Checkpoint();
  private storedCheckpoint = -1;
  private unsaved = 0;
  private controller = new AbortController();
  private loop: Promise<void> | undefined;
  private failure: string | undefined;
  private readonly context: ReactionContext;

  constructor(
    private readonly deps: {
      store: EventStore;
      db: SqlDriver;
      commands: DelegationCommands;
      views: DelegationViews;
      readModel: ReadModelPosition;
      clock: Clock;
      logger?: Logger;
    },
  ) {
    this.context = { store: deps.store, commands: deps.commands, views: deps.views, clock: deps.clock };
  }

  async start(): Promise<void> {
    await this.deps.db.migrate(reactorSchemaSql);
    const [row] = await this.deps.db.query<{ position: string }>('select position from delegation_checkpoints where name = $1', [CHECKPOINT]);
    this.storedCheckpoint = row ? Number(row.position) : -1;
    this.checkpoint.advance(this.storedCheckpoint);
    this.controller = new AbortController();
    this.failure = undefined;
    this.loop = this.run(this.controller.signal).catch((error: unknown) => {
      if (this.controller.signal.aborted) return;
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

  async status(): Promise<ReactorStatus> {
    return { checkpoint: Math.max(this.checkpoint.position, 0), head: await this.deps.store.headPosition(), running: this.loop !== undefined, ...(this.failure ? { error: this.failure } : {}) };
  }

  /**
   * Resolves true once every event up to `position` has been reacted to and the read model holds
   * it (and what the reactions to it appended); false after the timeout.
   */
  async waitFor(position: number, timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    if (!(await this.checkpoint.waitFor(position, timeoutMs))) return false;
    return this.deps.readModel.waitFor(position, Math.max(0, until - Date.now()));
  }

  /** Waits until everything stored now has been reacted to and is in the read model. */
  async settle(timeoutMs = 10_000): Promise<boolean> {
    return this.waitFor(await this.deps.store.headPosition(), timeoutMs);
  }

  private async run(signal: AbortSignal): Promise<void> {
    const events = this.deps.store.subscribeToAll({ ...(this.checkpoint.position >= 0 ? { after: this.checkpoint.position } : {}), signal });
    for await (const event of events) {
      if (signal.aborted) break;
      await this.handle(event, signal);
    }
  }

  /** Waits, as long as it takes (saying so), for the read model to hold `position`; false when stopped meanwhile. */
  private async readModelAt(position: number, signal: AbortSignal): Promise<boolean> {
    while (!(await this.deps.readModel.waitFor(position, READ_MODEL_WAIT_MS))) {
      if (signal.aborted) return false;
      this.deps.logger?.warn({ position }, 'delegation reactions are waiting for the read model (is the projection runner running?)');
    }
    return !signal.aborted;
  }

  private async handle(event: RecordedEvent, signal: AbortSignal): Promise<void> {
    const reaction = this.reactionTo(event);
    if (!reaction) {
      this.checkpoint.advance(event.position);
      if (++this.unsaved >= CHECKPOINT_EVERY) await this.saveCheckpoint(this.deps.db, event.position);
      return;
    }
    // The views a reaction looks candidates up in hold everything up to this event (and what earlier reactions appended).
    if (!(await this.readModelAt(event.position, signal))) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await reaction();
        break;
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS) throw error;
        this.deps.logger?.warn({ err: error, position: event.position, type: event.type }, 'delegation reaction failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
    // Whatever the reaction appended is stored by now: the next event is handled once the views hold it.
    if (!(await this.readModelAt(await this.deps.store.headPosition(), signal))) return;
    await this.saveCheckpoint(this.deps.db, event.position);
    this.checkpoint.advance(event.position);
  }

  /** The reaction an event calls for, if any. */
  private reactionTo(event: RecordedEvent): (() => Promise<void>) | undefined {
    const ctx = this.context;
    if (isCareEntryEvent(event)) return () => reactToCareEntry(ctx, event);
    if (event.type === 'CompetenceReinstated') return () => reactToReinstatement(ctx, event);
    if (streamOfKind(event.stream, 'competency') && ['CompetenceLapsed', 'CompetenceSuspended', 'CompetenceRevoked'].includes(event.type)) return () => reactToCompetenceChange(ctx, event);
    if (event.type === 'DelegationActivated') return () => reactToActivation(ctx, event);
    if (event.type === 'EscalationSentToTier' && (event.data as { nobodyAvailable?: boolean }).nobodyAvailable) return () => reactToUnreachedTier(ctx, event);
    if (event.type === 'VisitLateNoticed' || event.type === 'VisitMissed') return () => reactToVisitDeadline(ctx, event);
    return undefined;
  }

  private async saveCheckpoint(db: SqlQueryable, position: number): Promise<void> {
    await db.query(
      `insert into delegation_checkpoints (name, position) values ($1, $2)
       on conflict (name) do update set position = excluded.position, updated_at = now()`,
      [CHECKPOINT, position],
    );
    this.storedCheckpoint = Math.max(this.storedCheckpoint, position);
    this.unsaved = 0;
  }
}
