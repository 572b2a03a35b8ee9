import { PGlite } from '@electric-sql/pglite';
import type { EventStoreBackend } from '../backend';
import type { SqlDriver } from './driver';
import { sqlBackend } from './sql-backend';

/** A PGlite database as a SqlDriver. PGlite runs one query at a time inside this process. */
export const pgliteDriver = (db: PGlite, ownsDb: boolean): SqlDriver => ({
  query: async <Row>(text: string, params: readonly unknown[] = []) => (await db.query<Row>(text, params as unknown[])).rows,
  transaction: (work) =>
    db.transaction((tx) => work({ query: async <Row>(text: string, params: readonly unknown[] = []) => (await tx.query<Row>(text, params as unknown[])).rows })),
  migrate: async (sql) => {
    await db.exec(sql);
  },
  close: async () => {
    if (ownsDb) await db.close();
  },
});

/**
 * The embedded back end. `dataDir` undefined keeps the database in memory (tests); a path keeps it
 * on disk. Pass an existing PGlite to share one database with the read models.
 */
export const pgliteBackend = async (source: { dataDir?: string } | { db: PGlite }, options: { clock?: () => Date } = {}): Promise<EventStoreBackend> => {
  const db = 'db' in source ? source.db : new PGlite(source.dataDir);
  return sqlBackend(pgliteDriver(db, !('db' in source)), { mode: 'pglite', pollIntervalMs: 1000, ...(options.clock ? { clock: options.clock } : {}) });
};
