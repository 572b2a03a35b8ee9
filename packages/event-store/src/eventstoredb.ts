import {
  ANY,
  BACKWARDS,
  END,
  ErrorType,
  EventStoreDBClient,
  excludeSystemEvents,
  FORWARDS,
  isCommandError,
  jsonEvent,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  WrongExpectedVersionError,
  type AllStreamRecordedEvent,
  type AppendExpectedRevision,
  type Direction,
  type JSONType,
  type Position,
  type ReadPosition,
  type ReadRevision,
  type RecordedEvent as EsdbRecordedEvent,
} from '@eventstore/db-client';
import { DEFAULT_PAGE_SIZE, type EventStoreBackend, type StorableEvent } from './backend';
import type { AppendResult, ExpectedRevision, ReadAllOptions, ReadStreamOptions, RecordedEvent, SubscribeOptions } from './contract';
import { IdempotencyConflict, WrongExpectedRevision } from './errors';

export interface EventStoreDbOptions {
  /** `esdb://host:port?tls=false` for one node, `esdb://a:2113,b:2113,c:2113?...` for a cluster. */
  readonly connectionString: string;
  /**
   * How many of a stream's newest events an append searches for its event ids (see
   * `priorAppend` below). A retry of an append older than this is not recognised. 0 leaves
   * idempotency to EventStoreDB alone.
   */
  readonly idempotencyWindow?: number;
}

/** The default idempotency window: a retry normally comes seconds after the original. */
export const DEFAULT_IDEMPOTENCY_WINDOW = 500;

/** What EventStoreDB returns as the $all position of an event it cannot place (before 22.6). */
const UNKNOWN_POSITION = 18446744073709551615n;
/** Records read per page when scanning $all backwards for the head. */
const HEAD_SCAN_PAGE = 100;

/** System streams and events (`$stats`, `$>` links, `$metadata`, ...) are EventStoreDB's, never ours. */
const isSystem = (event: { readonly type: string; readonly streamId: string }): boolean =>
  event.type.startsWith('$') || event.streamId.startsWith('$');

/** $all positions: EventStoreDB writes each of our events as one record, so commit = prepare. */
const toPosition = (position: number | bigint): Position => ({ commit: BigInt(position), prepare: BigInt(position) });

const positionOf = (event: EsdbRecordedEvent): number => {
  const commit = event.position?.commit;
  if (commit === undefined || commit >= UNKNOWN_POSITION) {
    throw new Error(`EventStoreDB returned no $all position for ${event.streamId}@${event.revision}: the server must be 22.6 or later`);
  }
  return Number(commit);
};

/** A JSON object, as the client parses JSON metadata (binary metadata comes back as a Uint8Array). */
const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);

/** Our RecordedEvent: schemaVersion travels in the EventStoreDB metadata; recordedAt is the server's `created`. */
const toRecorded = (event: EsdbRecordedEvent): RecordedEvent => {
  const { schemaVersion, ...metadata } = isJsonObject(event.metadata) ? event.metadata : {};
  return {
    id: event.id,
    stream: event.streamId,
    revision: Number(event.revision),
    position: positionOf(event),
    type: event.type,
    // An event written without one (by another tool) is read as version 1, the first version of any contract.
    schemaVersion: typeof schemaVersion === 'number' ? schemaVersion : 1,
    data: event.data,
    metadata: { ...metadata, recordedAt: event.created.toISOString() } as RecordedEvent['metadata'],
  };
};

const toExpectedRevision = (expected: ExpectedRevision): AppendExpectedRevision => {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'exists':
      return STREAM_EXISTS;
    default:
      return BigInt(expected);
  }
};

const toEventData = (event: StorableEvent) =>
  jsonEvent({
    id: event.id,
    type: event.type,
    data: event.data as JSONType,
    metadata: { ...event.metadata, schemaVersion: event.schemaVersion },
  });

/** Errors about reaching the server, not about the request: never worth retrying another way here. */
const isConnectionError = (error: unknown): boolean =>
  error instanceof Error &&
  isCommandError(error) &&
  [ErrorType.UNAVAILABLE, ErrorType.DEADLINE_EXCEEDED, ErrorType.TIMEOUT, ErrorType.NOT_LEADER, ErrorType.CANCELLED, ErrorType.ACCESS_DENIED].includes(
    error.type,
  );

const isStreamNotFound = (error: unknown): boolean => error instanceof Error && isCommandError(error) && error.type === ErrorType.STREAM_NOT_FOUND;

const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};

/**
 * The scale-mode back end: EventStoreDB through its gRPC client.
 *
 * Positions are the commit positions of $all (byte offsets in the transaction log): strictly
 * increasing, not dense, exact as numbers up to 2^53 bytes of log. EventStoreDB 22.6 or later is
 * needed, for positions on stream reads. The client connects lazily, on the first call.
 */
