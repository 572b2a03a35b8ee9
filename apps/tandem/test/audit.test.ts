import { PGlite } from '@electric-sql/pglite';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { createRecordService } from '@tandem/record';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';

const audit = (dataDir: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '../src/audit/cli.ts'), ...args], {
    env: { ...process.env, TANDEM_DATA_DIR: dataDir, PORT: '18999', TANDEM_EVENT_STORE: 'pglite' },
    encoding: 'utf8',
    timeout: 60_000,
  });

/**
 * The same, while the embedded server runs: the CLI asks it, since PGlite admits one process (async:
 * the server is in this process). It finds the server from the data directory's lock: PORT is
 * deliberately wrong here, as it was when `npm run audit -- seal` opened a live store (issue 9.9).
 */
const auditRunning = (dataDir: string, _port: number, ...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(__dirname, '../src/audit/cli.ts'), ...args],
      { env: { ...process.env, TANDEM_DATA_DIR: dataDir, PORT: '1', TANDEM_EVENT_STORE: 'pglite' }, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });

/** The auditor's tools on the embedded store: verify the hash chains and digests, seal a digest, replay a stream as known then. */
describe('npm run audit', () => {
  let dataDir: string;
  let patientId: string;
  let between: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-audit-'));
    const tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    patientId = (await seedDemoData(record.care, { patients: 1, days: 2, now: new Date() })).patientIds[0]!;
    await new Promise((resolve) => setTimeout(resolve, 20));
    between = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const worker = { id: DEMO.careWorkers[0]!.practitionerId, role: 'care-worker' as const };
    await record.care.recordCare('WriteNote', { idempotencyKey: 'late-note', occurredAt: new Date(Date.now() - 3 * 3_600_000).toISOString(), patientId, text: 'Ate well at lunch' }, worker);
    await tandem.stop();
  }, 60_000);
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('replays a care stream as it was known at a time, marking late entries, with the state then', () => {
    const now = audit(dataDir, 'replay', '--stream', `care-${patientId}`);
    expect(now.status).toBe(0);
    expect(now.stdout).toContain('NoteWritten');
    expect(now.stdout).toMatch(/NoteWritten .*LATE: recorded 3 hours after it happened/);
    expect(now.stdout).toContain('State then:');

    const then = audit(dataDir, 'replay', '--stream', `care-${patientId}`, '--as-of', between);
    expect(then.status).toBe(0);
    expect(then.stdout).toContain(`as known at ${between}`);
    expect(then.stdout).not.toContain('NoteWritten');
    expect(then.stdout).toContain('VitalSignsRecorded');
  }, 60_000);

  it('writes the replay as a FHIR Bundle with --fhir', () => {
    const run = audit(dataDir, 'replay', '--stream', `care-${patientId}`, '--fhir');
    expect(run.status).toBe(0);
    const bundle = JSON.parse(run.stdout) as { resourceType: string; type: string; entry: { resource: { resourceType: string } }[] };
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(bundle.entry.some((e) => e.resource.resourceType === 'Observation')).toBe(true);
  }, 60_000);

  let anchor: string;

  it('asks the running server when Tandem is up on the same data directory (found from its lock, not PORT): replay and verify', async () => {
    const tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', TANDEM_DIGEST_INTERVAL_SECONDS: '0' }), pino({ level: 'silent' }));
    try {
      const port = Number(new URL(tandem.url).port);
      const then = await auditRunning(dataDir, port, 'replay', '--stream', `care-${patientId}`, '--as-of', between);
      expect(then.code).toBe(0);
      expect(then.stdout).toContain(`as known at ${between}`);
      expect(then.stdout).not.toContain('NoteWritten');
      const verified = await auditRunning(dataDir, port, 'verify');
      expect(verified.code).toBe(0);
      expect(verified.stdout).toContain('Asked the running Tandem');
      expect(verified.stdout).toContain('OK: every event matches its hash chain.');
    } finally {
      await tandem.stop();
    }
  }, 60_000);

  it('passes verify on an untouched store, then seals a digest to keep outside the database', () => {
    const clean = audit(dataDir, 'verify');
    expect(clean.stdout).toContain('OK: every event matches its hash chain.');
    expect(clean.stdout).toContain('Digests: none sealed yet');
    expect(clean.status).toBe(0);

    const sealed = audit(dataDir, 'seal');
    expect(sealed.status).toBe(0);
    expect(sealed.stdout).toContain('Sealed 1 digest(s)');
    anchor = /^ {2}(1:[0-9a-f]{64})$/m.exec(sealed.stdout)![1]!;
    expect(sealed.stdout).toContain(`npm run audit -- verify --anchor ${anchor}`);

    const again = audit(dataDir, 'seal');
    expect(again.stdout).toContain('Nothing new since digest #1.');
    expect(again.stdout).toContain(`  ${anchor}\n`);

    const anchored = audit(dataDir, 'verify', '--anchor', anchor);
    expect(anchored.status).toBe(0);
    expect(anchored.stdout).toMatch(/Digests: 1 sealed, covering \d+ events up to position \d+\.\nLatest digest: 1:[0-9a-f]{64} \(sealed /);
    expect(anchored.stdout).toContain('OK: all 1 digest(s) match the log up to position');

    const forgedAnchor = audit(dataDir, 'verify', '--anchor', `1:${'0'.repeat(64)}`);
    expect(forgedAnchor.status).toBe(1);
    expect(forgedAnchor.stdout).toContain('TAMPERED  digest #1  anchor-mismatch');
  }, 120_000);

  it('fails verify after a row is altered by hand', async () => {
    const db = new PGlite(dataDir);
    await db.query(`update tandem_events set data = jsonb_set(data, '{text}', '"Refused lunch"') where type = 'NoteWritten'`);
    await db.close();

    const tampered = audit(dataDir, 'verify');
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toMatch(new RegExp(`TAMPERED  care-${patientId} #\\d+  changed`));
  }, 60_000);

  it("catches by the digest a stream's last event removed with its stream row set back, which the chains alone miss", async () => {
    const stream = `care-${patientId}`;
    const db = new PGlite(dataDir);
    await db.query('delete from tandem_events where stream_name = $1 and stream_revision = (select max(stream_revision) from tandem_events where stream_name = $1)', [stream]);
    await db.query(
      `update tandem_streams set revision = revision - 1, last_hash = (select hash from tandem_events where stream_name = $1 order by stream_revision desc limit 1) where stream_name = $1`,
      [stream],
    );
    await db.close();

    const tampered = audit(dataDir, 'verify');
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).not.toContain(`TAMPERED  ${stream}`);
    expect(tampered.stdout).toContain('TAMPERED  digest #1  events-removed: 1 event(s) removed');
  }, 60_000);
});

