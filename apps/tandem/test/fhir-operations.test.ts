import { mintToken } from '@tandem/auth';
import { fhirProblems } from '@tandem/fhir-validation';
import type { createRecordService } from '@tandem/record';
import Client from 'fhir-kit-client';
import type { Bundle, Observation, OperationOutcome, Parameters } from 'fhir/r4';

/** A FHIR answer read loosely: an OperationOutcome, a Bundle or Parameters. */
type Answer = { resourceType: string } & Omit<OperationOutcome, 'resourceType'> & Omit<Bundle, 'resourceType'> & Omit<Parameters, 'resourceType'>;
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';

/**
 * The FHIR operations an integration calls (issue 17, item 7), against the running server with
 * fhir-kit-client: `$validate` (answered by the validator the tests use), `Observation/$lastn` (the
 * latest of each vital sign: a GP's summary screen), `$meta`; and the interactions Tandem does not
 * support (DELETE, PATCH, conditional update) answered 405 with an OperationOutcome, never 404.
 */
describe('FHIR operations: $validate, $lastn, $meta, and 405 for what is not supported', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientIds: string[];
  let gpToken: string;
  let kit: InstanceType<typeof Client>;

  const call = async (method: string, path: string, body?: unknown, token = gpToken) => {
    const response = await fetch(`${tandem.url}/fhir${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', 'x-tandem-min-position': String(await tandem.storage.store.headPosition()) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Answer };
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-fhir-operations-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    ({ patientIds } = await seedDemoData(record.care, { patients: 2, days: 3, now: new Date() }));
    gpToken = await mintToken({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration }, { dataDir });
    kit = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: gpToken });
    await call('GET', `/Patient/${patientIds[0]}`);
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('$validate', () => {
    it('answers a valid Observation with one information issue, and an invalid one with errors naming the element (the tests’ own validator)', async () => {
      const { body: stored } = await call('GET', `/Observation?patient=${patientIds[0]}&_count=1`);
      const observation = stored.entry![0]!.resource as Observation;
      const valid = (await kit.operation({ name: '$validate', resourceType: 'Observation', method: 'POST', input: observation as never })) as OperationOutcome;
      expect(valid.issue).toEqual([expect.objectContaining({ severity: 'information' })]);

      const broken = { ...observation, status: 'done', valueQuantity: { value: 'high' } };
      const answer = await call('POST', '/Observation/$validate', broken);
      expect(answer.status).toBe(200);
      expect(answer.body.resourceType).toBe('OperationOutcome');
      const errors = answer.body.issue.filter((i) => i.severity === 'error');
      // The same findings the tests' expectValidFhir reports for it.
      expect(errors.length).toBe(fhirProblems(broken as never).length);
      expect(errors.map((i) => i.expression?.join())).toEqual(expect.arrayContaining(['Observation.status']));
    });

    it('takes the resource inside Parameters, and refuses a resource of another type naming resourceType', async () => {
      const patient = (await call('GET', `/Patient/${patientIds[0]}`)).body as unknown as { resourceType: 'Patient' };
      const wrapped = await call('POST', '/Patient/$validate', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: patient }] });
      expect(wrapped.body.issue).toEqual([expect.objectContaining({ severity: 'information' })]);
      const wrong = await call('POST', '/Observation/$validate', patient);
      expect(wrong.status).toBe(400);
      expect(wrong.body.issue[0]).toMatchObject({ severity: 'error', expression: ['resourceType'] });
    });
  });

  describe('Observation/$lastn', () => {
    it('gives the latest of each vital sign for the person, one each by default and `max` of each when asked', async () => {
      const patientId = patientIds[0]!;
      const lastn = (await kit.request(`Observation/$lastn?patient=${patientId}`)) as Bundle;
      const codes = lastn.entry!.map((e) => (e.resource as Observation).code.coding![0]!.code);
      // One of each: NEWS2, respiration, SpO2, blood pressure, pulse, temperature (at least), none twice.
      expect(codes).toEqual(expect.arrayContaining(['1104051000000101', '9279-1', '2708-6', '85354-9', '8867-4', '8310-5']));
      expect(new Set(codes).size).toBe(codes.length);
      // Each is the newest of its code: the same as a search sorted by date.
      const pulse = lastn.entry!.map((e) => e.resource as Observation).find((o) => o.code.coding![0]!.code === '8867-4')!;
      const newest = (await call('GET', `/Observation?patient=${patientId}&code=http://loinc.org|8867-4&_sort=-date&_count=1`)).body.entry![0]!.resource as Observation;
      expect(pulse.id).toBe(newest.id);
      expect(lastn.entry!.every((e) => (e.resource as Observation).subject?.reference === `Patient/${patientId}`)).toBe(true);

      const three = (await kit.request(`Observation/$lastn?patient=${patientId}&max=3&code=http://loinc.org|8867-4`)) as Bundle;
      const times = three.entry!.map((e) => Date.parse((e.resource as Observation).effectiveDateTime!));
      expect(times).toHaveLength(3);
      expect(times).toEqual([...times].sort((a, b) => b - a));
    });

    it('refuses a request without the person, or with max out of range, naming the parameter; and a person outside the caller’s care', async () => {
      expect((await call('GET', '/Observation/$lastn')).body.issue[0]).toMatchObject({ expression: ['patient'] });
      expect((await call('GET', `/Observation/$lastn?patient=${patientIds[0]}&max=0`)).body.issue[0]).toMatchObject({ expression: ['max'] });
      const stranger = await mintToken({ role: 'district-nurse', user: 'nurse-elsewhere', org: 'org-elsewhere', registration: { system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '99Z9999Z' } }, { dataDir });
      const refused = await call('GET', `/Observation/$lastn?patient=${patientIds[0]}`, undefined, stranger);
      expect(refused.status).toBe(403);
      expect(refused.body.resourceType).toBe('OperationOutcome');
    });
  });

  it('$meta answers a resource’s meta as Parameters (the version the read gives)', async () => {
    const meta = await call('GET', `/Patient/${patientIds[0]}/$meta`);
    const read = await call('GET', `/Patient/${patientIds[0]}`);
    expect(meta.status).toBe(200);
    expect(meta.body).toMatchObject({ resourceType: 'Parameters', parameter: [{ name: 'return', valueMeta: { versionId: (read.body as unknown as { meta: { versionId: string } }).meta.versionId } }] });
  });

  it.each([
    ['DELETE', 'a Patient', () => `/Patient/${patientIds[0]}`],
    ['PATCH', 'a Patient', () => `/Patient/${patientIds[0]}`],
    ['PUT', 'Patient?identifier= (conditional update)', () => '/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9912003888'],
    ['DELETE', 'Observation?patient= (conditional delete)', () => '/Observation?patient=x'],
  ])('%s of %s answers 405 with an OperationOutcome, not 404', async (method, _what, path) => {
    const answer = await call(method, path(), method === 'DELETE' ? undefined : { resourceType: 'Patient' });
    expect({ status: answer.status, type: answer.type, resourceType: answer.body.resourceType }).toEqual({ status: 405, type: expect.stringContaining('application/fhir+json'), resourceType: 'OperationOutcome' });
    expect(answer.body.issue[0]!.diagnostics).toMatch(/not supported/);
  });
});
