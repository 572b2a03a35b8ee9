import { careEventDefinitions, EventRegistry, parseCommand, type DataIssue, type RecordInsulinAdministered } from '@tandem/contracts';
import type { z } from 'zod';
import { evolve, initialCareState, type CareState, type StoredCareEvent } from '../../src/domain/care-state';
import type { CareContext } from '../../src/domain/context';
import { recordInsulinAdministered } from '../../src/domain/insulin';
import { specification } from './given';

export const registry = new EventRegistry([...careEventDefinitions]);

/** Every decided event must pass its contract, as the store would check it on append. */
export const assertValidEvent = (event: { type: string; data?: unknown }): void => {
  const encoded = registry.encode(event.type, event.data);
  if (!encoded.ok) throw new Error(`${event.type} breaks its contract: ${JSON.stringify(encoded.issues)}`);
};

export const PATIENT_ID = '2b0f6a4e-3c1d-4e5f-8a9b-0c1d2e3f4a5b';
export const DAY = '2025-03-10';
/** The injected clock in every story: 21:00 on the day. */
export const NOW = new Date(`${DAY}T21:00:00Z`);

/** A bedside time on the day, e.g. at('18:20'). */
export const at = (hhmm: string): string => `${DAY}T${hhmm}:00Z`;

export const context = (overrides: Partial<CareContext> = {}): CareContext => ({ now: NOW, spo2Scale: 1, ...overrides });

let sequence = 0;
/** A fresh, valid event id. */
export const eventId = (): string => `00000000-0000-4000-8000-${String(++sequence).padStart(12, '0')}`;

export const base = (occurredAt: string) => ({ idempotencyKey: `key-${++sequence}`, patientId: PATIENT_ID, occurredAt });

/** The care-stream specification: `given(...events).when(decision).then([...types])`. */
export const { given } = specification<CareState, StoredCareEvent>(evolve, initialCareState, assertValidEvent);

export const stored = <E extends StoredCareEvent['type']>(
  type: E,
  data: Extract<StoredCareEvent, { type: E }>['data'],
  occurredAt: string,
  id = eventId(),
): StoredCareEvent => ({ id, type, data, metadata: { occurredAt } }) as StoredCareEvent;

export const INSULIN = 'Humulin I KwikPen';

export const insulinGiven = (o: { at: string; dose: number; product?: string; id?: string }): StoredCareEvent =>
  stored(
    'InsulinAdministered',
    { patientId: PATIENT_ID, product: o.product ?? INSULIN, device: 'pen', dose: { value: o.dose, unit: 'units' }, site: 'abdomen' },
    at(o.at),
    o.id,
  );

export const recordInsulinGiven =
  (o: { at: string; dose: number; product?: string; confirmedNotDuplicate?: boolean }, ctx: Partial<CareContext> = {}) =>
  (state: CareState) => {
    const cmd: RecordInsulinAdministered = {
      ...base(at(o.at)),
      product: o.product ?? INSULIN,
      device: 'pen',
      dose: { value: o.dose, unit: 'units' },
      site: 'thigh',
      ...(o.confirmedNotDuplicate === undefined ? {} : { confirmedNotDuplicate: o.confirmedNotDuplicate }),
    };
    return recordInsulinAdministered(cmd, state, context(ctx));
  };

/** The issues a contract reports for an input (empty when it is accepted). */
export const issuesOf = (schema: z.ZodType, input: unknown): DataIssue[] => {
  const parsed = parseCommand(schema, input);
  return parsed.ok ? [] : parsed.issues;
};

/** Asserts the input is refused with an issue naming the field; returns that issue's message. */
export const refusedNaming = (schema: z.ZodType, input: unknown, field: string): string => {
  const issues = issuesOf(schema, input);
  const issue = issues.find((i) => i.path === field);
  if (!issue) throw new Error(`expected an issue naming ${field}, got ${JSON.stringify(issues)}`);
  return issue.message;
};
