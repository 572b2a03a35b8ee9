import { ESCALATION_EVENT_TYPES, streamOfKind } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import type { CapabilityStatementRestResource } from 'fhir/r4';

/**
 * The topics Tandem publishes (R5 Backport IG 1.1.0: a topic-based R4 Subscription names one in
 * `criteria`): each its canonical URL, the filters it can be narrowed by, and which events in the
 * log trigger it, pure, so delivery and its tests agree on what a topic means.
 */
export const TANDEM_FHIR_BASE = 'https://tandem.nhs.example/fhir';
export const ESCALATION_TOPIC = `${TANDEM_FHIR_BASE}/SubscriptionTopic/escalation`;
export const NEWS2_TOPIC = `${TANDEM_FHIR_BASE}/SubscriptionTopic/news2-at-or-above`;

/** What one event means to a topic: whose it is, the resource it is about, and whether that resource is new. */
export interface Triggered {
  readonly patientId: string;
  readonly focus: { readonly type: 'Communication' | 'Observation'; readonly id: string };
  readonly created: boolean;
  readonly news2?: number;
}

export interface Topic {
  readonly url: string;
  readonly title: string;
  /** The FHIR type its notifications are about (its filters are that type's search parameters). */
  readonly resourceType: 'Communication' | 'Observation';
  /** The filters it accepts beyond `patient`. */
  readonly filters: readonly string[];
  readonly description: string;
}

export const TOPICS: readonly Topic[] = [
  {
    url: ESCALATION_TOPIC,
    title: 'An escalation raised or changed',
    resourceType: 'Communication',
    filters: [],
    description: 'An escalation is raised, sent to a tier, re-escalated, acknowledged or resolved: its Communication. Filter: patient.',
  },
  {
    url: NEWS2_TOPIC,
    title: 'A NEWS2 at or above a threshold',
    resourceType: 'Observation',
    filters: ['news2'],
    description: 'A complete NEWS2 at or above the threshold (news2=ge<score>, 5 by default) is recorded: its NEWS2 Observation. Filters: patient, news2.',
  },
];

export const topicFor = (url: string): Topic | undefined => TOPICS.find((t) => t.url === url);

/** The NEWS2 threshold when a subscription names none: 5, a key threshold (urgent response) on the RCP chart. */
export const DEFAULT_NEWS2_THRESHOLD = 5;


/**
 * Follows the log for the facts a topic needs and another event does not carry (an escalation's
 * later events name no person: its first does). Fed every event in order, from the start.
 */
export class TopicIndex {
  private readonly escalationPatients = new Map<string, string>();

  /** What the event triggers for this topic, if anything; call `observe` for every event first. */
  observe(event: RecordedEvent): void {
    if (event.type === 'EscalationRaised') {
      const data = event.data as { escalationId: string; patientId: string };
      this.escalationPatients.set(data.escalationId, data.patientId);
    }
  }

  triggered(topic: string, event: RecordedEvent, minimumScore = DEFAULT_NEWS2_THRESHOLD): Triggered | undefined {
    const escalationId = topic === ESCALATION_TOPIC && ESCALATION_EVENT_TYPES.has(event.type) ? streamOfKind(event.stream, 'escalation')?.escalationId : undefined;
    if (escalationId !== undefined) {
      const patientId = this.escalationPatients.get(escalationId);
      return patientId ? { patientId, focus: { type: 'Communication', id: escalationId }, created: event.type === 'EscalationRaised' } : undefined;
    }
    if (topic === NEWS2_TOPIC && event.type === 'VitalSignsRecorded') {
      const data = event.data as { patientId: string; news2: { total: number | null; partialTotal: number } };
      // A missing parameter makes NEWS2 incomplete, not low: the known sub-scores are a floor (the
      // missing ones can only raise it), so an incomplete NEWS2 whose known part already reaches the
      // threshold is notified too, never held back for want of a total.
      const atLeast = data.news2.total ?? data.news2.partialTotal;
      if (atLeast < minimumScore) return undefined;
      return { patientId: data.patientId, focus: { type: 'Observation', id: `${event.id}-news2` }, created: true, news2: atLeast };
    }
    return undefined;
  }
}

/** What /fhir/metadata declares for Subscription where this service is mounted: the interactions it serves and its topics. */
export const subscriptionCapability = (): CapabilityStatementRestResource => ({
  type: 'Subscription',
  supportedProfile: ['http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription'],
  documentation: `Topic-based subscriptions (R5 Backport IG 1.1.0), rest-hook channel, id-only or full-resource payloads, numbered by eventsSinceSubscriptionStart. Only the owner reads, lists or deletes a subscription; each notification is decided as the owner's read at the event's position and is in the access trail. Topics: ${TOPICS.map((t) => `${t.url} (${t.title.toLowerCase()})`).join('; ')}.`,
  interaction: [{ code: 'create' }, { code: 'read' }, { code: 'search-type' }, { code: 'delete' }],
  operation: [
    { name: 'status', definition: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status' },
    { name: 'events', definition: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-events' },
  ],
});
