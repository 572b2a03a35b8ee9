import type { AccessControl } from '@tandem/auth';
import type { ServiceHealth } from '@tandem/contracts';
import { withStreamCache, type EventStore, type SqlDriver } from '@tandem/event-store';
import type { Logger } from 'pino';
import { systemClock, type Clock } from './application/clock';
import { DelegationCommands } from './application/commands';
import { FrameworkCatalogue } from './application/frameworks';
import { DelegationAccess, type CareRelationships } from './http/access';
import { delegationOpenApiPaths } from './http/openapi';
import { delegationRouter } from './http/router';
import { DelegationProcessor } from './reactions/processor';
import { Scheduler } from './scheduler/scheduler';

export interface DelegationServiceDeps extends DelegationCoreDeps {
  /** Bearer-token authentication and the access policy (@tandem/auth). */
  readonly access: AccessControl;
  /** Mount the test clock (/admin/clock): embedded mode with an adjustable clock only. */
  readonly testClock?: boolean;
  /** Who cares for a person, from the care record (the composition root passes the record's RecordAccess). */
  readonly relationships: CareRelationships;
}

/** What runs without HTTP: the command edge, the subscription (reactions, read model, timers) and the scheduler. */
export interface DelegationCoreDeps {
  readonly store: EventStore;
  readonly readModels: SqlDriver;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly frameworks?: FrameworkCatalogue;
  /** How often the scheduler looks for due timers (ms; 0: only when asked); it also looks whenever a timer is scheduled. */
  readonly schedulerIntervalMs?: number;
}

export const createDelegationCore = (deps: DelegationCoreDeps) => {
  const clock = deps.clock ?? systemClock;
  const store = withStreamCache(deps.store);
  const commands = new DelegationCommands(store, deps.frameworks ?? new FrameworkCatalogue(), clock);
  const late: { scheduler?: Scheduler } = {};
  const processor = new DelegationProcessor({
    store,
    db: deps.readModels,
    commands,
    clock,
    ...(deps.logger ? { logger: deps.logger } : {}),
    onIndexed: () => late.scheduler?.poke(),
  });
  const scheduler = new Scheduler({
    db: deps.readModels,
    store,
    commands,
    clock,
    settle: (position) => processor.waitFor(position, 10_000),
    ...(deps.logger ? { logger: deps.logger } : {}),
    intervalMs: deps.schedulerIntervalMs ?? 1000,
  });
  late.scheduler = scheduler;
  return {
    store,
    clock,
    commands,
    processor,
    views: processor.views,
    scheduler,
    start: async (): Promise<void> => {
      await processor.start();
      scheduler.start();
    },
    stop: async (): Promise<void> => {
      await scheduler.stop();
      await processor.stop();
    },
  };
};

export type DelegationCore = ReturnType<typeof createDelegationCore>;

/**
 * The delegation service: the JSON API for nurses and care workers, the subscription that reacts
 * to the care record and keeps the delegation read model and timers, and the scheduler that fires
 * due timers. Mounted by the composition root (apps/tandem) in every mode.
 */
export const createDelegationService = (deps: DelegationServiceDeps) => {
  const core = createDelegationCore(deps);
  const { store, clock, commands, processor, scheduler } = core;
  const access = new DelegationAccess(deps.access, deps.relationships);
  const router = delegationRouter({ api: { commands, views: processor.views }, access, processor, scheduler, store, clock, testClock: deps.testClock ?? false });
  return {
    name: 'delegation',
    router,
    core,
    commands,
    processor,
    scheduler,
    clock,
    openApiPaths: delegationOpenApiPaths,
    health: async (): Promise<ServiceHealth> => {
      const status = await processor.status();
      return { service: 'delegation', status: status.running ? 'ok' : 'degraded', details: { eventStore: deps.store.mode, reactions: status } };
    },
    start: core.start,
    stop: core.stop,
  };
};

export type DelegationService = ReturnType<typeof createDelegationService>;
