import { AUDIT_ACCESS, refusalTitle, type AccessControl, type EndpointAccess } from '@tandem/auth';
import type { ServiceHealth } from '@tandem/contracts';
import { streamNameProblem, verifyEventLog, type EventStore, type SqlQueryable } from '@tandem/event-store';
import { authenticate, principalOf } from '@tandem/record';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { TandemService } from '../server';
import { readWholeStream, replayAsFhir } from './replay';
import { timeline } from './timeline';

const ANCHOR = /^(\d{1,12}):([0-9a-fA-F]{64})$/;

const problem = (res: Response, status: number, title: string, detail: string, field?: string) =>
  res
    .status(status)
    .type('application/problem+json')
    .json({ type: 'about:blank', title, status, detail, ...(field ? { errors: [{ field, message: detail }] } : {}) });

export interface AuditRoutesDeps {
  readonly store: EventStore;
  /** The SQL event log, for verify; undefined on EventStoreDB, which keeps its own checksummed log. */
  readonly sqlLog?: SqlQueryable;
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
 * Both are `audit.read` (auditors), and like every request they are on the access trail.
 */
export const createAuditService = ({ store, sqlLog, access }: AuditRoutesDeps): TandemService => {
  const router = Router();
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
      const events = await readWholeStream(store, stream);
      if (events.length === 0) return problem(res, 404, 'Not Found', `No stream ${stream}`, 'stream');
      const story = timeline(stream, events, asOf);
      if (format === 'fhir') return res.type('application/fhir+json').send(JSON.stringify(await replayAsFhir(story.shown, asOf)));
      if (format === 'json') return res.json({ stream, asOf: asOf?.toISOString(), lines: story.lines, events: story.shown });
      return res.type('text/plain').send(`${story.lines.join('\n')}\n`);
    })().catch(next);
  });

  return {
    name: 'audit',
    router,
    health: async (): Promise<ServiceHealth> => ({ service: 'audit', status: 'ok', details: {} }),
    start: async () => undefined,
    stop: async () => undefined,
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
      responses: { '200': { description: 'The timeline (text/plain), its lines and events (json), or a FHIR Bundle (fhir)' }, '404': { description: 'No such stream', content: problemContent }, ...refusals },
    },
  },
});
