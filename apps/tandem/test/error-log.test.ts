import { PGlite } from '@electric-sql/pglite';
import { mintToken } from '@tandem/auth';
import type { createRecordService } from '@tandem/record';
import type { Patient } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { seedDemoData } from '../src/demo/demo-data';
import { withLoggableErrors } from '../src/log';

/**
 * Logs never carry clinical data (docs/decisions/0009-hardening.md), and a failed query is where
 * they used to: PGlite puts the statement's SQL and its parameters on the error, and pino logs an
 * error's own fields, so a search that failed logged the NHS number and the name it searched for.
 */
const capture = () => {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
};

describe('an error in the log', () => {
  let db: PGlite;
  beforeAll(() => {
    db = new PGlite();
  });
  afterAll(async () => db.close());

  const failure = async (sql: string, params: unknown[]) => {
    try {
      await db.query(sql, params);
    } catch (error) {
      return error;
    }
    throw new Error('the query succeeded');
  };

  it('keeps what went wrong (the SQLSTATE, the message, the stack) without the SQL parameters or a quoted value', async () => {
    const { lines, stream } = capture();
    const logger = withLoggableErrors(pino({ level: 'info' }, stream));
    const missing = await failure('select * from no_such_table where nhs_number = $1 and name = $2', ['9912003888', 'Margaret Jones']);
    // As PGlite hands it over: the parameters ride on the error.
    expect((missing as { params?: unknown }).params).toEqual(['9912003888', 'Margaret Jones']);
    const unreadable = await failure('select $1::uuid', ['Margaret Jones 9912003888']);
    logger.error({ err: missing }, 'FHIR request failed');
    logger.error({ err: unreadable }, 'FHIR request failed');
    logger.error({ err: new Error('outer', { cause: unreadable }) }, 'wrapped');
    const log = lines.join('\n');
    expect(log).not.toMatch(/9912003888|Margaret|Jones/);
    const [first, second] = lines.map((line) => JSON.parse(line) as { err: { code?: string; message: string; stack: string } });
    expect(first!.err).toMatchObject({ code: '42P01', message: 'relation "no_such_table" does not exist' });
    expect(first!.err.stack).toContain('no_such_table');
    expect(second!.err).toMatchObject({ code: '22P02', message: 'invalid input syntax for type uuid: "[redacted]"' });
  });
});

describe('the service log after a failed search, over a real Tandem', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  const { lines, stream } = capture();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-error-log-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'info' }, stream));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    await seedDemoData(record.care, { patients: 1, days: 1, now: new Date() });
  }, 60_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('holds no NHS number or name from the query that failed (the read model gone from under it)', async () => {
    const auditor = await mintToken({ role: 'auditor', user: 'auditor-error-log' }, { dataDir });
    const get = (path: string) => fetch(`${tandem.url}${path}`, { headers: { authorization: `Bearer ${auditor}`, 'x-tandem-min-position': '1' } });
    const bundle = (await (await get('/fhir/Patient')).json()) as { entry: { resource: Patient }[] };
    const patient = bundle.entry[0]!.resource;
    const nhsNumber = patient.identifier!.find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')!.value!;
    const family = patient.name![0]!.family!;
    // A fault as a lost or broken database would be: the table the search reads is not there.
    await tandem.storage.readModels.query('alter table fhir_resource rename to fhir_resource_away');
    let reply: Response;
    try {
      reply = await get(`/fhir/Patient?identifier=${encodeURIComponent(`https://fhir.nhs.uk/Id/nhs-number|${nhsNumber}`)}&name=${encodeURIComponent(family)}`);
    } finally {
      await tandem.storage.readModels.query('alter table fhir_resource_away rename to fhir_resource');
    }
    expect(reply.status).toBe(500);
    expect(await reply.text()).not.toContain(nhsNumber);
    const log = lines.join('\n');
    expect(log).toContain('FHIR request failed');
    expect(log).toContain('42P01');
    expect(log).not.toContain(nhsNumber);
    expect(log.toLowerCase()).not.toContain(family.toLowerCase());
  });
});
