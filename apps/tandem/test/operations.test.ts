import { mintToken } from '@tandem/auth';
import { REBUILD_BATCH } from '@tandem/projections';
import type { createRecordService } from '@tandem/record';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { acquireDataDirLock, dataDirOwner, DataDirLocked, LOCK_FILE } from '../src/data-dir-lock';
import type { Replayer } from '../src/audit/replay';
import { seedDemoData } from '../src/demo/demo-data';
import { PortInUse } from '../src/server';

const silent = pino({ level: 'silent' });
const embedded = (dataDir: string, extra: Record<string, string> = {}) =>
  loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', TANDEM_DIGEST_INTERVAL_SECONDS: '0', ...extra });

/** Listens on a free loopback port; `handler` undefined answers nothing useful (closed again by the caller). */
const httpServer = (handler: RequestListener = (_req, res) => res.end()) =>
  new Promise<{ server: Server; port: number }>((resolve) => {
    const server = createHttpServer(handler);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** Every file and directory under `dir` with its permission bits. */
const modes = (dir: string): { path: string; mode: number; directory: boolean }[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    const here = { path, mode: lstatSync(path).mode & 0o777, directory: entry.isDirectory() };
    return entry.isDirectory() ? [here, ...modes(path)] : [here];
  });

/** A pid that is certainly not alive: a process that has already exited. */
const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

const run = (script: string, env: Record<string, string>, ...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const clean = { ...process.env };
    delete clean.PORT;
    delete clean.TANDEM_URL;
    execFile(process.execPath, ['--import', 'tsx', script, ...args], { env: { ...clean, ...env }, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });

describe('operating Tandem on its embedded default', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientId: string;
  const auth = async (role: 'system' | 'auditor' | 'care-worker' | 'registered-manager', user = `${role}-ops-test`) => ({
    authorization: `Bearer ${await mintToken({ role, user, ...(role === 'registered-manager' ? { org: 'org-kindly-care' } : {}) }, { dataDir })}`,
  });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-ops-'));
    tandem = await startTandem(embedded(dataDir), silent);
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    const { patientIds } = await seedDemoData(record.care, { patients: 8, days: 6, now: new Date() });
    patientId = patientIds[0]!;
    // A log long enough that a rebuild has several batches to give way between.
    const worker = { id: 'cw-amira-hassan', role: 'care-worker' as const };
    await Promise.all(
      patientIds.map(async (id) => {
        for (let i = 0; i < 25; i++) await record.care.recordCare('WriteNote', { idempotencyKey: `ops-${id}-${i}`, occurredAt: new Date().toISOString(), patientId: id, text: `Settled, note ${i}` }, worker);
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('the data directory is held by one process at a time', () => {
    it('names its owner in a lock file: pid, host, start time and the URL it listens on', () => {
      const owner = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as Record<string, unknown>;
      expect(owner).toMatchObject({ pid: process.pid, host: hostname(), holder: 'the server', url: tandem.url });
      expect(Date.parse(String(owner.startedAt))).toBeLessThanOrEqual(Date.now());
    });

    it('a second Tandem on the same data directory is refused, naming the one that holds it', async () => {
      const second = startTandem(embedded(dataDir), silent, { holder: 'npm run seed' });
      await expect(second).rejects.toBeInstanceOf(DataDirLocked);
      await expect(second).rejects.toThrow(`Tandem is running on this data directory (pid ${process.pid}, ${tandem.url}, since `);
      await expect(second).rejects.toThrow('stop it first');
      // The first is untouched.
      expect((await fetch(`${tandem.url}/health`)).status).toBe(200);
    });

    it('npm run seed refuses while the server runs, and npm run projections:rebuild finds the server from the lock, not from PORT', async () => {
      const seed = await run(join(__dirname, '../src/seed.ts'), { TANDEM_DATA_DIR: dataDir, PORT: '1' }, '--patients', '1', '--days', '1');
      expect(seed.code).toBe(1);
      expect(seed.stderr).toContain(`Tandem is running on this data directory (pid ${process.pid}, ${tandem.url}`);
      const rebuild = await run(join(__dirname, '../../../scripts/projections-rebuild.ts'), { TANDEM_DATA_DIR: dataDir, PORT: '1' });
      expect(rebuild.stderr).toBe('');
      expect(rebuild.stdout).toContain(`Rebuilding read models at ${tandem.url}`);
      expect(rebuild.stdout).toMatch(/Generation \d+: \d+ events in/);
      expect(rebuild.code).toBe(0);
    }, 60_000);
  });

  describe('files are for the owner only', () => {
    it('keeps the data directory 0700 and every file in it 0600, the database files PGlite unpacks included', () => {
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      const entries = modes(dataDir);
      expect(entries.length).toBeGreaterThan(100);
      expect(entries.filter((e) => (e.mode & 0o077) !== 0).map((e) => `${e.path} ${e.mode.toString(8)}`)).toEqual([]);
      expect(entries.some((e) => e.path.includes('pg_wal'))).toBe(true);
    });
  });

  describe('/health', () => {
    it('without a token says only whether all is well and what is wrong: no version, no log positions', async () => {
      for (const headers of [{}, await auth('care-worker', 'cw-amira-hassan'), { authorization: 'Bearer not-a-token' }]) {
        const response = await fetch(`${tandem.url}/health`, { headers });
        expect(response.status).toBe(200);
        const body = (await response.json()) as Record<string, unknown>;
        expect(body).toEqual({ status: 'ok', services: expect.arrayContaining([{ service: 'projections', status: 'ok' }]) });
        expect(JSON.stringify(body)).not.toMatch(/version|position|checkpoint|head/);
      }
    });

    it('gives an operator (a system or auditor token) the version, the event store and each service in detail', async () => {
      for (const role of ['system', 'auditor'] as const) {
        const body = (await (await fetch(`${tandem.url}/health`, { headers: await auth(role) })).json()) as { version: string; eventStore: string; services: { service: string; details?: { projection?: { head: number } } }[] };
        expect(body).toMatchObject({ status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/), eventStore: 'pglite' });
        expect(body.services.find((s) => s.service === 'projections')?.details?.projection?.head).toBeGreaterThan(0);
      }
    });
  });

  describe('the API describes itself, and an unknown path is a 404', () => {
    it('answers /api and /api/docs without a token, pointing to the OpenAPI document', async () => {
      for (const path of ['/api', '/api/docs']) {
        const response = await fetch(`${tandem.url}${path}`);
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ openapi: '/openapi.json', fhir: { base: '/fhir' } });
      }
      expect((await fetch(`${tandem.url}/openapi.json`)).status).toBe(200);
    });

    it('answers a path no route serves with 404 problem+json, token or not; a real route still asks for one', async () => {
      for (const path of ['/api/nowhere', `/api/patients/${patientId}/nothing-here`, '/admin/nothing']) {
        for (const headers of [{}, await auth('system')]) {
          const response = await fetch(`${tandem.url}${path}`, { headers });
          expect(response.status).toBe(404);
          expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
        }
      }
      expect((await fetch(`${tandem.url}/api/worklist?careWorkerId=cw-amira-hassan`)).status).toBe(401);
      expect((await fetch(`${tandem.url}/api/audit/verify`)).status).toBe(401);
    });
  });

  describe('replays and rebuilds share the store and are bounded', () => {
    it('replays are bounded: beyond one running and three waiting, refused at once with 503 and Retry-After; /health keeps answering', async () => {
      const headers = await auth('auditor');
      const replay = () => fetch(`${tandem.url}/api/audit/streams/care-${patientId}?format=fhir`, { headers });
      const alone = (await (await replay()).json()) as { entry: unknown[] };
      expect(alone.entry.length).toBeGreaterThan(10);

      // Four long replays hold the bound (one running, three waiting), as a burst of them would.
      const { bulkhead } = (tandem.services.find((s) => s.name === 'audit') as unknown as { replayer: Replayer }).replayer;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const holding = [0, 1, 2, 3].map(() => bulkhead.run(() => gate));
      try {
        const refused = await replay();
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(((await refused.json()) as { detail: string }).detail).toContain('Too many replays are running at once');
        expect((await fetch(`${tandem.url}/health`)).status).toBe(200);
      } finally {
        release();
        await Promise.all(holding);
      }

      // Eight at once: each answered in full or refused, never a new database each.
      const answers = await Promise.all(Array.from({ length: 8 }, () => replay()));
      for (const r of answers) {
        expect([200, 503]).toContain(r.status);
        if (r.status === 200) expect(((await r.json()) as { entry: unknown[] }).entry).toEqual(alone.entry);
      }
      expect(answers.some((r) => r.status === 200)).toBe(true);
    }, 60_000);

    it('a replay as known at a time pages through the stream and shows only what was recorded by then', async () => {
      const headers = await auth('auditor');
      const before = await fetch(`${tandem.url}/api/audit/streams/care-${patientId}?format=fhir&asOf=2000-01-01T00:00:00Z`, { headers });
      expect(before.status).toBe(200);
      expect(((await before.json()) as { entry: unknown[] }).entry).toEqual([]);
      const missing = await fetch(`${tandem.url}/api/audit/streams/care-00000000-0000-4000-8000-000000000000?format=fhir`, { headers });
      expect(missing.status).toBe(404);
    });

    it('a rebuild takes no options: a body naming one is refused (400 naming it), nothing rebuilt', async () => {
      const headers = { ...(await auth('system')), 'content-type': 'application/json' };
      const generation = async () =>
        ((await (await fetch(`${tandem.url}/health`, { headers: await auth('system') })).json()) as { services: { service: string; details?: { projection?: { generation: number } } }[] }).services.find((s) => s.service === 'projections')!.details!.projection!.generation;
      const before = await generation();
      for (const [body, field] of [
        ['{"projection":"fhir"}', 'projection'],
        ['{"fromPosition": 100}', 'fromPosition'],
        ['[1]', '(body)'],
        ['{"x": ', '(body)'],
      ] as const) {
        const response = await fetch(`${tandem.url}/admin/projections/rebuild`, { method: 'POST', headers, body });
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ status: 400, errors: [{ field }] });
      }
      expect(await generation()).toBe(before);
      const empty = await fetch(`${tandem.url}/admin/projections/rebuild`, { method: 'POST', headers, body: '{}' });
      expect(empty.status).toBe(200);
      expect(await generation()).toBe(before + 1);
    }, 60_000);

    it('one rebuild at a time (another is 503 with Retry-After), and reads are answered while it runs', async () => {
      const headers = await auth('registered-manager', 'rm-ops-test');
      const { runner } = tandem.services.find((s) => s.name === 'projections') as unknown as { runner: { rebuilding: boolean } };
      // The database held, so the first rebuild is certainly still running when the second arrives.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const holding = tandem.storage.exclusive!(() => gate);
      const rebuild = fetch(`${tandem.url}/admin/projections/rebuild`, { method: 'POST', headers });
      // Once it has started (this process serves it, so it is seen here), a second one is sent.
      for (let turns = 0; !runner.rebuilding && turns < 100_000; turns++) await new Promise((resolve) => setImmediate(resolve));
      expect(runner.rebuilding).toBe(true);
      const again = await fetch(`${tandem.url}/admin/projections/rebuild`, { method: 'POST', headers });
      // Minted before the release: minting while the rebuild runs would let it finish first.
      const operator = await auth('system');
      release();
      await holding;
      // Released: the rebuild works through its batches, giving way between them, so a read sent now is answered first.
      const health = fetch(`${tandem.url}/health`, { headers: operator }).then(async (r) => {
        return (await r.json()) as { services: { service: string; details?: { projection?: { rebuilding: boolean } } }[] };
      });
      const refused = again;
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await refused.json()) as { detail: string }).detail).toContain('A rebuild is already running');
      // The rebuild gives way between its batches: the read's queries ran while it was still running, not after it.
      expect((await health).services.find((s) => s.service === 'projections')?.details?.projection?.rebuilding).toBe(true);
      const done = await rebuild;
      expect(done.status).toBe(200);
      expect(((await done.json()) as { events: number }).events).toBeGreaterThan(3 * REBUILD_BATCH);
      expect(runner.rebuilding).toBe(false);
    }, 60_000);
  });
});

