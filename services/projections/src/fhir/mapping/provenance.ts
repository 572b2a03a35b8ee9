import type { RecordedEvent } from '@tandem/event-store';
import type { Provenance, ProvenanceAgent } from 'fhir/r4';
import { refKey, tokenKeys } from '@tandem/fhir-read-model';
import type { IndexedResource, WrittenVersion } from '../writer';
import { coding, concept, USER_ID, USER_ROLE } from './codes';
import { fhirDateTime, organizationRef, practitionerRef } from './common';

export const DATA_OPERATION = 'http://terminology.hl7.org/CodeSystem/v3-DataOperation';
export const PARTICIPANT_TYPE = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';
/** The event in Tandem's log a Provenance stands for: `<stream>@<revision>`, with the event id alongside. */
export const EVENT_SYSTEM = 'https://tandem.nhs.example/Id/event';

type Actor = RecordedEvent['metadata']['actor'];

const agent = (actor: Actor, type: 'author' | 'enterer', display: string): ProvenanceAgent => ({
  type: concept(display, coding(PARTICIPANT_TYPE, type, display)),
  role: [concept(actor.role, coding(USER_ROLE, actor.role))],
  who: { ...practitionerRef(actor.id), identifier: { system: USER_ID, value: actor.id } },
  ...(actor.organisation ? { onBehalfOf: organizationRef(actor.organisation) } : {}),
});

/**
 * Who wrote what, when, from which event: one Provenance per event that changed the record,
 * naming the exact versions it created. The author is the token's user (or the person they wrote
 * for, with the user as enterer); `occurredDateTime` is when it happened at the bedside and
 * `recorded` when the record learnt of it, so a late entry shows as such.
 */
export const provenanceFor = (event: RecordedEvent, versions: readonly WrittenVersion[]): IndexedResource | undefined => {
  if (versions.length === 0) return undefined;
  const { actor, onBehalfOf, occurredAt, recordedAt } = event.metadata;
  const created = versions.every((v) => v.versionId === 1);
  const resource: Provenance & { id: string } = {
    resourceType: 'Provenance',
    id: event.id,
    target: versions.map((v) => ({ reference: `${v.type}/${v.id}/_history/${v.versionId}` })),
    occurredDateTime: fhirDateTime(occurredAt),
    recorded: fhirDateTime(recordedAt),
    activity: concept(created ? 'create' : 'update', coding(DATA_OPERATION, created ? 'CREATE' : 'UPDATE', created ? 'create' : 'revise')),
    agent: onBehalfOf ? [agent(onBehalfOf, 'author', 'Author'), agent(actor, 'enterer', 'Enterer')] : [agent(actor, 'author', 'Author')],
    entity: [
      {
        role: 'source',
        what: { identifier: { system: EVENT_SYSTEM, value: `${event.stream}@${event.revision}` }, display: `${event.type} ${event.id}` },
      },
    ],
  };
  const patientId = versions.find((v) => v.patientId)?.patientId;
  return {
    resource,
    ...(patientId ? { patientId } : {}),
    refs: [
      ...new Set(versions.map((v) => refKey('target', `${v.type}/${v.id}`))),
      // Author and enterer alike: "what did this nurse write" includes what was written on her behalf.
      ...[actor, ...(onBehalfOf ? [onBehalfOf] : [])].flatMap((a) => [refKey('agent', `Practitioner/${a.id}`), refKey('agent', a.id)]),
    ],
    tokens: tokenKeys('activity', DATA_OPERATION, created ? 'CREATE' : 'UPDATE'),
    effective: recordedAt,
  };
};
