/**
 * `npm run bench:bundle --workspace @tandem/record`: the cost of writing a search's bundle (issue 12,
 * ADR 0039). A searchset of 20 and of 50 Observations shaped as the FHIR projection writes vital
 * signs, written as the server did before (`JSON.stringify` of the whole bundle: the reference
 * point, in the same run) and as it does now (`bundleJson`: each resource's text held once by the
 * reader, the bundle's own parts stringified around it). Rounds alternate between the two so the
 * machine's load falls on both alike; the figure is the median of the rounds, in CPU microseconds
 * per bundle (process.cpuUsage: this process's own time, whatever else the machine does).
 * Exits non-zero unless both give the same bytes.
 */
import { holdJsonText } from '@tandem/fhir-read-model';
import type { Bundle, Observation } from 'fhir/r4';
import { cpus, loadavg } from 'node:os';
import { bundleJson, entryFor, searchLinks } from '../src/fhir/bundle';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 400);
const BASE = 'http://127.0.0.1:3000/fhir';

const CODES = [
  ['9279-1', 'Respiratory rate', '/min', 'breaths/minute', 18],
  ['59408-5', 'Oxygen saturation in Arterial blood by Pulse oximetry', '%', '%', 96],
  ['8867-4', 'Heart rate', '/min', 'beats/minute', 72],
  ['8310-5', 'Body temperature', 'Cel', '°C', 37.1],
] as const;

/** An Observation as the projection writes a vital sign: coded, categorised, about a person, performed by a care worker. */
const observation = (i: number): Observation => {
  const [loinc, display, ucum, unit, value] = CODES[i % CODES.length]!;
  return {
    resourceType: 'Observation',
    id: `5b2c1f0e-8d7a-4c3b-9e21-${String(100000000000 + i)}-${loinc}`,
    meta: { versionId: '1', lastUpdated: new Date(Date.UTC(2026, 11, 1, 8, i)).toISOString(), profile: ['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation'] },
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: loinc, display }] },
    subject: { reference: 'Patient/0f6f3f7a-8b8c-4f1e-9a55-2d0c9b3a1e77' },
    effectiveDateTime: new Date(Date.UTC(2026, 11, 1, 8, i)).toISOString(),
    performer: [{ reference: 'Practitioner/cw-1', display: 'Care worker' }],
    valueQuantity: { value: value + (i % 3), unit, system: 'http://unitsofmeasure.org', code: ucum },
    extension: [{ url: 'https://tandem.example/fhir/StructureDefinition/recorded-late', valueBoolean: false }],
  };
};

const bundleOf = (resources: readonly Observation[]): Bundle => ({
  resourceType: 'Bundle',
  type: 'searchset',
  total: 3240,
  link: searchLinks({ base: `${BASE}/Observation`, query: new URLSearchParams(`patient=0f6f3f7a&_count=${resources.length}`), nextCursor: 'WyJkYXRlIiwiMjAyNi0xMi0wMSIsIjViMmMiXQ' }),
  entry: resources.map((r) => entryFor(BASE, r, 'match')),
});

const cpuMicros = (work: () => void): number => {
  const start = process.cpuUsage();
  work();
  const { user, system } = process.cpuUsage(start);
  return user + system;
};

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

let sink = 0;
const main = () => {
  process.stdout.write(`Bundle text benchmark, ${new Date().toISOString()}\nmachine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  process.stdout.write(`${ROUNDS} alternating rounds of ${PER_ROUND} bundles each way; CPU µs per bundle, median of the rounds\n`);
  for (const count of [20, 50]) {
    const resources = Array.from({ length: count }, (_, i) => observation(i));
    // As the reader does once, when it holds the answer (LatestVersionsReader).
    for (const r of resources) holdJsonText(r, JSON.stringify(r));
    const before = JSON.stringify(bundleOf(resources));
    if (bundleJson(bundleOf(resources)) !== before) throw new Error(`bundleJson differs from JSON.stringify for ${count} resources`);
    const stringify: number[] = [];
    const heldText: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      stringify.push(cpuMicros(() => { for (let i = 0; i < PER_ROUND; i++) sink += JSON.stringify(bundleOf(resources)).length; }) / PER_ROUND);
      heldText.push(cpuMicros(() => { for (let i = 0; i < PER_ROUND; i++) sink += bundleJson(bundleOf(resources)).length; }) / PER_ROUND);
    }
    const [a, b] = [median(stringify), median(heldText)];
    process.stdout.write(`  ${count} Observations (${(before.length / 1024).toFixed(1)} KiB): JSON.stringify (before, reference) ${a.toFixed(1)} µs; bundleJson from held text ${b.toFixed(1)} µs; ${(a / b).toFixed(1)}x less CPU\n`);
  }
  if (sink === 0) process.exit(1);
};

main();
