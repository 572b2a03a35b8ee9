import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { careEventDefinitions, EventRegistry, type Actor } from '@tandem/contracts';
import { pgliteBackend, pgliteDriver, validatedStore, type EventStore, type SqlDriver, type SqlQueryable } from '@tandem/event-store';
import type { Patient } from 'fhir/r4';
import { FhirReader, jsonTextOf } from '@tandem/fhir-read-model';
import { fhirProjection, LatestVersionsReader, ProjectionRunner } from '../src';

/**
 * H64: the record service holds the latest version of each resource it has read, as JSON ready to
 * send, and the answers to searches and $everything, kept current by the projection itself (no
 * time to live). Neither a version nor an answer is served once the read model holds something
 * newer: not after the write's position was waited for, not when the write landed while the held
 * copy was being read, not after a rebuild.
 */
const nurse: Actor = { id: 'dn-1', role: 'district-nurse', registration: { system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '12A3456B' } };

let db: PGlite;
let store: EventStore;
let driver: SqlDriver;
let runner: ProjectionRunner;
let plain: FhirReader;
let latest: LatestVersionsReader;
/** Held open, a read-model query of the latest versions' reader answers only when released: a read under way. */
let gate: Promise<void> | undefined;
let readModelQueries = 0;

const patientId = randomUUID();
const nhsNumber = '9912003896';
const patientStream = `patient-${nhsNumber}`;

const record = async (type: string, data: unknown): Promise<number> => {
  const metadata = { actor: nurse, correlationId: randomUUID(), occurredAt: new Date(Date.now() - 60_000).toISOString() };
  const { position } = await store.append(patientStream, [{ id: randomUUID(), type, data, metadata }], { expectedRevision: 'any' });
  expect(await runner.waitFor(position, 5000)).toBe(true);
  return position;
};

const address = (line: string) => ({ lines: [line], postcode: 'LS1 4AP' });
const linesOf = (resource: unknown) => (resource as Patient).address?.[0]?.line;

beforeAll(async () => {
  db = new PGlite();
  store = validatedStore(await pgliteBackend({ db }), new EventRegistry([...careEventDefinitions]));
  driver = pgliteDriver(db, false);
  runner = new ProjectionRunner(store, driver, [fhirProjection]);
  await runner.start();
  plain = new FhirReader(driver);
  const gated: SqlQueryable = {
    query: async (text, params) => {
      readModelQueries++;
      const rows = await driver.query(text, params);
      await gate;
      return rows as never;
    },
  };
  latest = new LatestVersionsReader(gated, runner);
  await record('PatientRegistered', {
    patientId,
    nhsNumber,
    name: { given: ['Ada'], family: 'Lovelace' },
    birthDate: '1938-12-10',
    gender: 'female',
    address: address('1 Mill Lane'),
    gpPractice: { odsCode: 'A81001', name: 'Riverside Surgery' },
    baseline: { spo2Scale: 1 },
  });
}, 30_000);

afterAll(async () => {
  await runner.stop();
  await store.close();
  await db.close();
});

