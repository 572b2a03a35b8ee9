import { ADMIN_ACCESS, AuthenticationError, refusalTitle, TooManyRequestsError, type AccessControl } from '@tandem/auth';
import type { ServiceHealth } from '@tandem/contracts';
import type { EventStore, SqlDriver } from '@tandem/event-store';
import { Router, type Response } from 'express';
import type { Logger } from 'pino';
import type { Projection } from './projection';
import { ProjectionRunner } from './runner';

const problem = (res: Response, status: number, title: string, detail: string) =>
  res.status(status).type('application/problem+json').json({ type: 'about:blank', title, status, detail });

/**
 * `npm run projections:rebuild` asks the running projections service to rebuild its read models.
 * Administration: a bearer token whose role the policy allows (registered-manager or system).
 */
const rebuildRoute = (runner: ProjectionRunner, access: AccessControl, logger?: Logger) => {
  const router = Router();
  let running: Promise<unknown> | undefined;
  router.post('/admin/projections/rebuild', (req, res, next) => {
    access.authenticate(req.get('authorization'), { address: req.ip }).then(
      (principal) => {
        const decision = access.authorise({ principal, action: ADMIN_ACCESS.rebuild.action, needs: ADMIN_ACCESS.rebuild.needs, target: { kind: 'none' } });
        if (!decision.allowed) return problem(res, 403, 'Forbidden', decision.detail);
        if (running) return problem(res, 409, 'Conflict', 'A rebuild is already running');
        running = runner
          .rebuild((events) => logger?.debug({ events }, 'rebuilding read models'))
          .then((report) => {
            logger?.info(report, 'read models rebuilt');
            res.json(report);
          }, next)
          .finally(() => (running = undefined));
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
