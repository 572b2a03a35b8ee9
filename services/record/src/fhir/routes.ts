import { FHIR_ACCESS, isDirectoryType, mayBreakGlass, type Decision, type EndpointAccess } from '@tandem/auth';
import { FhirReader, parameterName, RESULT_PARAMS, SearchError, searchParamOf, SEARCH_PARAMS, type SearchQuery, type StoredResource } from '@tandem/fhir-read-model';
import type { Bundle, CapabilityStatementRestResource, CapabilityStatementRestResourceOperation, FhirResource as Resource } from 'fhir/r4';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { authenticate, principalOf, type About, type RecordAccess } from '../http/access';
import { storableJson } from '../http/storable-json';
import { bundleJson, entryFor, outcomeEntry, pageLinks, searchLinks, sentQuery } from './bundle';
import { shapeResource, shapingOf, subsets, type Shaping } from './shaping';
import { capabilityStatement } from './capability';
import { lastnOperation, metaOperation, validateOperation, type OperationDeps } from './operations';
import { FhirError, operationOutcome, type OutcomeIssue } from './operation-outcome';
import { INTERACTION_ROUTES, OPERATION_ROUTES, type InteractionRoute, type OperationRoute, type ServedInteraction, type ServedOperation } from './route-table';
import { acceptsFhirJson } from './formats';

export const FHIR_JSON = 'application/fhir+json';
/** Read-your-writes: a client passes the position a command returned; the read waits for it. */
export const MIN_POSITION_HEADER = 'x-tandem-min-position';
const READ_YOUR_WRITES_WAIT_MS = 2000;
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const MAX_VERSION_ID = 2_147_483_647;

export interface ReadModelPosition {
  waitFor(position: number, timeoutMs: number): Promise<boolean>;
}

/** Creates and updates go through the same commands as the JSON API; the record service supplies them. */
export interface FhirWrites {
  /**
   * `created: false` when the resource already existed (a registered NHS number, a repeated
   * request): 200, not 201. `foundExisting` when it is a person someone else registered: the answer
   * shows them only if the caller may read them.
   */
  create(type: string, body: unknown, req: Request): Promise<{ id: string; position: number; created?: boolean; foundExisting?: boolean; conflicting?: readonly OutcomeIssue[] }>;
  update(type: string, id: string, body: unknown, ifMatch: number | undefined, req: Request): Promise<{ position: number }>;
  readonly writableTypes: readonly string[];
  /** The writable types whose update must carry If-Match (428 without): `versioned-update` in the CapabilityStatement. */
  readonly ifMatchRequired?: readonly string[];
  /** `POST /fhir` with a transaction (all or nothing) or batch (each entry on its own) Bundle. */
  bundle?(body: unknown, req: Request): Promise<BundleWriteResult>;
}

/** One entry's answer: what it wrote (id, position), or its refusal (issues naming `Bundle.entry[i]...`). */
export interface BundleEntryWrite {
  readonly index: number;
  readonly status: number;
  readonly type?: string;
  readonly id?: string;
  readonly position?: number;
  readonly created?: boolean;
  readonly foundExisting?: boolean;
  /** Found existing, with details sent that differ from the record's (each named): refused, never dropped. */
  readonly conflicting?: readonly OutcomeIssue[];
  readonly issues?: readonly OutcomeIssue[];
}

export interface BundleWriteResult {
  readonly type: 'transaction' | 'batch';
  readonly entries: readonly BundleEntryWrite[];
}

export interface FhirRouteDeps {
  readonly reader: FhirReader;
  /** Who may read what: every route but /fhir/metadata needs a bearer token and the policy's permission. */
  readonly access: RecordAccess;
  readonly readModel: ReadModelPosition;
  readonly writes?: FhirWrites;
  readonly version: string;
  /** What other services of this process serve under /fhir, for the CapabilityStatement. */
  readonly moreCapabilities?: () => readonly CapabilityStatementRestResource[];
  /** System-level operations other services of this process serve (Bulk Data `$export`), for the CapabilityStatement. */
  readonly moreOperations?: () => readonly CapabilityStatementRestResourceOperation[];
  readonly logError?: (error: unknown) => void;
  /** The access trail: flushed before an AuditEvent search, so an auditor sees every access up to their request. */
  readonly accessTrail?: { flush(): Promise<number> };
  /** Where a SMART app signs in (the SMART configuration's endpoints), for the CapabilityStatement's security; none: no SMART claimed. */
  readonly smartEndpoints?: (req: Request) => Promise<SmartEndpoints | undefined>;
}

export interface SmartEndpoints {
  readonly authorize: string;
  readonly token: string;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  201: 'Created',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  422: 'Unprocessable Entity',
  428: 'Precondition Required',
};

const send = (res: Response, status: number, body: Resource) => res.status(status).type(FHIR_JSON).send(JSON.stringify(body));

