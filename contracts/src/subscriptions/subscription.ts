import { z } from 'zod';
import { defineEvent } from '../events';
import { DateTimeSchema, IdSchema, PatientIdSchema, type EventOf } from '../care/common';
import { ActorSchema } from '../metadata';
import { streamName } from '../streams/names';

// ---------------------------------------------------------------------------------------------
// One FHIR Subscription (stream subscription-<id>), topic-based as the R5 Backport IG 1.1.0 has it
// in R4: who asked (their actor and the scopes their token carried, so every notification is
// decided by the owner's access at the event's position), the topic and its filter, the rest-hook
// channel, and every notification sent, numbered. The stream is the truth: its position is the
// subscription's checkpoint in the global log, and its numbering survives a restart.
// ---------------------------------------------------------------------------------------------

export const subscriptionStreamFor = (subscriptionId: string): string => streamName.subscription(subscriptionId);

export const SubscriptionPayloadSchema = z.enum(['id-only', 'full-resource']);
export type SubscriptionPayload = z.infer<typeof SubscriptionPayloadSchema>;
/** How notifications leave: POSTed to the endpoint (rest-hook), or sent on the sockets bound to it (websocket, Backport IG 1.1.0). */
export const SubscriptionChannelSchema = z.enum(['rest-hook', 'websocket']);
export type SubscriptionChannel = z.infer<typeof SubscriptionChannelSchema>;

export const SubscriptionRequested = defineEvent(
  'SubscriptionRequested',
  z.object({
    subscriptionId: IdSchema,
    /** The owner: the actor of the token that created it, with that token's scopes and launch patient. */
    owner: z.object({ actor: ActorSchema, scope: z.string().max(4000), patient: IdSchema.optional() }),
    /** The topic's canonical URL (Subscription.criteria). */
    topic: z.url().max(500),
    /** Only about this person (the topic's `patient` filter); all the owner may see when left out. */
    patientId: PatientIdSchema.optional(),
    /** A NEWS2 topic's threshold (its `score` filter, `ge`). */
    minimumScore: z.number().int().min(0).max(20).optional(),
    /** The channel: rest-hook when left out (every subscription recorded before the websocket channel). */
    channel: SubscriptionChannelSchema.optional(),
    /** The rest-hook endpoint (https, or http to a loopback address in development); a websocket subscription has none. */
    endpoint: z.url().max(2000).optional(),
    /** Only notifications about this FHIR type, where the topic has several (its filter named the type, e.g. MedicationAdministration?patient=...). */
    focusType: z.string().regex(/^[A-Z][A-Za-z]{1,63}$/).optional(),
    payload: SubscriptionPayloadSchema,
    /** Subscription.reason, as the owner wrote it. */
    reason: z.string().max(500).optional(),
    /** The backport's heartbeat period: a heartbeat is sent after this many seconds without a notification. */
    heartbeatSeconds: z.number().int().min(1).max(86_400).optional(),
    /** Subscription.end: no notifications after it. */
    end: DateTimeSchema.optional(),
    /**
     * A rest-hook subscription waits for its endpoint to accept a handshake before it is `active`
     * (Backport IG 1.1.0); left out by every subscription recorded before the handshake (active at once).
     */
    handshake: z.literal(true).optional(),
  }).refine((s) => (s.channel ?? 'rest-hook') !== 'rest-hook' || s.endpoint !== undefined, { message: 'a rest-hook subscription needs an endpoint', path: ['endpoint'] }),
);
export type SubscriptionRequestedData = z.infer<typeof SubscriptionRequested.schema>;

/** One notification the endpoint accepted (2xx): the subscription's checkpoint and its count. */
export const SubscriptionNotified = defineEvent(
  'SubscriptionNotified',
  z.object({
    /** eventsSinceSubscriptionStart after this notification (1 for the first). */
    eventNumber: z.number().int().min(1),
    /** The global position of the event it told of: the next notification is about a later one. */
    position: z.number().int().min(0),
    /** The resource it was about (e.g. Communication/<escalation id>). */
    focus: z.string().min(1).max(200),
    patientId: PatientIdSchema.optional(),
  }),
);
export type SubscriptionNotifiedData = z.infer<typeof SubscriptionNotified.schema>;

/** The endpoint kept failing: the subscription is in `error` and delivery keeps trying, slowly. */
export const SubscriptionErrored = defineEvent(
  'SubscriptionErrored',
  z.object({ attempts: z.number().int().min(1), problem: z.string().max(500), at: DateTimeSchema }),
);
export type SubscriptionErroredData = z.infer<typeof SubscriptionErrored.schema>;

/** The endpoint answered again: back to `active`. */
export const SubscriptionResumed = defineEvent('SubscriptionResumed', z.object({ at: DateTimeSchema }));

/** The endpoint accepted the handshake (2xx): a subscription that was `requested` (or `error` for want of it) is `active`. */
export const SubscriptionActivated = defineEvent('SubscriptionActivated', z.object({ at: DateTimeSchema }));

/** Deleted by its owner: nothing more is sent. */
export const SubscriptionDeleted = defineEvent('SubscriptionDeleted', z.object({ at: DateTimeSchema }));

export const subscriptionEventDefinitions = [SubscriptionRequested, SubscriptionNotified, SubscriptionErrored, SubscriptionResumed, SubscriptionActivated, SubscriptionDeleted] as const;
export type SubscriptionEvent = EventOf<(typeof subscriptionEventDefinitions)[number]>;
