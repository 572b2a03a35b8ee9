/** What each service reports on GET /health. */
export interface ServiceHealth {
  readonly service: string;
  readonly status: 'ok' | 'degraded';
  readonly details?: Readonly<Record<string, unknown>>;
}
