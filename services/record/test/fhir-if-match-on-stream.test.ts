import { PGlite } from '@electric-sql/pglite';
import { createAccessControl, DevIssuer } from '@tandem/auth';
import { careEventDefinitions, EventRegistry, type Actor, type EntryAmendedData } from '@tandem/contracts';
import { pgliteBackend, pgliteDriver, validatedStore, type EventStore } from '@tandem/event-store';
import { FhirReader } from '@tandem/fhir-read-model';
import { createProjectionsService, fhirProjection } from '@tandem/projections';
import express from 'express';
import type { MedicationAdministration, Observation, OperationOutcome } from 'fhir/r4';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRecordService } from '../src';

/**
 * Hazard H49 (was O3): FHIR If-Match is decided on the stream. The version a client read is part
 * of the correction command and the record's decider refuses it when the entry is at another
 * version, so a correction made on a stale copy is never applied, even while the projection
 * lags (before, If-Match was checked against the read model, and a lagging read model let a
 * second correction made on the same version overwrite the first).
 */

const FHIR_JSON = 'application/fhir+json';
const nurseActor: Actor = { id: 'nurse-1', role: 'district-nurse' };
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

interface Reply<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

describe('FHIR corrections decided on the stream (H49)', () => {
  let db: PGlite;
  let store: EventStore;
  let server: Server;
  let baseUrl: string;
  let patientId: string;
  let authorization: string;
  let record: ReturnType<typeof createRecordService>;
  let projections: ReturnType<typeof createProjectionsService>;
  let projectionsRunning = false;

  const request = async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'content-type': method === 'POST' && path.startsWith('/api') ? 'application/json' : FHIR_JSON, authorization, ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
  };

  const pulse = (value: number): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: minutesAgo(10),
    valueQuantity: { value, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
  });

  const amendments = async (entryId: string): Promise<EntryAmendedData[]> =>
    (await store.readStream(`care-${patientId}`)).filter((e) => e.type === 'EntryAmended' && (e.data as EntryAmendedData).entryId === entryId).map((e) => e.data as EntryAmendedData);

  beforeAll(async () => {
    db = new PGlite();
    store = validatedStore(await pgliteBackend({ db }), new EventRegistry([...careEventDefinitions]));
    const readModels = pgliteDriver(db, false);
    const issuer = await DevIssuer.create();
    authorization = `Bearer ${await issuer.mint({ role: 'district-nurse', user: 'nurse-1' })}`;
    const access = createAccessControl({ verifier: issuer.verifier() });
    projections = createProjectionsService({ store, readModels, projections: [fhirProjection], access });
    record = createRecordService({ store, reader: new FhirReader(readModels), version: 'test', readModelPosition: projections.runner, access, idSecret: 'if-match-on-stream-test-id-secret-0123456789' });
    await projections.start();
    projectionsRunning = true;
    await record.start();
    const app = express();
    app.use(record.router);
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, () => resolve(s));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ({ patientId } = await record.care.registerPatient(
      { idempotencyKey: 'register-arthur', occurredAt: minutesAgo(120), nhsNumber: '9912003888', name: { given: ['Arthur'], family: 'Jones' }, birthDate: '1941-03-02', gpPractice: { odsCode: 'Y12345', name: 'Riverside Surgery' } },
      nurseActor,
    ));
    await record.care.addCareTeamMember({ idempotencyKey: 'arthur-team', occurredAt: minutesAgo(110), patientId, practitionerId: 'nurse-1', teamRole: 'accountable-clinician' }, nurseActor);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (projectionsRunning) await projections.stop();
    await record.stop();
    await store.close();
    await db.close();
  });

  it("publishes the entry's version as the versionId of every Observation of the entry, a member added by an amendment too", async () => {
    const created = await request<Observation>('POST', '/fhir/Observation', pulse(88));
    const entryId = created.body.id!.replace(/-pulse$/, '');
    // An amendment through the command API adds SpO2: the member is new, the entry is at version 2.
    const amended = await record.care.recordCare(
      'AmendEntry',
      { idempotencyKey: 'add-spo2', patientId, entryId, reason: 'SpO2 was measured too and left out', replacement: { type: 'VitalSignsRecorded', data: { pulse: 88, spo2: 95 } } },
      nurseActor,
    );
    expect((await record.care.careEntry(patientId, entryId))?.version).toBe(2);
    await projections.runner.waitFor(amended.position, 5_000);

    const spo2 = await request<Observation>('GET', `/fhir/Observation/${entryId}-spo2`);
    expect(spo2.status).toBe(200);
    expect(spo2.headers.get('etag')).toBe('W/"2"');
    expect((await request<Observation>('GET', `/fhir/Observation/${entryId}`)).headers.get('etag')).toBe('W/"2"');

    // So the version read from the new member is the one the write model decides on.
    const corrected = await request<Observation>(
      'PUT',
      `/fhir/Observation/${entryId}-spo2`,
      { ...spo2.body, valueQuantity: { ...spo2.body.valueQuantity, value: 93 }, note: [{ text: 'Probe on a cold finger; re-measured' }] },
      { 'if-match': spo2.headers.get('etag')! },
    );
    expect(corrected.status).toBe(200);
    expect(corrected.headers.get('etag')).toBe('W/"3"');
    expect((await record.care.careEntry(patientId, entryId))?.version).toBe(3);
  });

  it("counts a flag appended with a dose as a version of it in both: the MedicationAdministration's versionId is the dose's version, and an If-Match on it is accepted", async () => {
    const dose = await record.care.recordCare(
      'RecordInsulinAdministered',
      { idempotencyKey: 'unknown-insulin', patientId, occurredAt: minutesAgo(15), product: 'Glargine Pen 3000', device: 'pen', dose: { value: 6, unit: 'units' }, site: 'thigh', confirmedUnknownProduct: true },
      nurseActor,
    );
    const entryId = dose.eventIds[0]!;
    expect(dose.eventTypes).toEqual(['InsulinAdministered', 'UnknownInsulinProductFlagged']);
    expect((await record.care.careEntry(patientId, entryId))?.version).toBe(2);
    await projections.runner.waitFor(dose.position, 5_000);
    const ma = await request<MedicationAdministration>('GET', `/fhir/MedicationAdministration/${entryId}`);
    expect(ma.headers.get('etag')).toBe('W/"2"');
    const amended = await request<MedicationAdministration>(
      'PUT',
      `/fhir/MedicationAdministration/${entryId}`,
      { ...ma.body, dosage: { ...ma.body.dosage, dose: { value: 4, unit: 'units' } }, note: [...(ma.body.note ?? []), { text: 'It was 4 units; 6 was typed' }] },
      { 'if-match': 'W/"2"' },
    );
    expect(amended.status).toBe(200);
    expect(amended.headers.get('etag')).toBe('W/"3"');
  });

  it('given a pulse read at version 1 and the projection stopped, when two corrections are sent with If-Match 1, then the second is 412 naming If-Match and nothing is overwritten', async () => {
    const created = await request<Observation>('POST', '/fhir/Observation', pulse(120));
    const id = created.body.id!;
    const entryId = id.replace(/-pulse$/, '');
    expect(created.headers.get('etag')).toBe('W/"1"');

    await projections.stop();
    projectionsRunning = false;

    const first = await request<Observation>('PUT', `/fhir/Observation/${id}`, { ...created.body, valueQuantity: { ...created.body.valueQuantity, value: 102 }, note: [{ text: 'Recounted over a full minute' }] }, { 'if-match': 'W/"1"' });
    expect(first.status).toBe(200);
    // The read model has not moved: it still shows version 1, which is what the old check compared with.
    expect(first.headers.get('etag')).toBe('W/"1"');

    const head = await store.headPosition();
    const second = await request<OperationOutcome>(
      'PUT',
      `/fhir/Observation/${id}`,
      { ...created.body, valueQuantity: { ...created.body.valueQuantity, value: 96 }, note: [{ text: 'Another nurse recounted it too' }] },
      { 'if-match': 'W/"1"' },
    );
    expect(second.status).toBe(412);
    expect(second.body.issue[0]).toMatchObject({ code: 'conflict', expression: ['If-Match'] });
    expect(second.body.issue[0]?.diagnostics).toMatch(/version 2, not 1/);

    // Marking it entered in error on the same stale copy is refused the same way.
    const mark = await request<OperationOutcome>('PUT', `/fhir/Observation/${id}`, { ...created.body, status: 'entered-in-error', note: [{ text: 'Wrong person' }] }, { 'if-match': 'W/"1"' });
    expect(mark.status).toBe(412);

    expect(await store.headPosition()).toBe(head);
    const stored = await amendments(entryId);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ reason: 'Recounted over a full minute', replacement: { data: { pulse: 102 } } });
    expect(await record.care.careEntry(patientId, entryId)).toMatchObject({ version: 2, status: 'amended', data: { pulse: 102 } });
  });

  it('given two corrections on version 1 sent at the same moment, then one is recorded and the other is 412: the decider, deciding again on the new stream, refuses it', async () => {
    const created = await record.care.recordCare('RecordVitalSigns', { idempotencyKey: 'race-pulse', patientId, occurredAt: minutesAgo(5), pulse: 130 }, nurseActor);
    const entryId = created.eventIds[0]!;
    const body = (value: number, reason: string): Observation => ({ ...pulse(value), id: `${entryId}-pulse`, note: [{ text: reason }] });
    const replies = await Promise.all([
      request('PUT', `/fhir/Observation/${entryId}-pulse`, body(110, 'Recounted by the first nurse'), { 'if-match': 'W/"1"' }),
      request('PUT', `/fhir/Observation/${entryId}-pulse`, body(112, 'Recounted by the second nurse'), { 'if-match': 'W/"1"' }),
    ]);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 412]);
    expect(await amendments(entryId)).toHaveLength(1);
    expect((await record.care.careEntry(patientId, entryId))?.version).toBe(2);
  });
});
