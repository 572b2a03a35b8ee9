import { SubscriptionPayloadSchema, type SubscriptionEvent, type SubscriptionRequestedData } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import type { Subscription } from 'fhir/r4';
import { DEFAULT_NEWS2_THRESHOLD, NEWS2_TOPIC, TANDEM_FHIR_BASE, topicFor, TOPICS, type Topic } from './topics';

/**
 * A topic-based R4 Subscription (R5 Backport IG 1.1.0, profile backport-subscription): the FHIR
 * resource in, the SubscriptionRequested data out (pure, every fault named by its FHIRPath), and
 * the stream folded back to the resource, its status and its count.
 */
export const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
export const BACKPORT_SUBSCRIPTION_PROFILE = `${BACKPORT}/backport-subscription`;
export const FILTER_CRITERIA_EXTENSION = `${BACKPORT}/backport-filter-criteria`;
export const PAYLOAD_CONTENT_EXTENSION = `${BACKPORT}/backport-payload-content`;
export const HEARTBEAT_PERIOD_EXTENSION = `${BACKPORT}/backport-heartbeat-period`;

export interface Fault {
  readonly expression: string;
  readonly message: string;
}

export type Requested = Omit<SubscriptionRequestedData, 'subscriptionId' | 'owner'>;

const PATIENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

type Extended = { extension?: { url?: string; valueString?: string; valueCode?: string }[] };
const extensionValue = (element: unknown, url: string): string | undefined => {
  const found = (element as Extended | undefined)?.extension?.find((e) => e.url === url);
  return found?.valueString ?? found?.valueCode;
};

interface Filters {
  patientId?: string;
  minimumScore?: number;
  focusType?: string;
}

/**
 * The filter criteria of one topic: `<Type>?patient=Patient/<id>[&news2=ge<n>]` (a bare
 * `patient=<id>` is read the same). On a topic about several types, naming one narrows it to that type.
 */
const parseFilters = (criteria: string, topic: Topic): Filters | Fault => {
  const expression = 'Subscription.criteria.extension(backport-filter-criteria)';
  const [first] = topic.resourceTypes;
  const [type, query] = criteria.includes('?') ? criteria.split('?', 2) : [undefined, criteria];
  if (type !== undefined && !(topic.resourceTypes as readonly string[]).includes(type)) {
    return { expression, message: `filters of this topic are on ${topic.resourceTypes.join(' or ')} (e.g. ${first}?patient=Patient/<id>), not ${type}` };
  }
  const params = new URLSearchParams(query);
  const result: Filters = type !== undefined && topic.resourceTypes.length > 1 ? { focusType: type } : {};
  for (const [name, value] of params) {
    if (name === 'patient') {
      const id = value.startsWith('Patient/') ? value.slice('Patient/'.length) : value;
      if (!PATIENT_ID.test(id)) return { expression, message: 'patient must be Patient/<id>, the id of a person Tandem records' };
      result.patientId = id;
    } else if (name === 'news2' && topic.filters.includes('news2')) {
      const match = /^ge(\d{1,2})$/.exec(value);
      if (!match || Number(match[1]) > 20) return { expression, message: 'news2 must be ge<score>, a NEWS2 from 0 to 20 (e.g. news2=ge5)' };
      result.minimumScore = Number(match[1]);
    } else {
      return { expression, message: `${name} is not a filter of this topic (it takes ${['patient', ...topic.filters].join(' and ')})` };
    }
  }
  return result;
};

