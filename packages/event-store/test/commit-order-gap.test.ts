import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { postgresBackend, validatedStore, type EventStore, type RecordedEvent } from '../src';
import { metadata, note, testRegistry, uniqueStream } from './fixtures';
import { dropSchema, postgresTestUrl, testSchemaName } from './postgres-env';

/**
 * DESIGN.md's PostgreSQL trap: a transaction that took its position first but commits last must
 * not be skipped by a subscriber that has already seen later positions.
 */
const url = postgresTestUrl('PostgreSQL commit-order gap test');
const schema = testSchemaName('gap');

(url ? describe : describe.skip)('PostgreSQL commit-order gap', () => {
  let store: EventStore;
  let held: pg.Client;

  beforeAll(async () => {
    store = validatedStore(await postgresBackend({ connectionString: url!, schema, pollIntervalMs: 20 }), testRegistry);
    held = new pg.Client({ connectionString: url!, options: `-c search_path=${schema}` });
    await held.connect();
  });
  afterAll(async () => {
    await held?.end();
    await store?.close();
    await dropSchema(url!, schema);
  });

  it('delivers an event whose transaction commits after later events, once, in order, without skipping it', async () => {
    const slowStream = uniqueStream();
    const fastStreams = Array.from({ length: 5 }, () => uniqueStream());
    const head = await store.headPosition();

    const controller = new AbortController();
    const delivered: RecordedEvent[] = [];
    const ours = new Set([slowStream, ...fastStreams]);
    const subscription = (async () => {
      for await (const event of store.subscribeToAll({ after: head, signal: controller.signal })) {
        if (ours.has(event.stream)) delivered.push(event);
        if (delivered.length === 6) controller.abort();
      }
    })();

    // Given a transaction that has appended (and so holds the lowest position) but not committed...
    await held.query('begin');
    const slowEvent = { ...note('slow writer'), metadata: metadata() };
    await held.query('select * from tandem_append($1, $2, $3::jsonb)', [
      slowStream,
      'no_stream',
      JSON.stringify([{ id: slowEvent.id, type: slowEvent.type, schemaVersion: 1, data: slowEvent.data, metadata: slowEvent.metadata }]),
    ]);

    // ...when five other appends commit after it...
    for (const stream of fastStreams) await store.append(stream, [note(`fast ${randomUUID()}`)], { expectedRevision: 'no_stream' });

    // ...a naive reader of committed rows would already see them past the gap,
    const naive = await store.readStream(fastStreams[4]!);
    expect(naive).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // but the subscriber waits rather than move its checkpoint past the open transaction.
    expect(delivered).toEqual([]);

    // Then once it commits, every event arrives exactly once, in global order, the slow one first.
    await held.query('commit');
    await subscription;
    expect(delivered.map((e) => e.stream)).toEqual([slowStream, ...fastStreams]);
    const positions = delivered.map((e) => e.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(new Set(delivered.map((e) => e.id)).size).toBe(6);
  });
});
