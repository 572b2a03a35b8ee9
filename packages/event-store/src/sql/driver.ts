/** The little a SQL back end needs from a database connection; PGlite and node-postgres both fit. */
export interface SqlQueryable {
  query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

export interface SqlDriver extends SqlQueryable {
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /** Applies the schema once, safely when several processes start together. */
  migrate(sql: string): Promise<void>;
  close(): Promise<void>;
}
