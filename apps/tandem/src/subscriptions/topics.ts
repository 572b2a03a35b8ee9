import { CORRECTABLE_ENTRY_TYPES, delegationLifecycleEventDefinitions, ESCALATION_EVENT_TYPES, streamOfKind, type CorrectableEntryType } from '@tandem/contracts';
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
export const NEW_ENTRY_TOPIC = `${TANDEM_FHIR_BASE}/SubscriptionTopic/new-entry`;
export const DELEGATION_TOPIC = `${TANDEM_FHIR_BASE}/SubscriptionTopic/delegation`;
export const DOSE_MISSED_TOPIC = `${TANDEM_FHIR_BASE}/SubscriptionTopic/medicine-dose-missed`;

/** The dose outcomes in which the person did not have the medicine (MedicationAdministration.status not-done). */
const NOT_TAKEN_OUTCOMES: ReadonlySet<string> = new Set(['missed', 'refused', 'not-given']);
/** The rule under which the delegation service escalates a scheduled dose left with no outcome. */
const DOSE_OVERDUE_RULE_ID = 'medicine.dose-overdue';

/** The FHIR types a notification can be about. */
export type FocusType = 'Communication' | 'Observation' | 'MedicationAdministration' | 'Task';

/**
 * The resource an entry is published as (its own resource, id = the entry's id), per entry type.
 * A Record over every correctable entry type, so a new kind of entry does not type-check until it
 * is given one here: the "any new entry" topic can never silently leave a kind out.
 */
export const ENTRY_FOCUS_TYPE = {
  VitalSignsRecorded: 'Observation',
  BloodGlucoseRecorded: 'Observation',
  SoftSignsRecorded: 'Observation',
  UrinarySymptomsScreened: 'Observation',
  FluidIntakeRecorded: 'Observation',
  CellulitisChecked: 'Observation',
  NoteWritten: 'Observation',
  InsulinAdministered: 'MedicationAdministration',
  InsulinWithheld: 'MedicationAdministration',
  MedicineDoseRecorded: 'MedicationAdministration',
} as const satisfies Record<CorrectableEntryType, FocusType>;
const ENTRY_TYPES: ReadonlySet<string> = new Set(CORRECTABLE_ENTRY_TYPES);
const DELEGATION_EVENT_TYPES: ReadonlySet<string> = new Set(delegationLifecycleEventDefinitions.map((d) => d.type));

/** What one event means to a topic: whose it is, the resource it is about, and whether that resource is new. */
export interface Triggered {
  readonly patientId: string;
  readonly focus: { readonly type: FocusType; readonly id: string };
  readonly created: boolean;
  readonly news2?: number;
}

export interface Topic {
  readonly url: string;
  readonly title: string;
  /**
   * The FHIR types its notifications are about (its filters are their search parameters); the
   * first is the one a filter without a type prefix is read as. A filter naming another of them
   * (e.g. `MedicationAdministration?patient=...` on the new-entry topic) narrows it to that type.
   */
  readonly resourceTypes: readonly [FocusType, ...FocusType[]];
  /** The filters it accepts beyond `patient`. */
  readonly filters: readonly string[];
  readonly description: string;
}

