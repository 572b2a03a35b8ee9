import { DELEGATION_ACCESS, refusalTitle, type AccessControl, type Decision, type EndpointAccess, type PatientFacts, type Principal } from '@tandem/auth';
import type { Role, ServiceHealth } from '@tandem/contracts';
import type { EventStore, RecordedEvent } from '@tandem/event-store';
import { authenticate, principalOf } from '@tandem/record';
import { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { problem } from '../server';
import { itemOf, liveMessageOf, patientNamedBy, sseFrame, type LiveMessage } from './live-messages';

/**
 * The live stream: `GET /api/events/stream`, server-sent events fed by the event store's
 * subscription, so an escalation addressed to a nurse (or a prompt to a care worker) reaches her
 * open app as soon as it is in the log, without a reload or a poll.
 *
 * Every message is decided for its listener, person by person, as a read of that person's
 * escalations or prompts (the same policy and relationship as GET /api/escalations), at the time
 * it is sent: nobody learns of a person outside their care relationship (hazard H56). Each message
 * sent is in the access trail (as a NOTIFY, like a FHIR Subscription's notification), and the
 * stream ends when the token does, so a stream outlives no sign-in.
 * docs/decisions/0020-nurse-app-live-and-charts.md
 */
export interface LiveServiceDeps {
  readonly store: EventStore;
  readonly access: AccessControl;
  /** Who cares for the person now (RecordAccess.factsFor: from their own stream). */
  readonly factsFor: (patientId: string, role: Role) => Promise<PatientFacts | undefined>;
  /** Every message sent, for the access trail. */
  readonly onDelivered: (delivery: { at: Date; path: string; principal: Principal; decision: Decision; status: number; to: string }) => void;
  readonly logger: Logger;
  /** A comment line this often keeps proxies from closing a quiet stream. */
  readonly keepAliveMs?: number;
}

export const LIVE_STREAM_PATH = '/api/events/stream';

/** The live stream in /openapi.json: an integrator finds it where every other endpoint is described. */
export const liveOpenApiPaths = (): Record<string, unknown> => ({
  [LIVE_STREAM_PATH]: {
    get: {
      operationId: 'FollowLiveEvents',
      summary:
        'Server-sent events: each escalation and care prompt you may see, as it enters the log (an `escalation` or `prompt` event whose data names the kind, event type, id, person, log position and who it is addressed to); first a `ready` event with the log position, then keep-alive comments; the stream ends when the token expires',
      tags: ['live'],
      responses: {
        '200': { description: 'The stream (text/event-stream); read each item through its API with X-Tandem-Min-Position set to its position', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        '401': { description: 'Caller not identified', content: { 'application/problem+json': { schema: { type: 'object' } } } },
        '403': { description: 'Not a role that may list escalations', content: { 'application/problem+json': { schema: { type: 'object' } } } },
      },
    },
  },
});

/** What each kind of message is decided as: the read the app makes next. */
const ENDPOINT: Readonly<Record<LiveMessage['kind'], EndpointAccess>> = { escalation: DELEGATION_ACCESS.ReadEscalations, prompt: DELEGATION_ACCESS.ReadDelegations };

/** A slow listener is cut off rather than held in memory without end (the app reconnects and reads its lists again). */
const MAX_BUFFERED_BYTES = 1_000_000;

interface Listener {
  readonly principal: Principal;
  readonly res: Response;
  readonly address: string;
}

/** The token's own expiry (it has been verified: this only reads when it ends). */
const expiryOf = (authorization: string | undefined): number | undefined => {
  const payload = authorization?.replace(/^Bearer\s+/i, '').split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
};

export const createLiveService = (deps: LiveServiceDeps) => {
  const { store, access, logger } = deps;
  const listeners = new Set<Listener>();
  const patients = new Map<string, string>();
  const abort = new AbortController();
  let following: Promise<void> = Promise.resolve();
  let position = 0;
  let failed = false;

  /** The person an escalation or prompt is about: from its first event, seen in the log or read from its stream. */
  const patientOf = async (event: RecordedEvent, id: string): Promise<string | undefined> => {
    const named = patientNamedBy(event);
    if (named) {
      patients.set(id, named);
      return named;
    }
    const known = patients.get(id);
    if (known) return known;
    const first = (await store.readStream(event.stream))[0];
    const found = first ? patientNamedBy(first) : undefined;
    if (found) patients.set(id, found);
    return found;
  };

  const deliver = async (message: LiveMessage) => {
    const endpoint = ENDPOINT[message.kind];
    const facts = new Map<Role, Promise<PatientFacts | undefined>>();
    for (const listener of listeners) {
      const role = listener.principal.actor.role;
      if (!facts.has(role)) facts.set(role, deps.factsFor(message.patientId, role));
      const decision = access.decide({ principal: listener.principal, action: endpoint.action, needs: endpoint.needs, target: { kind: 'patient', patientId: message.patientId, facts: await facts.get(role)! } });
      // Not theirs to see: not sent, and nothing else tells them it happened.
      if (!decision.allowed || listener.res.writableEnded) continue;
      if (listener.res.writableLength > MAX_BUFFERED_BYTES) {
        listener.res.end();
        continue;
      }
      listener.res.write(sseFrame(message));
      deps.onDelivered({ at: new Date(), path: `${LIVE_STREAM_PATH}#${message.kind}/${message.id}`, principal: listener.principal, decision, status: 200, to: listener.address });
    }
  };

  const follow = async (after: number) => {
    for await (const event of store.subscribeToAll({ after, signal: abort.signal })) {
      if (abort.signal.aborted) return;
      position = event.position;
      const item = itemOf(event);
      if (!item) continue;
      const patientId = await patientOf(event, item.id);
      const message = liveMessageOf(event, patientId);
      if (message && listeners.size > 0) await deliver(message);
    }
  };

  const router = Router();
  const refuse = authenticate(access, (res, error) => {
    res.status(error.status).type('application/problem+json').json(problem(error.status, refusalTitle(error), error.message));
  });
  router.get(LIVE_STREAM_PATH, refuse, (req: Request, res: Response) => {
    const principal = principalOf(req);
    // Opening the stream is allowed to whoever may list escalations; each message is then decided on its own.
    const { action, needs } = DELEGATION_ACCESS.ReadEscalations;
    const decision = access.authorise({ principal, action, needs, target: { kind: 'none' } });
    if (!decision.allowed) {
      res.status(403).type('application/problem+json').json(problem(403, 'Forbidden', decision.detail));
      return;
    }
    res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    // `ready` carries where the log stands: the app reads its lists then, so nothing before it is missed.
    res.write(`retry: 3000\nevent: ready\ndata: ${JSON.stringify({ position })}\n\n`);
    const listener: Listener = { principal, res, address: req.ip ?? req.socket.remoteAddress ?? 'unknown' };
    listeners.add(listener);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), deps.keepAliveMs ?? 25_000);
    const expiry = expiryOf(req.get('authorization'));
    const ends = expiry === undefined ? undefined : setTimeout(() => res.end(), Math.max(0, Math.min(expiry - Date.now(), 2 ** 31 - 1)));
    const endOnStop = () => res.end();
    abort.signal.addEventListener('abort', endOnStop, { once: true });
    const close = () => {
      listeners.delete(listener);
      clearInterval(keepAlive);
      if (ends) clearTimeout(ends);
      abort.signal.removeEventListener('abort', endOnStop);
    };
    res.on('close', close);
  });

  return {
    name: 'live',
    router,
    health: async (): Promise<ServiceHealth> => ({ service: 'live', status: failed ? 'degraded' : 'ok', details: { position, listeners: listeners.size } }),
    start: async () => {
      // From the head: a listener reads its lists when it connects; the stream tells only of what follows.
      position = await store.headPosition();
      following = follow(position).catch((error: unknown) => {
        if (abort.signal.aborted) return;
        failed = true;
        logger.error({ err: error }, 'the live stream stopped following the log');
      });
    },
    stop: async () => {
      abort.abort();
      await following;
    },
    /** Whether the log has been read up to `at` (tests). */
    caughtUp: (at: number) => position >= at,
  };
};
export type LiveService = ReturnType<typeof createLiveService>;
