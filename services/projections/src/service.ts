import { ADMIN_ACCESS, AuthenticationError, refusalTitle, TooManyRequestsError, type AccessControl } from '@tandem/auth';
import type { ServiceHealth } from '@tandem/contracts';
import type { EventStore, SqlDriver } from '@tandem/event-store';
import { json, Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Projection } from './projection';
import { ProjectionRunner } from './runner';

const problem = (res: Response, status: number, title: string, detail: string) =>
  res.status(status).type('application/problem+json').json({ type: 'about:blank', title, status, detail });

const readBody = json({ limit: '4kb', strict: false, type: () => true });

/** What is wrong with a rebuild's body, if anything: it takes none (an empty body or `{}`). */
const bodyProblem = (req: Request): Promise<{ field: string; message: string } | undefined> =>
  new Promise((resolve) => {
    if (!(Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding'))) return resolve(undefined);
    readBody(req, {} as Response, (error?: unknown) => {
      if (error) return resolve({ field: '(body)', message: 'is not JSON (a rebuild takes no body, or {})' });
      const body: unknown = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return resolve({ field: '(body)', message: 'must be empty or {}: a rebuild takes no options' });
      const [field] = Object.keys(body);
      resolve(field === undefined ? undefined : { field, message: `${field} is not an option: a rebuild takes none (it always rebuilds every read model from the start)` });
    });
  });

/**
 * `npm run projections:rebuild` asks the running projections service to rebuild its read models.
 * Administration: a bearer token whose role the policy allows (registered-manager or system).
 * The body is empty or `{}`; one rebuild runs at a time (another is 503 with Retry-After), and it
 * gives way to other requests between its batches.
 */
const rebuildRoute = (runner: ProjectionRunner, access: AccessControl, logger?: Logger) => {
  const router = Router();
  router.post('/admin/projections/rebuild', (req, res, next) => {
    access.authenticate(req.get('authorization'), { address: req.ip }).then(
      async (principal) => {
        const decision = access.authorise({ principal, action: ADMIN_ACCESS.rebuild.action, needs: ADMIN_ACCESS.rebuild.needs, target: { kind: 'none' } });
        if (!decision.allowed) return problem(res, 403, 'Forbidden', decision.detail);
        if (runner.rebuilding) {
          res.set('Retry-After', '30');
          return problem(res, 503, 'Service Unavailable', 'A rebuild is already running; one runs at a time, try again when it has finished');
        }
        // A rebuild takes no options: an empty body or {}; anything else is refused, naming it, rather than ignored.
        const refused = await bodyProblem(req);
        if (refused) return res.status(400).type('application/problem+json').json({ type: 'about:blank', title: 'Bad Request', status: 400, detail: refused.message, errors: [refused] });
        void runner
          .rebuild((events) => logger?.debug({ events }, 'rebuilding read models'))
          .then((report) => {
            logger?.info(report, 'read models rebuilt');
            res.json(report);
          }, next);
      },
      (error: unknown) => {
        if (error instanceof TooManyRequestsError) res.set('Retry-After', String(error.retryAfterSeconds));
        else if (error instanceof AuthenticationError) res.set('WWW-Authenticate', error.challenge);
        else return next(error);
        problem(res, error.status, refusalTitle(error), error.message);
      },
    );
  });
  return router;
};

export interface ProjectionsServiceDeps {
  readonly store: EventStore;
  readonly readModels: SqlDriver;
  readonly logger?: Logger;
  readonly projections: readonly Projection[];
  /** Bearer-token authentication and the access policy, for the admin route. */
  readonly access: AccessControl;
}

/** The projections service: keeps the read models up to date and reports its lag. */
export const createProjectionsService = ({ store, readModels, logger, projections, access }: ProjectionsServiceDeps) => {
  const runner = new ProjectionRunner(store, readModels, projections, logger);
  return {
    name: 'projections',
    runner,
    router: rebuildRoute(runner, access, logger),
    health: async (): Promise<ServiceHealth> => {
      const status = await runner.status();
      return { service: 'projections', status: status.running ? 'ok' : 'degraded', details: { eventStore: store.mode, projection: status } };
    },
    start: () => runner.start(),
    stop: () => runner.stop(),
  };
};
