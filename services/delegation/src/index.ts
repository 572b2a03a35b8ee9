import type { EventStore } from '@tandem/event-store';
import type { ServiceHealth } from '@tandem/contracts';
import { Router } from 'express';

export interface DelegationServiceDeps {
  readonly store: EventStore;
}

/** The delegation service: mounted by the composition root (apps/tandem) in every mode. */
export const createDelegationService = ({ store }: DelegationServiceDeps) => ({
  name: 'delegation',
  router: Router(),
  health: async (): Promise<ServiceHealth> => ({ service: 'delegation', status: 'ok', details: { eventStore: store.mode } }),
  start: async (): Promise<void> => undefined,
  stop: async (): Promise<void> => undefined,
});

export * from './domain';
