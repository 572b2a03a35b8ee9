import { createHash } from 'node:crypto';

/** The delegation service's streams (DESIGN.md: Streams). */
export const competencyStreamId = (careWorkerId: string, frameworkId: string): string => `competency-${careWorkerId}-${frameworkId}`;
export const delegationStreamId = (delegationId: string): string => `delegation-${delegationId}`;
export const escalationStreamId = (escalationId: string): string => `escalation-${escalationId}`;
export const promptStreamId = (promptId: string): string => `prompt-${promptId}`;
/** An organisation's on-call rota (who the on-call tier of an escalation reaches). */
export const onCallRotaStreamId = (organisationId: string): string => `oncall-${organisationId}`;

/** The care record's streams this service reads. */
export const careStreamOf = (patientId: string): string => `care-${patientId}`;
export const patientStreamOf = (patientId: string): string => `patient-${patientId}`;
export const practitionerStreamOf = (practitionerId: string): string => `practitioner-${practitionerId}`;

export type StreamKind = 'competency' | 'delegation' | 'escalation' | 'prompt' | 'care' | 'other';
export const streamKind = (stream: string): StreamKind => {
  const prefix = stream.slice(0, stream.indexOf('-'));
  return prefix === 'competency' || prefix === 'delegation' || prefix === 'escalation' || prefix === 'prompt' || prefix === 'care' ? prefix : 'other';
};

const NAMESPACE = Buffer.from('3f0e6a1c2b5d4e8f9a7b6c5d4e3f2a1b', 'hex');

/** A name-based UUID (RFC 9562 version 5): the same name always gives the same id. */
export const uuidV5 = (name: string): string => {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

/**
 * What a rule raises for a care entry is named from the entry's event id and the rule: replaying
 * the log (or a reaction retried after a crash) raises nothing twice.
 */
export const reactionEscalationId = (triggeringEventId: string, ruleId: string): string => uuidV5(`escalation|${triggeringEventId}|${ruleId}`);
export const reactionPromptId = (triggeringEventId: string, ruleId: string): string => uuidV5(`prompt|${triggeringEventId}|${ruleId}`);
