import { NOTIFICATION_ACCESS, parseScopes, type AccessControl, type Decision, type PatientFacts, type Principal } from '@tandem/auth';
import { streamOfKind, subscriptionStreamFor, type Role, type SubscriptionEvent, type SubscriptionRequestedData } from '@tandem/contracts';
import { WrongExpectedRevision, type EventStore, type NewEvent, type RecordedEvent } from '@tandem/event-store';
import type { FhirResource } from 'fhir/r4';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { handshakeBundle, heartbeatBundle, notificationBundle } from './notification';
import { foldSubscriptionStream, type SubscriptionState } from './subscription';
import { TopicIndex, type Triggered } from './topics';

/**
 * Delivery (rest-hook, or the websocket channel's bound sockets: ./websocket.ts), driven from the event log. One reader follows the whole log in order (from
 * the start: the topics need each escalation's first event, and each subscription's stream says
 * where it stands); each subscription has its own queue and sends one notification at a time, so
 * they arrive in order. A notification counts once the endpoint accepts it (2xx): then a
 * SubscriptionNotified event records its number and the position it told of, which is the
 * subscription's checkpoint. A crash between the two sends it again with the same number (at
 * least once; the receiver sees the repeat by its number). Each notification is decided as a
 * read by the owner of the person at the event's position, and recorded in the access trail.
 * A websocket notification counts once it is written to a bound socket; with none bound it waits
 * (the socket that binds next gets the backlog after its handshake, in order).
 */

export interface DeliveryRecord {
  readonly subscriptionId: string;
  readonly at: Date;
  readonly channel: 'rest-hook' | 'websocket';
  /** Where it went: the endpoint's host, or the addresses of the sockets it was sent on. */
  readonly to: string;
  readonly principal: Principal;
  readonly decision: Decision;
  readonly status: number;
  readonly focus: string;
}

export interface DeliveryOptions {
  readonly store: EventStore;
  readonly access: AccessControl;
  /** Who cares for the person as their record stood at this position (the same facts a read is decided on). */
  readonly factsAt: (patientId: string, position: number, role: Role) => Promise<PatientFacts | undefined>;
  /** The focus as the FHIR API serves it, once the read model has reached the position (full-resource). */
  readonly resourceAt: (type: string, id: string, position: number) => Promise<FhirResource | undefined>;
  /** Every notification sent, for the access trail. */
  readonly onDelivered: (record: DeliveryRecord) => void;
  readonly logger: Logger;
  /** The websocket channel's bound sockets; without it a websocket subscription waits for none. */
  readonly sockets?: SocketChannel;
  readonly now?: () => Date;
  /** First wait after a failed attempt (doubling), the longest wait, and the failures in a row that mark it `error`. */
  readonly retry?: { readonly firstMs?: number; readonly maxMs?: number; readonly errorAfter?: number; readonly timeoutMs?: number };
}

/** What a send answers: accepted (an HTTP status, or 200 for a socket written to) and where it went, or the problem. */
export type Sent = { readonly ok: true; readonly status: number; readonly to: string } | { readonly ok: false; readonly problem: string };

/** The websocket channel as delivery sees it (./websocket.ts): sockets bound to a subscription. */
export interface SocketChannel {
  /** Sends on every socket bound to the subscription: accepted if at least one took it. */
  send(subscriptionId: string, bundle: unknown): Promise<Sent>;
  /** Resolves once a socket is bound to it (at once when one is), or when `signal` aborts. */
  bound(subscriptionId: string, signal: AbortSignal): Promise<void>;
}

interface Item {
  readonly event: RecordedEvent;
  readonly triggered: Triggered;
}

type Active = Extract<SubscriptionState, { exists: true }>;

const TANDEM_ACTOR = { id: 'tandem', role: 'system' } as const;

class SubscriptionWorker {
  private readonly queue: Item[] = [];
  private wake: (() => void) | undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  private done: Promise<void> = Promise.resolve();

  constructor(
    private state: Active,
    private readonly deps: DeliveryOptions,
  ) {}

  get requested() {
    return this.state.requested;
  }

