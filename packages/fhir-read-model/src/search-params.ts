/**
 * The search parameters Tandem supports, as data: the CapabilityStatement is generated from this
 * table and the search engine reads it, so what is advertised is exactly what works.
 */
export type SearchParamType = 'token' | 'reference' | 'date' | 'string';

export interface SearchParamDefinition {
  readonly type: SearchParamType;
  /** token/reference: the key prefix in the tokens or refs column; date/string: the column. */
  readonly target: 'tokens' | 'refs' | 'patient_id' | 'effective' | 'birthdate' | 'last_updated' | 'name_text' | 'id' | 'strings';
  readonly key?: string;
  readonly documentation: string;
  /**
   * token: where the element's text is (`code`: its CodeableConcept), for the `:text` modifier,
   * which matches the codings' display and the concept's text.
   */
  readonly textOf?: string;
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
    family: { type: 'string', target: 'strings', key: 'family', documentation: 'The family name, starting with the text (case- and accent-insensitive)' },
    given: { type: 'string', target: 'strings', key: 'given', documentation: 'A given name, starting with the text (case- and accent-insensitive)' },
    gender: { type: 'token', target: 'tokens', key: 'gender', documentation: 'male, female, other, unknown (http://hl7.org/fhir/administrative-gender)' },
    'address-postalcode': { type: 'string', target: 'strings', key: 'address-postalcode', documentation: 'The postcode, starting with the text (case-insensitive; spaces are not compared: LS1 4 finds LS14AB)' },
    'general-practitioner': { type: 'reference', target: 'refs', key: 'general-practitioner', documentation: 'Practitioner/<id> or Organization/<id>' },
  },
  Observation: {
    _id: id,
    _lastUpdated: lastUpdated,
    patient: patientRef('Patient/<id>'),
    subject: patientRef('Patient/<id>'),
    code: { type: 'token', target: 'tokens', key: 'code', textOf: 'code', documentation: 'system|code (LOINC or SNOMED CT) or code' },
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
    role: { type: 'token', target: 'tokens', key: 'role', documentation: 'The role the token carried (care-worker, district-nurse, gp, registered-manager, auditor, system)' },
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
export const RESULT_PARAMS = ['_count', '_sort', '_include', '_revinclude', '_offset', '_cursor', '_format', '_summary', '_total', '_elements'] as const;

/** A key `_sort` orders by: its SQL, and the type a keyset cursor compares its value as. */
export interface SortKey {
  readonly sql: string;
  readonly cast: 'timestamptz' | 'date' | 'text';
}

/** The sort keys every type has; `date` is the clinical time (a Patient has none: it sorts last). */
const COMMON_SORTS: ReadonlyMap<string, SortKey> = new Map([
  ['date', { sql: 'effective', cast: 'timestamptz' }],
  ['_lastUpdated', { sql: 'last_updated', cast: 'timestamptz' }],
  ['_id', { sql: 'id', cast: 'text' }],
]);

/** A string search column as a sort key: the first value of that parameter (the index's exact entry). */
const stringSort = (key: string): SortKey => ({
  sql: `(select lower(substr(s, ${key.length + 2})) from unnest(strings) as s where s like '${key}=%' order by s limit 1)`,
  cast: 'text',
});

/**
 * What `_sort` may name for a type: the common keys, and each declared date or string parameter
 * (`birthdate`, `family` for a Patient; `effective-time` for a dose). Looked up in a Map, never
 * on a plain object: a client's `_sort=constructor` must find nothing (it reached the SQL: 500).
 */
export const sortKeysOf = (type: string): ReadonlyMap<string, SortKey> => {
  const keys = new Map(COMMON_SORTS);
  for (const [name, def] of Object.entries(searchParamsOf(type) ?? {})) {
    if (def.type === 'date') keys.set(name, { sql: def.target, cast: def.target === 'birthdate' ? 'date' : 'timestamptz' });
    if (def.type === 'string' && def.target === 'strings' && def.key) keys.set(name, stringSort(def.key));
    if (def.type === 'string' && def.target === 'name_text') keys.set(name, { sql: 'name_text', cast: 'text' });
  }
  return keys;
};

/**
 * The order a search without `_sort` has: Observations by their clinical time, the most recent
 * first (what a GP screen and $lastn show), not by when they were stored; other types by when
 * they last changed. The id breaks ties, so paging is stable either way.
 */
export const DEFAULT_SORT: Readonly<Record<string, string>> = { Observation: '-date' };
export const defaultSortOf = (type: string): string => (Object.hasOwn(DEFAULT_SORT, type) ? DEFAULT_SORT[type]! : '-_lastUpdated');

/** An `_include` (`<searched type>:<element>`): the references at `path` in each match (through arrays); no path: the person the match is about. */
export interface IncludeDefinition {
  readonly path?: readonly string[];
  readonly documentation: string;
}

/** The `_include`s beyond the person (`<type>:patient`, `<type>:subject`, which every type about a person answers). */
const MORE_INCLUDES: Readonly<Record<string, Readonly<Record<string, IncludeDefinition>>>> = {
  Observation: { 'Observation:performer': { path: ['performer'], documentation: 'Who took the measurement (Practitioner)' } },
  MedicationAdministration: {
    'MedicationAdministration:request': { path: ['request'], documentation: 'The MedicationRequest the dose was given under' },
    'MedicationAdministration:performer': { path: ['performer', 'actor'], documentation: 'Who gave or withheld the dose (Practitioner)' },
  },
  MedicationRequest: { 'MedicationRequest:requester': { path: ['requester'], documentation: 'The prescriber (Practitioner)' } },
  Encounter: {
    'Encounter:participant': { path: ['participant', 'individual'], documentation: 'The care worker who checked in (Practitioner)' },
    'Encounter:appointment': { path: ['appointment'], documentation: 'The planned visit (Appointment)' },
  },
  Task: { 'Task:owner': { path: ['owner'], documentation: 'The care worker the activity is delegated to' }, 'Task:requester': { path: ['requester'], documentation: 'The delegating nurse' } },
  PractitionerRole: {
    'PractitionerRole:practitioner': { path: ['practitioner'], documentation: 'The Practitioner' },
    'PractitionerRole:organization': { path: ['organization'], documentation: 'The Organization' },
  },
};

/** The `_include`s a search of this type answers; what an include adds is checked as a direct read of it. */
export const includesOf = (type: string): Readonly<Record<string, IncludeDefinition>> => {
  const params = searchParamsOf(type) ?? {};
  const person = Object.fromEntries(
    ['patient', 'subject'].filter((name) => Object.hasOwn(params, name) && params[name]!.target === 'patient_id').map((name) => [`${type}:${name}`, { documentation: 'The Patient the resource is about' }]),
  );
  return { ...person, ...(Object.hasOwn(MORE_INCLUDES, type) ? MORE_INCLUDES[type] : {}) };
};

/**
 * A `_revinclude` (`<source type>:<reference parameter>`): the resources of the source type whose
 * parameter (a refs column key) names a match. `targets`: the types it may be asked on.
 */
export interface RevIncludeDefinition {
  readonly source: string;
  readonly param: string;
  readonly targets: readonly string[] | 'any';
  readonly documentation: string;
}

export const SEARCH_REVINCLUDES: ReadonlyMap<string, RevIncludeDefinition> = new Map([
  ['Provenance:target', { source: 'Provenance', param: 'target', targets: 'any' as const, documentation: 'The Provenance of each write of a match (who wrote it, when)' }],
  ['Encounter:appointment', { source: 'Encounter', param: 'appointment', targets: ['Appointment'], documentation: 'The visit as it happened' }],
  ['Task:based-on', { source: 'Task', param: 'based-on', targets: ['CarePlan'], documentation: 'The delegated activities of a plan' }],
  ['PractitionerRole:practitioner', { source: 'PractitionerRole', param: 'practitioner', targets: ['Practitioner'], documentation: 'The roles of a practitioner' }],
]);

/** The `_revinclude`s a search of this type answers (Provenance:target on every type but Provenance and AuditEvent). */
export const revIncludesOf = (type: string): string[] =>
  [...SEARCH_REVINCLUDES].filter(([, def]) => (def.targets === 'any' ? !['Provenance', 'AuditEvent'].includes(type) : def.targets.includes(type))).map(([name]) => name);

/** The modifiers a parameter answers, by what its column can tell; any other modifier is refused (400), never ignored. */
export const modifiersOf = (def: SearchParamDefinition): string[] => {
  if (def.type === 'string') return def.target === 'strings' ? ['exact', 'contains', 'missing'] : ['contains'];
  if (def.type === 'token') return def.target === 'id' ? ['not'] : ['not', ...(def.textOf ? ['text'] : [])];
  if (def.type === 'date') return def.target === 'effective' || def.target === 'birthdate' ? ['missing'] : [];
  if (def.target === 'patient_id') return ['identifier', 'missing', 'Patient'];
  return [];
};

/**
 * A string as the `strings` column compares it (R4 3.1.1.4.6: case- and accent-insensitive):
 * lower-cased, accents taken off (NFD, combining marks dropped); a postcode without its spaces.
 */
export const normalisedString = (param: string, value: string): string => {
  const folded = value.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  return param === 'address-postalcode' ? folded.replace(/\s+/g, '') : folded.replace(/\s+/g, ' ').trim();
};

/** The longest value whose every part `:contains` can find; longer values are found by their first characters. */
export const MAX_INDEXED_STRING = 64;

/**
 * The `strings` column's entries for one value of a string parameter, so that every string
 * search is one lookup in its GIN index (`strings && array[...]`), never a scan:
 * `family=Smith` (`:exact`), `family^smi` (each start: the default search), `family~mit` (each
 * part: `:contains`) and `family?` (present: `:missing`).
 */
export const stringKeys = (param: string, value: string | undefined): string[] => {
  if (value === undefined || value.trim() === '') return [];
  const folded = normalisedString(param, value).slice(0, MAX_INDEXED_STRING);
  const keys = new Set([`${param}?`, `${param}=${value}`]);
  for (let start = 0; start < folded.length; start++) {
    for (let end = start + 1; end <= folded.length; end++) keys.add(`${param}~${folded.slice(start, end)}`);
  }
  for (let end = 1; end <= folded.length; end++) keys.add(`${param}^${folded.slice(0, end)}`);
  return [...keys];
};

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
