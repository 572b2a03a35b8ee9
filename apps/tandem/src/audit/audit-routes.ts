import { AUDIT_ACCESS, refusalTitle, type AccessControl, type EndpointAccess } from '@tandem/auth';
import type { ServiceHealth } from '@tandem/contracts';
import { sealDigest, streamNameProblem, verifyEventLog, type EventStore, type SqlDriver } from '@tandem/event-store';
import { authenticate, principalOf } from '@tandem/record';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { Busy } from '../operations';
import type { TandemService } from '../server';
import { Replayer } from './replay';
import { timeline } from './timeline';

const ANCHOR = /^(\d{1,12}):([0-9a-fA-F]{64})$/;

const problem = (res: Response, status: number, title: string, detail: string, field?: string) =>
  res
    .status(status)
    .type('application/problem+json')
    .json({ type: 'about:blank', title, status, detail, ...(field ? { errors: [{ field, message: detail }] } : {}) });

export interface AuditRoutesDeps {
  readonly store: EventStore;
  /** The SQL event log, for verify and seal; undefined on EventStoreDB, which keeps its own checksummed log. */
  readonly sqlLog?: SqlDriver;
  readonly access: AccessControl;
}

/**
 * The auditors' API on the running server, so an inspection needs no database access and no
 * stopped service (the embedded store admits one process):
 *
 * - `GET /api/audit/verify[?anchor=<n>:<sha256>]`: every stream's hash chain and the sealed global
 *   digests, checked now (and digest n against a copy kept outside the database).
 * - `GET /api/audit/streams/<stream>?asOf=<time>&format=text|json|fhir`: the stream's story as
 *   known at that time (late entries marked) and the state then; `fhir` as a Bundle.
 *
 * - `POST /api/audit/seal`: seals a digest of the log now, in this server's database, and answers
 *   with it (`npm run audit -- seal` asks this while the server holds the embedded store). Sealing
 *   adds no fact, only a checksum of what is there, so whoever may verify may seal.
 *
 * All are `audit.read` (auditors), and like every request they are on the access trail. Replays
 * share one scratch database and are bounded (one running, a few waiting; beyond that 503 with
 * Retry-After), so a burst of them cannot stall the server.
 */
