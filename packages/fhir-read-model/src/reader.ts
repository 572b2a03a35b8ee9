import type { SqlQueryable } from '@tandem/event-store';
import type { FhirResource as Resource } from 'fhir/r4';
import { refKey, RESULT_PARAMS, searchParamOf, searchParamsOf, SORTS, type SearchParamDefinition } from './search-params';
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
  /** The `_cursor` of the page after this one; undefined on the last page (and for `_count=0`). */
  readonly nextCursor?: string;
}

/**
 * Where a page ends, as the next page's `_cursor`: the last row's sort value and id (keyset
 * paging). Unlike an offset it does not move when the record grows, so a write between pages
 * neither repeats an entry nor skips one that was already there. Opaque to clients (base64url
 * JSON); the sort it was made for travels with it, so it cannot be applied to another order.
 */
interface Cursor {
  readonly sort: string;
  /** The sort column's value as PostgreSQL prints it (microseconds kept), or null. */
  readonly value: string | null;
  readonly id: string;
}

const SQL_TIMESTAMP = /^(-?infinity|\d{4,}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:\d{2}){0,2})?)$/;

const encodeCursor = (cursor: Cursor): string => Buffer.from(JSON.stringify([cursor.sort, cursor.value, cursor.id])).toString('base64url');

const decodeCursor = (raw: string, sort: string): Cursor => {
  const refused = new SearchError('_cursor', '_cursor is not one this server gave for this search: follow the Bundle\'s next link');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw refused;
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw refused;
  const [cursorSort, value, id] = parsed as unknown[];
  if (cursorSort !== sort || typeof id !== 'string' || !(value === null || (typeof value === 'string' && SQL_TIMESTAMP.test(value)))) throw refused;
  return { sort, value, id };
};

/** `effective desc nulls last` -> its column, direction and where nulls go. */
const sortParts = (sort: string): { column: string; descending: boolean } => {
  const match = /^(\w+) (asc|desc)/.exec(sort);
  if (!match) throw new Error(`Unreadable sort ${sort}`);
  return { column: match[1]!, descending: match[2] === 'desc' };
};

