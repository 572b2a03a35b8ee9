import { PGlite } from '@electric-sql/pglite';
import { createAccessControl, DevIssuer } from '@tandem/auth';
import { careEventDefinitions, EventRegistry, type Actor } from '@tandem/contracts';
import { pgliteBackend, pgliteDriver, validatedStore, type EventStore } from '@tandem/event-store';
import { FhirReader } from '@tandem/fhir-read-model';
import { createProjectionsService, fhirProjection } from '@tandem/projections';
import express from 'express';
import type { Bundle, MedicationAdministration, Observation, OperationOutcome, Patient } from 'fhir/r4';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRecordService } from '../src';

const FHIR_JSON = 'application/fhir+json';
const nurseActor: Actor = { id: 'nurse-1', role: 'district-nurse' };
/** The nurse's bearer token (set once the test's development issuer exists). */
const nurse: { authorization: string } = { authorization: '' };
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

interface Reply<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** FHIR create and update over real HTTP: the command side, the projection and the read model together. */
describe('FHIR create and update through the care record commands', () => {
  let db: PGlite;
  let store: EventStore;
  let server: Server;
  let baseUrl: string;
  let stopServices: () => Promise<void>;
  let patientId: string;

  const request = async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> => {
    const response = await fetch(`${baseUrl}/fhir${path}`, {
      method,
      headers: { 'content-type': FHIR_JSON, ...nurse, ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const post = <T>(type: string, body: unknown, headers?: Record<string, string>) => request<T>('POST', `/${type}`, body, headers);
  const put = <T>(path: string, body: unknown, headers?: Record<string, string>) => request<T>('PUT', path, body, headers);
  const get = <T>(path: string) => request<T>('GET', path);

  /** Runs a request that must be refused and proves nothing was stored. */
  const refusedWithNothingStored = async (send: () => Promise<Reply<unknown>>): Promise<Reply<OperationOutcome>> => {
    const head = await store.headPosition();
    const reply = (await send()) as Reply<OperationOutcome>;
    expect(reply.headers.get('content-type')).toMatch(/application\/fhir\+json/);
    expect(reply.body.resourceType).toBe('OperationOutcome');
    expect(await store.headPosition()).toBe(head);
    return reply;
  };

  const expressions = (outcome: OperationOutcome) => outcome.issue.flatMap((i) => i.expression ?? []);

  const pulse = (value: number, extra: Partial<Observation> = {}): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: minutesAgo(10),
    valueQuantity: { value, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    ...extra,
  });

  const insulin = (unit: string, extra: Partial<MedicationAdministration> = {}): MedicationAdministration => ({
    resourceType: 'MedicationAdministration',
    status: 'completed',
    medicationCodeableConcept: { text: 'Humulin I KwikPen' },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: minutesAgo(30),
    device: [{ display: 'pen' }],
    dosage: { site: { text: 'abdomen' }, dose: { value: 8, unit } },
    ...extra,
  });

  let issuer: DevIssuer;

  beforeAll(async () => {
    db = new PGlite();
    store = validatedStore(await pgliteBackend({ db }), new EventRegistry([...careEventDefinitions]));
    const readModels = pgliteDriver(db, false);
    issuer = await DevIssuer.create();
    nurse.authorization = `Bearer ${await issuer.mint({ role: 'district-nurse', user: 'nurse-1' })}`;
    const access = createAccessControl({ verifier: issuer.verifier() });
    const projections = createProjectionsService({ store, readModels, projections: [fhirProjection], access });
    const record = createRecordService({ store, reader: new FhirReader(readModels), version: 'test', readModelPosition: projections.runner, access, idSecret: 'fhir-writes-test-id-secret-0123456789' });
    await projections.start();
    await record.start();
    const app = express();
    app.use(record.router);
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, () => resolve(s));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    stopServices = async () => {
      await projections.stop();
      await record.stop();
    };
    ({ patientId } = await record.care.registerPatient(
      {
        idempotencyKey: 'register-arthur',
        occurredAt: minutesAgo(120),
        nhsNumber: '9912003888',
        name: { given: ['Arthur'], family: 'Jones', prefix: 'Mr' },
        birthDate: '1941-03-02',
        gpPractice: { odsCode: 'Y12345', name: 'Riverside Surgery' },
      },
      nurseActor,
    ));
    // Arthur is on nurse-1's caseload: she writes for him below.
    await record.care.addCareTeamMember({ idempotencyKey: 'arthur-team-nurse', occurredAt: minutesAgo(110), patientId, practitionerId: 'nurse-1', teamRole: 'accountable-clinician' }, nurseActor);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stopServices();
    await store.close();
    await db.close();
  });

  describe('Patient', () => {
    const margaret: Patient = {
      resourceType: 'Patient',
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' }],
      name: [{ use: 'official', given: ['Margaret'], family: 'Okafor', prefix: ['Mrs'] }],
      gender: 'female',
      birthDate: '1938-07-14',
      address: [{ line: ['4 Mill Lane'], postalCode: 'LS6 2AB' }],
      generalPractitioner: [{ identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'Y12345' }, display: 'Riverside Surgery' }],
    };

    it('registers a person from a POSTed Patient: 201 with Location and ETag', async () => {
      const created = await post<Patient>('Patient', margaret);
      expect(created.status).toBe(201);
      expect(created.headers.get('etag')).toBe('W/"1"');
      expect(created.headers.get('location')).toBe(`${baseUrl}/fhir/Patient/${created.body.id}/_history/1`);
      expect(created.body.identifier).toContainEqual({ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' });
      expect(created.body.name?.[0]).toMatchObject({ given: ['Margaret'], family: 'Okafor', prefix: ['Mrs'] });
      expect(created.body.address?.[0]).toMatchObject({ line: ['4 Mill Lane'], postalCode: 'LS6 2AB' });
      expect(created.body.generalPractitioner?.[0]).toMatchObject({ identifier: { value: 'Y12345' }, display: 'Riverside Surgery' });
    });

    it('returns the existing person (200, nothing stored) for an NHS number already registered with the same details, to a nurse who may read them', async () => {
      const head = await store.headPosition();
      const again = await post<Patient>('Patient', margaret);
      expect(again.status).toBe(200);
      expect(again.body.name?.[0]?.given).toEqual(['Margaret']);
      expect(await store.headPosition()).toBe(head);
    });

    it('refuses (409, naming each element, nothing stored) a POST for a registered NHS number whose details differ, rather than answer 200 with the old record', async () => {
      const renamed = await refusedWithNothingStored(() => post('Patient', { ...margaret, name: [{ given: ['Maggie'], family: 'Okafor' }], address: [{ line: ['9 Canal Street'], city: 'Leeds', postalCode: 'LS1 4AP' }] }));
      expect(renamed.status).toBe(409);
      expect(expressions(renamed.body)).toEqual(['Patient.name[0]', 'Patient.address[0]']);
      expect(renamed.body.issue[0]!.diagnostics).toMatch(/already registered .* PUT the change with If-Match/);
      // Someone else's NHS number with Margaret's details: the other person's record is not hers.
      const existing = await refusedWithNothingStored(() => post('Patient', { ...margaret, identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9912003888' }] }));
      expect(existing.status).toBe(409);
      expect(expressions(existing.body)).toContain('Patient.name[0]');
    });

    it('updates details with PUT (UpdatePatientDetails) and refuses a changed NHS number', async () => {
      const current = await get<Patient>(`/Patient/${patientId}`);
      const moved = { ...current.body, address: [{ line: ['9 Canal Street'], postalCode: 'LS1 4AP' }] };
      const updated = await put<Patient>(`/Patient/${patientId}`, moved, { 'if-match': current.headers.get('etag')! });
      expect(updated.status).toBe(200);
      expect(updated.headers.get('etag')).toBe('W/"2"');
      expect(updated.body.address?.[0]).toMatchObject({ line: ['9 Canal Street'], postalCode: 'LS1 4AP' });

      const renumbered = await refusedWithNothingStored(() =>
        put(`/Patient/${patientId}`, { ...updated.body, identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' }] }),
      );
      expect(renumbered.status).toBe(422);
      expect(expressions(renumbered.body)).toEqual(['Patient.identifier[0].value']);
    });

    it('keeps the town and county of an address, and refuses what it would not keep (a second address, an element it does not record), naming it', async () => {
      const current = await get<Patient>(`/Patient/${patientId}`);
      const moved = await put<Patient>(`/Patient/${patientId}`, { ...current.body, address: [{ use: 'home', line: ['4 Mill Lane'], city: 'Leeds', district: 'West Yorkshire', postalCode: 'LS6 2AB' }] }, { 'if-match': current.headers.get('etag')! });
      expect(moved.status).toBe(200);
      expect(moved.body.address?.[0]).toMatchObject({ line: ['4 Mill Lane'], city: 'Leeds', district: 'West Yorkshire', postalCode: 'LS6 2AB' });
      const etag = moved.headers.get('etag')!;
      for (const [address, expression] of [
        [[{ line: ['4 Mill Lane'], postalCode: 'LS6 2AB' }, { line: ['1 Holiday Road'], postalCode: 'YO11 1AA' }], 'Patient.address[1]'],
        [[{ line: ['4 Mill Lane'], postalCode: 'LS6 2AB', state: 'Yorkshire' }], 'Patient.address[0].state'],
        [[{ line: ['4 Mill Lane'], postalCode: 'LS6 2AB', use: 'temp' }], 'Patient.address[0].use'],
      ] as const) {
        const refused = await refusedWithNothingStored(() => put(`/Patient/${patientId}`, { ...moved.body, address }, { 'if-match': etag }));
        expect({ expression, status: refused.status, expressions: expressions(refused.body) }).toEqual({ expression, status: 422, expressions: [expression] });
      }
    });
  });

  describe('Observation', () => {
    it('records a POSTed pulse as vital signs, readable at once as the pulse member', async () => {
      const created = await post<Observation>('Observation', pulse(88));
      expect(created.status).toBe(201);
      expect(created.body.id).toMatch(/^[0-9a-f-]{36}-pulse$/);
      expect(created.headers.get('etag')).toBe('W/"1"');
      expect(created.headers.get('location')).toBe(`${baseUrl}/fhir/Observation/${created.body.id}/_history/1`);
      expect(created.body).toMatchObject({ status: 'final', subject: { reference: `Patient/${patientId}` }, valueQuantity: { value: 88 } });

      const read = await get<Observation>(`/Observation/${created.body.id}`);
      expect(read.status).toBe(200);
      const entryId = created.body.id!.replace(/-pulse$/, '');
      const panel = await get<Observation>(`/Observation/${entryId}`);
      expect(panel.body.hasMember).toContainEqual({ reference: `Observation/${created.body.id}` });
    });

    it('records the exact same POST repeated once', async () => {
      const body = pulse(76, { effectiveDateTime: minutesAgo(45) });
      const first = await post<Observation>('Observation', body);
      const head = await store.headPosition();
      const again = await post<Observation>('Observation', body);
      expect(first.status).toBe(201);
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
      expect(await store.headPosition()).toBe(head);
    });

    it('refuses an Idempotency-Key reused for a different Observation (422 naming Idempotency-Key, nothing stored), and replays the same one', async () => {
      const key = { 'idempotency-key': 'fhir-key-reused-1' };
      const when = minutesAgo(20);
      const first = await post<Observation>('Observation', pulse(80, { effectiveDateTime: when }), key);
      expect(first.status).toBe(201);
      const same = await post<Observation>('Observation', pulse(80, { effectiveDateTime: when }), key);
      expect(same.status).toBe(200);
      expect(same.body.id).toBe(first.body.id);
      const reused = await refusedWithNothingStored(() => post('Observation', pulse(150, { effectiveDateTime: when }), key));
      expect(reused.status).toBe(422);
      expect(expressions(reused.body)).toEqual(['Idempotency-Key']);
    });

    it('records capillary blood glucose and a blood pressure panel', async () => {
      const glucose = await post<Observation>('Observation', {
        ...pulse(0),
        code: { coding: [{ system: 'http://loinc.org', code: '14743-9' }] },
        valueQuantity: { value: 6.4, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
      });
      expect(glucose.status).toBe(201);
      expect(glucose.body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(glucose.body.valueQuantity?.value).toBe(6.4);

      const bp = await post<Observation>('Observation', {
        ...pulse(0),
        valueQuantity: undefined,
        code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
        component: [
          { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 132, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
          { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 84, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
        ],
      });
      expect(bp.status).toBe(201);
      expect(bp.body.id).toMatch(/-bp$/);
      expect(bp.body.component?.map((c) => c.valueQuantity?.value)).toEqual([132, 84]);
    });

    it('amends with If-Match: 428 without it, 412 when stale, then version 2 "amended"', async () => {
      const created = await post<Observation>('Observation', pulse(120));
      const id = created.body.id!;
      const change = { ...created.body, valueQuantity: { ...created.body.valueQuantity, value: 102 }, note: [{ text: 'Counted over 15 seconds by mistake; recounted over a full minute' }] };

      const missing = await refusedWithNothingStored(() => put(`/Observation/${id}`, change));
      expect(missing.status).toBe(428);

      const stale = await refusedWithNothingStored(() => put(`/Observation/${id}`, change, { 'if-match': 'W/"7"' }));
      expect(stale.status).toBe(412);
      expect(stale.body.issue[0]).toMatchObject({ code: 'conflict' });

      const noReason = await refusedWithNothingStored(() => put(`/Observation/${id}`, { ...change, note: undefined }, { 'if-match': 'W/"1"' }));
      expect(noReason.status).toBe(422);
      expect(expressions(noReason.body)).toEqual(['Observation.note']);

      const amended = await put<Observation>(`/Observation/${id}`, change, { 'if-match': 'W/"1"' });
      expect(amended.status).toBe(200);
      expect(amended.headers.get('etag')).toBe('W/"2"');
      expect(amended.body).toMatchObject({ status: 'amended', valueQuantity: { value: 102 } });
      expect(amended.body.note?.map((n) => n.text)).toEqual(['Amended: Counted over 15 seconds by mistake; recounted over a full minute']);

      const history = await get<Bundle>(`/Observation/${id}/_history`);
      expect(history.body.entry?.map((e) => (e.resource as Observation).valueQuantity?.value)).toEqual([102, 120]);

      // The same PUT again carries a version that is no longer current.
      const replayed = await refusedWithNothingStored(() => put(`/Observation/${id}`, change, { 'if-match': 'W/"1"' }));
      expect(replayed.status).toBe(412);
    });

    it('marks an entry entered in error with a reason', async () => {
      const created = await post<Observation>('Observation', pulse(64));
      const id = created.body.id!;
      const marked = await put<Observation>(`/Observation/${id}`, { ...created.body, status: 'entered-in-error', note: [{ text: 'Recorded for the wrong person' }] }, { 'if-match': 'W/"1"' });
      expect(marked.status).toBe(200);
      expect(marked.body.status).toBe('entered-in-error');
      const panel = await get<Observation>(`/Observation/${id.replace(/-pulse$/, '')}`);
      expect(panel.body.status).toBe('entered-in-error');
    });

    it("amends one member of a full set of vital signs, keeping the set's other measurements", async () => {
      const response = await fetch(`${baseUrl}/api/patients/${patientId}/vital-signs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...nurse },
        body: JSON.stringify({ idempotencyKey: 'full-set-1', occurredAt: minutesAgo(20), respirationRate: 18, spo2: 96, airOrOxygen: 'air', systolic: 128, diastolic: 78, pulse: 80, consciousness: 'A', temperatureC: 37.1 }),
      });
      const { eventIds, position } = (await response.json()) as { eventIds: string[]; position: number };
      const entryId = eventIds[0]!;
      await fetch(`${baseUrl}/fhir/Observation/${entryId}`, { headers: { 'x-tandem-min-position': String(position), ...nurse } });

      const spo2 = await get<Observation>(`/Observation/${entryId}-spo2`);
      const amended = await put<Observation>(
        `/Observation/${entryId}-spo2`,
        { ...spo2.body, valueQuantity: { ...spo2.body.valueQuantity, value: 93 }, note: [{ text: 'Probe was on a cold finger; re-measured' }] },
        { 'if-match': spo2.headers.get('etag')! },
      );
      expect(amended.status).toBe(200);
      expect(amended.body).toMatchObject({ status: 'amended', valueQuantity: { value: 93 } });
      const pulseMember = await get<Observation>(`/Observation/${entryId}-pulse`);
      expect(pulseMember.body).toMatchObject({ status: 'amended', valueQuantity: { value: 80 } });
      const bp = await get<Observation>(`/Observation/${entryId}-bp`);
      expect(bp.body.component?.map((c) => c.valueQuantity?.value)).toEqual([128, 78]);

      // Taking one measurement out: that member is entered in error, the rest stay.
      const removed = await put<Observation>(
        `/Observation/${entryId}-temp`,
        { ...(await get<Observation>(`/Observation/${entryId}-temp`)).body, status: 'entered-in-error', note: [{ text: 'Thermometer faulty' }] },
        { 'if-match': 'W/"2"' },
      );
      expect(removed.body.status).toBe('entered-in-error');
      expect((await get<Observation>(`/Observation/${entryId}-pulse`)).body.valueQuantity?.value).toBe(80);
      expect((await get<Observation>(`/Observation/${entryId}`)).body.status).toBe('amended');
    });

    it('amends a blood glucose reading, keeping its ketones; NEWS2 is never written', async () => {
      const response = await fetch(`${baseUrl}/api/patients/${patientId}/blood-glucose`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...nurse },
        body: JSON.stringify({ idempotencyKey: 'glucose-ketones-1', occurredAt: minutesAgo(25), glucoseMmolL: 41, ketonesMmolL: 0.4 }),
      });
      const { eventIds, position } = (await response.json()) as { eventIds: string[]; position: number };
      const entryId = eventIds[0]!;
      await fetch(`${baseUrl}/fhir/Observation/${entryId}`, { headers: { 'x-tandem-min-position': String(position), ...nurse } });
      const glucose = await get<Observation>(`/Observation/${entryId}`);
      const amended = await put<Observation>(
        `/Observation/${entryId}`,
        { ...glucose.body, valueQuantity: { ...glucose.body.valueQuantity, value: 4.1 }, note: [{ text: 'Typed 41 instead of 4.1' }] },
        { 'if-match': 'W/"1"' },
      );
      expect(amended.body).toMatchObject({ status: 'amended', valueQuantity: { value: 4.1 } });
      expect((await get<Observation>(`/Observation/${entryId}-ketones`)).body).toMatchObject({ status: 'amended', valueQuantity: { value: 0.4 } });

      const vitals = await post<Observation>('Observation', pulse(70, { effectiveDateTime: minutesAgo(50) }));
      const news2Id = vitals.body.id!.replace(/-pulse$/, '-news2');
      const news2 = await get<Observation>(`/Observation/${news2Id}`);
      const refused = await refusedWithNothingStored(() => put(`/Observation/${news2Id}`, { ...news2.body, note: [{ text: 'Score looks wrong' }] }, { 'if-match': 'W/"1"' }));
      expect(refused.status).toBe(422);
    });

    it('answers malformed JSON with a 400 OperationOutcome', async () => {
      const reply = await refusedWithNothingStored(() => post('Observation', '{"resourceType": "Observation",'));
      expect(reply.status).toBe(400);
    });

    it('refuses the wrong resourceType with 400', async () => {
      const reply = await refusedWithNothingStored(() => post('Observation', { ...pulse(70), resourceType: 'Patient' }));
      expect(reply.status).toBe(400);
      expect(expressions(reply.body)).toEqual(['Observation.resourceType']);
    });

    it('refuses an Observation without a subject with 400 naming it', async () => {
      const reply = await refusedWithNothingStored(() => post('Observation', { ...pulse(70), subject: undefined }));
      expect(reply.status).toBe(400);
      expect(reply.body.issue[0]).toMatchObject({ code: 'required', expression: ['Observation.subject'] });
    });

    it('refuses SpO2 140 % with 422 naming Observation.valueQuantity.value', async () => {
      const reply = await refusedWithNothingStored(() =>
        post('Observation', { ...pulse(0), code: { coding: [{ system: 'http://loinc.org', code: '2708-6' }] }, valueQuantity: { value: 140, unit: '%', system: 'http://unitsofmeasure.org', code: '%' } }),
      );
      expect(reply.status).toBe(422);
      expect(expressions(reply.body)).toEqual(['Observation.valueQuantity.value']);
      expect(reply.body.issue[0]?.diagnostics).toMatch(/SpO2/);
    });

    it('refuses a temperature in Fahrenheit instead of reading it as Celsius', async () => {
      const reply = await refusedWithNothingStored(() =>
        post('Observation', { ...pulse(0), code: { coding: [{ system: 'http://loinc.org', code: '8310-5' }] }, valueQuantity: { value: 99.5, unit: '°F', system: 'http://unitsofmeasure.org', code: '[degF]' } }),
      );
      expect(reply.status).toBe(422);
      expect(expressions(reply.body)).toEqual(['Observation.valueQuantity.code']);
    });

    it('refuses an unsupported code and an unknown person with 422', async () => {
      const unsupported = await refusedWithNothingStored(() => post('Observation', { ...pulse(70), code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] } }));
      expect(unsupported.status).toBe(422);
      expect(expressions(unsupported.body)).toEqual(['Observation.code']);

      // To a nurse, someone not recorded is refused like someone not in her care: no probing for who is recorded.
      const stranger = { ...pulse(70), subject: { reference: 'Patient/00000000-0000-4000-8000-000000000000' } };
      const refused = await refusedWithNothingStored(() => post('Observation', stranger));
      expect(refused.status).toBe(403);
      expect(refused.body.issue[0]!.code).toBe('forbidden');
      // An integration that may write for everyone learns the person is not in the record.
      const hub = `Bearer ${await issuer.mint({ role: 'system', user: 'device-hub', scope: 'system/Observation.cru' })}`;
      const unknown = await refusedWithNothingStored(() => post('Observation', stranger, { authorization: hub }));
      expect(unknown.status).toBe(422);
      expect(expressions(unknown.body)).toEqual(['Observation.subject']);
    });

    it('refuses (403) a write for someone outside the writer’s care, and stores nothing', async () => {
      const otherNurse = `Bearer ${await issuer.mint({ role: 'district-nurse', user: 'nurse-2' })}`;
      const refused = await refusedWithNothingStored(() => post('Observation', pulse(71), { authorization: otherNurse }));
      expect(refused.status).toBe(403);
      const created = await post<Observation>('Observation', pulse(72));
      const update = await refusedWithNothingStored(() =>
        put(`/Observation/${created.body.id}`, { ...created.body, status: 'entered-in-error', note: [{ text: 'not mine' }] }, { 'if-match': 'W/"1"', authorization: otherNurse }),
      );
      expect(update.status).toBe(403);
    });

    it('asks who is writing (401) before anything else', async () => {
      const head = await store.headPosition();
      const response = await fetch(`${baseUrl}/fhir/Observation`, { method: 'POST', headers: { 'content-type': FHIR_JSON }, body: JSON.stringify(pulse(70)) });
      expect(response.status).toBe(401);
      expect(((await response.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
      expect(await store.headPosition()).toBe(head);
    });
  });

  describe('MedicationAdministration', () => {
    it('records insulin given by pen, in units', async () => {
      const given = await post<MedicationAdministration>('MedicationAdministration', insulin('units'));
      expect(given.status).toBe(201);
      expect(given.body).toMatchObject({ status: 'completed', dosage: { dose: { value: 8, unit: 'units' } } });
    });

    it('refuses the unit "IU" with 422 naming MedicationAdministration.dosage.dose.unit', async () => {
      const reply = await refusedWithNothingStored(() => post('MedicationAdministration', insulin('IU', { effectiveDateTime: minutesAgo(300) })));
      expect(reply.status).toBe(422);
      expect(expressions(reply.body)).toEqual(['MedicationAdministration.dosage.dose.unit']);
    });

    it('asks before a possible duplicate dose (409) and records it once confirmed', async () => {
      const dose = insulin('units', { medicationCodeableConcept: { text: 'Lantus SoloStar' }, effectiveDateTime: minutesAgo(200) });
      expect((await post('MedicationAdministration', dose)).status).toBe(201);
      const second = { ...dose, effectiveDateTime: minutesAgo(190) };
      const asked = await refusedWithNothingStored(() => post('MedicationAdministration', second));
      expect(asked.status).toBe(409);
      expect(asked.body.issue[0]).toMatchObject({ code: 'duplicate', expression: ['MedicationAdministration.effectiveDateTime'] });
      const confirmed = await post<MedicationAdministration>('MedicationAdministration', {
        ...second,
        extension: [{ url: 'https://tandem.nhs.example/fhir/StructureDefinition/confirmed-not-duplicate', valueBoolean: true }],
      });
      expect(confirmed.status).toBe(201);
    });

    it('refuses a syringe', async () => {
      const reply = await refusedWithNothingStored(() => post('MedicationAdministration', insulin('units', { effectiveDateTime: minutesAgo(300), device: [{ display: 'syringe' }] })));
      expect(reply.status).toBe(422);
      expect(expressions(reply.body)).toEqual(['MedicationAdministration.device[0].display']);
    });

    it('records insulin withheld with its reason, and amends it with If-Match', async () => {
      const withheld = await post<MedicationAdministration>(
        'MedicationAdministration',
        insulin('units', { status: 'not-done', statusReason: [{ text: 'Blood glucose 3.2 mmol/L: hypo protocol followed' }], effectiveDateTime: minutesAgo(600), device: undefined }),
      );
      expect(withheld.status).toBe(201);
      expect(withheld.body).toMatchObject({ status: 'not-done', statusReason: [{ text: 'Blood glucose 3.2 mmol/L: hypo protocol followed' }] });

      const amended = await put<MedicationAdministration>(
        `/MedicationAdministration/${withheld.body.id}`,
        { ...withheld.body, dosage: { ...withheld.body.dosage, dose: { value: 10, unit: 'units' } }, note: [{ text: 'Planned dose was 10 units, not 8' }] },
        { 'if-match': 'W/"1"' },
      );
      expect(amended.status).toBe(200);
      expect(amended.body.dosage?.dose?.value).toBe(10);
    });
  });

  describe('transaction and batch Bundles at POST /fhir', () => {
    const LOINC = 'http://loinc.org';
    const UCUM = 'http://unitsofmeasure.org';
    let n = 0;
    const urn = () => `urn:uuid:00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
    const entry = (resource: Observation, fullUrl = urn()) => ({ fullUrl, resource, request: { method: 'POST', url: 'Observation' } });
    const spo2 = (code: string, value: number, at: string): Observation => ({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: LOINC, code }] },
      subject: { reference: `Patient/${patientId}` },
      effectiveDateTime: at,
      valueQuantity: { value, unit: '%', system: UCUM, code: '%' },
    });
    const panelOf = (at: string, members: { fullUrl: string }[]): Observation => ({
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: LOINC, code: '85353-1' }] },
      subject: { reference: `Patient/${patientId}` },
      effectiveDateTime: at,
      hasMember: members.map((m) => ({ reference: m.fullUrl })),
    });
    const transaction = (entries: unknown[], type = 'transaction') => ({ resourceType: 'Bundle', type, entry: entries });

    it('given a panel whose members are pulse and SpO2 (59408-5), when it is sent as a transaction, then one entry holds both', async () => {
      const at = minutesAgo(40);
      const members = [entry(pulse(88, { effectiveDateTime: at })), entry(spo2('59408-5', 96, at))];
      const reply = await request<Bundle>('POST', '', transaction([entry(panelOf(at, members)), ...members]));
      expect(reply.status).toBe(200);
      expect(reply.body.type).toBe('transaction-response');
      const [panel, pulseAnswer, spo2Answer] = reply.body.entry!.map((e) => e.response!.location!.split('/')[1]!);
      expect(pulseAnswer).toBe(`${panel}-pulse`);
      expect(spo2Answer).toBe(`${panel}-spo2`);
      const read = await get<Observation>(`/Observation/${panel}-spo2`);
      expect(read.body.valueQuantity?.value).toBe(96);
      expect((await get<Observation>(`/Observation/${panel}-pulse`)).body.valueQuantity?.value).toBe(88);
    });

    it('refuses a panel holding SpO2 twice (2708-6 and 59408-5), naming the second, and stores nothing', async () => {
      const at = minutesAgo(41);
      const members = [entry(spo2('2708-6', 96, at)), entry(spo2('59408-5', 95, at))];
      const reply = await refusedWithNothingStored(() => request('POST', '', transaction([entry(panelOf(at, members)), ...members])));
      expect(reply.status).toBe(422);
      expect(expressions(reply.body)).toEqual(['Bundle.entry[2].resource.code']);
    });

    it('refuses a member taken at another time than its panel, naming the member, and stores nothing', async () => {
      const at = minutesAgo(42);
      const members = [entry(pulse(80, { effectiveDateTime: at })), entry(spo2('2708-6', 96, minutesAgo(50)))];
      const reply = await refusedWithNothingStored(() => request('POST', '', transaction([entry(panelOf(at, members)), ...members])));
      expect(reply.status).toBe(422);
      expect(expressions(reply.body)).toEqual(['Bundle.entry[2].resource.effectiveDateTime']);
    });

    it('refuses a hasMember that names no entry of the Bundle, and stores nothing', async () => {
      const at = minutesAgo(43);
      const members = [entry(pulse(80, { effectiveDateTime: at }))];
      const reply = await refusedWithNothingStored(() => request('POST', '', transaction([entry(panelOf(at, [{ fullUrl: 'urn:uuid:not-in-this-bundle' }])), ...members])));
      expect(reply.status).toBe(422);
      expect(expressions(reply.body)).toEqual(['Bundle.entry[0].resource.hasMember[0].reference']);
    });

    it('refuses a transaction of two separate entries (it could not be all or nothing), and stores nothing', async () => {
      const reply = await refusedWithNothingStored(() => request('POST', '', transaction([entry(pulse(70)), entry(pulse(71))])));
      expect(reply.status).toBe(422);
      expect(expressions(reply.body)).toEqual(['Bundle.entry[1]']);
    });

    it('refuses an entry this server cannot do (DELETE), naming its method, and stores nothing', async () => {
      const reply = await refusedWithNothingStored(() => request('POST', '', transaction([{ request: { method: 'DELETE', url: 'Observation/x' } }])));
      expect(reply.status).toBe(405);
      expect(expressions(reply.body)).toEqual(['Bundle.entry[0].request.method']);
    });

    it('records the good entries of a batch and answers the bad one on its own; the same batch again is a replay', async () => {
      const batch = transaction([entry(pulse(66, { effectiveDateTime: minutesAgo(44) })), { request: { method: 'DELETE', url: 'Observation/x' } }, entry(pulse(500))], 'batch');
      const first = await request<Bundle>('POST', '', batch);
      expect(first.status).toBe(200);
      expect(first.body.type).toBe('batch-response');
      expect(first.body.entry!.map((e) => e.response!.status)).toEqual(['201 Created', '405 Method Not Allowed', '422 Unprocessable Entity']);
      expect(expressions(first.body.entry![2]!.response!.outcome as OperationOutcome)).toEqual(['Bundle.entry[2].resource.valueQuantity.value']);
      const again = await request<Bundle>('POST', '', batch);
      expect(again.body.entry![0]!.response).toMatchObject({ status: '200 OK', location: first.body.entry![0]!.response!.location });
    });
  });
});
