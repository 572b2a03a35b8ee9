import { DevIssuer, mintToken, type Decision, type MintClaims } from '@tandem/auth';
import type { DelegationService } from '@tandem/delegation';
import type { createRecordService } from '@tandem/record';
import Client from 'fhir-kit-client';
import type { AuditEvent, Bundle, Observation, OperationOutcome, Patient, Provenance } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { recordChangesSince } from './record-changes';
import { expectValidFhir } from '@tandem/fhir-validation';

/**
 * Who may see and do what, over HTTP on the embedded default: bearer tokens from the development
 * issuer, the policy deciding from each person's care team, denials that store nothing.
 */
describe('access to the record', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientIds: string[];
  const decisions: Decision[] = [];
  const logLines: string[] = [];

  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const amira = () => token({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId });
  const gp = () => token({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration });
  const auditor = () => token({ role: 'auditor', user: 'auditor-cqc-1' });
  /** A district nurse of another team: nobody in the demo is on her caseload. */
  const otherNurse = () => token({ role: 'district-nurse', user: 'nurse-zoe-adams', org: 'org-south-district-nursing', registration: { system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '99Z9999Z' } });

  const call = async (method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
    const response = await fetch(`${tandem.url}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined ? { 'content-type': path.startsWith('/fhir') ? 'application/fhir+json' : 'application/json' } : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  };

  const vitals = (key: string) => ({
    idempotencyKey: key,
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    respirationRate: 16,
    spo2: 97,
    airOrOxygen: 'air',
    systolic: 124,
    diastolic: 76,
    pulse: 72,
    consciousness: 'A',
    temperatureC: 36.8,
  });

  const pulse = (patientId: string, value: number): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: new Date(Date.now() - 5 * 60_000).toISOString(),
    valueQuantity: { value, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
  });

  /** Runs a request that must be refused and proves nothing was stored. */
  const refused = async (send: () => ReturnType<typeof call>) => {
    const head = await tandem.storage.store.headPosition();
    const reply = await send();
    expect(await recordChangesSince(tandem.storage.store, head)).toEqual([]);
    return reply;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-access-'));
    const logs = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'info' }, logs), {
      onAccess: (decision) => decisions.push(decision),
    });
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    ({ patientIds } = await seedDemoData(record.care, { patients: 4, days: 2, now: new Date() }));
    // The rules' reactions to the demo (escalations) are appended before any refusal is checked to store nothing.
    await (tandem.services.find((s) => s.name === 'delegation') as DelegationService).processor.settle(60_000);
    // Wait for the projection to hold the demo.
    await call('GET', `/fhir/Patient/${patientIds[0]}`, { token: await auditor(), headers: { 'x-tandem-min-position': String(await tandem.storage.store.headPosition()) } });
  }, 60_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('identity', () => {
    it('keeps /health and /fhir/metadata public', async () => {
      expect((await call('GET', '/health')).status).toBe(200);
      const metadata = await call('GET', '/fhir/metadata');
      expect(metadata.body.resourceType).toBe('CapabilityStatement');
      expect(JSON.stringify(metadata.body)).toContain('SMART-on-FHIR');
      expectValidFhir(metadata.body as never);
    });

    it('answers no token with 401: problem+json on the JSON API, an OperationOutcome on FHIR', async () => {
      const api = await refused(async () => call('POST', `/api/patients/${patientIds[0]}/vital-signs`, { body: vitals('no-token') }));
      expect(api.status).toBe(401);
      expect(api.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(api.headers.get('www-authenticate')).toBe('Bearer realm="tandem"');
      const fhir = await call('GET', `/fhir/Patient/${patientIds[0]}`);
      expect(fhir.status).toBe(401);
      expect(fhir.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'login' }] });
      expect((await call('GET', '/fhir/Observation')).status).toBe(401);
      expect((await call('POST', '/admin/projections/rebuild')).status).toBe(401);
    });

    it('answers forged tokens with 401: alg "none", another key, a changed payload', async () => {
      const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: 'urn:tandem:dev-issuer', aud: 'tandem', sub: 'intruder', role: 'auditor', scope: 'user/*.cruds', iat: now, exp: now + 600 };
      const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
      const otherKey = await (await DevIssuer.create()).mint({ role: 'gp', user: DEMO.gp.practitionerId });
      const [header, , signature] = (await amira()).split('.');
      const promoted = `${header}.${b64({ ...claims, sub: DEMO.careWorkers[0]!.practitionerId })}.${signature}`;
      for (const forged of [unsigned, otherKey, promoted]) {
        const api = await refused(async () => call('POST', `/api/patients/${patientIds[1]}/vital-signs`, { token: forged, body: vitals(`forged-${forged.length}`) }));
        expect(api.status).toBe(401);
        expect(api.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
        const fhir = await call('GET', `/fhir/Patient/${patientIds[1]}`, { token: forged });
        expect(fhir.status).toBe(401);
        expect(fhir.body.resourceType).toBe('OperationOutcome');
      }
    });

    it('records the actor from the token, never from the body', async () => {
      const recorded = await call('POST', `/api/patients/${patientIds[0]}/notes`, {
        token: await amira(),
        body: { idempotencyKey: 'note-actor-1', occurredAt: new Date().toISOString(), text: 'Ate well at lunch', actor: { id: 'gp-david-shah', role: 'gp' } },
      });
      // A body that names its own actor is refused as an unknown field; without it, the token's actor is recorded.
      expect(recorded.status).toBe(400);
      const ok = await call('POST', `/api/patients/${patientIds[0]}/notes`, { token: await amira(), body: { idempotencyKey: 'note-actor-2', occurredAt: new Date().toISOString(), text: 'Ate well at lunch' } });
      expect(ok.status).toBe(201);
      const stored = (await tandem.storage.store.readStream(`care-${patientIds[0]}`)).find((e) => e.id === (ok.body.eventIds as string[])[0]);
      expect(stored!.metadata.actor).toEqual({ id: DEMO.careWorkers[0]!.practitionerId, role: 'care-worker', organisation: DEMO.careAgency.organisationId });
    });
  });

  describe('the service log', () => {
    it('holds no clinical data: not a note, not a search term, not a token (at info level, as run)', async () => {
      const text = 'Distinctive-note: bruise on the left shin after a fall';
      const token = await amira();
      expect((await call('POST', `/api/patients/${patientIds[0]}/notes`, { token, body: { idempotencyKey: 'log-note-1', occurredAt: new Date().toISOString(), text } })).status).toBe(201);
      expect((await call('GET', `/fhir/Observation?patient=${patientIds[0]}&code=distinctive-search-term`, { token })).status).toBe(200);
      expect((await call('POST', `/api/patients/${patientIds[0]}/vital-signs`, { token, body: { ...vitals('log-bad'), spo2: 'distinctive-bad-value' } })).status).toBe(400);
      const log = logLines.join('\n');
      expect(log).toContain('"path":"/fhir/Observation"');
      for (const secret of ['Distinctive-note', 'bruise', 'distinctive-search-term', 'distinctive-bad-value', token.slice(-20)]) expect(log).not.toContain(secret);
    });
  });

  describe('a care worker', () => {
    it('records for her own person', async () => {
      const recorded = await call('POST', `/api/patients/${patientIds[0]}/vital-signs`, { token: await amira(), body: vitals('amira-own-1') });
      expect(recorded.status).toBe(201);
      const viaFhir = await call('POST', '/fhir/Observation', { token: await amira(), body: pulse(patientIds[0]!, 74) });
      expect(viaFhir.status).toBe(201);
    });

    it("gets 403 for someone else's person, and nothing is stored", async () => {
      const api = await refused(async () => call('POST', `/api/patients/${patientIds[1]}/vital-signs`, { token: await amira(), body: vitals('amira-other-1') }));
      expect(api.status).toBe(403);
      expect(api.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(api.body).toMatchObject({ status: 403, title: 'Forbidden', reason: 'relationship' });

      const fhir = await refused(async () => call('POST', '/fhir/Observation', { token: await amira(), body: pulse(patientIds[1]!, 75) }));
      expect(fhir.status).toBe(403);
      expect(fhir.headers.get('content-type')).toMatch(/application\/fhir\+json/);
      expect((fhir.body as unknown as OperationOutcome).issue[0]).toMatchObject({ code: 'forbidden' });

      const read = await call('GET', `/fhir/Patient/${patientIds[1]}`, { token: await amira() });
      expect(read.status).toBe(403);
      expect((await call('GET', `/fhir/Patient/${patientIds[1]}/$everything`, { token: await amira() })).status).toBe(403);
      expect((await call('GET', `/fhir/Observation?patient=Patient/${patientIds[1]}`, { token: await amira() })).status).toBe(403);
    });

    it('cannot tell who is recorded: a person not in the record is 403 to her, 404 only to those who may read everyone', async () => {
      const nobody = '00000000-0000-4000-8000-000000000000';
      expect((await call('GET', `/fhir/Patient/${nobody}`, { token: await amira() })).status).toBe(403);
      expect((await call('GET', `/fhir/Patient/${nobody}/_history`, { token: await amira() })).status).toBe(403);
      expect((await call('POST', `/api/patients/${nobody}/notes`, { token: await amira(), body: { idempotencyKey: 'nobody-1', occurredAt: new Date().toISOString(), text: 'x' } })).status).toBe(403);
      expect((await call('GET', `/fhir/Patient/${nobody}`, { token: await auditor() })).status).toBe(404);
    });

    it('may not register people or change their care team', async () => {
      const team = await refused(async () =>
        call('POST', `/api/patients/${patientIds[1]}/care-team`, {
          token: await amira(),
          body: { idempotencyKey: 'self-add', occurredAt: new Date().toISOString(), practitionerId: DEMO.careWorkers[0]!.practitionerId, teamRole: 'care-worker' },
        }),
      );
      expect(team.status).toBe(403);
      expect(team.body.reason).toBe('role');
    });

    it('searches only her caseload when she names no one', async () => {
      const reply = await call('GET', '/fhir/Observation?code=http://loinc.org|8867-4&_count=1000', { token: await amira() });
      expect(reply.status).toBe(200);
      const subjects = new Set(((reply.body as unknown as Bundle).entry ?? []).map((e) => (e.resource as Observation).subject?.reference));
      // The demo gives person i to care worker i % 3: Amira has the first and the fourth.
      const hers = [patientIds[0]!, patientIds[3]!];
      expect(subjects).toEqual(new Set(hers.map((id) => `Patient/${id}`)));
      const people = (await call('GET', '/fhir/Patient', { token: await amira() })).body as unknown as Bundle;
      expect(new Set(people.entry?.map((e) => e.resource!.id))).toEqual(new Set(hers));
      // The type-level history spans people: not for her.
      expect((await call('GET', '/fhir/Observation/_history', { token: await amira() })).status).toBe(403);
    });
  });

  describe('a GP', () => {
    it("reads his registered patients' FHIR", async () => {
      const token = await gp();
      for (const id of patientIds) {
        const patient = await call('GET', `/fhir/Patient/${id}`, { token });
        expect(patient.status).toBe(200);
        expect((patient.body as unknown as Patient).id).toBe(id);
      }
      const everything = await call('GET', `/fhir/Patient/${patientIds[2]}/$everything?_count=5`, { token });
      expect(everything.status).toBe(200);
      const search = await call('GET', `/fhir/Observation?patient=Patient/${patientIds[3]}&_count=3`, { token });
      expect(search.status).toBe(200);
      expect((search.body as unknown as Bundle).total).toBeGreaterThan(0);
      const all = (await call('GET', '/fhir/Patient?_count=100', { token })).body as unknown as Bundle;
      expect(new Set(all.entry?.map((e) => e.resource!.id))).toEqual(new Set(patientIds));
    });
  });

  describe('an auditor', () => {
    it('reads everything', async () => {
      const token = await auditor();
      expect((await call('GET', `/fhir/Patient/${patientIds[1]}`, { token })).status).toBe(200);
      const observations = (await call('GET', '/fhir/Observation?_count=1000', { token })).body as unknown as Bundle;
      expect(new Set(observations.entry?.map((e) => (e.resource as Observation).subject?.reference)).size).toBe(patientIds.length);
      expect((await call('GET', '/fhir/Observation/_history?_count=1', { token })).status).toBe(200);
    });

    it('writes nothing clinical: 403, nothing stored', async () => {
      const token = await auditor();
      const api = await refused(async () => call('POST', `/api/patients/${patientIds[1]}/vital-signs`, { token, body: vitals('auditor-1') }));
      expect(api.status).toBe(403);
      expect(api.body.reason).toBe('role');
      const fhir = await refused(async () => call('POST', '/fhir/Observation', { token, body: pulse(patientIds[1]!, 80) }));
      expect(fhir.status).toBe(403);
      expect(fhir.body.resourceType).toBe('OperationOutcome');
      expect((await call('POST', '/admin/projections/rebuild', { token })).status).toBe(403);
    });
  });

  describe('break-glass', () => {
    it('lets a nurse read outside her caseload with a reason: allowed, flagged, reported, the reason kept out of the log', async () => {
      const token = await otherNurse();
      const without = await call('GET', `/fhir/Patient/${patientIds[2]}`, { token });
      expect(without.status).toBe(403);
      expect(JSON.stringify(without.body)).toContain('X-Tandem-Break-Glass');
      expect(without.headers.get('x-tandem-break-glass')).toBeNull();

      decisions.length = 0;
      const reason = 'Covering the north team overnight: found on the floor';
      const glass = await call('GET', `/fhir/Patient/${patientIds[2]}`, { token, headers: { 'X-Tandem-Break-Glass': reason } });
      expect(glass.status).toBe(200);
      expect(glass.headers.get('x-tandem-break-glass')).toBe('used');
      expect(decisions).toContainEqual(expect.objectContaining({ allowed: true, patientId: patientIds[2], breakGlass: { reason }, actor: expect.objectContaining({ id: 'nurse-zoe-adams' }) }));
      const logged = logLines.filter((l) => l.includes('break-glass access'));
      expect(logged.length).toBeGreaterThan(0);
      expect(logLines.join('\n')).not.toContain('found on the floor');

      // Break-glass opens reading only.
      const write = await refused(async () => call('POST', '/fhir/Observation', { token, body: pulse(patientIds[2]!, 90), headers: { 'X-Tandem-Break-Glass': reason } }));
      expect(write.status).toBe(403);
    });

    it('is not open to a care worker', async () => {
      const reply = await call('GET', `/fhir/Patient/${patientIds[1]}`, { token: await amira(), headers: { 'X-Tandem-Break-Glass': 'curious' } });
      expect(reply.status).toBe(403);
    });
  });

  describe('teams and organisations', () => {
    it("lets a nurse of the demo nurse's team read her team's caseload", async () => {
      const colleague = await token({ role: 'district-nurse', user: 'nurse-colleague', org: DEMO.nursingTeam.organisationId });
      const reply = await call('GET', `/fhir/Patient/${patientIds[1]}`, { token: colleague });
      expect(reply.status).toBe(200);
      expect(reply.headers.get('x-tandem-break-glass')).toBeNull();
    });

    it('lets the agency manager read the people the agency cares for and rebuild the read models; a care worker may not rebuild', async () => {
      const manager = await token({ role: 'registered-manager', user: 'manager-kindly', org: DEMO.careAgency.organisationId });
      expect((await call('GET', `/fhir/Patient/${patientIds[3]}`, { token: manager })).status).toBe(200);
      expect((await call('POST', '/admin/projections/rebuild', { token: await amira() })).status).toBe(403);
      const rebuilt = await call('POST', '/admin/projections/rebuild', { token: manager });
      expect(rebuilt.status).toBe(200);
    });
  });
  describe('the access trail', () => {
    const auditEvents = (bundle: Bundle): AuditEvent[] => (bundle.entry ?? []).map((e) => e.resource as AuditEvent);
    const subtypes = (event: AuditEvent) => (event.subtype ?? []).map((c) => c.code);
    const amiraId = DEMO.careWorkers[0]!.practitionerId;

    it('shows the auditor every read, write and denial as AuditEvents, searchable by patient, agent, date and outcome', async () => {
      const since = new Date().toISOString();
      const [own, other] = [patientIds[0]!, patientIds[1]!];
      expect((await call('POST', `/api/patients/${own}/vital-signs`, { token: await amira(), body: vitals('trail-own') })).status).toBe(201);
      expect((await call('POST', `/api/patients/${other}/vital-signs`, { token: await amira(), body: vitals('trail-other') })).status).toBe(403);
      expect((await call('GET', `/fhir/Patient/${own}`, { token: await gp() })).status).toBe(200);
      expect((await call('GET', `/fhir/Patient/${own}`, { headers: { 'user-agent': 'trail-test' } })).status).toBe(401);

      const fhir = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: await auditor() });
      const search = async (params: Record<string, string>) =>
        auditEvents((await fhir.search({ resourceType: 'AuditEvent', searchParams: { ...params, date: `ge${since}`, _count: '100' } })) as Bundle);

      const aboutOwn = await search({ patient: `Patient/${own}` });
      for (const event of aboutOwn) expectValidFhir(event);
      const amirasWrite = aboutOwn.find((e) => e.agent[0]?.altId === amiraId);
      expect(amirasWrite).toMatchObject({ outcome: '0', action: 'C', purposeOfEvent: [{ coding: [{ code: 'TREAT' }] }] });
      expect(subtypes(amirasWrite!)).toContain('care.record');
      const gpRead = aboutOwn.find((e) => e.agent[0]?.altId === DEMO.gp.practitionerId);
      expect(gpRead).toMatchObject({ outcome: '0', action: 'R', agent: [{ who: { reference: `Practitioner/${DEMO.gp.practitionerId}` }, role: [{ text: 'gp' }] }] });
      expect(subtypes(gpRead!)).toEqual(['read', 'fhir.read']);

      const denials = await search({ outcome: 'denied', agent: amiraId });
      expect(denials).toHaveLength(1);
      expect(denials[0]!.entity?.[0]?.what?.reference).toBe(`Patient/${other}`);
      expect(denials[0]!.outcomeDesc).toMatch(/^denied \(HTTP 403\): .*no care relationship/);

      const unverified = (await search({ outcome: 'unauthenticated' })).filter((e) => e.entity?.some((x) => x.description === `GET /fhir/Patient/${own}`));
      expect(unverified).toHaveLength(1);
      expect(unverified[0]!.agent[0]).toMatchObject({ name: 'unverified caller', network: { address: expect.stringMatching(/127\.0\.0\.1/) } });
    });

    it("names the people whose data a caseload search returned, though the search named no one", async () => {
      const since = new Date().toISOString();
      const searched = await call('GET', '/fhir/Observation?_count=200', { token: await amira() });
      expect(searched.status).toBe(200);
      const returned = new Set(((searched.body as unknown as Bundle).entry ?? []).map((e) => (e.resource as Observation).subject?.reference));
      expect(returned.size).toBeGreaterThan(0);
      const fhir = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: await auditor() });
      const [search] = auditEvents((await fhir.search({ resourceType: 'AuditEvent', searchParams: { agent: amiraId, subtype: 'search-type', date: `ge${since}` } })) as Bundle);
      const named = new Set(search!.entity?.flatMap((e) => (e.what?.reference?.startsWith('Patient/') ? [e.what.reference] : [])));
      expect(named).toEqual(returned);
    });

    it('records a request the client abandoned with the answer the handler gave, not as a success', async () => {
      const since = new Date().toISOString();
      const abort = new AbortController();
      // Held on the read-your-writes wait (a position not reached), then refused: the client has gone by then.
      const pending = fetch(`${tandem.url}/fhir/Patient/${patientIds[2]}`, {
        headers: { authorization: `Bearer ${await otherNurse()}`, 'x-tandem-min-position': String(Number.MAX_SAFE_INTEGER) },
        signal: abort.signal,
      }).catch(() => 'aborted');
      setTimeout(() => abort.abort(), 200);
      expect(await pending).toBe('aborted');
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const fhir = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: await auditor() });
      const found = auditEvents((await fhir.search({ resourceType: 'AuditEvent', searchParams: { agent: 'nurse-zoe-adams', date: `ge${since}` } })) as Bundle);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ outcome: '4', outcomeDesc: expect.stringMatching(/^denied \(HTTP 403\).*the client left before the answer was sent$/) });
      expect(found[0]!.entity?.[0]?.what?.reference).toBe(`Patient/${patientIds[2]}`);
    });

    it('is for auditors only: a GP asking for it is refused, and the refusal is on the trail', async () => {
      const asked = await call('GET', '/fhir/AuditEvent', { token: await gp() });
      expect(asked.status).toBe(403);
      const fhir = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: await auditor() });
      const found = auditEvents((await fhir.search({ resourceType: 'AuditEvent', searchParams: { agent: DEMO.gp.practitionerId, subtype: 'audit.read', outcome: 'denied' } })) as Bundle);
      expect(found.length).toBeGreaterThan(0);
    });

    it("lets the auditor replay a person's care stream as known at a time, and verify the log, on the running server; nobody else", async () => {
      const stream = `care-${patientIds[0]!}`;
      const asOf = new Date().toISOString();
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect((await call('POST', `/api/patients/${patientIds[0]}/vital-signs`, { token: await amira(), body: vitals('after-the-replay-time') })).status).toBe(201);
      const get = async (path: string, token?: string) => fetch(`${tandem.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

      const then = (await (await get(`/api/audit/streams/${stream}?asOf=${encodeURIComponent(asOf)}&format=json`, await auditor())).json()) as { lines: string[]; events: { metadata: { recordedAt: string } }[] };
      const now = (await (await get(`/api/audit/streams/${stream}?format=json`, await auditor())).json()) as { events: unknown[] };
      expect(then.events.length).toBe(now.events.length - 1);
      expect(then.events.every((e) => e.metadata.recordedAt <= asOf)).toBe(true);
      expect(then.lines[0]).toBe(`${stream}: ${then.events.length} of ${now.events.length} events as known at ${asOf}`);
      const text = await (await get(`/api/audit/streams/${stream}?asOf=${encodeURIComponent(asOf)}`, await auditor())).text();
      expect(text).toContain('State then:');

      const verified = await get('/api/audit/verify', await auditor());
      expect(verified.status).toBe(200);
      expect(await verified.json()).toMatchObject({ ok: true, findings: [] });

      expect((await get('/api/audit/verify', await gp())).status).toBe(403);
      expect((await get(`/api/audit/streams/${stream}`, await amira())).status).toBe(403);
      expect((await get(`/api/audit/streams/${stream}`)).status).toBe(401);
      const bad = await get('/api/audit/streams/$all?asOf=yesterday', await auditor());
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ errors: [{ field: 'stream' }] });
    });

    it('gives each write a Provenance: who wrote which version, when it happened and when it was recorded', async () => {
      const written = await call('POST', '/fhir/Observation', { token: await amira(), body: pulse(patientIds[0]!, 77) });
      expect(written.status).toBe(201);
      const fhir = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: await gp() });
      const bundle = (await fhir.search({ resourceType: 'Provenance', searchParams: { target: `Observation/${written.body.id as string}` } })) as Bundle;
      const [provenance] = (bundle.entry ?? []).map((e) => e.resource as Provenance);
      expectValidFhir(provenance!);
      expect(provenance).toMatchObject({
        target: expect.arrayContaining([{ reference: `Observation/${written.body.id as string}/_history/1` }]),
        agent: [{ who: { reference: `Practitioner/${amiraId}` }, type: { coding: [{ code: 'author' }] } }],
        activity: { coding: [{ code: 'CREATE' }] },
      });
    });
  });
});
