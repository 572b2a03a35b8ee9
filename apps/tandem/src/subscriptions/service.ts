import { AuthenticationError, needsMemberDetails, NOTIFICATION_ACCESS, refusalTitle, SUBSCRIPTION_ACCESS, TooManyRequestsError, type AccessControl, type EndpointAccess, type PatientFacts, type Principal } from '@tandem/auth';
import { streamName, SubscriptionDeleted, SubscriptionRequested, subscriptionStreamFor, type PractitionerRegisteredData, type Role, type ServiceHealth, type SubscriptionRequestedData } from '@tandem/contracts';
import type { EventStore, NewEvent } from '@tandem/event-store';
import type { FhirReader } from '@tandem/fhir-read-model';
import type { ProjectionRunner } from '@tandem/projections';
import { patientStateFrom } from '@tandem/record';
import express, { Router, type Request, type Response } from 'express';
import type { FhirResource, Parameters as FhirParameters } from 'fhir/r4';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { SubscriptionDelivery, type DeliveryOptions, type DeliveryRecord } from './delivery';
import { eventsBundle, handshakeBundle, statusParameters, type PastEvent } from './notification';
import { BindingTokens, WEBSOCKET_PATH, WebSocketChannel } from './websocket';
import { foldSubscriptionStream as fold, parseSubscription, subscriptionResource, type SubscriptionState } from './subscription';

/**
 * FHIR Subscriptions (R5 Backport IG 1.1.0, topic-based, rest-hook and websocket): create, read,
 * search and delete at /fhir/Subscription, `$status`, `$events`, `$get-ws-binding-token` and the
 * socket it binds (./websocket.ts), and delivery from the event log. Every subscription is
 * its own stream (subscription-<id>); nothing here is a table of truth.
 */
export interface SubscriptionServiceDeps {
  readonly store: EventStore;
  readonly access: AccessControl;
  readonly reader: FhirReader;
  readonly runner?: Pick<ProjectionRunner, 'waitFor'>;
  readonly onDelivered: (record: DeliveryRecord) => void;
  readonly logger: Logger;
  readonly retry?: DeliveryOptions['retry'];
}

const FHIR_JSON = 'application/fhir+json';
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

const send = (res: Response, status: number, body: unknown) => res.status(status).type(FHIR_JSON).send(JSON.stringify(body));
const outcome = (res: Response, status: number, code: string, issues: readonly { diagnostics: string; expression?: string }[]) =>
  send(res, status, { resourceType: 'OperationOutcome', issue: issues.map((i) => ({ severity: 'error', code, diagnostics: i.diagnostics, ...(i.expression ? { expression: [i.expression] } : {}) })) });

