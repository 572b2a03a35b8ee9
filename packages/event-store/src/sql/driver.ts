/** The little a SQL back end needs from a database connection; PGlite and node-postgres both fit. */
export interface SqlDriver {
  query<Row>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Applies the schema once, safely when several processes start together. */
  migrate(sql: string): Promise<void>;
  close(): Promise<void>;
}