export const createAuditService = ({ store, sqlLog, access }: AuditRoutesDeps): TandemService & { readonly replayer: Replayer } => {
  const router = Router();
  const replayer = new Replayer(store);
  router.use('/api/audit', authenticate(access, (res, error) => problem(res, error.status, refusalTitle(error), error.message)));

  const allowed = (req: Request, res: Response, endpoint: EndpointAccess): boolean => {
    const decision = access.authorise({ principal: principalOf(req), action: endpoint.action, needs: endpoint.needs, target: { kind: 'none' } });
    if (!decision.allowed) problem(res, 403, 'Forbidden', decision.detail);
    return decision.allowed;
  };

  router.get('/api/audit/verify', (req: Request, res: Response, next: NextFunction) => {
    if (!allowed(req, res, AUDIT_ACCESS.verify)) return;
    if (!sqlLog) return problem(res, 501, 'Not Implemented', 'verify walks the SQL event log; EventStoreDB keeps its own immutable, checksummed log');
    // A digest kept outside the database (`npm run audit -- seal` printed it): the log is checked against it too.
    const anchorRaw = req.query.anchor;
    const anchor = typeof anchorRaw === 'string' ? ANCHOR.exec(anchorRaw) : undefined;
    if (anchorRaw !== undefined && !anchor) return problem(res, 400, 'Bad Request', 'anchor must be <sequence>:<sha256 hex>, as `npm run audit -- seal` prints it', 'anchor');
    verifyEventLog(sqlLog, anchor ? { anchor: { sequence: Number(anchor[1]), digest: anchor[2]!.toLowerCase() } } : {}).then((report) => {
      res.json({ ok: report.findings.length === 0 && report.digests.findings.length === 0, checkedAt: new Date().toISOString(), ...report });
    }, next);
  });

  router.post('/api/audit/seal', (req: Request, res: Response, next: NextFunction) => {
    if (!allowed(req, res, AUDIT_ACCESS.verify)) return;
    // Sealing has no options: a body is a mistake (or a probe), refused rather than ignored.
    if (Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding')) return problem(res, 400, 'Bad Request', 'seal takes no body', '(body)');
    if (!sqlLog) return problem(res, 501, 'Not Implemented', 'seal digests the SQL event log; EventStoreDB keeps its own immutable, checksummed log');
    sealDigest(sqlLog).then((result) => {
      if (result.busy && result.sealed.length === 0) {
        res.set('Retry-After', '2');
        return problem(res, 503, 'Service Unavailable', 'Another Tandem process is sealing a digest right now; try again in a moment');
      }
      res.json(result);
    }, next);
  });

  router.get('/api/audit/streams/:stream', (req: Request, res: Response, next: NextFunction) => {
    if (!allowed(req, res, AUDIT_ACCESS.replay)) return;
    const stream = req.params.stream as string;
    const bad = streamNameProblem(stream);
    if (bad) return problem(res, 400, 'Bad Request', `stream ${bad}`, 'stream');
    const asOfRaw = typeof req.query.asOf === 'string' ? req.query.asOf : undefined;
    const asOf = asOfRaw === undefined ? undefined : new Date(asOfRaw);
    if (asOf && Number.isNaN(asOf.getTime())) return problem(res, 400, 'Bad Request', `asOf "${String(asOfRaw).slice(0, 40)}" is not a date or date-time`, 'asOf');
    const format = req.query.format ?? 'text';
    if (format !== 'text' && format !== 'json' && format !== 'fhir') return problem(res, 400, 'Bad Request', 'format must be text, json or fhir', 'format');
    (async () => {
      if (format === 'fhir') {
        const bundle = await replayer.fhir(stream, asOf);
        if (!bundle) return problem(res, 404, 'Not Found', `No stream ${stream}`, 'stream');
        return res.type('application/fhir+json').send(JSON.stringify(bundle));
      }
      const events = await replayer.events(stream);
      if (events.length === 0) return problem(res, 404, 'Not Found', `No stream ${stream}`, 'stream');
      const story = timeline(stream, events, asOf);
      if (format === 'json') return res.json({ stream, asOf: asOf?.toISOString(), lines: story.lines, events: story.shown });
      return res.type('text/plain').send(`${story.lines.join('\n')}\n`);
    })().catch((error: unknown) => {
      if (!(error instanceof Busy)) return next(error);
      res.set('Retry-After', String(error.retryAfterSeconds));
      problem(res, 503, 'Service Unavailable', `${error.message}: replays are limited so that care can go on`);
    });
  });

  return {
    name: 'audit',
    router,
    replayer,
    health: async (): Promise<ServiceHealth> => ({ service: 'audit', status: 'ok', details: {} }),
    start: async () => undefined,
    stop: () => replayer.close(),
  };
};

const problemContent = { 'application/problem+json': { schema: { type: 'object' } } };
const refusals = {
  '400': { description: 'A parameter is wrong: the error names it', content: problemContent },
  '401': { description: 'Caller not identified', content: problemContent },
  '403': { description: 'Only auditors (audit.read)', content: problemContent },
};

/** The auditors' API as OpenAPI 3.1 path items, for /openapi.json. */
export const auditOpenApiPaths = (): Record<string, unknown> => ({
  '/api/audit/verify': {
    get: {
      operationId: 'VerifyEventLog',
      summary: "Checks every stream's hash chain and every sealed digest of the global log now",
      tags: ['audit'],
      parameters: [{ name: 'anchor', in: 'query', required: false, description: 'A digest kept outside the database, <sequence>:<sha256>, as `npm run audit -- seal` prints it', schema: { type: 'string' } }],
      responses: { '200': { description: 'The report; ok is false when anything was changed, removed or inserted', content: { 'application/json': { schema: { type: 'object' } } } }, ...refusals },
    },
  },
  '/api/audit/streams/{stream}': {
    get: {
      operationId: 'ReplayStream',
      summary: "A stream's story as known at a time (late entries marked) and the state then",
      tags: ['audit'],
      parameters: [
        { name: 'stream', in: 'path', required: true, schema: { type: 'string' }, description: 'e.g. care-<patientId>, patient-<nhsNumber>, audit-<yyyy-mm-dd>' },
        { name: 'asOf', in: 'query', required: false, schema: { type: 'string', format: 'date-time' }, description: 'Only what had been recorded by then' },
        { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['text', 'json', 'fhir'] } },
      ],
      responses: {
        '200': { description: 'The timeline (text/plain), its lines and events (json), or a FHIR Bundle (fhir)' },
        '404': { description: 'No such stream', content: problemContent },
        '503': { description: 'Too many replays are running at once; try again after Retry-After seconds', content: problemContent },
        ...refusals,
      },
    },
  },
  '/api/audit/seal': {
    post: {
      operationId: 'SealDigest',
      summary: 'Seals a digest of the global log now and answers with it, to keep outside the database',
      tags: ['audit'],
      description: 'Takes no body (one is refused with 400).',
      responses: {
        '200': { description: '{ sealed: the digests sealed now, latest: the newest digest (n:sha256 to keep), busy }', content: { 'application/json': { schema: { type: 'object' } } } },
        '503': { description: 'Another process is sealing right now; try again after Retry-After seconds', content: problemContent },
        ...refusals,
      },
    },
  },
});
