import { mintToken } from '@tandem/auth';
import { expectValidFhir } from '@tandem/fhir-validation';
import Client from 'fhir-kit-client';
import type { Bundle, Observation, OperationOutcome, Patient } from 'fhir/r4';
import type { RunningTandem } from '../src';
import { startGpFhir, type GpFhir } from './gp-fhir-fixture';

/**
 * Issue 17 item 4, shaping the answer, as a GP system asks for it with a real FHIR client
 * (fhir-kit-client) and as an integration engine sends headers: `_summary` (count, true, data),
 * `_elements` (with the SUBSETTED tag, mandatory elements kept), `_total=none`, `Prefer: return`
 * on a write, and `Prefer: handling` for a parameter this server does not know.
 */
describe('a FHIR answer shaped as the client asks', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let fhir: InstanceType<typeof Client>;
  let patientId: string;
  let gp: string;
  const get = async <T = Bundle>(path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${tandem.url}/fhir/${path}`, { headers: { authorization: `Bearer ${gp}`, ...headers } });
    return { status: response.status, body: (await response.json()) as T };
  };
  const refusal = (path: string, headers: Record<string, string> = {}) => get<OperationOutcome>(path, headers);
  const isSubsetted = (r: { meta?: { tag?: { code?: string }[] } }) => (r.meta?.tag ?? []).some((t) => t.code === 'SUBSETTED');

  let setUp: GpFhir | undefined;

  beforeAll(async () => {
    setUp = await startGpFhir('shaping', { patients: 1, days: 5 });
    ({ tandem, dataDir, fhir, gp } = setUp);
    patientId = setUp.patientIds[0]!;
  }, 60_000);

  afterAll(async () => {
    await setUp?.stop();
  });

  it('_summary=count answers the total alone, with no entries', async () => {
    const all = (await fhir.search({ resourceType: 'Observation', searchParams: { patient: patientId } })) as Bundle;
    const counted = (await fhir.search({ resourceType: 'Observation', searchParams: { patient: patientId, _summary: 'count' } })) as Bundle;
    expect(all.total).toBeGreaterThan(5);
    expect(counted.total).toBe(all.total);
    expect(counted.entry ?? []).toEqual([]);
    expect(counted.link?.some((l) => l.relation === 'next')).toBe(false);
  });

  it('_elements keeps the elements asked for and the mandatory ones, tagged SUBSETTED, on a search and on a read', async () => {
    const page = (await fhir.search({ resourceType: 'Observation', searchParams: { patient: patientId, _elements: 'effectiveDateTime,valueQuantity', _count: '5' } })) as Bundle;
    const observations = (page.entry ?? []).map((e) => e.resource as Observation);
    expect(observations.length).toBeGreaterThan(0);
    for (const o of observations) {
      // status and code are mandatory in R4: kept, so the answer is still an Observation.
      expect(Object.keys(o).sort()).toEqual(expect.arrayContaining(['code', 'id', 'meta', 'resourceType', 'status']));
      expect(o.subject).toBeUndefined();
      expect(o.category).toBeUndefined();
      expect(isSubsetted(o)).toBe(true);
    }
    const read = await get<Patient>(`Patient/${patientId}?_elements=birthDate`);
    expect(read.status).toBe(200);
    expect(read.body.birthDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(read.body.name).toBeUndefined();
    expect(read.body.identifier).toBeUndefined();
    expect(isSubsetted(read.body)).toBe(true);
  });

  it('_summary=true keeps the summary elements of R4; a read without it is the whole resource, untagged', async () => {
    const whole = (await fhir.read({ resourceType: 'Patient', id: patientId })) as Patient;
    const summary = (await get<Patient>(`Patient/${patientId}?_summary=true`)).body;
    expect(isSubsetted(whole)).toBe(false);
    expect(summary.name).toEqual(whole.name);
    expect(summary.identifier).toEqual(whole.identifier);
    expect(isSubsetted(summary)).toBe(true);
    // Patient.generalPractitioner is not a summary element in R4.
    expect(whole.generalPractitioner).toBeDefined();
    expect(summary.generalPractitioner).toBeUndefined();
    expectValidFhir(summary);
  });

  it('_total=none leaves the total out', async () => {
    const page = (await get(`Observation?patient=${patientId}&_total=none&_count=2`)).body;
    expect(page.total).toBeUndefined();
    expect(page.entry).toHaveLength(2);
  });

  it('an unknown parameter is refused naming it (strict, the default), and left out with a warning under Prefer: handling=lenient', async () => {
    const strict = await refusal(`Observation?patient=${patientId}&colour=blue`);
    expect(strict.status).toBe(400);
    expect(strict.body.issue[0]!.expression).toEqual(['colour']);
    const lenient = await get(`Observation?patient=${patientId}&colour=blue&_count=3`, { prefer: 'handling=lenient' });
    expect(lenient.status).toBe(200);
    const entries = lenient.body.entry ?? [];
    expect(entries.filter((e) => e.search?.mode === 'match')).toHaveLength(3);
    const warning = entries.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome;
    expect(warning.issue[0]).toEqual(expect.objectContaining({ severity: 'warning', expression: ['colour'] }));
  });

  it('bad shaping values are refused naming the parameter', async () => {
    for (const [path, parameter] of [
      [`Observation?patient=${patientId}&_summary=most`, '_summary'],
      [`Observation?patient=${patientId}&_total=some`, '_total'],
      [`Observation?patient=${patientId}&_elements=subject.reference`, '_elements'],
      [`Patient/${patientId}?_summary=true&_elements=name`, '_elements'],
    ] as const) {
      const answer = await refusal(path);
      expect({ path, status: answer.status, expression: answer.body.issue?.[0]?.expression }).toEqual({ path, status: 400, expression: [parameter] });
    }
    const prefer = await refusal(`Observation?patient=${patientId}`, { prefer: 'handling=sloppy' });
    expect(prefer.status).toBe(400);
    expect(prefer.body.issue[0]!.expression).toEqual(['Prefer']);
  });

  it('a write answers as Prefer: return asks: nothing (minimal), an OperationOutcome, or the resource', async () => {
    const device = await mintToken({ role: 'system', user: 'device-hub-shaping', scope: 'system/Observation.cru' }, { dataDir });
    let n = 0;
    const post = (prefer?: string) =>
      fetch(`${tandem.url}/fhir/Observation`, {
        method: 'POST',
        headers: { authorization: `Bearer ${device}`, 'content-type': 'application/fhir+json', 'idempotency-key': `shaping-${++n}`, ...(prefer ? { prefer } : {}) },
        body: JSON.stringify({
          resourceType: 'Observation',
          status: 'final',
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
          code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
          subject: { reference: `Patient/${patientId}` },
          effectiveDateTime: new Date(Date.now() - n * 60_000).toISOString(),
          valueQuantity: { value: 70 + n, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
        }),
      });
    const minimal = await post('return=minimal');
    expect(minimal.status).toBe(201);
    expect(minimal.headers.get('location')).toMatch(/\/fhir\/Observation\/[^/]+\/_history\/1$/);
    expect(await minimal.text()).toBe('');
    const outcome = await post('return=OperationOutcome');
    expect(outcome.status).toBe(201);
    expect(((await outcome.json()) as OperationOutcome).resourceType).toBe('OperationOutcome');
    const whole = await post();
    expect(((await whole.json()) as Observation).valueQuantity?.value).toBe(73);
  });
});
