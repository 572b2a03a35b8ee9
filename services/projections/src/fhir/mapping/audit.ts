import type { AccessInteraction, AccessOutcome, AccessRecordedData } from '@tandem/contracts';
import type { AuditEvent, AuditEventAgent, AuditEventEntity } from 'fhir/r4';
import { refKey, tokenKeys } from '@tandem/fhir-read-model';
import type { IndexedResource } from '../writer';
import { coding, concept, USER_ID, USER_ROLE } from './codes';
import { compact, dataOf, fhirDateTime, patientRef, type FhirHandlers } from './common';

export const AUDIT_EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
export const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
export const AUDIT_OUTCOME = 'http://hl7.org/fhir/audit-event-outcome';
export const PURPOSE_OF_USE = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
export const AUDIT_ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
export const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
export const SECURITY_SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
/** Tandem's words for an outcome, finer than FHIR's four codes: an auditor asks for `denied`, not for "minor failure". */
export const ACCESS_OUTCOME = 'https://tandem.nhs.example/fhir/CodeSystem/access-outcome';
/** Tandem's policy actions (fhir.read, care.record, ...), as @tandem/auth names them. */
export const ACCESS_ACTION = 'https://tandem.nhs.example/fhir/CodeSystem/access-action';

const FHIR_OUTCOME: Readonly<Record<AccessOutcome, AuditEvent['outcome']>> = {
  success: '0',
  denied: '4',
  unauthenticated: '4',
  throttled: '4',
  refused: '4',
  failed: '8',
};

/** C/R/U/D/E as AuditEvent.action: a search is an execute, as the FHIR audit guidance has it. */
const ACTION: Readonly<Record<AccessInteraction, AuditEvent['action']>> = {
  read: 'R',
  vread: 'R',
  'history-instance': 'R',
  'history-type': 'R',
  'search-type': 'E',
  operation: 'E',
  create: 'C',
  update: 'U',
  command: 'E',
};

/** A JSON-API command creates an entry (C), changes one (U: a correction, a person's details or team) or runs a process step (E). */
const commandAction = (d: AccessRecordedData): AuditEvent['action'] => {
  if (/\/(amendments|entered-in-error)$/.test(d.path)) return 'U';
  if (d.actions.some((a) => a === 'patient.details' || a === 'patient.baseline' || a === 'patient.care-team')) return 'U';
  if (d.actions.some((a) => a === 'care.record' || a === 'patient.register' || a === 'practitioner.register' || a === 'organisation.register')) return 'C';
  return 'E';
};

const PURPOSE_TEXT: Readonly<Record<NonNullable<AccessRecordedData['purposeOfUse']>, string>> = {
  TREAT: 'treatment',
  ETREAT: 'emergency treatment (break-glass)',
  HOPERAT: 'healthcare operations',
  HCOMPL: 'health compliance (audit, inspection)',
  HSYSADMIN: 'system administration',
};

/** Clinical users are Practitioners; others (auditors, integrations) are named by their user id. */
const CLINICAL_ROLES = new Set(['care-worker', 'district-nurse', 'gp', 'registered-manager']);

const agentOf = (d: AccessRecordedData): AuditEventAgent => {
  const purpose = d.purposeOfUse ? [concept(PURPOSE_TEXT[d.purposeOfUse], coding(PURPOSE_OF_USE, d.purposeOfUse))] : undefined;
  const network = { address: d.source.address, type: '2' as const };
  if (!d.agent) return compact({ requestor: true, name: 'unverified caller', network, purposeOfUse: purpose });
  const { id, role, organisation } = d.agent;
  return compact({
    requestor: true,
    who: {
      ...(CLINICAL_ROLES.has(role) ? { reference: `Practitioner/${id}` } : {}),
      identifier: { system: USER_ID, value: id },
    },
    altId: id,
    name: organisation ? `${id} (${organisation})` : id,
    role: [concept(role, coding(USER_ROLE, role))],
    network,
    purposeOfUse: purpose,
  });
};