/** A searchset or history bundle, its resources written from the text their reader holds (the same bytes as `send`). */
const sendBundle = (res: Response, bundle: Bundle) => res.status(200).type(FHIR_JSON).send(bundleJson(bundle));

const baseUrl = (req: Request) => `${req.protocol}://${req.get('host')}/fhir`;

const checkType = (type: string) => {
  // Own keys only: `__proto__` or `constructor` is no resource type (it reached the SQL as one: 500).
  if (!Object.hasOwn(SEARCH_PARAMS, type)) throw new FhirError(404, [{ code: 'not-supported', diagnostics: `Resource type ${type} is not supported here; see /fhir/metadata` }]);
};

const checkId = (id: string) => {
  if (!FHIR_ID.test(id)) throw new FhirError(400, [{ code: 'value', diagnostics: `"${id}" is not a valid FHIR id`, expression: 'id' }]);
};

const query = (req: Request): SearchQuery => req.query as SearchQuery;

const sendStored = (req: Request, res: Response, stored: StoredResource) => {
  const shaping = shapingOf(query(req), req.get('prefer'));
  const etag = `W/"${stored.versionId}"`;
  res.set('ETag', etag).set('Last-Modified', new Date(stored.lastUpdated).toUTCString());
  const ifNoneMatch = req.get('if-none-match');
  if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim() === etag || t.trim() === `"${stored.versionId}"`)) {
    res.status(304).end();
    return;
  }
  if (subsets(shaping)) return send(res, 200, shapeResource(stored.resource, shaping));
  // Held ready as JSON text where the reader keeps the latest versions (a version never changes).
  if (stored.json !== undefined) res.status(200).type(FHIR_JSON).send(stored.json);
  else send(res, 200, stored.resource);
};

/** The answer to a create or update as `Prefer: return` asks: the resource (the default), nothing, or an OperationOutcome. */
const sendWritten = (req: Request, res: Response, status: number, resource: Resource) => {
  const preferred = shapingOf({}, req.get('prefer')).return;
  if (preferred === 'minimal') return res.status(status).end();
  if (preferred === 'OperationOutcome') {
    return send(res, status, operationOutcome([{ severity: 'information', code: 'informational', diagnostics: `${resource.resourceType}/${resource.id ?? ''} ${status === 201 ? 'created' : 'stored'}` }]));
  }
  return send(res, status, resource);
};

/**
 * The parameters a search under `Prefer: handling=lenient` leaves out, as the spec has it: those
 * this server does not know for the type. Under strict (the default) the reader refuses them.
 */
const unknownParameters = (type: string, search: SearchQuery, shaping: Shaping): string[] =>
  // Only a parameter unknown by its name is left out: a known one with a modifier this server does
  // not answer (`:not`, `:missing`) is refused even so, since leaving the modifier out would answer the opposite.
  shaping.handling === 'lenient' ? Object.keys(search).filter((name) => !(RESULT_PARAMS as readonly string[]).includes(name) && !searchParamOf(type, parameterName(name).base)) : [];

type DirectoryReference = { type: 'Practitioner' | 'Organization'; id: string };

/** The directory references of each resource, found once: a version never changes (the resources a reader holds are read again and again). */
const referencesFound = new WeakMap<Resource, ReadonlyMap<string, DirectoryReference>>();

const directoryReferencesOf = (resource: Resource): ReadonlyMap<string, DirectoryReference> => {
  const held = referencesFound.get(resource);
  if (held) return held;
  const found = new Map<string, DirectoryReference>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value === null || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value)) {
      const match = key === 'reference' && typeof inner === 'string' ? /^(Practitioner|Organization)\/([A-Za-z0-9\-.]{1,64})$/.exec(inner) : null;
      if (match) found.set(inner as string, { type: match[1] as 'Practitioner' | 'Organization', id: match[2]! });
      else visit(inner);
    }
  };
  visit(resource);
  referencesFound.set(resource, found);
  return found;
};

/** Every Practitioner and Organization the resources reference (`Practitioner/<id>`), once each. */
export const directoryReferencesIn = (resources: readonly Resource[]): DirectoryReference[] => {
  const found = new Map<string, DirectoryReference>();
  for (const resource of resources) for (const [reference, target] of directoryReferencesOf(resource)) found.set(reference, target);
  return [...found.values()];
};

const parseIfMatch = (header: string | undefined): number | undefined => {
  if (header === undefined) return undefined;
  const match = /^(W\/)?"(\d+)"$/.exec(header.trim());
  if (!match) throw new FhirError(400, [{ code: 'invalid', diagnostics: 'If-Match must be an ETag like W/"3"', expression: 'If-Match' }]);
  return Number(match[2]);
};

