import { holdJsonText } from '@tandem/fhir-read-model';
import type { Bundle, Observation } from 'fhir/r4';
import { bundleJson, entryFor, outcomeEntry } from '../../src/fhir/bundle';

/**
 * A search's bundle is sent as text assembled from the JSON text its reader holds for each
 * resource (issue 12: a version never changes, so it is stringified once, not on every search).
 * What a client receives is the bytes JSON.stringify gives for the same bundle.
 */
const observation = (id: string, value: number): Observation => ({
  resourceType: 'Observation',
  id,
  meta: { versionId: '1', lastUpdated: '2026-12-03T09:00:00.000Z' },
  status: 'final',
  code: { coding: [{ system: 'http://snomed.info/sct', code: '86290005', display: 'Respiration rate' }] },
  subject: { reference: 'Patient/p-1' },
  valueQuantity: { value, unit: 'breaths/minute', system: 'http://unitsofmeasure.org', code: '/min' },
});

const searchset = (resources: Observation[]): Bundle => ({
  resourceType: 'Bundle',
  type: 'searchset',
  total: resources.length,
  link: [{ relation: 'self', url: 'http://localhost/fhir/Observation?patient=p-1' }],
  entry: [
    ...resources.map((r) => entryFor('http://localhost/fhir', r, 'match')),
    outcomeEntry({ resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'not-supported', diagnostics: 'left out "é\\u2028"' }] }),
  ],
});

describe('a bundle sent as the text of its resources', () => {
  it('is byte for byte what JSON.stringify writes, whether its resources are held or not', () => {
    const held = [observation('o-1', 18), observation('o-2', 21)];
    for (const r of held) holdJsonText(r, JSON.stringify(r));
    const bundle = searchset([...held, observation('o-3', 25)]);
    expect(bundleJson(bundle)).toBe(JSON.stringify(bundle));
    expect(bundleJson({ resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] })).toBe(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] }));
    expect(bundleJson({ resourceType: 'Bundle', type: 'searchset' })).toBe('{"resourceType":"Bundle","type":"searchset"}');
  });

  it('writes each held resource from its held text rather than stringifying the object again', () => {
    const r = observation('o-4', 19);
    // Held text that differs from the object shows which of the two went out.
    holdJsonText(r, JSON.stringify({ ...r, id: 'as-held' }));
    expect(JSON.parse(bundleJson(searchset([r]))).entry[0].resource.id).toBe('as-held');
  });
});