const entitiesOf = (d: AccessRecordedData): AuditEventEntity[] => [
  ...d.patientIds.map(
    (patientId): AuditEventEntity => ({
      what: patientRef(patientId),
      type: coding(AUDIT_ENTITY_TYPE, '1', 'Person'),
      role: coding(OBJECT_ROLE, '1', 'Patient'),
    }),
  ),
  ...(d.resourceType && d.resourceId && !(d.resourceType === 'Patient' && d.patientIds.includes(d.resourceId))
    ? [{ what: { reference: `${d.resourceType}/${d.resourceId}` }, type: coding(AUDIT_ENTITY_TYPE, '2', 'System Object') }]
    : []),
  // What was asked, query string included: a search's terms are part of the access.
  {
    type: coding(AUDIT_ENTITY_TYPE, '2', 'System Object'),
    role: coding(OBJECT_ROLE, '24', 'Query'),
    // sev-1: a name or a query, not both; the request line goes in the description.
    description: d.breakGlassReason ? `${d.method} ${d.path} (break-glass: ${d.breakGlassReason})` : `${d.method} ${d.path}`,
    ...(d.query ? { query: Buffer.from(d.query, 'utf8').toString('base64') } : {}),
  },
];

/** An AccessRecorded event as a FHIR AuditEvent, indexed for the searches auditors make. */
export const auditEventFrom = (d: AccessRecordedData): IndexedResource => {
  const agent = agentOf(d);
  // FHIR has no "command": the JSON API's commands are operations, and what they do to the record is the action.
  const interaction = d.interaction === 'command' ? 'operation' : d.interaction;
  const action = d.interaction === 'command' ? commandAction(d) : ACTION[d.interaction];
  const resource: AuditEvent & { id: string } = {
    resourceType: 'AuditEvent',
    id: d.accessId,
    type: coding(AUDIT_EVENT_TYPE, 'rest', 'RESTful Operation'),
    subtype: [coding(RESTFUL_INTERACTION, interaction), ...d.actions.map((a) => coding(ACCESS_ACTION, a))],
    action,
    recorded: fhirDateTime(d.at),
    outcome: FHIR_OUTCOME[d.outcome],
    outcomeDesc: `${d.outcome} (HTTP ${d.status})${d.reason ? `: ${d.reason}` : ''}${d.abandoned ? '; the client left before the answer was sent' : ''}`,
    ...(d.purposeOfUse ? { purposeOfEvent: [concept(PURPOSE_TEXT[d.purposeOfUse], coding(PURPOSE_OF_USE, d.purposeOfUse))] } : {}),
    agent: [agent],
    source: { observer: { display: 'Tandem' }, type: [coding(SECURITY_SOURCE_TYPE, '4', 'Application Server')] },
    entity: entitiesOf(d),
  };
  const agentRefs = d.agent ? [refKey('agent', d.agent.id), ...(agent.who?.reference ? [refKey('agent', agent.who.reference)] : [])] : [];
  return {
    resource,
    refs: [...d.patientIds.map((p) => refKey('patient', `Patient/${p}`)), ...d.patientIds.map((p) => refKey('patient', p)), ...agentRefs],
    tokens: [
      ...tokenKeys('outcome', AUDIT_OUTCOME, FHIR_OUTCOME[d.outcome]!),
      ...tokenKeys('outcome', ACCESS_OUTCOME, d.outcome),
      ...tokenKeys('subtype', RESTFUL_INTERACTION, interaction),
      ...d.actions.flatMap((a) => tokenKeys('subtype', ACCESS_ACTION, a)),
      ...tokenKeys('action', undefined, action!),
      ...(d.agent ? tokenKeys('altid', USER_ID, d.agent.id) : []),
      // The inspector's trail filters by role (docs/decisions/0036): the role the token carried.
      ...(d.agent ? tokenKeys('role', USER_ROLE, d.agent.role) : []),
      ...(d.purposeOfUse ? tokenKeys('purpose', PURPOSE_OF_USE, d.purposeOfUse) : []),
    ],
    effective: d.at,
    // The first person concerned: the compartment column; every person is in refs for search.
    ...(d.patientIds[0] ? { patientId: d.patientIds[0] } : {}),
  };
};

export const auditHandlers: FhirHandlers = {
  AccessRecorded: async (event) => [auditEventFrom(dataOf<AccessRecordedData>(event))],
};
