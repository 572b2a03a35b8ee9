import { ESCALATION_EVENT_TYPES, parseStreamName, PROMPT_EVENT_TYPES, type LiveMessage } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';

/**
 * What the live stream tells an open app (`LiveMessage`, contracts), derived from one event in the
 * log, pure.
 */
export type { LiveMessage };


/** The item an event belongs to, when it is one the stream tells of (its later events name no person: the first does). */
export const itemOf = (event: Pick<RecordedEvent, 'stream' | 'type'>): { kind: LiveMessage['kind']; id: string } | undefined => {
  const name = parseStreamName(event.stream);
  if (name?.kind === 'escalation' && ESCALATION_EVENT_TYPES.has(event.type)) return { kind: 'escalation', id: name.escalationId };
  if (name?.kind === 'prompt' && PROMPT_EVENT_TYPES.has(event.type)) return { kind: 'prompt', id: name.promptId };
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
