import { pgliteBackend, validatedStore, withStreamCache, type EventStore } from '../src';
import { note, testRegistry, uniqueStream } from './fixtures';

describe('stream cache', () => {
  let store: EventStore;
  beforeAll(async () => {
    store = validatedStore(await pgliteBackend({}), testRegistry);
  });
  afterAll(() => store.close());

  it('returns every event of the stream, including ones appended by another writer since the last read', async () => {
    const cached = withStreamCache(store);
    const stream = uniqueStream();
    await cached.append(stream, [note('a'), note('b')], { expectedRevision: 'no_stream' });
    expect((await cached.readStream(stream)).map((e) => e.revision)).toEqual([0, 1]);
    // Another process (the uncached store) appends.
    await store.append(stream, [note('c')], { expectedRevision: 1 });
    const events = await cached.readStream(stream);
    expect(events.map((e) => (e.data as { text: string }).text)).toEqual(['a', 'b', 'c']);
    expect(await cached.readStream(stream)).toEqual(await store.readStream(stream));
  });

  it('forgets the least recently used stream beyond its bound, and still reads it correctly', async () => {
    const cached = withStreamCache(store, { maxStreams: 1 });
    const [a, b] = [uniqueStream(), uniqueStream()];
    await cached.append(a, [note('a1')], { expectedRevision: 'no_stream' });
    await cached.append(b, [note('b1')], { expectedRevision: 'no_stream' });
    await cached.readStream(a);
    await cached.readStream(b);
    expect((await cached.readStream(a)).map((e) => (e.data as { text: string }).text)).toEqual(['a1']);
  });
});
