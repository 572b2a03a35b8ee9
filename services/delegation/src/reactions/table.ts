import type { SqlQueryable } from '@tandem/event-store';

/**
 * A read-model table described once: each column's name, SQL type and the way its value goes into
 * and comes out of the database are in one definition, from which the DDL, the upsert and the row
 * mapping are all made. (Before, each column was spelled in five places: the DDL, the upsert's
 * column list, its positional parameters, the row mapping and the row type.)
 *
 * Properties are camelCase, columns their snake_case. An optional column is null in the database
 * and absent from the row (never `undefined`), as the API has always answered.
 */

export interface Column<T, Optional extends boolean = boolean> {
  readonly sql: string;
  readonly optional: Optional;
  readonly toDb: (value: T) => unknown;
  readonly fromDb: (value: unknown) => T;
}

const instant = (value: unknown): string => new Date(value as string).toISOString();

/** The column kinds the delegation read model uses. */
export const col = {
  text: (): Column<string, false> => ({ sql: 'text', optional: false, toDb: (v) => v, fromDb: (v) => String(v) }),
  int: (): Column<number, false> => ({ sql: 'int', optional: false, toDb: (v) => v, fromDb: (v) => Number(v) }),
  bigint: (): Column<number, false> => ({ sql: 'bigint', optional: false, toDb: (v) => v, fromDb: (v) => Number(v) }),
  bool: (): Column<boolean, false> => ({ sql: 'boolean', optional: false, toDb: (v) => v, fromDb: (v) => Boolean(v) }),
  /** An ISO instant, kept as timestamptz (compared as time, never as text). */
  instant: (): Column<string, false> => ({ sql: 'timestamptz', optional: false, toDb: (v) => v, fromDb: instant }),
  json: <T>(): Column<T, false> => ({ sql: 'jsonb', optional: false, toDb: (v) => JSON.stringify(v), fromDb: (v) => v as T }),
  optional: <T>(column: Column<T, false>): Column<T | undefined, true> => ({
    sql: column.sql,
    optional: true,
    toDb: (v) => (v === undefined || v === null ? null : column.toDb(v)),
    fromDb: (v) => (v === undefined || v === null ? undefined : column.fromDb(v)),
  }),
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a column of any value type (toDb's parameter makes Column<T> invariant)
type Columns = Record<string, Column<any>>;
type ValueOf<X> = X extends { fromDb: (value: unknown) => infer T } ? T : never;
type Required<C extends Columns> = { [K in keyof C as C[K]['optional'] extends true ? never : K]: ValueOf<C[K]> };
type Optional<C extends Columns> = { [K in keyof C as C[K]['optional'] extends true ? K : never]?: Exclude<ValueOf<C[K]>, undefined> };
/** The row a table definition describes. */
export type RowOf<C extends Columns> = { readonly [K in keyof (Required<C> & Optional<C>)]: (Required<C> & Optional<C>)[K] };

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export interface TableDefinition<C extends Columns> {
  readonly name: string;
  readonly key: keyof C & string;
  readonly columns: C;
  /** `create table` and its indexes: statements the projection runner runs in each generation. */
  readonly ddl: string;
  /** The column of a property. */
  column(property: keyof C & string): string;
  /** A database row as the API reads it. */
  fromDb(row: Record<string, unknown>): RowOf<C>;
  /** Writes the row, replacing the one with the same key. */
  upsert(tx: SqlQueryable, row: RowOf<C>): Promise<void>;
  /** Reads rows: `where` and `order` are SQL over the columns; `params` are its positional parameters. */
  select(db: SqlQueryable, where?: string, params?: readonly unknown[], order?: string): Promise<RowOf<C>[]>;
}

export const defineTable = <C extends Columns>(name: string, key: keyof C & string, columns: C, indexes: readonly (readonly (keyof C & string)[])[] = []): TableDefinition<C> => {
  const properties = Object.keys(columns);
  const names = properties.map(snake);
  const keyColumn = snake(key);
  const ddl = [
    `create table if not exists ${name} (\n  ${properties.map((p, i) => `${names[i]} ${columns[p]!.sql}${columns[p]!.optional ? '' : ' not null'}`).join(',\n  ')},\n  primary key (${keyColumn})\n)`,
    ...indexes.map((index) => `create index if not exists ${name}_${index.map(snake).join('_')} on ${name} (${index.map(snake).join(', ')})`),
  ].join(';\n');
  const others = names.filter((n) => n !== keyColumn);
  const upsertSql = `insert into ${name} (${names.join(', ')}) values (${names.map((_, i) => `$${i + 1}`).join(', ')})
    on conflict (${keyColumn}) do update set ${others.map((c) => `${c} = excluded.${c}`).join(', ')}`;
  const fromDb = (row: Record<string, unknown>): RowOf<C> => {
    const out: Record<string, unknown> = {};
    properties.forEach((p, i) => {
      const value = columns[p]!.fromDb(row[names[i]!]);
      if (value !== undefined) out[p] = value;
    });
    return out as RowOf<C>;
  };
  return {
    name,
    key,
    columns,
    ddl,
    column: (property) => snake(property),
    fromDb,
    upsert: async (tx, row) => {
      const values = row as Record<string, unknown>;
      await tx.query(
        upsertSql,
        properties.map((p) => columns[p]!.toDb(values[p])),
      );
    },
    select: async (db, where, params = [], order) => {
      const rows = await db.query<Record<string, unknown>>(`select * from ${name}${where ? ` where ${where}` : ''}${order ? ` order by ${order}` : ''}`, [...params]);
      return rows.map(fromDb);
    },
  };
};
