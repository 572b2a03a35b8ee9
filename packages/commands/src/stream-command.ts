import { uuidV5, type Actor } from '@tandem/contracts';
import { WrongExpectedRevision, type EventStore, type NewEvent, type RecordedEvent } from '@tandem/event-store';
import { createHash, randomUUID } from 'node:crypto';

/** Who asks, and the client's key and bedside time: what every command's events carry. */
export interface CommandMeta {
  readonly actor: Actor;
  readonly idempotencyKey: string;
  readonly occurredAt: string;
  readonly correlationId?: string;
  /** The event this command reacts to (a rule's reaction, a timer's scheduling event). */
  readonly causationId?: string;
  /**
   * The command's name and what it said (commandDigest of it). Given, the idempotency key is scoped
   * to the actor and the command, and the same key with a different command is refused
   * (IdempotencyKeyReused). Left out (the delegation service's commands, for now), a key is the
   * stream's alone, as before.
   */
  readonly command?: { readonly name: string; readonly digest: string };
}

/**
 * The same idempotency key, from the same user for the same command, with a different command
 * (the IETF Idempotency-Key header draft: 422). Nothing is stored: a reused key would otherwise
 * answer "already recorded" and hide the entry (a pulse of 150 never stored).
 */
export class IdempotencyKeyReused extends Error {
  override readonly name = 'IdempotencyKeyReused';
  readonly field = 'idempotencyKey';
  constructor(readonly idempotencyKey: string, readonly command: string) {
    super(
      `The idempotency key "${idempotencyKey}" was already used for a different ${command} (different content): nothing was stored. ` +
        'Use a new key for a new entry; send the same key only to retry exactly the same command.',
    );
  }
}

/** A stable digest of a command: keys in order, so the same command always digests the same. */
export const commandDigest = (command: unknown): string => {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : typeof value === 'object' && value !== null
        ? Object.fromEntries(Object.keys(value).sort().filter((k) => (value as Record<string, unknown>)[k] !== undefined).map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
        : value;
  return createHash('sha256').update(JSON.stringify(canonical(command))).digest('hex');
};

/** The events of this stream that answered the same key for the same actor and command. */
const answeredBefore = (events: readonly RecordedEvent[], meta: CommandMeta): RecordedEvent[] => {
  if (!meta.command) return events.filter((e) => e.metadata.idempotencyKey === meta.idempotencyKey);
  return events.filter(
    (e) =>
      e.metadata.idempotencyKey === meta.idempotencyKey &&
      e.metadata.actor.id === meta.actor.id &&
      // Events stored before commands were named answered whatever their key was sent with.
      (e.metadata.command === undefined || e.metadata.command === meta.command!.name),
  );
};

/**
 * Event ids derive from the key, scoped as the key is, and from the command's digest: a retry
 * appends the same ids (the store keeps one copy, even when two retries race), while a different
 * command racing under the same key appends other ids, loses on the expected revision and is
 * then refused as a reused key, never silently taken for the first.
 */
const eventIdOf = (stream: string, meta: CommandMeta, index: number): string =>
  meta.command
    ? uuidV5(EVENT_ID_NAMESPACE, `${stream}\u0000${meta.actor.id}\u0000${meta.command.name}\u0000${meta.idempotencyKey}\u0000${meta.command.digest}\u0000${index}`)
    : uuidV5(EVENT_ID_NAMESPACE, `${stream}\u0000${meta.idempotencyKey}\u0000${index}`);

export interface CommandResult {
  /** Global position of the last event; a FHIR read given it waits for the projection. */
  readonly position: number;
  readonly revision: number;
  readonly eventIds: readonly string[];
  readonly eventTypes: readonly string[];
  /** True when this was a retry of a command already recorded: nothing new was stored. */
  readonly replayed: boolean;
}

const EVENT_ID_NAMESPACE = '8d1f5b7a-6c2e-4f0a-9e3b-1a2b3c4d5e6f';
/** Enough for a busy ward: each attempt loses only to a writer that succeeded. */
const MAX_ATTEMPTS = 20;

export interface StreamCommand<State> {
  readonly stream: string;
  readonly fold: (events: readonly RecordedEvent[]) => State;
  /** The pure decision: the events to record, or an error naming the field. */
  readonly decide: (state: State) => readonly { type: string; data: unknown }[];
  readonly meta: CommandMeta;
}

/**
 * The edge every command goes through: read the stream, fold it, decide, append with the
 * revision that was read. A concurrent writer makes the append fail its expected revision, and
 * the command is decided again on the new state. Event ids derive from the stream and the
 * client's idempotency key, and a key already in the stream returns the original result, so a
 * retried command never records (or doses) twice.
 */
export const executeStreamCommand = async <State>(store: EventStore, command: StreamCommand<State>): Promise<CommandResult> => (await executeStreamCommandRecording(store, command)).result;

/** What a command recorded: its events' types and data as appended (or, replayed, as first recorded). */
export interface Recorded {
  readonly result: CommandResult;
  readonly events: readonly { readonly id: string; readonly type: string; readonly data: unknown }[];
}

/**
 * executeStreamCommand, also giving the events it recorded: an answer built from them (the bedside
 * advice) needs no read of the stream back, and is of exactly what was appended.
 */
export const executeStreamCommandRecording = async <State>(store: EventStore, command: StreamCommand<State>): Promise<Recorded> => {
  for (let attempt = 1; ; attempt++) {
    const events = await store.readStream(command.stream);
    const earlier = answeredBefore(events, command.meta);
    if (earlier.length > 0) {
      const digest = earlier[0]!.metadata.commandDigest;
      if (command.meta.command && digest !== undefined && digest !== command.meta.command.digest) {
        throw new IdempotencyKeyReused(command.meta.idempotencyKey, command.meta.command.name);
      }
      const last = earlier[earlier.length - 1]!;
      return { result: { position: last.position, revision: last.revision, eventIds: earlier.map((e) => e.id), eventTypes: earlier.map((e) => e.type), replayed: true }, events: earlier };
    }
    const decided = command.decide(command.fold(events));
    const current = events[events.length - 1];
    if (decided.length === 0) {
      return { result: { position: current?.position ?? 0, revision: current?.revision ?? -1, eventIds: [], eventTypes: [], replayed: false }, events: [] };
    }
    const correlationId = command.meta.correlationId ?? randomUUID();
    const newEvents: NewEvent[] = decided.map((e, index) => ({
      id: eventIdOf(command.stream, command.meta, index),
      type: e.type,
      data: e.data,
      metadata: {
        actor: command.meta.actor,
        correlationId,
        ...(command.meta.causationId ? { causationId: command.meta.causationId } : {}),
        occurredAt: command.meta.occurredAt,
        idempotencyKey: command.meta.idempotencyKey,
        ...(command.meta.command ? { command: command.meta.command.name, commandDigest: command.meta.command.digest } : {}),
      },
    }));
    try {
      const result = await store.append(command.stream, newEvents, { expectedRevision: current ? current.revision : 'no_stream' });
      return { result: { position: result.position, revision: result.nextRevision, eventIds: newEvents.map((e) => e.id), eventTypes: newEvents.map((e) => e.type), replayed: false }, events: newEvents };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevision) || attempt >= MAX_ATTEMPTS) throw error;
      // A little jitter keeps writers that lost together from colliding again in lock step.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
};
