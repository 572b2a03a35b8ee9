import { mintToken, type MintClaims } from '@tandem/auth';
import { uuidV5 } from '@tandem/contracts';
import type { createRecordService } from '@tandem/record';
import Client from 'fhir-kit-client';
import type { AuditEvent, Bundle, OperationOutcome, Patient } from 'fhir/r4';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import type { DelegationService } from '@tandem/delegation';
import { recordChangesSince } from './record-changes';
import { expectValidFhir } from '@tandem/fhir-validation';

/**
 * The access holes a black-box test found (issue 16, items 1, 6, 7 and 8), each reproduced over
 * real HTTP against the embedded default with the demo's people: registering someone already
 * registered, `_include` past the token's scopes, ids that tell a stranger whether a record exists,
 * and joining a stranger's care team to read it without break-glass.
 */
describe('nobody where they do not belong', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientIds: string[];
  /** Mr Jones: Amira's person, on Sarah's caseload, registered with Dr Shah. */
  let jones: string;
  let jonesNhsNumber: string;

  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const amira = () => token({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId });
  const sarah = () => token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
  const gp = (extra: Partial<MintClaims> = {}) => token({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration, ...extra });
  const auditor = () => token({ role: 'auditor', user: 'auditor-cqc-1' });
  /** A district nurse of another team: nobody in the demo is on her caseload. */
  const zoe = () => token({ role: 'district-nurse', user: 'nurse-zoe-adams', org: 'org-south-district-nursing', registration: { system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '99Z9999Z' } });
  /** The registered manager of an unrelated organisation. */
  const managerElsewhere = (scope?: string) => token({ role: 'registered-manager', user: 'manager-elsewhere', org: 'org-elsewhere-care', ...(scope ? { scope } : {}) });
  /** A care worker of another agency. */
  const careWorkerElsewhere = () => token({ role: 'care-worker', user: 'cw-elsewhere', org: 'org-elsewhere-care' });

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
    return { status: response.status, headers: response.headers, text, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  };

  /** Runs a request that must be refused and proves nothing was stored. */
  const refused = async (send: () => ReturnType<typeof call>) => {
    const head = await tandem.storage.store.headPosition();
    const reply = await send();
    expect(await recordChangesSince(tandem.storage.store, head)).toEqual([]);
    return reply;
  };

  const auditEvents = async (params: Record<string, string>): Promise<AuditEvent[]> => {
    const fhir = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: await auditor() });
    return (((await fhir.search({ resourceType: 'AuditEvent', searchParams: { ...params, _count: '100' } })) as Bundle).entry ?? []).map((e) => e.resource as AuditEvent);
  };

  const now = () => new Date(Date.now() - 60_000).toISOString();
  const joinTeam = (practitionerId: string, teamRole: string, key: string) => ({ idempotencyKey: key, occurredAt: now(), practitionerId, teamRole });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-holes-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', LOG_LEVEL: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    ({ patientIds } = await seedDemoData(record.care, { patients: 4, days: 1, now: new Date() }));
    jones = patientIds[0]!;
    // The demo's escalations are appended (the reactions settled) before any refusal is checked to store nothing.
    await (tandem.services.find((s) => s.name === 'delegation') as DelegationService).processor.settle(60_000);
    const read = await call('GET', `/fhir/Patient/${jones}`, { token: await auditor(), headers: { 'x-tandem-min-position': String(await tandem.storage.store.headPosition()) } });
    const patient = read.body as unknown as Patient;
    expect(patient.name?.[0]?.family).toBe('Jones');
    jonesNhsNumber = patient.identifier!.find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')!.value!;
  }, 60_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const patientResource = (nhsNumber: string): Patient => ({
    resourceType: 'Patient',
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber }],
    name: [{ use: 'official', given: ['Someone'], family: 'Else' }],
    birthDate: '1950-01-01',
    generalPractitioner: [{ identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A81001' }, display: 'Elsewhere Surgery' }],
  });
  const registration = (nhsNumber: string, key: string) => ({
    idempotencyKey: key,
    occurredAt: now(),
    nhsNumber,
    name: { given: ['Someone'], family: 'Else' },
    birthDate: '1950-01-01',
    gpPractice: { odsCode: 'A81001', name: 'Elsewhere Surgery' },
  });

  describe('registering someone already registered (16.1)', () => {
    it("refuses a manager of an unrelated organisation with a create-only token who POSTs Mr Jones's NHS number: 403, nothing of his record, nothing stored", async () => {
      const reply = await refused(async () => call('POST', '/fhir/Patient', { token: await managerElsewhere('user/Patient.c'), body: patientResource(jonesNhsNumber) }));
      expect(reply.status).toBe(403);
      expect((reply.body as unknown as OperationOutcome).issue[0]).toMatchObject({ code: 'forbidden', diagnostics: expect.stringMatching(/already registered/) });
      // Not his id, his name, his address, his birth date or his GP.
      for (const secret of [jones, 'Jones', 'Arthur', 'Leeds', 'Riverside Surgery']) expect(reply.text).not.toContain(secret);
      expect(reply.headers.get('location')).toBeNull();
    });

    it('refuses the same on the JSON API, whatever her scopes: no id, no position', async () => {
      for (const scope of ['user/Patient.c', undefined]) {
        const reply = await refused(async () => call('POST', '/api/patients', { token: await managerElsewhere(scope), body: registration(jonesNhsNumber, `elsewhere-${scope ?? 'all'}`) }));
        expect(reply.status).toBe(403);
        expect(reply.body).toMatchObject({ title: 'Forbidden', reason: scope ? 'scope' : 'relationship' });
        expect(reply.text).not.toContain(jones);
        expect(reply.body.patientId).toBeUndefined();
      }
    });

    it('names Mr Jones on the access trail of that refusal', async () => {
      const found = await auditEvents({ patient: `Patient/${jones}`, agent: 'manager-elsewhere', outcome: 'denied' });
      expect(found.length).toBeGreaterThanOrEqual(1);
      expect(found.every((e) => e.entity?.some((x) => x.what?.reference === `Patient/${jones}`))).toBe(true);
    });

    it('still answers with the stored record to those who may read him (his GP), and with break-glass to a nurse, flagged; other details are named, never dropped (409)', async () => {
      const stored = (await call('GET', `/fhir/Patient/${jones}`, { token: await gp() })).body as unknown as Patient;
      const { id: _id, meta: _meta, ...asRegistered } = stored;
      const own = await call('POST', '/fhir/Patient', { token: await gp(), body: asRegistered as Patient });
      expect(own.status).toBe(200);
      expect((own.body as unknown as Patient).id).toBe(jones);
      expect((own.body as unknown as Patient).name?.[0]?.family).toBe('Jones');
      const other = await call('POST', '/fhir/Patient', { token: await gp(), body: patientResource(jonesNhsNumber) });
      expect(other.status).toBe(409);
      expect(other.text).toContain(`Patient/${jones} is already registered`);
      const glass = await call('POST', '/fhir/Patient', { token: await zoe(), body: asRegistered as Patient, headers: { 'X-Tandem-Break-Glass': 'Found him on the floor; his own team unreachable' } });
      expect(glass.status).toBe(200);
      expect(glass.headers.get('x-tandem-break-glass')).toBe('used');
    });

    it('registers someone new for anyone who may register (201), and lets her set up their team', async () => {
      const created = await call('POST', '/api/patients', { token: await managerElsewhere(), body: registration('9000000009', 'elsewhere-new') });
      expect(created.status).toBe(201);
      const team = await call('POST', `/api/patients/${created.body.patientId as string}/care-team`, { token: await managerElsewhere(), body: joinTeam('cw-elsewhere', 'care-worker', 'elsewhere-new-team') });
      expect(team.status).toBe(201);
      expect((await call('GET', `/fhir/Patient/${created.body.patientId as string}`, { token: await careWorkerElsewhere(), headers: { 'x-tandem-min-position': String(team.body.position) } })).status).toBe(200);
    });
  });

  describe('_include (16.6)', () => {
    it('leaves out the Patient a launch token scoped to Observations may not read, and says so in the bundle', async () => {
      const launch = await gp({ patient: jones, scope: 'patient/Observation.rs' });
      expect((await call('GET', `/fhir/Patient/${jones}`, { token: launch })).status).toBe(403);
      const search = await call('GET', `/fhir/Observation?patient=${jones}&_include=Observation:patient`, { token: launch });
      expect(search.status).toBe(200);
      const entries = (search.body as unknown as Bundle).entry ?? [];
      expect(entries.some((e) => e.search?.mode === 'match')).toBe(true);
      expect(entries.filter((e) => e.resource?.resourceType === 'Patient')).toEqual([]);
      expect(search.text).not.toContain(jonesNhsNumber);
      const outcome = entries.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome;
      expect(outcome.issue[0]).toMatchObject({ severity: 'warning', code: 'suppressed', expression: ['_include'] });
      expectValidFhir(search.body as never);
    });

    it('still includes the Patient for a token that may read him', async () => {
      const search = await call('GET', `/fhir/Observation?patient=${jones}&_include=Observation:patient&_count=2`, { token: await gp() });
      const entries = (search.body as unknown as Bundle).entry ?? [];
      expect(entries.filter((e) => e.search?.mode === 'include').map((e) => e.resource?.id)).toEqual([jones]);
      expect(entries.some((e) => e.search?.mode === 'outcome')).toBe(false);
    });
  });

  describe('ids that tell a stranger nothing (16.7)', () => {
    const nobody = '00000000-0000-8000-8000-000000000000';

    it('answers a CareTeam that exists and one that does not alike to someone outside the relationship (read, vread, _history), 404 only to who may read everyone', async () => {
      const outsider = await amira();
      const theirs = patientIds[1]!; // Tom's person, not Amira's
      for (const suffix of ['', '/_history/1', '/_history']) {
        const existing = await call('GET', `/fhir/CareTeam/careteam-${theirs}${suffix}`, { token: outsider });
        const missing = await call('GET', `/fhir/CareTeam/careteam-${nobody}${suffix}`, { token: outsider });
        expect([existing.status, missing.status]).toEqual([403, 403]);
        // The same words but for the id asked for: neither names the person.
        expect((existing.body as unknown as OperationOutcome).issue[0]!.diagnostics!.replace(theirs, 'X')).toBe((missing.body as unknown as OperationOutcome).issue[0]!.diagnostics!.replace(nobody, 'X'));
      }
      // Searching by id answers alike too: the search is narrowed to her caseload either way.
      const byId = await Promise.all([theirs, nobody].map((id) => call('GET', `/fhir/CareTeam?_id=careteam-${id}`, { token: outsider })));
      expect(byId.map((r) => [r.status, (r.body as unknown as Bundle).total])).toEqual([
        [200, 0],
        [200, 0],
      ]);
      expect((await call('GET', `/fhir/CareTeam/careteam-${theirs}`, { token: await auditor() })).status).toBe(200);
      expect((await call('GET', `/fhir/CareTeam/careteam-${nobody}`, { token: await auditor() })).status).toBe(404);
      // Her own person's team she reads as before.
      expect((await call('GET', `/fhir/CareTeam/careteam-${jones}`, { token: outsider })).status).toBe(200);
    });

    it('answers a CarePlan id for a framework the person is not on as it would one they are on: 403 to a stranger', async () => {
      const carePlan = `careplan-${createHash('sha1').update(`${patientIds[1]!}|insulin-administration`).digest('hex').slice(0, 32)}`;
      expect((await call('GET', `/fhir/CarePlan/${carePlan}`, { token: await amira() })).status).toBe(403);
      expect((await call('GET', `/fhir/CarePlan/${carePlan}`, { token: await auditor() })).status).toBe(404);
    });

    it('answers an update of an entry that is not recorded like one of someone else’s: 403', async () => {
      const reply = await refused(async () => call('PUT', `/fhir/Observation/${nobody}`, { token: await amira(), body: { resourceType: 'Observation', id: nobody, status: 'final', subject: { reference: `Patient/${jones}` } }, headers: { 'if-match': 'W/"1"' } }));
      expect(reply.status).toBe(403);
    });

    it('keys patient ids with a secret kept in the data directory (owner only): the NHS number and the old public namespace do not give the id', () => {
      expect(jones).not.toBe(uuidV5('4b7f0c3e-2a9d-4c55-9b61-7d2f3e8a1c90', jonesNhsNumber));
      expect(statSync(join(dataDir, 'id-secret')).mode & 0o777).toBe(0o600);
    });
  });

  describe('joining a care team (16.8)', () => {
    it("refuses a nurse of another team adding herself to Mr Jones's team, with or without a break-glass reason; she still reads nothing without break-glass", async () => {
      for (const headers of [{}, { 'X-Tandem-Break-Glass': 'covering tonight' }] as Record<string, string>[]) {
        const reply = await refused(async () => call('POST', `/api/patients/${jones}/care-team`, { token: await zoe(), body: joinTeam('nurse-zoe-adams', 'district-nurse', `zoe-joins-${Object.keys(headers).length}`), headers }));
        expect(reply.status).toBe(403);
        expect(reply.body).toMatchObject({ reason: 'relationship', detail: expect.stringMatching(/refer the person to you/) });
      }
      expect((await call('GET', `/fhir/Patient/${jones}`, { token: await zoe() })).status).toBe(403);
      expect((await call('GET', `/fhir/Observation?patient=${jones}`, { token: await zoe() })).status).toBe(403);
    });

    it('refuses a manager of another organisation adding a care worker of another agency, who then still reads nothing', async () => {
      const reply = await refused(async () => call('POST', `/api/patients/${jones}/care-team`, { token: await managerElsewhere(), body: joinTeam('cw-elsewhere', 'care-worker', 'manager-adds-cw') }));
      expect(reply.status).toBe(403);
      expect(reply.body.reason).toBe('relationship');
      expect((await call('GET', `/fhir/Patient/${jones}`, { token: await careWorkerElsewhere() })).status).toBe(403);
    });

    it('lets someone already responsible refer: Sarah (his accountable nurse) adds Zoe, who then reads him with no break-glass', async () => {
      const referred = await call('POST', `/api/patients/${patientIds[3]!}/care-team`, { token: await sarah(), body: joinTeam('nurse-zoe-adams', 'district-nurse', 'sarah-refers-zoe') });
      expect(referred.status).toBe(201);
      const read = await call('GET', `/fhir/Patient/${patientIds[3]!}`, { token: await zoe() });
      expect(read.status).toBe(200);
      expect(read.headers.get('x-tandem-break-glass')).toBeNull();
    });
  });
});
