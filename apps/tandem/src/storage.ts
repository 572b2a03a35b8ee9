import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { EventRegistry } from '@tandem/contracts';
import {
  eventStoreDbBackend,
  pgliteBackend,
  pgliteDriver,
  postgresBackend,
  postgresDriver,
  postgresPool,
  validatedStore,
  type EventStore,
  type SqlDriver,
} from '@tandem/event-store';
import type { Config } from './config';

export interface Storage {
  readonly store: EventStore;
  /** Where read models live: the same PGlite in embedded mode, PostgreSQL otherwise. */
  readonly readModels: SqlDriver;
  close(): Promise<void>;
}

/** Opens the event store and the read-model database for the configured mode. */
export const openStorage = async (config: Config, registry: EventRegistry): Promise<Storage> => {
  if (config.TANDEM_EVENT_STORE === 'pglite') {
    const dataDir = resolve(config.TANDEM_DATA_DIR);
    mkdirSync(dataDir, { recursive: true });
    const db = new PGlite(dataDir);
    const store = validatedStore(await pgliteBackend({ db }), registry);
    return { store, readModels: pgliteDriver(db, false), close: () => db.close() };
  }
  const readModelPool = await postgresPool({ connectionString: config.DATABASE_URL! });
  const backend =
    config.TANDEM_EVENT_STORE === 'postgres'
      ? await postgresBackend({ connectionString: config.DATABASE_URL! })
      : await eventStoreDbBackend({ connectionString: config.EVENTSTORE_CONNECTION_STRING! });
  const store = validatedStore(backend, registry);
  const readModels = postgresDriver(readModelPool, true);
  return {
    store,
    readModels,
    close: async () => {
      await store.close();
      await readModels.close();
    },
  };
};
