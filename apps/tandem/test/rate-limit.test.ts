import { mintToken, type MintClaims } from '@tandem/auth';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ConfigError, loadConfig, startTandem, type RunningTandem } from '../src';

/**
 * The per-user rate limit over HTTP (docs/decisions/0009-hardening.md): each of the three places a
 * token is checked (the care record's JSON API and FHIR, the delegation API, the projections
 * service's admin route) answers a user over the limit with 429 and Retry-After, in its own format.
 */
describe('per-user rate limit over HTTP', () => {
  const LIMIT = 3;
  let dataDir: string;
  let tandem: RunningTandem;

  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const call = async (method: string, path: string, bearer: string, body?: unknown) => {
    const response = await fetch(`${tandem.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-rate-limit-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', TANDEM_RATE_LIMIT_PER_MINUTE: String(LIMIT) }), pino({ level: 'silent' }));
  }, 60_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads TANDEM_RATE_LIMIT_PER_MINUTE: 1200 by default, 0 for off, anything but a whole number stops start-up', () => {
    expect(loadConfig({}).TANDEM_RATE_LIMIT_PER_MINUTE).toBe(1200);
    expect(loadConfig({ TANDEM_RATE_LIMIT_PER_MINUTE: '0' }).TANDEM_RATE_LIMIT_PER_MINUTE).toBe(0);
    for (const wrong of ['lots', '-1', '1.5', '']) {
      expect(() => loadConfig({ TANDEM_RATE_LIMIT_PER_MINUTE: wrong })).toThrow(ConfigError);
      expect(() => loadConfig({ TANDEM_RATE_LIMIT_PER_MINUTE: wrong })).toThrow(/TANDEM_RATE_LIMIT_PER_MINUTE/);
    }
  });

  it('answers the FHIR API with an OperationOutcome (throttled) and Retry-After once a user is over', async () => {
    const gp = await token({ role: 'gp', user: 'gp-rate-1' });
    for (let i = 0; i < LIMIT; i++) expect((await call('GET', '/fhir/Organization', gp)).status).toBe(200);
    const refused = await call('GET', '/fhir/Organization', gp);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/application\/fhir\+json/);
    expect(refused.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'throttled' }] });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another user is unaffected.
    expect((await call('GET', '/fhir/Organization', await token({ role: 'gp', user: 'gp-rate-2' }))).status).toBe(200);
  });

  it('answers the JSON command and delegation APIs with problem+json "Too Many Requests", storing nothing', async () => {
    const nurse = await token({ role: 'district-nurse', user: 'nurse-rate-1' });
    for (let i = 0; i < LIMIT; i++) expect((await call('GET', '/api/frameworks', nurse)).status).toBe(200);
    const head = await tandem.storage.store.headPosition();
    const command = await call('POST', '/api/organisations', nurse, { idempotencyKey: 'rate-1', occurredAt: new Date().toISOString(), organisationId: 'org-rate', name: 'Rate Ltd', type: 'care-agency' });
    const delegation = await call('GET', '/api/frameworks', nurse);
    for (const refused of [command, delegation]) {
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(refused.body).toMatchObject({ status: 429, title: 'Too Many Requests' });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // Nothing but the access trail's records of the refusals.
    const appended = await tandem.storage.store.readAll({ fromPosition: head + 1 });
    expect(appended.filter((e) => e.type !== 'AccessRecorded')).toEqual([]);
  });

  it('answers the projections admin route with problem+json "Too Many Requests"', async () => {
    const manager = await token({ role: 'system', user: 'system-rate-1' });
    for (let i = 0; i < LIMIT; i++) expect((await call('GET', '/fhir/Organization', manager)).status).toBe(200);
    const refused = await call('POST', '/admin/projections/rebuild', manager);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ status: 429, title: 'Too Many Requests' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
