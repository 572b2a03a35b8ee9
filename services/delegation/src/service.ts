import type { AccessControl } from '@tandem/auth';
import type { ServiceHealth } from '@tandem/contracts';
import { withStreamCache, type EventStore, type SqlDriver } from '@tandem/event-store';
import { ProjectionRunner } from '@tandem/projections';
import type { Logger } from 'pino';
import { systemClock, type Clock } from './application/clock';
import { DelegationCommands } from './application/commands';
import { FrameworkCatalogue } from './application/frameworks';
import { DelegationAccess, type CareRelationships } from './http/access';
import { delegationOpenApiPaths } from './http/openapi';
import { delegationRouter } from './http/router';
import { delegationProjection } from './reactions/projection';
import { DelegationViews } from './reactions/read-model';
import { DelegationReactor, type ReadModelPosition } from './reactions/reactor';
import { Scheduler, schedulerSchemaSql } from './scheduler/scheduler';
import type { VisitDeadlines } from './scheduler/visits';

export interface DelegationServiceDeps extends DelegationCoreDeps {
  /** Bearer-token authentication and the access policy (@tandem/auth). */
  readonly access: AccessControl;
  /** Mount the test clock (/admin/clock): embedded mode with an adjustable clock only. */
  readonly testClock?: boolean;
  /** Who cares for a person, from the care record (the composition root passes the record's RecordAccess). */
  readonly relationships: CareRelationships;
}

/** What runs without HTTP: the command edge, the reactions, the scheduler (and the read model's projection, where no runner is given). */
export interface DelegationCoreDeps {
  readonly store: EventStore;
  readonly readModels: SqlDriver;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly frameworks?: FrameworkCatalogue;
  /** How often the scheduler looks for due timers (ms; 0: only when asked); it also looks whenever the read model moves on. */
  readonly schedulerIntervalMs?: number;
  /**
   * The projection runner that keeps the delegation read model (delegationProjection, beside the
   * FHIR projection), or its stored checkpoint when it runs in another process (checkpointWatcher).
   * Without one the core runs a runner of its own with the delegation projection alone.
   */
  readonly readModel?: ReadModelPosition & { onAdvance?(listener: (position: number) => void): void };
  /** The care record's visits (the composition root passes the record's VisitBook): late and missed visits are noticed there, then escalated. */
  readonly visits?: VisitDeadlines;
}

export const createDelegationCore = (deps: DelegationCoreDeps) => {
  const clock = deps.clock ?? systemClock;
  const store = withStreamCache(deps.store);
  const frameworks = deps.frameworks ?? new FrameworkCatalogue();
  const commands = new DelegationCommands(store, frameworks, clock);
  const ownRunner = deps.readModel ? undefined : new ProjectionRunner(deps.store, deps.readModels, [delegationProjection(frameworks)], deps.logger);
  const readModel = deps.readModel ?? ownRunner!;
  const views = new DelegationViews(deps.readModels);
  const processor = new DelegationReactor({ store, db: deps.readModels, commands, views, readModel, clock, ...(deps.logger ? { logger: deps.logger } : {}) });
  const scheduler = new Scheduler({
    db: deps.readModels,
    store,
    commands,
    clock,
    settle: (position) => processor.waitFor(position, 10_000),
    ...(deps.logger ? { logger: deps.logger } : {}),
    intervalMs: deps.schedulerIntervalMs ?? 1000,
    ...(deps.visits ? { visits: deps.visits } : {}),
  });
  // A batch the projection applied may have scheduled a timer that is due already.
  readModel.onAdvance?.(() => scheduler.poke());
  return {
    store,
    clock,
    commands,
    /** The reactions (its waitFor: reacted to, and in the read model). */
    processor,
    views,
    scheduler,
    /** The delegation projection's own runner, when no runner was given. */
    runner: ownRunner,
    start: async (): Promise<void> => {
      await deps.readModels.migrate(schedulerSchemaSql);
      await ownRunner?.start();
      await processor.start();
      scheduler.start();
    },
    stop: async (): Promise<void> => {
      await scheduler.stop();
      await processor.stop();
      await ownRunner?.stop();
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
  const router = delegationRouter({ api: { commands, views: core.views }, access, processor, scheduler, store, clock, testClock: deps.testClock ?? false });
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
