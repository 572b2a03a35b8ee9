import { PGlite } from '@electric-sql/pglite';
import { DevIssuer, createAccessControl, mintToken, type Principal } from '@tandem/auth';
import { AccessRecorded, auditEventDefinitions, EventRegistry, type AccessRecordedData } from '@tandem/contracts';
import { pgliteBackend, validatedStore, type EventStore } from '@tandem/event-store';
import express from 'express';
import type { AuditEvent } from 'fhir/r4';
import { createPrivateKey, sign, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { accessRecord, describeRequest } from '../src/audit/access-record';
import { AccessTrail } from '../src/audit/access-trail';

describe('what an access record says about a request', () => {
  it.each([
    ['GET', '/fhir/Patient/p-1', { interaction: 'read', resourceType: 'Patient', resourceId: 'p-1' }],
    ['GET', '/fhir/Observation/o-1/_history/2', { interaction: 'vread', resourceType: 'Observation', resourceId: 'o-1' }],
    ['GET', '/fhir/Observation/o-1/_history', { interaction: 'history-instance', resourceType: 'Observation', resourceId: 'o-1' }],
    ['GET', '/fhir/Observation/_history', { interaction: 'history-type', resourceType: 'Observation' }],
    ['GET', '/fhir/Patient/p-1/$everything', { interaction: 'operation', resourceType: 'Patient', resourceId: 'p-1' }],
    ['GET', '/fhir/Observation', { interaction: 'search-type', resourceType: 'Observation' }],
    ['POST', '/fhir/Observation', { interaction: 'create', resourceType: 'Observation' }],
    ['PUT', '/fhir/Patient/p-1', { interaction: 'update', resourceType: 'Patient', resourceId: 'p-1' }],
    ['POST', '/api/patients/p-1/vital-signs', { interaction: 'command' }],
    ['GET', '/api/worklist', { interaction: 'read' }],
    // Hostile ids are not recorded as ids (the path itself still is).
    ['GET', "/fhir/Patient/..%2F..%2Fetc%2Fpasswd", { interaction: 'read', resourceType: 'Patient' }],
    ['GET', "/fhir/Patient/' OR 1=1 --", { interaction: 'read', resourceType: 'Patient' }],
  ])('%s %s', (method, path, expected) => {
    expect(describeRequest(method, path)).toEqual(expected);
  });

  const principal: Principal = { actor: { id: 'gp-1', role: 'gp' }, scopes: [], scope: '' };
  const seen = { accessId: '6f1d7c7e-1c1a-4d7e-9a5e-2f4b8e0b1c2d', at: new Date('2026-11-30T10:00:00Z'), method: 'GET', address: '10.0.0.1', decisions: [], disclosed: [] };

  it('keeps a hostile request storable: every field bounded, the record still valid', () => {
    const record = accessRecord({ ...seen, url: `/fhir/Observation?${'code=<script>alert(1)</script>&'.repeat(500)}`, userAgent: 'x'.repeat(5000), principal, status: 400 });
    expect(AccessRecorded.schema.safeParse(record).success).toBe(true);
    expect(record.query?.length).toBe(4000);
    expect(record).toMatchObject({ outcome: 'refused', agent: principal.actor, purposeOfUse: 'TREAT' });
  });

  it('names the people whose data a search carried, and never keeps a credential sent in the query', () => {
    const record = accessRecord({ ...seen, url: '/fhir/Observation?code=8867-4&access_token=eyJhbGciOi.secret&Token=abc', principal, disclosed: ['p-1', 'p-2', 'p-1', '../etc'], status: 200 });
    expect(record.patientIds).toEqual(['p-1', 'p-2']);
    expect(record.query).toBe('code=8867-4&access_token=REDACTED&Token=REDACTED');
  });

  it('records an unverified attempt without an agent or purpose', () => {
    const record = accessRecord({ ...seen, url: '/fhir/Patient/p-1', status: 401 });
    expect(record.agent).toBeUndefined();
    expect(record.purposeOfUse).toBeUndefined();
    expect(record.outcome).toBe('unauthenticated');
  });
});

/**
 * The trail over HTTP with a real PGlite event store. The store is made to refuse appends for a
 * while (a fault, as a full disk or a lost connection would be): the trail must keep the records,
 * refuse new requests once its backlog is full, and write everything when the store is back.
 */
describe('the access trail under a failing store', () => {
  let db: PGlite;
  let store: EventStore;
  let server: Server;
  let url: string;
  let trail: AccessTrail;
  let failing = false;
  let token: string;
  let issuer: DevIssuer;
  /** The PGlite store itself: PostgreSQL's own refusals, no stand-in. */
  let realStore: EventStore;

  beforeAll(async () => {
    db = new PGlite();
    const real = validatedStore(await pgliteBackend({ db }), new EventRegistry([...auditEventDefinitions]));
    realStore = real;
    store = {
      ...real,
      mode: real.mode,
      append: (stream, events, options) => {
        if (failing) return Promise.reject(new Error('disk full'));
        // As PostgreSQL refuses a NUL in jsonb: this store refuses a record whose path says "poison".
        if (events.some((e) => JSON.stringify(e.data).includes('poison'))) return Promise.reject(Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' }));
        return real.append(stream, events, options);
      },
      readStream: (stream, options) => real.readStream(stream, options),
      readAll: (options) => real.readAll(options),
      subscribeToAll: (options) => real.subscribeToAll(options),
      headPosition: () => real.headPosition(),
      close: () => real.close(),
    };
    trail = new AccessTrail({ store, logger: pino({ level: 'silent' }), maxBacklog: 3, flushEveryMs: 60_000 });
    issuer = await DevIssuer.create();
    token = await issuer.mint({ role: 'gp', user: 'gp-1' });
    const control = createAccessControl({ verifier: issuer.verifier(), onAccess: trail.onAccess, onAuthenticated: trail.onAuthenticated });
    const app = express();
    app.use(trail.middleware());
    app.get('/fhir/Patient/:id', (req, res, next) => {
      control.authenticate(req.get('authorization')).then((principal) => {
        const decision = control.authorise({ principal, action: 'fhir.read', needs: [], target: { kind: 'none' } });
        res.status(decision.allowed ? 200 : 403).json({});
      }, next);
    });
    server = await new Promise((resolve) => {
      const s = app.listen(0, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 30_000);

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await trail.stop();
    await db.close();
  });

  const get = (id: string) => fetch(`${url}/fhir/Patient/${id}`, { headers: { authorization: `Bearer ${token}` } });
  const stored = async () => (await store.readAll()).map((e) => e.data as AccessRecordedData);

  it('given a store that refuses appends, keeps the records and refuses access once it cannot account for more', async () => {
    failing = true;
    for (const id of ['a', 'b', 'c']) expect((await get(id)).status).toBe(200);
    await expect(trail.flush()).rejects.toThrow('disk full');
    expect(trail.backlog).toBe(3);
    const refused = await get('d');
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ title: 'Service Unavailable' });
    expect(await stored()).toEqual([]);
  });

  it('when the store is back, writes every record once, with who read what', async () => {
    failing = false;
    await trail.flush();
    expect(trail.backlog).toBe(0);
    const records = await stored();
    expect(records.map((r) => [r.path, r.agent?.id, r.outcome])).toEqual([
      ['/fhir/Patient/a', 'gp-1', 'success'],
      ['/fhir/Patient/b', 'gp-1', 'success'],
      ['/fhir/Patient/c', 'gp-1', 'success'],
    ]);
    expect((await get('e')).status).toBe(200);
  });

  it('keeps one record the store refuses from holding back the rest: it is stored without what the request carried', async () => {
    await trail.flush();
    const before = (await stored()).length;
    for (const id of ['f', 'poison', 'g']) expect((await get(id)).status).toBe(200);
    await trail.flush();
    expect(trail.backlog).toBe(0);
    const records = (await stored()).slice(before);
    expect(records.map((r) => [r.path, r.agent?.id, r.outcome])).toEqual([
      ['/fhir/Patient/f', 'gp-1', 'success'],
      ['/', 'gp-1', 'success'],
      ['/fhir/Patient/g', 'gp-1', 'success'],
    ]);
  });

  it('finds a poisoned record in a large batch by halving it: every other record is stored whole, in order', async () => {
    // A trail of its own, with room for a batch of 40.
    const large = new AccessTrail({ store, logger: pino({ level: 'silent' }), flushEveryMs: 60_000 });
    const control = createAccessControl({ verifier: issuer.verifier(), onAccess: large.onAccess, onAuthenticated: large.onAuthenticated });
    const app = express();
    app.use(large.middleware());
    app.get('/fhir/Patient/:id', (req, res, next) => {
      control.authenticate(req.get('authorization')).then(() => res.status(200).json({}), next);
    });
    const largeServer: Server = await new Promise((resolve) => {
      const s = app.listen(0, () => resolve(s));
    });
    try {
      const largeUrl = `http://127.0.0.1:${(largeServer.address() as AddressInfo).port}`;
      const before = (await stored()).length;
      const ids = Array.from({ length: 40 }, (_, i) => (i === 29 ? 'poison' : `h${i}`));
      for (const id of ids) expect((await fetch(`${largeUrl}/fhir/Patient/${id}`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      await large.flush();
      expect(large.backlog).toBe(0);
      const records = (await stored()).slice(before);
      expect(records.map((r) => r.path)).toEqual(ids.map((id) => (id === 'poison' ? '/' : `/fhir/Patient/${id}`)));
    } finally {
      await new Promise((resolve) => largeServer.close(resolve));
      await large.stop();
    }
  });

  it('sets aside a record whose essentials the store refuses too (who asked is what poisons it), and stores the records behind it', async () => {
    await trail.flush();
    const before = (await stored()).length;
    const poisoner = await issuer.mint({ role: 'gp', user: 'gp-poison' });
    expect((await get('i')).status).toBe(200);
    expect((await fetch(`${url}/fhir/Patient/j`, { headers: { authorization: `Bearer ${poisoner}` } })).status).toBe(200);
    expect((await get('k')).status).toBe(200);
    await trail.flush();
    expect(trail.backlog).toBe(0);
    expect(trail.setAsideCount).toBe(1);
    expect((await stored()).slice(before).map((r) => [r.path, r.agent?.id])).toEqual([
      ['/fhir/Patient/i', 'gp-1'],
      ['/fhir/Patient/k', 'gp-1'],
    ]);
    // And the trail goes on.
    expect((await get('l')).status).toBe(200);
    await trail.flush();
    expect((await stored()).at(-1)?.path).toBe('/fhir/Patient/l');
  });

  it('stores a record whose agent the database cannot store (a NUL in the user id, a lone surrogate in the organisation) with the agent made storable', async () => {
    await trail.flush();
    const before = (await stored()).length;
    // As if a principal had got past the claims check: the trail's own last line of defence.
    const odd: Principal = { actor: { id: 'cw-amira-hassan\u0000x', role: 'care-worker', organisation: 'org-kindly-care\ud800' }, scopes: [], scope: '' };
    const record = accessRecord({ accessId: '0b7f3c2e-5d4a-4f6b-8c9d-1e2f3a4b5c6d', at: new Date(), method: 'GET', url: '/fhir/Patient/m', address: '127.0.0.1', principal: odd, decisions: [], disclosed: [], status: 200 });
    const appended = await realStore.append('audit-2026-11-30', [{ id: record.accessId, type: 'AccessRecorded', data: record, metadata: { actor: record.agent!, correlationId: record.accessId, occurredAt: record.at } }], { expectedRevision: 'any' });
    expect(appended.position).toBeGreaterThan(0);
    expect((await stored()).slice(before).map((r) => r.agent)).toEqual([{ id: 'cw-amira-hassan\uFFFDx', role: 'care-worker', organisation: 'org-kindly-care\uFFFD' }]);
  });

  it('records the first 20 unverified refusals from an address in a minute one by one, and the rest as one counted record', async () => {
    let clock = new Date('2026-11-30T10:00:00Z');
    const flooded = new AccessTrail({ store, logger: pino({ level: 'silent' }), now: () => clock, flushEveryMs: 60_000 });
    const app = express();
    app.use(flooded.middleware());
    app.get('/fhir/Patient/:id', (_req, res) => {
      res.status(401).json({});
    });
    const floodServer: Server = await new Promise((resolve) => {
      const s = app.listen(0, () => resolve(s));
    });
    try {
      const floodUrl = `http://127.0.0.1:${(floodServer.address() as AddressInfo).port}`;
      const before = (await stored()).length;
      for (let i = 0; i < 25; i++) expect((await fetch(`${floodUrl}/fhir/Patient/flood-${i}`)).status).toBe(401);
      clock = new Date('2026-11-30T10:01:01Z');
      await flooded.stop();
      const records = (await stored()).slice(before);
      expect(records).toHaveLength(21);
      expect(records.slice(0, 20).every((r) => r.outcome === 'unauthenticated' && r.agent === undefined)).toBe(true);
      expect(records[20]!.reason).toMatch(/^5 further unverified requests from this address in the minute from 2026-11-30T10:00:00.000Z/);
    } finally {
      await new Promise((resolve) => floodServer.close(resolve));
    }
  });
});

/**
 * Over a real embedded Tandem (issue 16, item 4): a token signed by Tandem's own development key
 * whose `sub` holds a NUL, or whose `org` holds a lone surrogate, used to make every later access
 * record unstorable: the trail stopped, AuditEvent search answered 500 and the records were lost at
 * a restart. Its claims are now refused at authentication (401 naming the claim), and the trail
 * goes on: every later request is recorded and an auditor can search them, before and after a restart.
 */
describe('a validly signed token with an odd claim, over a real Tandem', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  const config = () => loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', LOG_LEVEL: 'silent' });

  /** Signed with the embedded mode's own key (dev-issuer.json), so the signature verifies. */
  const signed = (claims: Record<string, unknown>) => {
    const stored = JSON.parse(readFileSync(join(dataDir, 'dev-issuer.json'), 'utf8')) as { issuer: string; audience: string; kid: string; privateJwk: JsonWebKey };
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const input = `${b64({ alg: 'ES256', kid: stored.kid, typ: 'JWT' })}.${b64({ iss: stored.issuer, aud: stored.audience, iat: now, exp: now + 600, role: 'care-worker', scope: 'user/*.cruds', ...claims })}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: createPrivateKey({ key: stored.privateJwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
  const get = async (path: string, token: string) => {
    const response = await fetch(`${tandem.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: (await response.json()) as { resourceType?: string; total?: number; entry?: { resource: AuditEvent }[]; issue?: { diagnostics?: string }[] } };
  };
  const accessRecords = async () => (await tandem.storage.store.readAll({ maxCount: 10_000 })).filter((e) => e.type === 'AccessRecorded').map((e) => e.data as AccessRecordedData);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-odd-claims-'));
    tandem = await startTandem(config(), pino({ level: 'silent' }));
  }, 60_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses the odd claims with 401 naming the claim, records every later request, and answers AuditEvent search with 200, before and after a restart', async () => {
    const nul = await get('/fhir/Organization', signed({ sub: 'cw-amira-hassan\u0000x', org: 'org-kindly-care' }));
    expect(nul.status).toBe(401);
    expect(nul.body.issue?.[0]?.diagnostics).toMatch(/token's sub claim is not acceptable/);
    const surrogate = await get('/fhir/Organization', signed({ sub: 'cw-amira-hassan', org: 'org-kindly-care\ud800' }));
    expect(surrogate.status).toBe(401);
    expect(surrogate.body.issue?.[0]?.diagnostics).toMatch(/token's org claim is not acceptable/);

    const gp = await mintToken({ role: 'gp', user: 'gp-after-the-odd-token' }, { dataDir });
    for (let i = 0; i < 5; i++) expect((await get(`/fhir/Organization?_count=${i + 1}`, gp)).status).toBe(200);
    const auditor = await mintToken({ role: 'auditor', user: 'auditor-odd-claims' }, { dataDir });
    const search = await get('/fhir/AuditEvent?_count=100', auditor);
    expect(search.status).toBe(200);
    const altIds = (search.body.entry ?? []).map((e) => e.resource.agent[0]?.altId);
    expect(altIds.filter((id) => id === 'gp-after-the-odd-token')).toHaveLength(5);
    // The search's own record is buffered after its answer; once written, nothing is left behind.
    await tandem.accessTrail.flush();
    expect(tandem.accessTrail.backlog).toBe(0);

    const records = await accessRecords();
    expect(records.filter((r) => r.outcome === 'unauthenticated' && r.path === '/fhir/Organization')).toHaveLength(2);
    expect(records.filter((r) => r.agent?.id === 'gp-after-the-odd-token')).toHaveLength(5);

    // Nothing was lost: after a restart the same records are there, and the trail still writes.
    await tandem.stop();
    tandem = await startTandem(config(), pino({ level: 'silent' }));
    expect((await accessRecords()).filter((r) => r.agent?.id === 'gp-after-the-odd-token')).toHaveLength(5);
    const again = await get('/fhir/AuditEvent?altid=gp-after-the-odd-token&_count=100', await mintToken({ role: 'auditor', user: 'auditor-odd-claims' }, { dataDir }));
    expect(again.status).toBe(200);
    expect(again.body.total).toBe(5);
  }, 60_000);

  it("finds accesses by the role the token carried (the inspector's trail filter, docs/decisions/0036): the GP's five reads, none of them an auditor's", async () => {
    const auditor = await mintToken({ role: 'auditor', user: 'auditor-odd-claims' }, { dataDir });
    const gps = await get('/fhir/AuditEvent?role=gp&_count=100', auditor);
    expect(gps.status).toBe(200);
    expect((gps.body.entry ?? []).map((e) => e.resource.agent[0]?.altId)).toEqual(Array(5).fill('gp-after-the-odd-token'));
    const auditors = await get('/fhir/AuditEvent?role=auditor&altid=gp-after-the-odd-token', auditor);
    expect(auditors.body.total).toBe(0);
    // With the code system named, as a FHIR client may send it.
    const coded = await get(`/fhir/AuditEvent?role=${encodeURIComponent('https://tandem.nhs.example/fhir/CodeSystem/user-role|gp')}&_count=100`, auditor);
    expect(coded.status).toBe(200);
    expect(coded.body.entry).toHaveLength(5);
  });
});