export const eventStoreDbBackend = async (options: EventStoreDbOptions): Promise<EventStoreBackend> => {
  const client = EventStoreDBClient.connectionString(options.connectionString);
  const idempotencyWindow = options.idempotencyWindow ?? DEFAULT_IDEMPOTENCY_WINDOW;

  const readStreamRaw = async (
    stream: string,
    read: { fromRevision: ReadRevision; direction: Direction; maxCount: number },
  ): Promise<EsdbRecordedEvent[]> => {
    try {
      return (await collect(client.readStream(stream, read))).flatMap((resolved) => (resolved.event ? [resolved.event] : []));
    } catch (error) {
      if (isStreamNotFound(error)) return [];
      throw error;
    }
  };

  const readAllRaw = async (fromPosition: ReadPosition, maxCount: number, direction: Direction = FORWARDS): Promise<AllStreamRecordedEvent[]> =>
    (await collect(client.readAll({ fromPosition, maxCount, direction }))).flatMap((resolved) => (resolved.event ? [resolved.event] : []));

  /**
   * EventStoreDB reads $all only from a record boundary; any other position is refused as
   * invalid. The contract lets callers pass a neighbour of an event's position (a checkpoint + 1
   * to read on, a position - 1 to include it), so this tries each candidate in turn and reports
   * which one was a boundary, with the first `count` records from it.
   */
  const readNear = async (candidates: readonly number[], count: number): Promise<{ from: number; records: AllStreamRecordedEvent[] }> => {
    let refused: unknown;
    for (const from of candidates) {
      if (from < 0 || !Number.isSafeInteger(from)) continue;
      try {
        return { from, records: await readAllRaw(toPosition(from), count) };
      } catch (error) {
        if (isConnectionError(error)) throw error;
        refused ??= error;
      }
    }
    throw new Error(`EventStoreDB cannot read $all at or next to position ${String(candidates[0])}: it is not a position in this log`, {
      cause: refused,
    });
  };

  /**
   * The contract's idempotency, which EventStoreDB gives only in part (exactly for a retry with
   * the same numeric expected revision, best effort for `any`): searches the newest
   * `idempotencyWindow` events of the stream for the ids of this append. All of them, as one
   * contiguous block: the earlier append's result. Some of them: IdempotencyConflict. None:
   * undefined, a new append. The limit: a retry of an append older than the window is not
   * recognised, and two identical appends racing each other can both pass this check (with a
   * numeric expected revision EventStoreDB still lets only one of them in).
   */
  const priorAppend = async (stream: string, events: readonly StorableEvent[]): Promise<AppendResult | undefined> => {
    if (idempotencyWindow <= 0) return undefined;
    const ids = new Set(events.map((e) => e.id.toLowerCase()));
    const mine = (stored: EsdbRecordedEvent[]) => stored.filter((e) => ids.has(e.id.toLowerCase()));
    let found = mine(await readStreamRaw(stream, { fromRevision: END, direction: BACKWARDS, maxCount: idempotencyWindow + ids.size }));
    if (found.length === 0) return undefined;
    if (found.length < ids.size) {
      // The earlier block may straddle the window's edge: read every revision a block of this size holding these events could cover.
      const revisions = found.map((e) => Number(e.revision));
      const from = Math.max(0, Math.max(...revisions) - (ids.size - 1));
      const through = Math.min(...revisions) + (ids.size - 1);
      found = mine(await readStreamRaw(stream, { fromRevision: BigInt(from), direction: FORWARDS, maxCount: through - from + 1 }));
    }
    const revisions = found.map((e) => Number(e.revision));
    const last = Math.max(...revisions);
    const lastEvent = found.find((e) => Number(e.revision) === last);
    if (found.length === ids.size && last - Math.min(...revisions) === ids.size - 1 && lastEvent) {
      return { nextRevision: last, position: positionOf(lastEvent) };
    }
    throw new IdempotencyConflict(stream, events.map((e) => e.id));
  };

  const readAll = async ({ fromPosition = 0, maxCount = DEFAULT_PAGE_SIZE }: ReadAllOptions = {}): Promise<RecordedEvent[]> => {
    if (maxCount <= 0) return [];
    let start: ReadPosition = START;
    if (fromPosition > 0) {
      const { records } = await readNear([fromPosition, fromPosition - 1, fromPosition + 1], 2);
      const first = records.find((r) => Number(r.position.commit) >= fromPosition);
      if (!first) return [];
      start = first.position;
    }
    const events: RecordedEvent[] = [];
    // System records take room in a page, so read pages until maxCount of ours or the end of the log.
    let boundary: bigint | undefined;
    while (events.length < maxCount) {
      const want = maxCount - events.length + (boundary === undefined ? 0 : 1);
      const page = await readAllRaw(start, want);
      for (const record of page) {
        if (boundary !== undefined && record.position.commit <= boundary) continue;
        if (!isSystem(record)) events.push(toRecorded(record));
      }
      const last = page.at(-1);
      if (page.length < want || !last) break;
      start = last.position;
      boundary = last.position.commit;
    }
    return events;
  };

  /** Where a subscription must start (exclusive) to deliver exactly the records after `after`. */
  const subscriptionStart = async (after: number): Promise<ReadPosition> => {
    const { from, records } = await readNear([after, after + 1, after - 1], 2);
    // A checkpoint is normally the position of a handled event: a record boundary to subscribe after.
    if (from === after) return toPosition(after);
    const next = records.find((r) => Number(r.position.commit) > after);
    const [previous] = await readAllRaw(next ? next.position : END, 1, BACKWARDS);
    return previous ? previous.position : START;
  };

  async function* subscribeToAll({ after, signal }: SubscribeOptions = {}): AsyncGenerator<RecordedEvent> {
    if (signal?.aborted) return;
    const checkpoint = after === undefined || after < 0 ? undefined : after;
    const fromPosition = checkpoint === undefined ? START : await subscriptionStart(checkpoint);
    if (signal?.aborted) return;
    const subscription = client.subscribeToAll({ fromPosition, filter: excludeSystemEvents() });
    // Aborting while the loop waits for the next event: cancel the call and end the iteration.
    const stop = () => {
      void subscription.unsubscribe().catch(() => undefined);
      subscription.destroy();
    };
    signal?.addEventListener('abort', stop, { once: true });
    try {
      // for await pulls one event at a time: a slow consumer leaves events in gRPC's flow control, not in memory.
      for await (const resolved of subscription) {
        const event = resolved.event;
        if (!event || isSystem(event) || (checkpoint !== undefined && Number(event.position.commit) <= checkpoint)) continue;
        yield toRecorded(event);
        if (signal?.aborted) return;
      }
    } catch (error) {
      // destroy() on abort ends the iteration with a premature close: stopping was asked for.
      if (signal?.aborted) return;
      throw error;
    } finally {
      signal?.removeEventListener('abort', stop);
      await subscription.unsubscribe().catch(() => undefined);
      subscription.destroy();
    }
  }

  return {
    mode: 'eventstoredb',

    async append(stream: string, events: readonly StorableEvent[], { expectedRevision }: { expectedRevision: ExpectedRevision }): Promise<AppendResult> {
      const earlier = await priorAppend(stream, events);
      if (earlier) return earlier;
      let result: Awaited<ReturnType<EventStoreDBClient['appendToStream']>>;
      try {
        result = await client.appendToStream(stream, events.map(toEventData), { expectedRevision: toExpectedRevision(expectedRevision) });
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        // A copy of this very append may have won the race: then this is its retry.
        const raced = await priorAppend(stream, events);
        if (raced) return raced;
        throw new WrongExpectedRevision(stream, expectedRevision, error.actualVersion === NO_STREAM ? 'no_stream' : Number(error.actualVersion));
      }
      const nextRevision = Number(result.nextExpectedRevision);
      if (events.length === 1 && result.position) return { nextRevision, position: Number(result.position.commit) };
      // For a batch, read the position of its last event rather than trust which record the server's
      // commit position names; this also checks the server stored this batch and not an earlier one.
      const [last] = await readStreamRaw(stream, { fromRevision: result.nextExpectedRevision, direction: FORWARDS, maxCount: 1 });
      const lastId = events.at(-1)?.id.toLowerCase();
      if (!last || last.id.toLowerCase() !== lastId) throw new IdempotencyConflict(stream, events.map((e) => e.id));
      return { nextRevision, position: positionOf(last) };
    },

    async readStream(stream: string, { fromRevision, direction = 'forwards', maxCount = Number.MAX_SAFE_INTEGER }: ReadStreamOptions = {}) {
      const forwards = direction === 'forwards';
      if (maxCount <= 0 || (!forwards && fromRevision !== undefined && fromRevision < 0)) return [];
      const events = await readStreamRaw(stream, {
        fromRevision: fromRevision === undefined ? (forwards ? START : END) : BigInt(Math.max(0, Math.floor(fromRevision))),
        direction: forwards ? FORWARDS : BACKWARDS,
        maxCount,
      });
      return events.map(toRecorded);
    },

    readAll,

    subscribeToAll,

    async headPosition() {
      let from: ReadPosition = END;
      for (;;) {
        const page = await readAllRaw(from, HEAD_SCAN_PAGE, BACKWARDS);
        const newest = page.find((r) => !isSystem(r));
        if (newest) return Number(newest.position.commit);
        const last = page.at(-1);
        if (page.length < HEAD_SCAN_PAGE || !last) return 0;
        from = last.position;
      }
    },

    close: () => client.dispose(),
  };
};
