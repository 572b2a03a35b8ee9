import { defineEvent, EventRegistry, type EventMetadata } from '@tandem/contracts';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { NewEvent } from '../src';

/** A small registry for the store's own tests: the store is generic over event contracts. */
export const NoteWritten = defineEvent('NoteWritten', z.object({ text: z.string().min(1), n: z.number().int().optional() }));
export const PulseTaken = defineEvent(
  'PulseTaken',
  z.object({ beatsPerMinute: z.number().int().positive(), site: z.enum(['radial', 'apical']) }),
  // v1 had no site: every v1 pulse was radial.
  { version: 2, upcasters: { 1: (data) => ({ ...(data as object), site: 'radial' }) } },
);
export const testRegistry = new EventRegistry([NoteWritten, PulseTaken]);

export const metadata = (overrides: Partial<EventMetadata> = {}): EventMetadata => ({
  actor: { id: 'nurse-1', role: 'district-nurse', registration: { system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '12A3456E' } },
  correlationId: randomUUID(),
  occurredAt: '2026-11-24T09:00:00.000Z',
  ...overrides,
});

export const note = (text: string, n?: number): NewEvent => ({
  id: randomUUID(),
  type: 'NoteWritten',
  data: n === undefined ? { text } : { text, n },
  metadata: metadata(),
});

export const uniqueStream = (category = 'care'): string => `${category}-${randomUUID()}`;

export const take = async <T>(iterable: AsyncIterable<T>, count: number, until: (item: T) => boolean = () => true): Promise<T[]> => {
  const items: T[] = [];
  if (count === 0) return items;
  for await (const item of iterable) {
    if (until(item)) items.push(item);
    if (items.length >= count) break;
  }
  return items;
};