/** Rows after the cursor in `order by <column> <dir> nulls last, id`. */
const afterCursor = (sql: SqlBuilder, sort: string, cursor: Cursor): string => {
  const { column, descending } = sortParts(sort);
  const id = sql.add(cursor.id);
  if (cursor.value === null) return `(${column} is null and id > ${id})`;
  const value = sql.add(cursor.value);
  return `(${column} ${descending ? '<' : '>'} ${value}::timestamptz or (${column} = ${value}::timestamptz and id > ${id}) or ${column} is null)`;
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
const PREFIXES = ['eq', 'ne', 'ge', 'le', 'gt', 'lt'] as const;
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
  readonly params: unknown[] = [];
  add(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
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

const addCondition = (sql: SqlBuilder, name: string, def: SearchParamDefinition, raw: string) => {
  const alternatives = raw.split(',');
  switch (def.type) {
    case 'token': {
      if (def.target === 'id') {
        sql.where.push(`id = any(${sql.add(alternatives)})`);
        return;
      }
      const keys = alternatives.map((v) => {
        const bar = v.indexOf('|');
        if (bar < 0) return `${def.key}|*|${v}`;
        const system = v.slice(0, bar);
        const code = v.slice(bar + 1);
        if (!code) return `${def.key}|${system}|*`;
        return `${def.key}|${system}|${code}`;
      });
      sql.where.push(`tokens && ${sql.add(keys)}::text[]`);
      return;
    }
    case 'reference': {
      if (def.target === 'patient_id') {
        sql.where.push(`patient_id = any(${sql.add(alternatives.map((v) => referenceId(name, v, 'Patient')))})`);
        return;
      }
      sql.where.push(`refs && ${sql.add(alternatives.map((v) => refKey(def.key!, v)))}::text[]`);
      return;
    }
    case 'string': {
      const clauses = alternatives.map((v) => `${def.target} like ${sql.add(`% ${v.toLowerCase().replace(/[%_\\]/g, '\\$&')}%`)}`);
      sql.where.push(`(${clauses.join(' or ')})`);
      return;
    }
    case 'date': {
      const prefix = PREFIXES.find((p) => raw.startsWith(p)) ?? 'eq';
      const value = PREFIXES.some((p) => raw.startsWith(p)) ? raw.slice(2) : raw;
      const { start, end } = dateRange(name, value);
      const column = def.target;
      // Only the chosen clause may bind parameters: unused ones make PostgreSQL refuse the query.
      const conditions: Record<(typeof PREFIXES)[number], () => string> = {
        eq: () => `${column} >= ${sql.add(start)} and ${column} < ${sql.add(end)}`,
        ne: () => `(${column} < ${sql.add(start)} or ${column} >= ${sql.add(end)})`,
        ge: () => `${column} >= ${sql.add(start)}`,
        gt: () => `${column} >= ${sql.add(end)}`,
        le: () => `${column} < ${sql.add(end)}`,
        lt: () => `${column} < ${sql.add(start)}`,
      };
      sql.where.push(`(${conditions[prefix]()})`);
      return;
    }
  }
};

/**
 * A chained search on the person a resource is about: `patient.identifier=<system>|<value>` (or
 * `subject.identifier`), as a GP system finds someone's observations by NHS number in one search.
 * Only the chain through the patient reference to the Patient's identifier is supported; the
 * access rules narrow the result as for any search (the routes add the caller's people).
 */
const addChainedCondition = (sql: SqlBuilder, type: string, name: string, raw: string) => {
  const [reference = '', chained = '', ...rest] = name.split('.');
  const referenceDef = searchParamOf(type, reference);
  const identifierDef = searchParamOf('Patient', chained);
  if (rest.length > 0 || referenceDef?.target !== 'patient_id' || chained !== 'identifier' || !identifierDef) {
    throw new SearchError(name, `Chained search "${name}" is not supported for ${type}; supported: patient.identifier and subject.identifier (system|value) where ${type} has that parameter`);
  }
  if (raw === '') throw new SearchError(name, `Search parameter "${name}" has no value`);
  // The Patient's identifier condition, built as for a Patient search, then applied to the people it finds.
  const inner = new SqlBuilder();
  inner.params.push(...sql.params);
  addCondition(inner, chained, identifierDef, raw);
  sql.params.splice(0, sql.params.length, ...inner.params);
  sql.where.push(`patient_id in (select id from fhir_resource where resource_type = 'Patient' and ${inner.where.join(' and ')})`);
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
  constructor(private readonly db: SqlQueryable) {}

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
    const sql = new SqlBuilder();
    sql.where.push(`resource_type = ${sql.add(type)}`);
    for (const [name, raw] of Object.entries(query)) {
      if ((RESULT_PARAMS as readonly string[]).includes(name)) continue;
      if (name.includes('.')) {
        for (const v of values(raw)) addChainedCondition(sql, type, name, v);
        continue;
      }
      const def = searchParamOf(type, name);
      if (!def) throw new SearchError(name, `Unknown search parameter "${name}" for ${type}; supported: ${Object.keys(definitions).join(', ')}`);
      for (const v of values(raw)) {
        if (v === '') throw new SearchError(name, `Search parameter "${name}" has no value`);
        addCondition(sql, name, def, v);
      }
    }
    const count = parseCount(query._count, '_count', DEFAULT_COUNT, MAX_COUNT);
    const offset = parseCount(query._offset, '_offset', 0, Number.MAX_SAFE_INTEGER);
    const [sortParam] = values(query._sort);
    const sort = sortParam === undefined ? 'last_updated desc' : SORTS.get(sortParam);
    if (!sort) throw new SearchError('_sort', `_sort must be one of ${[...SORTS.keys()].join(', ')}`);
    const includes = values(query._include);
    for (const include of includes) {
      if (include !== `${type}:patient` && include !== `${type}:subject`) throw new SearchError('_include', `_include supports ${type}:patient only`);
    }

    const where = sql.where.join(' and ');
    const [rawCursor] = values(query._cursor);
    const sortKey = sortParam ?? '';
    const cursor = rawCursor === undefined ? undefined : decodeCursor(rawCursor, sortKey);
    const pageWhere = cursor ? `${where} and ${afterCursor(sql, sort, cursor)}` : where;
    const { column } = sortParts(sort);
    // The total and the page in one round trip (and one snapshot); the page keeps its sort columns
    // so the outer query can keep its order. One row more than the page says whether there is a next.
    const page = await this.db.query<{ total: string; resource: Resource | null; patient_id: string | null; id: string | null; sort_value: string | null }>(
      `select (select count(*) from fhir_resource where ${where}) as total, page.resource, page.patient_id, page.id, page.sort_value
         from (values (1)) as one (x)
         left join lateral (
           select resource, patient_id, effective, last_updated, id, ${column}::text as sort_value from fhir_resource where ${pageWhere}
            order by ${sort}, id limit ${sql.add(count === 0 ? 0 : count + 1)} offset ${sql.add(offset)}
         ) as page on true
        order by ${sort}, id`,
      sql.params,
    );
    const total = page[0]?.total ?? '0';
    const found = page.flatMap((r) => (r.resource ? [{ resource: r.resource, patient_id: r.patient_id, id: r.id!, sortValue: r.sort_value }] : []));
    const rows = found.slice(0, count);
    const last = rows[rows.length - 1];
    const nextCursor = found.length > count && last ? encodeCursor({ sort: sortKey, value: last.sortValue, id: last.id }) : undefined;
    let included: Resource[] = [];
    if (includes.length > 0) {
      const patientIds = [...new Set(rows.map((r) => r.patient_id).filter((p): p is string => p !== null))];
      included = patientIds.length
        ? (await this.db.query<{ resource: Resource }>(`select resource from fhir_resource where resource_type = 'Patient' and id = any($1)`, [patientIds])).map((r) => r.resource)
        : [];
    }
    return { total: Number(total), offset, count, matches: rows.map((r) => r.resource), included, ...(nextCursor ? { nextCursor } : {}) };
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