/** While the server runs, `npm run audit -- seal` asks it to seal, so the digest it prints is in the server's own database (issue 9.9). */
describe('npm run audit -- seal while Tandem runs', () => {
  let dataDir: string;
  let tandem: RunningTandem;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-audit-live-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', TANDEM_DIGEST_INTERVAL_SECONDS: '0' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    await seedDemoData(record.care, { patients: 1, days: 1, now: new Date() });
  }, 60_000);
  let stopped = false;
  afterAll(async () => {
    if (!stopped) await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("seals in the running server's database: after the server stops, verify --anchor finds that digest", async () => {
    const sealed = await auditRunning(dataDir, 0, 'seal');
    expect(sealed.stderr).toBe('');
    expect(sealed.code).toBe(0);
    expect(sealed.stdout).toContain(`Asked the running Tandem at ${tandem.url} to seal`);
    expect(sealed.stdout).toContain('Sealed 1 digest(s)');
    const anchor = /^ {2}(1:[0-9a-f]{64})$/m.exec(sealed.stdout)![1]!;
    await tandem.stop();
    stopped = true;

    const anchored = audit(dataDir, 'verify', '--anchor', anchor);
    expect(anchored.stdout).not.toContain('not in the database');
    expect(anchored.stdout).toContain(`Latest digest: ${anchor}`);
    expect(anchored.stdout).toContain('OK: all 1 digest(s) match the log up to position');
    expect(anchored.status).toBe(0);
  }, 120_000);

  it('with nobody holding the data directory, opens it itself and lets go after (a later start works)', async () => {
    const verified = audit(dataDir, 'verify');
    expect(verified.status).toBe(0);
    expect(verified.stdout).not.toContain('Asked the running Tandem');
    expect(existsSync(join(dataDir, 'tandem.lock'))).toBe(false);
  }, 60_000);
});
