import type { ServiceHealth } from '@tandem/contracts';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { version } from '../package.json';
import { apiDescription, problemsOf, routeExists } from './operations';

export interface TandemService {
  readonly name: string;
  readonly router: Router;
  health(): Promise<ServiceHealth>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** problem+json (RFC 9457) for errors on non-FHIR routes; never a stack trace or SQL. */
export const problem = (status: number, title: string, detail?: string) => ({
  type: 'about:blank',
  title,
  status,
  ...(detail ? { detail } : {}),
});

export interface ServerOptions {
  readonly services: readonly TandemService[];
  readonly eventStoreMode: string;
  readonly logger: Logger;
  /** Runs before every route: the access trail follows each request from here. */
  readonly accessTrail?: RequestHandler;
  /**
   * Which proxies' X-Forwarded-For to believe (express's `trust proxy`): false (none) unless
   * configured, so a client cannot choose the address the rate limits and the audit trail see.
   */
  readonly trustProxy?: false | number | string;
  /**
   * Whether the caller may see /health's details (version, log positions, each service's state):
   * an operator (a system or auditor token). Everyone else sees the status and what is wrong.
   */
  readonly isOperator?: (req: Request) => Promise<boolean>;
  /** The care worker's app at `/` and its sign-in (apps/tandem/src/web), before the API's routes. */
  readonly web?: Router;
}

/** The port is taken (another Tandem, or another program): said in words, not as a stack trace. */
export class PortInUse extends Error {
  constructor(readonly port: number) {
    super(`port ${port} is already in use (another Tandem or another program is listening on it): stop it, or set PORT to a free port`);
    this.name = 'PortInUse';
  }
}

/** Listens on `port`; rejects with PortInUse (or the listen error) rather than resolving a server that never listened. */
export const listen = (app: express.Express, port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = app.listen(port);
    // Node closes an idle keep-alive connection after 5 s and says so; a client reusing it at that
    // moment (a FHIR client paging, an integration polling) gets ECONNRESET for a request it sent
    // rightly. Idle connections are kept longer than clients keep them (as behind a load balancer),
    // and the headers' deadline is kept above it as Node requires.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    server.once('listening', () => resolve(server));
    server.once('error', (error: NodeJS.ErrnoException) => {
      server.close();
      reject(error.code === 'EADDRINUSE' ? new PortInUse(port) : error);
    });
  });

export const createServer = (options: ServerOptions) => {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? false);
  // Security headers on every response (nosniff, HSTS, a restrictive CSP, no framing, no referrer): the API
  // serves JSON only, so helmet's defaults fit (docs/decisions/0009-hardening.md).
  app.use(helmet());

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    // Paths only: query strings and bodies can hold clinical data and never reach the log.
    res.on('finish', () =>
      options.logger.info({ method: req.method, path: req.originalUrl.split('?')[0], status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request'),
    );
    next();
  });

  // A NUL character (%00) belongs in no id, search value or name, and PostgreSQL refuses it in text
  // (it failed searches with a 500): refused here, before it can reach SQL or the access trail.
  app.use((req, res, next) => {
    if (!req.originalUrl.includes('%00')) return next();
    const detail = 'The URL must not contain a NUL character (%00)';
    if (req.path.startsWith('/fhir')) {
      res.status(400).type('application/fhir+json').send(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: detail }] }));
    } else {
      res.status(400).type('application/problem+json').json(problem(400, 'Bad Request', detail));
    }
  });

  if (options.web) app.use(options.web);

  app.get('/health', async (req, res) => {
    const [services, operator] = await Promise.all([
      Promise.all(options.services.map((s) => s.health().catch((): ServiceHealth => ({ service: s.name, status: 'degraded', details: { problem: `${s.name}: its health check failed` } })))),
      req.get('authorization') && options.isOperator ? options.isOperator(req).catch(() => false) : false,
    ]);
    const status = services.every((s) => s.status === 'ok') ? 'ok' : 'degraded';
    const problems = problemsOf(services);
    res.status(status === 'ok' ? 200 : 503);
    // Without an operator's token: the status and what is wrong, never the version or log positions.
    if (!operator) return res.json({ status, ...(problems.length ? { problems } : {}), services: services.map(({ service, status: s }) => ({ service, status: s })) });
    res.json({ status, ...(problems.length ? { problems } : {}), version, eventStore: options.eventStoreMode, services });
  });

  // The API's description, like /openapi.json, needs no token.
  app.get(['/api', '/api/', '/api/docs'], apiDescription);
  // A path no service answers is a 404 before any token is asked for.
  const routers = options.services.map((s) => s.router);
  app.use((req, res, next) => {
    if (routeExists(routers, req.method, req.path)) return next();
    res.status(404).type('application/problem+json').json(problem(404, 'Not Found', `No route for ${req.method} ${req.path}`));
  });

  if (options.accessTrail) app.use(options.accessTrail);
  for (const service of options.services) app.use(service.router);

  app.use((req, res) => {
    res.status(404).type('application/problem+json').json(problem(404, 'Not Found', `No route for ${req.method} ${req.path}`));
  });
  const onError: ErrorRequestHandler = (error: { status?: number; type?: string }, _req, res, _next) => {
    const status = typeof error.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) options.logger.error({ err: error }, 'unhandled error');
    res.status(status).type('application/problem+json').json(problem(status, status === 500 ? 'Internal Server Error' : 'Bad Request', error.type));
  };
  app.use(onError);
  return app;
};
