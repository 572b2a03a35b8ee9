import { PGlite } from '@electric-sql/pglite';
import { defineEvent, EventRegistry } from '@tandem/contracts';
import { pgliteBackend, validatedStore, type EventStore, type NewEvent } from '@tandem/event-store';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { currentStreams, type CurrentStreams } from '../../src/application/current-streams';

/**
 * Whole-stream reads held in memory and kept current by the log (H53): what the policy decides
 * every read on is not read from the store again until an append (here, or elsewhere on the log)
 * says the stream has moved on.
 */
const NoteWritten = defineEvent('NoteWritten', z.object({ text: z.string().min(1) }));
const note = (text: string): NewEvent => ({
  id: randomUUID(),
  type: 'NoteWritten',
  data: { text },
  metadata: { actor: { id: 'nurse-1', role: 'district-nurse' }, correlationId: randomUUID(), occurredAt: '2026-12-02T08:00:00.000Z' },
});
const texts = (events: readonly { data: unknown }[]) => events.map((e) => (e.data as { text: string }).text);

describe('current streams', () => {
  let db: PGlite;
  let store: EventStore;
  let storeReads: number;
  let streams: CurrentStreams;
  let stream: string;

  let inner: EventStore;

  beforeAll(async () => {
    db = new PGlite();
    inner = validatedStore(await pgliteBackend({ db }), new EventRegistry([NoteWritten]));
  });

  afterAll(() => db.close());

  beforeEach(async () => {
    storeReads = 0;
    // The store as another process sees it, counting the stream reads this cache makes of it.
    store = inner;
    const counted: EventStore = {
      ...inner,
      readStream: (name, options) => {
        storeReads++;
        return inner.readStream(name, options);
      },
    };
    streams = currentStreams(counted);
    stream = `care-${randomUUID()}`;
    await store.append(stream, [note('first')], { expectedRevision: 'no_stream' });
  });

  afterEach(() => streams.stop());

  /** Until the cache's subscription has delivered everything appended so far (its reads show it). */
  const untilRead = async (expected: string[]) => {
    for (let i = 0; i < 500; i++) {
      if (JSON.stringify(texts(await streams.store.readStream(stream))) === JSON.stringify(expected)) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`the stream never read as ${expected.join(', ')}`);
  };

  it('given a stream read once, answers the next read from memory', async () => {
    await streams.start();
    expect(texts(await streams.store.readStream(stream))).toEqual(['first']);
    const before = storeReads;
    expect(texts(await streams.store.readStream(stream))).toEqual(['first']);
    expect(storeReads).toBe(before);
  });

  it('reads every time from the store until it follows the log', async () => {
    await streams.store.readStream(stream);
    await streams.store.readStream(stream);
    expect(storeReads).toBe(2);
  });

  it('after an append through it, the very next read has the new event', async () => {
    await streams.start();
    await streams.store.readStream(stream);
    await streams.store.append(stream, [note('second')], { expectedRevision: 0 });
    expect(texts(await streams.store.readStream(stream))).toEqual(['first', 'second']);
  });

  it('after an append by another writer of the log, reads have it once the subscription has delivered it, and are then from memory again', async () => {
    await streams.start();
    await streams.store.readStream(stream);
    await store.append(stream, [note('elsewhere')], { expectedRevision: 0 });
    await untilRead(['first', 'elsewhere']);
    const before = storeReads;
    expect(texts(await streams.store.readStream(stream))).toEqual(['first', 'elsewhere']);
    expect(storeReads).toBe(before);
  });

  it("waits for another writer's position (H65): once reached, the very next read has its event", async () => {
    await streams.start();
    expect(texts(await streams.store.readStream(stream))).toEqual(['first']);
    const { position } = await store.append(stream, [note('removed elsewhere')], { expectedRevision: 0 });
    expect(await streams.waitFor(position, 2000)).toBe(true);
    expect(texts(await streams.store.readStream(stream))).toEqual(['first', 'removed elsewhere']);
  });

  it('says so when the position is not reached in time, and does not wait at all before it follows the log', async () => {
    expect(await streams.waitFor(Number.MAX_SAFE_INTEGER, 10)).toBe(true);
    await streams.start();
    expect(await streams.waitFor(Number.MAX_SAFE_INTEGER, 10)).toBe(false);
  });

  it('does not keep a read that was under way while the stream was appended to', async () => {
    await streams.start();
    const reading = streams.store.readStream(stream);
    const appending = streams.store.append(stream, [note('second')], { expectedRevision: 0 });
    await Promise.all([reading, appending]);
    expect(texts(await streams.store.readStream(stream))).toEqual(['first', 'second']);
  });
});
