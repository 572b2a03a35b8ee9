import type { SqlQueryable } from '@tandem/event-store';
import type { FhirResource as Resource } from 'fhir/r4';
import {
  defaultSortOf,
  includesOf,
  MAX_INDEXED_STRING,
  modifiersOf,
  normalisedString,
  refKey,
  RESULT_PARAMS,
  revIncludesOf,
  SEARCH_REVINCLUDES,
  searchParamOf,
  searchParamsOf,
  sortKeysOf,
  type SearchParamDefinition,
  type SortKey,
} from './search-params';
import type { StoredResource } from './stored-resource';

/** A search the client got wrong: the HTTP layer turns it into a 400 OperationOutcome naming `param`. */
export class SearchError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = 'SearchError';
  }
}

export type SearchQuery = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface SearchResult {
  readonly total: number;
  readonly offset: number;
  readonly count: number;
  readonly matches: Resource[];
  readonly included: Resource[];
  /** The person each included resource is indexed under (a Provenance names no one itself), in the order of `included`. */
  readonly includedPatientIds?: readonly (string | undefined)[];
  /** The `_cursor` of the page after this one; undefined on the last page (and for `_count=0`). */
  readonly nextCursor?: string;
}

/**
 * Where a page ends, as the next page's `_cursor`: the last row's sort values and id (keyset
 * paging). Unlike an offset it does not move when the record grows, so a write between pages
 * neither repeats an entry nor skips one that was already there. Opaque to clients (base64url
 * JSON); the sort it was made for travels with it, so it cannot be applied to another order.
 */
interface Cursor {
  readonly sort: string;
  /** Each sort key's value as PostgreSQL prints it (microseconds kept), or null. */
  readonly values: readonly (string | null)[];
  readonly id: string;
}

const SQL_TIMESTAMP = /^(-?infinity|\d{4,}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:\d{2}){0,2})?)$/;
const SQL_DATE = /^(-?infinity|\d{4,}-\d{2}-\d{2})$/;

/** One key of a search's order: what it sorts by, and which way. */
interface SortTerm extends SortKey {
  readonly descending: boolean;
}

const encodeCursor = (cursor: Cursor): string => Buffer.from(JSON.stringify([cursor.sort, cursor.values, cursor.id])).toString('base64url');

const validCursorValue = (term: SortTerm, value: unknown): boolean =>
  value === null || (typeof value === 'string' && value.length <= 1000 && (term.cast === 'text' || (term.cast === 'date' ? SQL_DATE : SQL_TIMESTAMP).test(value)));

const decodeCursor = (raw: string, sort: string, terms: readonly SortTerm[]): Cursor => {
  const refused = new SearchError('_cursor', '_cursor is not one this server gave for this search: follow the Bundle\'s next link');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw refused;
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw refused;
  const [cursorSort, values, id] = parsed as unknown[];
  if (cursorSort !== sort || typeof id !== 'string' || !Array.isArray(values) || values.length !== terms.length || !terms.every((t, i) => validCursorValue(t, values[i]))) throw refused;
  return { sort, values: values as (string | null)[], id };
};

/** `order by` for the terms (nulls last whichever way), the id last so that the order is total. */
const orderBy = (terms: readonly SortTerm[], qualify = (sql: string, _i: number) => sql): string =>
  [...terms.map((t, i) => `${qualify(t.sql, i)} ${t.descending ? 'desc' : 'asc'} nulls last`), qualify('id', -1)].join(', ');

/**
 * Rows after the cursor in that order: lexicographic over the terms, then the id. A null sorts
 * last, so after a null only nulls (with a later id) follow, and after a value every null does.
 */
const afterCursor = (sql: SqlBuilder, terms: readonly SortTerm[], cursor: Cursor): string => {
  const equal = (t: SortTerm, value: string | null) => (value === null ? `${t.sql} is null` : `${t.sql} = ${sql.add(value)}::${t.cast}`);
  const after = (t: SortTerm, value: string | null) => (value === null ? 'false' : `(${t.sql} ${t.descending ? '<' : '>'} ${sql.add(value)}::${t.cast} or ${t.sql} is null)`);
  const alternatives = terms.map((t, i) => [...terms.slice(0, i).map((before, j) => equal(before, cursor.values[j]!)), after(t, cursor.values[i]!)].join(' and '));
  alternatives.push([...terms.map((t, i) => equal(t, cursor.values[i]!)), `id > ${sql.add(cursor.id)}`].join(' and '));
  return `(${alternatives.map((a) => `(${a})`).join(' or ')})`;
};

