import { mintToken } from '@tandem/auth';
import { streamName } from '@tandem/contracts';
import { expectValidFhir } from '@tandem/fhir-validation';
import Client from 'fhir-kit-client';
import type { AllergyIntolerance, Bundle, CapabilityStatement, Condition, MedicationAdministration, MedicationRequest, OperationOutcome } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { createRecordService } from '@tandem/record';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { recordChangesSince } from './record-changes';

/**
 * Issue 13, against the running server: a GP's system sends a person's medicines, allergies and
 * conditions as FHIR (fhir-kit-client), and they become the same commands the app sends: the care
 * worker then records doses against the orders through the JSON API, an allergy sent as FHIR stops
 * a dose as one entered in the app does, an order stopped as FHIR is off the chart. A GP's order
 * the record cannot read exactly is refused naming the element, and nothing is stored.
 */

const DMD = 'https://dmd.nhs.uk';
const SNOMED = 'http://snomed.info/sct';
const UCUM = 'http://unitsofmeasure.org';
const AMLODIPINE = { system: DMD, code: '319283006', display: 'Amlodipine 5mg tablets' };
const PARACETAMOL = { system: DMD, code: '42109611000001109', display: 'Paracetamol 500mg tablets' };
const PENICILLIN_V = { system: DMD, code: '324430000', display: 'Phenoxymethylpenicillin 250mg tablets' };
const LANTUS = { system: 'https://tandem.example.org/CodeSystem/insulin-product', code: 'lantus-solostar', display: 'Lantus SoloStar' };
const SUBCUTANEOUS = { coding: [{ system: SNOMED, code: '34206005', display: 'Subcutaneous route' }], text: 'Subcutaneous' };

type Outcome = OperationOutcome & { issue: { expression?: string[]; code: string; diagnostics?: string }[] };

