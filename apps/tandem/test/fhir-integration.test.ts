import { mintToken } from '@tandem/auth';
import { MedplumClient } from '@medplum/core';
import Client from 'fhir-kit-client';
import type { Bundle, BundleEntry, CapabilityStatement, Observation, OperationOutcome } from 'fhir/r4';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { createRecordService } from '@tandem/record';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { expectValidFhir } from '@tandem/fhir-validation';

/**
 * What an NHS integration does first, against the running server with two real FHIR client
 * libraries (fhir-kit-client and @medplum/core's MedplumClient): send a set of vital signs as one
 * transaction and read back one complete NEWS2; page through a month of observations with a date
 * range, while the record grows; search with repeated (AND) parameters.
 */
/** A FHIR answer read loosely: a Bundle, or an OperationOutcome when refused. */
type Answer = Omit<Bundle, 'resourceType'> & Omit<OperationOutcome, 'resourceType'> & { resourceType: string; id?: string };

describe('an NHS integration writes a vital signs panel as one transaction and pages through the record', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientIds: string[];
  let gpToken: string;
  let kit: InstanceType<typeof Client>;
  let medplum: MedplumClient;

  const LOINC = 'http://loinc.org';
  const SNOMED = 'http://snomed.info/sct';
  const UCUM = 'http://unitsofmeasure.org';

  const fhirPost = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${tandem.url}/fhir${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${gpToken}`, ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Answer };
  };

  const fhirGet = async (url: string, position?: number) => {
    const response = await fetch(url.startsWith('http') ? url : `${tandem.url}/fhir${url}`, {
      headers: { authorization: `Bearer ${gpToken}`, ...(position !== undefined ? { 'x-tandem-min-position': String(position) } : {}) },
    });
    return { status: response.status, body: (await response.json()) as Answer };
  };

  /** A GP system's vital signs panel: the panel (LOINC 85353-1) and its seven members, linked by urn:uuid fullUrls. */
  const panelBundle = (patientId: string, at: string, overrides: { spo2Code?: string; temperature?: Record<string, unknown> } = {}): Bundle => {
    const subject = { reference: `Patient/${patientId}` };
    const member = (code: { system: string; code: string; display: string }, value: Partial<Observation>): BundleEntry => ({
      fullUrl: `urn:uuid:${randomUUID()}`,
      resource: { resourceType: 'Observation', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }], code: { coding: [code] }, subject, effectiveDateTime: at, ...value } as Observation,
      request: { method: 'POST', url: 'Observation' },
    });
    const members = [
      member({ system: LOINC, code: '9279-1', display: 'Respiratory rate' }, { valueQuantity: { value: 22, unit: '/min', system: UCUM, code: '/min' } }),
      member({ system: LOINC, code: overrides.spo2Code ?? '59408-5', display: 'Oxygen saturation by pulse oximetry' }, { valueQuantity: { value: 95, unit: '%', system: UCUM, code: '%' } }),
      member({ system: SNOMED, code: '722742002', display: 'Breathing room air' }, {}),
      member(
        { system: LOINC, code: '85354-9', display: 'Blood pressure panel' },
        {
          component: [
            { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: { value: 105, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
            { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: { value: 70, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' } },
          ],
        },
      ),
      member({ system: LOINC, code: '8867-4', display: 'Heart rate' }, { valueQuantity: { value: 112, unit: 'beats/minute', system: UCUM, code: '/min' } }),
      member({ system: SNOMED, code: '1104441000000107', display: 'ACVPU' }, { valueCodeableConcept: { coding: [{ system: SNOMED, code: '248234008', display: 'Alert' }] } }),
      member({ system: LOINC, code: '8310-5', display: 'Body temperature' }, { valueQuantity: overrides.temperature ?? { value: 38.4, unit: 'Cel', system: UCUM, code: 'Cel' } }),
    ];
    const panel: BundleEntry = {
      fullUrl: `urn:uuid:${randomUUID()}`,
      resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: LOINC, code: '85353-1', display: 'Vital signs panel' }] }, subject, effectiveDateTime: at, hasMember: members.map((m) => ({ reference: m.fullUrl! })) },
      request: { method: 'POST', url: 'Observation' },
    };
    return { resourceType: 'Bundle', type: 'transaction', entry: [panel, ...members] };
  };

  const entriesOf = async (patientId: string, position: number) =>
    (await fhirGet(`/Observation?patient=Patient/${patientId}&code=${encodeURIComponent(`${SNOMED}|1104051000000101`)}&_count=1000`, position)).body;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-fhir-integration-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    ({ patientIds } = await seedDemoData(record.care, { patients: 3, days: 30, now: new Date() }));
    // The GP system writes and reads with the GP's token: these people are his registered patients.
    gpToken = await mintToken({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration }, { dataDir });
    kit = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: gpToken });
    medplum = new MedplumClient({ baseUrl: `${tandem.url}/`, fhirUrlPath: 'fhir', cacheTime: 0 });
    medplum.setAccessToken(gpToken);
    await fhirGet(`/Patient/${patientIds[0]}`, await tandem.storage.store.headPosition());
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('POST /fhir with a transaction Bundle', () => {
    it('records a vital signs panel and its members (SpO2 coded 59408-5) as ONE entry with one complete NEWS2 (fhir-kit-client)', async () => {
      const patientId = patientIds[1]!;
      const before = await entriesOf(patientId, await tandem.storage.store.headPosition());
      const answer = (await kit.transaction({ body: panelBundle(patientId, new Date(Date.now() - 60_000).toISOString()) as never })) as Bundle;

      expect(answer.resourceType).toBe('Bundle');
      expect(answer.type).toBe('transaction-response');
      expectValidFhir(answer as never);
      expect(answer.entry).toHaveLength(8);
      for (const entry of answer.entry!) {
        expect(entry.response).toMatchObject({ status: '201 Created', location: expect.stringMatching(/^Observation\/[^/]+\/_history\/1$/), etag: 'W/"1"' });
      }
      const panelId = answer.entry![0]!.response!.location!.split('/')[1]!;
      const panel = (await kit.read({ resourceType: 'Observation', id: panelId })) as Observation;
      expect(panel.code.coding).toContainEqual(expect.objectContaining({ system: LOINC, code: '85353-1' }));
      // Every member the integration sent is a member of the one entry, and read back under the location it was given.
      for (const entry of answer.entry!.slice(1)) {
        const memberId = entry.response!.location!.split('/')[1]!;
        expect(panel.hasMember).toContainEqual({ reference: `Observation/${memberId}` });
      }

      const news2 = (await kit.read({ resourceType: 'Observation', id: `${panelId}-news2` })) as Observation;
      // RR 22 (2) + SpO2 95 (1) + air (0) + SBP 105 (1) + pulse 112 (2) + alert (0) + 38.4 C (1) = 7: every parameter, so a score.
      expect(news2.valueQuantity?.value).toBe(7);
      expect(news2.dataAbsentReason).toBeUndefined();
      const after = await entriesOf(patientId, 0);
      expect(after.total).toBe(before.total! + 1);
    });

    it('answers the same transaction sent again with the same entry (a replay), and under the same key with other content with 422', async () => {
      const patientId = patientIds[2]!;
      const bundle = panelBundle(patientId, new Date(Date.now() - 120_000).toISOString());
      const first = await fhirPost('', bundle, { 'idempotency-key': 'gp-system-panel-1' });
      expect(first.status).toBe(200);
      const again = await fhirPost('', bundle, { 'idempotency-key': 'gp-system-panel-1' });
      expect(again.status).toBe(200);
      expect(again.body.entry!.map((e) => e.response!.location)).toEqual(first.body.entry!.map((e) => e.response!.location));
      expect(again.body.entry!.every((e) => e.response!.status === '200 OK')).toBe(true);

      const other = await fhirPost('', panelBundle(patientId, new Date(Date.now() - 180_000).toISOString()), { 'idempotency-key': 'gp-system-panel-1' });
      expect(other.status).toBe(422);
      expect(other.body.resourceType).toBe('OperationOutcome');
      expect(other.body.issue[0]!.expression).toEqual(['Idempotency-Key']);
    });

    it('stores nothing when one member is wrong, and names that member (a temperature in Fahrenheit)', async () => {
      const patientId = patientIds[1]!;
      const position = await tandem.storage.store.headPosition();
      const before = await entriesOf(patientId, position);
      const bundle = panelBundle(patientId, new Date(Date.now() - 30_000).toISOString(), { temperature: { value: 101.1, unit: '[degF]', system: UCUM, code: '[degF]' } });
      const answer = await fhirPost('', bundle);

      expect(answer.status).toBe(422);
      expect(answer.type).toContain('application/fhir+json');
      expect(answer.body.resourceType).toBe('OperationOutcome');
      // The temperature is the seventh member: entry[7] of the Bundle.
      expect(answer.body.issue[0]!.expression![0]).toMatch(/^Bundle\.entry\[7\]\.resource\.valueQuantity/);
      expect((await entriesOf(patientId, position)).total).toBe(before.total);
    });

    it('answers each entry of a batch on its own (MedplumClient)', async () => {
      const patientId = patientIds[0]!;
      const at = new Date(Date.now() - 90_000).toISOString();
      const pulse = (value: number, unit: string): BundleEntry => ({
        request: { method: 'POST', url: 'Observation' },
        resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: LOINC, code: '8867-4' }] }, subject: { reference: `Patient/${patientId}` }, effectiveDateTime: at, valueQuantity: { value, unit, system: UCUM, code: unit } },
      });
      // @types/fhir's Bundle and @medplum/fhirtypes' differ only in how narrowly they type references.
      const answer = await medplum.executeBatch({ resourceType: 'Bundle', type: 'batch', entry: [pulse(81, '/min'), pulse(82, 'beats')] } as Parameters<MedplumClient['executeBatch']>[0]);
      expect(answer.type).toBe('batch-response');
      expect(answer.entry![0]!.response).toMatchObject({ status: '201 Created', location: expect.stringMatching(/^Observation\/.+-pulse\/_history\/1$/) });
      expect(answer.entry![1]!.response!.status).toBe('422 Unprocessable Entity');
      expect((answer.entry![1]!.response!.outcome as OperationOutcome).issue[0]!.expression).toEqual(['Bundle.entry[1].resource.valueQuantity.code']);
    });

    it('answers anything else at /fhir as an OperationOutcome, never problem+json', async () => {
      const notABundle = await fhirPost('', { resourceType: 'Observation' });
      expect(notABundle.status).toBe(400);
      expect(notABundle.body.resourceType).toBe('OperationOutcome');
      const get = await fhirGet(`${tandem.url}/fhir`);
      expect(get.status).toBe(405);
      expect(get.body.resourceType).toBe('OperationOutcome');
    });
  });

  it('declares transaction and batch in its CapabilityStatement, and nothing else at the system level', async () => {
    const metadata = (await (await fetch(`${tandem.url}/fhir/metadata`)).json()) as CapabilityStatement;
    expectValidFhir(metadata as never);
    expect(metadata.rest![0]!.interaction!.map((i) => i.code)).toEqual(['transaction', 'batch']);
  });

  describe('chained search by NHS number', () => {
    const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
    const nhsNumberOf = async (patientId: string) => ((await fhirGet(`/Patient/${patientId}`)).body as unknown as { identifier: { system: string; value: string }[] }).identifier.find((i) => i.system === NHS)!.value;

    it("finds a person's observations by NHS number in one search (subject.identifier with fhir-kit-client, patient.identifier with MedplumClient)", async () => {
      const patientId = patientIds[0]!;
      const nhsNumber = await nhsNumberOf(patientId);
      const byId = (await fhirGet(`/Observation?patient=Patient/${patientId}&code=${encodeURIComponent(`${LOINC}|8867-4`)}&_count=0`)).body;
      expect(byId.total).toBeGreaterThan(0);

      const viaSubject = (await kit.search({ resourceType: 'Observation', searchParams: { 'subject.identifier': `${NHS}|${nhsNumber}`, code: `${LOINC}|8867-4`, _count: '1000' } })) as Bundle;
      expect(viaSubject.total).toBe(byId.total);
      expect(viaSubject.entry!.every((e) => (e.resource as Observation).subject!.reference === `Patient/${patientId}`)).toBe(true);

      const viaPatient = await medplum.search('Observation', { 'patient.identifier': `${NHS}|${nhsNumber}`, code: `${LOINC}|8867-4`, _count: '0' });
      expect(viaPatient.total).toBe(byId.total);

      const medicines = (await fhirGet(`/MedicationAdministration?patient.identifier=${encodeURIComponent(`${NHS}|${nhsNumber}`)}&_count=0`)).body;
      const medicinesById = (await fhirGet(`/MedicationAdministration?patient=Patient/${patientId}&_count=0`)).body;
      expect(medicinesById.total).toBeGreaterThan(0);
      expect(medicines.total).toBe(medicinesById.total);
    });

    it("finds nothing of a person outside the caller's care, however they are named", async () => {
      // The demo gives person i to care worker i % 3: care worker 0 does not look after person 1.
      const careWorker = await mintToken({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId }, { dataDir });
      const nhsNumber = await nhsNumberOf(patientIds[1]!);
      const response = await fetch(`${tandem.url}/fhir/Observation?subject.identifier=${encodeURIComponent(`${NHS}|${nhsNumber}`)}`, { headers: { authorization: `Bearer ${careWorker}` } });
      const body = (await response.json()) as Bundle;
      expect(response.status).toBe(200);
      expect(body.total).toBe(0);
      const own = await fetch(`${tandem.url}/fhir/Observation?subject.identifier=${encodeURIComponent(`${NHS}|${await nhsNumberOf(patientIds[0]!)}`)}&_count=0`, { headers: { authorization: `Bearer ${careWorker}` } });
      expect(((await own.json()) as Bundle).total).toBeGreaterThan(0);
    });

    it('refuses a chain it does not support, naming it', async () => {
      const answer = await fhirGet('/Observation?subject.telecom=0113');
      expect(answer.status).toBe(400);
      expect(answer.body.issue[0]!.expression).toEqual(['subject.telecom']);
    });
  });

  describe('paging', () => {
    const from = () => new Date(Date.now() - 20 * 86_400_000).toISOString().slice(0, 10);
    const to = () => new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

    it('pages through every page of a date range given as two date parameters, each entry once, while an entry is written between pages (fhir-kit-client)', async () => {
      const patientId = patientIds[0]!;
      const searchParams = { patient: `Patient/${patientId}`, date: [`ge${from()}`, `lt${to()}`], _count: '7' };
      const all = (await kit.search({ resourceType: 'Observation', searchParams: { ...searchParams, _count: '1000' } })) as Bundle;
      expect(all.total).toBeGreaterThan(21);
      const expected = all.entry!.map((e) => e.resource!.id!).sort();

      let page = (await kit.search({ resourceType: 'Observation', searchParams })) as Bundle;
      const seen = page.entry!.map((e) => e.resource!.id!);
      // The record grows between the first and the second page: a new pulse inside the date range.
      const written = await fhirPost('/Observation', {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: LOINC, code: '8867-4' }] },
        subject: { reference: `Patient/${patientId}` },
        effectiveDateTime: new Date(Date.now() - 5 * 60_000).toISOString(),
        valueQuantity: { value: 77, unit: '/min', system: UCUM, code: '/min' },
      });
      expect(written.status).toBe(201);
      let pages = 1;
      while (page.link?.some((l) => l.relation === 'next')) {
        const next = page.link.find((l) => l.relation === 'next')!.url;
        // The next link is the search as sent: both date parameters, still two.
        expect(new URL(next).searchParams.getAll('date')).toEqual([`ge${from()}`, `lt${to()}`]);
        page = (await kit.nextPage({ bundle: page })) as Bundle;
        seen.push(...page.entry!.map((e) => e.resource!.id!));
        pages++;
      }
      expect(pages).toBeGreaterThan(3);
      expect(seen).toHaveLength(new Set(seen).size);
      expect(seen.filter((id) => id !== written.body.id).sort()).toEqual(expected);
    });

    it('pages through the same date range with MedplumClient, each entry once', async () => {
      const patientId = patientIds[0]!;
      const params = new URLSearchParams([
        ['patient', `Patient/${patientId}`],
        ['date', `ge${from()}`],
        ['date', `lt${to()}`],
        ['_count', '5'],
        ['_sort', '-date'],
      ]);
      const all = (await fhirGet(`/Observation?${new URLSearchParams([...params.entries()].filter(([k]) => k !== '_count')).toString()}&_count=1000`)).body;
      const seen: string[] = [];
      for await (const resources of medplum.searchResourcePages('Observation', params)) seen.push(...resources.map((r) => r.id!));
      expect(seen.length).toBe(all.total);
      expect(new Set(seen).size).toBe(all.total);
      const dates = await Promise.all(seen.slice(0, 3).map(async (id) => ((await medplum.readResource('Observation', id)) as Observation).effectiveDateTime!));
      expect([...dates].sort().reverse()).toEqual(dates);
    });

    it('repeats no entry and skips none when the record grows between pages (newest first, no other parameter)', async () => {
      const patientId = patientIds[2]!;
      const all = (await fhirGet(`/Observation?patient=Patient/${patientId}&_count=1000`)).body;
      let page = (await fhirGet(`/Observation?patient=Patient/${patientId}&_count=10`)).body;
      const seen = page.entry!.map((e) => e.resource!.id!);
      // A set of vital signs written now goes first in this order: offsets would shift by its three resources.
      const written = await fhirPost('/Observation', {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: LOINC, code: '9279-1' }] },
        subject: { reference: `Patient/${patientId}` },
        effectiveDateTime: new Date(Date.now() - 60_000).toISOString(),
        valueQuantity: { value: 18, unit: '/min', system: UCUM, code: '/min' },
      });
      expect(written.status).toBe(201);
      while (page.link?.some((l) => l.relation === 'next')) {
        page = (await fhirGet(page.link.find((l) => l.relation === 'next')!.url)).body;
        seen.push(...(page.entry ?? []).map((e) => e.resource!.id!));
      }
      expect(seen).toHaveLength(new Set(seen).size);
      expect([...seen].sort()).toEqual(all.entry!.map((e) => e.resource!.id!).sort());
    });

    it('pages by a sort whose value the resources lack (a Patient has no date), each once', async () => {
      const seen: string[] = [];
      let page = (await fhirGet('/Patient?_sort=date&_count=1')).body;
      seen.push(...page.entry!.map((e) => e.resource!.id!));
      while (page.link?.some((l) => l.relation === 'next')) {
        page = (await fhirGet(page.link.find((l) => l.relation === 'next')!.url)).body;
        seen.push(...(page.entry ?? []).map((e) => e.resource!.id!));
      }
      expect([...seen].sort()).toEqual([...patientIds].sort());
    });

    it('keeps code=a&code=b an AND (no Observation has both codes) in its self link', async () => {
      const search = `/Observation?patient=Patient/${patientIds[0]}&code=${encodeURIComponent(`${LOINC}|8867-4`)}&code=${encodeURIComponent(`${LOINC}|9279-1`)}`;
      const first = await fhirGet(search);
      expect(first.status).toBe(200);
      expect(first.body.total).toBe(0);
      const self = first.body.link!.find((l) => l.relation === 'self')!.url;
      expect(new URL(self).searchParams.getAll('code')).toEqual([`${LOINC}|8867-4`, `${LOINC}|9279-1`]);
      const again = await fhirGet(self);
      expect(again.body.total).toBe(0);
    });

    it('answers _count=0 with the count and no next link', async () => {
      const answer = await fhirGet(`/Observation?patient=Patient/${patientIds[0]}&_count=0`);
      expect(answer.status).toBe(200);
      expect(answer.body.total).toBeGreaterThan(0);
      expect(answer.body.entry ?? []).toHaveLength(0);
      expect(answer.body.link!.map((l) => l.relation)).toEqual(['self']);
    });

    it('refuses a cursor it did not give (400 OperationOutcome naming _cursor)', async () => {
      const answer = await fhirGet(`/Observation?patient=Patient/${patientIds[0]}&_cursor=bm90LWEtY3Vyc29y`);
      expect(answer.status).toBe(400);
      expect(answer.body.issue[0]!.expression).toEqual(['_cursor']);
    });
  });
});
