import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { pgliteBackend, pgliteDriver, postgresBackend, validatedStore, verifyEventLog, type EventStore, type SqlQueryable } from '../src';
import { note, testRegistry, uniqueStream } from './fixtures';
import { dropSchema, postgresTestUrl, testSchemaName } from './postgres-env';

/** Tamper evidence: a row altered, removed or forged by hand in the database is caught. */
const describeTamperEvidence = (name: string, open: () => Promise<{ store: EventStore; sql: SqlQueryable; close: () => Promise<void> }>) =>
  describe(`tamper evidence: ${name}`, () => {
    let store: EventStore;
    let sql: SqlQueryable;
    let close: () => Promise<void>;
    let stream: string;

    beforeAll(async () => {
      ({ store, sql, close } = await open());
    });
    afterAll(() => close());

    beforeEach(async () => {
      stream = uniqueStream();
      await store.append(stream, [note('glucose 3.4'), note('hypo protocol started')], { expectedRevision: 'no_stream' });
      await store.append(stream, [note('recheck 5.1'), note('nurse informed')], { expectedRevision: 1 });
    });
    const findingsFor = async () => (await verifyEventLog(sql)).findings.filter((f) => f.stream === stream);

    it('passes an untouched log', async () => {
      const report = await verifyEventLog(sql);
      expect(report.events).toBeGreaterThanOrEqual(4);
      expect(report.findings).toEqual([]);
    });

    it('catches an event whose data was edited in the database', async () => {
      await sql.query(`update tandem_events set data = jsonb_set(data, '{text}', '"glucose 6.4"') where stream_name = $1 and stream_revision = 0`, [stream]);
      expect(await findingsFor()).toEqual([{ stream, revision: 0, problem: 'changed', detail: 'content does not match its hash' }]);
    });

    it('catches a re-timed entry (recordedAt changed)', async () => {
      await sql.query(`update tandem_events set recorded_at = recorded_at - interval '2 hours' where stream_name = $1 and stream_revision = 2`, [stream]);
      expect((await findingsFor()).map((f) => [f.revision, f.problem])).toEqual([[2, 'changed']]);
    });

    it('catches an event removed from the middle and from the end', async () => {
      await sql.query('delete from tandem_events where stream_name = $1 and stream_revision in (1, 3)', [stream]);
      const findings = await findingsFor();
      expect(findings.map((f) => f.problem).sort()).toEqual(['changed', 'missing-at-end', 'missing-before']);
    });

    it('catches a forged event inserted at the end of a stream', async () => {
      await sql.query(
        `insert into tandem_events (position, event_id, stream_name, stream_revision, type, schema_version, data, metadata, hash)
         select position + 1, gen_random_uuid(), stream_name, 4, type, schema_version, '{"text":"never happened"}', metadata, hash
           from tandem_events where stream_name = $1 and stream_revision = 3`,
        [stream],
      );
      expect((await findingsFor()).map((f) => f.problem).sort()).toEqual(['changed', 'missing-at-end']);
    });
  });

describeTamperEvidence('PGlite', async () => {
  const db = new PGlite();
  return { store: validatedStore(await pgliteBackend({ db }), testRegistry), sql: pgliteDriver(db, false), close: () => db.close() };
});

const url = postgresTestUrl('PostgreSQL tamper-evidence test');
const schema = testSchemaName('tamper');
if (url) {
  describeTamperEvidence('PostgreSQL', async () => {
    const store = validatedStore(await postgresBackend({ connectionString: url, schema }), testRegistry);
    const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}` });
    return {
      store,
      sql: { query: async <Row>(text: string, params: readonly unknown[] = []) => (await pool.query(text, params as unknown[])).rows as Row[] },
      close: async () => {
        await store.close();
        await pool.end();
        await dropSchema(url, schema);
      },
    };
  });
}
