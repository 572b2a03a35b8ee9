import { mintToken } from '@tandem/auth';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';

describe('Tandem on its embedded default', () => {
  let dataDir: string;
  let tandem: RunningTandem;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-app-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers GET /health with status, version, the event store mode and each service (details for an operator)', async () => {
    const response = await fetch(`${tandem.url}/health`, { headers: { authorization: `Bearer ${await mintToken({ role: 'system', user: 'ops-1' }, { dataDir })}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { status: string; version: string; eventStore: string; services: { service: string }[] };
    expect(body).toMatchObject({ status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/), eventStore: 'pglite' });
    expect(body.services.map((s) => s.service).sort()).toEqual(['audit', 'bulk-export', 'capacity', 'delegation', 'indicators', 'live', 'projections', 'record', 'subscriptions']);
  });

  it('serves an OpenAPI document generated from the command schemas', async () => {
    const doc = (await (await fetch(`${tandem.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, { post: { requestBody: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } } }> };
    expect(doc.openapi).toMatch(/^3\./);
    const vitals = doc.paths['/api/patients/{patientId}/vital-signs']!.post.requestBody.content['application/json']!.schema;
    expect(Object.keys(vitals.properties!)).toEqual(expect.arrayContaining(['idempotencyKey', 'occurredAt', 'spo2', 'temperatureC']));
    const insulin = doc.paths['/api/patients/{patientId}/insulin-administrations']!.post.requestBody.content['application/json']!.schema;
    expect(JSON.stringify(insulin)).toContain('"const":"units"');
  });

  it('refuses a command without a bearer token (before reading the body), and malformed JSON, as problem+json', async () => {
    const anonymous = await fetch(`${tandem.url}/api/patients`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"nhsNumber": ' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(anonymous.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const malformed = await fetch(`${tandem.url}/api/patients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await mintToken({ role: 'district-nurse', user: 'nurse-1' }, { dataDir })}` },
      body: '{"nhsNumber": ',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await malformed.json()).toMatchObject({ status: 400, errors: [{ field: '(body)' }] });
    expect(await tandem.storage.store.headPosition()).toBe(0);
  });

  it('answers an unknown route with problem+json', async () => {
    const response = await fetch(`${tandem.url}/nowhere`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status: 404, title: 'Not Found' });
  });
});

describe('configuration from the environment', () => {
  it('uses the embedded defaults', () => {
    expect(loadConfig({})).toMatchObject({ PORT: 8080, TANDEM_EVENT_STORE: 'pglite', TANDEM_DATA_DIR: expect.stringMatching(/\/\.tandem-data$/) });
  });

  it('takes an identity provider for the server mode', () => {
    const auth = { TANDEM_AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json', TANDEM_AUTH_ISSUER: 'https://idp.example', TANDEM_AUTH_AUDIENCE: 'tandem' };
    const idSecret = { TANDEM_ID_SECRET: 'a-deployment-id-secret-of-32-characters' };
    expect(loadConfig({ TANDEM_EVENT_STORE: 'postgres', DATABASE_URL: 'postgres://x@localhost/db', ...auth, ...idSecret })).toMatchObject({ ...auth, ...idSecret });
    // Patient ids are keyed with it: every record process outside the embedded mode needs the same one (the others do not).
    expect(() => loadConfig({ TANDEM_EVENT_STORE: 'postgres', DATABASE_URL: 'postgres://x@localhost/db', ...auth })).toThrow('TANDEM_ID_SECRET');
    expect(() => loadConfig({ TANDEM_EVENT_STORE: 'postgres', DATABASE_URL: 'postgres://x@localhost/db', ...auth, TANDEM_ID_SECRET: 'too short' })).toThrow('TANDEM_ID_SECRET');
    expect(loadConfig({ TANDEM_EVENT_STORE: 'postgres', DATABASE_URL: 'postgres://x@localhost/db', ...auth, TANDEM_SERVICES: 'projections' }).TANDEM_ID_SECRET).toBeUndefined();
  });

  it.each([
    [{ TANDEM_EVENT_STORE: 'mongodb' }, 'TANDEM_EVENT_STORE'],
    [{ PORT: 'eighty' }, 'PORT'],
    [{ TANDEM_EVENT_STORE: 'postgres' }, 'DATABASE_URL'],
    [{ TANDEM_EVENT_STORE: 'eventstoredb', DATABASE_URL: 'postgres://x@localhost/db' }, 'EVENTSTORE_CONNECTION_STRING'],
    [{ TANDEM_SERVICES: 'record,billing' }, 'TANDEM_SERVICES'],
    [{ TANDEM_EVENT_STORE: 'postgres', DATABASE_URL: 'postgres://x@localhost/db' }, 'TANDEM_AUTH_JWKS_URL'],
    [{ TANDEM_EVENT_STORE: 'postgres', DATABASE_URL: 'postgres://x@localhost/db', TANDEM_AUTH_JWKS_URL: 'https://idp.example/jwks' }, 'TANDEM_AUTH_ISSUER'],
    [{ TANDEM_AUTH_JWKS_URL: 'https://idp.example/jwks', TANDEM_AUTH_ISSUER: 'https://idp.example' }, 'TANDEM_AUTH_AUDIENCE'],
    [{ TANDEM_AUTH_JWKS_URL: 'not a url', TANDEM_AUTH_ISSUER: 'i', TANDEM_AUTH_AUDIENCE: 'a' }, 'TANDEM_AUTH_JWKS_URL'],
  ])('refuses %j naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(variable);
  });

  it('stops the process at start-up with a message naming the wrong variable', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '../src/main.ts')], {
      env: { ...process.env, TANDEM_EVENT_STORE: 'mongodb' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('TANDEM_EVENT_STORE');
  });
});
