import { parseStreamName, streamName, uuidV5 as uuidV5In } from '@tandem/contracts';

/**
 * The delegation service's streams (DESIGN.md: Streams). Every name is built and parsed by
 * `streamName` / `parseStreamName` in @tandem/contracts; these are its names under the words this
 * service's code already uses.
 */
export const competencyStreamId = streamName.competency;
export const delegationStreamId = streamName.delegation;
export const escalationStreamId = streamName.escalation;
export const promptStreamId = streamName.prompt;
/** An organisation's on-call rota (who the on-call tier of an escalation reaches). */
export const onCallRotaStreamId = streamName.onCallRota;

/** The care record's streams this service reads. */
export const careStreamOf = streamName.care;
export const patientStreamOf = streamName.patient;
export const practitionerStreamOf = streamName.practitioner;
/** A visit (the record's): its deadlines are this service's timers. */
export const visitStreamOf = streamName.visit;
/** A person's medication orders (the record's): each scheduled dose's deadline is this service's timer. */
export const medicinesStreamOf = streamName.medicines;

/** The streams this service reacts to by kind; every other stream is 'other'. */
export type StreamKind = 'competency' | 'delegation' | 'escalation' | 'prompt' | 'care' | 'visit' | 'medicines' | 'other';
export const streamKind = (stream: string): StreamKind => {
  const kind = parseStreamName(stream)?.kind;
  return kind === 'competency' || kind === 'delegation' || kind === 'escalation' || kind === 'prompt' || kind === 'care' || kind === 'visit' || kind === 'medicines' ? kind : 'other';
};

/** The namespace of every name-based id this service makes (ids already stored depend on it). */
const DELEGATION_ID_NAMESPACE = '3f0e6a1c-2b5d-4e8f-9a7b-6c5d4e3f2a1b';

/** A name-based id (UUID v5 in this service's namespace): the same name always gives the same id. */
export const nameBasedId = (name: string): string => uuidV5In(DELEGATION_ID_NAMESPACE, name);

/**
 * What a rule raises for a care entry is named from the entry's event id and the rule: replaying
 * the log (or a reaction retried after a crash) raises nothing twice.
 */
export const reactionEscalationId = (triggeringEventId: string, ruleId: string): string => nameBasedId(`escalation|${triggeringEventId}|${ruleId}`);
/** The prompt to one care worker about one scheduled dose, and the dose's one escalation: named from the order and the dose's time. */
export const dosePromptId = (orderId: string, scheduledAt: string, careWorkerId: string): string => nameBasedId(`dose-prompt|${orderId}|${scheduledAt}|${careWorkerId}`);
export const doseEscalationId = (orderId: string, scheduledAt: string): string => nameBasedId(`dose-escalation|${orderId}|${scheduledAt}`);
export const reactionPromptId = (triggeringEventId: string, ruleId: string): string => nameBasedId(`prompt|${triggeringEventId}|${ruleId}`);

/** @deprecated The name `nameBasedId` says what it is (contracts' `uuidV5` takes the namespace); kept while callers move. */
export const uuidV5 = nameBasedId;

export { parseStreamName, streamOfKind } from '@tandem/contracts';
