import { DevIssuer, mintToken, type MintClaims } from '@tandem/auth';
import type { createRecordService } from '@tandem/record';
import { createHmac, createPrivateKey, sign, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';

/** The per-user limit of the server under attack here: above the default (1,200 a minute), as the cases for one GP grow with every writable type. */
const HOSTILE_RATE_LIMIT = 2_400;

/**
 * Hostile input to every route (issue 5, Hardening): the JSON command and delegation APIs (from
 * /openapi.json), every FHIR interaction on every type (from /fhir/metadata) and /admin. Malformed
 * JSON, bodies over the limit, wrong types, SQL and script fragments in path ids, query parameters
 * and body fields, path traversal, forged tokens: always a 4xx, never a 5xx; a JSON error body
 * (an OperationOutcome under /fhir, problem+json elsewhere) with no stack trace, file path or SQL;
 * and nothing stored but the access trail's own records of the attempts.
 *
 * The one allowed 2xx: a search or list filtered by a hostile string that is a valid value of its
 * parameter (FHIR `name`, `identifier`, ...). Matching nothing is the right answer there, so the
 * case must come back empty: an injected `' OR 1=1 --` that matched everyone would fail it.
 */

const SQL = ["' OR 1=1 --", "'; DROP TABLE events; --"] as const;
const SCRIPT = '<script>alert(1)</script>';
const NUL = '\u0000';
const HOSTILE_VALUES = [...SQL, SCRIPT, `a${NUL}b`] as const;
const EXTREME_NUMBERS = ['-1', '1e309', '99999999999999999999', '0x10'] as const;
/** Path segments as sent on the wire (already encoded where a client would have encoded them). */
const HOSTILE_IDS = [
  ...HOSTILE_VALUES.map(encodeURIComponent),
  '..%2F..%2Fetc%2Fpasswd',
  '....//',
  '..%252F..%252Fetc%252Fpasswd',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '%00',
] as const;
/** Properties every plain JavaScript object inherits: looked up with `in` or `obj[name]`, they find a function. */
const INHERITED_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf'] as const;
/** Valid dates at the calendar's edges (year 9999, year 1 with a time zone, a leap day): an answer, or a 400, never a 500. */
const CALENDAR_EDGES = ['le9999-12-31', 'ge9999-12-31', 'gt9999-12-31', '9999', 'eq9999-12', 'le9999-12-31T23:59:59.999Z', 'ne9999-12-31T23:59:59.999+00:00', '0001', 'lt0001-01-01T00:30+01:00', '0050', '2024-02-29'] as const;
/** Dates that do not exist: always a 400 naming the parameter (JavaScript would roll 02-30 into March). */
const NO_SUCH_DATES = ['0000', '2021-02-29', '2020-02-30', '2020-13-01', '2020-00-10', '2020-01-01T24:00Z', '2020-01-01T10:60Z'] as const;
const MALFORMED_JSON = ['{"idempotencyKey": ', '{idempotencyKey: 1}', "{'a': 1}", '[1, 2', '\u0000', '{"a": 1}}'] as const;
const ONE_MB_AND_MORE = JSON.stringify({ idempotencyKey: 'huge', text: 'x'.repeat(1_100_000) });
const CONCURRENCY = 6;

/** Signs of internals in a response: stack frames, file paths, SQL or the database's own words. */
const LEAKS: readonly RegExp[] = [
  /\bat .*\(.*:\d+:\d+\)/,
  /node_modules/,
  /\.(ts|js|mjs|cjs):\d+/,
  /(^|[\s"'(])\/(work|home|tmp|usr|root|var|opt|app)\//,
  /\bselect\s/i,
  /insert into/i,
  /syntax error/i,
  /\bsqlstate\b/i,
  /\b(pglite|postgres(ql)?|pg_\w+)\b/i,
  /\brelation "/i,
  /tandem_\w+/,
  /\b(TypeError|ReferenceError|RangeError|SyntaxError)\b/,
];

type Family = 'record-command' | 'delegation-command' | 'delegation-read' | 'fhir-read' | 'fhir-search' | 'fhir-history' | 'fhir-everything' | 'fhir-write' | 'admin';

interface Case {
  readonly name: string;
  readonly family: Family;
  readonly method: string;
  readonly path: string;
  readonly token?: string;
  /** The Authorization header as sent (forged tokens); otherwise `Bearer <token>`. */
  readonly authorization?: string;
  readonly body?: string;
  readonly contentType?: string;
  /** A search whose hostile filter is a valid value: 200 with nothing in it is right. */
  readonly mayMatchNothing?: boolean;
  /** An extreme but well-formed number (a page size, an offset): capping it is as right as refusing it. */
  readonly tolerated?: boolean;
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

interface OpenApi {
  paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>;
}
interface JsonSchema {
  properties?: Record<string, unknown>;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
}
interface Capability {
  rest: { resource: { type: string; interaction: { code: string }[]; operation?: { name: string }[]; searchParam?: { name: string; type: string }[] }[] }[];
}

const propertiesOf = (schema: JsonSchema | undefined): string[] => {
  if (!schema) return [];
  const nested = [...(schema.oneOf ?? []), ...(schema.anyOf ?? []), ...(schema.allOf ?? [])].flatMap(propertiesOf);
  return [...new Set([...Object.keys(schema.properties ?? {}), ...nested])];
};

/** Every field of a body set to one value: strings where numbers, enums, dates or ids belong, and so on. */
const everyField = (fields: readonly string[], value: unknown) => Object.fromEntries((fields.length > 0 ? fields : ['idempotencyKey', 'occurredAt']).map((f) => [f, value]));

/** Whether a 2xx body holds nothing: an empty Bundle, or only empty lists. */
const holdsNothing = (text: string): boolean => {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return false;
  }
  if (body.resourceType === 'Bundle') return (body.total === 0 || body.total === undefined) && ((body.entry as unknown[] | undefined) ?? []).length === 0;
  const lists = Object.values(body).filter(Array.isArray);
  return lists.length > 0 && lists.every((l) => l.length === 0);
};

describe('hostile input to every route', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let head: number;
  let patientId: string;
  let frameworkId: string;
  let nurse: string;
  let gp: string;
  let system: string;
  let auditor: string;
  /** A second auditor for the calendar and inherited-name cases: each user stays under the default per-user limit. */
  let edgeAuditor: string;
  let operationsAuditor: string;
  let careWorker: string;
  /** The care agency's registered manager: the visits' routes (issue 13), so each user stays under the per-user limit. */
  let manager: string;
  const searchAuditors = new Map<string, string>();
  let openApi: OpenApi;
  let capability: Capability;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const seen: { readonly c: Case; readonly reply: Reply }[] = [];

  const token = (claims: MintClaims) => mintToken(claims, { dataDir });

  /** Raw HTTP, so paths go out exactly as written (fetch would normalise `..` and re-encode). */
  const send = (c: Case): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const url = new URL(tandem.url);
      const authorization = c.authorization ?? (c.token ? `Bearer ${c.token}` : undefined);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method: c.method,
          path: c.path,
          agent,
          headers: {
            ...(authorization !== undefined ? { authorization } : {}),
            ...(c.body !== undefined ? { 'content-type': c.contentType ?? (c.path.startsWith('/fhir') ? 'application/fhir+json' : 'application/json'), 'content-length': Buffer.byteLength(c.body) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.end(c.body);
    });

  /** Runs the cases a few at a time; returns what each answered. */
  const run = async (cases: readonly Case[]) => {
    const replies: { c: Case; reply: Reply }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < cases.length) {
          const c = cases[next++]!;
          const reply = await send(c).catch((error: unknown): Reply => ({ status: 0, headers: {}, text: `request failed: ${String(error)}` }));
          replies.push({ c, reply });
        }
      }),
    );
    seen.push(...replies);
    return replies;
  };

  /** What is wrong with a reply, if anything. */
  const faultsOf = (c: Case, reply: Reply): string[] => {
    const faults: string[] = [];
    const fhir = c.path.startsWith('/fhir');
    const type = String(reply.headers['content-type'] ?? '');
    if (reply.status === 0) return [reply.text];
    if (reply.status >= 500) faults.push(`answered ${reply.status}`);
    if (reply.status < 400) {
      // A tolerated case may answer anything but a 5xx; a search must have matched nothing; anything else must be refused.
      if (!c.tolerated && !c.mayMatchNothing) faults.push(`answered ${reply.status}: ${reply.text.slice(0, 200)}`);
      if (!c.tolerated && c.mayMatchNothing && !holdsNothing(reply.text)) faults.push(`answered ${reply.status} with matches: ${reply.text.slice(0, 200)}`);
    } else {
      if (fhir && !type.startsWith('application/fhir+json')) faults.push(`content-type ${type}`);
      if (!fhir && !type.startsWith('application/problem+json')) faults.push(`content-type ${type}`);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(reply.text) as Record<string, unknown>;
      } catch {
        faults.push('the body is not JSON');
      }
      if (fhir && body.resourceType !== 'OperationOutcome') faults.push('not an OperationOutcome');
      if (!fhir && (body.status !== reply.status || typeof body.title !== 'string')) faults.push('not problem+json with its status and title');
    }
    for (const leak of LEAKS) if (leak.test(reply.text)) faults.push(`leaks ${leak}: ${reply.text.slice(0, 300)}`);
    if (reply.text.includes(dataDir)) faults.push('leaks the data directory');
    if (!reply.headers['x-content-type-options']) faults.push('no security headers (helmet)');
    return faults;
  };

  const expectClean = (replies: readonly { c: Case; reply: Reply }[]) => {
    const faults = replies.flatMap(({ c, reply }) => faultsOf(c, reply).map((f) => `${c.method} ${c.path.slice(0, 120)} [${c.name}] -> ${reply.status}: ${f}`));
    expect(faults).toEqual([]);
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-hostile-'));
    // The default rate limits stay on: every user below sends well under 1,200 requests a minute.
    // Each user's hostile requests stay under this server's per-user limit (HOSTILE_RATE_LIMIT), so
    // every answer is the route's own refusal, never the limiter's 429.
    tandem = await startTandem(
      loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', TANDEM_TEST_CLOCK: 'true', LOG_LEVEL: 'silent', TANDEM_RATE_LIMIT_PER_MINUTE: String(HOSTILE_RATE_LIMIT) }),
      pino({ level: 'silent' }),
    );
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    ({
      patientIds: [patientId = ''],
    } = await seedDemoData(record.care, { patients: 1, days: 1, now: new Date() }));
    nurse = await token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
    gp = await token({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration });
    system = await token({ role: 'system', user: 'hostile-test-integration' });
    auditor = await token({ role: 'auditor', user: 'auditor-hostile-test' });
    edgeAuditor = await token({ role: 'auditor', user: 'auditor-hostile-test-edges' });
    // The FHIR operations' cases, under a user of their own (each user stays under the rate limit).
    operationsAuditor = await token({ role: 'auditor', user: 'auditor-hostile-test-operations' });
    careWorker = await token({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId });
    manager = await token({ role: 'registered-manager', user: 'manager-hostile-test', org: DEMO.careAgency.organisationId });
    // The read models hold the demo before anything is sent.
    const caughtUp = await fetch(`${tandem.url}/fhir/Patient/${patientId}`, { headers: { authorization: `Bearer ${gp}`, 'x-tandem-min-position': String(await tandem.storage.store.headPosition()) } });
    expect(caughtUp.status).toBe(200);
    openApi = (await (await fetch(`${tandem.url}/openapi.json`)).json()) as OpenApi;
    capability = (await (await fetch(`${tandem.url}/fhir/metadata`)).json()) as Capability;
    // Each type's searches by an auditor of its own: every user stays under the per-user limit however many types and parameters there are.
    for (const { type } of capability.rest[0]!.resource) searchAuditors.set(type, await token({ role: 'auditor', user: `auditor-hostile-test-search-${type.toLowerCase()}` }));
    const frameworks = (await (await fetch(`${tandem.url}/api/frameworks`, { headers: { authorization: `Bearer ${nurse}` } })).json()) as { frameworks: { id: string }[] };
    frameworkId = frameworks.frameworks[0]!.id;
    head = await tandem.storage.store.headPosition();
  }, 60_000);

  afterAll(async () => {
    agent.destroy();
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A real value for each path parameter, so only the hostile part is wrong. */
  const realParam = (name: string): string =>
    ({ patientId, careWorkerId: DEMO.careWorkers[0]!.practitionerId, frameworkId, entryId: '3f0c4a8e-2b1d-4c6e-9a7f-5d2e1b0c9a8f' })[name] ?? 'c0ffee00-0000-4000-8000-000000000000';

  const fill = (template: string, values: (name: string) => string) => template.replace(/\{(\w+)\}/g, (_, name: string) => values(name));

  /** The JSON APIs' cases, from the OpenAPI document. */
  const jsonApiCases = (): Case[] => {
    const cases: Case[] = [];
    for (const [template, operations] of Object.entries(openApi.paths)) {
      const delegation = !COMMAND_PATH.test(template);
      for (const [method, operation] of Object.entries(operations)) {
        const family: Family = method === 'get' ? 'delegation-read' : delegation ? 'delegation-command' : 'record-command';
        // The auditors' API refuses everyone else before reading anything: hostile input must reach it as an auditor's.
        const visits = /^\/api\/(patients\/\{patientId\}\/)?visits/.test(template);
        const token = template.startsWith('/api/audit/') ? auditor : family === 'delegation-command' ? careWorker : visits ? manager : nurse;
        const path = fill(template, realParam);
        const pathParams = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
        const queryParams = (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
        const at = (name: string, p: string, extra: Partial<Case> = {}): Case => ({ name, family, method: method.toUpperCase(), path: p, token, ...extra });
        // Hostile ids in each path parameter.
        for (const param of pathParams) {
          for (const id of HOSTILE_IDS) {
            const p = fill(template, (name) => (name === param ? id : realParam(name)));
            // A read by an id that names nothing may answer an empty list (a person's competences): it must hold nothing.
            cases.push(at(`id ${param}=${id}`, p, method === 'post' ? { body: '{}' } : { mayMatchNothing: true }));
          }
        }
        // Hostile query parameters: a list filtered by nothing that exists holds nothing.
        for (const param of queryParams) {
          for (const value of HOSTILE_VALUES) cases.push(at(`query ${param}`, `${path}?${param}=${encodeURIComponent(value)}`, { mayMatchNothing: true }));
        }
        if (method !== 'post') continue;
        const fields = propertiesOf(operation.requestBody?.content['application/json']?.schema);
        for (const malformed of MALFORMED_JSON) cases.push(at('malformed JSON', path, { body: malformed }));
        cases.push(at('over the body limit', path, { body: ONE_MB_AND_MORE }));
        cases.push(at('not JSON at all', path, { body: 'idempotencyKey=1&text=hello', contentType: 'application/x-www-form-urlencoded' }));
        cases.push(at('prototype pollution', path, { body: '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}' }));
        for (const body of ['[]', '[{}]', 'null', '42', '"text"', 'true']) cases.push(at(`body ${body}`, path, { body }));
        for (const [name, value] of [
          ['numbers for strings', 12345],
          ['arrays for values', []],
          ['objects for values', { $gt: '' }],
          ['nulls', null],
          ['booleans', true],
          ['huge numbers', 1e308],
        ] as const) {
          cases.push(at(`wrong types: ${name}`, path, { body: JSON.stringify(everyField(fields, value)) }));
        }
        for (const value of HOSTILE_VALUES) cases.push(at(`body fields ${value}`, path, { body: JSON.stringify(everyField(fields, value)) }));
      }
    }
    return cases;
  };

  /** The FHIR REST API's cases, from the CapabilityStatement. */
  const fhirCases = (): Case[] => {
    const cases: Case[] = [];
    // An auditor searches (and sees everyone, so an injection that matched would show); the GP reads and writes.
    // The visits' types (issue 13) by a second auditor and the agency's manager (who plans visits), so each user stays under the per-user limit.
    // A GP system's writes of medicines, allergies and conditions (issue 13) by the integration's own token, for the same reason.
    const at = (family: Family, name: string, method: string, path: string, extra: Partial<Case> = {}): Case => {
      const visits = /^\/fhir\/(Appointment|Encounter)\b/.test(path);
      const medicines = family === 'fhir-write' && /^\/fhir\/(MedicationRequest|AllergyIntolerance|Condition)\b/.test(path);
      const type = /^\/fhir\/([A-Za-z]+)/.exec(path)?.[1] ?? '';
      return { name, family, method, path, token: family === 'fhir-search' ? (searchAuditors.get(type) ?? auditor) : visits ? manager : medicines ? system : gp, ...extra };
    };
    for (const resource of capability.rest[0]!.resource) {
      const { type } = resource;
      const interactions = new Set(resource.interaction.map((i) => i.code));
      for (const id of HOSTILE_IDS) {
        if (interactions.has('read')) cases.push(at('fhir-read', `read id ${id}`, 'GET', `/fhir/${type}/${id}`));
        if (interactions.has('vread')) cases.push(at('fhir-read', `vread id ${id}`, 'GET', `/fhir/${type}/${id}/_history/1`));
        if (interactions.has('history-instance')) cases.push(at('fhir-history', `history id ${id}`, 'GET', `/fhir/${type}/${id}/_history`));
        if (resource.operation?.some((o) => o.name === 'everything')) cases.push(at('fhir-everything', `$everything id ${id}`, 'GET', `/fhir/${type}/${id}/$everything`));
        if (resource.operation?.some((o) => o.name === 'meta')) cases.push(at('fhir-read', `$meta id ${id}`, 'GET', `/fhir/${type}/${id}/$meta`, { token: operationsAuditor }));
        if (interactions.has('update')) cases.push(at('fhir-write', `update id ${id}`, 'PUT', `/fhir/${type}/${id}`, { body: JSON.stringify({ resourceType: type, id }) }));
      }
      if (interactions.has('vread')) {
        for (const vid of [...HOSTILE_IDS, '-1', '0', '1.5', '99999999999999999999']) cases.push(at('fhir-read', `vread vid ${vid}`, 'GET', `/fhir/${type}/${type === 'Patient' ? patientId : 'x'}/_history/${vid}`));
      }
      // Searches: each parameter with each hostile value; the paging and sorting controls too.
      if (interactions.has('search-type')) {
        for (const param of resource.searchParam ?? []) {
          for (const value of HOSTILE_VALUES) {
            cases.push(at('fhir-search', `search ${param.name}`, 'GET', `/fhir/${type}?${param.name}=${encodeURIComponent(value)}`, { mayMatchNothing: true }));
          }
        }
        for (const control of ['_count', '_offset', '_sort', '_include', '_revinclude', '_elements', '_at']) {
          for (const value of HOSTILE_VALUES) cases.push(at('fhir-search', `search ${control}`, 'GET', `/fhir/${type}?${control}=${encodeURIComponent(value)}`, { mayMatchNothing: true }));
          for (const value of EXTREME_NUMBERS) cases.push(at('fhir-search', `search ${control}`, 'GET', `/fhir/${type}?${control}=${value}`, { tolerated: true }));
        }
        cases.push(at('fhir-search', 'search unknown parameter', 'GET', `/fhir/${type}?${encodeURIComponent(SQL[0])}=1`, { mayMatchNothing: true }));
        // Names every plain object inherits: a sort key or a parameter, never a function reaching SQL (500).
        for (const name of INHERITED_NAMES) {
          cases.push(at('fhir-search', `_sort ${name}`, 'GET', `/fhir/${type}?_sort=${name}`, { token: edgeAuditor }));
          cases.push(at('fhir-search', `parameter ${name}`, 'GET', `/fhir/${type}?${name}=1`, { token: edgeAuditor }));
        }
        // Dates at the calendar's edges: a valid search answers (everything, or nothing); a date that does not exist is a 400.
        for (const param of (resource.searchParam ?? []).filter((p) => p.type === 'date')) {
          for (const value of CALENDAR_EDGES) cases.push(at('fhir-search', `${param.name} ${value}`, 'GET', `/fhir/${type}?${param.name}=${encodeURIComponent(value)}`, { tolerated: true, token: edgeAuditor }));
          for (const value of NO_SUCH_DATES) cases.push(at('fhir-search', `${param.name} ${value}`, 'GET', `/fhir/${type}?${param.name}=${encodeURIComponent(value)}`, { token: edgeAuditor }));
        }
      }
      if (interactions.has('history-type')) {
        for (const value of HOSTILE_VALUES) cases.push(at('fhir-history', 'type history _since', 'GET', `/fhir/${type}/_history?_since=${encodeURIComponent(value)}&_count=${encodeURIComponent(value)}`));
        for (const value of CALENDAR_EDGES) cases.push(at('fhir-history', `type history _since ${value}`, 'GET', `/fhir/${type}/_history?_since=${encodeURIComponent(value)}`, { tolerated: true }));
      }
      if (resource.operation?.some((o) => o.name === 'everything')) {
        for (const control of ['_at', '_since', '_count', '_offset']) {
          for (const value of HOSTILE_VALUES) cases.push(at('fhir-everything', `$everything ${control}`, 'GET', `/fhir/${type}/${patientId}/$everything?${control}=${encodeURIComponent(value)}`));
          for (const value of EXTREME_NUMBERS) cases.push(at('fhir-everything', `$everything ${control}`, 'GET', `/fhir/${type}/${patientId}/$everything?${control}=${value}`, { tolerated: true }));
        }
        for (const control of ['_at', '_since']) {
          for (const value of CALENDAR_EDGES) cases.push(at('fhir-everything', `$everything ${control} ${value}`, 'GET', `/fhir/${type}/${patientId}/$everything?${control}=${encodeURIComponent(value)}`, { tolerated: true }));
          for (const value of NO_SUCH_DATES) cases.push(at('fhir-everything', `$everything ${control} ${value}`, 'GET', `/fhir/${type}/${patientId}/$everything?${control}=${encodeURIComponent(value)}`));
        }
        for (const name of INHERITED_NAMES) cases.push(at('fhir-everything', `$everything _type ${name}`, 'GET', `/fhir/${type}/${patientId}/$everything?_type=${name}`));
      }
      if (resource.operation?.some((o) => o.name === 'lastn')) {
        for (const control of ['patient', 'max', 'code', 'category']) {
          for (const value of HOSTILE_VALUES) cases.push(at('fhir-search', `$lastn ${control}`, 'GET', `/fhir/${type}/$lastn?patient=${patientId}&${control}=${encodeURIComponent(value)}`, { token: operationsAuditor, mayMatchNothing: true }));
        }
      }
      if (resource.operation?.some((o) => o.name === 'validate')) {
        for (const malformed of MALFORMED_JSON) cases.push(at('fhir-write', '$validate: malformed JSON', 'POST', `/fhir/${type}/$validate`, { body: malformed, token: operationsAuditor }));
        for (const value of HOSTILE_VALUES) cases.push(at('fhir-write', '$validate: hostile resource', 'POST', `/fhir/${type}/$validate`, { body: JSON.stringify({ resourceType: type, id: value, text: { status: value, div: value } }), token: operationsAuditor, tolerated: true }));
      }
      // Writes: every body a create or update could be sent.
      for (const [interaction, method, path] of [
        ['create', 'POST', `/fhir/${type}`],
        ['update', 'PUT', `/fhir/${type}/${type === 'Patient' ? patientId : 'c0ffee00-0000-4000-8000-000000000000'}`],
      ] as const) {
        if (!interactions.has(interaction)) continue;
        const write = (name: string, body: string, extra: Partial<Case> = {}) => cases.push(at('fhir-write', `${interaction}: ${name}`, method, path, { body, ...extra }));
        for (const malformed of MALFORMED_JSON) write('malformed JSON', malformed);
        write('over the body limit', JSON.stringify({ resourceType: type, text: { div: 'x'.repeat(1_100_000) } }));
        write('not JSON at all', '<Patient/>', { contentType: 'application/fhir+xml' });
        for (const body of ['[]', 'null', '42', '"text"', '{}', JSON.stringify({ resourceType: 'Bundle' }), JSON.stringify({ resourceType: SCRIPT })]) write(`body ${body.slice(0, 30)}`, body);
        write('prototype pollution', `{"resourceType": "${type}", "__proto__": {"polluted": true}}`);
        const shapes: Record<string, unknown>[] = [
          { status: 12345, code: [], subject: null, effectiveDateTime: true, valueQuantity: 'a lot', name: 42, birthDate: [], identifier: 'x' },
          { status: null, code: null, subject: { reference: 42 }, identifier: [{ system: null, value: {} }], name: [{ family: [], given: 'x' }] },
          { meta: { versionId: SQL[0] }, id: SCRIPT, status: 'final', subject: { reference: `Patient/${SQL[0]}` }, code: { coding: [{ system: SQL[1], code: SCRIPT }] } },
          {
            identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: SQL[0] }],
            name: [{ family: SCRIPT, given: [SQL[1]] }],
            birthDate: SQL[0],
            generalPractitioner: [{ reference: `Practitioner/${SQL[1]}` }],
          },
          { status: 'completed', medicationCodeableConcept: { text: SCRIPT }, subject: { reference: `Patient/${encodeURIComponent('../../etc/passwd')}` }, effectiveDateTime: SQL[0], dosage: { dose: { value: SQL[1] } } },
        ];
        for (const [i, shape] of shapes.entries()) write(`hostile fields ${i + 1}`, JSON.stringify({ resourceType: type, ...shape }));
      }
    }
    // Types that do not exist, and hostile type names.
    for (const type of [...HOSTILE_IDS.slice(0, 3), 'Binary', '__proto__', 'constructor']) {
      cases.push(at('fhir-read', `type ${type}`, 'GET', `/fhir/${type}`));
      cases.push(at('fhir-read', `type ${type}`, 'GET', `/fhir/${type}/1`));
      cases.push(at('fhir-write', `type ${type}`, 'POST', `/fhir/${type}`, { body: '{}' }));
    }
    return cases;
  };

  /** /admin: the test clock (system token) and the projection rebuild (its body is never read, so hostile input goes with a token it refuses). */
  const adminCases = (): Case[] => {
    const cases: Case[] = [];
    const at = (name: string, method: string, path: string, extra: Partial<Case> = {}): Case => ({ name, family: 'admin', method, path, token: system, ...extra });
    const advance = '/admin/clock/advance';
    for (const malformed of MALFORMED_JSON) cases.push(at('malformed JSON', 'POST', advance, { body: malformed }));
    cases.push(at('over the body limit', 'POST', advance, { body: JSON.stringify({ minutes: 1, pad: 'x'.repeat(1_100_000) }) }));
    for (const minutes of [...HOSTILE_VALUES, null, [], [5], {}, true, '', -1, 1e308, 'NaN', '30']) cases.push(at(`minutes ${JSON.stringify(minutes)}`, 'POST', advance, { body: JSON.stringify({ minutes }) }));
    for (const body of ['[]', 'null', '42', '{}']) cases.push(at(`body ${body}`, 'POST', advance, { body }));
    for (const value of HOSTILE_VALUES) cases.push(at('timers pending', 'GET', `/admin/timers?pending=${encodeURIComponent(value)}`, { mayMatchNothing: true }));
    // The clock and rebuild routes for someone they refuse, with hostile input besides.
    for (const path of ['/admin/clock', '/admin/timers', advance, '/admin/projections/rebuild']) {
      for (const t of [nurse, auditor]) cases.push(at('a role it refuses', path === '/admin/clock' || path === '/admin/timers' ? 'GET' : 'POST', `${path}?x=${encodeURIComponent(SQL[1])}`, { token: t, ...(path.startsWith('/admin/clock/') || path.endsWith('rebuild') ? { body: MALFORMED_JSON[0] } : {}) }));
    }
    for (const id of HOSTILE_IDS) cases.push(at(`path ${id}`, 'POST', `/admin/projections/${id}`, { token: nurse }));
    return cases;
  };

  /**
   * Otherwise valid commands carrying text PostgreSQL cannot store (a NUL, a lone surrogate): they
   * got past validation and failed at the append with a 500.
   */
  const unstorableTextCases = (): Case[] => {
    const occurredAt = new Date(Date.now() - 60_000).toISOString();
    const cases: Case[] = [];
    for (const [name, text] of [
      ['NUL', `a${NUL}b`],
      ['lone high surrogate', 'a\ud800b'],
      ['lone low surrogate', 'a\udc00b'],
    ] as const) {
      const note = { idempotencyKey: `hostile-${name}`, occurredAt, text: 'Ate well at lunch' };
      for (const body of [{ ...note, text }, { ...note, idempotencyKey: `hostile-${text}` }, { ...note, [`text${text}`]: 'x' }]) {
        cases.push({ name: `note with a ${name}`, family: 'record-command', method: 'POST', path: `/api/patients/${patientId}/notes`, token: nurse, body: JSON.stringify(body) });
      }
      const pulse = {
        resourceType: 'Observation',
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        subject: { reference: `Patient/${patientId}` },
        effectiveDateTime: occurredAt,
        valueQuantity: { value: 72, unit: `beats/minute${text}`, system: 'http://unitsofmeasure.org', code: '/min' },
      };
      cases.push({ name: `Observation with a ${name}`, family: 'fhir-write', method: 'POST', path: '/fhir/Observation', token: gp, body: JSON.stringify(pulse) });
      cases.push({ name: `competence with a ${name}`, family: 'delegation-command', method: 'POST', path: '/api/competences', token: nurse, body: JSON.stringify({ idempotencyKey: `hostile-${text}`, occurredAt, careWorker: { practitionerId: DEMO.careWorkers[0]!.practitionerId, role: 'care-worker' }, frameworkId }) });
    }
    return cases;
  };

  it('answers hostile input from valid users with a 4xx and a clean JSON error, on every route', async () => {
    const cases = [...jsonApiCases(), ...fhirCases(), ...adminCases(), ...unstorableTextCases()];
    // Every route family is covered, and each user stays under this server's per-user limit.
    expect(new Set(cases.map((c) => c.family)).size).toBe(9);
    const perUser = new Map<string, number>();
    for (const c of cases) perUser.set(c.token!, (perUser.get(c.token!) ?? 0) + 1);
    expect(Math.max(...perUser.values())).toBeLessThan(HOSTILE_RATE_LIMIT);
    const replies = await run(cases);
    expect(replies).toHaveLength(cases.length);
    expectClean(replies);
    expect(replies.filter((r) => r.reply.status === 429)).toEqual([]);
  }, 120_000);

  it('answers _sort=constructor and its kin with a 400 naming _sort, and dates in year 9999 as FHIR clients expect (le: everything; eq, gt: nothing), never a 500', async () => {
    const json = async (path: string, t = auditor) => {
      const reply = await send({ name: 'edge', family: 'fhir-search', method: 'GET', path, token: t });
      return { status: reply.status, body: JSON.parse(reply.text) as { total?: number; entry?: unknown[]; issue?: { expression?: string[]; diagnostics?: string }[] } };
    };
    for (const name of ['constructor', 'toString', 'valueOf', 'hasOwnProperty']) {
      const sorted = await json(`/fhir/Observation?_sort=${name}`);
      expect(sorted.status).toBe(400);
      expect(sorted.body.issue?.[0]?.expression).toEqual(['_sort']);
      const parameter = await json(`/fhir/Observation?${name}=1`);
      expect(parameter.status).toBe(400);
      expect(parameter.body.issue?.[0]?.expression).toEqual([name]);
      const typed = await json(`/fhir/Patient/${patientId}/$everything?_type=${name}`, gp);
      expect(typed.status).toBe(400);
      expect(typed.body.issue?.[0]?.expression).toEqual(['_type']);
    }
    const all = await json('/fhir/Observation?_count=0');
    expect(all.status).toBe(200);
    expect(all.body.total).toBeGreaterThan(0);
    expect((await json('/fhir/Observation?date=le9999-12-31&_count=0')).body.total).toBe(all.body.total);
    expect((await json('/fhir/Observation?date=ge0001-01-01&_count=0')).body.total).toBe(all.body.total);
    for (const nothing of ['/fhir/Observation?date=gt9999-12-31', '/fhir/Observation?date=9999-12-31T23:59:59.999Z', '/fhir/Patient?birthdate=9999', '/fhir/Observation?_lastUpdated=lt0001-01-01T00:30:00%2B01:00']) {
      const reply = await json(nothing);
      expect([nothing, reply.status, reply.body.total]).toEqual([nothing, 200, 0]);
    }
    const now = await json(`/fhir/Patient/${patientId}/$everything?_count=0`, gp);
    const at9999 = await json(`/fhir/Patient/${patientId}/$everything?_at=9999-12-31&_count=0`, gp);
    expect(at9999.status).toBe(200);
    expect(at9999.body.total).toBe(now.body.total);
    // A date that does not exist is no date: 400 naming the parameter.
    for (const [path, param] of [
      ['/fhir/Patient?birthdate=2021-02-29', 'birthdate'],
      ['/fhir/Observation?date=ge2020-02-30', 'date'],
      ['/fhir/Patient?birthdate=0000', 'birthdate'],
      [`/fhir/Patient/${patientId}/$everything?_at=2020-13-01`, '_at'],
    ] as const) {
      const reply = await json(path, path.includes('$everything') ? gp : auditor);
      expect([path, reply.status, reply.body.issue?.[0]?.expression]).toEqual([path, 400, [param]]);
    }
  });

  it('answers forged tokens with 401 on every route, then 429 with Retry-After once an address has guessed too often, but still lets in every token that verifies', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: 'intruder', role: 'system', scope: 'system/*.cruds', iat: now, exp: now + 600 };
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    // Tandem's own development key, to sign tokens whose signature verifies but whose claims do not.
    const stored = JSON.parse(readFileSync(join(dataDir, 'dev-issuer.json'), 'utf8')) as { issuer: string; audience: string; kid: string; privateJwk: JsonWebKey; publicJwk: JsonWebKey };
    const key = createPrivateKey({ key: stored.privateJwk, format: 'jwk' });
    const signed = (payload: Record<string, unknown>) => {
      const input = `${b64({ alg: 'ES256', kid: stored.kid, typ: 'JWT' })}.${b64(payload)}`;
      return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    };
    /** alg confusion: HMAC keyed with the public key, which anyone can read. */
    const hmac = (payload: Record<string, unknown>) => {
      const input = `${b64({ alg: 'HS256', kid: stored.kid, typ: 'JWT' })}.${b64(payload)}`;
      return `${input}.${createHmac('sha256', JSON.stringify(stored.publicJwk)).update(input).digest('base64url')}`;
    };
    const [header, , signature] = nurse.split('.');
    const forged: Record<string, string> = {
      'alg none': `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, iss: stored.issuer, aud: stored.audience })}.`,
      'another key': `Bearer ${await (await DevIssuer.create()).mint({ role: 'system', user: 'intruder' })}`,
      'HS256 with the public key as secret': `Bearer ${hmac({ ...claims, iss: stored.issuer, aud: stored.audience })}`,
      'payload changed': `Bearer ${header}.${b64({ ...claims, iss: stored.issuer, aud: stored.audience, sub: DEMO.nurse.practitionerId, role: 'auditor' })}.${signature}`,
      expired: `Bearer ${signed({ ...claims, iss: stored.issuer, aud: stored.audience, iat: now - 7200, exp: now - 3600 })}`,
      'wrong audience': `Bearer ${signed({ ...claims, iss: stored.issuer, aud: 'https://other-service.example' })}`,
      'wrong issuer': `Bearer ${signed({ ...claims, iss: 'https://idp.evil.example', aud: stored.audience })}`,
      'bad claims': `Bearer ${signed({ ...claims, iss: stored.issuer, aud: stored.audience, role: 'superuser', sub: SQL[0] })}`,
      // Signed by Tandem's own key, so no guess: refused for what they say (issue 16, items 4 and 13).
      'NUL in sub': `Bearer ${signed({ ...claims, iss: stored.issuer, aud: stored.audience, sub: `${DEMO.careWorkers[0]!.practitionerId}\u0000x` })}`,
      'lone surrogate in org': `Bearer ${signed({ ...claims, iss: stored.issuer, aud: stored.audience, org: 'org-kindly-care\ud800' })}`,
      'valid for fifty years': `Bearer ${signed({ ...claims, iss: stored.issuer, aud: stored.audience, exp: now + 50 * 365 * 86_400 })}`,
      'issued next year': `Bearer ${signed({ ...claims, iss: stored.issuer, aud: stored.audience, iat: now + 365 * 86_400, exp: now + 365 * 86_400 + 600 })}`,
      garbage: `Bearer ${SCRIPT}`,
      'garbage JWT': 'Bearer eyJ.eyJ.eyJ',
      'empty Bearer': 'Bearer ',
      'not Bearer': `Basic ${Buffer.from('admin:admin').toString('base64')}`,
    };
    // One route of each kind with every forged token first (fewer guesses than the per-address
    // limit of 60, so each must be a 401), then every route with every forged token.
    const routes: readonly Omit<Case, 'name'>[] = [
      ...Object.entries(openApi.paths).flatMap(([template, operations]) =>
        Object.keys(operations).map((method) => ({
          family: (method === 'get' ? 'delegation-read' : COMMAND_PATH.test(template) ? 'record-command' : 'delegation-command') as Family,
          method: method.toUpperCase(),
          path: fill(template, realParam),
          ...(method === 'post' ? { body: '{}' } : {}),
        })),
      ),
      ...capability.rest[0]!.resource.flatMap((r) => [
        { family: 'fhir-read' as const, method: 'GET', path: `/fhir/${r.type}/${patientId}` },
        { family: 'fhir-read' as const, method: 'GET', path: `/fhir/${r.type}/${patientId}/_history/1` },
        { family: 'fhir-history' as const, method: 'GET', path: `/fhir/${r.type}/_history` },
        { family: 'fhir-search' as const, method: 'GET', path: `/fhir/${r.type}?_count=1` },
        ...(r.interaction.some((i) => i.code === 'create') ? [{ family: 'fhir-write' as const, method: 'POST', path: `/fhir/${r.type}`, body: JSON.stringify({ resourceType: r.type }) }] : []),
        ...(r.interaction.some((i) => i.code === 'update') ? [{ family: 'fhir-write' as const, method: 'PUT', path: `/fhir/${r.type}/${patientId}`, body: JSON.stringify({ resourceType: r.type, id: patientId }) }] : []),
      ]),
      { family: 'fhir-everything', method: 'GET', path: `/fhir/Patient/${patientId}/$everything` },
      { family: 'admin', method: 'POST', path: '/admin/projections/rebuild' },
      { family: 'admin', method: 'GET', path: '/admin/clock' },
      { family: 'admin', method: 'POST', path: '/admin/clock/advance', body: '{"minutes": 30}' },
      { family: 'admin', method: 'GET', path: '/admin/timers' },
    ];
    // 7 routes x 8 guessing tokens (alg none, another key, HS256, payload changed, 4 kinds of garbage) = 56 guesses.
    const representatives = (['record-command', 'delegation-command', 'delegation-read', 'fhir-read', 'fhir-write', 'fhir-everything', 'admin'] as const).map((f) => routes.find((r) => r.family === f)!);
    const first = representatives.flatMap((route) => Object.entries(forged).map(([name, authorization]): Case => ({ ...route, name, authorization })));
    const firstReplies = await run(first);
    expectClean(firstReplies);
    const notRefused = firstReplies.filter((r) => r.reply.status !== 401).map((r) => `${r.c.method} ${r.c.path} [${r.c.name}] -> ${r.reply.status}`);
    expect(notRefused).toEqual([]);

    const rest = routes.flatMap((route) => Object.entries(forged).map(([name, authorization]): Case => ({ ...route, name, authorization })));
    const replies = await run(rest);
    expectClean(replies);
    const unexpected = replies.filter((r) => r.reply.status !== 401 && r.reply.status !== 429).map((r) => `${r.c.method} ${r.c.path} [${r.c.name}] -> ${r.reply.status}`);
    expect(unexpected).toEqual([]);
    // The address guessed far more than 60 times in the minute: refused with 429 and when to come back.
    const throttled = replies.filter((r) => r.reply.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    for (const { c, reply } of throttled) {
      expect(Number(reply.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const body = JSON.parse(reply.text) as { resourceType?: string; issue?: { code: string }[]; title?: string };
      if (c.path.startsWith('/fhir')) expect(body.issue?.[0]?.code).toBe('throttled');
      else expect(body.title).toBe('Too Many Requests');
    }
    // A token that verifies is never refused for the address's guesses: behind a proxy (no
    // TANDEM_TRUST_PROXY) the address is everyone's, so the GP and the nurse still get in...
    const good = await send({ name: 'good token', family: 'fhir-read', method: 'GET', path: `/fhir/Patient/${patientId}`, token: gp });
    expect(good.status).toBe(200);
    expect((await send({ name: 'good token', family: 'delegation-read', method: 'GET', path: '/api/frameworks', token: nurse })).status).toBe(200);
    // ...while the guesser is still refused.
    expect((await send({ name: 'a further guess', family: 'fhir-read', method: 'GET', path: `/fhir/Patient/${patientId}`, authorization: forged['another key']! })).status).toBe(429);
  }, 120_000);

  it('stored nothing but the access trail’s records of the attempts, and polluted no prototype', async () => {
    const appended = [];
    for (let from = head + 1; ; ) {
      const page = await tandem.storage.store.readAll({ fromPosition: from, maxCount: 1000 });
      if (page.length === 0) break;
      appended.push(...page);
      from = page[page.length - 1]!.position + 1;
    }
    const stored = appended.filter((e) => e.type !== 'AccessRecorded' || !e.stream.startsWith('audit-')).map((e) => `${e.stream} ${e.type}`);
    expect(stored).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(seen.length).toBeGreaterThan(1000);
  });
});

/** The care record's own command paths (the rest of /openapi.json is the delegation service's). */
const COMMAND_PATH = /^\/api\/(patients|practitioners|organisations|visits)(\/|$)/;
