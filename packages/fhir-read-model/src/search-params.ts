/**
 * The search parameters Tandem supports, as data: the CapabilityStatement is generated from this
 * table and the search engine reads it, so what is advertised is exactly what works.
 */
export type SearchParamType = 'token' | 'reference' | 'date' | 'string';

export interface SearchParamDefinition {
  readonly type: SearchParamType;
  /** token/reference: the key prefix in the tokens or refs column; date/string: the column. */
  readonly target: 'tokens' | 'refs' | 'patient_id' | 'effective' | 'birthdate' | 'last_updated' | 'name_text' | 'id';
  readonly key?: string;
  readonly documentation: string;
}

const lastUpdated: SearchParamDefinition = { type: 'date', target: 'last_updated', documentation: 'When the resource last changed (stored), with prefixes ge, le, gt, lt, eq' };
const id: SearchParamDefinition = { type: 'token', target: 'id', documentation: 'Logical id' };
const patientRef = (doc: string): SearchParamDefinition => ({
  type: 'reference',
  target: 'patient_id',
  documentation: `${doc}; or chained to the person's identifier: <name>.identifier=https://fhir.nhs.uk/Id/nhs-number|<NHS number>`,
});

export const SEARCH_PARAMS: Readonly<Record<string, Readonly<Record<string, SearchParamDefinition>>>> = {
  Patient: {
    _id: id,
    _lastUpdated: lastUpdated,
    identifier: { type: 'token', target: 'tokens', key: 'identifier', documentation: 'system|value, e.g. https://fhir.nhs.uk/Id/nhs-number|9912003888' },
    name: { type: 'string', target: 'name_text', documentation: 'Any part of the name, starting with the text (case-insensitive)' },
    birthdate: { type: 'date', target: 'birthdate', documentation: 'Date of birth, with prefixes' },
    'general-practitioner': { type: 'reference', target: 'refs', key: 'general-practitioner', documentation: 'Practitioner/<id> or Organization/<id>' },
  },
  Observation: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: patientRef('Patient/<id>'),
    subject: patientRef('Patient/<id>'),
    code: { type: 'token', target: 'tokens', key: 'code', documentation: 'system|code (LOINC or SNOMED CT) or code' },
    category: { type: 'token', target: 'tokens', key: 'category', documentation: 'e.g. vital-signs, laboratory, survey' },
    status: { type: 'token', target: 'tokens', key: 'status', documentation: 'final, amended, entered-in-error' },
    date: { type: 'date', target: 'effective', documentation: 'effectiveDateTime (at the bedside), with prefixes' },
  },
  MedicationAdministration: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: patientRef('Patient/<id>'),
    subject: patientRef('Patient/<id>'),
    status: { type: 'token', target: 'tokens', key: 'status', documentation: 'completed, not-done, entered-in-error' },
    'effective-time': { type: 'date', target: 'effective', documentation: 'When given or withheld, with prefixes' },
  },
  MedicationRequest: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: patientRef('Patient/<id>'),
    subject: patientRef('Patient/<id>'),
    status: { type: 'token', target: 'tokens', key: 'status', documentation: 'active, stopped' },
    code: { type: 'token', target: 'tokens', key: 'code', documentation: 'system|code: dm+d (https://dmd.nhs.uk) or Tandem insulin product code' },
    authoredon: { type: 'date', target: 'effective', documentation: 'When first prescribed, with prefixes' },
  },
  AllergyIntolerance: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: patientRef('Patient/<id>'),
    'clinical-status': { type: 'token', target: 'tokens', key: 'clinical-status', documentation: 'active, inactive, resolved (none once entered in error)' },
    code: { type: 'token', target: 'tokens', key: 'code', documentation: 'system|code: SNOMED CT or dm+d' },
    date: { type: 'date', target: 'effective', documentation: 'recordedDate, with prefixes' },
  },
  Condition: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: patientRef('Patient/<id>'),
    subject: patientRef('Patient/<id>'),
    'clinical-status': { type: 'token', target: 'tokens', key: 'clinical-status', documentation: 'active, recurrence, relapse, inactive, remission, resolved' },
    code: { type: 'token', target: 'tokens', key: 'code', documentation: 'SNOMED CT system|code' },
    'recorded-date': { type: 'date', target: 'effective', documentation: 'recordedDate, with prefixes' },
  },
  Practitioner: {
    _id: id,
    _lastUpdated: lastUpdated,
    identifier: { type: 'token', target: 'tokens', key: 'identifier', documentation: 'NMC, GMC or HCPC number: system|value' },
    name: { type: 'string', target: 'name_text', documentation: 'Any part of the name' },
  },
  PractitionerRole: {
    _id: id,
    _lastUpdated: lastUpdated,
    practitioner: { type: 'reference', target: 'refs', key: 'practitioner', documentation: 'Practitioner/<id>' },
    organization: { type: 'reference', target: 'refs', key: 'organization', documentation: 'Organization/<id>' },
  },
  Organization: {
    _id: id,
    _lastUpdated: lastUpdated,
    identifier: { type: 'token', target: 'tokens', key: 'identifier', documentation: 'ODS code: system|value' },
    name: { type: 'string', target: 'name_text', documentation: 'Any part of the name' },
  },
  CareTeam: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: patientRef('Patient/<id>'),
    participant: { type: 'reference', target: 'refs', key: 'participant', documentation: 'Practitioner/<id>' },
  },
  Task: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: patientRef('Patient/<id>: the person the delegated activity is for'),
    subject: patientRef('Patient/<id>'),
    status: { type: 'token', target: 'tokens', key: 'status', documentation: 'requested, accepted, rejected, in-progress, on-hold, cancelled, completed' },
    owner: { type: 'reference', target: 'refs', key: 'owner', documentation: 'Practitioner/<id>: the care worker the activity is delegated to' },
    requester: { type: 'reference', target: 'refs', key: 'requester', documentation: 'Practitioner/<id>: the delegating nurse' },
    'based-on': { type: 'reference', target: 'refs', key: 'based-on', documentation: 'CarePlan/<id>: the person’s plan for the framework' },
  },
  CarePlan: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: patientRef('Patient/<id>'),
    subject: patientRef('Patient/<id>'),
    status: { type: 'token', target: 'tokens', key: 'status', documentation: 'active' },
  },
  Communication: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: patientRef('Patient/<id>'),
    subject: patientRef('Patient/<id>'),
    status: { type: 'token', target: 'tokens', key: 'status', documentation: 'in-progress (an open escalation), completed (resolved)' },
  },
  Provenance: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: patientRef('Patient/<id>: the person whose record the write changed'),
    target: { type: 'reference', target: 'refs', key: 'target', documentation: 'Type/<id>: the resource written (any version)' },
    agent: { type: 'reference', target: 'refs', key: 'agent', documentation: 'Practitioner/<id> or a user id: who wrote it' },
    recorded: { type: 'date', target: 'effective', documentation: 'When the record learnt of it, with prefixes' },
    activity: { type: 'token', target: 'tokens', key: 'activity', documentation: 'CREATE or UPDATE (v3-DataOperation)' },
  },
  AuditEvent: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: { type: 'reference', target: 'refs', key: 'patient', documentation: 'Patient/<id>: accesses that concerned the person' },
    agent: { type: 'reference', target: 'refs', key: 'agent', documentation: 'Practitioner/<id> or a user id: who made the request' },
    altid: { type: 'token', target: 'tokens', key: 'altid', documentation: 'The user id from the token' },
    date: { type: 'date', target: 'effective', documentation: 'When the request was made, with prefixes' },
    outcome: {
      type: 'token',
      target: 'tokens',
      key: 'outcome',
      documentation: '0 (success), 4 (minor failure), 8 (serious failure); or Tandem’s finer words: success, denied, unauthenticated, throttled, refused, failed',
    },
    subtype: { type: 'token', target: 'tokens', key: 'subtype', documentation: 'read, vread, search-type, create, update, operation; or a Tandem action such as fhir.read, care.record' },
    action: { type: 'token', target: 'tokens', key: 'action', documentation: 'C, R, U, D or E' },
    purpose: { type: 'token', target: 'tokens', key: 'purpose', documentation: 'TREAT, ETREAT (break-glass), HOPERAT, HCOMPL, HSYSADMIN' },
  },
  Appointment: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: patientRef('Patient/<id>: the person visited'),
    actor: { type: 'reference', target: 'refs', key: 'actor', documentation: 'Practitioner/<id> (a care worker assigned) or Patient/<id>' },
    date: { type: 'date', target: 'effective', documentation: 'The planned start of the visit, with prefixes' },
    status: { type: 'token', target: 'tokens', key: 'status', documentation: 'booked, arrived (checked in), fulfilled (checked out), cancelled, noshow (missed)' },
  },
  Encounter: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: patientRef('Patient/<id>: the person visited'),
    subject: patientRef('Patient/<id>'),
    participant: { type: 'reference', target: 'refs', key: 'participant', documentation: 'Practitioner/<id>: the care worker who checked in' },
    appointment: { type: 'reference', target: 'refs', key: 'appointment', documentation: 'Appointment/<id>: the planned visit' },
    date: { type: 'date', target: 'effective', documentation: 'When the care worker checked in (the period start), with prefixes' },
    status: { type: 'token', target: 'tokens', key: 'status', documentation: 'in-progress (checked in), finished (checked out)' },
  },
  Goal: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: patientRef('Patient/<id>: whose outcome'),
    subject: patientRef('Patient/<id>'),
    'lifecycle-status': { type: 'token', target: 'tokens', key: 'lifecycle-status', documentation: 'active, completed, cancelled' },
    'achievement-status': { type: 'token', target: 'tokens', key: 'achievement-status', documentation: 'in-progress, improving, worsening, no-change, achieved, sustaining, not-achieved, no-progress, not-attainable' },
    'start-date': { type: 'date', target: 'effective', documentation: 'When the goal was agreed, with prefixes' },
  },
  Flag: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: patientRef('Patient/<id>'),
    subject: patientRef('Patient/<id>'),
    status: { type: 'token', target: 'tokens', key: 'status', documentation: 'active (an escalation is open), inactive' },
  },
};

