import { mintToken, type MintClaims } from '@tandem/auth';
import { ManualClock, OffsetClock } from '@tandem/delegation';
import type { createRecordService } from '@tandem/record';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { runInsulinScenario, type ScenarioResult } from '../src/demo/insulin-scenario';
import { recordChangesSince } from './record-changes';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer: its shape is what the assertions check
type Json = any;

/**
 * What the answer to a recording says at the bedside, and what it refuses, over real HTTP on an
 * embedded Tandem (issue 9.2, 9.4-9.6, 16.5): the same requests a care worker's app sends.
 */
describe('the answer to a recording, at the bedside', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let scenario: ScenarioResult;
  let otherPatientId: string;
  const clock = new ManualClock('2025-11-20T17:45:00Z');
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const amira = () => token({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId });
  const sarah = () => token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });

  const post = async (path: string, bearer: string, body: unknown) => {
    const response = await fetch(`${tandem.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: (await response.json()) as Record<string, Json> };
  };
  const now = () => clock.now().toISOString();
  const careEvents = async (patientId: string) => (await tandem.storage.store.readStream(`care-${patientId}`)).map((e) => ({ type: e.type, data: e.data as Record<string, unknown>, by: e.metadata.actor.id }));

  /** The deterioration set of issue 9.1: NEWS2 17. */
  const DETERIORATING = { respirationRate: 28, spo2: 88, airOrOxygen: 'air', systolic: 88, diastolic: 50, pulse: 135, consciousness: 'V', temperatureC: 39.5 };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-bedside-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }), { clock });
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    const { patientIds } = await seedDemoData(record.care, { patients: 3, days: 2, now: clock.now() });
    const head = await tandem.storage.store.headPosition();
    await fetch(`${tandem.url}/fhir/Patient?name=jones`, { headers: { authorization: `Bearer ${await sarah()}`, 'x-tandem-min-position': String(head) } });
    // Mr Jones gets his insulin delegated to Amira (the README's story): a person with a delegation.
    scenario = await runInsulinScenario({ url: tandem.url, token, say: () => undefined, runId: 'bedside' });
    otherPatientId = patientIds.find((id) => id !== scenario.patientId)!;
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('NEWS2 17 for Mr Jones answers total 17, band high, "Call 999 now" first, and the escalation it started', async () => {
    const reply = await post(`/api/patients/${scenario.patientId}/vital-signs`, await amira(), { idempotencyKey: 'bedside-news2-17', occurredAt: now(), ...DETERIORATING });
    expect(reply.status).toBe(201);
    expect(reply.body.news2).toMatchObject({ total: 17, band: 'high', missing: [], subScores: { respirationRate: 3, spo2: 3, systolic: 3, pulse: 3, consciousness: 3, temperatureC: 2 } });
    expect(reply.body.advice[0]).toMatchObject({ urgency: 'emergency', text: expect.stringMatching(/^Call 999 now/) });
    expect(reply.body.entryId).toBe(reply.body.eventIds[0]);
    expect(reply.body.followUpsPending).toBeUndefined();
    expect(reply.body.followUps.escalationIds.length).toBeGreaterThan(0);
    // The ids are real: the escalation is there for the nurse to read.
    const escalationId = reply.body.followUps.escalationIds[0] as string;
    const stream = await tandem.storage.store.readStream(`escalation-${escalationId}`);
    expect(stream[0]).toMatchObject({ type: 'EscalationRaised', metadata: { causationId: reply.body.entryId } });
  });

  it('the same NEWS2 17 for a demo person without a delegation still says "Call 999 now", and says what it knows of follow-ups', async () => {
    const reply = await post(`/api/patients/${otherPatientId}/vital-signs`, await sarah(), { idempotencyKey: 'bedside-news2-17-other', occurredAt: now(), ...DETERIORATING });
    expect(reply.status).toBe(201);
    expect(reply.body.news2).toMatchObject({ total: 17, band: 'high' });
    expect(reply.body.advice[0].text).toMatch(/^Call 999 now/);
    // Escalated for everyone: the whole-record rules run for people without a delegation (issue 9.1),
    // and the answer names the escalation it started.
    expect(reply.body.followUpsPending).toBeUndefined();
    expect(reply.body.followUps.escalationIds.length).toBeGreaterThan(0);
  });

  it('a blood glucose of 3.2 mmol/L answers with the hypo treatment at once', async () => {
    const reply = await post(`/api/patients/${scenario.patientId}/blood-glucose`, await amira(), { idempotencyKey: 'bedside-hypo', occurredAt: now(), glucoseMmolL: 3.2 });
    expect(reply.status).toBe(201);
    expect(reply.body.advice[0].text).toMatch(/^Hypo: blood glucose 3.2 mmol\/L is below 4.0\. Treat it now/);
  });

  it('a key reused with a different pulse is 422 naming idempotencyKey, and the different pulse is not stored', async () => {
    const when = now();
    const first = await post(`/api/patients/${scenario.patientId}/vital-signs`, await amira(), { idempotencyKey: 'readme-1', occurredAt: when, pulse: 72 });
    expect(first.status).toBe(201);
    const retry = await post(`/api/patients/${scenario.patientId}/vital-signs`, await amira(), { idempotencyKey: 'readme-1', occurredAt: when, pulse: 72 });
    expect(retry).toMatchObject({ status: 200, body: { replayed: true, entryId: first.body.entryId } });
    const before = await tandem.storage.store.headPosition();
    const reused = await post(`/api/patients/${scenario.patientId}/vital-signs`, await amira(), { idempotencyKey: 'readme-1', occurredAt: when, pulse: 150 });
    expect(reused.status).toBe(422);
    expect(reused.type).toContain('application/problem+json');
    expect(reused.body.errors).toEqual([{ field: 'idempotencyKey', message: expect.stringContaining('already used for a different RecordVitalSigns') }]);
    expect(await recordChangesSince(tandem.storage.store, before)).toEqual([]);
    expect((await careEvents(scenario.patientId)).some((e) => e.data.pulse === 150)).toBe(false);
  });

  it('the same key from another user is their own entry: Sarah\'s vital signs under Amira\'s note key are recorded', async () => {
    const note = await post(`/api/patients/${scenario.patientId}/notes`, await amira(), { idempotencyKey: 'visit-X', occurredAt: now(), text: 'Settled for the night' });
    expect(note.status).toBe(201);
    const vitals = await post(`/api/patients/${scenario.patientId}/vital-signs`, await sarah(), { idempotencyKey: 'visit-X', occurredAt: now(), pulse: 140 });
    expect(vitals.status).toBe(201);
    expect(vitals.body).toMatchObject({ replayed: false, eventTypes: ['VitalSignsRecorded'], news2: { band: 'incomplete' } });
    expect((await careEvents(scenario.patientId)).filter((e) => e.data.pulse === 140)).toEqual([expect.objectContaining({ by: DEMO.nurse.practitionerId })]);
  });

  it('a time in the future is 400 naming occurredAt, and nothing is stored', async () => {
    const before = await tandem.storage.store.headPosition();
    const tomorrow = new Date(clock.now().getTime() + 24 * 3_600_000).toISOString();
    const reply = await post(`/api/patients/${scenario.patientId}/vital-signs`, await amira(), { idempotencyKey: 'bedside-future', occurredAt: tomorrow, pulse: 80 });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([{ field: 'occurredAt', message: expect.stringContaining('must not be in the future') }]);
    expect(await recordChangesSince(tandem.storage.store, before)).toEqual([]);
  });

  it('an entry dated 2001 asks for confirmation naming occurredAt, and once confirmed is recorded and shown as late', async () => {
    const body = { idempotencyKey: 'bedside-2001', occurredAt: '2001-06-01T10:00:00Z', text: 'Typed up from the paper notes' };
    const asked = await post(`/api/patients/${scenario.patientId}/notes`, await amira(), body);
    expect(asked.status).toBe(409);
    expect(asked.body.errors).toEqual([{ field: 'occurredAt', message: expect.stringContaining('confirmedLate') }]);
    const confirmed = await post(`/api/patients/${scenario.patientId}/notes`, await amira(), { ...body, confirmedLate: true });
    expect(confirmed).toMatchObject({ status: 201, body: { late: true } });
  });

  it('a pulse of 0 is 400 with words that help ("No pulse: call 999 now"), and nothing is stored', async () => {
    const before = await tandem.storage.store.headPosition();
    const reply = await post(`/api/patients/${scenario.patientId}/vital-signs`, await amira(), { idempotencyKey: 'bedside-pulse-0', occurredAt: now(), pulse: 0 });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([{ field: 'pulse', message: expect.stringMatching(/^No pulse: call 999 now/) }]);
    expect(await recordChangesSince(tandem.storage.store, before)).toEqual([]);
  });

  it('a missing field says it is required', async () => {
    const reply = await post(`/api/patients/${scenario.patientId}/vital-signs`, await amira(), { pulse: 80 });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([
      { field: 'idempotencyKey', message: 'is required' },
      { field: 'occurredAt', message: 'is required' },
    ]);
  });

  it('a free-text insulin product is 409 naming product; confirmed, it is recorded and flagged', async () => {
    const before = await tandem.storage.store.headPosition();
    const dose = { idempotencyKey: 'bedside-humalog-maybe', occurredAt: now(), product: 'Humalog?? maybe', device: 'pen', dose: { value: 10, unit: 'units' }, site: 'abdomen' };
    const asked = await post(`/api/patients/${scenario.patientId}/insulin-administrations`, await amira(), dose);
    expect(asked.status).toBe(409);
    expect(asked.body).toMatchObject({ title: 'Confirmation needed', code: 'insulin.unknown-product', errors: [{ field: 'product' }] });
    expect(await recordChangesSince(tandem.storage.store, before)).toEqual([]);
    const confirmed = await post(`/api/patients/${scenario.patientId}/insulin-administrations`, await amira(), { ...dose, confirmedUnknownProduct: true });
    expect(confirmed.status).toBe(201);
    expect(confirmed.body.eventTypes).toEqual(['InsulinAdministered', 'UnknownInsulinProductFlagged']);
    // Escalated as an incident for the delegating nurse (the insulin framework's insulin.unchecked-dose rule).
    const raised = await Promise.all((confirmed.body.followUps.escalationIds as string[]).map(async (id) => (await tandem.storage.store.readStream(`escalation-${id}`))[0]!.data));
    expect(raised).toEqual(expect.arrayContaining([expect.objectContaining({ ruleId: 'insulin.unchecked-dose', incident: true, triggeringEntryIds: [confirmed.body.entryId] })]));
    // The GP's and nurse's FHIR view says so on the dose itself.
    const read = await fetch(`${tandem.url}/fhir/MedicationAdministration/${confirmed.body.entryId}`, {
      headers: { authorization: `Bearer ${await sarah()}`, 'x-tandem-min-position': String(confirmed.body.position) },
    });
    const administration = (await read.json()) as { medicationCodeableConcept: { text: string; coding?: unknown[] }; note?: { text: string }[] };
    expect(administration.medicationCodeableConcept).toEqual({ text: 'Humalog?? maybe' });
    expect(administration.note?.map((n) => n.text)).toEqual(expect.arrayContaining([expect.stringContaining('an insulin this record does not know')]));
  });

  it('a dose of a known product reads in FHIR with its code', async () => {
    const given = await post(`/api/patients/${otherPatientId}/insulin-administrations`, await sarah(), {
      idempotencyKey: 'bedside-known-product', occurredAt: now(), product: 'humulin i kwikpen', device: 'pen', dose: { value: 6, unit: 'units' }, site: 'thigh',
    });
    expect(given.status).toBe(201);
    const read = await fetch(`${tandem.url}/fhir/MedicationAdministration/${given.body.entryId}`, {
      headers: { authorization: `Bearer ${await sarah()}`, 'x-tandem-min-position': String(given.body.position) },
    });
    expect(((await read.json()) as { medicationCodeableConcept: unknown }).medicationCodeableConcept).toEqual({
      coding: [{ system: 'https://tandem.example.org/CodeSystem/insulin-product', code: 'humulin-i-kwikpen', display: 'Humulin I KwikPen' }],
      text: 'Humulin I KwikPen',
    });
  });

  it('a dose under Mr Jones\'s delegation that differs from its instruction (20 units, not 10) asks for confirmation naming dose.value', async () => {
    const before = await tandem.storage.store.headPosition();
    const dose = { idempotencyKey: 'bedside-20-units', occurredAt: now(), product: 'Humulin I KwikPen', device: 'pen', dose: { value: 20, unit: 'units' }, site: 'thigh', delegationId: scenario.delegationId };
    const asked = await post(`/api/patients/${scenario.patientId}/insulin-administrations`, await amira(), dose);
    expect(asked.status).toBe(409);
    expect(asked.body).toMatchObject({ code: 'insulin.differs-from-instruction', errors: [{ field: 'dose.value', message: expect.stringContaining('20 units where the instruction says 10 units') }] });
    expect(await recordChangesSince(tandem.storage.store, before)).toEqual([]);
  });

  it('the OpenAPI document describes the answer and does not require patientId in the body', async () => {
    const doc = (await (await fetch(`${tandem.url}/openapi.json`)).json()) as { paths: Record<string, { post: Json }> };
    const vitals = doc.paths['/api/patients/{patientId}/vital-signs']!.post;
    expect(vitals.requestBody.content['application/json'].schema.required ?? []).not.toContain('patientId');
    expect(Object.keys(vitals.responses['201'].content['application/json'].schema.properties)).toEqual(expect.arrayContaining(['news2', 'advice', 'followUps', 'followUpsPending']));
    const correction = doc.paths['/api/patients/{patientId}/entries/{entryId}/entered-in-error']!.post;
    expect(correction.requestBody.content['application/json'].schema.required).toEqual(expect.not.arrayContaining(['occurredAt', 'patientId', 'entryId']));
  });
});

describe('the test clock never makes an entry recorded before it happened (issue 9.6)', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  // TANDEM_TEST_CLOCK's clock: the system's time, moved on as `npm run scenario` moves it.
  const clock = new OffsetClock();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-test-clock-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }), { clock });
  });
  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('given the clock moved on 40 minutes, when a note is written "now", then it is recorded at or after the time it happened', async () => {
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    const { patientIds } = await seedDemoData(record.care, { patients: 1, days: 1, now: clock.now() });
    clock.advance(40 * 60_000);
    const occurredAt = clock.now().toISOString();
    const nurse = await mintToken({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration }, { dataDir });
    const response = await fetch(`${tandem.url}/api/patients/${patientIds[0]}/notes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${nurse}`, 'content-type': 'application/json' },
      body: JSON.stringify({ idempotencyKey: 'test-clock-note', occurredAt, text: 'Seen after the clock moved on' }),
    });
    expect(response.status).toBe(201);
    const [note] = (await tandem.storage.store.readStream(`care-${patientIds[0]}`)).filter((e) => e.type === 'NoteWritten');
    expect(Date.parse(note!.metadata.recordedAt)).toBeGreaterThanOrEqual(Date.parse(note!.metadata.occurredAt));
  });
});
