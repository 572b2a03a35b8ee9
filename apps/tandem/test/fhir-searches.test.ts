import { mintToken } from '@tandem/auth';
import type { Actor } from '@tandem/contracts';
import { MedplumClient } from '@medplum/core';
import type { createRecordService } from '@tandem/record';
import Client from 'fhir-kit-client';
import type { Bundle, Observation, OperationOutcome, Patient, Provenance } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { seededRandom, testNhsNumbers } from '../src/demo/random';

/**
 * The searches FHIR clients send (issue 17 item 3), against the running server with two real
 * client libraries (fhir-kit-client and @medplum/core's MedplumClient): chained and identifier
 * searches, Patient by family, given, gender and postcode, the modifiers, date prefixes and OR
 * dates, _include and _revinclude, _sort on several keys, POST _search and compartment search;
 * every result filtered by the access policy as any search is.
 */
type Answer = Omit<Bundle, 'resourceType'> & Omit<OperationOutcome, 'resourceType'> & { resourceType: string };

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const LOINC = 'http://loinc.org';
const HEART_RATE = `${LOINC}|8867-4`;

describe('the searches FHIR clients send', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientIds: string[];
  let gpToken: string;
  let careWorkerToken: string;
  let kit: InstanceType<typeof Client>;
  let medplum: MedplumClient;
  /** A person registered for these tests with an accented name and a postcode no demo person has. */
  let bronte: { id: string; nhsNumber: string };

  const fhirGet = async (url: string, token = gpToken, headers: Record<string, string> = {}) => {
    const response = await fetch(url.startsWith('http') ? url : `${tandem.url}/fhir${url}`, { headers: { authorization: `Bearer ${token}`, ...headers } });
    return { status: response.status, body: (await response.json()) as Answer };
  };
  const idsOf = (bundle: Pick<Bundle, 'entry'>, mode = 'match') => (bundle.entry ?? []).filter((e) => e.search?.mode === mode).map((e) => e.resource!.id!);
  const nextOf = (bundle: Pick<Bundle, 'link'>) => bundle.link?.find((l) => l.relation === 'next')?.url;
  /** Every page of a search, following next links. */
  const allPages = async (first: string, token = gpToken): Promise<{ ids: string[]; links: string[] }> => {
    const ids: string[] = [];
    const links: string[] = [];
    let url: string | undefined = first;
    while (url) {
      const page = await fhirGet(url, token);
      expect(page.status).toBe(200);
      ids.push(...idsOf(page.body));
      url = nextOf(page.body);
      if (url) links.push(url);
    }
    return { ids, links };
  };
  const nhsNumberOf = async (patientId: string) => ((await fhirGet(`/Patient/${patientId}`)).body as unknown as Patient).identifier!.find((i) => i.system === NHS)!.value!;
  const familyOf = async (patientId: string) => ((await fhirGet(`/Patient/${patientId}`)).body as unknown as Patient).name![0]!.family!;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-fhir-searches-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    ({ patientIds } = await seedDemoData(record.care, { patients: 3, days: 12, now: new Date() }));
    const admin: Actor = { id: DEMO.nurse.practitionerId, role: 'district-nurse', registration: DEMO.nurse.registration };
    const nhsNumber = testNhsNumbers(seededRandom(17)).next().value!;
    const at = new Date(Date.now() - 86_400_000).toISOString();
    const { patientId } = await record.care.registerPatient(
      {
        idempotencyKey: 'searches:bronte',
        occurredAt: at,
        nhsNumber,
        name: { given: ['Éloïse'], family: 'Brontë' },
        birthDate: '1931-04-21',
        gender: 'female',
        address: { lines: ['1 Haworth Lane', 'Leeds'], postcode: 'LS99 1ZZ' },
        gpPractice: { odsCode: DEMO.gpPractice.odsCode, name: DEMO.gpPractice.name },
        registeredGp: DEMO.gp.practitionerId,
      },
      admin,
    );
    for (const member of [
      { practitionerId: DEMO.nurse.practitionerId, teamRole: 'accountable-clinician' as const },
      { practitionerId: DEMO.gp.practitionerId, teamRole: 'gp' as const },
    ]) {
      await record.care.addCareTeamMember({ idempotencyKey: `searches:team:${member.practitionerId}`, occurredAt: at, patientId, ...member }, admin);
    }
    bronte = { id: patientId, nhsNumber };
    gpToken = await mintToken({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration }, { dataDir });
    // The demo gives person i to care worker i % 3: care worker 0 looks after person 0 only.
    careWorkerToken = await mintToken({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId }, { dataDir });
    kit = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: gpToken });
    medplum = new MedplumClient({ baseUrl: `${tandem.url}/`, fhirUrlPath: 'fhir', cacheTime: 0 });
    medplum.setAccessToken(gpToken);
    // Person 0 has a paracetamol order (PRN) from the GP and a dose given under it, so a dose names its order.
    const ago = (minutes: number) => new Date(Math.floor(Date.now() / 1000) * 1000 - minutes * 60_000).toISOString();
    const order = await fetch(`${tandem.url}/fhir/MedicationRequest`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${gpToken}` },
      body: JSON.stringify({
        resourceType: 'MedicationRequest',
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: { coding: [{ system: 'https://dmd.nhs.uk', code: '42109611000001109', display: 'Paracetamol 500mg tablets' }], text: 'Paracetamol 500mg tablets' },
        subject: { reference: `Patient/${patientIds[0]}` },
        authoredOn: ago(30),
        requester: { reference: `Practitioner/${DEMO.gp.practitionerId}` },
        dosageInstruction: [
          {
            route: { text: 'Oral' },
            doseAndRate: [{ doseQuantity: { value: 2, unit: 'tablet' } }],
            asNeededCodeableConcept: { text: 'pain' },
            timing: { repeat: { boundsPeriod: { start: ago(600) }, frequency: 1, period: 4, periodUnit: 'h' } },
            maxDosePerPeriod: { numerator: { value: 4, unit: 'doses' }, denominator: { value: 24, unit: 'hours', system: 'http://unitsofmeasure.org', code: 'h' } },
          },
        ],
      }),
    });
    expect(order.status).toBe(201);
    const orderId = ((await order.json()) as { id: string }).id;
    const worker: Actor = { id: DEMO.careWorkers[0]!.practitionerId, role: 'care-worker', organisation: DEMO.careAgency.organisationId };
    await record.care.recordCare('RecordMedicineDose', { idempotencyKey: 'searches:dose', occurredAt: ago(5), patientId: patientIds[0]!, orderId, outcome: 'given', dose: { value: 2, unit: 'tablet' }, prnReason: 'hip pain' }, worker);
    await fhirGet(`/Patient/${patientIds[0]}`, gpToken, { 'x-tandem-min-position': String(await tandem.storage.store.headPosition()) });
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('chained and identifier searches', () => {
    it("finds a person's observations by name, by subject:Patient.identifier, by subject:identifier and by a bare id, as by their id (fhir-kit-client, MedplumClient)", async () => {
      const patientId = patientIds[0]!;
      const nhsNumber = await nhsNumberOf(patientId);
      const family = await familyOf(patientId);
      const byId = (await fhirGet(`/Observation?patient=Patient/${patientId}&code=${encodeURIComponent(HEART_RATE)}&_count=1000`)).body;
      expect(byId.total).toBeGreaterThan(0);
      // No other demo person shares the family name (FAMILY[(p * 7) % n]), so the name finds only them.
      const others = await Promise.all(patientIds.slice(1).map(familyOf));
      expect(others).not.toContain(family);

      const byName = (await kit.search({ resourceType: 'Observation', searchParams: { 'patient.name': family.toLowerCase(), code: HEART_RATE, _count: '1000' } })) as Bundle;
      expect(idsOf(byName).sort()).toEqual(idsOf(byId).sort());
      const typed = await medplum.search('Observation', { 'subject:Patient.identifier': `${NHS}|${nhsNumber}`, code: HEART_RATE, _count: '0' });
      expect(typed.total).toBe(byId.total);
      const modifier = (await kit.search({ resourceType: 'Observation', searchParams: { 'subject:identifier': `${NHS}|${nhsNumber}`, code: HEART_RATE, _count: '0' } })) as Bundle;
      expect(modifier.total).toBe(byId.total);
      const bare = await medplum.search('Observation', { subject: patientId, code: HEART_RATE, _count: '0' });
      expect(bare.total).toBe(byId.total);
      const chainedModifier = (await fhirGet(`/Observation?patient.family:exact=${encodeURIComponent(family)}&code=${encodeURIComponent(HEART_RATE)}&_count=0`)).body;
      expect(chainedModifier.total).toBe(byId.total);
    });

    it("never finds a person outside the caller's care, however the search names them (chained, :identifier, by name, compartment)", async () => {
      const stranger = patientIds[1]!;
      const nhsNumber = await nhsNumberOf(stranger);
      const family = await familyOf(stranger);
      const strangerCare = (await fhirGet(`/Observation?patient=Patient/${stranger}&_count=0`)).body;
      expect(strangerCare.total).toBeGreaterThan(0);
      for (const search of [
        `/Observation?patient.name=${encodeURIComponent(family)}`,
        `/Observation?subject:identifier=${encodeURIComponent(`${NHS}|${nhsNumber}`)}`,
        `/Observation?subject:Patient.identifier=${encodeURIComponent(`${NHS}|${nhsNumber}`)}`,
        `/Observation?patient.family:contains=${encodeURIComponent(family.slice(1, 4))}&patient.gender=${((await fhirGet(`/Patient/${stranger}`)).body as unknown as Patient).gender!}`,
        `/Patient?family=${encodeURIComponent(family)}`,
        `/Patient?identifier=${encodeURIComponent(`${NHS}|${nhsNumber}`)}`,
        `/Provenance?patient.identifier=${encodeURIComponent(`${NHS}|${nhsNumber}`)}`,
      ]) {
        const answer = await fhirGet(search, careWorkerToken);
        expect({ search, status: answer.status, total: answer.body.total }).toEqual({ search, status: 200, total: 0 });
      }
      // Naming the person outright is refused, by compartment as by patient=.
      expect((await fhirGet(`/Patient/${stranger}/Observation`, careWorkerToken)).status).toBe(403);
      expect((await fhirGet(`/Observation?subject:Patient=${stranger}`, careWorkerToken)).status).toBe(403);
      // Their own person is found the same ways.
      const own = await fhirGet(`/Observation?subject:identifier=${encodeURIComponent(`${NHS}|${await nhsNumberOf(patientIds[0]!)}`)}&_count=0`, careWorkerToken);
      expect(own.body.total).toBeGreaterThan(0);
    });

    it('refuses a chain it does not support, naming it', async () => {
      for (const [search, param] of [
        ['/Observation?subject.general-practitioner.name=Shah', 'subject.general-practitioner.name'],
        ['/Observation?subject.telecom=0113', 'subject.telecom'],
        ['/Observation?code.name=x', 'code.name'],
        ['/Observation?subject:Practitioner.name=x', 'subject:Practitioner.name'],
      ] as const) {
        const answer = await fhirGet(search);
        expect({ search, status: answer.status, expression: answer.body.issue?.[0]?.expression }).toEqual({ search, status: 400, expression: [param] });
      }
    });
  });

  describe('Patient by family, given, gender and postcode', () => {
    it('matches the start of the name, whatever its case and accents, and :exact and :contains as the spec has them (fhir-kit-client, MedplumClient)', async () => {
      const found = async (searchParams: Record<string, string>) => idsOf((await kit.search({ resourceType: 'Patient', searchParams })) as Bundle);
      expect(await found({ family: 'bronte' })).toEqual([bronte.id]);
      expect(await found({ family: 'BRON' })).toEqual([bronte.id]);
      expect(await found({ family: 'ronte' })).toEqual([]);
      expect(await found({ given: 'eloi' })).toEqual([bronte.id]);
      expect(await found({ 'family:exact': 'Brontë' })).toEqual([bronte.id]);
      expect(await found({ 'family:exact': 'Bronte' })).toEqual([]);
      expect(await found({ 'family:contains': 'ONT' })).toEqual([bronte.id]);
      expect(await found({ 'address-postalcode': 'ls99 1' })).toEqual([bronte.id]);
      expect(await found({ 'address-postalcode': 'LS991Z' })).toEqual([bronte.id]);
      // OR within a value, AND across parameters.
      expect(await found({ family: 'zzz,bron', given: 'élo' })).toEqual([bronte.id]);
      expect(await found({ family: 'bron', given: 'mary' })).toEqual([]);

      const women = await medplum.searchResources('Patient', { gender: 'female', _count: '100' });
      const men = await medplum.searchResources('Patient', { 'gender:not': 'female', _count: '100' });
      expect(women.map((p) => p.id)).toContain(bronte.id);
      expect(women.every((p) => p.gender === 'female')).toBe(true);
      expect(men.length).toBeGreaterThan(0);
      expect(men.every((p) => p.gender !== 'female')).toBe(true);
      expect(women.length + men.length).toBe(patientIds.length + 1);
      expect((await medplum.search('Patient', { 'family:missing': 'true', _count: '0' })).total).toBe(0);
      expect((await medplum.search('Patient', { 'family:missing': 'false', _count: '0' })).total).toBe(patientIds.length + 1);
    });
  });

  describe('modifiers on tokens and dates', () => {
    it('answers code:text by the codings’ display, code:not with the rest, and date:missing', async () => {
      const patientId = patientIds[0]!;
      const all = (await fhirGet(`/Observation?patient=${patientId}&_count=0`)).body.total!;
      const heart = (await fhirGet(`/Observation?patient=${patientId}&code=${encodeURIComponent(HEART_RATE)}&_count=1000`)).body;
      const byText = (await fhirGet(`/Observation?patient=${patientId}&code:text=HEART%20rate&_count=1000`)).body;
      expect(heart.total).toBeGreaterThan(0);
      expect(idsOf(byText).sort()).toEqual(idsOf(heart).sort());
      const notHeart = (await fhirGet(`/Observation?patient=${patientId}&code:not=${encodeURIComponent(HEART_RATE)}&_count=1000`)).body;
      expect(notHeart.total).toBe(all - heart.total!);
      expect(idsOf(notHeart).some((id) => idsOf(heart).includes(id))).toBe(false);
      expect((await fhirGet(`/Observation?patient=${patientId}&date:missing=true&_count=0`)).body.total).toBe(0);
      expect((await fhirGet(`/Observation?patient=${patientId}&date:missing=false&_count=0`)).body.total).toBe(all);
    });

    it('refuses a modifier a parameter does not answer with a 400 naming it, even under Prefer: handling=lenient (leaving it out would answer the opposite)', async () => {
      for (const [search, param] of [
        ['/Observation?status:exact=final', 'status:exact'],
        ['/Observation?date:text=May', 'date:text'],
        ['/Patient?family:text=x', 'family:text'],
        ['/Observation?patient:not=Patient/x', 'patient:not'],
        ['/Observation?category:above=vital-signs', 'category:above'],
        ['/Patient?family:missing=maybe', 'family:missing'],
        ['/Observation?date=ap2026-13-01', 'date'],
      ] as const) {
        for (const prefer of ['handling=strict', 'handling=lenient']) {
          const answer = await fhirGet(search, gpToken, { prefer });
          expect({ search, prefer, status: answer.status, type: answer.body.resourceType, expression: answer.body.issue?.[0]?.expression }).toEqual({ search, prefer, status: 400, type: 'OperationOutcome', expression: [param] });
        }
      }
    });
  });

  describe('date prefixes and OR dates', () => {
    const dayAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);

    it('answers sa as gt and eb as lt (a clinical time is an instant), and ap around the value by a tenth of its distance from now', async () => {
      const base = `/Observation?patient=${patientIds[0]}&code=${encodeURIComponent(HEART_RATE)}`;
      const count = async (date: string) => (await fhirGet(`${base}&_count=0&date=${encodeURIComponent(date)}`)).body.total!;
      expect(await count(`sa${dayAgo(5)}`)).toBe(await count(`gt${dayAgo(5)}`));
      expect(await count(`eb${dayAgo(5)}`)).toBe(await count(`lt${dayAgo(5)}`));
      expect(await count(`sa${dayAgo(5)}`)).toBeGreaterThan(0);
      // A reading ten or so days ago: approximately its time is within a day either side of it, so its neighbours (a day apart) come too.
      const oldest = (await fhirGet(`${base}&_sort=date&_count=1000`)).body.entry!.map((e) => e.resource as Observation);
      const times = oldest.map((o) => Date.parse(o.effectiveDateTime!));
      const chosen = oldest[1]!.effectiveDateTime!;
      const tolerance = (Date.now() - Date.parse(chosen)) / 10;
      const near = times.filter((t) => Math.abs(t - Date.parse(chosen)) <= tolerance).length;
      expect(tolerance).toBeGreaterThan(86_400_000);
      expect(await count(`ap${chosen}`)).toBe(near);
      expect(near).toBeGreaterThan(await count(`eq${chosen}`));
    });

    it('pages through OR dates (date=lt…,gt…) each entry once with links that keep the parameter exactly, while an entry is written between pages (fhir-kit-client)', async () => {
      const patientId = patientIds[0]!;
      const date = `lt${dayAgo(8)},gt${dayAgo(3)}`;
      const expected = [
        ...idsOf((await fhirGet(`/Observation?patient=${patientId}&date=lt${dayAgo(8)}&_count=1000`)).body),
        ...idsOf((await fhirGet(`/Observation?patient=${patientId}&date=gt${dayAgo(3)}&_count=1000`)).body),
      ].sort();
      let page = (await kit.search({ resourceType: 'Observation', searchParams: { patient: patientId, date, _count: '20' } })) as Bundle;
      const seen = idsOf(page);
      const written = await fetch(`${tandem.url}/fhir/Observation`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${gpToken}` },
        body: JSON.stringify({
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: LOINC, code: '9279-1' }] },
          subject: { reference: `Patient/${patientId}` },
          effectiveDateTime: new Date(Date.now() - 60_000).toISOString(),
          valueQuantity: { value: 18, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
        }),
      });
      expect(written.status).toBe(201);
      while (nextOf(page)) {
        const next = nextOf(page)!;
        expect(new URL(next).searchParams.getAll('date')).toEqual([date]);
        page = (await kit.nextPage({ bundle: page })) as Bundle;
        seen.push(...idsOf(page));
      }
      expect(seen).toHaveLength(new Set(seen).size);
      expect(seen.length).toBeGreaterThan(20);
      expect([...seen].sort()).toEqual(expected);
    });
  });

  describe('_include and _revinclude', () => {
    it('adds the Provenance of each match (_revinclude=Provenance:target), the performer and the order, each as a direct read would allow', async () => {
      const patientId = patientIds[0]!;
      const withProvenance = (await fhirGet(`/Observation?patient=${patientId}&_count=3&_revinclude=Provenance:target&_include=Observation:performer`)).body;
      const matches = idsOf(withProvenance);
      const included = (withProvenance.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => e.resource!);
      const provenances = included.filter((r) => r.resourceType === 'Provenance') as Provenance[];
      expect(matches).toHaveLength(3);
      for (const id of matches) expect(provenances.some((p) => p.target.some((t) => t.reference!.startsWith(`Observation/${id}/`)))).toBe(true);
      expect(included.some((r) => r.resourceType === 'Practitioner')).toBe(true);
      // The care worker in the person's care reads their Provenance too: it is decided on the person it is indexed under.
      const asCareWorker = (await fhirGet(`/Observation?patient=${patientId}&_count=3&_revinclude=Provenance:target`, careWorkerToken)).body;
      expect((asCareWorker.entry ?? []).filter((e) => e.resource!.resourceType === 'Provenance').length).toBeGreaterThan(0);

      const doses = (await fhirGet(`/MedicationAdministration?patient=${patientId}&_count=2&_include=MedicationAdministration:request`)).body;
      expect(idsOf(doses)).toHaveLength(2);
      expect((doses.entry ?? []).some((e) => e.search?.mode === 'include' && e.resource!.resourceType === 'MedicationRequest')).toBe(true);
      const refused = await fhirGet(`/Observation?patient=${patientId}&_include=Observation:device&_revinclude=Provenance:target`);
      expect(refused.status).toBe(400);
      expect(refused.body.issue[0]!.expression).toEqual(['_include']);
      expect((await fhirGet(`/Observation?_revinclude=AuditEvent:patient`)).body.issue?.[0]?.expression).toEqual(['_revinclude']);
    });
  });

  describe('_sort', () => {
    it('sorts on several keys, each either way, and pages that order each entry once', async () => {
      const patients = (await fhirGet('/Patient?_sort=-family,birthdate&_count=100')).body;
      const families = (patients.entry ?? []).map((e) => (e.resource as Patient).name![0]!.family!.toLowerCase());
      expect(families).toEqual([...families].sort().reverse());

      const search = `/Observation?patient=${patientIds[0]}&_sort=-date,_id&_count=7`;
      const { ids, links } = await allPages(search);
      const all = (await fhirGet(`/Observation?patient=${patientIds[0]}&_count=1000`)).body;
      expect(ids).toHaveLength(all.total!);
      expect(new Set(ids).size).toBe(ids.length);
      for (const link of links) expect(new URL(link).searchParams.get('_sort')).toBe('-date,_id');
      const dates = (await Promise.all(ids.slice(0, 15).map(async (id) => ((await fhirGet(`/Observation/${id}`)).body as unknown as Observation).effectiveDateTime!))).map((d) => Date.parse(d));
      expect(dates).toEqual([...dates].sort((a, b) => b - a));
      const refused = await fhirGet('/Observation?_sort=code');
      expect(refused.status).toBe(400);
      expect(refused.body.issue[0]!.expression).toEqual(['_sort']);
    });

    it('orders Observations by their clinical time, the most recent first, when no _sort is given (not by when they were stored)', async () => {
      const patientId = patientIds[0]!;
      const written = await fetch(`${tandem.url}/fhir/Observation`, {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${gpToken}` },
        body: JSON.stringify({
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: LOINC, code: '8867-4' }] },
          subject: { reference: `Patient/${patientId}` },
          effectiveDateTime: new Date(Date.now() - 4 * 86_400_000).toISOString(),
          valueQuantity: { value: 70, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
        }),
      });
      expect(written.status).toBe(201);
      const late = ((await written.json()) as Observation).id!;
      const position = written.headers.get('x-tandem-position')!;
      const byDefault = (await fhirGet(`/Observation?patient=${patientId}&code=${encodeURIComponent(HEART_RATE)}&_count=1000`, gpToken, { 'x-tandem-min-position': position })).body;
      const byDate = (await fhirGet(`/Observation?patient=${patientId}&code=${encodeURIComponent(HEART_RATE)}&_sort=-date&_count=1000`)).body;
      expect(idsOf(byDefault)).toEqual(idsOf(byDate));
      expect(idsOf(byDefault)[0]).not.toBe(late);
      expect(idsOf(byDefault)).toContain(late);
    });
  });

  describe('POST _search and compartment search', () => {
    it('answers POST <type>/_search (form body and query combined) as the GET, with GET links (fhir-kit-client postSearch)', async () => {
      const patientId = patientIds[0]!;
      const get = (await fhirGet(`/Observation?patient=${patientId}&code=${encodeURIComponent(HEART_RATE)}&_count=4`)).body;
      const posted = (await kit.search({ resourceType: 'Observation', searchParams: { patient: patientId, code: HEART_RATE, _count: '4' }, options: { postSearch: true } as never })) as Bundle;
      expect(idsOf(posted)).toEqual(idsOf(get));
      expect(posted.total).toBe(get.total);
      const next = nextOf(posted)!;
      expect(new URL(next).pathname).toBe('/fhir/Observation');
      expect((await fhirGet(next)).status).toBe(200);

      const combined = await fetch(`${tandem.url}/fhir/Observation/_search?patient=${patientId}&_count=4`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${gpToken}` },
        body: new URLSearchParams({ code: HEART_RATE }).toString(),
      });
      const body = (await combined.json()) as Bundle;
      expect(idsOf(body)).toEqual(idsOf(get));
      expect(new URL(body.link!.find((l) => l.relation === 'self')!.url).searchParams.get('code')).toBe(HEART_RATE);
      const json = await fetch(`${tandem.url}/fhir/Observation/_search`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${gpToken}` }, body: '{}' });
      expect(json.status).toBe(415);
      expect(((await json.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
    });

    it('answers Patient/<id>/<type> as <type>?patient=<id> for every type of the compartment it holds (fhir-kit-client compartmentSearch, MedplumClient)', async () => {
      const patientId = patientIds[0]!;
      for (const type of ['Observation', 'MedicationAdministration', 'MedicationRequest', 'CareTeam', 'Provenance']) {
        const bySearch = (await fhirGet(`/${type}?patient=${patientId}&_count=5`)).body;
        const byCompartment = (await kit.compartmentSearch({ resourceType: type, compartment: { resourceType: 'Patient', id: patientId }, searchParams: { _count: '5' } })) as Bundle;
        expect({ type, total: byCompartment.total, ids: idsOf(byCompartment) }).toEqual({ type, total: bySearch.total, ids: idsOf(bySearch) });
        expect(bySearch.total).toBeGreaterThan(0);
        if (nextOf(byCompartment)) expect(new URL(nextOf(byCompartment)!).pathname).toBe(`/fhir/Patient/${patientId}/${type}`);
      }
      const viaMedplum = await medplum.get<Bundle>(medplum.fhirUrl('Patient', patientId, 'Observation') + `?code=${encodeURIComponent(HEART_RATE)}&_count=0`);
      expect(viaMedplum.total).toBe((await fhirGet(`/Observation?patient=${patientId}&code=${encodeURIComponent(HEART_RATE)}&_count=0`)).body.total);
      const notInCompartment = await fhirGet(`/Patient/${patientId}/Practitioner`);
      expect(notInCompartment.status).toBe(400);
    });
  });
});
