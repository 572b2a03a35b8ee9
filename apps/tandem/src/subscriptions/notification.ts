import type { Bundle, BundleEntry, FhirResource, Parameters, ParametersParameter } from 'fhir/r4';
import { BACKPORT } from './subscription';
import { TANDEM_FHIR_BASE, type Triggered } from './topics';

/**
 * The notification a rest-hook receives (R5 Backport IG 1.1.0, backport-subscription-notification-r4):
 * a `history` Bundle whose first entry is the subscription status (a Parameters resource,
 * backport-subscription-status-r4) carrying the topic, the status and eventsSinceSubscriptionStart,
 * and the event's number, time and focus; then the focus itself, by id only or whole. Pure.
 */
export const STATUS_PROFILE = `${BACKPORT}/backport-subscription-status-r4`;
export const NOTIFICATION_PROFILE = `${BACKPORT}/backport-subscription-notification-r4`;

/** The five parameters every status resource starts with; `type` says which kind of status it is. */
const statusHeader = (s: { subscriptionId: string; topic: string; status: string; eventsSinceStart: number }, type: string): ParametersParameter[] => [
  { name: 'subscription', valueReference: { reference: `${TANDEM_FHIR_BASE}/Subscription/${s.subscriptionId}` } },
  { name: 'topic', valueCanonical: s.topic },
  { name: 'status', valueCode: s.status },
  { name: 'type', valueCode: type },
  { name: 'events-since-subscription-start', valueString: String(s.eventsSinceStart) },
];

/** A notification Bundle's first entry: the status resource, as read from `operation`. */
const statusEntry = (bundleId: string, subscriptionId: string, parameter: ParametersParameter[], operation: '$status' | '$events'): BundleEntry => ({
  fullUrl: `urn:uuid:${bundleId}`,
  resource: { resourceType: 'Parameters', id: bundleId, meta: { profile: [STATUS_PROFILE] }, parameter },
  request: { method: 'GET', url: `Subscription/${subscriptionId}/${operation}` },
  response: { status: '200' },
});

/** A `history` Bundle of the backport notification profile. */
const notification = (id: string, timestamp: string, entry: BundleEntry[]): Bundle => ({ resourceType: 'Bundle', id, meta: { profile: [NOTIFICATION_PROFILE] }, type: 'history', timestamp, entry });

export interface NotificationInput {
  readonly notificationId: string;
  readonly subscriptionId: string;
  readonly topic: string;
  readonly status: 'active' | 'error' | 'off';
  readonly eventNumber: number;
  readonly timestamp: string;
  readonly triggered: Triggered;
  readonly payload: 'id-only' | 'full-resource';
  /** The focus as the FHIR API serves it (full-resource), when the read model has it. */
  readonly resource?: FhirResource;
}

export const notificationBundle = (n: NotificationInput): Bundle => {
  const focusUrl = `${TANDEM_FHIR_BASE}/${n.triggered.focus.type}/${n.triggered.focus.id}`;
  const parameter: ParametersParameter[] = [
    ...statusHeader({ ...n, eventsSinceStart: n.eventNumber }, 'event-notification'),
    {
      name: 'notification-event',
      part: [
        { name: 'event-number', valueString: String(n.eventNumber) },
        { name: 'timestamp', valueInstant: n.timestamp },
        { name: 'focus', valueReference: { reference: focusUrl } },
        { name: 'additional-context', valueReference: { reference: `${TANDEM_FHIR_BASE}/Patient/${n.triggered.patientId}` } },
      ],
    },
  ];
  const focus: BundleEntry = {
    fullUrl: focusUrl,
    ...(n.payload === 'full-resource' && n.resource ? { resource: n.resource } : {}),
    request: { method: n.triggered.created ? 'POST' : 'PUT', url: `${n.triggered.focus.type}${n.triggered.created ? '' : `/${n.triggered.focus.id}`}` },
    response: { status: n.triggered.created ? '201' : '200' },
  };
  return notification(n.notificationId, n.timestamp, [statusEntry(n.notificationId, n.subscriptionId, parameter, '$status'), focus]);
};

/** `$status`: the same status resource, of type query-status, without an event. */
export const statusParameters = (s: { subscriptionId: string; topic: string; status: string; eventsSinceStart: number; error?: string }): Parameters => ({
  resourceType: 'Parameters',
  meta: { profile: [STATUS_PROFILE] },
  parameter: [
    ...statusHeader(s, 'query-status'),
    ...(s.error ? [{ name: 'error', valueCodeableConcept: { text: s.error } }] : []),
  ],
});

/** One notification again, as `$events` lists it: its number, when, the focus and the person. */
export interface PastEvent {
  readonly eventNumber: number;
  readonly timestamp: string;
  readonly focus: string;
  readonly patientId?: string;
}

/**
 * `$events`: the notifications numbered in a range, again, as one `history` Bundle (the status of
 * type `query-event` first, one notification-event each, then each focus by id).
 */
export const eventsBundle = (s: { bundleId: string; subscriptionId: string; topic: string; status: string; eventsSinceStart: number; timestamp: string }, events: readonly PastEvent[]): Bundle => {
  const parameter: ParametersParameter[] = [
      ...statusHeader(s, 'query-event'),
      ...events.map(
        (e): ParametersParameter => ({
          name: 'notification-event',
          part: [
            { name: 'event-number', valueString: String(e.eventNumber) },
            { name: 'timestamp', valueInstant: e.timestamp },
            { name: 'focus', valueReference: { reference: `${TANDEM_FHIR_BASE}/${e.focus}` } },
            ...(e.patientId ? [{ name: 'additional-context', valueReference: { reference: `${TANDEM_FHIR_BASE}/Patient/${e.patientId}` } }] : []),
          ],
        }),
      ),
  ];
  const foci = [...new Set(events.map((e) => e.focus))];
  return notification(s.bundleId, s.timestamp, [
    statusEntry(s.bundleId, s.subscriptionId, parameter, '$events'),
    ...foci.map((focus): BundleEntry => ({ fullUrl: `${TANDEM_FHIR_BASE}/${focus}`, request: { method: 'GET', url: focus }, response: { status: '200' } })),
  ]);
};

type StatusOnly = { bundleId: string; subscriptionId: string; topic: string; status: 'requested' | 'active' | 'error' | 'off'; eventsSinceStart: number; timestamp: string };

/** A heartbeat (backport): the status alone, of type heartbeat, when nothing was sent for the period. */
export const heartbeatBundle = (s: StatusOnly): Bundle => notification(s.bundleId, s.timestamp, [statusEntry(s.bundleId, s.subscriptionId, statusHeader(s, 'heartbeat'), '$status')]);

/**
 * A handshake (backport): the status alone, of type handshake: POSTed to a new rest-hook endpoint (status `requested`; a 2xx makes
 * the subscription active), or sent when a socket binds to the subscription (its count tells the client what it may have missed).
 */
export const handshakeBundle = (s: StatusOnly): Bundle => notification(s.bundleId, s.timestamp, [statusEntry(s.bundleId, s.subscriptionId, statusHeader(s, 'handshake'), '$status')]);
