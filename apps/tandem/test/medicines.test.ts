import { mintToken } from '@tandem/auth';
import Client from 'fhir-kit-client';
import type { AllergyIntolerance, Bundle, Condition, MedicationAdministration, MedicationRequest } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { createRecordService } from '@tandem/record';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { expectValidFhir } from '@tandem/fhir-validation';

/**
 * Issue 13, against the running server: a nurse prescribes, the care worker records the MAR (a PRN
 * inside its interval asks first; an allergy stops her, 422 naming it; confirmed, it is flagged and
 * escalated), the GP reads it all as FHIR with fhir-kit-client.
 */

const DMD = 'https://dmd.nhs.uk';
const PARACETAMOL = { system: DMD, code: '42109611000001109', display: 'Paracetamol 500mg tablets' };
const AMOXICILLIN = { system: DMD, code: '39732411000001106', display: 'Amoxicillin 500mg capsules' };

describe('a nurse prescribes, the care worker records the MAR, the GP reads it as FHIR', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientId: string;
  const tokens: Record<'nurse' | 'gp' | 'careWorker', string> = { nurse: '', gp: '', careWorker: '' };
  let kit: InstanceType<typeof Client>;
  let position = 0;

  const post = async (who: keyof typeof tokens, path: string, body: Record<string, unknown>) => {
    const response = await fetch(`${tandem.url}/api/patients/${patientId}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[who]}` },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as Record<string, unknown> & { errors?: { field: string; message: string }[]; position?: number };
    if (typeof json.position === 'number') position = Math.max(position, json.position);
    return { status: response.status, body: json };
  };
  let key = 0;
  const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
  const command = (body: Record<string, unknown>) => ({ idempotencyKey: `medicines-test-${++key}`, occurredAt: ago(0), ...body });
  const read = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${tandem.url}/fhir${path}`, { headers: { authorization: `Bearer ${tokens.gp}`, 'x-tandem-min-position': String(position) } });
    return (await response.json()) as T;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-medicines-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    patientId = (await seedDemoData(record.care, { patients: 1, days: 1, now: new Date() })).patientIds[0]!;
    tokens.nurse = await mintToken({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration }, { dataDir });
    tokens.gp = await mintToken({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration }, { dataDir });
    tokens.careWorker = await mintToken({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId }, { dataDir });
    kit = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: tokens.gp, customHeaders: {} });
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const paracetamolPrn = { product: PARACETAMOL, dose: { value: 2, unit: 'tablet' }, route: 'oral', timing: { kind: 'prn', indication: 'pain', minimumIntervalMinutes: 240, maxDosesIn24Hours: 4 }, start: ago(600) };
  let paracetamolId = '';
  let amoxicillinId = '';
  let allergyId = '';

  it('a care worker may not prescribe (403); bad input names the field (400), nothing stored', async () => {
    const refused = await post('careWorker', 'medication-orders', command(paracetamolPrn));
    expect(refused.status).toBe(403);
    const mcg = await post('nurse', 'medication-orders', command({ ...paracetamolPrn, dose: { value: 500, unit: 'mcg' } }));
    expect(mcg.status).toBe(400);
    expect(mcg.body.errors).toContainEqual(expect.objectContaining({ field: 'dose.unit' }));
    const noTimes = await post('nurse', 'medication-orders', command({ ...paracetamolPrn, timing: { kind: 'scheduled', times: [] } }));
    expect(noTimes.body.errors).toContainEqual(expect.objectContaining({ field: 'timing.times' }));
  });

  it('a nurse prescribes paracetamol PRN and amoxicillin three times a day, and records an allergy to amoxicillin', async () => {
    const prn = await post('nurse', 'medication-orders', command(paracetamolPrn));
    expect(prn.status).toBe(201);
    paracetamolId = String(prn.body.id);
    const tds = await post('nurse', 'medication-orders', command({ product: AMOXICILLIN, dose: { value: 1, unit: 'capsule' }, route: 'oral', timing: { kind: 'scheduled', times: ['08:00', '14:00', '20:00'] }, start: ago(600) }));
    expect(tds.status).toBe(201);
    amoxicillinId = String(tds.body.id);
    const allergy = await post('gp', 'allergies', command({ substance: { system: 'http://snomed.info/sct', code: '294505008', display: 'Amoxicillin' }, category: 'medication', criticality: 'high', reaction: 'widespread rash' }));
    expect(allergy.status).toBe(201);
    allergyId = String(allergy.body.id);
  });

  it('the care worker gives a PRN dose with its reason; another an hour later asks first (409), confirmed it is recorded flagged', async () => {
    const first = await post('careWorker', 'medicine-doses', command({ occurredAt: ago(60), orderId: paracetamolId, outcome: 'given', dose: { value: 2, unit: 'tablet' }, prnReason: 'hip pain 6/10' }));
    expect(first.status).toBe(201);
    const again = { orderId: paracetamolId, outcome: 'given', dose: { value: 2, unit: 'tablet' }, prnReason: 'still sore' };
    const asked = await post('careWorker', 'medicine-doses', command(again));
    expect(asked.status).toBe(409);
    expect(asked.body.code).toBe('mar.inside-minimum-interval');
    const confirmed = await post('careWorker', 'medicine-doses', command({ ...again, confirmedInsideMinimumInterval: true }));
    expect(confirmed.status).toBe(201);
    const wrongUnit = await post('careWorker', 'medicine-doses', command({ ...again, dose: { value: 1000, unit: 'mg' }, confirmedInsideMinimumInterval: true }));
    expect(wrongUnit.status).toBe(422);
    expect(wrongUnit.body.errors).toEqual([expect.objectContaining({ field: 'dose.unit' })]);
    const effect = await post('careWorker', `medicine-doses/${String(first.body.entryId)}/effects`, command({ effect: 'pain down to 2/10 within the hour' }));
    expect(effect.status).toBe(201);
  });

  it('amoxicillin stops her with the allergy named (422); confirmed (it was given), it is recorded, flagged and escalated', async () => {
    const dose = { orderId: amoxicillinId, outcome: 'given', scheduledTime: '14:00', dose: { value: 1, unit: 'capsule' } };
    const stopped = await post('careWorker', 'medicine-doses', command(dose));
    expect(stopped.status).toBe(422);
    expect(stopped.body.code).toBe('mar.allergy');
    expect(stopped.body.errors).toEqual([expect.objectContaining({ field: 'orderId', message: expect.stringMatching(/STOP: the record holds an allergy to Amoxicillin .*widespread rash/) })]);
    const given = await post('careWorker', 'medicine-doses', command({ ...dose, confirmedDespiteAllergy: true }));
    expect(given.status).toBe(201);
    expect(given.body.followUpsPending).toBeUndefined();
    expect((given.body.followUps as { escalationIds: string[] }).escalationIds.length).toBeGreaterThan(0);
    const refused = await post('careWorker', 'medicine-doses', command({ orderId: amoxicillinId, outcome: 'refused', scheduledTime: '20:00', reason: 'says it makes her itch' }));
    expect(refused.status).toBe(201);
  });

  it('the GP reads the orders, the MAR and the allergy as valid FHIR R4 (fhir-kit-client), and a change is a new version', async () => {
    const change = await post('gp', `medication-orders/${paracetamolId}/changes`, command({ ...paracetamolPrn, dose: { value: 1, unit: 'tablet' }, reason: 'low body weight: 500 mg' }));
    expect(change.status).toBe(201);
    await read(`/Patient/${patientId}`);

    const orders = (await kit.search({ resourceType: 'MedicationRequest', searchParams: { patient: `Patient/${patientId}`, status: 'active' } })) as Bundle;
    const byId = new Map(orders.entry!.map((e) => [e.resource!.id!, e.resource as MedicationRequest]));
    expect([...byId.keys()].sort()).toEqual([paracetamolId, amoxicillinId].sort());
    const paracetamol = byId.get(paracetamolId)!;
    expectValidFhir(paracetamol as never);
    expect(paracetamol).toMatchObject({ status: 'active', intent: 'order', meta: { versionId: '2' }, requester: { reference: `Practitioner/${DEMO.gp.practitionerId}` } });
    expect(paracetamol.medicationCodeableConcept!.coding).toEqual([PARACETAMOL]);
    expect(paracetamol.dosageInstruction![0]).toMatchObject({ asNeededCodeableConcept: { text: 'pain' }, doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet' } }], maxDosePerPeriod: { numerator: { value: 4 } } });
    const history = (await kit.history({ resourceType: 'MedicationRequest', id: paracetamolId })) as Bundle;
    expect(history.entry!.map((e) => (e.resource as MedicationRequest).dosageInstruction![0]!.doseAndRate![0]!.doseQuantity!.value).sort()).toEqual([1, 2]);

    const mar = (await kit.search({ resourceType: 'MedicationAdministration', searchParams: { patient: `Patient/${patientId}`, _count: '100' } })) as Bundle;
    const doses = mar.entry!.map((e) => e.resource as MedicationAdministration).filter((m) => m.request);
    for (const dose of doses) {
      expectValidFhir(dose as never);
      expect(dose.statusReason![0]!.coding![0]!.system).toBe('https://tandem.nhs.example/fhir/CodeSystem/dose-outcome');
    }
    const despite = doses.find((d) => d.request!.reference === `MedicationRequest/${amoxicillinId}` && d.status === 'completed')!;
    expect(despite.note!.map((n) => n.text)).toContainEqual(expect.stringMatching(/despite a recorded allergy/));
    expect(despite.supportingInformation![0]!.reference).toMatch(/^AllergyIntolerance\//);
    const refused = doses.find((d) => d.status === 'not-done')!;
    expect(refused.statusReason![0]).toMatchObject({ coding: [expect.objectContaining({ code: 'refused' })], text: 'Refused: says it makes her itch' });
    const prnWithEffect = doses.find((d) => d.note?.some((n) => n.text === 'Effect: pain down to 2/10 within the hour'));
    expect(prnWithEffect?.reasonCode).toEqual([{ text: 'hip pain 6/10' }]);

    const allergies = (await kit.search({ resourceType: 'AllergyIntolerance', searchParams: { patient: `Patient/${patientId}` } })) as Bundle;
    const allergy = allergies.entry![0]!.resource as AllergyIntolerance;
    expectValidFhir(allergy as never);
    expect(allergy).toMatchObject({ criticality: 'high', code: { text: 'Amoxicillin' } });

    const everything = (await kit.operation({ name: '$everything', resourceType: 'Patient', id: patientId, method: 'GET' })) as Bundle;
    const types = new Set(everything.entry!.map((e) => e.resource!.resourceType));
    for (const type of ['MedicationRequest', 'AllergyIntolerance', 'MedicationAdministration']) expect(types).toContain(type);

    const capability = await read<{ rest: { resource: { type: string }[] }[] }>('/metadata');
    expect(capability.rest[0]!.resource.map((r) => r.type)).toEqual(expect.arrayContaining(['MedicationRequest', 'AllergyIntolerance', 'Condition']));
  });

  it('the nurse refutes the allergy through the JSON API (the whole allergy again, with why): the next amoxicillin dose is given without asking; a condition is resolved, then withdrawn, likewise', async () => {
    const allergy = { substance: { system: 'http://snomed.info/sct', code: '294505008', display: 'Amoxicillin' }, category: 'medication', criticality: 'high', reaction: 'widespread rash', clinicalStatus: 'active', verificationStatus: 'refuted' };
    const noReason = await post('nurse', `allergies/${allergyId}/changes`, command(allergy));
    expect({ status: noReason.status, fields: noReason.body.errors?.map((e) => e.field) }).toEqual({ status: 400, fields: ['reason'] });
    expect((await post('careWorker', `allergies/${allergyId}/entered-in-error`, command({ reason: 'she says not' }))).status).toBe(403);
    const refuted = await post('nurse', `allergies/${allergyId}/changes`, command({ ...allergy, reason: 'Oral challenge at the allergy clinic: tolerated' }));
    expect({ status: refuted.status, id: refuted.body.id, eventTypes: refuted.body.eventTypes }).toEqual({ status: 201, id: allergyId, eventTypes: ['AllergyChanged'] });

    const given = await post('careWorker', 'medicine-doses', command({ orderId: amoxicillinId, outcome: 'given', scheduledTime: '08:00', dose: { value: 1, unit: 'capsule' } }));
    expect(given.status).toBe(201);
    const held = await read<AllergyIntolerance>(`/AllergyIntolerance/${allergyId}`);
    expect({ version: held.meta?.versionId, verification: held.verificationStatus?.coding?.[0]?.code }).toEqual({ version: '2', verification: 'refuted' });

    const cellulitis = { code: { system: 'http://snomed.info/sct', code: '128045006', display: 'Cellulitis' }, clinicalStatus: 'active', onset: '2026-11-25' };
    const recorded = await post('nurse', 'conditions', command(cellulitis));
    expect(recorded.status).toBe(201);
    const conditionId = String(recorded.body.id);
    const today = new Date().toISOString().slice(0, 10);
    const stillActive = await post('nurse', `conditions/${conditionId}/changes`, command({ ...cellulitis, abatement: today, reason: 'healed' }));
    expect({ status: stillActive.status, code: stillActive.body.code, fields: stillActive.body.errors?.map((e) => e.field) }).toEqual({ status: 422, code: 'condition.abated-but-active', fields: ['abatement'] });
    expect((await post('nurse', `conditions/${conditionId}/changes`, command({ ...cellulitis, clinicalStatus: 'resolved', abatement: today, reason: 'Antibiotics finished; skin healed' }))).status).toBe(201);
    expect((await post('nurse', `conditions/${conditionId}/entered-in-error`, command({ reason: 'Recorded for the wrong leg: see the new entry' }))).status).toBe(201);
    const history = (await kit.history({ resourceType: 'Condition', id: conditionId, options: { headers: { 'x-tandem-min-position': String(position) } } })) as Bundle;
    const versions = history.entry!.map((e) => e.resource as Condition);
    for (const version of versions) expectValidFhir(version as never);
    expect(versions.map((c) => [c.verificationStatus?.coding?.[0]?.code, c.clinicalStatus?.coding?.[0]?.code])).toEqual([
      ['entered-in-error', undefined],
      ['confirmed', 'resolved'],
      ['confirmed', 'active'],
    ]);
  });
});
