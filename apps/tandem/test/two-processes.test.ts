import { DevIssuer, type MintClaims } from '@tandem/auth';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { ConfigError, loadConfig } from '../src';

/**
 * Hazard O4 closed (H48): two Tandem server processes behind one address, as behind a proxy, on one
 * PostgreSQL database (fresh) and one Redis. What is written through one is read through the other;
 * a user's requests split across both meet the per-user limit at the limit, not at twice it (the
 * counters live in Redis, TANDEM_REDIS_URL); and the auditor sees every request of both, the
 * refusals too, in one access trail. Process A runs every service; B is a second record process.
 */
const postgresUrl = process.env.TANDEM_TEST_POSTGRES_URL;
const redisUrl = process.env.TANDEM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Redis answers PING? (asked from a child process, so the decision to skip is made before the suite.) */
const redisAnswers = (url: string): boolean => {
  const { hostname, port } = new URL(url);
  const probe = `const s=require('node:net').connect(${Number(port || 6379)},${JSON.stringify(hostname)},()=>s.write('PING\\r\\n'));s.setTimeout(2000,()=>process.exit(1));s.on('data',d=>process.exit(String(d).startsWith('+PONG')?0:1));s.on('error',()=>process.exit(1));`;
  return spawnSync(process.execPath, ['-e', probe], { timeout: 5000 }).status === 0;
};

const skipped = !postgresUrl
  ? 'TANDEM_TEST_POSTGRES_URL is not set (CI sets it to the local PostgreSQL)'
  : !redisAnswers(redisUrl)
    ? `Redis does not answer at ${redisUrl} (.ci/run starts redis-server; set TANDEM_TEST_REDIS_URL for another)`
    : undefined;
if (skipped) process.stdout.write(`two Tandem processes sharing PostgreSQL and Redis skipped: ${skipped}.\n`);
const describeShared = skipped ? describe.skip : describe;

const LIMIT = 6;

