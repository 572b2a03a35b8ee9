import { EventMetadataSchema, RecordedMetadataSchema, type EventRegistry } from '@tandem/contracts';
import { z } from 'zod';
import { MAX_EVENTS_PER_APPEND, type EventStoreBackend, type StorableEvent } from './backend';
import type { EventStore, NewEvent, ReadAllOptions, ReadStreamOptions, RecordedEvent, SubscribeOptions } from './contract';
import { InvalidAppend, InvalidStoredEvent, type FieldIssue } from './errors';
import { streamNameProblem } from './stream-name';

const UuidSchema = z.uuid();

const expectedRevisionProblem = (expected: unknown): string | undefined =>
  expected === 'any' || expected === 'no_stream' || expected === 'exists' || (Number.isSafeInteger(expected) && (expected as number) >= 0)
    ? undefined
    : 'must be any, no_stream, exists or a revision number (0 or more)';

const checkAppend = (registry: EventRegistry, stream: string, events: readonly NewEvent[], expected: unknown): StorableEvent[] => {
  const issues: FieldIssue[] = [];
  const streamProblem = streamNameProblem(stream);
  if (streamProblem) issues.push({ field: 'stream', message: streamProblem });
  const revisionProblem = expectedRevisionProblem(expected);
  if (revisionProblem) issues.push({ field: 'expectedRevision', message: revisionProblem });
  if (!Array.isArray(events) || events.length === 0) issues.push({ field: 'events', message: 'must hold at least one event' });
  else if (events.length > MAX_EVENTS_PER_APPEND) issues.push({ field: 'events', message: `must hold at most ${MAX_EVENTS_PER_APPEND} events` });
  const storable: StorableEvent[] = [];
  const seen = new Set<string>();
  (Array.isArray(events) ? events : []).forEach((event, index) => {
    const at = `events[${index}]`;
    if (!UuidSchema.safeParse(event?.id).success) issues.push({ field: `${at}.id`, message: 'must be a UUID' });
    else if (seen.has(event.id)) issues.push({ field: `${at}.id`, message: 'appears twice in one append' });
    else seen.add(event.id);
    const encoded = registry.encode(event?.type, event?.data);
    if (!encoded.ok) {
      for (const i of encoded.issues) issues.push({ field: i.path === 'type' ? `${at}.type` : `${at}.data${i.path ? `.${i.path}` : ''}`, message: i.message });
    }
    const metadata = EventMetadataSchema.safeParse(event?.metadata);
    if (!metadata.success) {
      for (const i of metadata.error.issues) issues.push({ field: [`${at}.metadata`, ...i.path.map(String)].join('.'), message: i.message });
    }
    if (encoded.ok && metadata.success) {
      storable.push({ id: event.id, type: event.type, schemaVersion: encoded.version, data: encoded.data, metadata: metadata.data });
    }
  });
  if (issues.length > 0) throw new InvalidAppend(issues);
  return storable;
};

const decode = (registry: EventRegistry, event: RecordedEvent): RecordedEvent => {
  const decoded = registry.decode(event.type, event.schemaVersion, event.data);
  const metadata = RecordedMetadataSchema.safeParse(event.metadata);
  if (decoded.ok && metadata.success) {
    return { ...event, schemaVersion: decoded.version, data: decoded.data, metadata: metadata.data };
  }
  const issues: FieldIssue[] = [
    ...(decoded.ok ? [] : decoded.issues.map((i) => ({ field: `data.${i.path}`, message: i.message }))),
    ...(metadata.success ? [] : metadata.error.issues.map((i) => ({ field: ['metadata', ...i.path.map(String)].join('.'), message: i.message }))),
  ];
  throw new InvalidStoredEvent(event.stream, event.revision, issues);
};

/** The store every service uses: a back end behind one set of rules, applied both ways. */
export const validatedStore = (backend: EventStoreBackend, registry: EventRegistry): EventStore => {
  // The live subscriptions of a process are answered with the same stored events (sqlBackend's
  // shared page): each is decoded once for all of them, not once per subscriber. Events are
  // values: no subscriber changes what it is given.
  const decodedOnce = new WeakMap<RecordedEvent, RecordedEvent>();
  const decodeShared = (event: RecordedEvent): RecordedEvent => {
    const known = decodedOnce.get(event);
    if (known) return known;
    const decoded = decode(registry, event);
    decodedOnce.set(event, decoded);
    return decoded;
  };
  return {
    mode: backend.mode,
    append: (stream, events, { expectedRevision }) =>
      Promise.resolve().then(() => backend.append(stream, checkAppend(registry, stream, events, expectedRevision), { expectedRevision })),
    readStream: async (stream: string, options?: ReadStreamOptions) => {
      const problem = streamNameProblem(stream);
      if (problem) throw new InvalidAppend([{ field: 'stream', message: problem }]);
      return (await backend.readStream(stream, options)).map((e) => decode(registry, e));
    },
    readAll: async (options?: ReadAllOptions) => (await backend.readAll(options)).map((e) => decode(registry, e)),
    subscribeToAll: (options?: SubscribeOptions) => ({
      async *[Symbol.asyncIterator]() {
        for await (const event of backend.subscribeToAll(options)) yield decodeShared(event);
      },
    }),
    headPosition: () => backend.headPosition(),
    close: () => backend.close(),
  };
};
