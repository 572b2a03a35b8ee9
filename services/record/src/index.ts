import type { ServiceHealth } from '@tandem/contracts';
import { withStreamCache, type EventStore, type SqlDriver } from '@tandem/event-store';
import { checkpointWatcher, ensureReadModels, fhirSchemaSql, FhirReader } from '@tandem/projections';
import { Router } from 'express';
import type { Logger } from 'pino';
import { CareRecord } from './application/care-record';
import { fhirRoutes, type ReadModelPosition } from './fhir/routes';
import { fhirWrites } from './fhir/writes';
import { commandRoutes } from './http/commands';
import { developmentIdentity, type Identify } from './http/identity';
import { openApiDocument } from './http/openapi';

export interface RecordServiceDeps {
  readonly store: EventStore;
  readonly readModels: SqlDriver;
  readonly logger?: Logger;
  readonly version: string;
  /** The in-process projection runner in embedded mode; otherwise the stored checkpoint is polled. */
  readonly readModelPosition?: ReadModelPosition;
  readonly identify?: Identify;
  readonly now?: () => Date;
}

/** The record service: care-record commands and the FHIR R4 API. */
export const createRecordService = ({ store, readModels, logger, version, readModelPosition, identify = developmentIdentity, now }: RecordServiceDeps) => {
  const router = Router();
  // Commands load a person's whole stream; the cache makes that cost only the events since the last command.
  const care = new CareRecord(withStreamCache(store), now);
  const reader = new FhirReader(readModels);
  const openApi = openApiDocument(version);
  router.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  router.use(commandRoutes(care, identify));
  router.use(
    fhirRoutes({
      reader,
      readModel: readModelPosition ?? checkpointWatcher(readModels),
      writes: fhirWrites(care, reader, identify, now ? { now } : {}),
      version,
      logError: (error) => logger?.error({ err: error }, 'FHIR request failed'),
    }),
  );
  return {
    name: 'record',
    router,
    care,
    health: async (): Promise<ServiceHealth> => ({ service: 'record', status: 'ok', details: { eventStore: store.mode } }),
    // The FHIR tables belong to the projections service; the record service only needs them to exist.
    start: async () => {
      await ensureReadModels(readModels, [{ name: 'fhir', schemaSql: fhirSchemaSql, apply: async () => undefined }]);
    },
    stop: async (): Promise<void> => undefined,
  };
};

export * from './fhir/routes';
export * from './application/care-record';
export * from './application/stream-command';
export { COMMAND_ROUTES } from './http/commands';
export { developmentIdentity, type Identify } from './http/identity';
export * from './fhir/operation-outcome';
export { fhirWrites, CONFIRMED_NOT_DUPLICATE_EXTENSION } from './fhir/writes';