describeShared('two Tandem server processes sharing one PostgreSQL and one Redis', () => {
  const database = `t_two_processes_${process.pid}_${Date.now().toString(36)}`;
  const run = Date.now().toString(36);
  let issuer: DevIssuer;
  let jwks: Server;
  let a: { process: ChildProcess; url: string };
  let b: { process: ChildProcess; url: string };

  const admin = async <T>(work: (client: pg.Client) => Promise<T>, db?: string): Promise<T> => {
    const url = new URL(postgresUrl!);
    if (db) url.pathname = `/${db}`;
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };

  const start = async (services: string, env: Record<string, string>): Promise<{ process: ChildProcess; url: string }> => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../src/main.ts')], {
      cwd: join(__dirname, '..'),
      env: { ...process.env, NODE_OPTIONS: '', ...env, TANDEM_SERVICES: services },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`Tandem (${services}) exited with ${code} before listening`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'Tandem is listening') resolve(`http://127.0.0.1:${entry.port}`);
      });
    });
    return { process: child, url };
  };
  const stop = async (child: ChildProcess | undefined) => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };

  const token = (claims: MintClaims) => issuer.mint(claims);
  const call = async (base: string, method: string, path: string, bearer: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const occurredAt = new Date().toISOString();
  const organisation = (id: string) => ({ idempotencyKey: `two-${id}`, occurredAt, organisationId: id, name: `Care ${id}`, type: 'care-agency' });

  beforeAll(async () => {
    await admin((c) => c.query(`create database ${database}`));
    issuer = await DevIssuer.create({ issuer: 'urn:tandem:two-processes-idp', audience: 'tandem' });
    jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issuer.jwks())));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', () => resolve()));
    const url = new URL(postgresUrl!);
    url.pathname = `/${database}`;
    const env = {
      PORT: '0',
      LOG_LEVEL: 'info',
      TANDEM_EVENT_STORE: 'postgres',
      DATABASE_URL: url.toString(),
      TANDEM_AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
      TANDEM_AUTH_ISSUER: issuer.issuer,
      TANDEM_AUTH_AUDIENCE: issuer.audience,
      TANDEM_ID_SECRET: 'two-processes-test-id-secret-0123456789abcdef',
      TANDEM_REDIS_URL: redisUrl,
      TANDEM_RATE_LIMIT_PER_MINUTE: String(LIMIT),
      TANDEM_DEMO_DATA: 'false',
    };
    // A first, so the schema is made once; then B on the same database.
    a = await start('record,delegation,projections', env);
    b = await start('record', env);
  }, 180_000);

  afterAll(async () => {
    await stop(b?.process);
    await stop(a?.process);
    jwks?.close();
    if (postgresUrl) await admin((c) => c.query(`drop database if exists ${database} with (force)`));
  }, 60_000);

  it('reads through A what was written through B, and through B what was written through A', async () => {
    const writer = await token({ role: 'registered-manager', user: `manager-two-writer-${run}` });
    const reader = await token({ role: 'gp', user: `gp-two-reader-${run}` });
    const onB = await call(b.url, 'POST', '/api/organisations', writer, organisation(`org-b-${run}`));
    expect(onB.status).toBeLessThan(300);
    // A runs the projections: with B's position it answers once its read model has B's write.
    const readOnA = await call(a.url, 'GET', `/fhir/Organization/org-b-${run}`, reader, undefined, { 'x-tandem-min-position': String(onB.body.position) });
    expect({ status: readOnA.status, name: readOnA.body.name }).toEqual({ status: 200, name: `Care org-b-${run}` });

    const onA = await call(a.url, 'POST', '/api/organisations', writer, organisation(`org-a-${run}`));
    expect(onA.status).toBeLessThan(300);
    // B serves the same read models (the database A projects into): once A has it, B answers it too.
    await call(a.url, 'GET', `/fhir/Organization/org-a-${run}`, reader, undefined, { 'x-tandem-min-position': String(onA.body.position) });
    const readOnB = await call(b.url, 'GET', `/fhir/Organization/org-a-${run}`, reader);
    expect({ status: readOnB.status, name: readOnB.body.name }).toEqual({ status: 200, name: `Care org-a-${run}` });
    // The same command sent again through the other process is a replay: the log has it once.
    const again = await call(b.url, 'POST', '/api/organisations', writer, organisation(`org-a-${run}`));
    expect(again.body).toMatchObject({ replayed: true });
  });

  it('meets a user’s limit at the limit when the requests are split across A and B (not at twice it)', async () => {
    const gp = await token({ role: 'gp', user: `gp-two-limit-${run}` });
    const statuses: { via: string; status: number }[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      const via = i % 2 === 0 ? 'A' : 'B';
      statuses.push({ via, status: (await call(via === 'A' ? a.url : b.url, 'GET', '/fhir/Organization', gp)).status });
    }
    expect(statuses.map((s) => s.status)).toEqual([...Array<number>(LIMIT).fill(200), 429, 429]);
    // Both processes refuse once the shared count is over: the last two went one to each.
    expect(statuses.slice(LIMIT).map((s) => s.via)).toEqual(['A', 'B']);
    // Another user still has the whole limit.
    expect((await call(b.url, 'GET', '/fhir/Organization', await token({ role: 'gp', user: `gp-two-other-${run}` }))).status).toBe(200);
  });

  it('keeps one access trail for both: the auditor sees every request of the user, through A and through B, the refusals too', async () => {
    // B stops (writing what its trail still holds), then A answers the auditor from the one log.
    await stop(b.process);
    const head = await admin(async (c) => Number((await c.query<{ head: string }>('select max(position) as head from tandem_events')).rows[0]!.head), database);
    const auditor = await token({ role: 'auditor', user: `auditor-two-${run}` });
    const trail = await call(a.url, 'GET', `/fhir/AuditEvent?agent=gp-two-limit-${run}&_count=50`, auditor, undefined, { 'x-tandem-min-position': String(head) });
    expect(trail.status).toBe(200);
    const events = ((trail.body.entry ?? []) as { resource: { outcome?: string } }[]).map((e) => e.resource);
    expect(events).toHaveLength(LIMIT + 2);
    expect(events.filter((e) => e.outcome !== '0')).toHaveLength(2);
  });
});

describe('TANDEM_REDIS_URL', () => {
  const server = { TANDEM_EVENT_STORE: 'postgres', DATABASE_URL: 'postgres://x@localhost/db', TANDEM_AUTH_JWKS_URL: 'https://idp.example/jwks', TANDEM_AUTH_ISSUER: 'https://idp.example', TANDEM_AUTH_AUDIENCE: 'tandem', TANDEM_ID_SECRET: 'x'.repeat(32) };
  it('is off by default, a redis:// URL in the server mode, and anything else stops start-up naming it', () => {
    expect(loadConfig(server).TANDEM_REDIS_URL).toBeUndefined();
    expect(loadConfig({ ...server, TANDEM_REDIS_URL: 'redis://127.0.0.1:6379' }).TANDEM_REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(() => loadConfig({ ...server, TANDEM_REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(/TANDEM_REDIS_URL: must be a redis/);
    // The embedded mode is one process: its counters stay in its memory.
    expect(() => loadConfig({ TANDEM_REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(ConfigError);
    expect(() => loadConfig({ TANDEM_REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/TANDEM_REDIS_URL: is only used in the server mode/);
  });
});
