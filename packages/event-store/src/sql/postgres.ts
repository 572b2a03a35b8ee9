import pg from 'pg';
import type { EventStoreBackend } from '../backend';
import type { QueryOptions, SqlDriver } from './driver';
import { sqlBackend } from './sql-backend';

const MIGRATION_LOCK = 7_316_402_221; // any constant shared by every Tandem process

export const postgresDriver = (pool: pg.Pool, ownsPool: boolean): SqlDriver => ({
  query: async <Row>(text: string, params: readonly unknown[] = [], options: QueryOptions = {}) =>
    (options.name ? await pool.query({ name: options.name, text, values: params as unknown[] }) : await pool.query(text, params as unknown[])).rows as Row[],
  transaction: async (work) => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const result = await work({ query: async <Row>(text: string, params: readonly unknown[] = []) => (await client.query(text, params as unknown[])).rows as Row[] });
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  },
  migrate: async (sql) => {
    const client = await pool.connect();
    try {
      // Concurrent `create or replace function` calls fail with "tuple concurrently updated".
      await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await client.query(sql);
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      client.release();
    }
  },
  close: async () => {
    if (ownsPool) await pool.end();
  },
});

export interface PostgresOptions {
  readonly connectionString: string;
  /** A PostgreSQL schema to keep Tandem's tables in (created if missing); tests use one each. */
  readonly schema?: string;
  readonly maxConnections?: number;
  readonly pollIntervalMs?: number;
}

export const postgresPool = async ({ connectionString, schema, maxConnections = 20 }: PostgresOptions): Promise<pg.Pool> => {
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid schema name ${schema}`);
  if (schema) {
    const admin = new pg.Client({ connectionString });
    await admin.connect();
    try {
      await admin.query(`create schema if not exists ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({ connectionString, max: maxConnections, ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
};

export const postgresBackend = async (options: PostgresOptions): Promise<EventStoreBackend> =>
  sqlBackend(postgresDriver(await postgresPool(options), true), { mode: 'postgres', pollIntervalMs: options.pollIntervalMs ?? 50 });
