import { mintToken } from '@tandem/auth';
import Client from 'fhir-kit-client';
import type { Bundle, Observation, OperationOutcome, Patient } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { createRecordService } from '@tandem/record';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { expectValidFhir } from '@tandem/fhir-validation';
import { recordChangesSince } from './record-changes';

/**
 * The GP's view, end to end: the running server on its embedded store, care recorded through the
 * JSON API, read back with a real FHIR client (fhir-kit-client) as any GP system would.
 */
describe('a GP reads the record as FHIR R4', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let fhir: InstanceType<typeof Client>;
  let patientIds: string[];
  let gpToken: string;
  /** The demo gives person i to care worker i % 3: each records for her own people. */
  const careWorkerOf = async (patientId: string) => {
    const worker = DEMO.careWorkers[patientIds.indexOf(patientId) % DEMO.careWorkers.length]!;
    return mintToken({ role: 'care-worker', user: worker.practitionerId, org: DEMO.careAgency.organisationId }, { dataDir });
  };

  const post = async (path: string, body: unknown) => {
    const patientId = /\/api\/patients\/([^/]+)\//.exec(path)![1]!;
    const authorization = `Bearer ${await careWorkerOf(patientId)}`;
    const response = await fetch(`${tandem.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body) });
    return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-gp-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    ({ patientIds } = await seedDemoData(record.care, { patients: 3, days: 10, now: new Date() }));
    // The GP reads with his own token: these people are his registered patients.
    gpToken = await mintToken({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration }, { dataDir });
    fhir = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: gpToken });
    // Wait for the projection to hold the demo.
    const head = await tandem.storage.store.headPosition();
    await fetch(`${tandem.url}/fhir/Patient/${patientIds[0]}`, { headers: { 'x-tandem-min-position': String(head), authorization: `Bearer ${gpToken}` } });
  }, 60_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finds the person by NHS number and reads their observations for a date range, page by page', async () => {
    const patient = (await fhir.read({ resourceType: 'Patient', id: patientIds[0]! })) as Patient;
    const nhsNumber = patient.identifier!.find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')!.value!;

    const found = (await fhir.search({ resourceType: 'Patient', searchParams: { identifier: `https://fhir.nhs.uk/Id/nhs-number|${nhsNumber}` } })) as Bundle;
    expect(found.total).toBe(1);
    expect(found.entry![0]!.resource!.id).toBe(patientIds[0]);

    const from = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10);
    const firstPage = (await fhir.search({
      resourceType: 'Observation',
      searchParams: { patient: `Patient/${patientIds[0]}`, code: 'http://loinc.org|8867-4', date: `ge${from}`, _count: '2', _sort: '-date' },
    })) as Bundle;
    expect(firstPage.total).toBeGreaterThanOrEqual(4);
    expect(firstPage.entry).toHaveLength(2);
    const seen = [...firstPage.entry!];
    let page: Bundle | undefined = firstPage;
    while (page && page.link?.some((l) => l.relation === 'next')) {
      page = (await fhir.nextPage({ bundle: page })) as Bundle;
      seen.push(...page.entry!);
    }
    expect(seen).toHaveLength(firstPage.total!);
    expect(new Set(seen.map((e) => e.resource!.id)).size).toBe(firstPage.total);
    for (const entry of seen) {
      const observation = entry.resource as Observation;
      expect(observation.effectiveDateTime! >= from).toBe(true);
      expect(observation.valueQuantity).toMatchObject({ unit: expect.any(String), system: 'http://unitsofmeasure.org', code: '/min' });
    }
    const dates = seen.map((e) => (e.resource as Observation).effectiveDateTime!);
    expect([...dates].sort().reverse()).toEqual(dates);
  });

  it('records a set of vital signs through the API and reads it back as FHIR at once', async () => {
    const recorded = await post(`/api/patients/${patientIds[1]}/vital-signs`, {
      idempotencyKey: 'gp-test-vitals-1',
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
      respirationRate: 22,
      spo2: 95,
      airOrOxygen: 'air',
      systolic: 105,
      diastolic: 70,
      pulse: 112,
      consciousness: 'A',
      temperatureC: 38.4,
    });
    expect(recorded.status).toBe(201);
    const entryId = (recorded.body.eventIds as string[])[0]!;

    const panel = (await fhir.read({ resourceType: 'Observation', id: entryId, options: { headers: { 'x-tandem-min-position': String(recorded.body.position) } } })) as Observation;
    expect(panel.code.coding).toContainEqual(expect.objectContaining({ system: 'http://loinc.org', code: '85353-1' }));
    expect(panel.status).toBe('final');
    expect(panel.subject?.reference).toBe(`Patient/${patientIds[1]}`);

    const news2 = (await fhir.read({ resourceType: 'Observation', id: `${entryId}-news2` })) as Observation;
    // RR 22 (2) + SpO2 95 (1) + air (0) + SBP 105 (1) + pulse 112 (2) + alert (0) + 38.4 C (1) = 7
    expect(news2.valueQuantity?.value).toBe(7);
  });

  it('keeps both versions in _history after a correction', async () => {
    const recorded = await post(`/api/patients/${patientIds[1]}/blood-glucose`, {
      idempotencyKey: 'gp-test-bg-1',
      occurredAt: new Date(Date.now() - 120_000).toISOString(),
      glucoseMmolL: 41,
    });
    expect(recorded.status).toBe(201);
    const entryId = (recorded.body.eventIds as string[])[0]!;
    const amended = await post(`/api/patients/${patientIds[1]}/entries/${entryId}/amendments`, {
      idempotencyKey: 'gp-test-bg-1-amend',
      occurredAt: new Date().toISOString(),
      reason: 'Typed 41 instead of 4.1',
      replacement: { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 4.1 } },
    });
    expect(amended.body).toMatchObject({ replayed: false });
    expect(amended.status).toBe(201);

    const history = (await fhir.history({ resourceType: 'Observation', id: entryId, options: { headers: { 'x-tandem-min-position': String(amended.body.position) } } })) as Bundle;
    expect(history.type).toBe('history');
    expect(history.total).toBe(2);
    const versions = history.entry!.map((e) => e.resource as Observation);
    expect(versions.map((v) => v.meta?.versionId)).toEqual(['2', '1']);
    expect(versions.map((v) => v.valueQuantity?.value)).toEqual([4.1, 41]);
    expect(versions[0]!.status).toBe('amended');

    const first = (await fhir.vread({ resourceType: 'Observation', id: entryId, version: '1' })) as Observation;
    expect(first.valueQuantity?.value).toBe(41);

    // Point in time: the record as it was known when the first version was stored.
    const asKnown = (await (await fetch(`${tandem.url}/fhir/Patient/${patientIds[1]}/$everything?_count=1000&_at=${encodeURIComponent(first.meta!.lastUpdated!)}`, { headers: { authorization: `Bearer ${gpToken}` } })).json()) as Bundle;
    const then = asKnown.entry!.map((e) => e.resource as Observation).find((r) => r.id === entryId)!;
    expect(then.valueQuantity?.value).toBe(41);
    expect(then.meta?.versionId).toBe('1');
    const before = (await (await fetch(`${tandem.url}/fhir/Patient/${patientIds[1]}/$everything?_count=1000&_at=2000-01-01`, { headers: { authorization: `Bearer ${gpToken}` } })).json()) as OperationOutcome;
    expect(before.resourceType).toBe('OperationOutcome');
  });

  it("returns the person's whole record with $everything, paged", async () => {
    const everything = (await fhir.operation({ name: '$everything', resourceType: 'Patient', id: patientIds[0]!, method: 'GET', input: { _count: '50' } })) as Bundle;
    expect(everything.entry![0]!.resource!.resourceType).toBe('Patient');
    expect(everything.total).toBeGreaterThan(50);
    expect(everything.link?.find((l) => l.relation === 'next')).toBeDefined();
    const types = new Set(everything.entry!.filter((e) => e.search?.mode === 'match').map((e) => e.resource!.resourceType));
    expect([...types].every((t) => ['Patient', 'Observation', 'MedicationAdministration', 'CareTeam'].includes(t))).toBe(true);
    expect(types.has('Observation')).toBe(true);
    // Every resource a GP system receives passes the FHIR R4 base definitions (an external validator).
    for (const entry of everything.entry!) expectValidFhir(entry.resource!);
    const bundle = { ...everything, entry: everything.entry!.slice(0, 3) };
    expectValidFhir(bundle);
  });

  it('narrows $everything to the _type asked for, and names _type when it is not a type of the record', async () => {
    const doses = (await fhir.operation({ name: '$everything', resourceType: 'Patient', id: patientIds[0]!, method: 'GET', input: { _count: '1000', _type: 'MedicationAdministration' } })) as Bundle;
    expect(doses.total).toBeGreaterThan(0);
    expect(new Set(doses.entry!.filter((e) => e.search?.mode === 'match').map((e) => e.resource!.resourceType))).toEqual(new Set(['MedicationAdministration']));
    const refused = await fetch(`${tandem.url}/fhir/Patient/${patientIds[0]}/$everything?_type=AuditEvent`, { headers: { authorization: `Bearer ${gpToken}` } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as OperationOutcome).issue[0]).toMatchObject({ expression: ['_type'] });
  });

  it('refuses a bad command with problem+json naming the field, and stores nothing', async () => {
    const head = await tandem.storage.store.headPosition();
    const refused = await post(`/api/patients/${patientIds[0]}/vital-signs`, { idempotencyKey: 'bad-1', occurredAt: new Date().toISOString(), spo2: 140 });
    expect(refused.status).toBe(400);
    expect(refused.type).toMatch(/application\/problem\+json/);
    expect(refused.body.errors).toContainEqual({ field: 'spo2', message: expect.stringContaining('SpO2') });
    expect(await recordChangesSince(tandem.storage.store, head)).toEqual([]);
  });

  it('answers a conditional read with 304 when the GP system already has that version', async () => {
    const auth = { authorization: `Bearer ${gpToken}` };
    const first = await fetch(`${tandem.url}/fhir/Patient/${patientIds[0]}`, { headers: auth });
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"\d+"$/);
    expect(first.headers.get('last-modified')).toBeTruthy();
    const again = await fetch(`${tandem.url}/fhir/Patient/${patientIds[0]}`, { headers: { ...auth, 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const stale = await fetch(`${tandem.url}/fhir/Patient/${patientIds[0]}`, { headers: { ...auth, 'if-none-match': 'W/"999"' } });
    expect(stale.status).toBe(200);
  });

  it('includes the patient with an Observation search (_include=Observation:patient)', async () => {
    const bundle = (await fhir.search({
      resourceType: 'Observation',
      searchParams: { patient: `Patient/${patientIds[0]}`, _count: '3', _include: 'Observation:patient' },
    })) as Bundle;
    const included = bundle.entry!.filter((e) => e.search?.mode === 'include');
    expect(included.map((e) => `${e.resource!.resourceType}/${e.resource!.id}`)).toEqual([`Patient/${patientIds[0]}`]);
    expect(bundle.entry!.filter((e) => e.search?.mode === 'match')).toHaveLength(3);
  });

  it('answers a bad FHIR search with an OperationOutcome naming the parameter', async () => {
    const response = await fetch(`${tandem.url}/fhir/Observation?date=yesterday`, { headers: { authorization: `Bearer ${gpToken}` } });
    expect(response.status).toBe(400);
    const outcome = (await response.json()) as OperationOutcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]!.expression).toEqual(['date']);
  });
});
