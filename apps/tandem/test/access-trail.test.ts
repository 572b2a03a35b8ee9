import { PGlite } from '@electric-sql/pglite';
import { DevIssuer, createAccessControl, type Principal } from '@tandem/auth';
import { AccessRecorded, auditEventDefinitions, EventRegistry, type AccessRecordedData } from '@tandem/contracts';
import { pgliteBackend, validatedStore, type EventStore } from '@tandem/event-store';
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
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

  beforeAll(async () => {
    db = new PGlite();
    const real = validatedStore(await pgliteBackend({ db }), new EventRegistry([...auditEventDefinitions]));
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
    const issuer = await DevIssuer.create();
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
