import { createAccessControl, DevIssuer, remoteTokenVerifier, sharedRateLimitStore, type OnAccess, type TokenVerifier } from '@tandem/auth';
import { auditEventDefinitions, careEventDefinitions, delegationEventDefinitions, englandDate, englandInstant, EventRegistry, subscriptionEventDefinitions, visitEventDefinitions } from '@tandem/contracts';
import { createDelegationService, delegationOpenApiPaths, delegationProjection, doseDeadlines, doseEscalationId, followUpsOf, FrameworkCatalogue, OffsetClock, systemClock, type Clock } from '@tandem/delegation';
import { startDigestSealer } from '@tandem/event-store';
import { FhirReader } from '@tandem/fhir-read-model';
import { capacityProjection, checkpointWatcher, projectionsOpenApiPaths, createCapacityService, createIndicatorsService, createProjectionsService, ensureReadModels, fhirProjection, LatestVersionsReader, qualityProjection } from '@tandem/projections';
import { CareRecord, createRecordService, INSULIN_TIME_WINDOW_MINUTES, insulinProductKey, RecordAccess, type FollowUpsLookup } from '@tandem/record';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { version } from '../package.json';
import type { Config } from './config';
import { AccessTrail } from './audit/access-trail';
import { auditOpenApiPaths, createAuditService } from './audit/audit-routes';
import { seedDemoData } from './demo/demo-data';
import { seedDemoDelegationSide } from './demo/first-start';
import { seedDemoMedicinesAndVisits } from './demo/medicines-visits';
import { withLoggableErrors } from './log';
import { idSecretFor } from './id-secret';
import { identityProviderHealth } from './operations';
import { createServer, listen, type TandemService } from './server';
import { webAppFor } from './web/web-app';
import type { SmartEndpointsOf } from './web/smart-configuration';
import { createLiveService, liveOpenApiPaths } from './live/live-service';
import { createSubscriptionService } from './subscriptions/service';
import { createBulkExportService } from './bulk-export/service';
import { BULK_DATA_OPERATIONS } from './bulk-export/export-request';
import { groupCapability } from './bulk-export/groups';
import { GroupReader, groupsProjection } from './bulk-export/groups-projection';
import { subscriptionCapability } from './subscriptions/topics';
import { openStorage, type Storage } from './storage';

/** What the indicators' routes serve under /fhir, for the CapabilityStatement. */
const INDICATOR_CAPABILITIES = [
  { type: 'Measure', interaction: [{ code: 'read' as const }, { code: 'search-type' as const }] },
  {
    type: 'MeasureReport',
    interaction: [{ code: 'search-type' as const }],
    searchParam: [
      { name: 'reporter', type: 'reference' as const, documentation: 'Organization/<id>: the summary reports of an organisation' },
      { name: 'subject', type: 'reference' as const, documentation: 'Patient/<id>: the individual reports of a person' },
      { name: 'period', type: 'date' as const, documentation: 'a month (2026-12) or a day (2026-12-03)' },
    ],
  },
];

export const eventRegistry = () => new EventRegistry([...careEventDefinitions, ...delegationEventDefinitions, ...auditEventDefinitions, ...subscriptionEventDefinitions, ...visitEventDefinitions]);

export interface RunningTandem {
  readonly url: string;
  /** Every request's access record; `flush()` writes what is buffered (tests, before reading the trail). */
  readonly accessTrail: AccessTrail;
  readonly storage: Storage;
  readonly services: readonly TandemService[];
  stop(): Promise<void>;
}

export interface TandemOptions {
  /** Called with every access decision (the audit trail's hook); decisions are logged as well. */
  readonly onAccess?: OnAccess;
  /** The clock every service decides by (tests pass a ManualClock); TANDEM_TEST_CLOCK makes it adjustable. */
  readonly clock?: Clock;
  /** Who holds the embedded data directory, as its lock names it (a tool: `npm run seed`); the server by default. */
  readonly holder?: string;
  /** Rest-hook retries (tests shorten them): first wait, longest wait, failures before `error`. */
  readonly subscriptionRetry?: { readonly firstMs?: number; readonly maxMs?: number; readonly errorAfter?: number };
}

/**
 * Where token signing keys come from: the identity provider's JWKS URL when configured (required
 * outside the embedded mode), otherwise the embedded mode's development issuer in the data directory.
 */
