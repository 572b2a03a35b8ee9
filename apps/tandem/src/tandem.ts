import { careEventDefinitions, EventRegistry } from '@tandem/contracts';
import { createDelegationService } from '@tandem/delegation';
import { createProjectionsService, fhirProjection } from '@tandem/projections';
import { createRecordService } from '@tandem/record';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { version } from '../package.json';
import type { Config } from './config';
import { seedDemoData } from './demo/demo-data';
import { createServer, type TandemService } from './server';
import { openStorage, type Storage } from './storage';

export const eventRegistry = () => new EventRegistry([...careEventDefinitions]);

export interface RunningTandem {
  readonly url: string;
  readonly storage: Storage;
  readonly services: readonly TandemService[];
  stop(): Promise<void>;
}

/** The composition root: wires storage, services and HTTP for one process. */
export const startTandem = async (config: Config, logger: Logger = pino({ level: config.LOG_LEVEL })): Promise<RunningTandem> => {
  const storage = await openStorage(config, eventRegistry());
  const { store, readModels } = storage;
  const projections = config.TANDEM_SERVICES.includes('projections') ? createProjectionsService({ store, readModels, logger, projections: [fhirProjection] }) : undefined;
  const factories: Record<Config['TANDEM_SERVICES'][number], () => TandemService> = {
    projections: () => projections!,
    record: () => createRecordService({ store, readModels, logger, version, readModelPosition: projections?.runner }),
    delegation: () => createDelegationService({ store }),
  };
  const services: TandemService[] = config.TANDEM_SERVICES.map((name) => factories[name]());
  for (const service of services) await service.start();

  const record = services.find((s): s is ReturnType<typeof createRecordService> => s.name === 'record');
  if (config.TANDEM_DEMO_DATA && config.TANDEM_EVENT_STORE === 'pglite' && record && (await store.headPosition()) === 0) {
    logger.info('New data directory: loading the demo record');
    const { patientIds } = await seedDemoData(record.care, { patients: 12, days: 21, now: new Date() });
    logger.info({ patients: patientIds.length }, 'Demo record loaded');
  }

  const app = createServer({ services, eventStoreMode: storage.store.mode, logger });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(config.PORT, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  logger.info({ port, eventStore: storage.store.mode, services: config.TANDEM_SERVICES }, 'Tandem is listening');

  return {
    url: `http://127.0.0.1:${port}`,
    storage,
    services,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const service of [...services].reverse()) await service.stop();
      await storage.close();
    },
  };
};