export const createSubscriptionService = (deps: SubscriptionServiceDeps) => {
  const { store, access, logger } = deps;

  /** The person's care team, registered GP and registrant as their stream stood at `position` (Infinity: now). */
  const factsAt = async (patientId: string, position: number, role: Role): Promise<PatientFacts | undefined> => {
    const events = (await store.readStream(streamName.patient(patientId))).filter((e) => e.position <= position);
    // The record's own fold of the patient stream (the events are the record's, as stored).
    const state = patientStateFrom(events as unknown as Parameters<typeof patientStateFrom>[0]);
    if (!state.registered) return undefined;
    const withDetails = needsMemberDetails(role);
    const careTeam = await Promise.all(
      state.careTeam.map(async (m) => {
        if (!withDetails) return { practitionerId: m.practitionerId, teamRole: m.teamRole };
        const registered = (await store.readStream(streamName.practitioner(m.practitionerId))).find((e) => e.type === 'PractitionerRegistered');
        const p = registered?.data as PractitionerRegisteredData | undefined;
        return { practitionerId: m.practitionerId, teamRole: m.teamRole, ...(p ? { organisation: p.organisationId, practitionerRole: p.role } : {}) };
      }),
    );
    return { patientId, ...(state.registeredGp ? { registeredGp: state.registeredGp } : {}), ...(state.registeredBy ? { registeredBy: state.registeredBy } : {}), careTeam };
  };

  const resourceAt = async (type: string, id: string, position: number): Promise<FhirResource | undefined> => {
    await deps.runner?.waitFor(position, 10_000);
    const stored = await deps.reader.read(type, id);
    return stored ? ({ ...stored.resource, meta: { ...(stored.resource.meta ?? {}), versionId: String(stored.versionId), lastUpdated: stored.lastUpdated } } as FhirResource) : undefined;
  };

  /** Who owns a subscription, as one key (the same actor id and role): a binding token is the owner's. */
  const ownerKeyOf = (actor: { id: string; role: string }) => `${actor.role}:${actor.id}`;
  const tokens = new BindingTokens();
  const sockets = new WebSocketChannel({
    tokens,
    logger: logger.child({ component: 'subscriptions-websocket' }),
    // Bound only if it is still the owner's, a websocket subscription, and not deleted since the token was given.
    handshake: async (id, owner) => {
      const state = fold(await store.readStream(subscriptionStreamFor(id)));
      if (!state.exists || state.status === 'off' || state.requested.channel !== 'websocket' || ownerKeyOf(state.requested.owner.actor) !== owner) return undefined;
      return handshakeBundle({ bundleId: randomUUID(), subscriptionId: id, topic: state.requested.topic, status: state.status, eventsSinceStart: state.eventsSinceStart, timestamp: new Date().toISOString() });
    },
  });

  const delivery = new SubscriptionDelivery({ store, access, factsAt, resourceAt, sockets, onDelivered: deps.onDelivered, logger: logger.child({ component: 'subscriptions' }), ...(deps.retry ? { retry: deps.retry } : {}) });

  /** Verifies the token; answers the refusal itself and resolves undefined. */
  const authenticated = async (req: Request, res: Response): Promise<Principal | undefined> => {
    try {
      return await access.authenticate(req.get('authorization'), { address: req.ip });
    } catch (error) {
      if (error instanceof TooManyRequestsError) res.set('Retry-After', String(error.retryAfterSeconds));
      else if (error instanceof AuthenticationError) res.set('WWW-Authenticate', error.challenge);
      else throw error;
      outcome(res, error.status, error.status === 401 ? 'login' : 'throttled', [{ diagnostics: `${refusalTitle(error)}: ${error.message}` }]);
      return undefined;
    }
  };

  /** Decides the endpoint for the principal (and the person, when it names one); answers a refusal itself. */
  const allowed = async (res: Response, principal: Principal, endpoint: EndpointAccess, patientId?: string): Promise<boolean> => {
    const target = patientId === undefined ? ({ kind: 'none' } as const) : ({ kind: 'patient', patientId, facts: await factsAt(patientId, Infinity, principal.actor.role) } as const);
    const decision = access.authorise({ principal, action: endpoint.action, needs: endpoint.needs, target });
    if (!decision.allowed) outcome(res, 403, 'forbidden', [{ diagnostics: decision.detail }]);
    return decision.allowed;
  };

  const authorised = async (req: Request, res: Response, endpoint: EndpointAccess): Promise<Principal | undefined> => {
    const principal = await authenticated(req, res);
    return principal && (await allowed(res, principal, endpoint)) ? principal : undefined;
  };

  /** The owner's subscription, or undefined (another owner's is not found: it is not theirs to know of). */
  const owned = async (principal: Principal, id: string) => {
    if (!ID.test(id)) return undefined;
    const state = fold(await store.readStream(subscriptionStreamFor(id)));
    return state.exists && state.requested.owner.actor.id === principal.actor.id && state.requested.owner.actor.role === principal.actor.role ? state : undefined;
  };

  /** Which subscriptions each owner has (for search): learnt from the log as the streams are written; the streams stay the truth. */
  const byOwner = new Map<string, Set<string>>();
  const ownerKey = (p: Principal) => ownerKeyOf(p.actor);
  const remember = (owner: Principal, id: string) => {
    const set = byOwner.get(ownerKey(owner)) ?? new Set<string>();
    set.add(id);
    byOwner.set(ownerKey(owner), set);
  };

  const router = Router();
  const body = express.json({ limit: '64kb', type: ['application/json', FHIR_JSON] });
  const wrap = (handler: (req: Request, res: Response) => Promise<unknown>) => (req: Request, res: Response, next: (e?: unknown) => void) => void handler(req, res).catch(next);

  router.post(
    '/fhir/Subscription',
    wrap(async (req, res) => {
      // Who asks first: a stranger's malformed body is a 401, not a lesson in what a good one looks like.
      const principal = await authenticated(req, res);
      if (!principal) return;
      const read = await new Promise<boolean>((resolve) => body(req, res, (error?: unknown) => resolve(!error)));
      if (!read) return outcome(res, 400, 'invalid', [{ diagnostics: 'The body is not JSON (a FHIR Subscription)', expression: 'Subscription' }]);
      const parsed = parseSubscription(req.body);
      if (Array.isArray(parsed)) return outcome(res, 400, 'invalid', parsed.map((f) => ({ diagnostics: `${f.expression}: ${f.message}`, expression: f.expression })));
      if (!(await allowed(res, principal, SUBSCRIPTION_ACCESS.create, parsed.patientId))) return;
      const subscriptionId = randomUUID();
      const data: SubscriptionRequestedData = { subscriptionId, owner: { actor: principal.actor, scope: principal.scope, ...(principal.patient ? { patient: principal.patient } : {}) }, ...parsed };
      const event: NewEvent = { id: randomUUID(), type: SubscriptionRequested.type, data, metadata: { actor: principal.actor, correlationId: randomUUID(), occurredAt: new Date().toISOString() } };
      await store.append(subscriptionStreamFor(subscriptionId), [event], { expectedRevision: 'no_stream' });
      remember(principal, subscriptionId);
      const state = fold(await store.readStream(subscriptionStreamFor(subscriptionId)));
      res.set('Location', `/fhir/Subscription/${subscriptionId}`);
      send(res, 201, subscriptionResource(state as Extract<SubscriptionState, { exists: true }>));
    }),
  );

  router.get(
    '/fhir/Subscription',
    wrap(async (req, res) => {
      const principal = await authorised(req, res, SUBSCRIPTION_ACCESS.search);
      if (!principal) return;
      const status = typeof req.query.status === 'string' ? req.query.status : undefined;
      const found = [];
      for (const id of byOwner.get(ownerKey(principal)) ?? []) {
        const state = await owned(principal, id);
        if (state && (status === undefined || state.status === status)) found.push(subscriptionResource(state));
      }
      send(res, 200, { resourceType: 'Bundle', type: 'searchset', total: found.length, entry: found.map((resource) => ({ fullUrl: `Subscription/${resource.id}`, resource, search: { mode: 'match' } })) });
    }),
  );

  /**
   * `$get-ws-binding-token` (Backport IG 1.1.0): a single-use token, valid for a minute, that binds
   * a socket at `websocket-url` to the asker's own websocket subscriptions: the one named (instance
   * level), the `id`s given (type level), or all of them. Someone else's subscription is not found.
   */
  const bindingToken = wrap(async (req, res) => {
    const principal = await authorised(req, res, SUBSCRIPTION_ACCESS.read);
    if (!principal) return;
    if (req.method === 'POST') {
      const read = await new Promise<boolean>((resolve) => body(req, res, (error?: unknown) => resolve(!error)));
      if (!read) return outcome(res, 400, 'invalid', [{ diagnostics: 'The body is not JSON (a FHIR Parameters)', expression: 'Parameters' }]);
    }
    const instance = typeof req.params.id === 'string' ? [req.params.id] : undefined;
    const fromQuery = ([] as unknown[]).concat(req.query.id ?? []);
    const fromBody = ((req.body as Partial<FhirParameters> | undefined)?.parameter ?? []).filter((p) => p?.name === 'id').map((p) => p.valueId ?? p.valueString);
    const asked = instance ?? [...fromQuery, ...fromBody];
    if (asked.some((id) => typeof id !== 'string' || !ID.test(id))) return outcome(res, 400, 'invalid', [{ diagnostics: 'id must be the id of a Subscription', expression: 'id' }]);
    const ids = asked as string[];
    const candidates = ids.length > 0 ? ids : [...(byOwner.get(ownerKey(principal)) ?? [])];
    const bindable: string[] = [];
    for (const id of candidates) {
      const state = await owned(principal, id);
      if (!state || state.status === 'off') {
        if (ids.length > 0) return outcome(res, 404, 'not-found', [{ diagnostics: `Subscription/${id} is not known` }]);
        continue;
      }
      if (state.requested.channel !== 'websocket') {
        if (ids.length > 0) return outcome(res, 400, 'invalid', [{ diagnostics: `Subscription/${id} is a rest-hook subscription: only a websocket subscription is bound to a socket`, expression: 'id' }]);
        continue;
      }
      bindable.push(id);
    }
    if (bindable.length === 0) return outcome(res, 404, 'not-found', [{ diagnostics: 'There is no active websocket Subscription of yours to bind' }]);
    const { token, expiresAt } = tokens.issue(ownerKey(principal), bindable);
    const scheme = req.protocol === 'https' ? 'wss' : 'ws';
    const parameters: FhirParameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'token', valueString: token },
        { name: 'expiration', valueDateTime: expiresAt.toISOString() },
        ...bindable.map((id) => ({ name: 'subscription', valueString: `Subscription/${id}` })),
        { name: 'websocket-url', valueUrl: `${scheme}://${req.get('host') ?? 'localhost'}${WEBSOCKET_PATH}` },
      ],
    };
    res.set('Cache-Control', 'no-store');
    send(res, 200, parameters);
  });
  router.get('/fhir/Subscription/\\$get-ws-binding-token', bindingToken);
  router.post('/fhir/Subscription/\\$get-ws-binding-token', bindingToken);
  router.get('/fhir/Subscription/:id/\\$get-ws-binding-token', bindingToken);
  router.post('/fhir/Subscription/:id/\\$get-ws-binding-token', bindingToken);

  router.get(
    '/fhir/Subscription/:id/\\$status',
    wrap(async (req, res) => {
      const principal = await authorised(req, res, SUBSCRIPTION_ACCESS.read);
      if (!principal) return;
      const state = await owned(principal, String(req.params.id));
      if (!state) return outcome(res, 404, 'not-found', [{ diagnostics: `Subscription/${String(req.params.id)} is not known` }]);
      const parameters = statusParameters({ subscriptionId: state.requested.subscriptionId, topic: state.requested.topic, status: state.status, eventsSinceStart: state.eventsSinceStart, ...(state.error ? { error: state.error } : {}) });
      send(res, 200, { resourceType: 'Bundle', type: 'searchset', total: 1, entry: [{ fullUrl: `urn:uuid:${randomUUID()}`, resource: parameters, search: { mode: 'match' } }] });
    }),
  );

  /**
   * `$events` (eventsSinceNumber, eventsUntilNumber, inclusive; at most 100): what was sent, again, for
   * a receiver that saw a gap. Each is decided again as a read by the asker now (a relationship that
   * ended since hides it); the numbers stay, so the receiver knows what it was not given.
   */
  router.get(
    '/fhir/Subscription/:id/\\$events',
    wrap(async (req, res) => {
      const principal = await authorised(req, res, SUBSCRIPTION_ACCESS.read);
      if (!principal) return;
      const state = await owned(principal, String(req.params.id));
      if (!state) return outcome(res, 404, 'not-found', [{ diagnostics: `Subscription/${String(req.params.id)} is not known` }]);
      const bound = (name: string, fallback: number): number | undefined => {
        const raw = req.query[name];
        if (raw === undefined) return fallback;
        const n = typeof raw === 'string' && /^\d{1,12}$/.test(raw) ? Number(raw) : NaN;
        return Number.isSafeInteger(n) ? n : undefined;
      };
      const since = bound('eventsSinceNumber', 1);
      const until = bound('eventsUntilNumber', state.eventsSinceStart);
      if (since === undefined || until === undefined) {
        const name = since === undefined ? 'eventsSinceNumber' : 'eventsUntilNumber';
        return outcome(res, 400, 'invalid', [{ diagnostics: `${name} must be an event number (a whole number)`, expression: name }]);
      }
      const stream = await store.readStream(subscriptionStreamFor(state.requested.subscriptionId));
      const notified = stream.filter((e) => e.type === 'SubscriptionNotified').map((e) => ({ data: e.data as { eventNumber: number; focus: string; patientId?: string }, at: e.metadata.recordedAt }));
      const inRange = notified.filter((n) => n.data.eventNumber >= since && n.data.eventNumber <= until).slice(0, 100);
      const type = (focus: string) => focus.split('/')[0]!;
      const events: PastEvent[] = [];
      for (const n of inRange) {
        if (n.data.patientId) {
          const endpoint = NOTIFICATION_ACCESS(type(n.data.focus));
          const facts = await factsAt(n.data.patientId, Infinity, principal.actor.role);
          if (!access.authorise({ principal, action: endpoint.action, needs: endpoint.needs, target: { kind: 'patient', patientId: n.data.patientId, facts } }).allowed) continue;
        }
        events.push({ eventNumber: n.data.eventNumber, timestamp: n.at, focus: n.data.focus, ...(n.data.patientId ? { patientId: n.data.patientId } : {}) });
      }
      const bundle = eventsBundle({ bundleId: randomUUID(), subscriptionId: state.requested.subscriptionId, topic: state.requested.topic, status: state.status, eventsSinceStart: state.eventsSinceStart, timestamp: new Date().toISOString() }, events);
      send(res, 200, bundle);
    }),
  );

  router.get(
    '/fhir/Subscription/:id',
    wrap(async (req, res) => {
      const principal = await authorised(req, res, SUBSCRIPTION_ACCESS.read);
      if (!principal) return;
      const state = await owned(principal, String(req.params.id));
      if (!state) return outcome(res, 404, 'not-found', [{ diagnostics: `Subscription/${String(req.params.id)} is not known` }]);
      send(res, 200, subscriptionResource(state));
    }),
  );

  router.delete(
    '/fhir/Subscription/:id',
    wrap(async (req, res) => {
      const principal = await authorised(req, res, SUBSCRIPTION_ACCESS.delete);
      if (!principal) return;
      const state = await owned(principal, String(req.params.id));
      if (!state) return outcome(res, 404, 'not-found', [{ diagnostics: `Subscription/${String(req.params.id)} is not known` }]);
      if (state.status !== 'off') {
        const event: NewEvent = { id: randomUUID(), type: SubscriptionDeleted.type, data: { at: new Date().toISOString() }, metadata: { actor: principal.actor, correlationId: randomUUID(), occurredAt: new Date().toISOString() } };
        await store.append(subscriptionStreamFor(state.requested.subscriptionId), [event], { expectedRevision: 'any' });
      }
      res.status(204).end();
    }),
  );

  return {
    name: 'subscriptions',
    router,
    delivery,
    /** The HTTP server's `upgrade` event: the websocket channel's socket (true when it took the request). */
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => sockets.handleUpgrade(req, socket, head),
    /** Closes the websocket channel's sockets (before the HTTP server closes: an open socket would hold it). */
    closeSockets: () => sockets.close(),
    health: async (): Promise<ServiceHealth> => {
      const status = delivery.status();
      return { service: 'subscriptions', status: status.following ? 'ok' : 'degraded', details: { ...status, boundSockets: sockets.boundSockets } };
    },
    start: async () => {
      // The owners' index for search, from the subscription streams in the log (the streams are the truth).
      delivery.onRequested = (data) => remember({ actor: data.owner.actor, scope: '', scopes: [] }, data.subscriptionId);
      delivery.start();
    },
    stop: async () => {
      await delivery.stop();
      await sockets.close();
    },
  };
};
export type SubscriptionService = ReturnType<typeof createSubscriptionService>;
