/** The little a SQL back end needs from a database connection; PGlite and node-postgres both fit. */
export interface SqlQueryable {
  query<Row>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<Row[]>;
}

export interface QueryOptions {
  /**
   * Names a statement that runs often with one fixed text: node-postgres prepares it once per
   * connection, so PostgreSQL skips parsing and planning it after. Only for tables whose columns a
   * release does not reshape under a running process (a prepared statement over a view recreated
   * with other columns fails). PGlite ignores it.
   */
  readonly name?: string;
}

export interface SqlDriver extends SqlQueryable {
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /** Applies the schema once, safely when several processes start together. */
  migrate(sql: string): Promise<void>;
  close(): Promise<void>;
}