describe('the latest versions held in memory (H64)', () => {
  it('answers a second read from memory, as the same JSON the read model holds', async () => {
    const first = await latest.read('Patient', patientId);
    const queries = readModelQueries;
    const second = await latest.read('Patient', patientId);
    expect(readModelQueries).toBe(queries);
    expect(second?.json).toBeDefined();
    expect(JSON.parse(second!.json!)).toEqual((await plain.read('Patient', patientId))!.resource);
    expect(second?.versionId).toBe(first?.versionId);
  });

  it('serves the new version as soon as the position of the write that made it is reached', async () => {
    const before = (await latest.read('Patient', patientId))!.versionId;
    await record('PatientDetailsUpdated', { patientId, address: address('2 Mill Lane') });
    const after = await latest.read('Patient', patientId);
    expect(after?.versionId).toBe(before + 1);
    expect(linesOf(after?.resource)).toEqual(['2 Mill Lane']);
    expect(linesOf(JSON.parse(after!.json ?? JSON.stringify(after!.resource)))).toEqual(['2 Mill Lane']);
  });

  it('does not keep a version read while a newer one was being written', async () => {
    // Held nothing: the next read goes to the read model, and is held open there.
    await record('PatientDetailsUpdated', { patientId, address: address('3 Mill Lane') });
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    const underWay = latest.read('Patient', patientId);
    // The read has its row (3 Mill Lane); a newer version is written and committed meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await record('PatientDetailsUpdated', { patientId, address: address('4 Mill Lane') });
    release();
    gate = undefined;
    expect(linesOf((await underWay)?.resource)).toEqual(['3 Mill Lane']);
    expect(linesOf((await latest.read('Patient', patientId))?.resource)).toEqual(['4 Mill Lane']);
  });

  it('holds nothing after a rebuild has switched to a new generation, and reads the same versions again', async () => {
    const held = await latest.read('Patient', patientId);
    expect(latest.size).toBeGreaterThan(0);
    await runner.rebuild();
    expect(latest.size).toBe(0);
    const again = await latest.read('Patient', patientId);
    expect(again?.versionId).toBe(held?.versionId);
    expect(again?.resource).toEqual(held?.resource);
  });

  it('does not hold a resource that is not recorded: once it is, it is read', async () => {
    const id = randomUUID();
    expect(await latest.read('Patient', id)).toBeUndefined();
    const stream = `patient-9912003918`;
    const metadata = { actor: nurse, correlationId: randomUUID(), occurredAt: new Date().toISOString() };
    const { position } = await store.append(
      stream,
      [{ id: randomUUID(), type: 'PatientRegistered', data: { patientId: id, nhsNumber: '9912003918', name: { given: ['Mary'], family: 'Seacole' }, birthDate: '1940-01-01', gender: 'female', address: address('5 Mill Lane'), gpPractice: { odsCode: 'A81001', name: 'Riverside Surgery' }, baseline: { spo2Scale: 1 } }, metadata }],
      { expectedRevision: 'no_stream' },
    );
    expect(await runner.waitFor(position, 5000)).toBe(true);
    expect(linesOf((await latest.read('Patient', id))?.resource)).toEqual(['5 Mill Lane']);
  });

  it('answers a search again from memory until a resource of its type is written, then has the new one', async () => {
    const search = { 'general-practitioner': 'Organization/A81001', _count: '10' };
    const first = await latest.search('Patient', search);
    const queries = readModelQueries;
    expect(await latest.search('Patient', { _count: '10', 'general-practitioner': 'Organization/A81001' })).toBe(first);
    expect(readModelQueries).toBe(queries);
    const id = randomUUID();
    const metadata = { actor: nurse, correlationId: randomUUID(), occurredAt: new Date().toISOString() };
    const { position } = await store.append(
      'patient-9912003926',
      [{ id: randomUUID(), type: 'PatientRegistered', data: { patientId: id, nhsNumber: '9912003926', name: { given: ['Edith'], family: 'Cavell' }, birthDate: '1941-01-01', gender: 'female', address: address('6 Mill Lane'), gpPractice: { odsCode: 'A81001', name: 'Riverside Surgery' }, baseline: { spo2Scale: 1 } }, metadata }],
      { expectedRevision: 'no_stream' },
    );
    expect(await runner.waitFor(position, 5000)).toBe(true);
    const after = await latest.search('Patient', search);
    expect(after.total).toBe(first.total + 1);
    expect(after).toEqual(await plain.search('Patient', search));
  });

  it("holds each resource of an answer as the JSON text of the version it answers with, the newest after a write", async () => {
    const before = await latest.everything(patientId, { _count: '10' });
    const patient = before?.matches.find((r) => r.resourceType === 'Patient');
    expect(JSON.parse(jsonTextOf(patient!))).toEqual(patient);
    await record('PatientDetailsUpdated', { patientId, address: address('8 Mill Lane') });
    const after = (await latest.everything(patientId, { _count: '10' }))!.matches;
    // The bundle is written from these texts (bundleJson): each is its own resource, now the new address.
    expect(after.map((r) => JSON.parse(jsonTextOf(r)))).toEqual(after);
    expect(jsonTextOf(after.find((r) => r.resourceType === 'Patient')!)).toContain('8 Mill Lane');
  });

  it("answers $everything from memory until the person's record changes, then has the new version", async () => {
    const first = await latest.everything(patientId, { _count: '10' });
    expect(await latest.everything(patientId, { _count: '10' })).toBe(first);
    await record('PatientDetailsUpdated', { patientId, address: address('7 Mill Lane') });
    const after = await latest.everything(patientId, { _count: '10' });
    expect(linesOf(after?.matches[0])).toEqual(['7 Mill Lane']);
    expect(after).toEqual(await plain.everything(patientId, { _count: '10' }));
  });

  it('does not keep a search answered while a resource of its type was being written', async () => {
    await record('PatientDetailsUpdated', { patientId, address: address('8 Mill Lane') });
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    const underWay = latest.search('Patient', { _id: patientId });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await record('PatientDetailsUpdated', { patientId, address: address('9 Mill Lane') });
    release();
    gate = undefined;
    expect(linesOf((await underWay).matches[0])).toEqual(['8 Mill Lane']);
    expect(linesOf((await latest.search('Patient', { _id: patientId })).matches[0])).toEqual(['9 Mill Lane']);
  });
});
