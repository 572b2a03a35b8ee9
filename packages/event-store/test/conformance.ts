import { randomUUID } from 'node:crypto';
import { IdempotencyConflict, InvalidAppend, InvalidStoredEvent, validatedStore, WrongExpectedRevision, type EventStore, type EventStoreBackend } from '../src';
import { metadata, note, take, testRegistry, uniqueStream } from './fixtures';

const expectInvalid = async (promise: Promise<unknown>, field: string) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidAppend);
  expect((error as InvalidAppend).issues.map((i) => i.field)).toContain(field);
};

/**
 * The one suite every back end must pass. `open` gives a back end on an empty or shared store;
 * every test uses its own streams, so tests never depend on each other.
 */
export const describeConformance = (name: string, open: () => Promise<EventStoreBackend>, cleanUp?: () => Promise<void>) =>
  describe(`event store conformance: ${name}`, () => {
    let backend: EventStoreBackend;
    let store: EventStore;

    beforeAll(async () => {
      backend = await open();
      store = validatedStore(backend, testRegistry);
    });
    afterAll(async () => {
      await store?.close();
      await cleanUp?.();
    });

    describe('append and read a stream', () => {
      it('stores each event with its id, stream, revision, position, type, data, metadata and schema version', async () => {
        const stream = uniqueStream();
        const first = note('Mr Jones was comfortable', 1);
        const result = await store.append(stream, [first], { expectedRevision: 'no_stream' });
        expect(result.nextRevision).toBe(0);

        const [stored] = await store.readStream(stream);
        expect(stored).toMatchObject({
          id: first.id,
          stream,
          revision: 0,
          position: result.position,
          type: 'NoteWritten',
          schemaVersion: 1,
          data: { text: 'Mr Jones was comfortable', n: 1 },
          metadata: { ...first.metadata },
        });
        expect(Date.parse(stored!.metadata.recordedAt)).not.toBeNaN();
      });

      it('numbers a batch with consecutive revisions and increasing positions', async () => {
        const stream = uniqueStream();
        await store.append(stream, [note('a')], { expectedRevision: 'no_stream' });
        const result = await store.append(stream, [note('b'), note('c'), note('d')], { expectedRevision: 0 });
        expect(result.nextRevision).toBe(3);
        const events = await store.readStream(stream);
        expect(events.map((e) => e.revision)).toEqual([0, 1, 2, 3]);
        const positions = events.map((e) => e.position);
        expect([...positions].sort((a, b) => a - b)).toEqual(positions);
        expect(new Set(positions).size).toBe(4);
        expect(result.position).toBe(positions[3]);
      });

      it('reads from a revision, backwards, and at most maxCount', async () => {
        const stream = uniqueStream();
        await store.append(stream, ['a', 'b', 'c', 'd', 'e'].map((t) => note(t)), { expectedRevision: 'no_stream' });
        const texts = (events: { data: unknown }[]) => events.map((e) => (e.data as { text: string }).text);
        expect(texts(await store.readStream(stream, { fromRevision: 2 }))).toEqual(['c', 'd', 'e']);
        expect(texts(await store.readStream(stream, { direction: 'backwards', maxCount: 2 }))).toEqual(['e', 'd']);
        expect(texts(await store.readStream(stream, { fromRevision: 1, direction: 'backwards' }))).toEqual(['b', 'a']);
        expect(texts(await store.readStream(stream, { fromRevision: 1, maxCount: 2 }))).toEqual(['b', 'c']);
      });

      it('reads a stream that does not exist as empty', async () => {
        expect(await store.readStream(uniqueStream())).toEqual([]);
      });
    });

    describe('expected revision', () => {
      it('refuses no_stream when the stream exists, naming expected and actual', async () => {
        const stream = uniqueStream();
        await store.append(stream, [note('a'), note('b')], { expectedRevision: 'no_stream' });
        const error = await store.append(stream, [note('c')], { expectedRevision: 'no_stream' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WrongExpectedRevision);
        expect(error).toMatchObject({ stream, expected: 'no_stream', actual: 1 });
      });

      it('refuses exists when the stream does not exist', async () => {
        const stream = uniqueStream();
        const error = await store.append(stream, [note('a')], { expectedRevision: 'exists' }).catch((e: unknown) => e);
        expect(error).toMatchObject({ expected: 'exists', actual: 'no_stream' });
        expect(await store.readStream(stream)).toEqual([]);
      });

      it('refuses a stale revision and accepts the current one; any always appends', async () => {
        const stream = uniqueStream();
        await store.append(stream, [note('a')], { expectedRevision: 'any' });
        await store.append(stream, [note('b')], { expectedRevision: 0 });
        await expect(store.append(stream, [note('c')], { expectedRevision: 0 })).rejects.toMatchObject({ expected: 0, actual: 1 });
        await store.append(stream, [note('c')], { expectedRevision: 'exists' });
        await store.append(stream, [note('d')], { expectedRevision: 'any' });
        expect((await store.readStream(stream)).map((e) => (e.data as { text: string }).text)).toEqual(['a', 'b', 'c', 'd']);
      });

      it('lets exactly one of 20 concurrent appends with the same expected revision win, and none is half-written', async () => {
        const stream = uniqueStream();
        await store.append(stream, [note('start')], { expectedRevision: 'no_stream' });
        const outcomes = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => store.append(stream, [note(`writer ${i}`, 1), note(`writer ${i}`, 2)], { expectedRevision: 0 })),
        );
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(19);
        for (const o of lost) expect(o.reason).toBeInstanceOf(WrongExpectedRevision);
        const events = await store.readStream(stream);
        expect(events).toHaveLength(3);
        expect((events[1]!.data as { text: string }).text).toBe((events[2]!.data as { text: string }).text);
      });
    });

    describe('idempotency', () => {
      it('treats a retried append (same event ids) as a no-op that returns the original result', async () => {
        const stream = uniqueStream();
        const batch = [note('insulin 8 units given'), note('site: left abdomen')];
        const first = await store.append(stream, batch, { expectedRevision: 'no_stream' });
        const retry = await store.append(stream, batch, { expectedRevision: 'no_stream' });
        expect(retry).toEqual(first);
        expect(await store.readStream(stream)).toHaveLength(2);
      });

      it('returns the original result for a retry even after later appends', async () => {
        const stream = uniqueStream();
        const dose = note('dose');
        const first = await store.append(stream, [dose], { expectedRevision: 'no_stream' });
        await store.append(stream, [note('later')], { expectedRevision: 0 });
        expect(await store.append(stream, [dose], { expectedRevision: 0 })).toEqual(first);
        expect(await store.readStream(stream)).toHaveLength(2);
      });

      it('refuses a batch that repeats only some stored ids, storing nothing', async () => {
        const stream = uniqueStream();
        const stored = note('a');
        await store.append(stream, [stored], { expectedRevision: 'no_stream' });
        await expect(store.append(stream, [stored, note('b')], { expectedRevision: 'any' })).rejects.toBeInstanceOf(IdempotencyConflict);
        expect(await store.readStream(stream)).toHaveLength(1);
      });
    });

    describe('rules: nothing breaking them is stored', () => {
      it.each([
        ['empty', ''],
        ['too long', `care-${'x'.repeat(300)}`],
        ['with a space', 'care 123'],
        ['reserved $ prefix', '$all'],
      ])('refuses a stream name that is %s', async (_, stream) => {
        const head = await store.headPosition();
        await expectInvalid(store.append(stream, [note('a')], { expectedRevision: 'any' }), 'stream');
        expect(await store.headPosition()).toBe(head);
      });

      it('refuses an event whose data breaks its schema, naming the field, and stores none of the batch', async () => {
        const stream = uniqueStream();
        const bad = { ...note('x'), type: 'PulseTaken', data: { beatsPerMinute: -5, site: 'radial' } };
        await expectInvalid(store.append(stream, [note('fine'), bad], { expectedRevision: 'any' }), 'events[1].data.beatsPerMinute');
        expect(await store.readStream(stream)).toEqual([]);
      });

      it('refuses an unknown event type, a bad id, missing metadata and an empty batch', async () => {
        const stream = uniqueStream();
        await expectInvalid(store.append(stream, [{ ...note('x'), type: 'Teleported' }], { expectedRevision: 'any' }), 'events[0].type');
        await expectInvalid(store.append(stream, [{ ...note('x'), id: 'not-a-uuid' }], { expectedRevision: 'any' }), 'events[0].id');
        await expectInvalid(
          store.append(stream, [{ ...note('x'), metadata: { ...metadata(), actor: undefined } as never }], { expectedRevision: 'any' }),
          'events[0].metadata.actor',
        );
        await expectInvalid(store.append(stream, [], { expectedRevision: 'any' }), 'events');
        await expectInvalid(store.append(stream, [note('x')], { expectedRevision: -1 as never }), 'expectedRevision');
        expect(await store.readStream(stream)).toEqual([]);
      });
    });

    describe('payloads', () => {
      it('round-trips a large payload (1 MB)', async () => {
        const stream = uniqueStream();
        const text = 'Wound care note. '.repeat(62_000);
        await store.append(stream, [note(text)], { expectedRevision: 'no_stream' });
        expect(((await store.readStream(stream))[0]!.data as { text: string }).text).toBe(text);
      });

      it('round-trips unicode text exactly', async () => {
        const stream = uniqueStream();
        const text = 'Zoë Ørsted-Nguyễn, 山田 花子, مريم — “comfortable” 🩺 ½ cup tea';
        await store.append(stream, [note(text)], { expectedRevision: 'no_stream' });
        expect(((await store.readStream(stream))[0]!.data as { text: string }).text).toBe(text);
      });
    });

    describe('schema versions', () => {
      it('reads a v1 event back as the current version through its upcaster', async () => {
        const stream = uniqueStream();
        await backend.append(stream, [{ id: randomUUID(), type: 'PulseTaken', schemaVersion: 1, data: { beatsPerMinute: 72 }, metadata: metadata() }], {
          expectedRevision: 'no_stream',
        });
        const [event] = await store.readStream(stream);
        expect(event).toMatchObject({ schemaVersion: 2, data: { beatsPerMinute: 72, site: 'radial' } });
      });

      it('refuses to hand out a stored event that no longer matches its contract', async () => {
        const stream = uniqueStream();
        await backend.append(stream, [{ id: randomUUID(), type: 'NoteWritten', schemaVersion: 1, data: { text: 42 }, metadata: metadata() }], {
          expectedRevision: 'no_stream',
        });
        await expect(store.readStream(stream)).rejects.toBeInstanceOf(InvalidStoredEvent);
      });
    });

    describe('the global log', () => {
      it('reads all events in append order from an inclusive position, at most maxCount', async () => {
        const a = uniqueStream();
        const b = uniqueStream();
        const first = await store.append(a, [note('1')], { expectedRevision: 'no_stream' });
        await store.append(b, [note('2')], { expectedRevision: 'no_stream' });
        await store.append(a, [note('3'), note('4')], { expectedRevision: 0 });
        const mine = (await store.readAll({ fromPosition: first.position, maxCount: 10_000 })).filter((e) => e.stream === a || e.stream === b);
        expect(mine.map((e) => (e.data as { text: string }).text)).toEqual(['1', '2', '3', '4']);
        const limited = await store.readAll({ fromPosition: first.position, maxCount: 2 });
        expect(limited).toHaveLength(2);
        expect(limited[0]!.position).toBe(first.position);
        expect(await store.headPosition()).toBeGreaterThanOrEqual(mine[3]!.position);
      });

      it('delivers stored events then live ones, in order, each once, to a subscription', async () => {
        const stream = uniqueStream();
        await store.append(stream, [note('1'), note('2'), note('3')], { expectedRevision: 'no_stream' });
        const [first] = await store.readStream(stream);
        const controller = new AbortController();
        const received = take(
          store.subscribeToAll({ after: first!.position - 1, signal: controller.signal }),
          5,
          (e) => e.stream === stream,
        );
        setTimeout(() => {
          void store.append(stream, [note('4')], { expectedRevision: 2 }).then(() => store.append(stream, [note('5')], { expectedRevision: 3 }));
        }, 50);
        const events = await received;
        controller.abort();
        expect(events.map((e) => (e.data as { text: string }).text)).toEqual(['1', '2', '3', '4', '5']);
      });

      it('resumes after a checkpoint without repeating what was handled', async () => {
        const stream = uniqueStream();
        await store.append(stream, [note('1'), note('2')], { expectedRevision: 'no_stream' });
        const [, second] = await store.readStream(stream);
        await store.append(stream, [note('3')], { expectedRevision: 1 });
        const controller = new AbortController();
        const events = await take(store.subscribeToAll({ after: second!.position, signal: controller.signal }), 1, (e) => e.stream === stream);
        controller.abort();
        expect(events.map((e) => (e.data as { text: string }).text)).toEqual(['3']);
      });

      it('stops a subscription when its signal aborts', async () => {
        const controller = new AbortController();
        const seen: number[] = [];
        const head = await store.headPosition();
        const running = (async () => {
          for await (const e of store.subscribeToAll({ after: head, signal: controller.signal })) seen.push(e.position);
        })();
        setTimeout(() => controller.abort(), 50);
        await running;
        expect(seen).toEqual([]);
      });
    });
  });