const tokenVerifier = async (config: Config, logger: Logger): Promise<TokenVerifier> => {
  if (config.TANDEM_AUTH_JWKS_URL && config.TANDEM_AUTH_ISSUER && config.TANDEM_AUTH_AUDIENCE) {
    return remoteTokenVerifier({ jwksUrl: config.TANDEM_AUTH_JWKS_URL, issuer: config.TANDEM_AUTH_ISSUER, audience: config.TANDEM_AUTH_AUDIENCE });
  }
  const issuer = await DevIssuer.open({ dataDir: config.TANDEM_DATA_DIR, eventStore: config.TANDEM_EVENT_STORE });
  logger.info({ issuer: issuer.issuer }, 'Development token issuer on (embedded mode only): mint tokens with `npm run token`');
  return issuer.verifier();
};

/** Access decisions in the log: who, which action, which person, the outcome. Never a break-glass reason's text or clinical data. */
export const logAccess =
  (logger: Logger): OnAccess =>
  (d) => {
    const access = {
      actor: d.actor.id,
      role: d.actor.role,
      action: d.action,
      scopes: d.needs.map((n) => `${n.types.join('|')}.${n.interaction}`).join(' ') || undefined,
      patient: d.patientId,
      allowed: d.allowed,
      reason: d.reason,
      relationship: d.relationship,
      breakGlass: d.breakGlass !== undefined || undefined,
    };
    if (d.breakGlass) logger.warn({ access }, 'break-glass access');
    else if (!d.allowed) logger.info({ access }, 'access denied');
    else logger.debug({ access }, 'access allowed');
  };