export const TOPICS: readonly Topic[] = [
  {
    url: ESCALATION_TOPIC,
    title: 'An escalation raised or changed',
    resourceTypes: ['Communication'],
    filters: [],
    description: 'An escalation is raised, sent to a tier, re-escalated, acknowledged or resolved: its Communication. Filter: patient.',
  },
  {
    url: NEWS2_TOPIC,
    title: 'A NEWS2 at or above a threshold',
    resourceTypes: ['Observation'],
    filters: ['news2'],
    description: 'A complete NEWS2 at or above the threshold (news2=ge<score>, 5 by default) is recorded: its NEWS2 Observation. Filters: patient, news2.',
  },
  {
    url: NEW_ENTRY_TOPIC,
    title: "Any new entry in a person's record",
    resourceTypes: ['Observation', 'MedicationAdministration'],
    filters: [],
    description:
      "Any new entry is recorded in a person's record (vital signs, blood glucose, soft signs, urinary screen, fluid intake, cellulitis check, care note: its Observation; an insulin dose given or withheld: its MedicationAdministration). Corrections of an entry are not new entries. Filter: patient; Observation?... or MedicationAdministration?... narrows to that kind.",
  },
  {
    url: DELEGATION_TOPIC,
    title: 'A delegation changed',
    resourceTypes: ['Task'],
    filters: [],
    description:
      'A delegation of a healthcare task is proposed, accepted, declined, agreed by the person, activated, due for review, reviewed, suspended, withdrawn or ended: its Task. Filter: patient.',
  },
  {
    url: DOSE_MISSED_TOPIC,
    title: 'A medicine dose missed',
    resourceTypes: ['MedicationAdministration', 'Communication'],
    filters: [],
    description:
      'A scheduled or PRN dose is recorded missed, refused or not given (its MedicationAdministration, status not-done), or a scheduled dose left with no outcome past its tolerance is escalated to the nursing team (the escalation\'s Communication). Filter: patient; MedicationAdministration?... or Communication?... narrows to that kind.',
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
  private readonly delegationPatients = new Map<string, string>();

  /** Learns what later events will need; call it for every event, before `triggered`. */
  observe(event: RecordedEvent): void {
    if (event.type === 'EscalationRaised') {
      const data = event.data as { escalationId: string; patientId: string };
      this.escalationPatients.set(data.escalationId, data.patientId);
    }
    if (event.type === 'DelegationProposed') {
      const delegationId = streamOfKind(event.stream, 'delegation')?.delegationId;
      if (delegationId) this.delegationPatients.set(delegationId, (event.data as { patientId: string }).patientId);
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
    if (topic === NEW_ENTRY_TOPIC && ENTRY_TYPES.has(event.type)) {
      // An entry is named by the event that first recorded it, and published under that id.
      const type = ENTRY_FOCUS_TYPE[event.type as CorrectableEntryType];
      return { patientId: (event.data as { patientId: string }).patientId, focus: { type, id: event.id }, created: true };
    }
    if (topic === DOSE_MISSED_TOPIC && event.type === 'MedicineDoseRecorded' && NOT_TAKEN_OUTCOMES.has((event.data as { outcome: string }).outcome)) {
      return { patientId: (event.data as { patientId: string }).patientId, focus: { type: 'MedicationAdministration', id: event.id }, created: true };
    }
    if (topic === DOSE_MISSED_TOPIC && event.type === 'EscalationRaised' && (event.data as { ruleId: string }).ruleId === DOSE_OVERDUE_RULE_ID) {
      const data = event.data as { escalationId: string; patientId: string };
      return { patientId: data.patientId, focus: { type: 'Communication', id: data.escalationId }, created: true };
    }
    if (topic === DELEGATION_TOPIC && DELEGATION_EVENT_TYPES.has(event.type)) {
      const delegationId = streamOfKind(event.stream, 'delegation')?.delegationId;
      const patientId = delegationId ? this.delegationPatients.get(delegationId) : undefined;
      return delegationId && patientId ? { patientId, focus: { type: 'Task', id: delegationId }, created: event.type === 'DelegationProposed' } : undefined;
    }
    return undefined;
  }
}

/** The backport's extension naming, on CapabilityStatement.rest.resource (Subscription), each topic served. */
export const TOPIC_CANONICAL_EXTENSION = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical';

/** What /fhir/metadata declares for Subscription where this service is mounted: the interactions and operations it serves, and its topics. */
export const subscriptionCapability = (): CapabilityStatementRestResource => ({
  extension: TOPICS.map((t) => ({ url: TOPIC_CANONICAL_EXTENSION, valueCanonical: t.url })),
  type: 'Subscription',
  supportedProfile: ['http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription'],
  documentation: `Topic-based subscriptions (R5 Backport IG 1.1.0): the rest-hook channel, and the websocket channel (a token from $get-ws-binding-token, then "bind-with-token <token>" on the socket at its websocket-url: a handshake, then each notification and heartbeat as a JSON text message); id-only or full-resource payloads, numbered by eventsSinceSubscriptionStart. Only the owner reads, lists, binds or deletes a subscription; each notification is decided as the owner's read at the event's position and is in the access trail. Topics: ${TOPICS.map((t) => `${t.url} (${t.title.toLowerCase()})`).join('; ')}.`,
  interaction: [{ code: 'create' }, { code: 'read' }, { code: 'search-type' }, { code: 'delete' }],
  operation: [
    { name: 'status', definition: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-status' },
    { name: 'events', definition: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-events' },
    { name: 'get-ws-binding-token', definition: 'http://hl7.org/fhir/uv/subscriptions-backport/OperationDefinition/backport-subscription-get-ws-binding-token' },
  ],
});