/** The Subscription a client sent, as what a SubscriptionRequested records; or what is wrong with it. */
export const parseSubscription = (body: unknown): Requested | Fault[] => {
  const s = (typeof body === 'object' && body !== null ? body : {}) as Partial<Subscription> & Record<string, unknown>;
  const faults: Fault[] = [];
  if (s.resourceType !== 'Subscription') faults.push({ expression: 'Subscription.resourceType', message: 'must be Subscription' });
  const topic = typeof s.criteria === 'string' ? topicFor(s.criteria) : undefined;
  if (!topic) faults.push({ expression: 'Subscription.criteria', message: `must be the canonical URL of a topic Tandem publishes: ${TOPICS.map((t) => t.url).join(', ')}` });
  const channel = (typeof s.channel === 'object' && s.channel !== null ? s.channel : {}) as Partial<Subscription['channel']> & Record<string, unknown>;
  const channelType = channel.type === 'rest-hook' || channel.type === 'websocket' ? channel.type : undefined;
  if (!channelType) faults.push({ expression: 'Subscription.channel.type', message: 'must be rest-hook or websocket (the channels Tandem delivers to)' });
  let endpoint: URL | undefined;
  if (channelType === 'websocket') {
    // The socket is the client's to open: it asks $get-ws-binding-token for where and with what.
    if (channel.endpoint !== undefined) faults.push({ expression: 'Subscription.channel.endpoint', message: 'a websocket subscription has no endpoint: the client connects to the websocket-url that $get-ws-binding-token gives it' });
  } else {
    try {
      endpoint = new URL(String(channel.endpoint));
    } catch {
      endpoint = undefined;
    }
    if (!endpoint || !(endpoint.protocol === 'https:' || (endpoint.protocol === 'http:' && LOOPBACK.has(endpoint.hostname))) || endpoint.username || endpoint.password || String(channel.endpoint).length > 2000) {
      faults.push({ expression: 'Subscription.channel.endpoint', message: 'must be an https URL (http only to this machine, for development), without credentials in it' });
    }
  }
  if (channel.payload !== undefined && channel.payload !== 'application/fhir+json') faults.push({ expression: 'Subscription.channel.payload', message: 'must be application/fhir+json' });
  const content = extensionValue(channel._payload, PAYLOAD_CONTENT_EXTENSION) ?? 'id-only';
  const payload = SubscriptionPayloadSchema.safeParse(content);
  if (!payload.success) faults.push({ expression: 'Subscription.channel.payload.extension(backport-payload-content)', message: 'must be id-only or full-resource' });
  const heartbeat = (channel as { extension?: { url?: string; valueUnsignedInt?: unknown }[] }).extension?.find((e) => e.url === HEARTBEAT_PERIOD_EXTENSION)?.valueUnsignedInt;
  if (heartbeat !== undefined && !(Number.isInteger(heartbeat) && (heartbeat as number) >= 1 && (heartbeat as number) <= 86_400)) {
    faults.push({ expression: 'Subscription.channel.extension(backport-heartbeat-period)', message: 'must be a whole number of seconds from 1 to 86400' });
  }
  if (s.end !== undefined && (typeof s.end !== 'string' || Number.isNaN(Date.parse(s.end)) || !/[Zz]|[+-]\d\d:\d\d$/.test(s.end))) {
    faults.push({ expression: 'Subscription.end', message: 'must be an instant with a time zone' });
  }
  if (s.reason !== undefined && (typeof s.reason !== 'string' || s.reason.length > 500)) faults.push({ expression: 'Subscription.reason', message: 'must be text of at most 500 characters' });
  let filters: Filters = {};
  const criteria = extensionValue(s._criteria, FILTER_CRITERIA_EXTENSION);
  if (topic && criteria !== undefined) {
    const parsed = parseFilters(criteria, topic);
    if ('expression' in parsed) faults.push(parsed);
    else filters = parsed;
  }
  if (faults.length > 0 || !topic || !channelType || (channelType === 'rest-hook' && !endpoint) || !payload.success) return faults;
  return {
    topic: topic.url,
    ...filters,
    ...(topic.url === NEWS2_TOPIC && filters.minimumScore === undefined ? { minimumScore: DEFAULT_NEWS2_THRESHOLD } : {}),
    // Left out for rest-hook, as every subscription recorded before the websocket channel was.
    ...(channelType === 'websocket' ? { channel: channelType } : {}),
    ...(endpoint ? { endpoint: endpoint.toString() } : {}),
    // A rest-hook endpoint shakes hands before it is active (the websocket channel does so per socket bound).
    ...(channelType === 'rest-hook' ? { handshake: true as const } : {}),
    payload: payload.data,
    ...(heartbeat !== undefined ? { heartbeatSeconds: heartbeat as number } : {}),
    ...(s.reason ? { reason: s.reason } : {}),
    ...(s.end ? { end: new Date(s.end).toISOString() } : {}),
  };
};

