import { FHIR_ACCESS, type EndpointAccess } from '@tandem/auth';
import type { ServiceHealth } from '@tandem/contracts';
import type { FhirReader } from '@tandem/fhir-read-model';
import type { Group } from 'fhir/r4';
import { authenticate, principalOf, type RecordAccess } from '@tandem/record';
import { Router, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { groupResource, parseGroupSearch, type CaseloadGroup } from './groups';
import type { GroupReader } from './groups-projection';
import { ExportJobs } from './jobs';
import { manifest, NDJSON, parseExportRequest, progressText, type ExportLevel, type ExportRequest } from './export-request';

/**
 * FHIR Bulk Data Access 2.0 `$export` (docs/decisions/0016-bulk-export.md): kick-off, status,
 * ndjson files, cancel. Jobs live in this process's memory (a restart loses them: the client's
 * next poll is a 404 and it kicks off again); their files in a temporary directory.
 */
export interface BulkExportDeps {
  /** The record service's side of the policy: the same decisions and caseload as a FHIR search. */
  readonly access: RecordAccess;
  readonly reader: FhirReader;
  /** The Groups' read model (an organisation's caseload): Group read, search and Group/<id>/$export. */
  readonly groups: GroupReader;
  readonly logger: Logger;
  /** Jobs running at once (the rest are refused with 429 and Retry-After). */
  readonly maxRunning?: number;
  /** How long a finished export's files are kept. */
  readonly keepMs?: number;
}

const FHIR_JSON = 'application/fhir+json';
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** Resources read from the read model per round trip: what is held in memory at once. */
const PAGE = 500;
const RETRY_AFTER_SECONDS = 30;

interface TypeOutput {
  count: number;
  /** The people whose data this file holds (ids only): disclosed to the trail when it is downloaded. */
  readonly people: Set<string>;
  readonly path: string;
}

interface Job {
  readonly id: string;
  readonly owner: { readonly id: string; readonly role: string };
  readonly request: string;
  readonly transactionTime: string;
  readonly dir: string;
  readonly types: readonly string[];
  status: 'running' | 'done' | 'failed';
  cancelled: boolean;
  done: number;
  of: number;
  readonly outputs: Map<string, TypeOutput>;
  expiry?: NodeJS.Timeout;
}

const send = (res: Response, status: number, body: unknown, type = FHIR_JSON) => res.status(status).type(type).send(JSON.stringify(body));
const outcome = (res: Response, status: number, code: string, issues: readonly { diagnostics: string; expression?: string }[]) =>
  send(res, status, { resourceType: 'OperationOutcome', issue: issues.map((i) => ({ severity: 'error', code, diagnostics: i.diagnostics, ...(i.expression ? { expression: [i.expression] } : {}) })) });


export const createBulkExportService = (deps: BulkExportDeps) => {
  const { access, reader, groups, logger } = deps;
  const maxRunning = deps.maxRunning ?? 2;
  const keepMs = deps.keepMs ?? 60 * 60_000;
  const jobs = new ExportJobs<Job>(maxRunning);
  const running = new Set<Promise<void>>();

  const authenticated = authenticate(access.control, (res, error) => {
    outcome(res, error.status, error.status === 401 ? 'login' : error.status === 429 ? 'throttled' : 'transient', [{ diagnostics: error.message }]);
  });

  const base = (req: Request) => `${req.protocol}://${req.get('host')}/fhir`;

  /** Every person recorded, by id (keyset paging through Patient: ids only are held). */
  const everyone = async (): Promise<string[]> => {
    // Ascending by last update: a person updated while paging moves behind the cursor and is met again (kept once), never skipped.
    const ids = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await reader.search('Patient', { _count: '1000', _sort: '_lastUpdated', ...(cursor ? { _cursor: cursor } : {}) });
      for (const patient of page.matches) if (patient.id) ids.add(patient.id);
      cursor = page.nextCursor;
    } while (cursor);
    return [...ids];
  };

  /**
   * Of a Group's members, those the caller may read (their Patient, as a search would include them):
   * everyone's for those who may read everyone, otherwise each confirmed against the person's own record.
   */
  const visibleMembers = async (req: Request, decision: { readonly narrowTo?: string }, members: readonly string[], endpoint: EndpointAccess): Promise<string[]> =>
    decision.narrowTo === 'everyone' ? [...members] : access.confirm(principalOf(req), endpoint, members);

  const write = async (stream: WriteStream, line: string) => {
    if (!stream.write(line)) await once(stream, 'drain');
  };

  /** Reads each person's resources of the asked types from the read model, page by page, into one ndjson file per type. */
  const run = async (job: Job, people: readonly string[], request: ExportRequest) => {
    const streams = new Map<string, WriteStream>();
    try {
      job.of = people.length;
      for (const patientId of people) {
        for (let offset = 0; ; offset += PAGE) {
          if (job.cancelled) return;
          const page = await reader.everything(patientId, { _type: request.types.join(','), ...(request.since ? { _since: request.since } : {}), _count: String(PAGE), _offset: String(offset) });
          if (!page) break;
          for (const resource of page.matches) {
            // $everything reads the person's own Patient and what is about them; only the asked types go out.
            if (!request.types.includes(resource.resourceType)) continue;
            let output = job.outputs.get(resource.resourceType);
            if (!output) {
              output = { count: 0, people: new Set(), path: join(job.dir, `${resource.resourceType}.ndjson`) };
              job.outputs.set(resource.resourceType, output);
            }
            let stream = streams.get(resource.resourceType);
            if (!stream) {
              stream = createWriteStream(output.path, { flags: 'a' });
              streams.set(resource.resourceType, stream);
            }
            await write(stream, `${JSON.stringify(resource)}\n`);
            output.count += 1;
            output.people.add(patientId);
          }
          if (page.matches.length < PAGE || offset + PAGE >= page.total) break;
        }
        job.done += 1;
      }
      for (const stream of streams.values()) await new Promise<void>((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
      streams.clear();
      if (job.cancelled) return;
      job.status = 'done';
      job.expiry = setTimeout(() => void forget(job), keepMs);
      job.expiry.unref();
    } catch (error) {
      logger.error({ err: error, exportId: job.id }, 'A bulk export failed');
      job.status = 'failed';
    } finally {
      for (const stream of streams.values()) stream.destroy();
    }
  };

  const forget = async (job: Job) => {
    job.cancelled = true;
    if (job.expiry) clearTimeout(job.expiry);
    jobs.remove(job.id);
    await rm(job.dir, { recursive: true, force: true });
  };

  const wrap = (handler: (req: Request, res: Response) => Promise<unknown>) => (req: Request, res: Response) => {
    handler(req, res).catch((error: unknown) => {
      logger.error({ err: error }, 'Bulk export request failed');
      if (!res.headersSent) outcome(res, 500, 'exception', [{ diagnostics: 'An internal error occurred; it has been logged' }]);
    });
  };

  const kickOff = (level: (req: Request) => ExportLevel) =>
    wrap(async (req, res) => {
      const principal = principalOf(req);
      const parsed = parseExportRequest({ accept: req.get('accept'), prefer: req.get('prefer') }, req.query);
      if (Array.isArray(parsed)) return outcome(res, 400, 'invalid', parsed.map((i) => ({ diagnostics: i.message, expression: i.expression })));
      const at = level(req);
      if (at.kind === 'patient' && !ID.test(at.patientId)) return outcome(res, 400, 'value', [{ diagnostics: `"${at.patientId}" is not a valid FHIR id`, expression: 'id' }]);
      // One decision for every type asked: the scopes of a search of each, the relationship as for a search.
      const endpoint: EndpointAccess = { action: 'fhir.read', needs: parsed.types.flatMap((t) => FHIR_ACCESS.search(t).needs) };
      const decision = await access.decide(req, res, endpoint, at.kind === 'patient' ? { patientId: at.patientId } : 'people');
      if (!decision.allowed) return outcome(res, 403, 'forbidden', [{ diagnostics: decision.detail }]);
      if (decision.breakGlass) return outcome(res, 403, 'forbidden', [{ diagnostics: 'Break-glass opens one person\'s record in an emergency, not an export: read their record instead' }]);
      let people: string[];
      if (at.kind === 'group') {
        const [group] = ID.test(at.groupId) ? await groups.groups(at.groupId) : [];
        if (!group) return outcome(res, 404, 'not-found', [{ diagnostics: `Group/${at.groupId} is not known: a Group is an organisation's caseload (Group/<organisation id>; GET /fhir/Group lists them)` }]);
        // Exactly its members, and of them only those the requester may read: the others are left out, as from a search.
        people = await visibleMembers(req, decision, await groups.members(group.organisationId), endpoint);
      } else if (at.kind === 'patient') people = [at.patientId];
      else if (decision.narrowTo === 'everyone') people = await everyone();
      else if (at.kind === 'system') return outcome(res, 403, 'forbidden', [{ diagnostics: 'A system-level export spans everyone recorded: ask for Patient/$export, which holds the people in your care' }]);
      else if (decision.narrowTo === 'caseload') people = await access.caseload(principal, endpoint);
      else if (decision.narrowTo === 'launch-patient') people = await access.confirm(principal, endpoint, [principal.patient ?? '']);
      else people = [];
      const id = randomUUID();
      const job: Job = {
        id,
        owner: { id: principal.actor.id, role: principal.actor.role },
        request: `${req.protocol}://${req.get('host')}${req.originalUrl}`,
        transactionTime: new Date().toISOString(),
        dir: await mkdtemp(join(tmpdir(), 'tandem-export-')),
        types: parsed.types,
        status: 'running',
        cancelled: false,
        done: 0,
        of: people.length,
        outputs: new Map(),
      };
      if (!jobs.admit(job)) {
        await rm(job.dir, { recursive: true, force: true });
        res.set('Retry-After', String(RETRY_AFTER_SECONDS));
        return outcome(res, 429, 'throttled', [{ diagnostics: `${jobs.running} exports are running; try again in ${RETRY_AFTER_SECONDS} seconds` }]);
      }
      const task = run(job, people, parsed).finally(() => running.delete(task));
      running.add(task);
      res.set('Content-Location', `${base(req)}/$export-status/${id}`).status(202).end();
    });

  /** The requester's job; another user's is not found (not theirs to know of). */
  const owned = (req: Request): Job | undefined => {
    const { actor } = principalOf(req);
    return jobs.of(String(req.params.id), { id: actor.id, role: actor.role });
  };
  const notFound = (res: Response, req: Request) => outcome(res, 404, 'not-found', [{ diagnostics: `No export ${String(req.params.id)} of yours is known here (an export is kept for an hour, and not across a restart: kick it off again)` }]);

  const router = Router();
  router.get('/fhir/\\$export', authenticated, kickOff(() => ({ kind: 'system' })));
  router.get('/fhir/Patient/\\$export', authenticated, kickOff(() => ({ kind: 'patients' })));
  router.get('/fhir/Patient/:id/\\$export', authenticated, kickOff((req) => ({ kind: 'patient', patientId: String(req.params.id) })));
  router.get('/fhir/Group/:id/\\$export', authenticated, kickOff((req) => ({ kind: 'group', groupId: String(req.params.id) })));

  /**
   * A Group as the caller may see it: a read of it is one decision (the Group's scope, the people as for a
   * search: reported like one), its members narrowed to those the caller may read, and named to the trail.
   */
  const shown = async (req: Request, res: Response, found: readonly CaseloadGroup[], interaction: 'read' | 'search'): Promise<Group[] | undefined> => {
    const endpoint: EndpointAccess = interaction === 'read' ? FHIR_ACCESS.read('Group') : FHIR_ACCESS.search('Group');
    const decision = await access.decide(req, res, endpoint, 'people');
    if (!decision.allowed) {
      outcome(res, 403, 'forbidden', [{ diagnostics: decision.detail }]);
      return undefined;
    }
    const resources: Group[] = [];
    const disclosed = new Set<string>();
    for (const group of found) {
      const members = await visibleMembers(req, decision, await groups.members(group.organisationId), FHIR_ACCESS.read('Patient'));
      for (const id of members) disclosed.add(id);
      resources.push(groupResource(group, members));
    }
    access.control.disclose([...disclosed]);
    return resources;
  };

  router.get(
    '/fhir/Group/:id',
    authenticated,
    wrap(async (req, res) => {
      const id = String(req.params.id);
      const found = ID.test(id) ? await groups.groups(id) : [];
      if (found.length === 0) return outcome(res, 404, 'not-found', [{ diagnostics: `Group/${id} is not known: a Group is an organisation's caseload (Group/<organisation id>)` }]);
      const resources = await shown(req, res, found, 'read');
      if (resources) send(res, 200, resources[0]);
    }),
  );

  router.get(
    '/fhir/Group',
    authenticated,
    wrap(async (req, res) => {
      const search = parseGroupSearch(req.query as Record<string, unknown>);
      if ('expression' in search) return outcome(res, 400, 'invalid', [{ diagnostics: search.message, expression: search.expression }]);
      const resources = await shown(req, res, await groups.groups(search.id), 'search');
      if (!resources) return;
      send(res, 200, { resourceType: 'Bundle', type: 'searchset', total: resources.length, link: [{ relation: 'self', url: `${base(req)}${req.originalUrl.slice('/fhir'.length)}` }], entry: resources.map((r) => ({ fullUrl: `${base(req)}/Group/${r.id}`, resource: r, search: { mode: 'match' } })) });
    }),
  );

  router.get(
    '/fhir/\\$export-status/:id',
    authenticated,
    wrap(async (req, res) => {
      const job = owned(req);
      if (!job) return notFound(res, req);
      if (job.status === 'running') return res.set('X-Progress', progressText(job.done, job.of)).set('Retry-After', '1').status(202).end();
      if (job.status === 'failed') return outcome(res, 500, 'exception', [{ diagnostics: 'The export failed; it has been logged. Kick it off again' }]);
      const url = (type: string) => `${base(req)}/$export-file/${job.id}/${type}.ndjson`;
      const outputs = job.types.flatMap((type) => {
        const output = job.outputs.get(type);
        return output ? [{ type, url: url(type), count: output.count }] : [];
      });
      send(res, 200, manifest({ transactionTime: job.transactionTime, request: job.request, outputs }), 'application/json');
    }),
  );

  router.delete(
    '/fhir/\\$export-status/:id',
    authenticated,
    wrap(async (req, res) => {
      const job = owned(req);
      if (!job) return notFound(res, req);
      await forget(job);
      res.status(202).end();
    }),
  );

  router.get(
    '/fhir/\\$export-file/:id/:file',
    authenticated,
    wrap(async (req, res) => {
      const job = owned(req);
      const type = /^([A-Za-z]+)\.ndjson$/.exec(String(req.params.file))?.[1];
      const output = job?.status === 'done' && type ? job.outputs.get(type) : undefined;
      if (!output) return notFound(res, req);
      // The people this file carries, in the download's access record, as a search's answer names them.
      access.control.disclose([...output.people]);
      res.status(200).type(NDJSON);
      const file = createReadStream(output.path);
      file.on('error', (error) => {
        logger.error({ err: error }, 'An export file could not be read');
        res.destroy(error);
      });
      file.pipe(res);
    }),
  );

  return {
    name: 'bulk-export',
    router,
    health: async (): Promise<ServiceHealth> => ({ service: 'bulk-export', status: 'ok', details: { running: jobs.running, kept: jobs.size } }),
    start: async () => undefined,
    stop: async () => {
      for (const job of jobs.all()) job.cancelled = true;
      await Promise.allSettled(running);
      await Promise.allSettled(jobs.all().map(forget));
    },
  };
};
export type BulkExportService = ReturnType<typeof createBulkExportService>;
