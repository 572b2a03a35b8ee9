import { stdSerializers, type Logger } from 'pino';

/**
 * What an error carries that the log must not (docs/decisions/0009-hardening.md: logs carry no
 * clinical data). PGlite puts the failed statement's SQL and its parameters on the error (`query`,
 * `params`, `queryOptions`), and parameters are NHS numbers, names and search terms; PostgreSQL's
 * `detail` and `where` quote values (`Key (id)=(...) already exists`); a body parser's error keeps
 * the request `body`.
 */
const DATA_KEYS: ReadonlySet<string> = new Set(['query', 'params', 'parameters', 'queryOptions', 'values', 'detail', 'where', 'internalQuery', 'body', 'rawBody']);

/** PostgreSQL quotes the value it could not read after a colon: `invalid input syntax for type uuid: "Margaret Jones"`. */
const QUOTED_VALUE = /(:\s*)"(?:[^"\\]|\\.)*"/g;
const redactText = (text: string): string => text.replace(QUOTED_VALUE, '$1"[redacted]"');

const MAX_DEPTH = 4;

const scrub = (value: unknown, depth: number): unknown => {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return typeof value === 'object' && value !== null ? '[nested]' : value;
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (DATA_KEYS.has(key)) continue;
    kept[key] = scrub(field, depth + 1);
  }
  return kept;
};

/**
 * An error as the log keeps it: pino's usual serialisation (type, message, stack, the error's own
 * fields, causes), without the SQL, its parameters or a quoted value. What went wrong and where
 * stays (the SQLSTATE `code`, the message, the stack); which person it was about does not.
 */
export const loggableError = (error: unknown): unknown => {
  const serialised: unknown = error instanceof Error ? stdSerializers.err(error) : error;
  return scrub(serialised, 0);
};

/** A logger whose `err` fields go through loggableError: every component Tandem wires logs errors so. */
export const withLoggableErrors = (logger: Logger): Logger => logger.child({}, { serializers: { err: loggableError } });
