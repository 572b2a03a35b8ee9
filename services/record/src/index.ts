import type { CapabilityStatementRestResource, CapabilityStatementRestResourceOperation } from 'fhir/r4';
import type { AccessControl } from '@tandem/auth';
import type { ServiceHealth } from '@tandem/contracts';
import { withStreamCache, type EventStore } from '@tandem/event-store';
import type { FhirReader } from '@tandem/fhir-read-model';
import { Router } from 'express';
import type { Logger } from 'pino';
import { CareRecord, type FollowUpsLookup } from './application/care-record';
import type { VisitOptions } from './application/visits';
import { currentStreams } from './application/current-streams';
import { fhirRoutes, type FhirRouteDeps, type ReadModelPosition } from './fhir/routes';
import { fhirWrites } from './fhir/writes';
import { commandRoutes } from './http/commands';
import { FhirError } from './fhir/operation-outcome';
import { principalOf, RecordAccess } from './http/access';
import { openApiDocument } from './http/openapi';

export interface RecordServiceDeps {
  readonly store: EventStore;
  /**
   * The FHIR read model the reads are answered from, given by the composition root: the tables are
   * the projections service's, created and kept by it (the record service neither creates nor
   * writes them).
   */
  readonly reader: FhirReader;
  readonly logger?: Logger;
  readonly version: string;
  /** How far the read model has got: the in-process projection runner in embedded mode, otherwise its stored checkpoint (checkpointWatcher). */
  readonly readModelPosition: ReadModelPosition;
  /** Bearer-token authentication and the access policy (@tandem/auth): who may see and do what. */
  readonly access: AccessControl;
  readonly now?: () => Date;
  /** The deployment's id secret: a person's id is keyed from their NHS number with it (docs/decisions/0005). */
  readonly idSecret: string | Uint8Array;
  /**
   * Where this process runs the delegation service: the prompts and escalations its rules started
   * for an entry, for the answer to the entry (wired by the composition root).
   */
  readonly followUps?: FollowUpsLookup;
  /** Other services' JSON commands served by this process, for /openapi.json (the delegation service's). */
  readonly openApiPaths?: () => Record<string, unknown>;
  /** What other services of this process serve under /fhir (Subscription), for /fhir/metadata. */
  readonly moreCapabilities?: () => readonly CapabilityStatementRestResource[];
  /** System-level operations other services of this process serve (Bulk Data `$export`), for /fhir/metadata. */
  readonly moreOperations?: () => readonly CapabilityStatementRestResourceOperation[];
  /** The access trail, flushed before an AuditEvent search (see fhirRoutes). */
  readonly accessTrail?: { flush(): Promise<number> };
  /** Where a SMART app signs in, as SMART discovery says, for /fhir/metadata's security (see fhirRoutes). */
  readonly smartEndpoints?: FhirRouteDeps['smartEndpoints'];
  /** A person's visits: the LOCAL late tolerance, and the MAR's scheduled doses due in a visit (insulin's without it). */
  readonly visits?: VisitOptions;
}

/** The record service: care-record commands and the FHIR R4 API. */
export const createRecordService = ({ store, reader, logger, version, readModelPosition, access, now, idSecret, followUps, openApiPaths, accessTrail, moreCapabilities, moreOperations, smartEndpoints, visits }: RecordServiceDeps) => {
  const router = Router();
  // Commands load a person's whole stream; the cache makes that cost only the events since the last command.
  // ... and streams known current (currentStreams: followed on the log) are not read at all: the policy's facts for every read.
  const streams = currentStreams(withStreamCache(store), { onError: (error) => logger?.error({ err: error }, 'following the log for current streams failed: reading them from the store') });
  const care = new CareRecord(streams.store, now, { idSecret, ...(followUps ? { followUps } : {}), ...(visits ? { visits } : {}) });
  const recordAccess = new RecordAccess(care, reader, access);
  const openApi = openApiDocument(version, openApiPaths?.());
  router.get('/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  router.use(commandRoutes(care, recordAccess));
  router.use(
    fhirRoutes({
      reader,
      access: recordAccess,
      // Read-your-writes waits for the read models and for the policy's facts alike (H65).
      readModel: { waitFor: async (position, timeoutMs) => (await Promise.all([readModelPosition.waitFor(position, timeoutMs), streams.waitFor(position, timeoutMs)])).every(Boolean) },
      writes: fhirWrites(
        care,
        async (req, endpoint, about) => {
          const decision = await recordAccess.decide(req, req.res!, endpoint, about);
          if (!decision.allowed) throw new FhirError(403, [{ code: 'forbidden', diagnostics: decision.detail }], decision.reason);
          return principalOf(req).actor;
        },
        now ? { now } : {},
      ),
      version,
      logError: (error) => logger?.error({ err: error }, 'FHIR request failed'),
      ...(accessTrail ? { accessTrail } : {}),
      ...(moreCapabilities ? { moreCapabilities } : {}),
      ...(moreOperations ? { moreOperations } : {}),
      ...(smartEndpoints ? { smartEndpoints } : {}),
    }),
  );
  return {
    name: 'record',
    router,
    care,
    /** The record's side of the policy (who cares for whom, from the patient streams), for other services of this process. */
    access: recordAccess,
    health: async (): Promise<ServiceHealth> => ({ service: 'record', status: 'ok', details: { eventStore: store.mode } }),
    // The FHIR tables belong to the projections service: the composition root makes sure they exist.
    start: async () => {
      await streams.start();
    },
    stop: () => streams.stop(),
  };
};

export * from './fhir/routes';
export * from './application/care-record';
export * from './application/stream-command';
export * from './application/visits';
export { COMMAND_ROUTES } from './http/commands';
export { RecordAccess, authenticate, principalOf, BREAK_GLASS_USED_HEADER } from './http/access';
export { storableJson } from './http/storable-json';
export * from './fhir/operation-outcome';
export { fhirWrites, CONFIRMED_NOT_DUPLICATE_EXTENSION, type WriteAuthoriser } from './fhir/writes';
export { careStateFrom, idSecretProblem, INSULIN_TIME_WINDOW_MINUTES, insulinProductKey, isCareRecordEvent, MIN_ID_SECRET_BYTES, patientStateFrom, patientIdFor, type StoredCareEvent } from './domain';
