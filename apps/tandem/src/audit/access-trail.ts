import type { Decision, OnAccess, OnAuthenticated, OnDisclosed, Principal } from '@tandem/auth';
import type { AccessRecordedData } from '@tandem/contracts';
import type { EventStore } from '@tandem/event-store';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { problem } from '../server';
import { AccessAppender } from './access-appender';
import { accessRecord, isPublicRoute } from './access-record';
import { closeMinutes, noUnverified, unverifiedRefusal, type FoldedFlood, type UnverifiedMinutes } from './unverified-floods';

/** What the trail learns about a request while it runs: who (once verified), every decision, the people whose data went out. */
interface InFlight {
  principal?: Principal;
  readonly decisions: Decision[];
  readonly disclosed: Set<string>;
  /** The client went away before the answer was sent. */
  abandoned?: boolean;
  recorded?: boolean;
}

/** A handler that never answers an abandoned request is recorded after this long anyway. */
const ABANDONED_GRACE_MS = 30_000;

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
 *
 * Three parts (issue 12.5): this recorder builds the records from requests; floods of unverified
 * refusals are folded by pure functions (unverified-floods.ts); the AccessAppender buffers, backs
 * off and strips records the store refuses. One clock, `now`, for all three.
 */
export class AccessTrail {
  private readonly requests = new AsyncLocalStorage<InFlight>();
  private readonly appender: AccessAppender;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => Date;
  private readonly maxBacklog: number;
  private unverified: UnverifiedMinutes = noUnverified;

  constructor(options: AccessTrailOptions) {
    this.now = options.now ?? (() => new Date());
    this.maxBacklog = options.maxBacklog ?? 10_000;
    this.appender = new AccessAppender({ store: options.store, logger: options.logger, now: this.now, ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}) });
    this.timer = setInterval(() => {
      this.closeMinutes(false);
      if (this.appender.mayTry()) void this.flush().catch(() => undefined);
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
      if (this.appender.backlog >= this.maxBacklog) {
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
    if (!principal && !this.unverifiedRecorded(address, at)) return;
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

  /** Whether this unverified refusal is recorded on its own (the first few per address and minute); a minute over is written as its count. */
  private unverifiedRecorded(address: string, at: Date): boolean {
    const { minutes, record, over } = unverifiedRefusal(this.unverified, address, at);
    this.unverified = minutes;
    this.writeFloods(over);
    return record;
  }

  /** Writes the counts of folded refusals for the minutes that are over (all of them, when stopping). */
  private closeMinutes(all: boolean) {
    const { minutes, over } = closeMinutes(this.unverified, this.now(), all);
    this.unverified = minutes;
    this.writeFloods(over);
  }

  private writeFloods(floods: readonly FoldedFlood[]) {
    for (const { address, at, folded } of floods) {
      const record = accessRecord({ accessId: randomUUID(), at, method: 'ANY', url: '/', address, decisions: [], disclosed: [], status: 401 });
      this.push({ ...record, reason: `${folded} further unverified requests from this address in the minute from ${at.toISOString()}, folded into this record` });
    }
  }

  private push(data: AccessRecordedData) {
    this.appender.push(data);
  }

  /** How many records wait to be written. */
  get backlog(): number {
    return this.appender.backlog;
  }

  /**
   * Appends everything recorded so far; resolves with the global position of the newest access
   * record written (0 if none yet), so a reader can wait for the read model to catch up.
   */
  flush(): Promise<number> {
    return this.appender.flush();
  }

  /** Records the store refused even as their essentials (normally none: every field is bounded and made storable). */
  get setAsideCount(): number {
    return this.appender.setAsideCount;
  }

  /** Writes what is left and stops the timer. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.closeMinutes(true);
    await this.flush().catch(() => undefined);
  }
}
