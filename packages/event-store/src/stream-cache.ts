import type { EventStore, ReadStreamOptions, RecordedEvent } from './contract';

/**
 * Keeps the events of recently used streams in memory and reads only each stream's tail from the
 * store. Streams are append-only, so what was read once never changes: loading a person's care
 * stream before a command costs the new events, not the whole history. Bounded (least recently
 * used streams are dropped). Reads with options go straight to the store.
 */
export const withStreamCache = (store: EventStore, { maxStreams = 10_000 }: { maxStreams?: number } = {}): EventStore => {
  const cache = new Map<string, RecordedEvent[]>();
  const remember = (stream: string, events: RecordedEvent[]) => {
    cache.delete(stream);
    cache.set(stream, events);
    if (cache.size > maxStreams) cache.delete(cache.keys().next().value!);
  };
  return {
    ...store,
    mode: store.mode,
    append: (stream, events, options) => store.append(stream, events, options),
    readStream: async (stream: string, options?: ReadStreamOptions) => {
      if (options && Object.values(options).some((v) => v !== undefined)) return store.readStream(stream, options);
      const known = cache.get(stream) ?? [];
      const tail = await store.readStream(stream, { fromRevision: known.length });
      const events = tail.length > 0 ? [...known, ...tail] : known;
      remember(stream, events);
      return events;
    },
    readAll: (options) => store.readAll(options),
    subscribeToAll: (options) => store.subscribeToAll(options),
    headPosition: () => store.headPosition(),
    close: () => store.close(),
  };
};
