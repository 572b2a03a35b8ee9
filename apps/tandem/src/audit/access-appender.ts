import { AccessRecorded, auditStreamFor, type AccessRecordedData, type Actor } from '@tandem/contracts';
import { InvalidAppend, type EventStore, type NewEvent } from '@tandem/event-store';
import type { Logger } from 'pino';
import { essentialsOf } from './access-record';

/** After a failed append, timed flushes wait this long (doubling) before trying again. */
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;

/** The record itself is at fault (the contract or the database refuses its content), not the store. */
const recordAtFault = (error: unknown): boolean =>
  error instanceof InvalidAppend || (typeof (error as { code?: unknown }).code === 'string' && (error as { code: string }).code.startsWith('22'));

type AccessEvent = NewEvent<'AccessRecorded', AccessRecordedData>;

/** Unverified attempts are recorded under Tandem itself: the event's actor is who wrote it, and nobody was verified. */
const TANDEM: Actor = { id: 'tandem', role: 'system' };

export interface AccessAppenderOptions {
  readonly store: EventStore;
  readonly logger: Logger;
  /** The one clock the trail goes by: record times and the backoff alike. */
  readonly now: () => Date;
  /** Records per append. */
  readonly batchSize?: number;
}

/**
 * Writes access records to the day's audit stream: buffered, appended in batches, paused with a
 * growing backoff while the store refuses, and a record the store refuses for its content stripped
 * to its essentials (or set aside) rather than holding back the records behind it.
 */
export class AccessAppender {
  private buffer: AccessEvent[] = [];
  private writing: Promise<void> = Promise.resolve();
  private readonly batchSize: number;
  private lastPosition = 0;
  private setAside = 0;
  private backoffMs = 0;
  private retryAfter = 0;

  constructor(private readonly options: AccessAppenderOptions) {
    this.batchSize = options.batchSize ?? 200;
  }

  /** Buffers one record (a full batch is written at once unless the store is being given a pause). */
  push(data: AccessRecordedData): void {
    this.buffer.push({
      id: data.accessId,
      type: AccessRecorded.type,
      data,
      metadata: { actor: data.agent ?? TANDEM, correlationId: data.accessId, occurredAt: data.at },
    });
    if (this.buffer.length >= this.batchSize && this.mayTry()) void this.flush().catch(() => undefined);
  }

  /** Whether a timed flush may try now (not within the backoff after a failure). */
  mayTry(): boolean {
    return this.options.now().getTime() >= this.retryAfter;
  }

  /** How many records wait to be written. */
  get backlog(): number {
    return this.buffer.length;
  }

  /** Records the store refused even as their essentials (normally none: every field is bounded and made storable). */
  get setAsideCount(): number {
    return this.setAside;
  }

  /**
   * Appends everything recorded so far; resolves with the global position of the newest access
   * record written (0 if none yet), so a reader can wait for the read model to catch up.
   */
  flush(): Promise<number> {
    const write = this.writing.then(() => this.writeBuffered());
    this.writing = write.catch(() => undefined);
    return write.then(() => this.lastPosition);
  }

  private async writeBuffered(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, this.batchSize);
      // One append per day's stream; a batch spanning midnight is two.
      const byStream = new Map<string, typeof batch>();
      for (const event of batch) {
        const stream = auditStreamFor(new Date(event.data.at));
        const events = byStream.get(stream) ?? [];
        events.push(event);
        byStream.set(stream, events);
      }
      try {
        for (const [stream, events] of byStream) await this.append(stream, events);
      } catch (error) {
        // Kept for the next attempt, after a pause that grows while the store keeps refusing; the
        // backlog limit makes a lasting failure visible to users.
        this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs === 0 ? FIRST_BACKOFF_MS : this.backoffMs * 2);
        this.retryAfter = this.options.now().getTime() + this.backoffMs;
        this.options.logger.error({ err: error, backlog: this.buffer.length }, 'The access trail could not be written; will retry');
        throw error;
      }
      this.backoffMs = 0;
      this.retryAfter = 0;
    }
  }

  /**
   * Appends records and takes them off the buffer. When a batch is refused for its content (the
   * contract or the database refuses a value), it is halved and each half tried again, so the one
   * record at fault is found in a few appends and the records around it are stored as they are; that
   * record is then stored as its essentials, or, if even they are refused, set aside (logged by its
   * id): one record never holds back the records behind it. Any other failure is the store's: it
   * goes up and every record stays buffered.
   */
  private async append(stream: string, events: readonly AccessEvent[]): Promise<void> {
    try {
      const result = await this.options.store.append(stream, events, { expectedRevision: 'any' });
      this.written(events, result.position);
    } catch (error) {
      if (!recordAtFault(error)) throw error;
      if (events.length > 1) {
        const half = Math.ceil(events.length / 2);
        await this.append(stream, events.slice(0, half));
        await this.append(stream, events.slice(half));
        return;
      }
      await this.appendEssentials(stream, events[0]!);
    }
  }

  /** One record the store refused: its essentials (no request text, the agent made storable), or set aside. */
  private async appendEssentials(stream: string, event: AccessEvent): Promise<void> {
    const essentials = essentialsOf(event.data);
    const stripped: AccessEvent = { ...event, data: essentials, metadata: { ...event.metadata, actor: essentials.agent ?? TANDEM } };
    try {
      const result = await this.options.store.append(stream, [stripped], { expectedRevision: 'any' });
      this.options.logger.warn({ accessId: event.id }, 'An access record could not be stored whole; its essentials were');
      this.written([event], result.position);
    } catch (error) {
      if (!recordAtFault(error)) throw error;
      // Nothing of it can be stored: kept aside (in memory, counted) rather than blocking the trail.
      this.setAside += 1;
      this.options.logger.error({ accessId: event.id, at: event.data.at, status: event.data.status, setAside: this.setAside }, 'An access record could not be stored at all; it was set aside');
      this.written([event], 0);
    }
  }

  private written(events: readonly AccessEvent[], position: number) {
    this.lastPosition = Math.max(this.lastPosition, position);
    const done = new Set(events);
    this.buffer = this.buffer.filter((event) => !done.has(event));
  }
}