/**
 * The person a stored resource is about: a Patient itself, or its subject (or patient) reference;
 * for a resource that names no one itself (a Provenance), the person the projection indexed it under.
 */
export const aboutResource = (type: string, resource: Resource, indexedPatientId?: string): About => {
  if (isDirectoryType(type)) return 'nobody';
  if (resource.resourceType === 'Patient') return { patientId: resource.id ?? '' };
  // A Task names its person in `for` (a delegated activity).
  const r = resource as { subject?: { reference?: string }; patient?: { reference?: string }; for?: { reference?: string } };
  const ref = r.subject?.reference ?? r.patient?.reference ?? r.for?.reference ?? (indexedPatientId ? `Patient/${indexedPatientId}` : '');
  // A resource about no one we can name is refused to everyone bound by a relationship.
  return { patientId: ref.startsWith('Patient/') ? ref.slice('Patient/'.length) : '' };
};

/** The people whose data these resources are (directory resources are about no one). */
const peopleIn = (type: string, resources: readonly Resource[], indexed: readonly (string | undefined)[] = []): string[] => {
  if (isDirectoryType(type)) return [];
  const ids = resources.map((resource, i) => {
    if (isDirectoryType(resource.resourceType)) return '';
    const about = aboutResource(resource.resourceType, resource, indexed[i]);
    return typeof about === 'object' && 'patientId' in about ? about.patientId : '';
  });
  return [...new Set(ids.filter((id) => id !== ''))];
};

/** Search parameters that name people, by type: searching with them is deciding on each person named. */
const PERSON_PARAMS: Readonly<Record<string, readonly string[]>> = { Patient: ['_id'] };
const personParams = (type: string) => PERSON_PARAMS[type] ?? ['patient', 'subject', 'patient:Patient', 'subject:Patient'];
const valuesOf = (raw: SearchQuery[string]): string[] => (raw === undefined ? [] : typeof raw === 'string' ? [raw] : [...raw]);

const namedPeople = (type: string, q: SearchQuery): string[] =>
  personParams(type).flatMap((param) => valuesOf(q[param]).flatMap((v) => v.split(',').map((ref) => (ref.startsWith('Patient/') ? ref.slice('Patient/'.length) : ref))));

/** A search limited to these people (a person id that cannot exist stands for no one, so the rest of the query is still checked). */
const narrowedTo = (type: string, q: SearchQuery, people: readonly string[]): SearchQuery => {
  const param = type === 'Patient' ? '_id' : 'patient';
  return { ...q, [param]: [...valuesOf(q[param]), people.length > 0 ? people.join(',') : 'no-one'] };
};

/** The types of the Patient compartment this server holds: those searched by the person (patient=<id>). */
const PATIENT_COMPARTMENT = Object.entries(SEARCH_PARAMS)
  .filter(([type, params]) => type !== 'Patient' && Object.hasOwn(params, 'patient') && params.patient!.target === 'patient_id')
  .map(([type]) => type);

/** Parameters as a search takes them: a repeated one as its values in order. */
const searchQueryOf = (params: URLSearchParams): SearchQuery => {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of params) {
    const before = out[name];
    out[name] = before === undefined ? value : [...(typeof before === 'string' ? [before] : before), value];
  }
  return out;
};

const forbidden = (detail: string) => new FhirError(403, [{ code: 'forbidden', diagnostics: detail }]);

/** What a resource not recorded is decided on: no one, so it is refused to everyone bound by a relationship. */
export const NOBODY_KNOWN: About = { patientId: '' };

/** The refusal of a resource outside the user's care, the same whether it is recorded or not (and naming no person). */
export const notInYourCare = (type: string, id: string, decision: Pick<Decision, 'actor' | 'action'>): string =>
  `${type}/${id} is not about anyone in ${decision.actor.id}'s care, or is not recorded` +
  (mayBreakGlass(decision.actor.role, decision.action) ? '; in an emergency, read it by giving a reason in the X-Tandem-Break-Glass header' : '');

type Handler = (req: Request, res: Response) => Promise<void>;
const handle =
  (handler: Handler) =>
  (req: Request, res: Response, next: NextFunction): void => {
    handler(req, res).catch(next);
  };