/** The terms of `_sort` (`-date,_id`: several keys, each descending with `-`), or of the type's default order. */
const sortTermsOf = (type: string, raw: string | readonly string[] | undefined): { sort: string; terms: SortTerm[] } => {
  const given = values(raw);
  if (given.length > 1) throw new SearchError('_sort', '_sort may be given once (name several keys in it, separated by commas)');
  const sort = given[0] ?? defaultSortOf(type);
  const keys = sortKeysOf(type);
  const names = sort.split(',');
  const terms = names.map((name): SortTerm => {
    const descending = name.startsWith('-');
    const key = keys.get(descending ? name.slice(1) : name);
    if (!key) throw new SearchError('_sort', `_sort "${name}" is not a sort of ${type}; it may name ${[...keys.keys()].join(', ')}, each with - for descending`);
    return { ...key, descending };
  });
  if (new Set(names.map((n) => n.replace(/^-/, ''))).size !== names.length) throw new SearchError('_sort', '_sort names a key twice');
  return { sort, terms };
};

/**
 * Kept out of Patient/$everything: the access trail is for auditors (searched by patient on its
 * own). Provenance (one per write) would double every bundle: it comes when `_type` names it.
 */
const NOT_IN_EVERYTHING = ['AuditEvent', 'Provenance'];
const NEVER_IN_EVERYTHING = ['AuditEvent'];

/** $everything's start and end: the care dates asked for (either may be left out). */
interface CareDates {
  readonly from?: string;
  readonly to?: string;
}

/** One condition keeping resources whose clinical time is in the range, and those with none; undefined when no range is asked. */
const careDates = (sql: SqlBuilder, care: CareDates): string | undefined => {
  const bounds = [...(care.from ? [`effective >= ${sql.add(care.from)}`] : []), ...(care.to ? [`effective <= ${sql.add(care.to)}`] : [])];
  return bounds.length === 0 ? undefined : `(effective is null or (${bounds.join(' and ')}))`;
};

