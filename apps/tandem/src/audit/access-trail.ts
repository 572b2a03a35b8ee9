import type { Decision, OnAccess, OnAuthenticated, Principal } from '@tandem/auth';
import { AccessRecorded, auditStreamFor, type AccessRecordedData, type Actor } from '@tandem/contracts';
import type { EventStore, NewEvent } from '@tandem/event-store';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { accessRecord, essentialsOf, isPublicRoute } from './access-record';

/** What the trail learns about a request while it runs: who (once verified) and every decision. */
interface InFlight {
  principal?: Principal;
  readonly decisions: Decision[];
}

type AccessEvent = NewEvent<'AccessRecorded', AccessRecordedData>;

/** Unverified attempts are recorded under Tandem itself: the event's actor is who wrote it, and nobody was verified. */
const TANDEM: Actor = { id: 'tandem', role: 'system' };

export interface AccessTrailOptions {
  readonly store: EventStore;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** How often buffered records are appended. */
  readonly flushEveryMs?: number;
  /** Records per append. */
  readonly batchSize?: number;
  /**
   * Beyond this many unwritten records Tandem refuses requests (503) rather than give access it
   * cannot account for: the trail fails closed.
   */
  readonly maxBacklog?: number;
}

/**
 * The access trail: every request to a protected route, allowed or refused, becomes an
 * AccessRecorded event in the day's audit stream, with who (from the verified token, or nobody),
 * what (method, path, query, the resource), whom it concerned (the people the policy decided on),
 * the outcome and purpose of use, and where from. Requests are answered first and their records
 * appended in batches moments later: a read does not wait for a write, and the store sees one
 * append per batch rather than per read.
 */
export class AccessTrail {
  private readonly requests = new AsyncLocalStorage<InFlight>();
  private buffer: AccessEvent[] = [];
  private writing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => Date;
  private readonly batchSize: number;
  private readonly maxBacklog: number;
  private lastPosition = 0;

  constructor(private readonly options: AccessTrailOptions) {
    this.now = options.now ?? (() => new Date());
    this.batchSize = options.batchSize ?? 200;
    this.maxBacklog = options.maxBacklog ?? 10_000;
    this.timer = setInterval(() => void this.flush().catch(() => undefined), options.flushEveryMs ?? 200);
    this.timer.unref();
  }

  /** The @tandem/auth hooks: decisions and principals reported within a request join its record. */
  readonly onAccess: OnAccess = (decision) => {
    this.requests.getStore()?.decisions.push(decision);
  };

  readonly onAuthenticated: OnAuthenticated = (principal) => {
    const request = this.requests.getStore();
    if (request) request.principal = principal;
  };

  /** Express middleware, before every route: follows the request and records it when the response closes. */
  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const path = req.originalUrl.split('?')[0] ?? '/';
      if (isPublicRoute(req.method, path)) return next();
      if (this.buffer.length >= this.maxBacklog) {
        // The store has not taken the trail for a while: no access that cannot be accounted for.
        res.status(503).set('Retry-After', '5').type('application/problem+json').json({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'The audit trail cannot be written just now; try again shortly' });
        return;
      }
      const inFlight: InFlight = { decisions: [] };
      const at = this.now();
      res.on('close', () => this.record(req, res, inFlight, at));
      this.requests.run(inFlight, next);
    };
  }

  private record(req: Request, res: Response, inFlight: InFlight, at: Date) {
    const { principal, decisions } = inFlight;
    // Someone verified, or a refusal: a stranger's 404 for a mistyped path concerns no one's record.
    if (!principal && decisions.length === 0 && ![401, 403, 429].includes(res.statusCode)) return;
    const data = accessRecord({
      accessId: randomUUID(),
      at,
      method: req.method,
      url: req.originalUrl,
      address: req.socket.remoteAddress ?? 'unknown',
      ...(req.get('user-agent') ? { userAgent: req.get('user-agent')! } : {}),
      ...(principal ? { principal } : {}),
      decisions,
      status: res.statusCode,
    });
    this.buffer.push({
      id: data.accessId,
      type: AccessRecorded.type,
      data,
      metadata: { actor: data.agent ?? TANDEM, correlationId: data.accessId, occurredAt: data.at },
    });
    if (this.buffer.length >= this.batchSize) void this.flush().catch(() => undefined);
  }

  /** How many records wait to be written. */
  get backlog(): number {
    return this.buffer.length;
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
        // Kept for the next attempt; the backlog limit makes a lasting failure visible to users.
        this.options.logger.error({ err: error, backlog: this.buffer.length }, 'The access trail could not be written; will retry');
        throw error;
      }
    }
  }

  /**
   * Appends records and takes them off the buffer. When a batch is refused, each record is tried on
   * its own: one the store refuses while it takes the same record's essentials was poisoned by what
   * the request carried, and is kept without that; if even the essentials are refused, the store is
   * at fault and the error goes up (the rest stay buffered).
   */
  private async append(stream: string, events: AccessEvent[]): Promise<void> {
    try {
      const result = await this.options.store.append(stream, events, { expectedRevision: 'any' });
      this.written(events, result.position);
      return;
    } catch (error) {
      if (events.length > 1) {
        for (const event of events) await this.append(stream, [event]);
        return;
      }
      const [event] = events as [AccessEvent];
      const essentials = essentialsOf(event.data);
      if (JSON.stringify(essentials) === JSON.stringify(event.data)) throw error;
      const result = await this.options.store.append(stream, [{ ...event, data: essentials }], { expectedRevision: 'any' });
      this.options.logger.warn({ accessId: event.id }, 'An access record could not be stored whole; its essentials were');
      this.written(events, result.position);
    }
  }

  private written(events: readonly AccessEvent[], position: number) {
    this.lastPosition = Math.max(this.lastPosition, position);
    const done = new Set(events);
    this.buffer = this.buffer.filter((event) => !done.has(event));
  }

  /** Writes what is left and stops the timer. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
  }
}
