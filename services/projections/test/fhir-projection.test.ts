import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { auditEventDefinitions, careEventDefinitions, EventRegistry, type AccessRecordedData, type Actor, type News2Result, type VitalSignsRecordedData } from '@tandem/contracts';
import { pgliteBackend, pgliteDriver, validatedStore, type EventStore, type RecordedEvent, type SqlDriver } from '@tandem/event-store';
import type { AuditEvent, CareTeam, FhirResource, MedicationAdministration, Observation, Patient, PractitionerRole, Provenance } from 'fhir/r4';
import { FhirReader } from '@tandem/fhir-read-model';
import { fhirProjection, ProjectionRunner } from '../src';
import { declaredUkCoreProfiles, expectValidFhir, fhirProblems, UK_CORE_BASE, ukCoreIssues } from '@tandem/fhir-validation';

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const UCUM = 'http://unitsofmeasure.org';
const LATE_ENTRY = 'https://tandem.nhs.example/fhir/StructureDefinition/late-entry';

const careWorker: Actor = { id: 'cw-1', role: 'care-worker', organisation: 'org-agency' };
const nurse: Actor = { id: 'dn-1', role: 'district-nurse', registration: { system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '12A3456B' } };

let db: PGlite;
let store: EventStore;
let driver: SqlDriver;
let runner: ProjectionRunner;
let reader: FhirReader;

/** Appends one event and waits until the read model holds it; returns its id and position. */
const record = async (
  stream: string,
  type: string,
  data: unknown,
  options: { occurredAt?: string; actor?: Actor; id?: string } = {},
): Promise<{ id: string; position: number }> => {
  const id = options.id ?? randomUUID();
  const metadata = { actor: options.actor ?? careWorker, correlationId: randomUUID(), occurredAt: options.occurredAt ?? minutesAgo(5) };
  const { position } = await store.append(stream, [{ id, type, data, metadata }], { expectedRevision: 'any' });
  expect(await runner.waitFor(position, 5000)).toBe(true);
  return { id, position };
};

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

const read = async <R extends FhirResource>(type: R['resourceType'], id: string): Promise<{ resource: R; versionId: number }> => {
  const stored = await reader.read(type, id);
  if (!stored) throw new Error(`${type}/${id} is not in the read model`);
  return { resource: stored.resource as R, versionId: stored.versionId };
};

const codes = (obs: Observation) => (obs.code.coding ?? []).map((c) => `${c.system}|${c.code}`);

const news2 = (overrides: Partial<News2Result>): News2Result => ({
  subScores: { respirationRate: 0, spo2: 0, airOrOxygen: 0, systolic: 0, pulse: 0, consciousness: 0, temperatureC: 0 },
  missing: [],
  total: 0,
  partialTotal: 0,
  anySingleParameterThree: false,
  risk: 'low',
  riskAtLeast: 'low',
  ...overrides,
});

const patientId = randomUUID();
const nhsNumber = '9912003888';
const careStream = `care-${patientId}`;
const patientStream = `patient-${nhsNumber}`;

/** A complete set: NEWS2 6 (medium). */
const mediumSet = (): Omit<VitalSignsRecordedData, 'patientId'> => ({
  respirationRate: 22,
  spo2: 95,
  airOrOxygen: 'air',
  systolic: 105,
  diastolic: 70,
  pulse: 95,
  consciousness: 'A',
  temperatureC: 38.5,
  spo2Scale: 1,
  news2: news2({
    subScores: { respirationRate: 2, spo2: 1, airOrOxygen: 0, systolic: 1, pulse: 1, consciousness: 0, temperatureC: 1 },
    total: 6,
    partialTotal: 6,
    risk: 'medium',
    riskAtLeast: 'medium',
  }),
});

beforeAll(async () => {
  db = new PGlite();
  store = validatedStore(await pgliteBackend({ db }), new EventRegistry([...careEventDefinitions, ...auditEventDefinitions]));
  driver = pgliteDriver(db, false);
  runner = new ProjectionRunner(store, driver, [fhirProjection]);
  await runner.start();
  reader = new FhirReader(driver);

  await record('organisation-gp-1', 'OrganisationRegistered', { organisationId: 'gp-1', odsCode: 'A81001', name: 'Riverside Surgery', type: 'gp-practice' });
  await record('organisation-dn-team', 'OrganisationRegistered', { organisationId: 'dn-team', name: 'North District Nursing', type: 'district-nursing-team' });
  await record('practitioner-dn-1', 'PractitionerRegistered', {
    practitionerId: 'dn-1',
    name: { given: ['Grace'], family: 'Okafor' },
    role: 'district-nurse',
    registration: nurse.registration,
    organisationId: 'dn-team',
  });
  await record('practitioner-cw-1', 'PractitionerRegistered', { practitionerId: 'cw-1', name: { given: ['Sam'], family: 'Patel' }, role: 'care-worker', organisationId: 'org-agency' });
  await record(patientStream, 'PatientRegistered', {
    patientId,
    nhsNumber,
    name: { given: ['Ada', 'May'], family: 'Lovelace', prefix: 'Mrs' },
    birthDate: '1938-12-10',
    gender: 'female',
    address: { lines: ['1 Mill Lane'], postcode: 'LS1 4AP' },
    gpPractice: { odsCode: 'A81001', name: 'Riverside Surgery' },
    baseline: { spo2Scale: 1, usualTemperatureC: 36.4 },
  });
}, 30_000);

afterAll(async () => {
  await runner.stop();
  await store.close();
  await db.close();
});