const DEFAULT_COUNT = 50;
const MAX_COUNT = 1000;
const PREFIXES = ['eq', 'ne', 'ge', 'le', 'gt', 'lt', 'sa', 'eb', 'ap'] as const;
/** `ap` (approximately): the value's range widened on each side by this share of its distance from now (R4 3.1.1.4.2 suggests 10 %). */
export const APPROXIMATELY = 0.1;
const DATE_PATTERN = /^(\d{4})(-(\d{2})(-(\d{2})(T(\d{2}):(\d{2})(:(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * An instant as the read model's SQL takes it. PostgreSQL cannot read JavaScript's six-digit years
 * (`+010000-01-01T...`): the end of year 9999 is `infinity`, and an instant before year 1 (a
 * time zone's offset on 0001-01-01) is `-infinity`, so `le9999-12-31` matches everything and
 * `gt9999-12-31` nothing, as they should, rather than failing (500).
 */
const sqlInstant = (date: Date): string => {
  const year = date.getUTCFullYear();
  if (year > 9999) return 'infinity';
  if (year < 1) return '-infinity';
  return date.toISOString();
};

const daysIn = (year: number, month: number): number => new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) ? 1 : 0);

/** A date search value as a half-open range [start, end) at its own precision. */
const dateRange = (param: string, raw: string): { start: string; end: string } => {
  const match = DATE_PATTERN.exec(raw);
  if (!match) throw new SearchError(param, `"${raw}" is not a FHIR date or dateTime`);
  const [, y, , m, , d, time, hh, mm, , ss, , zone] = match;
  const year = Number(y);
  const month = m === undefined ? 1 : Number(m);
  const day = d === undefined ? 1 : Number(d);
  // A FHIR date's year is 0001 to 9999; months and days must exist (JavaScript would roll 02-30 into March).
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) throw new SearchError(param, `"${raw}" is not a valid date`);
  if (time) {
    if (Number(hh) > 23 || Number(mm) > 59 || (ss !== undefined && Number(ss) > 59)) throw new SearchError(param, `"${raw}" is not a valid dateTime`);
    const instant = new Date(zone ? raw : `${raw}Z`);
    if (Number.isNaN(instant.getTime())) throw new SearchError(param, `"${raw}" is not a valid dateTime`);
    return { start: sqlInstant(instant), end: sqlInstant(new Date(instant.getTime() + 1)) };
  }
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0 to 99 as 1900 to 1999.
  const start = new Date(0);
  start.setUTCFullYear(year, month - 1, day);
  const end = new Date(start);
  if (d) end.setUTCDate(end.getUTCDate() + 1);
  else if (m) end.setUTCMonth(end.getUTCMonth() + 1);
  else end.setUTCFullYear(end.getUTCFullYear() + 1);
  return { start: sqlInstant(start), end: sqlInstant(end) };
};

class SqlBuilder {
  readonly where: string[] = [];
  constructor(readonly params: unknown[] = []) {}
  add(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
  /** Conditions of their own (a chained search's, on the Patient), binding into the same parameters. */
  sub(): SqlBuilder {
    return new SqlBuilder(this.params);
  }
}

const values = (raw: string | readonly string[] | undefined): string[] => (raw === undefined ? [] : typeof raw === 'string' ? [raw] : [...raw]);

const referenceId = (param: string, raw: string, expectedType?: string): string => {
  const parts = raw.split('/');
  const id = parts[parts.length - 1]!;
  if (parts.length > 2 || !id || (parts.length === 2 && expectedType && parts[0] !== expectedType)) {
    throw new SearchError(param, `"${raw}" is not a reference to ${expectedType ?? 'a resource'}`);
  }
  return id;
};

/** A parameter as sent: `subject:identifier`, `name:exact`, `subject:Patient.identifier`, `patient.name:contains`. */
interface ParameterName {
  readonly base: string;
  readonly modifier?: string;
  /** What follows the first dot: the chained parameter of the Patient, with its own modifier. */
  readonly chain?: string;
}

export const parameterName = (name: string): ParameterName => {
  const dot = name.indexOf('.');
  const head = dot < 0 ? name : name.slice(0, dot);
  const colon = head.indexOf(':');
  return { base: colon < 0 ? head : head.slice(0, colon), ...(colon < 0 ? {} : { modifier: head.slice(colon + 1) }), ...(dot < 0 ? {} : { chain: name.slice(dot + 1) }) };
};

const tokenKeysOf = (def: SearchParamDefinition, alternatives: readonly string[]): string[] =>
  alternatives.map((v) => {
    const bar = v.indexOf('|');
    if (bar < 0) return `${def.key}|*|${v}`;
    const system = v.slice(0, bar);
    const code = v.slice(bar + 1);
    if (!code) return `${def.key}|${system}|*`;
    return `${def.key}|${system}|${code}`;
  });

/** The people whose identifier is one of these (system|value), as a condition on patient_id. */
const personWithIdentifier = (sql: SqlBuilder, alternatives: readonly string[]): string => {
  const identifier = searchParamOf('Patient', 'identifier')!;
  return `patient_id in (select id from fhir_resource where resource_type = 'Patient' and tokens && ${sql.add(tokenKeysOf(identifier, alternatives))}::text[])`;
};

/** A JSON path literal: the value quoted as jsonpath strings are (JSON's escapes). */
const jsonPathString = (value: string): string => JSON.stringify(value);

/** A string parameter's value as its index keys it, refused when the index cannot answer it. */
const indexedString = (name: string, def: SearchParamDefinition, raw: string): string => {
  const folded = normalisedString(def.key!, raw);
  if (folded === '') throw new SearchError(name, `Search parameter "${name}" has no value to compare`);
  if (folded.length > MAX_INDEXED_STRING) throw new SearchError(name, `"${name}" compares the first ${MAX_INDEXED_STRING} characters at most`);
  return folded;
};

const missingFlag = (name: string, raw: string): boolean => {
  if (raw !== 'true' && raw !== 'false') throw new SearchError(name, `${name} takes true or false`);
  return raw === 'true';
};

const addCondition = (sql: SqlBuilder, name: string, def: SearchParamDefinition, raw: string, modifier: string | undefined, now: Date) => {
  if (modifier !== undefined && !modifiersOf(def).includes(modifier)) {
    const supported = modifiersOf(def);
    throw new SearchError(name, `The modifier :${modifier} is not supported on "${parameterName(name).base}"${supported.length > 0 ? `; it takes ${supported.map((m) => `:${m}`).join(', ')}` : '; it takes none'}`);
  }
  if (modifier === 'missing') {
    const missing = missingFlag(name, raw);
    if (def.target === 'strings') sql.where.push(`${missing ? 'not ' : ''}(strings && ${sql.add([`${def.key}?`])}::text[])`);
    else sql.where.push(`${def.target} is ${missing ? '' : 'not '}null`);
    return;
  }
  const alternatives = raw.split(',');
  if (alternatives.some((v) => v === '')) throw new SearchError(name, `Search parameter "${name}" has an empty value among its alternatives`);
  switch (def.type) {
    case 'token': {
      if (def.target === 'id') {
        sql.where.push(`${modifier === 'not' ? 'not ' : ''}(id = any(${sql.add(alternatives)}))`);
        return;
      }
      if (modifier === 'text') {
        // The codings' display or the concept's text contains the value, any case ("q": the value is text, not a pattern).
        const matches = alternatives.map((v) => `@.text like_regex ${jsonPathString(v)} flag "iq" || @.coding[*].display like_regex ${jsonPathString(v)} flag "iq"`);
        sql.where.push(`jsonb_path_exists(resource, ${sql.add(`$.${def.textOf} ? (${matches.join(' || ')})`)}::jsonpath)`);
        return;
      }
      // :not is the resources with none of these codes (those without the element too, as R4 has it).
      sql.where.push(`${modifier === 'not' ? 'not ' : ''}(tokens && ${sql.add(tokenKeysOf(def, alternatives))}::text[])`);
      return;
    }
    case 'reference': {
      if (def.target === 'patient_id') {
        if (modifier === 'identifier') {
          sql.where.push(personWithIdentifier(sql, alternatives));
          return;
        }
        sql.where.push(`patient_id = any(${sql.add(alternatives.map((v) => referenceId(name, v, 'Patient')))})`);
        return;
      }
      sql.where.push(`refs && ${sql.add(alternatives.map((v) => refKey(def.key!, v)))}::text[]`);
      return;
    }
    case 'string': {
      if (def.target === 'strings') {
        const mark = modifier === 'exact' ? '=' : modifier === 'contains' ? '~' : '^';
        const keys = alternatives.map((v) => `${def.key}${mark}${modifier === 'exact' ? v : indexedString(name, def, v)}`);
        sql.where.push(`strings && ${sql.add(keys)}::text[]`);
        return;
      }
      const escaped = (v: string) => v.toLowerCase().replace(/[%_\\]/g, '\\$&');
      const clauses = alternatives.map((v) => `${def.target} like ${sql.add(modifier === 'contains' ? `%${escaped(v)}%` : `% ${escaped(v)}%`)}`);
      sql.where.push(`(${clauses.join(' or ')})`);
      return;
    }
    case 'date': {
      // Each comma-separated value is an alternative (OR), each with its own prefix.
      sql.where.push(`(${alternatives.map((v) => dateCondition(sql, name, def.target, v, now)).join(' or ')})`);
      return;
    }
  }
};

/**
 * One date value as a condition on a column holding an instant (or a date): the value is the
 * range [start, end) of its precision. For an instant, `sa` (starts after) is `gt` and `eb` (ends
 * before) is `lt`; `ap` is the range widened by APPROXIMATELY of its distance from now.
 */
const dateCondition = (sql: SqlBuilder, name: string, column: string, raw: string, now: Date): string => {
  const prefix = PREFIXES.find((p) => raw.startsWith(p)) ?? 'eq';
  const value = PREFIXES.some((p) => raw.startsWith(p)) ? raw.slice(2) : raw;
  const { start, end } = dateRange(name, value);
  // Only the chosen clause may bind parameters: unused ones make PostgreSQL refuse the query.
  const conditions: Record<(typeof PREFIXES)[number], () => string> = {
    eq: () => `${column} >= ${sql.add(start)} and ${column} < ${sql.add(end)}`,
    ne: () => `(${column} < ${sql.add(start)} or ${column} >= ${sql.add(end)})`,
    ge: () => `${column} >= ${sql.add(start)}`,
    gt: () => `${column} >= ${sql.add(end)}`,
    sa: () => `${column} >= ${sql.add(end)}`,
    le: () => `${column} < ${sql.add(end)}`,
    lt: () => `${column} < ${sql.add(start)}`,
    eb: () => `${column} < ${sql.add(start)}`,
    ap: () => {
      const widen = (instant: string, by: number) => (/infinity/.test(instant) ? instant : sqlInstant(new Date(Date.parse(instant) + by)));
      const tolerance = Math.abs(now.getTime() - (/infinity/.test(start) ? now.getTime() : Date.parse(start))) * APPROXIMATELY;
      return `${column} >= ${sql.add(widen(start, -tolerance))} and ${column} < ${sql.add(widen(end, tolerance))}`;
    },
  };
  return `(${conditions[prefix]()})`;
};

/**
 * A chained search on the person a resource is about: `patient.identifier=<system>|<value>`,
 * `subject:Patient.name=...`, `patient.family:exact=...`, as a GP system finds someone's
 * observations by NHS number in one search. Any Patient parameter (and its modifiers) may be
 * chained through the patient reference, one link deep. It is a condition on patient_id: the
 * access rules narrow the result as for any search (the routes add the caller's people), so a
 * chain never finds anyone outside them.
 */
const addChainedCondition = (sql: SqlBuilder, type: string, name: string, raw: string, now: Date) => {
  const { base, modifier, chain = '' } = parameterName(name);
  const referenceDef = searchParamOf(type, base);
  const chained = parameterName(chain);
  const chainedDef = searchParamOf('Patient', chained.base);
  if (referenceDef?.target !== 'patient_id' || (modifier !== undefined && modifier !== 'Patient') || chained.chain !== undefined || !chainedDef) {
    const patientParams = Object.keys(searchParamsOf('Patient') ?? {}).join(', ');
    throw new SearchError(name, `Chained search "${name}" is not supported for ${type}; chain patient or subject (or subject:Patient) to one Patient parameter: ${patientParams}`);
  }
  if (raw === '') throw new SearchError(name, `Search parameter "${name}" has no value`);
  const inner = sql.sub();
  addCondition(inner, name, chainedDef, raw, chained.modifier, now);
  sql.where.push(`patient_id in (select id from fhir_resource where resource_type = 'Patient' and ${inner.where.join(' and ')})`);
};

/** The reference strings at a path of a resource (`participant.individual`), through arrays. */
const referencesAt = (resource: Resource, path: readonly string[]): string[] => {
  let level: unknown[] = [resource];
  for (const step of path) level = level.flatMap((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? [(v as Record<string, unknown>)[step]] : [])).flatMap((v) => (Array.isArray(v) ? v : [v]));
  return level.flatMap((v) => (v !== null && typeof v === 'object' && typeof (v as { reference?: unknown }).reference === 'string' ? [(v as { reference: string }).reference] : []));
};

const parseCount = (raw: string | readonly string[] | undefined, param: string, fallback: number, max: number): number => {
  const [value] = values(raw);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new SearchError(param, `${param} must be a whole number (0 or more)`);
  return Math.min(n, max);
};

/** Reads FHIR resources from the read model: read, vread, history, search, $everything. */
export class FhirReader {
  /** `clock`: the "now" `ap` (approximately) measures its tolerance from. */
  constructor(
    private readonly db: SqlQueryable,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async read(type: string, id: string): Promise<StoredResource | undefined> {
    const [row] = await this.db.query<{ resource: Resource; version_id: number; last_updated: Date | string; patient_id: string | null }>(
      'select resource, version_id, last_updated, patient_id from fhir_resource where resource_type = $1 and id = $2',
      [type, id],
    );
    return row && { resource: row.resource, versionId: row.version_id, lastUpdated: new Date(row.last_updated).toISOString(), ...(row.patient_id !== null ? { patientId: row.patient_id } : {}) };
  }

  async vread(type: string, id: string, versionId: number): Promise<StoredResource | undefined> {
    const [row] = await this.db.query<{ resource: Resource; last_updated: Date | string; patient_id: string | null }>(
      'select resource, last_updated, patient_id from fhir_resource_version where resource_type = $1 and id = $2 and version_id = $3',
      [type, id, versionId],
    );
    return row && { resource: row.resource, versionId, lastUpdated: new Date(row.last_updated).toISOString(), ...(row.patient_id !== null ? { patientId: row.patient_id } : {}) };
  }

  /** Versions newest first; for one resource, or for a whole type when id is undefined. */
  async history(type: string, id: string | undefined, query: SearchQuery): Promise<{ total: number; offset: number; count: number; versions: StoredResource[] }> {
    const count = parseCount(query._count, '_count', DEFAULT_COUNT, MAX_COUNT);
    const offset = parseCount(query._offset, '_offset', 0, Number.MAX_SAFE_INTEGER);
    const sql = new SqlBuilder();
    sql.where.push(`resource_type = ${sql.add(type)}`);
    if (id !== undefined) sql.where.push(`id = ${sql.add(id)}`);
    const [since] = values(query._since);
    if (since) sql.where.push(`last_updated >= ${sql.add(dateRange('_since', since).start)}`);
    const where = sql.where.join(' and ');
    const [{ total }] = (await this.db.query<{ total: string }>(`select count(*) as total from fhir_resource_version where ${where}`, sql.params)) as [{ total: string }];
    const rows = await this.db.query<{ resource: Resource; version_id: number; last_updated: Date | string; patient_id: string | null }>(
      `select resource, version_id, last_updated, patient_id from fhir_resource_version where ${where}
        order by last_updated desc, id, version_id desc limit ${sql.add(count)} offset ${sql.add(offset)}`,
      sql.params,
    );
    return {
      total: Number(total),
      offset,
      count,
      versions: rows.map((r) => ({
        resource: r.resource,
        versionId: r.version_id,
        lastUpdated: new Date(r.last_updated).toISOString(),
        ...(r.patient_id !== null ? { patientId: r.patient_id } : {}),
      })),
    };
  }

  async search(type: string, query: SearchQuery): Promise<SearchResult> {
    const definitions = searchParamsOf(type);
    if (!definitions) throw new SearchError('type', `Searching ${type} is not supported`);
    const now = this.clock();
    const sql = new SqlBuilder();
    sql.where.push(`resource_type = ${sql.add(type)}`);
    for (const [name, raw] of Object.entries(query)) {
      if ((RESULT_PARAMS as readonly string[]).includes(name)) continue;
      const { base, modifier, chain } = parameterName(name);
      const def = searchParamOf(type, base);
      if (!def) throw new SearchError(name, `Unknown search parameter "${name}" for ${type}; supported: ${Object.keys(definitions).join(', ')}`);
      for (const v of values(raw)) {
        if (chain !== undefined) {
          addChainedCondition(sql, type, name, v, now);
          continue;
        }
        if (v === '') throw new SearchError(name, `Search parameter "${name}" has no value`);
        addCondition(sql, name, def, v, modifier, now);
      }
    }
    const count = parseCount(query._count, '_count', DEFAULT_COUNT, MAX_COUNT);
    const offset = parseCount(query._offset, '_offset', 0, Number.MAX_SAFE_INTEGER);
    const { sort, terms } = sortTermsOf(type, query._sort);
    const includes = values(query._include);
    const declaredIncludes = includesOf(type);
    for (const include of includes) {
      if (!Object.hasOwn(declaredIncludes, include)) {
        const names = Object.keys(declaredIncludes);
        throw new SearchError('_include', `_include ${include} is not supported on ${type}${names.length > 0 ? `; it takes ${names.join(', ')}` : ''}`);
      }
    }
    const revIncludes = values(query._revinclude);
    for (const revInclude of revIncludes) {
      if (!revIncludesOf(type).includes(revInclude)) {
        const names = revIncludesOf(type);
        throw new SearchError('_revinclude', `_revinclude ${revInclude} is not supported on ${type}${names.length > 0 ? `; it takes ${names.join(', ')}` : ''}`);
      }
    }

    const where = sql.where.join(' and ');
    const [rawCursor] = values(query._cursor);
    const cursor = rawCursor === undefined ? undefined : decodeCursor(rawCursor, sort, terms);
    const pageWhere = cursor ? `${where} and ${afterCursor(sql, terms, cursor)}` : where;
    // The total and the page in one round trip (and one snapshot); the page keeps its sort keys
    // so the outer query can keep its order. One row more than the page says whether there is a next.
    const keys = terms.map((t, i) => `${t.sql} as k${i}, (${t.sql})::text as t${i}`).join(', ');
    const page = await this.db.query<Record<string, unknown> & { total: string; resource: Resource | null; patient_id: string | null; id: string | null }>(
      `select (select count(*) from fhir_resource where ${where}) as total, page.*
         from (values (1)) as one (x)
         left join lateral (
           select resource, patient_id, id, ${keys} from fhir_resource where ${pageWhere}
            order by ${orderBy(terms)} limit ${sql.add(count === 0 ? 0 : count + 1)} offset ${sql.add(offset)}
         ) as page on true
        order by ${orderBy(terms, (_sql, i) => (i < 0 ? 'page.id' : `page.k${i}`))}`,
      sql.params,
    );
    const total = page[0]?.total ?? '0';
    const found = page.flatMap((r) => (r.resource ? [{ resource: r.resource, patient_id: r.patient_id, id: r.id!, sortValues: terms.map((_, i) => (r[`t${i}`] ?? null) as string | null) }] : []));
    const rows = found.slice(0, count);
    const last = rows[rows.length - 1];
    const nextCursor = found.length > count && last ? encodeCursor({ sort, values: last.sortValues, id: last.id }) : undefined;
    const matches = rows.map((r) => r.resource);
    const included = await this.included(type, rows, includes, revIncludes);
    return {
      total: Number(total),
      offset,
      count,
      matches,
      included: included.map((r) => r.resource),
      includedPatientIds: included.map((r) => r.patient_id ?? undefined),
      ...(nextCursor ? { nextCursor } : {}),
    };
  }

  /**
   * What `_include` and `_revinclude` add to a page: the people it is about, the resources its
   * references name, and the resources (a Provenance) that name its matches; each once, and none
   * that is a match already. The routes check each as a direct read before it is sent.
   */
  private async included(
    type: string,
    rows: readonly { resource: Resource; patient_id: string | null; id: string }[],
    includes: readonly string[],
    revIncludes: readonly string[],
  ): Promise<{ resource: Resource; patient_id: string | null }[]> {
    if (rows.length === 0 || (includes.length === 0 && revIncludes.length === 0)) return [];
    const wanted = new Map<string, { type: string; id: string }>();
    const declared = includesOf(type);
    for (const include of includes) {
      const { path } = declared[include]!;
      if (!path) {
        for (const r of rows) if (r.patient_id !== null) wanted.set(`Patient/${r.patient_id}`, { type: 'Patient', id: r.patient_id });
        continue;
      }
      for (const r of rows) {
        for (const reference of referencesAt(r.resource, path)) {
          const match = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/\d+)?$/.exec(reference);
          if (match) wanted.set(`${match[1]}/${match[2]}`, { type: match[1]!, id: match[2]! });
        }
      }
    }
    const found: { resource: Resource; patient_id: string | null }[] = [];
    if (wanted.size > 0) {
      const keys = [...wanted.values()];
      found.push(
        ...(await this.db.query<{ resource: Resource; patient_id: string | null }>(
          `select resource, patient_id from fhir_resource where (resource_type, id) in (select * from unnest($1::text[], $2::text[]))`,
          [keys.map((k) => k.type), keys.map((k) => k.id)],
        )),
      );
    }
    for (const revInclude of revIncludes) {
      const def = SEARCH_REVINCLUDES.get(revInclude)!;
      found.push(
        ...(await this.db.query<{ resource: Resource; patient_id: string | null }>(
          `select resource, patient_id from fhir_resource where resource_type = $1 and refs && $2::text[] order by last_updated, id`,
          [def.source, rows.map((r) => refKey(def.param, `${type}/${r.id}`))],
        )),
      );
    }
    const seen = new Set(rows.map((r) => `${type}/${r.id}`));
    return found.filter((f) => {
      const key = `${f.resource.resourceType}/${f.resource.id}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  /**
   * Patient/$everything: the patient, then every resource about them (of the `_type`s asked for), paged. With `_at`, the
   * record as it was known at that instant: each resource's latest version recorded by then.
   */
  async everything(patientId: string, query: SearchQuery): Promise<SearchResult | undefined> {
    const count = parseCount(query._count, '_count', DEFAULT_COUNT, MAX_COUNT);
    const offset = parseCount(query._offset, '_offset', 0, Number.MAX_SAFE_INTEGER);
    const [at] = values(query._at);
    const [since] = values(query._since);
    const atInstant = at ? dateRange('_at', at).end : undefined;
    const types = values(query._type).flatMap((v) => v.split(','));
    for (const type of types) {
      if (!searchParamsOf(type) || NEVER_IN_EVERYTHING.includes(type)) throw new SearchError('_type', `_type ${type} is not a resource type of the person's record`);
    }
    const excluded = NOT_IN_EVERYTHING.filter((type) => !types.includes(type));
    const sinceStart = since ? dateRange('_since', since).start : undefined;
    // start and end are care dates (the resource's clinical time), not when it was recorded; a
    // resource with no clinical time (a care team, an allergy) is in every range.
    const [start] = values(query.start);
    const [end] = values(query.end);
    const care = { ...(start ? { from: dateRange('start', start).start } : {}), ...(end ? { to: dateRange('end', end).end } : {}) };
    if (atInstant) return this.everythingAt(patientId, atInstant, types, excluded, sinceStart, care, count, offset);

    // The record as it is now, in one round trip: whether the person is recorded, how many resources
    // match, and the page. The person's Patient resource comes first, then everything whose
    // patient_id is theirs, by type, newest first: that second part is read in the order of the
    // fhir_resource_patient_everything index, so a page costs its own rows, not a sort of the whole record.
    const sql = new SqlBuilder();
    const patient = sql.add(patientId);
    const extra: string[] = [];
    if (types.length > 0) extra.push(`resource_type = any(${sql.add(types)})`);
    if (sinceStart) extra.push(`last_updated >= ${sql.add(sinceStart)}`);
    const and = extra.map((c) => ` and ${c}`).join('');
    const ownPatient = `resource_type = 'Patient' and (patient_id = ${patient} or id = ${patient})${and}`;
    const dates = careDates(sql, care);
    const aboutPatient = `patient_id = ${patient} and resource_type <> 'Patient' and resource_type <> all(${sql.add(excluded)})${and}${dates ? ` and ${dates}` : ''}`;
    // The most recent care first, whatever its type (a GP's first page is the last days' care).
    const order = 'effective desc nulls last, resource_type, id';
    const rows = await this.db.query<{ known: boolean; total: string; resource: Resource | null }>(
      `select exists (select 1 from fhir_resource where resource_type = 'Patient' and id = ${patient}) as known,
              (select count(*) from fhir_resource where ${ownPatient}) + (select count(*) from fhir_resource where ${aboutPatient}) as total,
              page.resource
         from (values (1)) as one (x)
         left join lateral (
           select resource, part, resource_type, effective, id from (
             (select resource, 0 as part, resource_type, effective, id from fhir_resource where ${ownPatient})
             union all
             (select resource, 1 as part, resource_type, effective, id from fhir_resource where ${aboutPatient} order by ${order} limit ${sql.add(count + offset)})
           ) as matching
           order by part, ${order} limit ${sql.add(count)} offset ${sql.add(offset)}
         ) as page on true
        order by page.part, page.effective desc nulls last, page.resource_type, page.id`,
      sql.params,
    );
    const [first] = rows;
    if (!first?.known) return undefined;
    return { total: Number(first.total), offset, count, matches: rows.flatMap((r) => (r.resource ? [r.resource] : [])), included: [] };
  }

  /** Patient/$everything with `_at`: each resource's latest version recorded before `atInstant`. */
  private async everythingAt(
    patientId: string,
    atInstant: string,
    types: readonly string[],
    excluded: readonly string[],
    sinceStart: string | undefined,
    care: CareDates,
    count: number,
    offset: number,
  ): Promise<SearchResult | undefined> {
    const sql = new SqlBuilder();
    const source = `(select distinct on (resource_type, id) resource_type, id, patient_id, last_updated, resource,
                (resource->>'effectiveDateTime')::timestamptz as effective
           from fhir_resource_version
          where last_updated < ${sql.add(atInstant)} and resource_type <> all(${sql.add(excluded)}) and (patient_id = ${sql.add(patientId)} or (resource_type = 'Patient' and id = ${sql.add(patientId)}))
          order by resource_type, id, version_id desc) as known`;
    sql.where.push(`(patient_id = ${sql.add(patientId)} or (resource_type = 'Patient' and id = ${sql.add(patientId)}))`);
    sql.where.push(`resource_type <> all(${sql.add(excluded)})`);
    if (types.length > 0) sql.where.push(`resource_type = any(${sql.add(types)})`);
    if (sinceStart) sql.where.push(`last_updated >= ${sql.add(sinceStart)}`);
    const dates = careDates(sql, care);
    if (dates) sql.where.push(`(resource_type = 'Patient' or ${dates})`);
    const where = sql.where.join(' and ');
    const known = await this.db.query("select 1 from fhir_resource_version where resource_type = 'Patient' and id = $1 and last_updated < $2 limit 1", [patientId, atInstant]);
    if (known.length === 0) return undefined;
    const [{ total }] = (await this.db.query<{ total: string }>(`select count(*) as total from ${source} where ${where}`, sql.params)) as [{ total: string }];
    const rows = await this.db.query<{ resource: Resource }>(
      `select resource from ${source} where ${where}
        order by (resource_type = 'Patient') desc, effective desc nulls last, resource_type, id limit ${sql.add(count)} offset ${sql.add(offset)}`,
      sql.params,
    );
    return { total: Number(total), offset, count, matches: rows.map((r) => r.resource), included: [] };
  }
}
