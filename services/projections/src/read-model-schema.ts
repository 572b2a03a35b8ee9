import type { SqlDriver, SqlQueryable } from '@tandem/event-store';
import type { Projection } from './projection';

/**
 * Read models live in a generation schema (`<base>_rm<n>`); the base schema holds one view per
 * table pointing at the active generation. Readers use the views and never notice a rebuild:
 * the new generation is filled beside the old one, then the views are switched in one
 * transaction. Projections write unqualified table names inside a transaction whose
 * search_path starts with their generation.
 */
export const controlSql = `
create table if not exists tandem_projection_checkpoints (
  name text primary key,
  position bigint not null,
  updated_at timestamptz not null default now()
);
create table if not exists tandem_read_model_generation (
  singleton boolean primary key default true check (singleton),
  generation int not null,
  switched_at timestamptz not null default now()
);`;

const TABLE = /create table if not exists\s+([a-z_][a-z0-9_]*)/gi;

export const tablesOf = (projections: readonly Projection[]): string[] =>
  projections.flatMap((p) => [...p.schemaSql.matchAll(TABLE)].map((m) => m[1]!));

export const baseSchema = async (db: SqlQueryable): Promise<string> => {
  const [row] = await db.query<{ schema: string }>('select current_schema() as schema');
  return row!.schema;
};

export const generationSchema = (base: string, generation: number): string => `${base}_rm${generation}`;

export const checkpointName = (generation: number): string => `read-models-g${generation}`;

/** Runs `work` with the generation's tables first on the search path. */
export const inGeneration = async <T>(tx: SqlQueryable, base: string, generation: number, work: () => Promise<T>): Promise<T> => {
  await tx.query(`set local search_path to ${generationSchema(base, generation)}, ${base}`);
  return work();
};

export const createGeneration = async (db: SqlDriver, base: string, generation: number, projections: readonly Projection[]): Promise<void> => {
  const schema = generationSchema(base, generation);
  await db.transaction(async (tx) => {
    await tx.query(`create schema if not exists ${schema}`);
    await inGeneration(tx, base, generation, async () => {
      for (const p of projections) for (const statement of p.schemaSql.split(';').map((s) => s.trim()).filter(Boolean)) await tx.query(statement);
    });
  });
};

/** Points the base schema's views at a generation, in one transaction, and records it active. */
export const switchViews = async (tx: SqlQueryable, base: string, generation: number, projections: readonly Projection[]): Promise<void> => {
  const schema = generationSchema(base, generation);
  for (const table of tablesOf(projections)) {
    // A view's column list must keep its shape to be replaced; drop and create is safe inside the transaction.
    await tx.query(`drop view if exists ${base}.${table}`);
    await tx.query(`create view ${base}.${table} as select * from ${schema}.${table}`);
  }
  await tx.query(
    `insert into tandem_read_model_generation (singleton, generation) values (true, $1)
     on conflict (singleton) do update set generation = excluded.generation, switched_at = now()`,
    [generation],
  );
};

export const activeGeneration = async (db: SqlQueryable): Promise<number | undefined> => {
  const [row] = await db.query<{ generation: number }>('select generation from tandem_read_model_generation');
  return row?.generation;
};

/**
 * Makes sure the control tables, a first generation and the views exist. Safe to call from every
 * service at start-up (the PostgreSQL driver serialises migrations).
 */
export const ensureReadModels = async (db: SqlDriver, projections: readonly Projection[]): Promise<{ base: string; generation: number }> => {
  // Two services starting together may race to create the first generation; the loser retries.
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureOnce(db, projections);
    } catch (error) {
      if (attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
};

const ensureOnce = async (db: SqlDriver, projections: readonly Projection[]): Promise<{ base: string; generation: number }> => {
  await db.migrate(controlSql);
  const base = await baseSchema(db);
  const generation = (await activeGeneration(db)) ?? 1;
  // Idempotent: creates what a newer release added (tables, indexes) and points the views at them.
  await createGeneration(db, base, generation, projections);
  await db.transaction((tx) => switchViews(tx, base, generation, projections));
  return { base, generation };
};
