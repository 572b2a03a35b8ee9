import type { ServiceHealth } from '@tandem/contracts';
import type { EventStore, SqlDriver } from '@tandem/event-store';
import { Router } from 'express';
import type { Logger } from 'pino';
import type { Projection } from './projection';
import { ProjectionRunner } from './runner';

/** `npm run projections:rebuild` asks the running projections service to rebuild its read models. */
const rebuildRoute = (runner: ProjectionRunner, logger?: Logger) => {
  const router = Router();
  let running: Promise<unknown> | undefined;
  router.post('/admin/projections/rebuild', (_req, res, next) => {
    if (running) {
      res.status(409).type('application/problem+json').json({ type: 'about:blank', title: 'Conflict', status: 409, detail: 'A rebuild is already running' });
      return;
    }
    running = runner
      .rebuild((events) => logger?.debug({ events }, 'rebuilding read models'))
      .then((report) => {
        logger?.info(report, 'read models rebuilt');
        res.json(report);
      }, next)
      .finally(() => (running = undefined));
  });
  return router;
};

export interface ProjectionsServiceDeps {
  readonly store: EventStore;
  readonly readModels: SqlDriver;
  readonly logger?: Logger;
  readonly projections: readonly Projection[];
}

/** The projections service: keeps the read models up to date and reports its lag. */
export const createProjectionsService = ({ store, readModels, logger, projections }: ProjectionsServiceDeps) => {
  const runner = new ProjectionRunner(store, readModels, projections, logger);
  return {
    name: 'projections',
    runner,
    router: rebuildRoute(runner, logger),
    health: async (): Promise<ServiceHealth> => {
      const status = await runner.status();
      return { service: 'projections', status: status.running ? 'ok' : 'degraded', details: { eventStore: store.mode, projection: status } };
    },
    start: () => runner.start(),
    stop: () => runner.stop(),
  };
};
