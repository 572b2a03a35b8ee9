import type { ServiceHealth } from '@tandem/contracts';
import express, { type ErrorRequestHandler, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { version } from '../package.json';

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
}

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

  app.get('/health', async (_req, res) => {
    const services = await Promise.all(
      options.services.map((s) => s.health().catch((): ServiceHealth => ({ service: s.name, status: 'degraded', details: { error: 'health check failed' } }))),
    );
    const status = services.every((s) => s.status === 'ok') ? 'ok' : 'degraded';
    res.status(status === 'ok' ? 200 : 503).json({ status, version, eventStore: options.eventStoreMode, services });
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