/** A subscription as its stream tells it. */
export type SubscriptionState =
  | { readonly exists: false }
  | {
      readonly exists: true;
      readonly requested: SubscriptionRequestedData;
      /** `requested` until a rest-hook endpoint has accepted the handshake; `error` when it (or a notification) keeps failing. */
      readonly status: 'requested' | 'active' | 'error' | 'off';
      /** Whether the endpoint has accepted the handshake (always, for one recorded before handshakes and for websocket). */
      readonly handshaken: boolean;
      /** eventsSinceSubscriptionStart: how many notifications the endpoint has accepted. */
      readonly eventsSinceStart: number;
      /** The global position notified last (or of the request, before any): delivery resumes after it. */
      readonly checkpoint: number;
      /** The stream's revision, for the next append. */
      readonly revision: number;
      readonly error?: string;
    };

export const initialSubscriptionState: SubscriptionState = { exists: false };

export const evolveSubscription = (state: SubscriptionState, event: SubscriptionEvent & { position: number; revision: number }): SubscriptionState => {
  if (event.type === 'SubscriptionRequested') {
    if (state.exists) return state;
    const waits = event.data.handshake === true;
    return { exists: true, requested: event.data, status: waits ? 'requested' : 'active', handshaken: !waits, eventsSinceStart: 0, checkpoint: event.position, revision: event.revision };
  }
  if (!state.exists) return state;
  const revision = event.revision;
  switch (event.type) {
    case 'SubscriptionNotified':
      return { ...state, revision, eventsSinceStart: event.data.eventNumber, checkpoint: event.data.position };
    case 'SubscriptionErrored':
      return { ...state, revision, status: state.status === 'off' ? 'off' : 'error', error: event.data.problem };
    case 'SubscriptionResumed': {
      const { error: _error, ...rest } = state;
      return { ...rest, revision, status: state.status === 'off' ? 'off' : 'active' };
    }
    case 'SubscriptionActivated': {
      const { error: _error, ...rest } = state;
      return { ...rest, revision, handshaken: true, status: state.status === 'off' ? 'off' : 'active' };
    }
    case 'SubscriptionDeleted':
      return { ...state, revision, status: 'off' };
  }
};

/** A `subscription-<id>` stream as stored, folded. */
export const foldSubscriptionStream = (events: readonly RecordedEvent[]): SubscriptionState =>
  events.reduce<SubscriptionState>((state, e) => evolveSubscription(state, { ...(e as unknown as SubscriptionEvent), position: e.position, revision: e.revision }), initialSubscriptionState);

/** The Subscription resource as Tandem holds it (status, the backport extensions, the owner's filter). */
export const subscriptionResource = (state: Extract<SubscriptionState, { exists: true }>): Subscription => {
  const r = state.requested;
  const topic = topicFor(r.topic);
  const filters = [r.patientId ? `patient=Patient/${r.patientId}` : '', r.topic === NEWS2_TOPIC && r.minimumScore !== undefined ? `news2=ge${r.minimumScore}` : ''].filter(Boolean).join('&');
  // A type prefix narrows a topic about several types: written only when it does (or the topic has one type).
  const prefix = r.focusType ?? (topic && topic.resourceTypes.length === 1 ? topic.resourceTypes[0] : undefined);
  const criteria = filters || r.focusType ? `${prefix ? `${prefix}?` : ''}${filters}` : '';
  return {
    resourceType: 'Subscription',
    id: r.subscriptionId,
    meta: { versionId: String(state.revision + 1), profile: [BACKPORT_SUBSCRIPTION_PROFILE] },
    status: state.status,
    reason: r.reason ?? topic?.title ?? 'Notifications from Tandem',
    criteria: r.topic,
    ...(criteria ? { _criteria: { extension: [{ url: FILTER_CRITERIA_EXTENSION, valueString: criteria }] } } : {}),
    ...(r.end ? { end: r.end } : {}),
    ...(state.error ? { error: state.error } : {}),
    channel: {
      ...(r.heartbeatSeconds !== undefined ? { extension: [{ url: HEARTBEAT_PERIOD_EXTENSION, valueUnsignedInt: r.heartbeatSeconds }] } : {}),
      type: r.channel ?? 'rest-hook',
      ...(r.endpoint ? { endpoint: r.endpoint } : {}),
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: PAYLOAD_CONTENT_EXTENSION, valueCode: r.payload }] },
    },
  };
};

export const subscriptionUrl = (id: string) => `${TANDEM_FHIR_BASE}/Subscription/${id}`;
