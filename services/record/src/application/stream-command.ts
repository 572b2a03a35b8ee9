import type { Actor } from '@tandem/contracts';
import { WrongExpectedRevision, type EventStore, type NewEvent, type RecordedEvent } from '@tandem/event-store';
import { randomUUID } from 'node:crypto';
import { uuidV5 } from '../domain/nhs-number';

/** Who asks, and the client's key and bedside time: what every command's events carry. */
export interface CommandMeta {
  readonly actor: Actor;
  readonly idempotencyKey: string;
  readonly occurredAt: string;
  readonly correlationId?: string;
  /** The event this command reacts to (a rule's reaction, a timer's scheduling event). */
  readonly causationId?: string;
}

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
export const executeStreamCommand = async <State>(store: EventStore, command: StreamCommand<State>): Promise<CommandResult> => {
  for (let attempt = 1; ; attempt++) {
    const events = await store.readStream(command.stream);
    const earlier = events.filter((e) => e.metadata.idempotencyKey === command.meta.idempotencyKey);
    if (earlier.length > 0) {
      const last = earlier[earlier.length - 1]!;
      return { position: last.position, revision: last.revision, eventIds: earlier.map((e) => e.id), eventTypes: earlier.map((e) => e.type), replayed: true };
    }
    const decided = command.decide(command.fold(events));
    const current = events[events.length - 1];
    if (decided.length === 0) {
      return { position: current?.position ?? 0, revision: current?.revision ?? -1, eventIds: [], eventTypes: [], replayed: false };
    }
    const correlationId = command.meta.correlationId ?? randomUUID();
    const newEvents: NewEvent[] = decided.map((e, index) => ({
      id: uuidV5(EVENT_ID_NAMESPACE, `${command.stream}\u0000${command.meta.idempotencyKey}\u0000${index}`),
      type: e.type,
      data: e.data,
      metadata: {
        actor: command.meta.actor,
        correlationId,
        ...(command.meta.causationId ? { causationId: command.meta.causationId } : {}),
        occurredAt: command.meta.occurredAt,
        idempotencyKey: command.meta.idempotencyKey,
      },
    }));
    try {
      const result = await store.append(command.stream, newEvents, { expectedRevision: current ? current.revision : 'no_stream' });
      return { position: result.position, revision: result.nextRevision, eventIds: newEvents.map((e) => e.id), eventTypes: newEvents.map((e) => e.type), replayed: false };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevision) || attempt >= MAX_ATTEMPTS) throw error;
      // A little jitter keeps writers that lost together from colliding again in lock step.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
};
