import { PGlite } from '@electric-sql/pglite';
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock';

export interface Storage {
  readonly store: EventStore;
  /** Where read models live: the same PGlite in embedded mode, PostgreSQL otherwise. */
  readonly readModels: SqlDriver;
  /** The embedded mode's hold on its data directory (one process at a time); undefined in the other modes. */
  readonly lock?: DataDirLock;
  /** Embedded mode: runs `work` with the database held, no other query running meanwhile (maintenance, tests). */
  readonly exclusive?: <T>(work: () => Promise<T>) => Promise<T>;
  close(): Promise<void>;
}

export interface OpenStorageOptions {
  /** Who holds the embedded data directory, as the lock names it: `the server`, `npm run seed`, ... */
  readonly holder?: string;
  /** Told when a stale lock (its process gone) was taken over. */
  readonly onStaleLock?: (message: string) => void;
  /** A test clock (TANDEM_TEST_CLOCK, tests): the embedded store stamps recordedAt from it, as decisions take their now from it. */
  readonly clock?: () => Date;
}

/**
 * The data directory holds the record (NHS numbers, names, notes): owner only. PGlite writes the
 * files it unpacks at initdb as 0666 whatever the umask (files it creates later honour the umask),
 * so every file is set to 0600 and every directory to 0700 once the database is open.
 */
export const restrictToOwner = (dir: string): void => {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) restrictToOwner(path);
    else if (entry.isFile() && (lstatSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  }
};

/** Opens the event store and the read-model database for the configured mode. */
export const openStorage = async (config: Config, registry: EventRegistry, options: OpenStorageOptions = {}): Promise<Storage> => {
  if (config.TANDEM_EVENT_STORE === 'pglite') {
    const dataDir = resolve(config.TANDEM_DATA_DIR);
    // Everything this process creates from here is owner only (files the database adds later honour it).
    try {
      process.umask(0o077);
    } catch {
      // A worker thread cannot set the umask; restrictToOwner below still fixes what exists.
    }
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700);
    // Before the database opens: a second PGlite on a live directory loses what it writes (H38).
    const lock = acquireDataDirLock(dataDir, options.holder ?? 'the server');
    if (lock.tookOverFrom) {
      const was = lock.tookOverFrom === 'unreadable' ? 'an unreadable lock' : `pid ${lock.tookOverFrom.pid}, ${lock.tookOverFrom.holder}, since ${lock.tookOverFrom.startedAt}`;
      options.onStaleLock?.(`Took over a stale lock on ${dataDir} (${was}: that process is gone)`);
    }
    let db: PGlite | undefined;
    try {
      db = new PGlite(dataDir);
      const store = validatedStore(await pgliteBackend({ db }, options.clock ? { clock: options.clock } : {}), registry);
      restrictToOwner(dataDir);
      const opened = db;
      return {
        store,
        readModels: pgliteDriver(opened, false),
        lock,
        exclusive: (work) => opened.runExclusive(work),
        close: async () => {
          try {
            await opened.close();
          } finally {
            lock.release();
          }
        },
      };
    } catch (error) {
      await db?.close().catch(() => undefined);
      lock.release();
      throw error;
    }
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
