import { PGlite } from '@electric-sql/pglite';
import { EventRegistry, defineEvent, type EventMetadata } from '@tandem/contracts';
import { pgliteBackend, pgliteDriver, validatedStore, type EventStore, type SqlDriver } from '@tandem/event-store';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ProjectionRunner, type Projection } from '../src';

const NoteWritten = defineEvent('NoteWritten', z.object({ text: z.string() }));
const metadata = (): EventMetadata => ({ actor: { id: 'cw-1', role: 'care-worker' }, correlationId: randomUUID(), occurredAt: '2026-11-24T09:00:00Z' });

/** A minimal read model: one row per note. */
const notes: Projection = {
  name: 'notes',
  schemaSql: 'create table if not exists notes (event_id uuid primary key, text text not null);',
  apply: async (events, tx) => {
    for (const e of events) await tx.query('insert into notes (event_id, text) values ($1, $2) on conflict do nothing', [e.id, (e.data as { text: string }).text]);
  },
};

describe('projection runner', () => {
  let db: PGlite;
  let store: EventStore;
  let readModels: SqlDriver;

  const write = async (count: number) => {
    let position = 0;
    for (let i = 0; i < count; i++) {
      ({ position } = await store.append(`care-${randomUUID()}`, [{ id: randomUUID(), type: 'NoteWritten', data: { text: `note ${i}` }, metadata: metadata() }], { expectedRevision: 'no_stream' }));
    }
    return position;
  };
  const countNotes = async () => Number((await readModels.query<{ n: string }>('select count(*) as n from notes'))[0]!.n);

  beforeAll(async () => {
    db = new PGlite();
    store = validatedStore(await pgliteBackend({ db }), new EventRegistry([NoteWritten]));
    readModels = pgliteDriver(db, false);
  });
  afterAll(() => db.close());

  it('catches up, follows live events, and resumes from its checkpoint after a restart without repeating', async () => {
    await write(30);
    const runner = new ProjectionRunner(store, readModels, [notes]);
    await runner.start();
    expect(await runner.waitFor(await store.headPosition(), 5000)).toBe(true);
    expect(await countNotes()).toBe(30);

    const live = await write(5);
    expect(await runner.waitFor(live, 5000)).toBe(true);
    expect(await countNotes()).toBe(35);
    await runner.stop();

    const whileStopped = await write(10);
    const restarted = new ProjectionRunner(store, readModels, [notes]);
    await restarted.start();
    expect(await restarted.waitFor(whileStopped, 5000)).toBe(true);
    expect(await countNotes()).toBe(45);
    expect(await restarted.status()).toMatchObject({ lagEvents: 0, running: true, generation: 1 });
    await restarted.stop();
  });

  it('rebuilds from position 0 into a new generation while reads go on, then switches over', async () => {
    const runner = new ProjectionRunner(store, readModels, [notes]);
    await runner.start();
    await runner.waitFor(await store.headPosition(), 5000);
    const before = await countNotes();

    let reading = true;
    const counts: number[] = [];
    const reader = (async () => {
      while (reading) {
        counts.push(await countNotes());
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const report = await runner.rebuild();
    reading = false;
    await reader;

    expect(report).toMatchObject({ generation: 2, events: before });
    expect(counts.length).toBeGreaterThan(0);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(before);
    expect(await countNotes()).toBe(before);
    const after = await write(3);
    expect(await runner.waitFor(after, 5000)).toBe(true);
    expect(await countNotes()).toBe(before + 3);
    expect((await runner.status()).generation).toBe(2);
    await runner.stop();
  });

  it('a release that adds a table to a projection rebuilds every read model, so the new table holds every event, not only the ones after it', async () => {
    const runner = new ProjectionRunner(store, readModels, [notes]);
    await runner.start();
    await runner.waitFor(await store.headPosition(), 5000);
    await runner.stop();
    const noted = await countNotes();
    expect(noted).toBeGreaterThan(0);

    // The same projection, a release later: it also keeps the length of each note in a table of its own.
    const withLengths: Projection = {
      ...notes,
      schemaSql: `${notes.schemaSql}\ncreate table if not exists note_lengths (event_id uuid primary key, length int not null);`,
      apply: async (events, tx) => {
        await notes.apply(events, tx);
        for (const e of events) await tx.query('insert into note_lengths (event_id, length) values ($1, $2) on conflict do nothing', [e.id, (e.data as { text: string }).text.length]);
      },
    };
    const active = async () => Number((await readModels.query<{ generation: number }>('select generation from tandem_read_model_generation'))[0]!.generation);
    const generation = await active();
    const upgraded = new ProjectionRunner(store, readModels, [withLengths]);
    await upgraded.start();
    // The rebuild runs beside the live loop; wait (bounded) for it to switch the views.
    for (let i = 0; i < 200 && (await active()) === generation; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(await active()).toBe(generation + 1);
    const [lengths] = await readModels.query<{ n: string }>('select count(*) as n from note_lengths');
    expect(Number(lengths!.n)).toBe(noted);
    await upgraded.stop();
  });
});