describe('a GP system sends medicines, allergies and conditions as FHIR, through the same commands as the app', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let record: ReturnType<typeof createRecordService>;
  let patientId: string;
  const tokens = { gp: '', careWorker: '' };
  let kit: InstanceType<typeof Client>;
  let position = 0;
  const ago = (minutes: number) => new Date(Math.floor(Date.now() / 1000) * 1000 - minutes * 60_000).toISOString();

  /** A FHIR request as any client sends it, for the answers fhir-kit-client turns into exceptions. */
  const fhir = async <T = Outcome>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, token = tokens.gp) => {
    const response = await fetch(`${tandem.url}/fhir/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const written = Number(response.headers.get('x-tandem-position') ?? 0);
    position = Math.max(position, written);
    return { status: response.status, etag: response.headers.get('etag'), body: (await response.json()) as T };
  };
  const read = <T>(path: string) => fhir<T>('GET', path, undefined, { 'x-tandem-min-position': String(position) });

  let key = 0;
  const dose = async (body: Record<string, unknown>) => {
    const response = await fetch(`${tandem.url}/api/patients/${patientId}/medicine-doses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.careWorker}` },
      body: JSON.stringify({ idempotencyKey: `fhir-medicines-dose-${++key}`, occurredAt: ago(0), ...body }),
    });
    const json = (await response.json()) as { code?: string; errors?: { field: string; message: string }[]; position?: number };
    if (typeof json.position === 'number') position = Math.max(position, json.position);
    return { status: response.status, body: json };
  };

  /** Sends a write that must be refused; proves the person's medicines stream took nothing from it. */
  const refusedWithNothingStored = async (send: () => Promise<{ status: number; body: Outcome }>) => {
    const head = await tandem.storage.store.headPosition();
    const reply = await send();
    expect(reply.body.resourceType).toBe('OperationOutcome');
    const medicines = streamName.medicines(patientId);
    expect((await recordChangesSince(tandem.storage.store, head)).filter((change) => change.startsWith(`${medicines} `))).toEqual([]);
    return reply;
  };
  const expressions = (outcome: Outcome) => outcome.issue.flatMap((i) => i.expression ?? []);

  const order = (over: Partial<MedicationRequest> = {}): MedicationRequest => ({
    resourceType: 'MedicationRequest',
    status: 'active',
    intent: 'order',
    medicationCodeableConcept: { coding: [AMLODIPINE], text: AMLODIPINE.display },
    subject: { reference: `Patient/${patientId}` },
    authoredOn: ago(30),
    requester: { reference: `Practitioner/${DEMO.gp.practitionerId}` },
    dosageInstruction: [{ route: { text: 'Oral' }, doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet' } }], timing: { repeat: { boundsPeriod: { start: ago(600) }, timeOfDay: ['08:00:00'] } } }],
    ...over,
  });
  const prnParacetamol = (): MedicationRequest =>
    order({
      medicationCodeableConcept: { coding: [PARACETAMOL], text: PARACETAMOL.display },
      dosageInstruction: [
        {
          route: { text: 'Oral' },
          doseAndRate: [{ doseQuantity: { value: 2, unit: 'tablet' } }],
          asNeededCodeableConcept: { text: 'pain' },
          timing: { repeat: { boundsPeriod: { start: ago(600) }, frequency: 1, period: 4, periodUnit: 'h' } },
          maxDosePerPeriod: { numerator: { value: 4, unit: 'doses' }, denominator: { value: 24, unit: 'hours', system: UCUM, code: 'h' } },
        },
      ],
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-fhir-medicines-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
    record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    patientId = (await seedDemoData(record.care, { patients: 1, days: 1, now: new Date() })).patientIds[0]!;
    tokens.gp = await mintToken({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration }, { dataDir });
    tokens.careWorker = await mintToken({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId }, { dataDir });
    kit = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: tokens.gp });
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let amlodipineId = '';
  let paracetamolId = '';

  it('a GP system prescribes amlodipine at 08:00 and paracetamol when required: each reads back as sent, valid R4; the same request again is the same order', async () => {
    const amlodipine = (await kit.create({ resourceType: 'MedicationRequest', body: order() as never })) as MedicationRequest;
    expectValidFhir(amlodipine as never);
    amlodipineId = amlodipine.id!;
    expect(amlodipine).toMatchObject({ status: 'active', intent: 'order', meta: { versionId: '1' }, requester: { reference: `Practitioner/${DEMO.gp.practitionerId}` }, medicationCodeableConcept: { coding: [AMLODIPINE] } });
    expect(amlodipine.dosageInstruction![0]).toMatchObject({ route: { text: 'Oral' }, doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet' } }], timing: { repeat: { timeOfDay: ['08:00:00'] } } });

    const sent = prnParacetamol();
    const first = await fhir<MedicationRequest>('POST', 'MedicationRequest', sent, { 'idempotency-key': 'gp-system-paracetamol-1' });
    expect(first.status).toBe(201);
    paracetamolId = first.body.id!;
    expectValidFhir(first.body as never);
    // Four hours apart at least, four doses in 24 hours at most: as the record writes them (minutes, doses per 24 h).
    expect(first.body.dosageInstruction![0]).toMatchObject({
      asNeededCodeableConcept: { text: 'pain' },
      timing: { repeat: { frequency: 1, period: 240, periodUnit: 'min' } },
      maxDosePerPeriod: { numerator: { value: 4, unit: 'doses' }, denominator: { value: 24, code: 'h' } },
    });
    const again = await fhir<MedicationRequest>('POST', 'MedicationRequest', sent, { 'idempotency-key': 'gp-system-paracetamol-1' });
    expect({ status: again.status, id: again.body.id }).toEqual({ status: 200, id: paracetamolId });
    expect(Object.keys((await record.care.medicines(patientId)).orders)).toEqual(expect.arrayContaining([amlodipineId, paracetamolId]));
  });

  it('an insulin order sent in units is time-critical whatever the GP system says, and reads back with the extension; sent back as read it is the same order', async () => {
    const insulin = order({
      extension: [{ url: 'https://tandem.nhs.example/fhir/StructureDefinition/time-critical-medicine', valueBoolean: false }],
      medicationCodeableConcept: { coding: [LANTUS] },
      dosageInstruction: [{ route: SUBCUTANEOUS, doseAndRate: [{ doseQuantity: { value: 14, unit: 'units', system: UCUM, code: '[iU]' } }], timing: { repeat: { boundsPeriod: { start: ago(600) }, timeOfDay: ['21:00:00'] } } }],
    });
    const created = (await kit.create({ resourceType: 'MedicationRequest', body: insulin as never })) as MedicationRequest;
    expectValidFhir(created as never);
    expect(created.extension).toEqual([{ url: 'https://tandem.nhs.example/fhir/StructureDefinition/time-critical-medicine', valueBoolean: true }]);
    expect(created.dosageInstruction![0]).toMatchObject({ route: SUBCUTANEOUS, doseAndRate: [{ doseQuantity: { value: 14, unit: 'units', code: '[iU]' } }] });
    const sentBack = await fhir<MedicationRequest>('PUT', `MedicationRequest/${created.id}`, created, { 'if-match': 'W/"1"' });
    expect({ status: sentBack.status, version: sentBack.body.meta?.versionId }).toEqual({ status: 200, version: '1' });
  });

  it('the care worker records doses against those orders through the JSON API, and the GP reads them as given against the orders', async () => {
    expect((await dose({ orderId: amlodipineId, outcome: 'given', scheduledTime: '08:00', dose: { value: 1, unit: 'tablet' } })).status).toBe(201);
    expect((await dose({ orderId: paracetamolId, outcome: 'given', dose: { value: 2, unit: 'tablet' }, prnReason: 'headache' })).status).toBe(201);
    const mar = (await read<Bundle>(`MedicationAdministration?patient=Patient/${patientId}&_count=100`)).body;
    const against = mar.entry!.map((e) => e.resource as MedicationAdministration).filter((m) => m.status === 'completed').map((m) => m.request?.reference);
    expect(against).toEqual(expect.arrayContaining([`MedicationRequest/${amlodipineId}`, `MedicationRequest/${paracetamolId}`]));
  });

  it('an allergy to penicillin sent as FHIR stops a dose of phenoxymethylpenicillin, exactly as one entered in the app does', async () => {
    const sent: AllergyIntolerance = {
      resourceType: 'AllergyIntolerance',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }] },
      category: ['medication'],
      criticality: 'high',
      code: { coding: [{ system: SNOMED, code: '764146007', display: 'Penicillin' }] },
      patient: { reference: `Patient/${patientId}` },
      reaction: [{ manifestation: [{ text: 'anaphylaxis' }] }],
    };
    const allergy = (await kit.create({ resourceType: 'AllergyIntolerance', body: sent as never })) as AllergyIntolerance;
    expectValidFhir(allergy as never);
    expect(allergy).toMatchObject({ criticality: 'high', code: { text: 'Penicillin' }, reaction: [{ manifestation: [{ text: 'anaphylaxis' }] }], recorder: { reference: `Practitioner/${DEMO.gp.practitionerId}` } });

    const penicillin = (await kit.create({
      resourceType: 'MedicationRequest',
      body: order({ medicationCodeableConcept: { coding: [PENICILLIN_V] }, dosageInstruction: [{ route: { text: 'oral' }, doseAndRate: [{ doseQuantity: { value: 2, unit: 'tablet' } }], timing: { repeat: { timeOfDay: ['08:00:00', '14:00:00', '20:00:00'] } } }] }) as never,
    })) as MedicationRequest;
    const stopped = await dose({ orderId: penicillin.id, outcome: 'given', scheduledTime: '14:00', dose: { value: 2, unit: 'tablet' } });
    expect(stopped.status).toBe(422);
    expect(stopped.body.code).toBe('mar.allergy');
    expect(stopped.body.errors).toEqual([expect.objectContaining({ field: 'orderId', message: expect.stringContaining(`Penicillin (AllergyIntolerance/${allergy.id}, criticality high, reaction: anaphylaxis)`) })]);
  });

  it('a condition sent as FHIR is on the person’s problem list, in Patient/$everything', async () => {
    const sent: Condition = {
      resourceType: 'Condition',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
      code: { coding: [{ system: SNOMED, code: '38341003', display: 'Hypertensive disorder' }] },
      subject: { reference: `Patient/${patientId}` },
      onsetDateTime: '2019-03-01',
      note: [{ text: 'Diagnosed at the practice' }],
    };
    const condition = (await kit.create({ resourceType: 'Condition', body: sent as never })) as Condition;
    expectValidFhir(condition as never);
    const everything = (await read<Bundle>(`Patient/${patientId}/$everything?_type=Condition`)).body;
    const held = everything.entry!.map((e) => e.resource as Condition).find((c) => c.id === condition.id);
    expect(held).toMatchObject({ clinicalStatus: { coding: [expect.objectContaining({ code: 'active' })] }, code: { coding: [{ system: SNOMED, code: '38341003', display: 'Hypertensive disorder' }] }, onsetDateTime: '2019-03-01', note: [{ text: 'Diagnosed at the practice' }] });
  });

  it('the GP system changes the amlodipine dose with If-Match and a note why (version 2); the order sent back as read changes nothing', async () => {
    const current = (await kit.read({ resourceType: 'MedicationRequest', id: amlodipineId })) as MedicationRequest;
    const doubled = { ...current, dosageInstruction: [{ ...current.dosageInstruction![0]!, doseAndRate: [{ doseQuantity: { value: 2, unit: 'tablet' } }] }], note: [{ text: 'Blood pressure still high: 10 mg' }] };
    const changed = (await kit.update({ resourceType: 'MedicationRequest', id: amlodipineId, body: doubled as never, options: { headers: { 'If-Match': 'W/"1"' } } })) as MedicationRequest;
    expectValidFhir(changed as never);
    expect(changed).toMatchObject({ meta: { versionId: '2' }, dosageInstruction: [{ doseAndRate: [{ doseQuantity: { value: 2, unit: 'tablet' } }] }] });
    expect(changed.note!.map((n) => n.text)).toEqual(['Changed: Blood pressure still high: 10 mg']);

    const sentBack = await fhir<MedicationRequest>('PUT', `MedicationRequest/${amlodipineId}`, changed, { 'if-match': 'W/"2"' });
    expect({ status: sentBack.status, version: sentBack.body.meta?.versionId }).toEqual({ status: 200, version: '2' });
    const history = (await kit.history({ resourceType: 'MedicationRequest', id: amlodipineId })) as Bundle;
    expect(history.entry!.map((e) => (e.resource as MedicationRequest).dosageInstruction![0]!.doseAndRate![0]!.doseQuantity!.value)).toEqual([2, 1]);
  });

  it('an update on a stale version is 412, one without If-Match 428, and neither is stored', async () => {
    const current = (await read<MedicationRequest>(`MedicationRequest/${amlodipineId}`)).body;
    const tripled = { ...current, dosageInstruction: [{ ...current.dosageInstruction![0]!, doseAndRate: [{ doseQuantity: { value: 3, unit: 'tablet' } }] }], note: [...current.note!, { text: 'Going up again' }] };
    const stale = await refusedWithNothingStored(() => fhir('PUT', `MedicationRequest/${amlodipineId}`, tripled, { 'if-match': 'W/"1"' }));
    expect({ status: stale.status, at: expressions(stale.body) }).toEqual({ status: 412, at: ['If-Match'] });
    const blind = await refusedWithNothingStored(() => fhir('PUT', `MedicationRequest/${amlodipineId}`, tripled));
    expect({ status: blind.status, at: expressions(blind.body) }).toEqual({ status: 428, at: ['If-Match'] });
    expect((await read<MedicationRequest>(`MedicationRequest/${amlodipineId}`)).body).toMatchObject({ meta: { versionId: '2' }, dosageInstruction: [{ doseAndRate: [{ doseQuantity: { value: 2 } }] }] });
  });

  it('an order stopped by the GP system is off the chart: the care worker’s next dose of it is refused; sent back as read it stays as it is', async () => {
    const current = (await read<MedicationRequest>(`MedicationRequest/${paracetamolId}`)).body;
    // The PRN as the record writes it (minimum interval in minutes, doses per 24 hours) is read back as the same order.
    const asRead = await fhir<MedicationRequest>('PUT', `MedicationRequest/${paracetamolId}`, current, { 'if-match': 'W/"1"' });
    expect({ status: asRead.status, version: asRead.body.meta?.versionId }).toEqual({ status: 200, version: '1' });
    const stop = { ...current, status: 'stopped', statusReason: { text: 'Pain resolved' } };
    const stopped = (await kit.update({ resourceType: 'MedicationRequest', id: paracetamolId, body: stop as never, options: { headers: { 'If-Match': 'W/"1"' } } })) as MedicationRequest;
    expectValidFhir(stopped as never);
    expect(stopped).toMatchObject({ status: 'stopped', statusReason: { text: 'Pain resolved' }, meta: { versionId: '2' } });
    // Given after the stop (the server's time of it): without the stop it would ask about the minimum interval (409).
    const refused = await dose({ occurredAt: new Date().toISOString(), orderId: paracetamolId, outcome: 'given', dose: { value: 2, unit: 'tablet' }, prnReason: 'headache again' });
    expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 422, code: 'mar.order-stopped' });
    const sentBack = await fhir<MedicationRequest>('PUT', `MedicationRequest/${paracetamolId}`, stopped, { 'if-match': 'W/"2"' });
    expect({ status: sentBack.status, version: sentBack.body.meta?.versionId, status_: sentBack.body.status }).toEqual({ status: 200, version: '2', status_: 'stopped' });
  });

  const dosage = (over: Record<string, unknown>) => [{ route: { text: 'Oral' }, doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet' } }], timing: { repeat: { timeOfDay: ['08:00:00'] } }, ...over }];
  const allergy = (over: Record<string, unknown>) => ({ resourceType: 'AllergyIntolerance', category: ['medication'], criticality: 'low', code: { coding: [{ system: SNOMED, code: '764146007', display: 'Penicillin' }] }, patient: { reference: `Patient/${patientId}` }, ...over });
  const condition = (over: Record<string, unknown>) => ({ resourceType: 'Condition', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { coding: [{ system: SNOMED, code: '38341003', display: 'Hypertensive disorder' }] }, subject: { reference: `Patient/${patientId}` }, ...over });

  it.each([
    ['insulin in "U"', 'MedicationRequest', () => order({ medicationCodeableConcept: { coding: [LANTUS] }, dosageInstruction: dosage({ route: SUBCUTANEOUS, doseAndRate: [{ doseQuantity: { value: 10, unit: 'U' } }] }) as never }), 'MedicationRequest.dosageInstruction[0].doseAndRate[0].doseQuantity.unit'],
    ['insulin in millilitres', 'MedicationRequest', () => order({ medicationCodeableConcept: { coding: [LANTUS] }, dosageInstruction: dosage({ route: SUBCUTANEOUS, doseAndRate: [{ doseQuantity: { value: 0.1, unit: 'ml', system: UCUM, code: 'mL' } }] }) as never }), 'MedicationRequest.dosageInstruction[0].doseAndRate[0].doseQuantity.unit'],
    ['a dose in text only', 'MedicationRequest', () => order({ dosageInstruction: [{ text: 'one tablet in the morning', timing: { repeat: { timeOfDay: ['08:00:00'] } } }] }), 'MedicationRequest.dosageInstruction[0].doseAndRate'],
    ['a dose range', 'MedicationRequest', () => order({ dosageInstruction: dosage({ doseAndRate: [{ doseRange: { low: { value: 1 }, high: { value: 2 } } }] }) as never }), 'MedicationRequest.dosageInstruction[0].doseAndRate[0].doseRange'],
    ['a unit and a UCUM code that disagree', 'MedicationRequest', () => order({ dosageInstruction: dosage({ doseAndRate: [{ doseQuantity: { value: 5, unit: 'mg', system: UCUM, code: 'ug' } }] }) as never }), 'MedicationRequest.dosageInstruction[0].doseAndRate[0].doseQuantity.code'],
    ['"twice a day" with no times', 'MedicationRequest', () => order({ dosageInstruction: dosage({ timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } } }) as never }), 'MedicationRequest.dosageInstruction[0].timing.repeat.timeOfDay'],
    ['a time with seconds', 'MedicationRequest', () => order({ dosageInstruction: dosage({ timing: { repeat: { timeOfDay: ['08:00:30'] } } }) as never }), 'MedicationRequest.dosageInstruction[0].timing.repeat.timeOfDay[0]'],
    ['a PRN "up to four times a day" with no minimum interval', 'MedicationRequest', () => order({ dosageInstruction: dosage({ asNeededCodeableConcept: { text: 'pain' }, timing: { repeat: { frequency: 4, period: 1, periodUnit: 'd' } }, maxDosePerPeriod: { numerator: { value: 4 }, denominator: { value: 1, code: 'd' } } }) as never }), 'MedicationRequest.dosageInstruction[0].timing.repeat.frequency'],
    ['a PRN with no maximum in 24 hours', 'MedicationRequest', () => order({ dosageInstruction: dosage({ asNeededCodeableConcept: { text: 'pain' }, timing: { repeat: { frequency: 1, period: 4, periodUnit: 'h' } } }) as never }), 'MedicationRequest.dosageInstruction[0].maxDosePerPeriod'],
    ['a route it cannot tell', 'MedicationRequest', () => order({ dosageInstruction: dosage({ route: { text: 'by mouth or under the skin' } }) as never }), 'MedicationRequest.dosageInstruction[0].route'],
    ['another prescriber than the sender', 'MedicationRequest', () => order({ requester: { reference: `Practitioner/${DEMO.nurse.practitionerId}` } }), 'MedicationRequest.requester.reference'],
    ['a product in no code system it records', 'MedicationRequest', () => order({ medicationCodeableConcept: { coding: [{ system: 'http://read.info/ctv3', code: 'x0123', display: 'Amlodipine' }] } }), 'MedicationRequest.medicationCodeableConcept.coding[0].system'],
    ['an element it would drop (reasonCode)', 'MedicationRequest', () => order({ reasonCode: [{ text: 'hypertension' }] }), 'MedicationRequest.reasonCode'],
    ['an extension it does not know', 'MedicationRequest', () => order({ extension: [{ url: 'https://example.org/repeat-dispensing', valueBoolean: true }] }), 'MedicationRequest.extension[0]'],
    ['a proposal rather than an order', 'MedicationRequest', () => order({ intent: 'proposal' }), 'MedicationRequest.intent'],
    ['an allergy only suspected', 'AllergyIntolerance', () => allergy({ verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'unconfirmed' }] } }), 'AllergyIntolerance.verificationStatus'],
    ['an allergy with no criticality', 'AllergyIntolerance', () => allergy({ criticality: undefined }), 'AllergyIntolerance.criticality'],
    ['an allergy with a note it would drop', 'AllergyIntolerance', () => allergy({ note: [{ text: 'mother says so' }] }), 'AllergyIntolerance.note'],
    ['a condition with no clinical status', 'Condition', () => condition({ clinicalStatus: undefined }), 'Condition.clinicalStatus'],
    ['a condition coded in ICD-10', 'Condition', () => condition({ code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10', display: 'Hypertension' }] } }), ['Condition.code.coding[0].system', 'Condition.code.coding[0].code']],
    ['a condition with an onset it cannot read', 'Condition', () => condition({ onsetString: 'in her fifties' }), 'Condition.onsetString'],
  ])('%s is refused with an OperationOutcome naming the element, and nothing is stored', async (_what, type, body, expression) => {
    const reply = await refusedWithNothingStored(() => fhir('POST', type, body()));
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(expressions(reply.body)).toEqual(typeof expression === 'string' ? [expression] : expression);
  });

  it('in a batch Bundle each entry is its own command: a good condition is recorded, a bad order refused naming its element in the Bundle', async () => {
    const batch = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'POST', url: 'Condition' }, resource: condition({ code: { coding: [{ system: SNOMED, code: '44054006', display: 'Diabetes mellitus type 2' }] } }) },
        { request: { method: 'POST', url: 'MedicationRequest' }, resource: order({ dosageInstruction: dosage({ doseAndRate: [{ doseRange: { low: { value: 1 }, high: { value: 2 } } }] }) as never }) },
      ],
    };
    const answer = await fhir<Bundle>('POST', '', batch);
    expect(answer.body.type).toBe('batch-response');
    expect(answer.body.entry!.map((e) => e.response!.status)).toEqual(['201 Created', '422 Unprocessable Entity']);
    expect(expressions(answer.body.entry![1]!.response!.outcome as Outcome)).toEqual(['Bundle.entry[1].resource.dosageInstruction[0].doseAndRate[0].doseRange']);
    expect((await record.care.medicines(patientId)).conditions.map((c) => c.code.display)).toContain('Diabetes mellitus type 2');
  });

  it('a care worker’s token may not prescribe, record an allergy or a condition through FHIR (403), and nothing is stored', async () => {
    for (const [type, body] of [['MedicationRequest', order()], ['AllergyIntolerance', allergy({})], ['Condition', condition({})]] as const) {
      const reply = await refusedWithNothingStored(() => fhir('POST', type, body, {}, tokens.careWorker));
      expect({ type, status: reply.status, code: reply.body.issue[0]!.code }).toEqual({ type, status: 403, code: 'forbidden' });
    }
  });

  // --- Allergies and conditions changed by the GP system (PUT, If-Match), through ChangeAllergy / ChangeCondition and their entered-in-error commands

  const AMOXICILLIN = { system: DMD, code: '39732411000001106', display: 'Amoxicillin 500mg capsules' };
  const IBUPROFEN = { system: DMD, code: '329652003', display: 'Ibuprofen 200mg tablets' };
  const CODEINE = { system: DMD, code: '322492003', display: 'Codeine 30mg tablets' };
  const ALLERGY_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';
  const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
  const verification = (code: string) => ({ coding: [{ system: ALLERGY_VERIFICATION, code }] });
  const codeOf = (concept: { coding?: { code?: string }[] } | undefined) => concept?.coding?.[0]?.code;

  /** An allergy recorded by the GP system, and an order for a product it matches (three doses a day). */
  const allergyAndOrder = async (substance: { code: string; display: string }, product: typeof AMOXICILLIN, unit: string) => {
    const held = (await kit.create({ resourceType: 'AllergyIntolerance', body: allergy({ criticality: 'high', code: { coding: [{ system: SNOMED, ...substance }] } }) as never })) as AllergyIntolerance;
    const prescribed = (await kit.create({
      resourceType: 'MedicationRequest',
      body: order({ medicationCodeableConcept: { coding: [product] }, dosageInstruction: [{ route: { text: 'Oral' }, doseAndRate: [{ doseQuantity: { value: 1, unit } }], timing: { repeat: { timeOfDay: ['08:00:00', '14:00:00', '20:00:00'] } } }] }) as never,
    })) as MedicationRequest;
    const give = (scheduledTime: string) => dose({ orderId: prescribed.id, outcome: 'given', scheduledTime, dose: { value: 1, unit } });
    return { held, give };
  };
  /** The allergy as read, changed, with the note saying why (the reason the record keeps). */
  const changed = (held: AllergyIntolerance, over: Partial<AllergyIntolerance>, why: string): AllergyIntolerance => ({ ...held, ...over, note: [...(held.note ?? []), { text: why }] });

  let refutedId = '';

  it('an allergy refuted by the GP system (PUT with If-Match and a note why) no longer stops the dose: version 2 reads back refuted with the reason; version 1 is as it was', async () => {
    const { held, give } = await allergyAndOrder({ code: '372687004', display: 'Amoxicillin' }, AMOXICILLIN, 'capsule');
    refutedId = held.id!;
    expect((await give('08:00')).body.code).toBe('mar.allergy');

    const refuted = (await kit.update({ resourceType: 'AllergyIntolerance', id: held.id!, body: changed(held, { verificationStatus: verification('refuted') }, 'Penicillin patch test negative at the allergy clinic') as never, options: { headers: { 'If-Match': 'W/"1"' } } })) as AllergyIntolerance;
    expectValidFhir(refuted as never);
    expect({ version: refuted.meta?.versionId, verification: codeOf(refuted.verificationStatus), clinical: codeOf(refuted.clinicalStatus) }).toEqual({ version: '2', verification: 'refuted', clinical: 'active' });
    expect(refuted.note).toEqual([expect.objectContaining({ text: 'Changed: Penicillin patch test negative at the allergy clinic', authorReference: { reference: `Practitioner/${DEMO.gp.practitionerId}` } })]);

    expect((await give('08:00')).status).toBe(201);
    const first = (await kit.vread({ resourceType: 'AllergyIntolerance', id: held.id!, version: '1' })) as AllergyIntolerance;
    expect(codeOf(first.verificationStatus)).toBe('confirmed');
    const sentBack = await fhir<AllergyIntolerance>('PUT', `AllergyIntolerance/${held.id}`, refuted, { 'if-match': 'W/"2"' });
    expect({ status: sentBack.status, version: sentBack.body.meta?.versionId }).toEqual({ status: 200, version: '2' });
  });

  it('an allergy entered in error no longer stops the dose: it reads back entered-in-error, without a clinical status, with the reason', async () => {
    const { held, give } = await allergyAndOrder({ code: '387207008', display: 'Ibuprofen' }, IBUPROFEN, 'tablet');
    expect((await give('08:00')).body.code).toBe('mar.allergy');
    const { clinicalStatus: _clinical, ...withoutClinical } = held;
    const withdrawn = await fhir<AllergyIntolerance>('PUT', `AllergyIntolerance/${held.id}`, changed(withoutClinical, { verificationStatus: verification('entered-in-error') }, 'Recorded on the wrong person’s record'), { 'if-match': 'W/"1"' });
    expect(withdrawn.status).toBe(200);
    expectValidFhir(withdrawn.body as never);
    expect({ version: withdrawn.body.meta?.versionId, verification: codeOf(withdrawn.body.verificationStatus), clinical: withdrawn.body.clinicalStatus }).toEqual({ version: '2', verification: 'entered-in-error', clinical: undefined });
    expect(withdrawn.body.note!.map((n) => n.text)).toEqual(['Entered in error: Recorded on the wrong person’s record']);
    expect((await give('08:00')).status).toBe(201);
  });

  it('an allergy changed to unconfirmed (only suspected) still stops the dose, saying it is suspected', async () => {
    const { held, give } = await allergyAndOrder({ code: '387494007', display: 'Codeine' }, CODEINE, 'tablet');
    const suspected = await fhir<AllergyIntolerance>('PUT', `AllergyIntolerance/${held.id}`, changed(held, { verificationStatus: verification('unconfirmed') }, 'Daughter unsure: reaction may have been to something else'), { 'if-match': 'W/"1"' });
    expect({ status: suspected.status, verification: codeOf(suspected.body.verificationStatus) }).toEqual({ status: 200, verification: 'unconfirmed' });
    const stopped = await give('08:00');
    expect({ status: stopped.status, code: stopped.body.code }).toEqual({ status: 422, code: 'mar.allergy' });
    expect(stopped.body.errors![0]!.message).toContain(`Codeine (AllergyIntolerance/${held.id}, suspected (unconfirmed), criticality high`);
  });

  it('a change of an allergy on a stale version is 412, one without If-Match 428, and neither is stored', async () => {
    const current = (await read<AllergyIntolerance>(`AllergyIntolerance/${refutedId}`)).body;
    const confirmedAgain = changed(current, { verificationStatus: verification('confirmed') }, 'Reaction again after a dose');
    const stale = await refusedWithNothingStored(() => fhir('PUT', `AllergyIntolerance/${refutedId}`, confirmedAgain, { 'if-match': 'W/"1"' }));
    expect({ status: stale.status, at: expressions(stale.body) }).toEqual({ status: 412, at: ['If-Match'] });
    const blind = await refusedWithNothingStored(() => fhir('PUT', `AllergyIntolerance/${refutedId}`, confirmedAgain));
    expect({ status: blind.status, at: expressions(blind.body) }).toEqual({ status: 428, at: ['If-Match'] });
  });

  it('a care worker’s token may not change an allergy or a condition (403), and nothing is stored', async () => {
    const allergyHeld = (await read<AllergyIntolerance>(`AllergyIntolerance/${refutedId}`)).body;
    const refused = await refusedWithNothingStored(() => fhir('PUT', `AllergyIntolerance/${refutedId}`, changed(allergyHeld, { verificationStatus: verification('confirmed') }, 'She says she is allergic'), { 'if-match': 'W/"2"' }, tokens.careWorker));
    expect({ status: refused.status, code: refused.body.issue[0]!.code }).toEqual({ status: 403, code: 'forbidden' });
    const conditionHeld = (await read<Bundle>(`Condition?patient=Patient/${patientId}`)).body.entry![0]!.resource as Condition;
    const alsoRefused = await refusedWithNothingStored(() => fhir('PUT', `Condition/${conditionHeld.id}`, { ...conditionHeld, note: [...(conditionHeld.note ?? []), { text: 'better' }] }, { 'if-match': 'W/"1"' }, tokens.careWorker));
    expect(alsoRefused.status).toBe(403);
  });

  it('a condition resolved by the GP system reads back resolved, with the day it ended and why, in Patient/$everything (version 2); entered in error, it says so', async () => {
    const cellulitis = (await kit.create({ resourceType: 'Condition', body: condition({ code: { coding: [{ system: SNOMED, code: '128045006', display: 'Cellulitis' }] }, onsetDateTime: '2026-11-20', note: [{ text: 'Left lower leg' }] }) as never })) as Condition;
    const today = new Date().toISOString().slice(0, 10);
    const resolved = {
      ...cellulitis,
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }] },
      abatementDateTime: today,
      note: [...cellulitis.note!, { text: 'Antibiotics finished; skin healed' }],
    };
    const put = await fhir<Condition>('PUT', `Condition/${cellulitis.id}`, resolved, { 'if-match': 'W/"1"' });
    expect(put.status).toBe(200);
    expectValidFhir(put.body as never);
    const everything = (await read<Bundle>(`Patient/${patientId}/$everything?_type=Condition`)).body;
    const held = everything.entry!.map((e) => e.resource as Condition).find((c) => c.id === cellulitis.id);
    expect(held).toMatchObject({ meta: { versionId: '2' }, clinicalStatus: { coding: [expect.objectContaining({ code: 'resolved' })] }, abatementDateTime: today, onsetDateTime: '2026-11-20' });
    expect(held!.note!.map((n) => n.text)).toEqual(['Left lower leg', 'Changed: Antibiotics finished; skin healed']);
    const sentBack = await fhir<Condition>('PUT', `Condition/${cellulitis.id}`, put.body, { 'if-match': 'W/"2"' });
    expect({ status: sentBack.status, version: sentBack.body.meta?.versionId }).toEqual({ status: 200, version: '2' });

    // Entered in error it has no clinical status (FHIR con-5), so no end date either (con-4).
    const { clinicalStatus: _clinical, abatementDateTime: _ended, ...withoutClinical } = put.body;
    const withdrawn = await fhir<Condition>('PUT', `Condition/${cellulitis.id}`, { ...withoutClinical, verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' }] }, note: [...put.body.note!, { text: 'Another person’s diagnosis' }] }, { 'if-match': 'W/"2"' });
    expect(withdrawn.status).toBe(200);
    expectValidFhir(withdrawn.body as never);
    expect({ version: withdrawn.body.meta?.versionId, verification: codeOf(withdrawn.body.verificationStatus), clinical: withdrawn.body.clinicalStatus }).toEqual({ version: '3', verification: 'entered-in-error', clinical: undefined });
    const resolvedNow = (await read<Bundle>(`Condition?patient=Patient/${patientId}&clinical-status=resolved`)).body;
    expect((resolvedNow.entry ?? []).map((e) => e.resource!.id)).not.toContain(cellulitis.id);
  });

  /** The penicillin allergy and the hypertension condition as they stand (version 1), for the refusals below. */
  const heldAllergy = async () => (await read<Bundle>(`AllergyIntolerance?patient=Patient/${patientId}&code=${encodeURIComponent(`${SNOMED}|764146007`)}`)).body.entry![0]!.resource as AllergyIntolerance;
  const heldCondition = async () => (await read<Bundle>(`Condition?patient=Patient/${patientId}&code=${encodeURIComponent(`${SNOMED}|38341003`)}`)).body.entry![0]!.resource as Condition;
  const withNote = <T extends { note?: { text: string }[] }>(resource: T, text = 'Reviewed at the practice'): T => ({ ...resource, note: [...(resource.note ?? []), { text }] });
  const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';

  it.each([
    ['an allergy changed without saying why', 'AllergyIntolerance', async () => ({ ...(await heldAllergy()), criticality: 'low' as const, reaction: [{ manifestation: [{ text: 'rash' }] }] }), 'AllergyIntolerance.note'],
    ['an allergy given two reasons', 'AllergyIntolerance', async () => withNote(withNote({ ...(await heldAllergy()), criticality: 'low' as const }), 'and another'), 'AllergyIntolerance.note[1]'],
    ['an allergy moved to another substance', 'AllergyIntolerance', async () => withNote({ ...(await heldAllergy()), code: { coding: [{ system: SNOMED, code: '372687004', display: 'Amoxicillin' }] } }), 'AllergyIntolerance.code.coding[0]'],
    ['an allergy with a status allergies do not have (remission)', 'AllergyIntolerance', async () => withNote({ ...(await heldAllergy()), clinicalStatus: { coding: [{ system: ALLERGY_CLINICAL, code: 'remission' }] } }), 'AllergyIntolerance.clinicalStatus'],
    ['an allergy updated without its verification status', 'AllergyIntolerance', async () => withNote({ ...(await heldAllergy()), verificationStatus: undefined }), 'AllergyIntolerance.verificationStatus'],
    ['an allergy entered in error still carrying a clinical status', 'AllergyIntolerance', async () => withNote({ ...(await heldAllergy()), verificationStatus: verification('entered-in-error') }), 'AllergyIntolerance.clinicalStatus'],
    ['an allergy with an element it would drop (onsetDateTime)', 'AllergyIntolerance', async () => withNote({ ...(await heldAllergy()), onsetDateTime: '2001-01-01' }), 'AllergyIntolerance.onsetDateTime'],
    ['an allergy whose id is not the one in the URL', 'AllergyIntolerance', async () => withNote({ ...(await heldAllergy()), id: 'another' }), 'AllergyIntolerance.id'],
    ['a condition ended but still active', 'Condition', async () => withNote({ ...(await heldCondition()), abatementDateTime: '2026-12-01' }), 'Condition.abatementDateTime'],
    ['a condition ended at an age (abatementString)', 'Condition', async () => withNote({ ...(await heldCondition()), clinicalStatus: { coding: [{ system: CONDITION_CLINICAL, code: 'resolved' }] }, abatementString: 'in her sixties' }), 'Condition.abatementString'],
    ['a condition only provisional', 'Condition', async () => withNote({ ...(await heldCondition()), verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'provisional' }] } }), 'Condition.verificationStatus'],
    ['a condition recoded as another', 'Condition', async () => withNote({ ...(await heldCondition()), code: { coding: [{ system: SNOMED, code: '44054006', display: 'Diabetes mellitus type 2' }] } }), 'Condition.code.coding[0]'],
  ])('%s is refused with an OperationOutcome naming the element, and nothing is stored', async (_what, type, body, expression) => {
    const sent = await body();
    const held = type === 'AllergyIntolerance' ? await heldAllergy() : await heldCondition();
    const reply = await refusedWithNothingStored(() => fhir('PUT', `${type}/${held.id}`, sent, { 'if-match': `W/"${held.meta!.versionId}"` }));
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(expressions(reply.body)).toEqual([expression]);
  });

  it('the CapabilityStatement says create and update for orders, allergies and conditions', async () => {
    const metadata = (await (await fetch(`${tandem.url}/fhir/metadata`)).json()) as CapabilityStatement;
    expectValidFhir(metadata as never);
    const interactions = (type: string) => metadata.rest![0]!.resource!.find((r) => r.type === type)!.interaction!.map((i) => i.code);
    for (const type of ['MedicationRequest', 'AllergyIntolerance', 'Condition']) expect(interactions(type)).toEqual(expect.arrayContaining(['create', 'update']));
  });
});