  start() {
    this.done = this.run().catch((error: unknown) => this.deps.logger.error({ err: error, subscription: this.state.requested.subscriptionId }, 'subscription delivery stopped'));
  }

  get inError(): boolean {
    return this.state.status === 'error';
  }

  get idle(): boolean {
    return this.queue.length === 0 || this.stopped;
  }

  push(item: Item) {
    if (item.event.position <= this.state.checkpoint) return;
    this.queue.push(item);
    this.wake?.();
  }

  async stop() {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.done;
  }

  private sleep(ms: number) {
    return new Promise<void>((resolve) => {
      // The listener goes with the sleep: a worker that retries for hours must not pile them on its signal.
      const stop = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.abort.signal.removeEventListener('abort', stop);
        resolve();
      }, ms);
      this.abort.signal.addEventListener('abort', stop, { once: true });
    });
  }

  private async run() {
    // A new rest-hook endpoint shakes hands first; what happens meanwhile waits in the queue, numbered from 1 once it is active.
    if (!this.state.handshaken) await this.shakeHands();
    while (!this.stopped) {
      const item = this.queue[0];
      if (!item) {
        const heartbeat = this.state.requested.heartbeatSeconds;
        let timer: NodeJS.Timeout | undefined;
        const beat = await new Promise<boolean>((resolve) => {
          this.wake = () => resolve(false);
          if (heartbeat !== undefined) timer = setTimeout(() => resolve(true), heartbeat * 1000);
        });
        clearTimeout(timer);
        this.wake = undefined;
        // Nothing sent for the period: a heartbeat, so the receiver knows the subscription is alive
        // (one attempt; an endpoint in error is not sent heartbeats, its next notification tells it).
        if (beat && !this.stopped && this.state.status === 'active') await this.send(this.heartbeat(), this.deps.retry?.timeoutMs ?? 10_000);
        continue;
      }
      try {
        await this.deliver(item);
      } catch (error) {
        // The store or the read model failed (not the endpoint): the same event again after a pause;
        // if it had been sent, it is sent again with the same number (at least once).
        this.deps.logger.error({ err: error, subscription: this.state.requested.subscriptionId }, 'a notification could not be prepared or recorded; will retry');
        await this.sleep(this.deps.retry?.maxMs ?? 60_000);
        continue;
      }
      if (this.stopped) return;
      this.queue.shift();
    }
  }

  /**
   * The handshake (Backport IG 1.1.0): a `handshake` Bundle POSTed until the endpoint answers 2xx, then
   * SubscriptionActivated. A refusal marks it `error` at once (the owner's next read says so rather than
   * `requested` for ever) and it is tried again with the same backoff as a notification.
   */
  private async shakeHands() {
    const r = this.state.requested;
    const { firstMs = 500, maxMs = 60_000, timeoutMs = 10_000 } = this.deps.retry ?? {};
    for (let attempt = 1; !this.stopped && !this.state.handshaken; attempt++) {
      const bundle = handshakeBundle({ bundleId: randomUUID(), subscriptionId: r.subscriptionId, topic: r.topic, status: this.state.status === 'off' ? 'off' : 'requested', eventsSinceStart: this.state.eventsSinceStart, timestamp: new Date().toISOString() });
      const answer = await this.send(bundle, timeoutMs);
      if (this.stopped) return;
      if (answer.ok) {
        await this.append([{ type: 'SubscriptionActivated', data: { at: new Date().toISOString() } }]);
        return;
      }
      this.deps.logger.warn({ subscription: r.subscriptionId, attempt, problem: answer.problem }, 'the endpoint did not accept the handshake; will retry');
      if (this.state.status === 'requested') await this.append([{ type: 'SubscriptionErrored', data: { attempts: attempt, problem: `the handshake was not accepted: ${answer.problem}`.slice(0, 500), at: new Date().toISOString() } }]);
      await this.sleep(Math.min(maxMs, firstMs * 2 ** (attempt - 1)));
    }
  }

  private heartbeat() {
    const r = this.state.requested;
    return heartbeatBundle({ bundleId: randomUUID(), subscriptionId: r.subscriptionId, topic: r.topic, status: this.state.status, eventsSinceStart: this.state.eventsSinceStart, timestamp: new Date().toISOString() });
  }

  private principal(): Principal {
    const { owner } = this.state.requested;
    return { actor: owner.actor, scope: owner.scope, scopes: parseScopes(owner.scope), ...(owner.patient ? { patient: owner.patient } : {}) };
  }

  private async deliver({ event, triggered }: Item) {
    const r = this.state.requested;
    const now = this.deps.now?.() ?? new Date();
    if (r.end && Date.parse(r.end) <= now.getTime()) return;
    const principal = this.principal();
    // The owner's access as it stood at the event: a relationship that ended stops notifications
    // about the person from then on; one that began opens them (the same rule as reading the record).
    const endpoint = NOTIFICATION_ACCESS(triggered.focus.type);
    const facts = await this.deps.factsAt(triggered.patientId, event.position, principal.actor.role);
    const decision = this.deps.access.decide({ principal, action: endpoint.action, needs: endpoint.needs, target: { kind: 'patient', patientId: triggered.patientId, facts } });
    // Not theirs to see: not sent and not counted, so the numbering reveals nothing either.
    if (!decision.allowed) return;

    const eventNumber = this.state.eventsSinceStart + 1;
    const resource = r.payload === 'full-resource' ? await this.deps.resourceAt(triggered.focus.type, triggered.focus.id, event.position) : undefined;
    const bundle = notificationBundle({
      notificationId: randomUUID(),
      subscriptionId: r.subscriptionId,
      topic: r.topic,
      status: 'active',
      eventNumber,
      timestamp: event.metadata.recordedAt,
      triggered,
      payload: r.payload,
      ...(resource ? { resource } : {}),
    });
    const { firstMs = 500, maxMs = 60_000, errorAfter = 5, timeoutMs = 10_000 } = this.deps.retry ?? {};
    for (let attempt = 1; !this.stopped; attempt++) {
      // A websocket subscription with no socket bound waits for one: nobody listening is not a failed attempt.
      if (this.channel === 'websocket') await this.deps.sockets?.bound(r.subscriptionId, this.abort.signal);
      if (this.stopped) return;
      const answer = await this.send(bundle, timeoutMs);
      if (answer.ok) {
        await this.recordDelivered(eventNumber, event.position, triggered);
        this.deps.onDelivered({ subscriptionId: r.subscriptionId, at: now, channel: this.channel, to: answer.to, principal, decision, status: answer.status, focus: `${triggered.focus.type}/${triggered.focus.id}` });
        return;
      }
      if (this.stopped) return;
      this.deps.logger.warn({ subscription: r.subscriptionId, attempt, problem: answer.problem }, 'a notification was not accepted; will retry');
      if (attempt >= errorAfter && this.state.status === 'active') {
        await this.append([{ type: 'SubscriptionErrored', data: { attempts: attempt, problem: answer.problem.slice(0, 500), at: new Date().toISOString() } }]);
      }
      await this.sleep(Math.min(maxMs, firstMs * 2 ** (attempt - 1)));
    }
  }

  private get channel(): 'rest-hook' | 'websocket' {
    return this.state.requested.channel ?? 'rest-hook';
  }

  private send(bundle: unknown, timeoutMs: number): Promise<Sent> {
    const { endpoint, subscriptionId } = this.state.requested;
    if (this.channel === 'websocket') return this.deps.sockets ? this.deps.sockets.send(subscriptionId, bundle) : Promise.resolve({ ok: false, problem: 'the websocket channel is not served here' });
    return endpoint ? this.post(endpoint, bundle, timeoutMs) : Promise.resolve({ ok: false, problem: 'a rest-hook subscription without an endpoint' });
  }

  private async post(endpoint: string, bundle: unknown, timeoutMs: number): Promise<Sent> {
    try {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify(bundle),
        redirect: 'error',
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(timeoutMs)]),
      });
      await response.body?.cancel().catch(() => undefined);
      return response.ok ? { ok: true, status: response.status, to: new URL(endpoint).host } : { ok: false, problem: `the endpoint answered ${response.status}` };
    } catch (error) {
      return { ok: false, problem: `the endpoint could not be reached (${(error as Error).name})` };
    }
  }

  private async recordDelivered(eventNumber: number, position: number, triggered: Triggered) {
    await this.append([
      ...(this.state.status === 'error' ? [{ type: 'SubscriptionResumed' as const, data: { at: new Date().toISOString() } }] : []),
      { type: 'SubscriptionNotified', data: { eventNumber, position, focus: `${triggered.focus.type}/${triggered.focus.id}`, patientId: triggered.patientId } },
    ]);
  }

  /** Appends to the subscription's stream at the revision it knows; a delete in between wins (the stream is read again). */
  private async append(events: readonly { type: SubscriptionEvent['type']; data: unknown }[]) {
    const stream = subscriptionStreamFor(this.state.requested.subscriptionId);
    const now = new Date().toISOString();
    const correlationId = randomUUID();
    const news: NewEvent[] = events.map((e) => ({ id: randomUUID(), type: e.type, data: e.data, metadata: { actor: TANDEM_ACTOR, correlationId, occurredAt: now } }));
    try {
      await this.deps.store.append(stream, news, { expectedRevision: this.state.revision });
    } catch (error) {
      if (!(error instanceof WrongExpectedRevision)) throw error;
    }
    const state = foldSubscriptionStream(await this.deps.store.readStream(stream));
    if (state.exists) this.state = state;
    if (!state.exists || state.status === 'off') this.stopped = true;
  }
}

