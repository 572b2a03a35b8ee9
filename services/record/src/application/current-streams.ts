import { Checkpoint, type EventStore, type RecordedEvent } from '@tandem/event-store';

export interface CurrentStreamsOptions {
  /** How many streams' events are kept (least recently used are dropped). */
  readonly maxStreams?: number;
  /** Told when the subscription fails: every read then goes to the store again, as without this cache. */
  readonly onError?: (error: unknown) => void;
}

export interface CurrentStreams {
  /** The store to give the care record: whole-stream reads answered from memory while known current. */
  readonly store: EventStore;
  /** Starts following the log (from its head now). Until it runs, every read goes to the store. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Resolves true once every event up to `position` has been taken into account (the subscription
   * has delivered it), false after the timeout; at once when not following the log (every read then
   * goes to the store). Read-your-writes for the policy's facts: a change made through another
   * process decides this one's reads from the position the command returned (H65).
   */
  waitFor(position: number, timeoutMs: number): Promise<boolean>;
}

/**
 * Whole-stream reads answered from memory, kept current by the log itself rather than by a time to
 * live. A person's care team, registered GP and registrant (what the policy decides every read on)
 * live in their patient stream; reading its tail on every request was one database round trip in
 * two of every read by id.
 *
 * A stream read once is "current" until something says it may have moved on:
 * - an append through this store (the record service's own commands) makes it not current before
 *   the append starts and again when it has finished, whatever its outcome, so the next read in
 *   this process, the one after a command returned, reads the tail: a nurse removed from a care
 *   team is refused on the very next read (H53);
 * - the subscription to the log, for appends by other processes (or other stores in this one):
 *   any event on the stream beyond what is held makes it not current. Until the subscription has
 *   delivered such an event, this process decides on the stream as of the subscription's position,
 *   which is how far it has read the log; a client that must see its own write through another
 *   process passes the position the command returned (X-Tandem-Min-Position).
 *
 * A read that was under way while the stream moved is not taken as current. Reads with options go
 * straight to the store. If the subscription fails, nothing is current any more (every read goes to
 * the store, as before this cache). Writes are unaffected in their safety: a command that decided on
 * a state another process has moved on from loses its append on the expected revision and retries
 * with the stream read afresh.
 */
export const currentStreams = (inner: EventStore, { maxStreams = 10_000, onError }: CurrentStreamsOptions = {}): CurrentStreams => {
  const current = new Map<string, RecordedEvent[]>();
  /** Reads under way, by stream: each is spoiled by an event or append on its stream while it runs. */
  const reading = new Map<string, Set<{ spoiled: boolean }>>();
  let following = false;
  /** How far the subscription has delivered the log. */
  const delivered = new Checkpoint();
  let controller: AbortController | undefined;
  let loop: Promise<void> | undefined;

  const moved = (stream: string, revision?: number) => {
    const held = current.get(stream);
    // An event the held copy already has (read by this process before the subscription got to it) changes nothing.
    if (held && revision !== undefined && revision < held.length) return;
    current.delete(stream);
    for (const read of reading.get(stream) ?? []) read.spoiled = true;
  };

  const remember = (stream: string, events: RecordedEvent[]) => {
    current.delete(stream);
    current.set(stream, events);
    if (current.size > maxStreams) current.delete(current.keys().next().value!);
  };

  const store: EventStore = {
    ...inner,
    mode: inner.mode,
    append: async (stream, events, options) => {
      moved(stream);
      try {
        return await inner.append(stream, events, options);
      } finally {
        moved(stream);
      }
    },
    readStream: async (stream, options) => {
      if (options && Object.values(options).some((v) => v !== undefined)) return inner.readStream(stream, options);
      const held = following ? current.get(stream) : undefined;
      if (held) {
        // Most recently used last, so the bound drops the least recently used.
        remember(stream, held);
        return held;
      }
      const read = { spoiled: false };
      const reads = reading.get(stream) ?? new Set();
      reads.add(read);
      reading.set(stream, reads);
      try {
        const events = await inner.readStream(stream);
        if (following && !read.spoiled) remember(stream, events);
        return events;
      } finally {
        reads.delete(read);
        if (reads.size === 0) reading.delete(stream);
      }
    },
    readAll: (options) => inner.readAll(options),
    subscribeToAll: (options) => inner.subscribeToAll(options),
    headPosition: () => inner.headPosition(),
    close: () => inner.close(),
  };

  return {
    store,
    async start() {
      if (loop) return;
      controller = new AbortController();
      const signal = controller.signal;
      // From the head as it is now: what was appended before is read from the store on first use.
      const head = await inner.headPosition();
      delivered.advance(head);
      following = true;
      loop = (async () => {
        try {
          for await (const event of inner.subscribeToAll({ after: head, signal })) {
            moved(event.stream, event.revision);
            delivered.advance(event.position);
          }
        } catch (error) {
          if (!signal.aborted) onError?.(error);
        } finally {
          following = false;
          current.clear();
        }
      })();
    },
    waitFor: (position, timeoutMs) => (following ? delivered.waitFor(position, timeoutMs) : Promise.resolve(true)),
    async stop() {
      controller?.abort();
      await loop;
      loop = undefined;
    },
  };
};
