import type { Decision, OnAccess, OnAuthenticated, OnDisclosed, Principal } from '@tandem/auth';
import { AccessRecorded, auditStreamFor, type AccessRecordedData, type Actor } from '@tandem/contracts';
import { InvalidAppend, type EventStore, type NewEvent } from '@tandem/event-store';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { problem } from '../server';
import { accessRecord, essentialsOf, isPublicRoute } from './access-record';

/** What the trail learns about a request while it runs: who (once verified), every decision, the people whose data went out. */
interface InFlight {
  principal?: Principal;
  readonly decisions: Decision[];
  readonly disclosed: Set<string>;
  /** The client went away before the answer was sent. */
  abandoned?: boolean;
  recorded?: boolean;
}

/** Refusals of unverified callers recorded one by one per address and minute; the rest are counted into one record. */
const UNVERIFIED_RECORDED_PER_MINUTE = 20;
/** After a failed append, timed flushes wait this long (doubling) before trying again. */
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5_000;
/** A handler that never answers an abandoned request is recorded after this long anyway. */
const ABANDONED_GRACE_MS = 30_000;

/** The record itself is at fault (the contract or the database refuses its content), not the store. */
const recordAtFault = (error: unknown): boolean =>
  error instanceof InvalidAppend || (typeof (error as { code?: unknown }).code === 'string' && (error as { code: string }).code.startsWith('22'));

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
  private setAside = 0;
  private backoffMs = 0;
  private retryAfter = 0;
  /** Per address: the minute being counted, its first refusal and how many unverified refusals so far. */
  private readonly unverified = new Map<string, { minute: number; count: number; at: Date }>();

  constructor(private readonly options: AccessTrailOptions) {
    this.now = options.now ?? (() => new Date());
    this.batchSize = options.batchSize ?? 200;
    this.maxBacklog = options.maxBacklog ?? 10_000;
    this.timer = setInterval(() => {
      this.foldUnverified(false);
      if (Date.now() >= this.retryAfter) void this.flush().catch(() => undefined);
    }, options.flushEveryMs ?? 200);
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

  /** The people whose data a search or history answered with: "which patient" for a search across a caseload. */
  readonly onDisclosed: OnDisclosed = (patientIds) => {
    const request = this.requests.getStore();
    if (request) for (const id of patientIds) request.disclosed.add(id);
  };

  /** Express middleware, before every route: follows the request and records it as the answer is sent. */
  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const path = req.originalUrl.split('?')[0] ?? '/';
      if (isPublicRoute(req.method, path)) return next();
      if (this.buffer.length >= this.maxBacklog) {
        // The store has not taken the trail for a while: no access that cannot be accounted for.
        res.status(503).set('Retry-After', '5').type('application/problem+json').json(problem(503, 'Service Unavailable', 'The audit trail cannot be written just now; try again shortly'));
        return;
      }
      const inFlight: InFlight = { decisions: [], disclosed: new Set() };
      const at = this.now();
      // Recorded as the answer is sent, with its status and every decision made up to then; a client
      // that leaves first does not stop the handler, so its record waits for the handler's answer.
      const end = res.end.bind(res) as (...args: unknown[]) => Response;
      res.end = ((...args: unknown[]) => {
        this.record(req, res, inFlight, at);
        return end(...args);
      }) as Response['end'];
      res.on('close', () => {
        if (inFlight.recorded) return;
        inFlight.abandoned = true;
        setTimeout(() => this.record(req, res, inFlight, at), ABANDONED_GRACE_MS).unref();
      });
      this.requests.run(inFlight, next);
    };
  }

  private record(req: Request, res: Response, inFlight: InFlight, at: Date) {
    if (inFlight.recorded) return;
    inFlight.recorded = true;
    const { principal, decisions, disclosed } = inFlight;
    // Someone verified, or a refusal: a stranger's 404 for a mistyped path concerns no one's record.
    if (!principal && decisions.length === 0 && ![401, 403, 429].includes(res.statusCode)) return;
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    if (!principal && this.foldedAsUnverified(address, at)) return;
    this.push(
      accessRecord({
        accessId: randomUUID(),
        at,
        method: req.method,
        url: req.originalUrl,
        address,
        ...(req.get('user-agent') ? { userAgent: req.get('user-agent')! } : {}),
        ...(principal ? { principal } : {}),
        decisions,
        disclosed: [...disclosed],
        status: res.statusCode,
        ...(inFlight.abandoned ? { abandoned: true } : {}),
      }),
    );
  }

  /**
   * A read outside any request: a Subscription's notification sent to its endpoint (apps/tandem/src/subscriptions),
   * recorded like a read by its owner of what it told of, the person named, the endpoint's host as where it went.
   */
  recordOutside(seen: { at: Date; path: string; principal: Principal; decision: Decision; status: number; to: string; userAgent?: string }): void {
    this.push({
      ...accessRecord({ accessId: randomUUID(), at: seen.at, method: 'NOTIFY', url: seen.path, address: seen.to, userAgent: seen.userAgent ?? 'Tandem rest-hook delivery', principal: seen.principal, decisions: [seen.decision], disclosed: [], status: seen.status }),
      interaction: 'operation',
    });
  }

  /**
   * Anyone can send requests without a token, and each refusal would be kept forever: past the
   * first few per address and minute they are counted, and the count is one record at the minute's end.
   */
  private foldedAsUnverified(address: string, at: Date): boolean {
    const minute = Math.floor(at.getTime() / 60_000);
    const seen = this.unverified.get(address);
    if (!seen || seen.minute !== minute) {
      if (seen) this.writeFolded(address, seen);
      this.unverified.set(address, { minute, count: 1, at });
      return false;
    }
    seen.count += 1;
    return seen.count > UNVERIFIED_RECORDED_PER_MINUTE;
  }

  /** Writes the counts of folded refusals for the minutes that are over (all of them, when stopping). */
  private foldUnverified(all: boolean) {
    const minute = Math.floor(this.now().getTime() / 60_000);
    for (const [address, seen] of this.unverified) if (all || seen.minute !== minute) this.writeFolded(address, seen);
  }

  private writeFolded(address: string, seen: { count: number; at: Date }) {
    this.unverified.delete(address);
    const folded = seen.count - UNVERIFIED_RECORDED_PER_MINUTE;
    if (folded <= 0) return;
    const record = accessRecord({ accessId: randomUUID(), at: seen.at, method: 'ANY', url: '/', address, decisions: [], disclosed: [], status: 401 });
    this.push({ ...record, reason: `${folded} further unverified requests from this address in the minute from ${seen.at.toISOString()}, folded into this record` });
  }

  private push(data: AccessRecordedData) {
    this.buffer.push({
      id: data.accessId,
      type: AccessRecorded.type,
      data,
      metadata: { actor: data.agent ?? TANDEM, correlationId: data.accessId, occurredAt: data.at },
    });
    if (this.buffer.length >= this.batchSize && Date.now() >= this.retryAfter) void this.flush().catch(() => undefined);
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
        // Kept for the next attempt, after a pause that grows while the store keeps refusing; the
        // backlog limit makes a lasting failure visible to users.
        this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs === 0 ? FIRST_BACKOFF_MS : this.backoffMs * 2);
        this.retryAfter = Date.now() + this.backoffMs;
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

  /** Records the store refused even as their essentials (normally none: every field is bounded and made storable). */
  get setAsideCount(): number {
    return this.setAside;
  }

  private written(events: readonly AccessEvent[], position: number) {
    this.lastPosition = Math.max(this.lastPosition, position);
    const done = new Set(events);
    this.buffer = this.buffer.filter((event) => !done.has(event));
  }

  /** Writes what is left and stops the timer. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.foldUnverified(true);
    await this.flush().catch(() => undefined);
  }
}