/** Follows the log and keeps one worker per live subscription. */
export class SubscriptionDelivery {
  private readonly workers = new Map<string, SubscriptionWorker>();
  private readonly index = new TopicIndex();
  private readonly abort = new AbortController();
  private following: Promise<void> = Promise.resolve();
  /** Told of every subscription in the log as it is read (the owners' index for search). */
  onRequested: ((data: SubscriptionRequestedData) => void) | undefined;
  private lastPosition = 0;
  private failed = false;

  constructor(private readonly options: DeliveryOptions) {}

  start(): void {
    this.following = this.follow().catch((error: unknown) => {
      if (this.abort.signal.aborted) return;
      this.failed = true;
      this.options.logger.error({ err: error }, 'subscription delivery stopped following the log');
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.following;
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
  }

  /** For /health: whether the log is being followed, where, and how many subscriptions are live or in error. */
  status() {
    const workers = [...this.workers.values()];
    return { following: !this.failed && !this.abort.signal.aborted, position: this.lastPosition, active: workers.length, inError: workers.filter((w) => w.inError).length };
  }

  /** Whether everything up to `position` has been read and every notification it made has been sent or skipped (tests, operators). */
  caughtUp(position: number): boolean {
    return this.lastPosition >= position && [...this.workers.values()].every((w) => w.idle);
  }

  private async follow() {
    for await (const event of this.options.store.subscribeToAll({ signal: this.abort.signal })) {
      if (this.abort.signal.aborted) return;
      this.index.observe(event);
      this.lastPosition = event.position;
      const subscription = streamOfKind(event.stream, 'subscription');
      if (subscription) {
        await this.onSubscriptionEvent(event, subscription.subscriptionId);
        continue;
      }
      for (const worker of this.workers.values()) {
        const r = worker.requested;
        const triggered = this.index.triggered(r.topic, event, r.minimumScore);
        if (triggered && (r.patientId === undefined || triggered.patientId === r.patientId) && (r.focusType === undefined || triggered.focus.type === r.focusType)) worker.push({ event, triggered });
      }
    }
  }

  private async onSubscriptionEvent(event: RecordedEvent, id: string) {
    if (event.type === 'SubscriptionRequested') this.onRequested?.(event.data as SubscriptionRequestedData);
    if (event.type === 'SubscriptionRequested' && !this.workers.has(id)) {
      // Where it stands now (its last notification), from its own stream: the log before that is not sent again.
      const state = foldSubscriptionStream(await this.options.store.readStream(event.stream));
      if (!state.exists || state.status === 'off') return;
      const worker = new SubscriptionWorker(state, this.options);
      this.workers.set(id, worker);
      worker.start();
    } else if (event.type === 'SubscriptionDeleted') {
      const worker = this.workers.get(id);
      this.workers.delete(id);
      await worker?.stop();
    }
  }
}
