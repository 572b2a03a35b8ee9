import { parseStreamName } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';

/**
 * What the live stream (GET /api/events/stream) tells an open app, derived from one event in the
 * log, pure. A message says only that something about a person changed and where in the log: the
 * app then reads the item through the ordinary API (which decides and records that read as well),
 * with X-Tandem-Min-Position so the read includes what the message told of. Escalations and care
 * prompts are the only kinds: what is addressed to a clinician or a care worker.
 */
export interface LiveMessage {
  readonly kind: 'escalation' | 'prompt';
  /** The event type (EscalationRaised, EscalationSentToTier, ..., CarePromptIssued, ...). */
  readonly type: string;
  readonly id: string;
  readonly patientId: string;
  /** The log position of the event: the app's min-position for the read that follows. */
  readonly position: number;
  /** Who it was sent to at this tier, or who is prompted: lets the app say "for you" at once. */
  readonly addressedTo?: readonly string[];
}

export const ESCALATION_EVENTS: ReadonlySet<string> = new Set(['EscalationRaised', 'EscalationSentToTier', 'EscalationAcknowledged', 'EscalationReEscalated', 'EscalationResolved']);
export const PROMPT_EVENTS: ReadonlySet<string> = new Set(['CarePromptIssued', 'CarePromptAcknowledged', 'RecheckRecorded', 'RecheckMissed']);

/** The item an event belongs to, when it is one the stream tells of (its later events name no person: the first does). */
export const itemOf = (event: Pick<RecordedEvent, 'stream' | 'type'>): { kind: LiveMessage['kind']; id: string } | undefined => {
  const name = parseStreamName(event.stream);
  if (name?.kind === 'escalation' && ESCALATION_EVENTS.has(event.type)) return { kind: 'escalation', id: name.escalationId };
  if (name?.kind === 'prompt' && PROMPT_EVENTS.has(event.type)) return { kind: 'prompt', id: name.promptId };
  return undefined;
};

/** The person an item's first event names (EscalationRaised, CarePromptIssued), if this is it. */
export const patientNamedBy = (event: Pick<RecordedEvent, 'type' | 'data'>): string | undefined => {
  if (event.type !== 'EscalationRaised' && event.type !== 'CarePromptIssued') return undefined;
  const patientId = (event.data as { patientId?: unknown }).patientId;
  return typeof patientId === 'string' ? patientId : undefined;
};

const addressedTo = (event: Pick<RecordedEvent, 'type' | 'data'>): string[] | undefined => {
  const data = event.data as { recipients?: { practitionerId?: unknown }[]; informedRecipients?: { practitionerId?: unknown }[]; careWorkerId?: unknown };
  if (event.type === 'EscalationSentToTier') {
    const ids = [...(data.recipients ?? []), ...(data.informedRecipients ?? [])].map((r) => r.practitionerId).filter((id): id is string => typeof id === 'string');
    return [...new Set(ids)];
  }
  if (event.type === 'CarePromptIssued' && typeof data.careWorkerId === 'string') return [data.careWorkerId];
  return undefined;
};

export const liveMessageOf = (event: Pick<RecordedEvent, 'stream' | 'type' | 'data' | 'position'>, patientId: string | undefined): LiveMessage | undefined => {
  const item = itemOf(event);
  if (!item || !patientId) return undefined;
  const to = addressedTo(event);
  return { kind: item.kind, type: event.type, id: item.id, patientId, position: event.position, ...(to ? { addressedTo: to } : {}) };
};

/** One server-sent event (the WHATWG EventSource format): its name, id (the position) and JSON data on one line. */
export const sseFrame = (message: LiveMessage): string => `event: ${message.kind}\nid: ${message.position}\ndata: ${JSON.stringify(message)}\n\n`;