/** Parameters that shape results rather than filter them. */
export const RESULT_PARAMS = ['_count', '_sort', '_include', '_offset', '_cursor', '_format', '_summary', '_total', '_elements'] as const;

/**
 * The `_sort` values and their SQL. A Map, not an object: a client's `_sort=constructor` or
 * `toString` must find nothing (an inherited property of a plain object reached the SQL: 500).
 */
export const SORTS: ReadonlyMap<string, string> = new Map([
  ['date', 'effective asc nulls last'],
  ['-date', 'effective desc nulls last'],
  ['_lastUpdated', 'last_updated asc'],
  ['-_lastUpdated', 'last_updated desc'],
]);

/** The search parameters of a resource type; undefined for a type (or a name such as `constructor`) Tandem does not search. */
export const searchParamsOf = (type: string): Readonly<Record<string, SearchParamDefinition>> | undefined =>
  Object.hasOwn(SEARCH_PARAMS, type) ? SEARCH_PARAMS[type] : undefined;

/** One search parameter's definition, own properties only (`?constructor=x` is an unknown parameter, not a function). */
export const searchParamOf = (type: string, name: string): SearchParamDefinition | undefined => {
  const params = searchParamsOf(type);
  return params && Object.hasOwn(params, name) ? params[name] : undefined;
};

/** Index entries for a token: exact system|code, any-system (`*|code`), and system-only. */
export const tokenKeys = (param: string, system: string | undefined, code: string): string[] =>
  system ? [`${param}|${system}|${code}`, `${param}|*|${code}`, `${param}|${system}|*`] : [`${param}||${code}`, `${param}|*|${code}`];

export const refKey = (param: string, reference: string): string => `${param}|${reference}`;