describe('starting Tandem', () => {
  it('on a port in use says so in words, and lets go of the data directory it opened', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tandem-port-'));
    const { server, port } = await httpServer();
    try {
      const refused = startTandem(embedded(dataDir, { PORT: String(port) }), silent);
      await expect(refused).rejects.toBeInstanceOf(PortInUse);
      await expect(refused).rejects.toThrow(`port ${port} is already in use`);
      expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
      // The directory is free again: the next start on it works.
      const next = await startTandem(embedded(dataDir), silent);
      await next.stop();
      expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
    } finally {
      await close(server);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('takes over a stale lock (its process gone), saying so, and makes files left world-readable owner only', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tandem-stale-'));
    try {
      const first = await startTandem(embedded(dataDir), silent);
      await first.stop();
      // A crash: the lock left behind by a process that is gone, and files another tool made 0666.
      const pid = deadPid();
      writeFileSync(join(dataDir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), startedAt: '2026-12-01T08:00:00.000Z', holder: 'the server', url: 'http://127.0.0.1:8090' }));
      chmodSync(dataDir, 0o777);
      chmodSync(join(dataDir, 'PG_VERSION'), 0o666);
      const warnings: string[] = [];
      const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push((JSON.parse(line) as { msg: string }).msg) });
      const second = await startTandem(embedded(dataDir), logger);
      try {
        expect(warnings).toContainEqual(expect.stringContaining(`Took over a stale lock on ${dataDir} (pid ${pid}, the server, since 2026-12-01T08:00:00.000Z: that process is gone)`));
        expect(JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, url: second.url });
        expect(statSync(dataDir).mode & 0o777).toBe(0o700);
        expect(statSync(join(dataDir, 'PG_VERSION')).mode & 0o777).toBe(0o600);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it("with an identity provider whose keys cannot be fetched, /health is degraded and names it; once it answers, ok", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tandem-idp-'));
    // A port nothing listens on (taken, then freed), for the JWKS.
    const { server: placeholder, port } = await httpServer();
    await close(placeholder);
    const tandem = await startTandem(
      embedded(dataDir, { TANDEM_AUTH_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`, TANDEM_AUTH_ISSUER: 'https://idp.test', TANDEM_AUTH_AUDIENCE: 'tandem' }),
      silent,
    );
    let idp: Server | undefined;
    try {
      const down = await fetch(`${tandem.url}/health`);
      expect(down.status).toBe(503);
      const body = (await down.json()) as { status: string; problems: string[]; services: { service: string; status: string }[] };
      expect(body.status).toBe('degraded');
      expect(body.problems).toEqual([expect.stringContaining("the identity provider's JWKS is unreachable")]);
      expect(body.services).toContainEqual({ service: 'identity-provider', status: 'degraded' });

      idp = createHttpServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1' }] })));
      await new Promise<void>((resolve) => idp!.listen(port, '127.0.0.1', () => resolve()));
      const up = await fetch(`${tandem.url}/health`);
      expect(up.status).toBe(200);
      expect(await up.json()).toMatchObject({ status: 'ok' });
    } finally {
      await tandem.stop();
      if (idp) await close(idp);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the data directory lock', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-lock-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));
  const leave = (owner: Record<string, unknown>) => writeFileSync(join(dataDir, LOCK_FILE), JSON.stringify({ host: hostname(), startedAt: '2026-12-01T08:00:00.000Z', holder: 'the server', ...owner }));

  it('takes over a lock whose pid is alive but belongs to another process now (the pid was reused)', () => {
    leave({ pid: process.pid, processStart: '1' });
    expect(dataDirOwner(dataDir)).toBeUndefined();
    const lock = acquireDataDirLock(dataDir, 'npm run audit -- verify');
    expect(lock.tookOverFrom).toMatchObject({ pid: process.pid, processStart: '1' });
    lock.release();
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  });

  it('takes over a half-written lock; refuses one held on another host, saying how to clear it', () => {
    writeFileSync(join(dataDir, LOCK_FILE), '{"pid": 12');
    const lock = acquireDataDirLock(dataDir, 'the server');
    expect(lock.tookOverFrom).toBe('unreadable');
    lock.release();

    leave({ pid: 4242, host: 'care-home-server-2', url: 'http://10.0.0.2:8080' });
    expect(() => acquireDataDirLock(dataDir, 'the server')).toThrow(
      `Tandem is running on this data directory (pid 4242 on care-home-server-2, http://10.0.0.2:8080, since 2026-12-01T08:00:00.000Z): stop it first; if nothing runs on care-home-server-2 any more, remove ${join(dataDir, LOCK_FILE)}`,
    );
  });

  it('is released only by its holder: a lock taken over by another process is left alone', () => {
    const lock = acquireDataDirLock(dataDir, 'the server');
    leave({ pid: 4242, startedAt: '2026-12-02T08:00:00.000Z' });
    lock.release();
    expect(JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: 4242 });
  });
});
