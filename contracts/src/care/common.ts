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

/** How far in the future a bedside time may be (clock drift between a phone and the server). */
export const OCCURRED_AT_MAX_FUTURE_MINUTES = 5;

/**
 * Why `occurredAt` is refused, or undefined. The clock is passed in, so the contract stays pure;
 * the record service checks it with its injected clock.
 */
export const occurredAtProblem = (occurredAt: string, now: Date): string | undefined => {
  const at = Date.parse(occurredAt);
  if (Number.isNaN(at)) return 'must be an ISO 8601 date-time with a time zone offset';
  const limit = now.getTime() + OCCURRED_AT_MAX_FUTURE_MINUTES * 60_000;
  return at > limit ? `must not be more than ${OCCURRED_AT_MAX_FUTURE_MINUTES} minutes in the future` : undefined;
};

/** What every command carries. The actor is not here: it comes from the caller's token. */
export const commandBaseShape = {
  /** The client's key: a retried command with the same key never records twice. */
  idempotencyKey: z.string().min(1).max(200),
  patientId: PatientIdSchema,
  /** When it happened at the bedside (recordedAt is added by the store). */
  occurredAt: DateTimeSchema,
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
 */
export const measurement = (label: string, min: number, max: number, unit: string, options: { decimals?: number } = {}) => {
  const decimals = options.decimals ?? 0;
  const range = `${label} must be between ${min} and ${max}${unit ? ` ${unit}` : ''}`;
  return z
    .number({ error: `${label} must be a number` })
    .min(min, { error: range })
    .max(max, { error: range })
    .refine((v) => decimalsOf(v) <= decimals, {
      error: decimals === 0 ? `${label} must be a whole number` : `${label} must have at most ${decimals} decimal place${decimals > 1 ? 's' : ''}`,
    });
};

/** Temperature in degrees Celsius, to one decimal place. */
export const TemperatureCSchema = measurement('temperature', 25, 45, 'C', { decimals: 1 });

/** The event shape (type and data) of one definition, or of a union of definitions. */
export type EventOf<D> = D extends EventDefinition<infer Type, infer Schema> ? { type: Type; data: z.output<Schema> } : never;

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
    } else {
      issues.push({ path: path.join('.'), message: issue.message });
    }
  }
  return { ok: false, issues };
};
