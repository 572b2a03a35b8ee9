import type { ServiceHealth } from '@tandem/contracts';
import type { EventStore, SqlDriver } from '@tandem/event-store';
import { checkpointWatcher, fhirSchemaSql, FhirReader } from '@tandem/projections';
import { Router } from 'express';
import type { Logger } from 'pino';
import { fhirRoutes, type ReadModelPosition } from './fhir/routes';

export interface RecordServiceDeps {
  readonly store: EventStore;
  readonly readModels: SqlDriver;
  readonly logger?: Logger;
  readonly version: string;
  /** The in-process projection runner in embedded mode; otherwise the stored checkpoint is polled. */
  readonly readModelPosition?: ReadModelPosition;
}

/** The record service: care-record commands and the FHIR R4 API. */
export const createRecordService = ({ store, readModels, logger, version, readModelPosition }: RecordServiceDeps) => {
  const router = Router();
  router.use(
    fhirRoutes({
      reader: new FhirReader(readModels),
      readModel: readModelPosition ?? checkpointWatcher(readModels),
      version,
      logError: (error) => logger?.error({ err: error }, 'FHIR request failed'),
    }),
  );
  return {
    name: 'record',
    router,
    health: async (): Promise<ServiceHealth> => ({ service: 'record', status: 'ok', details: { eventStore: store.mode } }),
    start: () => readModels.migrate(fhirSchemaSql),
    stop: async (): Promise<void> => undefined,
  };
};

export * from './fhir/routes';
export * from './fhir/operation-outcome';
