import { z } from 'zod';
import type { DataIssue, EventDefinition } from '../events';

/**
 * Pieces every care contract shares: ids, times, the fields every command carries, measurement
 * helpers, and a parser that names the field for an OperationOutcome `expression`.
 */

/** An id that is safe inside a stream name and is a valid FHIR id (letters, digits, - and ., at most 64). */
export const IdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, { error: 'must start with a letter or digit and use only letters, digits, - and . (a FHIR id)' });

/** Patients get a UUID from the record service when first registered. */
export const PatientIdSchema = z.uuid({ error: 'must be a patient id (a UUID)' });

/** Entries are addressed by the event id of the event that first recorded them. */
export const EntryIdSchema = z.uuid({ error: 'must be the event id (a UUID) of the original entry' });

export const DateTimeSchema = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone offset (Z or +01:00)' });
export const DateSchema = z.iso.date({ error: 'must be a date written YYYY-MM-DD' });

/** Text a person writes; blank (only spaces) is refused. */
export const textSchema = (max: number) =>
  z
    .string()
    .trim()
    .min(1, { error: 'must not be blank' })
    .max(max, { error: `must be at most ${max} characters` });

/** Why a correction or a withheld dose happened: always required, never blank. */
export const ReasonSchema = textSchema(1000);

/**
 * How far in the future a bedside time may be: the clock drift allowed between a phone or tablet
 * and the server. Beyond it the time cannot be true and is refused naming `occurredAt`.
 */
export const OCCURRED_AT_MAX_FUTURE_MINUTES = 5;

/**
 * An entry dated further back than this is a late entry: possible (a paper record typed up after a
 * week away), so never refused, but confirmed first and shown as late (NMC Code 10.1).
 */
export const OCCURRED_AT_CONFIRM_OLDER_THAN_DAYS = 7;

/** Before this no bedside time in a living person's care record can be true (0001-01-01 was once stored). */
export const OCCURRED_AT_EARLIEST = '1900-01-01T00:00:00Z';

/**
 * Why `occurredAt` is refused, or undefined. The clock is passed in, so the contract stays pure;
 * the record service checks it with its injected clock.
 */
export const occurredAtProblem = (occurredAt: string, now: Date): string | undefined => {
  const at = Date.parse(occurredAt);
  if (Number.isNaN(at)) return 'must be an ISO 8601 date-time with a time zone offset';
  if (at < Date.parse(OCCURRED_AT_EARLIEST)) return `must not be before ${OCCURRED_AT_EARLIEST.slice(0, 4)}: check the date`;
  const limit = now.getTime() + OCCURRED_AT_MAX_FUTURE_MINUTES * 60_000;
  return at > limit ? `must not be in the future (more than ${OCCURRED_AT_MAX_FUTURE_MINUTES} minutes ahead of the server's clock, ${now.toISOString()})` : undefined;
};

/** True when `occurredAt` is older than OCCURRED_AT_CONFIRM_OLDER_THAN_DAYS before `now`: a late entry to confirm. */
export const isLateEntry = (occurredAt: string, now: Date): boolean =>
  now.getTime() - Date.parse(occurredAt) > OCCURRED_AT_CONFIRM_OLDER_THAN_DAYS * 24 * 60 * 60_000;

/**
 * The question to ask before a late entry is recorded (record and delegation commands alike), or
 * undefined when it is not late or the person has confirmed it.
 */
export const lateEntryQuestion = (occurredAt: string, confirmedLate: unknown, now: Date): string | undefined =>
  isLateEntry(occurredAt, now) && confirmedLate !== true
    ? `occurredAt ${occurredAt} is more than ${OCCURRED_AT_CONFIRM_OLDER_THAN_DAYS} days ago: check the date; ` +
      'if it really happened then, send it again with confirmedLate true and it is recorded as a late entry'
    : undefined;