/** The composition root: wires storage, services and HTTP for one process. */
export const startTandem = async (config: Config, given: Logger = pino({ level: config.LOG_LEVEL }), options: TandemOptions = {}): Promise<RunningTandem> => {
  // Errors are logged without the SQL parameters or quoted values a database error carries (NHS numbers, names).
  const logger = withLoggableErrors(given);
  const clock = options.clock ?? (config.TANDEM_TEST_CLOCK ? new OffsetClock() : systemClock);
  // Under a test clock the store records by it too, so nothing is recorded before it happened.
  const testClock = options.clock !== undefined || config.TANDEM_TEST_CLOCK;
  const storage = await openStorage(config, eventRegistry(), {
    holder: options.holder ?? 'the server',
    onStaleLock: (message) => logger.warn(message),
    ...(testClock ? { clock: () => clock.now() } : {}),
  });
  const { store, readModels } = storage;
  const log = logAccess(logger);
  const accessTrail = new AccessTrail({ store, logger });
  // Rate-limit counters in Redis when configured (server mode: every record process counts each user once; ADR 0017).
  const rateStore = config.TANDEM_REDIS_URL ? sharedRateLimitStore(config.TANDEM_REDIS_URL, (error) => logger.warn({ err: error }, 'Redis for the rate limits cannot be reached: counting in this process meanwhile')) : undefined;
  const access = createAccessControl({
    verifier: await tokenVerifier(config, logger),
    onAccess: (decision) => {
      log(decision);
      accessTrail.onAccess(decision);
      options.onAccess?.(decision);
    },
    onAuthenticated: accessTrail.onAuthenticated,
    onDisclosed: accessTrail.onDisclosed,
    // Per verified user (0: off); guessed tokens per client address keep their default (60 a minute).
    rateLimit: { perUserPerMinute: config.TANDEM_RATE_LIMIT_PER_MINUTE, ...(rateStore ? { store: rateStore } : {}) },
  });
  const now = () => clock.now();
  const catalogue = new FrameworkCatalogue();
  // The quality indicators (issue 15) count by England's calendar and the medicines ruleset's own dose tolerance (one home for the number).
  const quality = qualityProjection({
    dayOf: englandDate,
    instantOf: englandInstant,
    onTimeUntil: (timeCritical, dueAt) => doseDeadlines(catalogue.medicines, timeCritical, dueAt).overdueAt,
    doseEscalationId,
    // A delegated insulin dose is matched to its instructed time by the record's own rule (one home): its product key and time window.
    insulin: { productKey: insulinProductKey, timeWindowMinutes: INSULIN_TIME_WINDOW_MINUTES },
  });
  const projections = config.TANDEM_SERVICES.includes('projections') ? createProjectionsService({ store, readModels, logger, projections: [fhirProjection, delegationProjection(catalogue), quality, capacityProjection, groupsProjection], access }) : undefined;
  // Filled in when the delegation service is created (the services are created in the configured order).
  const late: { delegation?: FollowUpsLookup; smart?: SmartEndpointsOf } = {};
  const factories: Record<Config['TANDEM_SERVICES'][number], () => TandemService> = {
    projections: () => projections!,
    record: () =>
      createRecordService({
        store,
        // The FHIR read model is the projections service's: the record service reads it, as the
        // runner in this process has it, or by its stored checkpoint where the projections run elsewhere.
        // Where this process's runner writes the read model, the latest versions are held in memory, kept current by it.
        reader: projections ? new LatestVersionsReader(readModels, projections.runner) : new FhirReader(readModels),
        logger,
        version,
        readModelPosition: projections?.runner ?? checkpointWatcher(readModels),
        access,
        now,
        idSecret: idSecretFor(config),
        visits: { lateToleranceMinutes: config.TANDEM_VISIT_LATE_TOLERANCE_MINUTES },
        // The answer to an entry names the prompts and escalations it started, where the rules run in this process.
        ...(config.TANDEM_SERVICES.includes('delegation') ? { followUps: (entry) => (late.delegation ? late.delegation(entry) : Promise.resolve({ promptIds: [], escalationIds: [], pending: true })) } : {}),
        accessTrail,
        // Subscriptions are served where the projections run, Bulk Data $export wherever the record service runs (below).
        moreCapabilities: () => [...(config.TANDEM_SERVICES.includes('projections') ? [subscriptionCapability(), ...INDICATOR_CAPABILITIES] : []), { type: 'Patient', operation: [BULK_DATA_OPERATIONS.patient] }, groupCapability()],
        moreOperations: () => [BULK_DATA_OPERATIONS.system],
        // SMART-on-FHIR is declared with the endpoints SMART discovery names (the web app's, made below); while they cannot be had, not at all.
        smartEndpoints: async (req) => {
          const found = await late.smart?.(req).catch(() => undefined);
          return found ? { authorize: found.authorization_endpoint, token: found.token_endpoint } : undefined;
        },
        openApiPaths: () => ({ ...(config.TANDEM_SERVICES.includes('delegation') ? delegationOpenApiPaths() : {}), ...auditOpenApiPaths(), ...liveOpenApiPaths(), ...(config.TANDEM_SERVICES.includes('projections') ? projectionsOpenApiPaths() : {}) }),
      }),
    delegation: () => {
      // Who cares for whom, read from the patient streams: the port the delegation service defines (CareRelationships), here the record's own.
      const record = new CareRecord(store, now);
      const relationships = new RecordAccess(record, new FhirReader(readModels), access);
      // Late and missed visits are noticed on the visit's own stream by the record's decider (VisitBook), then escalated by the scheduler.
      const delegation = createDelegationService({ store, readModels, readModel: projections?.runner ?? checkpointWatcher(readModels), logger, access, relationships, clock, visits: record.visits, testClock: config.TANDEM_EVENT_STORE === 'pglite' && (config.TANDEM_TEST_CLOCK || options.clock !== undefined) });
      late.delegation = followUpsOf({ store: delegation.core.store, reactions: delegation.processor });
      return delegation;
    },
  };
  const services: TandemService[] = config.TANDEM_SERVICES.map((name) => factories[name]());
  // The auditors' API sits with the record service (the process that serves FHIR).
  // FHIR Subscriptions (apps/tandem/src/subscriptions) run where the projections do, delivering from the log; their routes
  // go first, before the record service's /fhir/:type. Each notification is recorded in the access trail like a read.
  if (projections) {
    services.unshift(
      createSubscriptionService({
        store,
        access,
        reader: new FhirReader(readModels),
        runner: projections.runner,
        logger,
        onDelivered: (d) =>
          accessTrail.recordOutside({ at: d.at, path: `/fhir/Subscription/${d.subscriptionId}/$notification`, principal: d.principal, decision: d.decision, status: d.status, to: d.to, ...(d.channel === 'websocket' ? { userAgent: 'Tandem websocket delivery' } : {}) }),
        ...(options.subscriptionRetry ? { retry: options.subscriptionRetry } : {}),
      }),
    );
  }
  // The quality indicators' reads (JSON, FHIR Measure and MeasureReport) where their read model is written; before the record service's /fhir/:type.
  if (projections) services.unshift(createIndicatorsService({ readModels, access }));
  // A provider's capacity (issue 15; docs/decisions/0037), JSON and FHIR $capacity, where its read model is written.
  if (projections) services.unshift(createCapacityService({ readModels, access }));
  // Bulk Data $export (apps/tandem/src/bulk-export) where the record service serves FHIR: the same policy and caseload as a
  // search (its RecordAccess), read from the FHIR read model; its routes go first, before the record service's /fhir/:type.
  const recordForExport = services.find((s): s is ReturnType<typeof createRecordService> => s.name === 'record');
  if (recordForExport) {
    const reader = new FhirReader(readModels);
    services.unshift(createBulkExportService({ access: new RecordAccess(recordForExport.care, reader, access), reader, groups: new GroupReader(readModels), logger: logger.child({ component: 'bulk-export' }) }));
  }
  // The live stream (apps/tandem/src/live): escalations and prompts pushed to open apps, each decided by the record's policy and in the access trail.
  if (recordForExport) services.unshift(createLiveService({ store, access, factsFor: (id, role) => new RecordAccess(recordForExport.care, new FhirReader(readModels), access).factsFor(id, role), onDelivered: (d) => accessTrail.recordOutside({ ...d, userAgent: 'Tandem live stream' }), logger: logger.child({ component: 'live' }) }));
  if (config.TANDEM_SERVICES.includes('record')) services.push(createAuditService({ store, access, ...(store.mode !== 'eventstoredb' ? { sqlLog: readModels } : {}) }));
  // Every request needs the identity provider's keys: /health says when they cannot be fetched.
  if (config.TANDEM_AUTH_JWKS_URL) services.push(identityProviderHealth(config.TANDEM_AUTH_JWKS_URL));
  // The FHIR tables exist before anything reads them, whichever services this process runs (the
  // projections service's own start makes them too; the record service does not).
  if (config.TANDEM_SERVICES.includes('record')) await ensureReadModels(readModels, [fhirProjection]);
  for (const service of services) await service.start();

  const record = services.find((s): s is ReturnType<typeof createRecordService> => s.name === 'record');
  if (config.TANDEM_DEMO_DATA && config.TANDEM_EVENT_STORE === 'pglite' && record && (await store.headPosition()) === 0) {
    logger.info('New data directory: loading the demo record');
    const { patientIds } = await seedDemoData(record.care, { patients: 12, days: 21, now: new Date() });
    logger.info({ patients: patientIds.length }, 'Demo record loaded');
    const delegation = services.find((s): s is ReturnType<typeof createDelegationService> => s.name === 'delegation');
    if (delegation) await seedDemoDelegationSide(delegation.commands, { patientIds, now: clock.now() });
    // Mr Jones's medicines chart and today's visits (issue 13), after his insulin delegation so the evening visit carries it.
    if (patientIds[0]) await seedDemoMedicinesAndVisits(record.care, { patientId: patientIds[0], now: clock.now(), insulinDelegation: delegation !== undefined });
  }

  // The care worker's app and its sign-in (made before the sealer starts, so start-up keeps its order).
  const { router: web, smartEndpoints } = await webAppFor(config);
  late.smart = smartEndpoints;

  // Seals the global digest over the log now and then; safe in several processes (one seals, the others skip).
  const sealer =
    store.mode !== 'eventstoredb' && config.TANDEM_DIGEST_INTERVAL_SECONDS > 0
      ? startDigestSealer({ db: readModels, intervalMs: config.TANDEM_DIGEST_INTERVAL_SECONDS * 1000, logger: logger.child({ component: 'digest' }), sealAtStart: true })
      : undefined;

  const app = createServer({
    services,
    eventStoreMode: storage.store.mode,
    logger,
    accessTrail: accessTrail.middleware(),
    trustProxy: config.TANDEM_TRUST_PROXY,
    web,
    // /health's details (version, positions) for operators: a system or auditor token.
    isOperator: async (req) => ['system', 'auditor'].includes((await access.authenticate(req.get('authorization'), { address: req.ip })).actor.role),
  });
  const server = await listen(app, config.PORT).catch(async (error: unknown) => {
    // The port is taken: let go of everything opened, the data directory first among them.
    await accessTrail.stop().catch(() => undefined);
    for (const service of [...services].reverse()) await service.stop().catch(() => undefined);
    await sealer?.stop();
    await rateStore?.close();
    await storage.close();
    throw error;
  });
  // The websocket channel of FHIR Subscriptions takes its upgrades; any other upgrade is refused.
  const subscriptionsService = services.find((s): s is ReturnType<typeof createSubscriptionService> => s.name === 'subscriptions');
  server.on('upgrade', (req, socket, head: Buffer) => {
    if (!subscriptionsService?.upgrade(req, socket, head)) socket.destroy();
  });
  const { port } = server.address() as AddressInfo;
  // Tools (npm run audit, seed, projections:rebuild) find the server from the data directory's lock.
  storage.lock?.announce(`http://127.0.0.1:${port}`);
  logger.info({ port, eventStore: storage.store.mode, services: config.TANDEM_SERVICES }, 'Tandem is listening');

  return {
    url: `http://127.0.0.1:${port}`,
    accessTrail,
    storage,
    services,
    stop: async () => {
      // Open live streams end first: the server's close waits for every connection to end.
      await services.find((s) => s.name === 'live')?.stop();
      await subscriptionsService?.closeSockets();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Deliveries stop before the access trail does, so every notification sent is in it.
      await services.find((s) => s.name === 'subscriptions')?.stop();
      await accessTrail.stop();
      for (const service of [...services].reverse()) await service.stop();
      await sealer?.stop();
      await rateStore?.close();
      await storage.close();
    },
  };
};
