import { expectValidFhir } from '@tandem/fhir-validation';
import Client from 'fhir-kit-client';
import type { Bundle, FhirResource } from 'fhir/r4';
import type { RunningTandem } from '../src';
import { DEMO } from '../src/demo/demo-data';
import { startGpFhir, type GpFhir } from './gp-fhir-fixture';

/**
 * Issue 17 item 6: Patient/$everything as a GP system uses it (fhir-kit-client): the most recent
 * care first across types, `start` and `end` as care dates, and the practitioners and organisations
 * the page names brought with it; Provenance when `_type` asks for it.
 */
describe("Patient/$everything, as a GP's system reads it", () => {
  let tandem: RunningTandem;
  let fhir: InstanceType<typeof Client>;
  let patientId: string;
  let gp: string;
  const DAY = 86_400_000;
  const everything = async (input: Record<string, string>) => (await fhir.operation({ name: '$everything', resourceType: 'Patient', id: patientId, method: 'GET', input })) as Bundle;
  const matches = (bundle: Bundle) => (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource!);
  /** When the care happened: the resource's clinical time, as $everything orders by it. */
  const careTime = (r: FhirResource): number | undefined => {
    const x = r as { effectiveDateTime?: string; effectivePeriod?: { start?: string }; period?: { start?: string }; start?: string };
    const at = x.effectiveDateTime ?? x.effectivePeriod?.start ?? x.period?.start ?? x.start;
    return at === undefined ? undefined : Date.parse(at);
  };

  let setUp: GpFhir | undefined;

  beforeAll(async () => {
    // Three people so the first (on insulin: observations, glucose and doses) has ten days of mixed care.
    setUp = await startGpFhir('everything', { patients: 3, days: 10 });
    ({ tandem, fhir, gp } = setUp);
    patientId = setUp.patientIds[0]!;
  }, 60_000);

  afterAll(async () => {
    await setUp?.stop();
  });

  it('puts the most recent care first, across types: the first page is the last days, not one type after another', async () => {
    const page = await everything({ _count: '20' });
    const [patient, ...care] = matches(page);
    expect(patient!.resourceType).toBe('Patient');
    const times = care.map(careTime);
    const dated = times.filter((t): t is number => t !== undefined);
    expect(dated.length).toBeGreaterThan(10);
    // Newest first; anything without a clinical time after all that has one.
    expect(dated).toEqual([...dated].sort((a, b) => b - a));
    expect(times.slice(0, dated.length).every((t) => t !== undefined)).toBe(true);
    // Ten days of care, and the first page is the last two of them, with more than one kind of entry in it.
    expect(Date.now() - dated[dated.length - 1]!).toBeLessThan(3 * DAY);
    expect(new Set(care.map((r) => r.resourceType)).size).toBeGreaterThan(1);
  });

  it('keeps the care of the days between start and end (and what has no clinical time), paging as before', async () => {
    const whole = await everything({ _count: '1' });
    const start = new Date(Date.now() - 5 * DAY).toISOString().slice(0, 10);
    const end = new Date(Date.now() - 3 * DAY).toISOString().slice(0, 10);
    const ranged = await everything({ _count: '1000', start, end });
    expect(ranged.total).toBeGreaterThan(1);
    expect(ranged.total).toBeLessThan(whole.total!);
    for (const r of matches(ranged)) {
      const at = careTime(r);
      if (at === undefined || r.resourceType === 'Patient') continue;
      expect({ at: new Date(at).toISOString(), inRange: at >= Date.parse(start) && at < Date.parse(end) + DAY }).toEqual({ at: new Date(at).toISOString(), inRange: true });
    }
    const bad = await fetch(`${tandem.url}/fhir/Patient/${patientId}/$everything?start=last-tuesday`, { headers: { authorization: `Bearer ${gp}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { issue: { expression: string[] }[] }).issue[0]!.expression).toEqual(['start']);
  });

  it('brings the practitioners and organisations the page names, each once, as includes not counted in the total', async () => {
    const page = await everything({ _count: '50' });
    const included = (page.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => e.resource!);
    const text = JSON.stringify(matches(page));
    expect(included.length).toBeGreaterThan(0);
    for (const r of included) {
      expect(['Practitioner', 'Organization']).toContain(r.resourceType);
      expect(text).toContain(`"${r.resourceType}/${r.id}"`);
      expectValidFhir(r);
    }
    expect(new Set(included.map((r) => `${r.resourceType}/${r.id}`)).size).toBe(included.length);
    // The person's GP among them.
    expect(included.map((r) => r.id)).toContain(DEMO.gp.practitionerId);
    expect(matches(page)).toHaveLength(50);
  });

  it('leaves Provenance out unless _type asks for it', async () => {
    expect(matches(await everything({ _count: '1000' })).some((r) => r.resourceType === 'Provenance')).toBe(false);
    const provenance = await everything({ _count: '5', _type: 'Provenance' });
    expect(provenance.total).toBeGreaterThan(0);
    expect(new Set(matches(provenance).map((r) => r.resourceType))).toEqual(new Set(['Provenance']));
  });
});