describe('people and teams', () => {
  it('maps a registered patient to Patient with the NHS number, name, GP practice and baseline; searchable', async () => {
    const { resource: patient, versionId } = await read<Patient>('Patient', patientId);
    expect(versionId).toBe(1);
    expect(patient.identifier).toEqual([{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: nhsNumber }]);
    expect(patient.name?.[0]).toMatchObject({ family: 'Lovelace', given: ['Ada', 'May'], prefix: ['Mrs'] });
    expect(patient).toMatchObject({ birthDate: '1938-12-10', gender: 'female', active: true });
    expect(patient.generalPractitioner).toEqual([
      { reference: 'Organization/A81001', identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A81001' }, display: 'Riverside Surgery' },
    ]);
    expectValidFhir(patient);

    for (const query of [
      { identifier: `https://fhir.nhs.uk/Id/nhs-number|${nhsNumber}` },
      { identifier: nhsNumber },
      { name: 'lov' },
      { name: 'May' },
      { birthdate: '1938-12-10' },
      { 'general-practitioner': 'Organization/A81001' },
    ]) {
      const found = await reader.search('Patient', query);
      expect({ query, ids: found.matches.map((m) => m.id) }).toEqual({ query, ids: [patientId] });
    }
    expect((await reader.search('Patient', { name: 'ace' })).total).toBe(0);
  });

  it('updates details and the baseline as new versions, keeping what was not changed', async () => {
    await record(patientStream, 'PatientDetailsUpdated', { patientId, registeredGp: 'gp-9', address: { lines: ['2 Mill Lane'], postcode: 'LS1 4AP' } });
    await record(patientStream, 'PatientBaselineSet', {
      patientId,
      baseline: { spo2Scale: 2, spo2Scale2PrescribedBy: { practitionerId: 'dn-1', registration: nurse.registration } },
    });
    const { resource: patient, versionId } = await read<Patient>('Patient', patientId);
    expect(versionId).toBe(3);
    expect(patient.name?.[0]?.family).toBe('Lovelace');
    expect(patient.address?.[0]?.line).toEqual(['2 Mill Lane']);
    expect(patient.generalPractitioner?.map((r) => r.reference)).toEqual(['Organization/A81001', 'Practitioner/gp-9']);
    const baseline = patient.extension?.find((e) => e.url.endsWith('/patient-baseline'));
    expect(baseline?.extension?.find((e) => e.url === 'spo2Scale')?.valueInteger).toBe(2);
    expectValidFhir(patient);
    expect((await reader.search('Patient', { 'general-practitioner': 'Practitioner/gp-9' })).total).toBe(1);
    const first = await reader.vread('Patient', patientId, 1);
    expect((first?.resource as Patient).address?.[0]?.line).toEqual(['1 Mill Lane']);
  });

  it('maps practitioners, their roles and organisations', async () => {
    const { resource: practitioner } = await read('Practitioner', 'dn-1');
    expect(practitioner).toMatchObject({ identifier: [{ system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '12A3456B' }], active: true });
    const { resource: role } = await read<PractitionerRole>('PractitionerRole', 'dn-1-role');
    expect(role).toMatchObject({ practitioner: { reference: 'Practitioner/dn-1' }, organization: { reference: 'Organization/dn-team' }, code: [{ text: 'District nurse' }] });
    const { resource: org } = await read('Organization', 'gp-1');
    expect(org).toMatchObject({ identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A81001' }], name: 'Riverside Surgery' });
    for (const [type, id] of [['Practitioner', 'dn-1'], ['Practitioner', 'cw-1'], ['PractitionerRole', 'dn-1-role'], ['Organization', 'gp-1'], ['Organization', 'dn-team']] as const) {
      expectValidFhir((await read(type, id)).resource);
    }
    expect((await reader.search('Practitioner', { identifier: 'https://fhir.hl7.org.uk/Id/nmc-number|12A3456B' })).matches.map((m) => m.id)).toEqual(['dn-1']);
    expect((await reader.search('Practitioner', { name: 'okaf' })).total).toBe(1);
    expect((await reader.search('PractitionerRole', { organization: 'Organization/dn-team' })).matches.map((m) => m.id)).toEqual(['dn-1-role']);
    expect((await reader.search('Organization', { identifier: 'A81001' })).total).toBe(1);
    expect((await reader.search('Organization', { name: 'riverside' })).total).toBe(1);
  });

  it('keeps one CareTeam per person, a new version for each member added or removed', async () => {
    await record(patientStream, 'CareTeamMemberAdded', { patientId, practitionerId: 'dn-1', teamRole: 'accountable-clinician' });
    await record(patientStream, 'CareTeamMemberAdded', { patientId, practitionerId: 'cw-1', teamRole: 'care-worker' });
    await record(patientStream, 'CareTeamMemberRemoved', { patientId, practitionerId: 'cw-1', teamRole: 'care-worker', reason: 'Moved to another round' });
    const { resource: team, versionId } = await read<CareTeam>('CareTeam', `careteam-${patientId}`);
    expect(versionId).toBe(3);
    expect(team).toMatchObject({ status: 'active', subject: { reference: `Patient/${patientId}` } });
    expect(team.participant?.map((p) => [p.member?.reference, p.role?.[0]?.text])).toEqual([['Practitioner/dn-1', 'Accountable clinician']]);
    expectValidFhir(team);
    const v2 = (await reader.vread('CareTeam', `careteam-${patientId}`, 2))?.resource as CareTeam;
    expect(v2.participant).toHaveLength(2);
    expect((await reader.search('CareTeam', { patient: patientId, participant: 'Practitioner/dn-1' })).total).toBe(1);
    expect((await reader.search('CareTeam', { participant: 'Practitioner/cw-1' })).total).toBe(0);
  });
});

describe('vital signs and NEWS2', () => {
  let entryId: string;
  const at = '2025-03-01T09:00:00+00:00';

  beforeAll(async () => {
    ({ id: entryId } = await record(careStream, 'VitalSignsRecorded', { patientId, ...mediumSet() }, { occurredAt: at }));
  });

  it('gives a panel (85353-1) whose members carry LOINC + SNOMED CT codes and UCUM units', async () => {
    const { resource: panel, versionId } = await read<Observation>('Observation', entryId);
    expect(versionId).toBe(1);
    expect(panel).toMatchObject({ status: 'final', subject: { reference: `Patient/${patientId}` }, effectiveDateTime: at, performer: [{ reference: 'Practitioner/cw-1' }] });
    expect(codes(panel)).toEqual([`${LOINC}|85353-1`]);
    expect(panel.category?.[0]?.coding?.[0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' });
    expect(panel.hasMember?.map((m) => m.reference)).toEqual(
      ['resp', 'spo2', 'air', 'bp', 'pulse', 'acvpu', 'temp', 'news2'].map((suffix) => `Observation/${entryId}-${suffix}`),
    );
    expect(panel.extension?.some((e) => e.url === LATE_ENTRY && e.valueBoolean === true)).toBe(true);
    expect(panel.issued).toBeDefined();
    expectValidFhir(panel);

    const member = async (suffix: string) => {
      const { resource } = await read<Observation>('Observation', `${entryId}-${suffix}`);
      expectValidFhir(resource);
      expect(resource.effectiveDateTime).toBe(at);
      return resource;
    };
    const expectations: [string, string[], number, string][] = [
      ['resp', [`${LOINC}|9279-1`, `${SNOMED}|86290005`], 22, '/min'],
      ['spo2', [`${LOINC}|2708-6`, `${SNOMED}|431314004`], 95, '%'],
      ['pulse', [`${LOINC}|8867-4`, `${SNOMED}|364075005`], 95, '/min'],
      ['temp', [`${LOINC}|8310-5`, `${SNOMED}|276885007`], 38.5, 'Cel'],
    ];
    for (const [suffix, expectedCodes, value, unit] of expectations) {
      const obs = await member(suffix);
      expect(codes(obs)).toEqual(expectedCodes);
      expect(obs.valueQuantity).toMatchObject({ value, system: UCUM, code: unit });
    }
    const bp = await member('bp');
    expect(codes(bp)).toEqual([`${LOINC}|85354-9`, `${SNOMED}|75367002`]);
    expect(bp.component?.map((c) => [c.code.coding?.[0]?.code, c.code.coding?.[1]?.code, c.valueQuantity?.value, c.valueQuantity?.code])).toEqual([
      ['8480-6', '72313002', 105, 'mm[Hg]'],
      ['8462-4', '1091811000000102', 70, 'mm[Hg]'],
    ]);
    const acvpu = await member('acvpu');
    expect(codes(acvpu)).toEqual([`${SNOMED}|1104441000000107`]);
    expect(acvpu.valueCodeableConcept?.coding?.[0]).toMatchObject({ system: SNOMED, code: '248234008' });
    const air = await member('air');
    expect(codes(air)).toEqual([`${SNOMED}|722742002`]);
    // Code-only, as UK Core's InspiredOxygen example: not under vital-signs, where a value (vs-2) would be owed.
    expect(air.category).toBeUndefined();
    expect(air.meta?.profile).toEqual(['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation-InspiredOxygen']);

    const score = await member('news2');
    expect(codes(score)).toEqual([`${SNOMED}|1104051000000101`]);
    expect(score.valueQuantity).toEqual({ value: 6, unit: 'score', system: UCUM, code: '{ScoreOf}' });
    expect(score.dataAbsentReason).toBeUndefined();
    expect(score.interpretation?.[0]?.text).toMatch(/medium/);
    expect(score.component?.map((c) => [c.code.coding?.[0]?.code, c.valueQuantity?.code === '{ScoreOf}' ? c.valueQuantity.value : undefined])).toEqual([
      ['1104301000000104', 2],
      ['1104311000000102', 1],
      ['1104331000000105', 0],
      ['1104341000000101', 1],
      ['1104351000000103', 1],
      ['1104361000000100', 0],
      ['1104371000000107', 1],
    ]);
  });

  it('never shows an incomplete NEWS2 as a score: no value, a data-absent reason naming what is missing', async () => {
    const { id } = await record(careStream, 'VitalSignsRecorded', {
      patientId,
      respirationRate: 18,
      pulse: 80,
      temperatureC: 37.2,
      spo2Scale: 1,
      news2: news2({
        subScores: { respirationRate: 0, spo2: null, airOrOxygen: null, systolic: null, pulse: 0, consciousness: null, temperatureC: 0 },
        missing: ['spo2', 'airOrOxygen', 'systolic', 'consciousness'],
        total: null,
        partialTotal: 0,
        risk: 'incomplete',
        riskAtLeast: 'low',
      }),
    });
    const { resource: panel } = await read<Observation>('Observation', id);
    expect(panel.hasMember?.map((m) => m.reference)).toEqual(['resp', 'pulse', 'temp', 'news2'].map((s) => `Observation/${id}-${s}`));
    expect(panel.extension).toBeUndefined();
    const { resource: score } = await read<Observation>('Observation', `${id}-news2`);
    expectValidFhir(score);
    expect(score.valueQuantity).toBeUndefined();
    expect(score.dataAbsentReason?.coding?.[0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'unknown' });
    expect(score.dataAbsentReason?.text).toMatch(/incomplete.*SpO2.*air or oxygen.*systolic.*consciousness/i);
    expect(score.interpretation?.[0]?.text).toMatch(/incomplete/i);
    expect(score.interpretation?.[0]?.text).not.toMatch(/NEWS2 0/);
    const spo2 = score.component?.find((c) => c.code.coding?.[0]?.code === '1104311000000102');
    expect(spo2?.valueInteger).toBeUndefined();
    expect(spo2?.dataAbsentReason).toBeDefined();
  });

  it('finds observations by patient + code + date range', async () => {
    const pulse = await reader.search('Observation', { patient: patientId, code: `${LOINC}|8867-4`, date: ['ge2025-03-01', 'lt2025-03-02'] });
    expect(pulse.matches.map((m) => m.id)).toEqual([`${entryId}-pulse`]);
    const bySnomed = await reader.search('Observation', { subject: `Patient/${patientId}`, code: '364075005', date: '2025-03-01' });
    expect(bySnomed.matches.map((m) => m.id)).toEqual([`${entryId}-pulse`]);
    expect((await reader.search('Observation', { patient: patientId, code: `${LOINC}|8867-4`, date: ['ge2025-03-02', 'lt2025-03-03'] })).total).toBe(0);
    expect((await reader.search('Observation', { patient: patientId, code: `${LOINC}|8867-4`, date: 'lt2025-03-01' })).total).toBe(0);
    expect((await reader.search('Observation', { patient: randomUUID(), code: `${LOINC}|8867-4` })).total).toBe(0);
    const vital = await reader.search('Observation', { patient: patientId, category: 'vital-signs', date: '2025-03-01' });
    expect(vital.total).toBe(7); // the panel and six measurements; NEWS2 is a survey, air or oxygen a code-only finding
    expect((await reader.search('Observation', { patient: patientId, code: `${SNOMED}|1104051000000101`, status: 'final' })).total).toBe(2);
  });

  it('amends: version 2 is amended with the reason, version 1 stays readable, a removed measurement is marked', async () => {
    const { spo2: _spo2, ...withoutSpo2 } = mediumSet();
    const replacement = {
      ...withoutSpo2,
      pulse: 88,
      news2: news2({
        subScores: { respirationRate: 2, spo2: null, airOrOxygen: 0, systolic: 1, pulse: 0, consciousness: 0, temperatureC: 1 },
        missing: ['spo2'],
        total: null,
        partialTotal: 4,
        risk: 'incomplete',
        riskAtLeast: 'low',
      }),
    };
    await record(careStream, 'EntryAmended', { patientId, entryId, reason: 'Pulse misread; SpO2 probe was faulty', replacement: { type: 'VitalSignsRecorded', data: replacement } }, { actor: nurse });

    const { resource: panel, versionId } = await read<Observation>('Observation', entryId);
    expect(versionId).toBe(2);
    expect(panel.status).toBe('amended');
    expect(panel.note?.at(-1)).toMatchObject({ authorReference: { reference: 'Practitioner/dn-1' }, text: 'Amended: Pulse misread; SpO2 probe was faulty' });
    expect(panel.performer).toEqual([{ reference: 'Practitioner/cw-1' }]);
    expect(panel.effectiveDateTime).toBe(at);
    expect(panel.hasMember?.map((m) => m.reference)).not.toContain(`Observation/${entryId}-spo2`);
    expectValidFhir(panel);

    const pulse = await read<Observation>('Observation', `${entryId}-pulse`);
    expect([pulse.versionId, pulse.resource.status, pulse.resource.valueQuantity?.value]).toEqual([2, 'amended', 88]);
    const before = await reader.vread('Observation', `${entryId}-pulse`, 1);
    expect(before?.resource).toMatchObject({ status: 'final', valueQuantity: { value: 95 } });
    const panelBefore = await reader.vread('Observation', entryId, 1);
    expect((panelBefore?.resource as Observation).status).toBe('final');

    const spo2 = await read<Observation>('Observation', `${entryId}-spo2`);
    expect([spo2.versionId, spo2.resource.status]).toEqual([2, 'entered-in-error']);
    const score = await read<Observation>('Observation', `${entryId}-news2`);
    expect(score.resource.valueQuantity).toBeUndefined();
    expect(score.resource.dataAbsentReason?.text).toMatch(/incomplete: missing SpO2/);

    expect((await reader.history('Observation', `${entryId}-pulse`, {})).total).toBe(2);
    expect((await reader.search('Observation', { patient: patientId, code: `${LOINC}|8867-4`, status: 'amended' })).total).toBe(1);
  });

  it('gives every write a Provenance: the versions it made, who wrote it, when it happened and when it was recorded, which event', async () => {
    const { matches } = await reader.search('Provenance', { target: `Observation/${entryId}` });
    const byActivity = new Map((matches as Provenance[]).map((p) => [p.activity?.coding?.[0]?.code, p]));
    expect([...byActivity.keys()].sort()).toEqual(['CREATE', 'UPDATE']);

    const created = byActivity.get('CREATE')!;
    const targets = created.target.map((t) => t.reference);
    expect(targets).toEqual(expect.arrayContaining([`Observation/${entryId}/_history/1`, `Observation/${entryId}-pulse/_history/1`, `Observation/${entryId}-news2/_history/1`]));
    expect(created.agent.map((a) => [a.type?.coding?.[0]?.code, a.who?.reference])).toEqual([['author', 'Practitioner/cw-1']]);
    expect(created.agent[0]?.onBehalfOf).toEqual({ reference: 'Organization/org-agency' });
    expect(created.occurredDateTime).toBe('2025-03-01T09:00:00+00:00');
    expect(Date.parse(created.recorded)).toBeGreaterThan(Date.parse(created.occurredDateTime!));
    expect(created.entity?.[0]?.what.identifier?.value).toBe(`${careStream}@0`);

    const amended = byActivity.get('UPDATE')!;
    expect(amended.target.map((t) => t.reference)).toEqual(expect.arrayContaining([`Observation/${entryId}/_history/2`, `Observation/${entryId}-spo2/_history/2`]));
    expect(amended.agent[0]?.who?.reference).toBe('Practitioner/dn-1');
    for (const p of [created, amended]) expectValidFhir(p);

    expect((await reader.search('Provenance', { patient: patientId, agent: 'Practitioner/dn-1', activity: 'UPDATE' })).total).toBeGreaterThanOrEqual(1);
    expect((await reader.search('Provenance', { target: `Observation/${entryId}`, agent: 'Practitioner/nobody' })).total).toBe(0);
    // The record itself is unchanged by its provenance: $everything still holds only the person's care.
    const everything = await reader.everything(patientId, { _count: '1000' });
    expect(everything?.matches.some((r) => r.resourceType === 'Provenance')).toBe(false);
  });

  it('corrects the bedside time when the amendment gives one', async () => {
    const { id } = await record(careStream, 'VitalSignsRecorded', { patientId, ...mediumSet() }, { occurredAt: '2025-03-03T10:00:00+00:00' });
    await record(careStream, 'EntryAmended', {
      patientId,
      entryId: id,
      reason: 'Wrong time entered',
      replacement: { type: 'VitalSignsRecorded', data: mediumSet(), occurredAt: '2025-03-03T08:30:00+00:00' },
    });
    const { resource } = await read<Observation>('Observation', `${id}-temp`);
    expect(resource.effectiveDateTime).toBe('2025-03-03T08:30:00+00:00');
    expect((await reader.search('Observation', { patient: patientId, code: `${LOINC}|8310-5`, date: 'lt2025-03-03T09:00:00Z' })).matches.map((m) => m.id)).toContain(`${id}-temp`);
  });
});

describe('other observations', () => {
  it('maps blood glucose (mmol/L) with ketones as a second Observation; entered in error keeps both readable, marked', async () => {
    const { id } = await record(careStream, 'BloodGlucoseRecorded', { patientId, glucoseMmolL: 16.2, ketonesMmolL: 1.8, relationToMeal: 'before-meal' });
    const { resource: glucose } = await read<Observation>('Observation', id);
    expect(codes(glucose)).toEqual([`${LOINC}|14743-9`, `${SNOMED}|997671000000106`]);
    expect(glucose.valueQuantity).toMatchObject({ value: 16.2, unit: 'millimoles per litre', system: UCUM, code: 'mmol/L' });
    // A reading on the carer's meter, not a specimen sent to a laboratory.
    expect(glucose.category?.[0]?.coding?.[0]?.code).toBe('exam');
    expect(glucose.meta?.profile).toEqual(['https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation-BloodGlucose']);
    const { resource: ketones } = await read<Observation>('Observation', `${id}-ketones`);
    expect(ketones.valueQuantity).toMatchObject({ value: 1.8, code: 'mmol/L' });
    expectValidFhir(glucose);
    expectValidFhir(ketones);

    await record(careStream, 'EntryMarkedEnteredInError', { patientId, entryId: id, reason: 'Recorded against the wrong person' }, { actor: nurse });
    for (const obsId of [id, `${id}-ketones`]) {
      const { resource, versionId } = await read<Observation>('Observation', obsId);
      expect([versionId, resource.status]).toEqual([2, 'entered-in-error']);
      expect(resource.note?.at(-1)?.text).toBe('Entered in error: Recorded against the wrong person');
      expectValidFhir(resource);
    }
    expect((await read<Observation>('Observation', id)).resource.valueQuantity?.value).toBe(16.2);
    expect((await reader.search('Observation', { patient: patientId, status: 'entered-in-error', code: '14743-9' })).total).toBe(1);
  });

  it('maps soft signs, the urinary screen, fluid intake, a cellulitis check and a note', async () => {
    const no = false;
    const entries: [string, Record<string, unknown>, string][] = [
      [
        'SoftSignsRecorded',
        {
          softSigns: { newConfusion: true, reducedEatingOrDrinking: no, breathlessness: no, unsteadiness: no, distress: no, withdrawal: no, tiredness: true },
          emergencySigns: { chestPain: no, strokeSigns: no, prolongedSeizure: no, unresponsive: no },
        },
        'survey',
      ],
      [
        'UrinarySymptomsScreened',
        {
          signs: { newDysuria: true, temperatureRaised: no, newFrequencyOrUrgency: true, newIncontinence: no, newOrWorseDelirium: no, newSuprapubicPain: no, visibleHaematuria: no },
          sepsisSigns: { kidneyPain: no, newMyalgia: no, nauseaOrVomiting: no, rigors: no },
          catheter: { inPlace: true, insertedOn: '2025-02-20' },
        },
        'survey',
      ],
      ['FluidIntakeRecorded', { volumeMl: 200, drink: 'Tea' }, 'survey'],
      ['CellulitisChecked', { markedLineDrawn: true, rednessBeyondMarkedLine: true, pain: 4, temperatureC: 37.9, skinToneLimitsAssessment: true }, 'exam'],
      ['NoteWritten', { text: 'Ate well at lunch, cheerful.' }, 'survey'],
    ];
    for (const [type, data, expectedCategory] of entries) {
      const { id } = await record(careStream, type, { patientId, ...data });
      const { resource } = await read<Observation>('Observation', id);
      expectValidFhir(resource);
      expect(resource.category?.[0]?.coding?.[0]?.code).toBe(expectedCategory);
      expect(resource.code.text).toBeTruthy();
      if (type === 'SoftSignsRecorded') expect(resource.component?.find((c) => c.code.text === 'Soft sign: new confusion')?.valueBoolean).toBe(true);
      if (type === 'FluidIntakeRecorded') expect(resource.valueQuantity).toMatchObject({ value: 200, system: UCUM, code: 'mL' });
      if (type === 'NoteWritten') expect(resource).toMatchObject({ code: { text: 'Care note' }, valueString: 'Ate well at lunch, cheerful.' });
    }
  });
});

describe('insulin', () => {
  const product = 'Humulin I KwikPen';

  it('records a dose as MedicationAdministration in "units", subcutaneous, by pen', async () => {
    const { id } = await record(careStream, 'InsulinAdministered', { patientId, product, device: 'pen', dose: { value: 12, unit: 'units' }, site: 'abdomen', side: 'left' });
    const { resource: dose } = await read<MedicationAdministration>('MedicationAdministration', id);
    expectValidFhir(dose);
    expect(dose).toMatchObject({
      status: 'completed',
      medicationCodeableConcept: { text: product },
      subject: { reference: `Patient/${patientId}` },
      performer: [{ actor: { reference: 'Practitioner/cw-1' } }],
    });
    expect(dose.dosage?.dose?.unit).toBe('units');
    expect(dose.dosage?.dose?.value).toBe(12);
    expect(dose.dosage?.route?.coding?.[0]).toMatchObject({ system: SNOMED, code: '34206005' });
    expect(dose.dosage?.site?.text).toBe('Abdomen, left');
    expect(JSON.stringify(dose)).not.toMatch(/"(U|IU)"/);
    expect((await reader.search('MedicationAdministration', { patient: patientId, status: 'completed' })).matches.map((m) => m.id)).toContain(id);
  });

  it('records a withheld dose as not-done with the reason', async () => {
    const { id } = await record(careStream, 'InsulinWithheld', { patientId, product, plannedDose: { value: 10, unit: 'units' }, reason: 'Blood glucose 3.2 mmol/L' });
    const { resource: dose } = await read<MedicationAdministration>('MedicationAdministration', id);
    expectValidFhir(dose);
    expect(dose.status).toBe('not-done');
    expect(dose.statusReason).toEqual([{ text: 'Blood glucose 3.2 mmol/L' }]);
    expect(dose.dosage?.dose?.unit).toBe('units');
    expect((await reader.search('MedicationAdministration', { patient: patientId, status: 'not-done' })).total).toBe(1);
  });

  it('adds a note to the dose confirmed inside the minimum interval, and keeps it through an amendment', async () => {
    const first = await record(careStream, 'InsulinAdministered', { patientId, product, device: 'pen', dose: { value: 8, unit: 'units' }, site: 'thigh' }, { occurredAt: minutesAgo(90) });
    const secondId = randomUUID();
    const now = minutesAgo(10);
    const metadata = { actor: careWorker, correlationId: randomUUID(), occurredAt: now };
    const { position } = await store.append(
      careStream,
      [
        { id: secondId, type: 'InsulinAdministered', data: { patientId, product, device: 'pen', dose: { value: 8, unit: 'units' }, site: 'thigh', confirmedNotDuplicate: true }, metadata },
        {
          id: randomUUID(),
          type: 'DoseInsideMinimumIntervalFlagged',
          data: { patientId, product, previousDoseEntryId: first.id, previousDoseOccurredAt: minutesAgo(90), minutesApart: 80, minimumIntervalMinutes: 240 },
          metadata,
        },
      ],
      { expectedRevision: 'any' },
    );
    expect(await runner.waitFor(position, 5000)).toBe(true);

    const flagged = await read<MedicationAdministration>('MedicationAdministration', secondId);
    expect(flagged.versionId).toBe(2);
    expect(flagged.resource.note?.map((n) => n.text).join('\n')).toMatch(/inside the minimum interval: 80 minutes/);
    expect(flagged.resource.supportingInformation).toEqual([{ reference: `MedicationAdministration/${first.id}`, display: expect.any(String) }]);
    expectValidFhir(flagged.resource);
    expect((await read('MedicationAdministration', first.id)).versionId).toBe(1);

    await record(careStream, 'EntryAmended', {
      patientId,
      entryId: secondId,
      reason: 'Dose was 6 units',
      replacement: { type: 'InsulinAdministered', data: { product, device: 'pen', dose: { value: 6, unit: 'units' }, site: 'thigh' } },
    });
    const amended = await read<MedicationAdministration>('MedicationAdministration', secondId);
    expect(amended.versionId).toBe(3);
    expect(amended.resource.status).toBe('completed');
    expect(amended.resource.dosage?.dose).toMatchObject({ value: 6, unit: 'units' });
    expect(amended.resource.note?.map((n) => n.text)).toEqual([
      'The person giving it confirmed this is not a dose already recorded.',
      expect.stringMatching(/minimum interval/),
      'Amended: Dose was 6 units',
    ]);
    expectValidFhir(amended.resource);

    await record(careStream, 'EntryMarkedEnteredInError', { patientId, entryId: secondId, reason: 'Duplicate entry after all' });
    const marked = await read<MedicationAdministration>('MedicationAdministration', secondId);
    expect([marked.versionId, marked.resource.status, marked.resource.dosage?.dose?.value]).toEqual([4, 'entered-in-error', 6]);
    expectValidFhir(marked.resource);
    expect(((await reader.vread('MedicationAdministration', secondId, 1))?.resource as MedicationAdministration).dosage?.dose?.value).toBe(8);
  });
});

describe('the access trail', () => {
  const gp: Actor = { id: 'gp-1', role: 'gp', organisation: 'gp-1', registration: { system: 'https://fhir.hl7.org.uk/Id/gmc-number', value: '1234567' } };
  const access = (overrides: Partial<AccessRecordedData>): AccessRecordedData => ({
    accessId: randomUUID(),
    at: '2025-03-02T10:00:00.000Z',
    agent: gp,
    method: 'GET',
    path: `/fhir/Patient/${patientId}`,
    interaction: 'read',
    resourceType: 'Patient',
    resourceId: patientId,
    patientIds: [patientId],
    actions: ['fhir.read'],
    status: 200,
    outcome: 'success',
    purposeOfUse: 'TREAT',
    source: { address: '10.0.0.7', userAgent: 'EMIS Web' },
    ...overrides,
  });
  let gpRead: AccessRecordedData;
  let denied: AccessRecordedData;
  let stranger: AccessRecordedData;

  beforeAll(async () => {
    gpRead = access({});
    denied = access({ at: '2025-03-02T11:00:00.000Z', agent: careWorker, status: 403, outcome: 'denied', reason: 'cw-1 has no care relationship with this person', method: 'POST', path: `/api/patients/${patientId}/vital-signs`, interaction: 'command', actions: ['care.record'] });
    stranger = access({ at: '2025-03-03T09:00:00.000Z', status: 401, outcome: 'unauthenticated', patientIds: [], actions: [], path: '/fhir/Observation', query: 'patient=x&code=8867-4', interaction: 'search-type' });
    const { agent: _agent, purposeOfUse: _purpose, ...unverified } = stranger;
    stranger = unverified;
    for (const [data, actor] of [[gpRead, gp], [denied, careWorker], [stranger, { id: 'tandem', role: 'system' } as Actor]] as const) {
      await record('audit-2025-03-02', 'AccessRecorded', data, { actor, id: data.accessId });
    }
  });

  it('serves each access as a valid FHIR AuditEvent: who, role, what, whom, when, where from, outcome, purpose', async () => {
    const { resource } = await read<AuditEvent>('AuditEvent', gpRead.accessId);
    expectValidFhir(resource);
    expect(resource).toMatchObject({
      type: { code: 'rest' },
      action: 'R',
      recorded: '2025-03-02T10:00:00.000Z',
      outcome: '0',
      purposeOfEvent: [{ coding: [{ code: 'TREAT' }] }],
    });
    expect(resource.subtype?.map((c) => c.code)).toEqual(['read', 'fhir.read']);
    expect(resource.agent[0]).toMatchObject({ requestor: true, who: { reference: 'Practitioner/gp-1' }, altId: 'gp-1', role: [{ text: 'gp' }], network: { address: '10.0.0.7', type: '2' } });
    expect(resource.entity?.[0]?.what?.reference).toBe(`Patient/${patientId}`);

    const unverified = (await read<AuditEvent>('AuditEvent', stranger.accessId)).resource;
    expectValidFhir(unverified);
    expect(unverified.agent[0]?.who).toBeUndefined();
    expect(unverified.outcome).toBe('4');
    const query = unverified.entity?.find((e) => e.query)?.query;
    expect(Buffer.from(query!, 'base64').toString()).toBe('patient=x&code=8867-4');
  });

  it('is searchable by patient, agent, date and outcome', async () => {
    const ids = async (query: Record<string, string>) => (await reader.search('AuditEvent', query)).matches.map((r) => r.id).sort();
    expect(await ids({ patient: `Patient/${patientId}` })).toEqual([gpRead.accessId, denied.accessId].sort());
    expect(await ids({ agent: 'Practitioner/cw-1' })).toEqual([denied.accessId]);
    expect(await ids({ agent: 'gp-1', date: '2025-03-02' })).toEqual([gpRead.accessId]);
    expect(await ids({ outcome: 'denied' })).toEqual([denied.accessId]);
    expect(await ids({ outcome: '4' })).toEqual([denied.accessId, stranger.accessId].sort());
    expect(await ids({ date: 'ge2025-03-03' })).toEqual([stranger.accessId]);
    expect(await ids({ subtype: 'care.record' })).toEqual([denied.accessId]);
  });

  it('keeps the access trail and provenance out of the person’s $everything', async () => {
    const everything = await reader.everything(patientId, { _count: '1000' });
    expect(everything?.matches.map((r) => r.resourceType)).not.toContain('AuditEvent');
  });

  it('pages $everything in one order: the Patient first, then the most recent care across types (what has no clinical time last); the total counts every match', async () => {
    const all = (await reader.everything(patientId, { _count: '1000' }))!;
    const keys = all.matches.map((r) => `${r.resourceType}/${r.id}`);
    expect(all.total).toBe(keys.length);
    expect(keys[0]).toBe(`Patient/${patientId}`);
    const rest = all.matches.slice(1) as (FhirResource & { effectiveDateTime?: string })[];
    const dated = rest.filter((r) => r.effectiveDateTime !== undefined).map((r) => Date.parse(r.effectiveDateTime!));
    expect(dated).toEqual([...dated].sort((a, b) => b - a));
    expect(new Set(rest.slice(0, dated.length).map((r) => r.resourceType)).size).toBeGreaterThan(1);
    expect(rest.slice(dated.length).every((r) => r.effectiveDateTime === undefined)).toBe(true);
    const paged: string[] = [];
    for (let offset = 0; offset < keys.length + 7; offset += 7) {
      const page = (await reader.everything(patientId, { _count: '7', _offset: String(offset) }))!;
      expect(page.total).toBe(keys.length);
      paged.push(...page.matches.map((r) => `${r.resourceType}/${r.id}`));
    }
    expect(paged).toEqual(keys);
    const observations = (await reader.everything(patientId, { _count: '1000', _type: 'Observation' }))!;
    expect(observations.matches.map((r) => `${r.resourceType}/${r.id}`)).toEqual(keys.filter((k) => k.startsWith('Observation/')));
    expect(observations.total).toBe(observations.matches.length);
    expect((await reader.everything(patientId, { _count: '0' }))!).toMatchObject({ total: keys.length, matches: [] });
    expect(await reader.everything('no-such-person', { _count: '10' })).toBeUndefined();
  });
});

describe('the projection as a whole', () => {
  const snapshot = async () =>
    driver.query<{ resource_type: string; id: string; version_id: number; resource: unknown }>('select resource_type, id, version_id, resource from fhir_resource order by resource_type, id');
  const versionCount = async () => Number((await driver.query<{ n: string }>('select count(*) as n from fhir_resource_version'))[0]!.n);

  it('ignores event types it does not know', async () => {
    const before = await snapshot();
    const stranger: RecordedEvent = {
      id: randomUUID(),
      stream: 'rota-1',
      revision: 0,
      position: Number.MAX_SAFE_INTEGER,
      type: 'RotaShiftSwapped',
      schemaVersion: 1,
      data: { patientId },
      metadata: { actor: nurse, correlationId: randomUUID(), occurredAt: minutesAgo(1), recordedAt: minutesAgo(1) },
    };
    await driver.transaction((tx) => fhirProjection.apply([stranger], tx));
    expect(await snapshot()).toEqual(before);
  });

  it('changes nothing when the same events are replayed, twice', async () => {
    const events = await store.readAll();
    const before = await snapshot();
    const versions = await versionCount();
    for (let i = 0; i < 2; i++) await driver.transaction((tx) => fhirProjection.apply(events, tx));
    expect(await snapshot()).toEqual(before);
    expect(await versionCount()).toBe(versions);
  });

  it('rebuilt from the first event in any batches gives exactly the same resources, search columns and versions', async () => {
    await runner.stop();
    const events = await store.readAll();
    const n = events.length;
    const split = (size: number): [number, number][] => Array.from({ length: Math.ceil(n / size) }, (_, i) => [i * size, (i + 1) * size]);
    const schedules: Record<string, [number, number][]> = {
      sevens: split(7),
      ones: split(1),
      /** Amendments, team changes and flags read what earlier events of the same batch wrote. */
      whole: [[0, n]],
      /** The second batch replays events already applied (changing nothing), then goes on. */
      overlapping: [
        [0, Math.floor(n * 0.6)],
        [Math.floor(n * 0.4), n],
      ],
    };
    const contents = async (schema: string) => ({
      current: await driver.query(
        `select resource_type, id, version_id, last_updated, patient_id, tokens, refs, name_text, birthdate, effective, resource, last_position
         from ${schema}.fhir_resource order by resource_type, id`,
      ),
      versions: await driver.query(`select resource_type, id, version_id, last_updated, patient_id, resource from ${schema}.fhir_resource_version order by resource_type, id, version_id`),
    });
    const live = await contents('public');
    expect(live.versions.length).toBeGreaterThan(40);
    for (const [name, batches] of Object.entries(schedules)) {
      await db.exec(`create schema rebuild_${name}; set search_path to rebuild_${name}; ${fhirProjection.schemaSql}`);
      try {
        for (const [from, to] of batches) await driver.transaction((tx) => fhirProjection.apply(events.slice(from, to), tx));
      } finally {
        await db.exec('set search_path to public');
      }
      expect({ name, ...(await contents(`rebuild_${name}`)) }).toEqual({ name, ...live });
    }
  });

  it('writes only valid FHIR R4: every version of every resource', async () => {
    const rows = await driver.query<{ resource: FhirResource }>('select resource from fhir_resource_version');
    const problems = rows.flatMap((r) => fhirProblems(r.resource));
    expect(problems).toEqual([]);
    expect(new Set(rows.map((r) => r.resource.resourceType))).toEqual(
      new Set(['Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'CareTeam', 'Observation', 'MedicationAdministration', 'Provenance', 'AuditEvent']),
    );
  });

  it('declares a UK Core profile on every version of every resource, and each conforms to it (base R4 and UK Core)', async () => {
    const rows = await driver.query<{ resource: FhirResource }>('select resource from fhir_resource_version');
    const undeclared = rows.filter((r) => declaredUkCoreProfiles(r.resource).length === 0).map((r) => `${r.resource.resourceType}/${r.resource.id}`);
    expect(undeclared).toEqual([]);
    const problems = rows.flatMap((r) => declaredUkCoreProfiles(r.resource).flatMap((url) => ukCoreIssues(r.resource, url).map((i) => `${r.resource.resourceType}/${r.resource.id} ${url}: ${i.expression}: ${i.text}`)));
    expect(problems).toEqual([]);
    // The measurements declare their own profiles, not only the general one.
    const profiles = new Set(rows.flatMap((r) => r.resource.meta?.profile ?? []).map((u) => u.replace(UK_CORE_BASE, '')));
    for (const p of ['UKCore-Observation-VitalSigns-OxygenSaturation', 'UKCore-Observation-InspiredOxygen', 'UKCore-Observation-EarlyWarningTotalScore', 'UKCore-Observation-BloodGlucose', 'UKCore-Patient', 'UKCore-MedicationAdministration']) expect(profiles).toContain(p);
  });

  it('the UK Core check refuses what UK Core forbids and base R4 allows: SpO2 in "%" text, a room-air Observation without a value under vital-signs, an amended SpO2 claiming the measurement profile', () => {
    const spo2 = (unit: string, status: 'final' | 'amended' = 'final'): Observation => ({
      resourceType: 'Observation',
      meta: { profile: [`${UK_CORE_BASE}UKCore-Observation-VitalSigns-OxygenSaturation`] },
      status,
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '2708-6' }, { system: 'http://snomed.info/sct', code: '431314004' }] },
      subject: { reference: 'Patient/x' },
      effectiveDateTime: '2025-03-01T09:00:00Z',
      valueQuantity: { value: 96, unit, system: UCUM, code: '%' },
    });
    expect(fhirProblems(spo2('percent'))).toEqual([]);
    expect(fhirProblems(spo2('%')).join('\n')).toMatch(/unit.*"percent"/);
    expect(fhirProblems(spo2('percent', 'amended')).join('\n')).toMatch(/status.*"final"/);
    // Two LOINC codes: UK Core's vital-signs profile allows one (the "magic code"), and fixes SpO2's at 2708-6.
    const twoLoinc = spo2('percent');
    twoLoinc.code.coding!.push({ system: 'http://loinc.org', code: '59408-5' });
    expect(fhirProblems(twoLoinc).join('\n')).toMatch(/at most 1/);
    const vitalsWithoutLoinc: Observation = { ...spo2('percent'), meta: { profile: [`${UK_CORE_BASE}UKCore-Observation-VitalSigns`] }, code: { coding: [{ system: 'http://snomed.info/sct', code: '431314004' }] } };
    expect(fhirProblems(vitalsWithoutLoinc).join('\n')).toMatch(/ukcore-obs-vs-001/);
  });

  it('the validator rejects what the base validator lets through: a bad status, an abbreviated insulin unit', () => {
    const dose: MedicationAdministration = {
      resourceType: 'MedicationAdministration',
      status: 'completed',
      medicationCodeableConcept: { text: 'Insulin' },
      subject: { reference: 'Patient/x' },
      effectiveDateTime: '2025-03-01T09:00:00Z',
      dosage: { dose: { value: 4, unit: 'IU' } },
    };
    expect(fhirProblems(dose).join('\n')).toMatch(/units/);
    const obs = { resourceType: 'Observation', status: 'done', code: { text: 'x' } } as unknown as Observation;
    expect(fhirProblems(obs).join('\n')).toMatch(/Observation.status/);
    expect(fhirProblems({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueString: 'a', dataAbsentReason: { text: 'b' } })).not.toEqual([]);
  });
});