/** What every command carries. The actor is not here: it comes from the caller's token. */
export const commandBaseShape = {
  /**
   * The client's key: a retried command with the same key never records twice. Keys are scoped to
   * the user and the command; the same key with a different command is refused.
   */
  idempotencyKey: z.string({ error: 'must be a text of 1 to 200 characters' }).min(1, { error: 'must not be empty' }).max(200, { error: 'must be at most 200 characters' }),
  patientId: PatientIdSchema,
  /** When it happened at the bedside (recordedAt is added by the store). */
  occurredAt: DateTimeSchema,
};

/**
 * What every entry in a person's care record carries: the base, and the confirmation that an entry
 * dated more than OCCURRED_AT_CONFIRM_OLDER_THAN_DAYS back is meant (it is then recorded, late).
 */
export const careCommandShape = {
  ...commandBaseShape,
  confirmedLate: z.boolean({ error: 'confirmedLate: answer true or false' }).optional(),
};

const decimalsOf = (value: number): number => {
  for (let d = 0; d <= 10; d++) {
    const scaled = value * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-9 * Math.max(1, Math.abs(scaled))) return d;
  }
  return 11;
};

/**
 * A measured number with a plausible range: values outside it are impossible (a typing slip or a
 * faulty device), so they are refused naming the field; possible but alarming values are accepted.
 * `below`: what to say for a value under the range, in words that say what to do (a pulse of 0 is
 * not a typing slip to correct but a person without a pulse).
 */
export const measurement = (label: string, min: number, max: number, unit: string, options: { decimals?: number; below?: string } = {}) => {
  const decimals = options.decimals ?? 0;
  const range = `${label} must be between ${min} and ${max}${unit ? ` ${unit}` : ''}`;
  return z
    .number({ error: `${label} must be a number` })
    .min(min, { error: options.below ? `${options.below} (${range})` : range })
    .max(max, { error: range })
    .refine((v) => decimalsOf(v) <= decimals, {
      error: decimals === 0 ? `${label} must be a whole number` : `${label} must have at most ${decimals} decimal place${decimals > 1 ? 's' : ''}`,
    });
};

/** Temperature in degrees Celsius, to one decimal place. */
export const TemperatureCSchema = measurement('temperature', 25, 45, 'C', {
  decimals: 1,
  below: 'A temperature below 25 C is not a reading a living person keeps: if the person is cold and unresponsive, call 999 now; otherwise check the thermometer and measure again',
});

/** The event shape (type and data) of one definition, or of a union of definitions. */
export type EventOf<D> = D extends EventDefinition<infer Type, infer Schema> ? { type: Type; data: z.output<Schema> } : never;

/** The value at a path of the input, or undefined when any step is missing. */
const valueAt = (input: unknown, path: readonly PropertyKey[]): unknown => {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
};

/** An issue about a field the input does not hold at all (not one it holds with a wrong value). */
const isMissing = (issue: z.core.$ZodIssue, input: unknown): boolean =>
  issue.path.length > 0 && issue.code !== 'custom' && valueAt(input, issue.path) === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_format' || issue.code === 'invalid_value' || issue.code === 'invalid_union');

export type ParsedCommand<T> = { ok: true; value: T } | { ok: false; issues: DataIssue[] };

/**
 * Parses input with a contract schema. Every issue names its field as a dotted path (an unknown
 * field is named too), ready for an OperationOutcome `expression` or a problem+json `errors` list.
 */
export const parseCommand = <Schema extends z.ZodType>(schema: Schema, input: unknown): ParsedCommand<z.output<Schema>> => {
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues: DataIssue[] = [];
  for (const issue of parsed.error.issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) issues.push({ path: [...path, key].join('.'), message: 'is not a field of this command' });
    } else if (isMissing(issue, input)) {
      // One place for every command: a field left out is "required", never a type error or a format hint.
      issues.push({ path: path.join('.'), message: 'is required' });
    } else {
      issues.push({ path: path.join('.'), message: issue.message });
    }
  }
  return { ok: false, issues };
};