/** The FHIR R4 REST API, read from the projections. */
export const fhirRoutes = ({ reader, access, readModel, writes, version, logError, accessTrail, moreCapabilities, moreOperations, smartEndpoints }: FhirRouteDeps): Router => {
  const router = Router();
  // Every interaction and operation is registered from the route table, and recorded: /fhir/metadata declares exactly these.
  const served: { interactions: InteractionRoute[]; operations: OperationRoute[] } = { interactions: [], operations: [] };
  const serve = (interaction: ServedInteraction, handler: ReturnType<typeof handle>) => {
    const route = INTERACTION_ROUTES[interaction];
    router[route.method](route.path, handler);
    served.interactions.push(route);
  };
  const serveOperation = (name: ServedOperation, handler: ReturnType<typeof handle>) => {
    const route = OPERATION_ROUTES[name];
    for (const path of route.paths) router[route.method](path, handler);
    served.operations.push(route);
  };
  // JSON is the only format (the CapabilityStatement says so): an XML answer asked for is 406, before anything else, not 200 JSON.
  router.use('/fhir', (req, _res, next) => {
    const refusal = acceptsFhirJson(req);
    next(refusal ? new FhirError(406, [{ code: 'not-supported', diagnostics: refusal.diagnostics, expression: refusal.expression }]) : undefined);
  });
  // Everything but the CapabilityStatement needs a bearer token: 401 (OperationOutcome) before anything else.
  const authenticated = authenticate(access.control, (res, error) =>
    send(res, error.status, operationOutcome([{ code: error.status === 401 ? 'login' : error.status === 429 ? 'throttled' : 'transient', diagnostics: error.message }])),
  );
  router.use('/fhir', (req, res, next) => (req.method === 'GET' && req.path === '/metadata' ? next() : authenticated(req, res, next)));

  /** Throws 403 unless the policy allows the request. */
  const allow = async (req: Request, res: Response, endpoint: EndpointAccess, about: About) => {
    const decision = await access.decide(req, res, endpoint, about);
    if (!decision.allowed) throw forbidden(decision.detail);
    return decision;
  };

  /**
   * Reads a resource the policy must allow. Outside a relationship, "recorded but not yours" and
   * "not recorded" answer alike (403), so no id (a person's, their CareTeam's, a CarePlan for a
   * framework) tells a stranger whether it exists; only those who may read everyone (or read by
   * break-glass) get a 404. A Patient is decided on its id before the read; any other resource on
   * the person its current version is about (a version asked for that is not there is decided on
   * the current one), and on no one when it is not recorded at all.
   */
  const allowedRead = async <T extends StoredResource>(req: Request, res: Response, type: string, id: string, read: () => Promise<T | undefined>): Promise<T | undefined> => {
    if (type === 'Patient') {
      await allow(req, res, FHIR_ACCESS.read(type), { patientId: id });
      return read();
    }
    if (isDirectoryType(type)) {
      await allow(req, res, FHIR_ACCESS.read(type), 'nobody');
      return read();
    }
    const stored = await read();
    const current = stored ?? (await reader.read(type, id));
    const decision = await access.decide(req, res, FHIR_ACCESS.read(type), current ? aboutResource(type, current.resource, current.patientId) : NOBODY_KNOWN);
    if (!decision.allowed) throw forbidden(decision.reason === 'relationship' ? notInYourCare(type, id, decision) : decision.detail);
    return stored;
  };

  /**
   * What a search's `_include` may add: each included resource passes the same scope and policy
   * check as reading it directly (break-glass counting as it would there); the rest is left out,
   * and the bundle says how many (as FHIR servers do with what a client may not see).
   */
  const readableIncluded = async (
    req: Request,
    included: readonly Resource[],
    indexedPatientIds: readonly (string | undefined)[] = [],
  ): Promise<{ included: Resource[]; keptPatientIds: (string | undefined)[]; withheld: number }> => {
    const principal = principalOf(req);
    const breakGlassReason = access.breakGlassReasonOf(req);
    // A Provenance (from _revinclude) names no one itself: it is decided on the person it is indexed under, as a read of it is.
    const allowed = await Promise.all(
      included.map((r, i) => access.allows(principal, FHIR_ACCESS.read(r.resourceType), aboutResource(r.resourceType, r, indexedPatientIds[i]), breakGlassReason)),
    );
    const kept = included.filter((_, i) => allowed[i]);
    return { included: kept, keptPatientIds: included.map((_, i) => indexedPatientIds[i]).filter((_, i) => allowed[i]), withheld: included.length - kept.length };
  };

  router.use('/fhir', express.json({ type: ['application/json', FHIR_JSON], limit: '1mb', strict: true, reviver: storableJson }));

  // Read-your-writes: wait (briefly) until the read models hold the client's last write.
  router.use('/fhir', (req, _res, next) => {
    const raw = req.get(MIN_POSITION_HEADER);
    // A search POSTed to _search is a read like its GET.
    if (raw === undefined || !(req.method === 'GET' || (req.method === 'POST' && req.path.endsWith('/_search')))) return next();
    const position = Number(raw);
    if (!Number.isSafeInteger(position) || position < 0) {
      return next(new FhirError(400, [{ code: 'invalid', diagnostics: `${MIN_POSITION_HEADER} must be a position returned by a command`, expression: MIN_POSITION_HEADER }]));
    }
    readModel.waitFor(position, READ_YOUR_WRITES_WAIT_MS).then(() => next(), next);
  });

  router.get(
    '/fhir/metadata',
    handle(async (req, res) => {
      const smart = await smartEndpoints?.(req);
      send(
        res,
        200,
        capabilityStatement({
          baseUrl: baseUrl(req),
          version,
          served,
          writableTypes: writes?.writableTypes ?? [],
          ifMatchRequired: writes?.ifMatchRequired ?? [],
          bundles: writes?.bundle !== undefined,
          moreResources: moreCapabilities?.() ?? [],
          moreOperations: moreOperations?.() ?? [],
          ...(smart ? { smart } : {}),
        }),
      );
    }),
  );

  serveOperation(
    'everything',
    handle(async (req, res) => {
      const id = req.params.id as string;
      checkId(id);
      await allow(req, res, FHIR_ACCESS.everything(), { patientId: id });
      const result = await reader.everything(id, query(req));
      if (!result) throw FhirError.notFound('Patient', id);
      const base = baseUrl(req);
      // The practitioners and organisations this page's care names (who gave it, whose team), so a
      // GP system has them without a second round trip; not counted in the total, as includes are not.
      const named = await Promise.all(directoryReferencesIn(result.matches).map(({ type, id: refId }) => reader.read(type, refId)));
      const { included } = await readableIncluded(req, named.flatMap((stored) => (stored ? [stored.resource] : [])));
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'searchset',
        total: result.total,
        link: pageLinks({ base: `${base}/Patient/${id}/$everything`, query: sentQuery(req.originalUrl), offset: result.offset, count: result.count, total: result.total }),
        entry: [...result.matches.map((r) => entryFor(base, r, 'match')), ...included.map((r) => entryFor(base, r, 'include'))],
      };
      sendBundle(res, bundle);
    }),
  );

  const operations: OperationDeps = { reader, allow, allowedRead, send };
  // Before /fhir/:type/:id, which would read `$lastn` as an id.
  serveOperation('lastn', handle(lastnOperation(operations)));
  serveOperation(
    'meta',
    handle(async (req, res) => {
      checkType(req.params.type as string);
      checkId(req.params.id as string);
      await metaOperation(operations)(req, res);
    }),
  );
  serveOperation(
    'validate',
    handle(async (req, res) => {
      checkType(req.params.type as string);
      requireFhirJson(req);
      await validateOperation(operations)(req, res);
    }),
  );

  serve(
    'history-type',
    handle(async (req, res) => {
      const type = req.params.type as string;
      checkType(type);
      if (!isDirectoryType(type)) {
        const decision = await allow(req, res, FHIR_ACCESS.typeHistory(type), 'people');
        // The history of a whole type spans people: it cannot be narrowed to a caseload.
        if (decision.narrowTo !== 'everyone') throw forbidden(`The history of every ${type} spans people outside your care: ask for one resource's _history, or search by patient`);
      } else {
        await allow(req, res, FHIR_ACCESS.typeHistory(type), 'nobody');
      }
      await sendHistory(req, res, type, undefined);
    }),
  );

  const sendHistory = async (req: Request, res: Response, type: string, id: string | undefined) => {
    const history = await reader.history(type, id, query(req));
    if (id !== undefined && history.total === 0) throw FhirError.notFound(type, id);
    access.control.disclose(peopleIn(type, history.versions.map((v) => v.resource), history.versions.map((v) => v.patientId)));
    const base = baseUrl(req);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'history',
      total: history.total,
      link: pageLinks({ base: `${base}/${type}${id ? `/${id}` : ''}/_history`, query: sentQuery(req.originalUrl), offset: history.offset, count: history.count, total: history.total }),
      entry: history.versions.map((v) => ({
        fullUrl: `${base}/${type}/${v.resource.id}`,
        resource: v.resource,
        request: { method: v.versionId === 1 ? 'POST' : 'PUT', url: v.versionId === 1 ? type : `${type}/${v.resource.id}` },
        response: { status: v.versionId === 1 ? '201 Created' : '200 OK', etag: `W/"${v.versionId}"`, lastModified: v.lastUpdated },
      })),
    };
    sendBundle(res, bundle);
  };

  serve(
    'vread',
    handle(async (req, res) => {
      const type = req.params.type as string;
      const id = req.params.id as string;
      checkType(type);
      checkId(id);
      const versionId = Number(req.params.vid);
      // Bounded by the read model's int column: a larger number is no version (it failed in SQL: 500).
      if (!Number.isInteger(versionId) || versionId < 1 || versionId > MAX_VERSION_ID) throw new FhirError(400, [{ code: 'value', diagnostics: 'A version id is a whole number from 1', expression: 'vid' }]);
      const stored = await allowedRead(req, res, type, id, () => reader.vread(type, id, versionId));
      if (!stored) throw new FhirError(404, [{ code: 'not-found', diagnostics: `${type}/${id} has no version ${versionId}` }]);
      sendStored(req, res, stored);
    }),
  );

  serve(
    'history-instance',
    handle(async (req, res) => {
      const type = req.params.type as string;
      const id = req.params.id as string;
      checkType(type);
      checkId(id);
      if (!(await allowedRead(req, res, type, id, () => reader.read(type, id)))) throw FhirError.notFound(type, id);
      await sendHistory(req, res, type, id);
    }),
  );

  serve(
    'read',
    handle(async (req, res) => {
      const type = req.params.type as string;
      const id = req.params.id as string;
      checkType(type);
      checkId(id);
      const stored = await allowedRead(req, res, type, id, () => reader.read(type, id));
      if (!stored) throw FhirError.notFound(type, id);
      sendStored(req, res, stored);
    }),
  );

  /**
   * A search of a type, however it came: GET with its query, POST <type>/_search with a form body
   * (the query's parameters and the body's together), or a compartment (Patient/<id>/<type>, the
   * type searched with patient=<id>). `sent` is every parameter as the client gave them, in order:
   * the Bundle's links are GET links carrying them exactly.
   */
  const searchType = async (req: Request, res: Response, type: string, sentSearch: SearchQuery, sent: URLSearchParams, path: string) => {
    checkType(type);
    const endpoint = FHIR_ACCESS.search(type);
    const shaping = shapingOf(sentSearch, req.get('prefer'));
    const ignored = unknownParameters(type, sentSearch, shaping);
    let search = Object.fromEntries(Object.entries(sentSearch).filter(([name]) => !ignored.includes(name))) as SearchQuery;
    // _summary=count: the total alone; no resource is read, so none is disclosed.
    if (shaping.summary === 'count') search = { ...search, _count: '0' };
    const named = isDirectoryType(type) ? [] : namedPeople(type, search);
    if (isDirectoryType(type)) {
      await allow(req, res, endpoint, 'nobody');
    } else if (named.length > 0) {
      // A search naming people: each of them must be in the user's care (or break-glass).
      for (const patientId of new Set(named)) await allow(req, res, endpoint, { patientId });
    } else {
      const decision = await allow(req, res, endpoint, 'people');
      if (decision.narrowTo === 'caseload') search = narrowedTo(type, search, await access.caseload(principalOf(req), endpoint));
      if (decision.narrowTo === 'launch-patient') search = narrowedTo(type, search, await access.confirm(principalOf(req), endpoint, [principalOf(req).patient ?? '']));
    }
    if (type === 'AuditEvent' && accessTrail) await readModel.waitFor(await accessTrail.flush(), READ_YOUR_WRITES_WAIT_MS);
    const result = await reader.search(type, search);
    const { included, keptPatientIds, withheld } = await readableIncluded(req, result.included, result.includedPatientIds);
    // The access trail names everyone whose data went out, a Provenance's person too (it names no one itself).
    access.control.disclose(peopleIn(type, [...result.matches, ...included], [...result.matches.map(() => undefined), ...keptPatientIds]));
    const base = baseUrl(req);
    const shaped = (r: Resource) => shapeResource(r, shaping);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(shaping.total === 'none' ? {} : { total: result.total }),
      link: searchLinks({ base: `${base}/${path}`, query: sent, nextCursor: result.nextCursor }),
      entry: [
        ...result.matches.map((r) => entryFor(base, shaped(r), 'match')),
        ...included.map((r) => entryFor(base, shaped(r), 'include')),
        ...(ignored.length > 0
          ? [outcomeEntry(operationOutcome(ignored.map((name) => ({ severity: 'warning', code: 'not-supported', diagnostics: `"${name}" is not a search parameter of ${type} here: it was left out (Prefer: handling=lenient)`, expression: name }))))]
          : []),
        ...(withheld > 0
          ? [
              outcomeEntry(
                operationOutcome([
                  {
                    severity: 'warning',
                    code: 'suppressed',
                    diagnostics: `${withheld} resource${withheld === 1 ? '' : 's'} asked for by _include ${withheld === 1 ? 'was' : 'were'} left out: this token may not read ${withheld === 1 ? 'it' : 'them'} (its scopes, or the care relationship)`,
                    expression: '_include',
                  },
                ]),
              ),
            ]
          : []),
      ],
    };
    sendBundle(res, bundle);
  };

  serve(
    'search-type',
    handle(async (req, res) => {
      const type = req.params.type as string;
      await searchType(req, res, type, query(req), sentQuery(req.originalUrl), type);
    }),
  );

  // POST <type>/_search (R4 3.1.0.1.1): the form body's parameters and the query's, combined; the same answer as the GET.
  const formBody = express.text({ type: 'application/x-www-form-urlencoded', limit: '1mb' });
  const postedSearch = (req: Request): URLSearchParams => {
    if (req.body !== undefined && typeof req.body !== 'string') throw new FhirError(415, [{ code: 'not-supported', diagnostics: 'POST _search takes its parameters as application/x-www-form-urlencoded' }]);
    if (typeof req.body !== 'string' && req.get('content-length') && req.get('content-length') !== '0') {
      throw new FhirError(415, [{ code: 'not-supported', diagnostics: 'POST _search takes its parameters as application/x-www-form-urlencoded' }]);
    }
    const combined = sentQuery(req.originalUrl);
    for (const [name, value] of new URLSearchParams(typeof req.body === 'string' ? req.body : '')) combined.append(name, value);
    return combined;
  };
  router.post(
    '/fhir/:type/_search',
    formBody,
    handle(async (req, res) => {
      const type = req.params.type as string;
      const sent = postedSearch(req);
      await searchType(req, res, type, searchQueryOf(sent), sent, type);
    }),
  );

  /**
   * Compartment search (R4 3.1.1.3.5): Patient/<id>/<type> is <type>?patient=<id>, decided as a
   * search naming that person (403 outside the caller's care, as patient=<id> is).
   */
  const compartment = async (req: Request, res: Response, sent: URLSearchParams) => {
    const id = req.params.id as string;
    const type = req.params.type as string;
    checkId(id);
    checkType(type);
    if (!PATIENT_COMPARTMENT.includes(type)) throw new FhirError(400, [{ code: 'not-supported', diagnostics: `${type} is not in the Patient compartment here; it holds ${PATIENT_COMPARTMENT.join(', ')}` }]);
    const search = searchQueryOf(sent);
    await searchType(req, res, type, { ...search, patient: [...valuesOf(search.patient), id] }, sent, `Patient/${id}/${type}`);
  };
  router.get(
    '/fhir/Patient/:id/:type',
    handle(async (req, res) => compartment(req, res, sentQuery(req.originalUrl))),
  );
  router.post(
    '/fhir/Patient/:id/:type/_search',
    formBody,
    handle(async (req, res) => compartment(req, res, postedSearch(req))),
  );

  const requireWritable = (type: string): FhirWrites => {
    checkType(type);
    if (!writes || !writes.writableTypes.includes(type)) {
      throw new FhirError(405, [{ code: 'not-supported', diagnostics: `${type} cannot be created or updated through FHIR here; see /fhir/metadata` }]);
    }
    return writes;
  };

  const requireFhirJson = (req: Request) => {
    if (!req.is(['application/fhir+json', 'application/json'])) {
      throw new FhirError(415, [{ code: 'not-supported', diagnostics: 'Send the resource as application/fhir+json' }]);
    }
  };

  serve(
    'create',
    handle(async (req, res) => {
      const type = req.params.type as string;
      const w = requireWritable(type);
      requireFhirJson(req);
      // No conditional create (the CapabilityStatement says so): criteria a client thinks were applied are refused, never ignored.
      if (req.get('if-none-exist') !== undefined) {
        throw new FhirError(400, [{ code: 'not-supported', diagnostics: 'If-None-Exist (conditional create) is not supported: send the same request again, or an Idempotency-Key, and it is recorded once', expression: 'If-None-Exist' }]);
      }
      const { id, position, created, foundExisting, conflicting } = await w.create(type, req.body, req);
      if (foundExisting) {
        // As a conditional create answers someone without read access: a refusal, nothing of the person.
        const disclosure = await access.existingPerson(req, res, id);
        if (!disclosure.allowed) throw forbidden(disclosure.detail);
        if (conflicting) throw new FhirError(409, conflicting);
      }
      await readModel.waitFor(position, READ_YOUR_WRITES_WAIT_MS);
      const stored = await reader.read(type, id);
      res.set('Location', `${baseUrl(req)}/${type}/${id}/_history/${stored?.versionId ?? 1}`).set('X-Tandem-Position', String(position));
      if (stored) res.set('ETag', `W/"${stored.versionId}"`);
      sendWritten(req, res, created === false ? 200 : 201, stored?.resource ?? ({ resourceType: type, id } as Resource));
    }),
  );

  serve(
    'update',
    handle(async (req, res) => {
      const type = req.params.type as string;
      const id = req.params.id as string;
      const w = requireWritable(type);
      checkId(id);
      requireFhirJson(req);
      const { position } = await w.update(type, id, req.body, parseIfMatch(req.get('if-match')), req);
      await readModel.waitFor(position, READ_YOUR_WRITES_WAIT_MS);
      const stored = await reader.read(type, id);
      res.set('X-Tandem-Position', String(position));
      if (stored) res.set('ETag', `W/"${stored.versionId}"`);
      sendWritten(req, res, 200, stored?.resource ?? ({ resourceType: type, id } as Resource));
    }),
  );

  router.post(
    '/fhir',
    handle(async (req, res) => {
      if (!writes?.bundle) throw new FhirError(405, [{ code: 'not-supported', diagnostics: 'This server takes no transaction or batch Bundles' }]);
      requireFhirJson(req);
      const result = await writes.bundle(req.body, req);
      const base = baseUrl(req);
      const positions = result.entries.flatMap((e) => (e.position === undefined ? [] : [e.position]));
      const position = positions.length > 0 ? Math.max(...positions) : undefined;
      if (position !== undefined) await readModel.waitFor(position, READ_YOUR_WRITES_WAIT_MS);
      const entries = await Promise.all(
        result.entries.map(async (e): Promise<NonNullable<Bundle['entry']>[number]> => {
          if (e.id !== undefined && e.type !== undefined && e.foundExisting) {
            // As a single POST of a Patient already registered: only those who may read them learn of them.
            const disclosure = await access.existingPerson(req, res, e.id);
            if (!disclosure.allowed) return { response: { status: '403 Forbidden', outcome: operationOutcome([{ code: 'forbidden', diagnostics: disclosure.detail }]) } };
            if (e.conflicting) return { response: { status: '409 Conflict', outcome: operationOutcome(e.conflicting) } };
          }
          if (e.id === undefined || e.type === undefined) {
            return { response: { status: `${e.status} ${STATUS_TEXT[e.status] ?? ''}`.trim(), outcome: operationOutcome(e.issues ?? []) } };
          }
          const stored = await reader.read(e.type, e.id);
          return {
            fullUrl: `${base}/${e.type}/${e.id}`,
            response: {
              status: `${e.status} ${STATUS_TEXT[e.status] ?? ''}`.trim(),
              location: `${e.type}/${e.id}/_history/${stored?.versionId ?? 1}`,
              ...(stored ? { etag: `W/"${stored.versionId}"`, lastModified: stored.lastUpdated } : {}),
            },
          };
        }),
      );
      if (position !== undefined) res.set('X-Tandem-Position', String(position));
      send(res, 200, { resourceType: 'Bundle', type: result.type === 'transaction' ? 'transaction-response' : 'batch-response', entry: entries });
    }),
  );

  // Interactions this server does not support on a type it serves: 405 naming what it does instead (not 404: the resource may well exist).
  const notSupported = (what: string, instead: string) =>
    handle(async (req) => {
      checkType(req.params.type as string);
      throw new FhirError(405, [{ code: 'not-supported', diagnostics: `${what} is not supported: ${instead}; see /fhir/metadata` }]);
    });
  router.delete('/fhir/:type/:id', notSupported('DELETE', 'a care record keeps every entry; mark an entry entered in error (PUT with status entered-in-error) instead'));
  router.delete('/fhir/:type', notSupported('Conditional delete', 'a care record keeps every entry'));
  router.patch('/fhir/:type/:id', notSupported('PATCH', 'send the whole resource with PUT and If-Match'));
  router.put('/fhir/:type', notSupported('Conditional update', 'PUT /fhir/<type>/<id> with If-Match'));

  // `/fhir` itself is not matched by `/fhir/{*rest}`: its other methods are refused as FHIR too.
  router.all('/fhir', (req, _res, next) => next(new FhirError(405, [{ code: 'not-supported', diagnostics: `${req.method} /fhir: POST a transaction or batch Bundle, or use /fhir/<type>` }])));

  router.all('/fhir/{*rest}', (req, _res, next) => next(new FhirError(404, [{ code: 'not-supported', diagnostics: `${req.method} ${req.path} is not part of this FHIR API` }])));

  // Every error under /fhir is an OperationOutcome; no stack traces, no SQL.
  router.use('/fhir', (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    if (error instanceof FhirError) return send(res, error.status, operationOutcome(error.issues));
    if (error instanceof SearchError) return send(res, 400, operationOutcome([{ code: 'invalid', diagnostics: error.message, expression: error.param }]));
    const parseFailure = error as { type?: string; status?: number };
    if (parseFailure.type === 'entity.parse.failed') return send(res, 400, operationOutcome([{ code: 'structure', diagnostics: 'The body is not valid JSON' }]));
    if (parseFailure.type === 'entity.too.large') return send(res, 413, operationOutcome([{ code: 'too-costly', diagnostics: 'The body is larger than 1 MB' }]));
    if (typeof parseFailure.status === 'number' && parseFailure.status >= 400 && parseFailure.status < 500) {
      return send(res, parseFailure.status, operationOutcome([{ code: 'invalid', diagnostics: 'The request could not be read' }]));
    }
    logError?.(error);
    return send(res, 500, operationOutcome([{ code: 'exception', diagnostics: 'An internal error occurred; it has been logged' }]));
  });
  return router;
};
