import type { ServiceHealth } from '@tandem/contracts';
import type { EventStore, SqlDriver } from '@tandem/event-store';
import { Router } from 'express';
import type { Logger } from 'pino';
import type { Projection } from './projection';
import { ProjectionRunner } from './runner';

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
    router: Router(),
    health: async (): Promise<ServiceHealth> => {
      const status = await runner.status();
      return { service: 'projections', status: status.running ? 'ok' : 'degraded', details: { eventStore: store.mode, projection: status } };
    },
    start: () => runner.start(),
    stop: () => runner.stop(),
  };
};
