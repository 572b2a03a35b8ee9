import { PGlite } from '@electric-sql/pglite';
import { pgliteDriver, sqlBackend, validatedStore, type EventStore, type SqlDriver } from '../src';
import { note, take, testRegistry, uniqueStream } from './fixtures';

/**
 * The live subscriptions of one process (projections, reactions, the policy's facts, the live
 * stream, FHIR Subscriptions) are woken by the same append: one read of the log answers all of
 * them, each event decoded once; none is answered with a page read before an append it was woken by.
 */
describe('subscriptions sharing reads of the log', () => {
  let db: PGlite;
  let store: EventStore;
  let logReads = 0;
  /** When set, the next read of the log is held open until it resolves: a read under way. */
  let holdNextRead: Promise<void> | undefined;

  beforeAll(async () => {
    db = new PGlite();
    const inner = pgliteDriver(db, false);
    const counting: SqlDriver = {
      ...inner,
      query: async <Row>(text: string, params?: readonly unknown[], options?: Parameters<SqlDriver['query']>[2]): Promise<Row[]> => {
        if (!text.includes('from tandem_events where position >=')) return inner.query<Row>(text, params, options);
        logReads++;
        const hold = holdNextRead;
        holdNextRead = undefined;
        const rows = await inner.query<Row>(text, params, options);
        await hold;
        return rows;
      },
    };
    store = validatedStore(await sqlBackend(counting, { mode: 'pglite', pollIntervalMs: 60_000 }), testRegistry);
  });

  afterAll(() => db.close());

  it('answers subscriptions woken by one append with one read of the log, and the same decoded event', async () => {
    const after = await store.headPosition();
    const subscriptions = Array.from({ length: 4 }, () => new AbortController());
    const received = subscriptions.map((controller) => take(store.subscribeToAll({ after, signal: controller.signal }), 1));
    // Each reads once at start (nothing there yet), then waits for an append.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const before = logReads;
    await store.append(uniqueStream(), [note('one for all')], { expectedRevision: 'no_stream' });
    const events = (await Promise.all(received)).map(([event]) => event!);
    expect(events.map((e) => (e.data as { text: string }).text)).toEqual(['one for all', 'one for all', 'one for all', 'one for all']);
    expect(logReads - before).toBe(1);
    expect(new Set(events).size).toBe(1);
    for (const controller of subscriptions) controller.abort();
  });

  it('does not give a subscriber a page read before an append made since: it reads again', async () => {
    const after = await store.headPosition();
    let release!: () => void;
    holdNextRead = new Promise((resolve) => (release = resolve));
    // A first subscriber's read of the log is under way (it found nothing) when the append is made.
    const firstController = new AbortController();
    const first = take(store.subscribeToAll({ after, signal: firstController.signal }), 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await store.append(uniqueStream(), [note('made while the first read')], { expectedRevision: 'no_stream' });
    // A second subscriber at the same position, woken by that append, must not join the read under way.
    const secondController = new AbortController();
    const second = take(store.subscribeToAll({ after, signal: secondController.signal }), 1);
    release();
    const [event] = await second;
    expect((event!.data as { text: string }).text).toBe('made while the first read');
    firstController.abort();
    secondController.abort();
    await first;
  });

  it('reads again at once when an append was made while its read was under way: it does not sleep until the next poll (a minute away here)', async () => {
    const after = await store.headPosition();
    let release!: () => void;
    holdNextRead = new Promise((resolve) => (release = resolve));
    const controller = new AbortController();
    const received = take(store.subscribeToAll({ after, signal: controller.signal }), 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The append commits while the subscriber's read (which found nothing) is still on its way back.
    await store.append(uniqueStream(), [note('made during the read')], { expectedRevision: 'no_stream' });
    release();
    const [event] = await received;
    expect((event!.data as { text: string }).text).toBe('made during the read');
    controller.abort();
  });
});
