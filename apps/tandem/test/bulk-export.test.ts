import { mintToken, type MintClaims } from '@tandem/auth';
import type { AccessRecordedData, Actor } from '@tandem/contracts';
import type { createRecordService } from '@tandem/record';
import type { Bundle, FhirResource, Group, Observation } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { ExportJobs, type HeldExport } from '../src/bulk-export/jobs';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { expectValidFhir } from '@tandem/fhir-validation';

/** An NHS number that passes the modulus 11 check, from nine digits. */
const nhsNumber = (nine: string): string => {
  const sum = [...nine].reduce((s, d, i) => s + Number(d) * (10 - i), 0);
  const check = 11 - (sum % 11);
  if (check === 10) return nhsNumber(String(Number(nine) + 1).padStart(9, '0'));
  return `${nine}${check === 11 ? 0 : check}`;
};

describe('bulk export jobs', () => {
  const gp = { id: 'gp-david-shah', role: 'gp' };
  const job = (id: string, owner = gp): HeldExport => ({ id, owner, status: 'running' });

  it('runs at most two at once: given two running, a third is refused until one of them is done', () => {
    const jobs = new ExportJobs<HeldExport>(2);
    const first = job('1');
    expect(jobs.admit(first)).toBe(true);
    expect(jobs.admit(job('2'))).toBe(true);
    expect(jobs.admit(job('3'))).toBe(false);
    expect(jobs.of('3', gp)).toBeUndefined();
    first.status = 'done';
    expect(jobs.admit(job('3'))).toBe(true);
    expect(jobs.size).toBe(3);
  });

  it("gives a job to its owner only: the same user id in another role is someone else", () => {
    const jobs = new ExportJobs<HeldExport>(2);
    jobs.admit(job('1'));
    expect(jobs.of('1', gp)?.id).toBe('1');
    expect(jobs.of('1', { id: 'amira-khan', role: 'care-worker' })).toBeUndefined();
    expect(jobs.of('1', { id: gp.id, role: 'auditor' })).toBeUndefined();
  });
});

/**
 * FHIR Bulk Data Access 2.0 `$export` on a real embedded Tandem with the demo record: the
 * asynchronous kick-off, polling, ndjson files within the requester's access, the access trail.
 */
describe('bulk data export', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientIds: string[];
  /** Registered by someone else, with no GP and no one of the demo's teams: in no demo clinician's care. */
  let outsiderId: string;

  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const gp = () => token({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration });
  const amira = () => token({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId });
  const auditor = () => token({ role: 'auditor', user: 'auditor-cqc-1' });

  const asyncHeaders = { accept: 'application/fhir+json', prefer: 'respond-async' };
  const get = (url: string, bearer: string, headers: Record<string, string> = {}) => fetch(url.startsWith('http') ? url : `${tandem.url}${url}`, { headers: { authorization: `Bearer ${bearer}`, ...headers } });

  interface Manifest {
    transactionTime: string;
    request: string;
    requiresAccessToken: boolean;
    output: { type: string; url: string; count: number }[];
    error: unknown[];
  }

  /** Kicks off, polls until done (each poll 202 with X-Progress), answers the manifest and the files' resources by type. */
  const exported = async (path: string, bearer: string) => {
    const kickOff = await get(path, bearer, asyncHeaders);
    expect(kickOff.status).toBe(202);
    const status = kickOff.headers.get('content-location')!;
    expect(status).toMatch(/\/fhir\/\$export-status\//);
    let reply = await get(status, bearer);
    while (reply.status === 202) {
      expect(reply.headers.get('x-progress')).toMatch(/%/);
      await new Promise((resolve) => setTimeout(resolve, 50));
      reply = await get(status, bearer);
    }
    expect(reply.status).toBe(200);
    const manifest = (await reply.json()) as Manifest;
    const files: Record<string, FhirResource[]> = {};
    for (const output of manifest.output) {
      const file = await get(output.url, bearer);
      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toMatch(/application\/fhir\+ndjson/);
      const lines = (await file.text()).split('\n').filter((line) => line !== '');
      expect(lines).toHaveLength(output.count);
      files[output.type] = lines.map((line) => JSON.parse(line) as FhirResource);
    }
    return { status, manifest, files };
  };

  const subjectOf = (resource: FhirResource): string =>
    resource.resourceType === 'Patient' ? resource.id! : ((resource as { subject?: { reference?: string } }).subject?.reference ?? '').replace('Patient/', '');

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-bulk-export-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    ({ patientIds } = await seedDemoData(record.care, { patients: 3, days: 1, now: new Date() }));
    const registrar: Actor = { id: 'nurse-zoe-adams', role: 'district-nurse', organisation: 'org-south-district-nursing', registration: { system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '99Z9999Z' } };
    ({ patientId: outsiderId } = await record.care.registerPatient(
      {
        idempotencyKey: 'bulk-export-outsider',
        occurredAt: new Date(Date.now() - 60_000).toISOString(),
        nhsNumber: nhsNumber('943476591'),
        name: { given: ['Olive'], family: 'Outside', prefix: 'Mrs' },
        birthDate: '1941-03-12',
        gender: 'female',
        address: { lines: ['1 Far Lane', 'York'], postcode: 'YO1 1AA' },
        gpPractice: { odsCode: 'B99999', name: 'Far Lane Surgery' },
      },
      registrar,
    ));
    // Wait for the read model to hold everything recorded.
    await get(`/fhir/Patient/${outsiderId}`, await auditor(), { 'x-tandem-min-position': String(await tandem.storage.store.headPosition()) });
  }, 60_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("gives a GP his patients' Patient and Observation resources as valid R4 ndjson, and nobody else's", async () => {
    const { manifest, files } = await exported('/fhir/Patient/$export?_type=Patient,Observation', await gp());
    expect(manifest).toMatchObject({ requiresAccessToken: true, error: [], request: expect.stringContaining('/fhir/Patient/$export?_type=Patient,Observation') });
    expect(Number.isNaN(Date.parse(manifest.transactionTime))).toBe(false);
    expect(manifest.output.map((o) => o.type).sort()).toEqual(['Observation', 'Patient']);
    for (const resources of Object.values(files)) for (const resource of resources) expectValidFhir(resource);
    expect(files.Patient!.map((p) => p.id).sort()).toEqual([...patientIds].sort());
    expect(files.Observation!.length).toBeGreaterThan(0);
    expect(files.Observation!.every((o) => o.resourceType === 'Observation' && patientIds.includes(subjectOf(o)))).toBe(true);
    // Exactly what his own searches show of each person: nothing left out, nothing of the outsider.
    for (const patientId of patientIds) {
      const search = (await (await get(`/fhir/Observation?patient=${patientId}&_count=1000`, await gp())).json()) as { total: number };
      expect(files.Observation!.filter((o) => subjectOf(o) === patientId)).toHaveLength(search.total);
    }
    expect(JSON.stringify(files)).not.toContain(outsiderId);
  });

  it("gives a care worker only the people she cares for", async () => {
    const hers = patientIds.filter((_, i) => i % DEMO.careWorkers.length === 0);
    const { files } = await exported('/fhir/Patient/$export', await amira());
    expect(files.Patient!.map((p) => p.id).sort()).toEqual([...hers].sort());
    const about = new Set(Object.values(files).flatMap((resources) => resources.map((r) => (r.resourceType === 'CareTeam' || r.resourceType === 'Observation' || r.resourceType === 'Patient' ? subjectOf(r) : undefined)).filter((id) => id !== undefined)));
    expect([...about].sort()).toEqual([...hers].sort());
    // One person, directly: hers is exported, someone else's is refused.
    expect((await get(`/fhir/Patient/${patientIds[1]}/$export`, await amira(), asyncHeaders)).status).toBe(403);
    const one = await exported(`/fhir/Patient/${hers[0]}/$export?_type=Patient`, await amira());
    expect(one.files.Patient!.map((p) => p.id)).toEqual([hers[0]]);
  });

  it('refuses a kick-off without Prefer: respond-async, or asking for what it cannot give, with an OperationOutcome naming it', async () => {
    const head = await tandem.storage.store.headPosition();
    const noPrefer = await get('/fhir/Patient/$export', await gp(), { accept: 'application/fhir+json' });
    expect(noPrefer.status).toBe(400);
    expect(await noPrefer.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ expression: ['Prefer'] }] });
    const badType = await get('/fhir/Patient/$export?_type=Nonsense', await gp(), asyncHeaders);
    expect(await badType.json()).toMatchObject({ issue: [{ expression: ['_type'] }] });
    const badFormat = await get('/fhir/Patient/$export?_outputFormat=text/csv', await gp(), asyncHeaders);
    expect(badFormat.status).toBe(400);
    expect(await badFormat.json()).toMatchObject({ issue: [{ expression: ['_outputFormat'] }] });
    // A system-level export spans everyone: a GP is sent to Patient/$export, an auditor gets everyone.
    expect((await get('/fhir/$export', await gp(), asyncHeaders)).status).toBe(403);
    const everyone = await exported('/fhir/$export?_type=Patient', await auditor());
    expect(everyone.files.Patient!.map((p) => p.id).sort()).toEqual([...patientIds, outsiderId].sort());
    // The kick-offs refused stored nothing of the record (the access trail aside).
    const since = await tandem.storage.store.readAll({ fromPosition: head + 1, maxCount: 10_000 });
    expect(since.filter((e) => e.type !== 'AccessRecorded')).toEqual([]);
  });

  it("keeps an export to its requester: another user gets 404 for its status and files; the requester can cancel it", async () => {
    const { status, manifest } = await exported(`/fhir/Patient/${patientIds[0]}/$export?_type=Patient`, await gp());
    expect((await get(status, await amira())).status).toBe(404);
    expect((await get(manifest.output[0]!.url, await amira())).status).toBe(404);
    expect((await fetch(manifest.output[0]!.url)).status).toBe(401);
    const cancel = await fetch(status, { method: 'DELETE', headers: { authorization: `Bearer ${await gp()}` } });
    expect(cancel.status).toBe(202);
    expect((await get(status, await gp())).status).toBe(404);
    expect((await get(manifest.output[0]!.url, await gp())).status).toBe(404);
  });

  it('narrows to what changed with _since', async () => {
    const before = await exported('/fhir/Patient/$export?_type=Observation', await gp());
    const since = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const pulse: Observation = {
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: `Patient/${patientIds[0]}` },
      effectiveDateTime: new Date(Date.now() - 60_000).toISOString(),
      valueQuantity: { value: 71, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    };
    const created = await fetch(`${tandem.url}/fhir/Observation`, { method: 'POST', headers: { authorization: `Bearer ${await amira()}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(pulse) });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as Observation;
    const recent = await exported(`/fhir/Patient/$export?_type=Observation&_since=${encodeURIComponent(since)}`, await gp());
    const recentIds = recent.files.Observation!.map((o) => o.id!);
    // The pulse and what the entry made of it (its vital-signs panel, its NEWS2), and nothing recorded before.
    expect(recentIds).toContain(id);
    expect(recentIds.every((r) => r.startsWith(id!.replace(/-pulse$/, '')))).toBe(true);
    const earlier = new Set(before.files.Observation!.map((o) => o.id));
    expect(earlier.size).toBeGreaterThan(recentIds.length);
    expect(recentIds.filter((r) => earlier.has(r))).toEqual([]);
  });

  describe('Group-level export: an organisation\'s caseload as a read-only Group', () => {
    const agency = DEMO.careAgency.organisationId;
    const membersOf = (group: Group) => (group.member ?? []).map((m) => m.entity.reference!.replace('Patient/', '')).sort();
    const read = async (path: string, bearer: string) => {
      const response = await get(path, bearer);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    it('serves each organisation\'s Group, members within the caller\'s access: an auditor sees every member, a care worker only her people', async () => {
      const all = (await read('/fhir/Group', await auditor())).body as unknown as Bundle<Group>;
      expectValidFhir(all);
      const groups = all.entry!.map((e) => e.resource!);
      expect(groups.map((g) => g.id).sort()).toEqual([DEMO.gpPractice.organisationId, DEMO.nursingTeam.organisationId, agency].sort());
      for (const group of groups) {
        expectValidFhir(group);
        expect(group).toMatchObject({ type: 'person', actual: true, managingEntity: { reference: `Organization/${group.id}` } });
        // the outsider is in no one's caseload
        expect(membersOf(group)).not.toContain(outsiderId);
      }
      const agencyGroup = groups.find((g) => g.id === agency)!;
      expect(membersOf(agencyGroup)).toEqual([...patientIds].sort());
      expect(agencyGroup.quantity).toBe(patientIds.length);
      // the practice's Group: its GP's registered patients
      expect(membersOf(groups.find((g) => g.id === DEMO.gpPractice.organisationId)!)).toEqual([...patientIds].sort());

      const hers = patientIds.filter((_, i) => i % DEMO.careWorkers.length === 0);
      const asAmira = (await read(`/fhir/Group/${agency}`, await amira())).body as unknown as Group;
      expectValidFhir(asAmira);
      expect(membersOf(asAmira)).toEqual([...hers].sort());
      expect(asAmira.quantity).toBe(hers.length);
      expect(((await read(`/fhir/Group?managing-entity=Organization/${agency}`, await amira())).body as unknown as Bundle<Group>).entry!.map((e) => membersOf(e.resource!))).toEqual([[...hers].sort()]);

      // unknown Group: 404; a parameter it does not take: 400 naming it; no token: 401
      expect(await read('/fhir/Group/org-nobody', await auditor())).toMatchObject({ status: 404, body: { resourceType: 'OperationOutcome' } });
      expect(await read('/fhir/Group?name=Kindly', await auditor())).toMatchObject({ status: 400, body: { issue: [{ expression: ['name'] }] } });
      expect((await fetch(`${tandem.url}/fhir/Group/${agency}`)).status).toBe(401);
      expect((await get(`/fhir/Group/org-nobody/$export`, await auditor(), asyncHeaders)).status).toBe(404);
    });

    it('is declared in /fhir/metadata: Group read and search, and its $export', async () => {
      const metadata = (await (await fetch(`${tandem.url}/fhir/metadata`)).json()) as { rest: { resource: { type: string; interaction: { code: string }[]; operation?: { name: string; definition: string }[] }[] }[] };
      const group = metadata.rest[0]!.resource.find((r) => r.type === 'Group');
      expect(group?.interaction.map((i) => i.code).sort()).toEqual(['read', 'search-type']);
      expect(group?.operation).toEqual([{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export' }]);
    });

    it('a commissioner exports a month of a Group as valid R4 ndjson: exactly its members\' data, _type and _since honoured, recorded in the access trail', async () => {
      const monthAgo = new Date(Date.now() - 31 * 24 * 60 * 60_000).toISOString();
      const path = `/fhir/Group/${agency}/$export?_type=Patient,Observation&_since=${encodeURIComponent(monthAgo)}`;
      const { manifest, files } = await exported(path, await auditor());
      expect(manifest.request).toContain(`/fhir/Group/${agency}/$export`);
      expect(manifest.output.map((o) => o.type).sort()).toEqual(['Observation', 'Patient']);
      for (const resources of Object.values(files)) for (const resource of resources) expectValidFhir(resource);
      expect(files.Patient!.map((p) => p.id).sort()).toEqual([...patientIds].sort());
      expect(files.Observation!.length).toBeGreaterThan(0);
      expect(files.Observation!.every((o) => patientIds.includes(subjectOf(o)))).toBe(true);
      expect(JSON.stringify(files)).not.toContain(outsiderId);
      // _since after everything recorded: nothing; _type narrows the files to that type
      const later = await exported(`/fhir/Group/${agency}/$export?_since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, await auditor());
      expect(later.manifest.output).toEqual([]);
      const patientsOnly = await exported(`/fhir/Group/${agency}/$export?_type=Patient`, await auditor());
      expect(patientsOnly.manifest.output.map((o) => o.type)).toEqual(['Patient']);

      await tandem.accessTrail.flush();
      const records = (await tandem.storage.store.readAll({ maxCount: 100_000 })).filter((e) => e.type === 'AccessRecorded').map((e) => e.data as AccessRecordedData);
      const kickOff = records.filter((r) => r.path === `/fhir/Group/${agency}/$export`);
      expect(kickOff.length).toBeGreaterThanOrEqual(1);
      expect(kickOff[0]).toMatchObject({ agent: { id: 'auditor-cqc-1' }, outcome: 'success' });
      const download = records.filter((r) => r.path === new URL(manifest.output.find((o) => o.type === 'Patient')!.url).pathname);
      expect([...download[0]!.patientIds].sort()).toEqual([...patientIds].sort());
    });

    it('leaves out a member outside the requester\'s access: a care worker\'s export of her agency\'s Group holds her people only', async () => {
      const hers = patientIds.filter((_, i) => i % DEMO.careWorkers.length === 0);
      const others = patientIds.filter((id) => !hers.includes(id));
      expect(others.length).toBeGreaterThan(0);
      const { files } = await exported(`/fhir/Group/${agency}/$export`, await amira());
      expect(files.Patient!.map((p) => p.id).sort()).toEqual([...hers].sort());
      const text = JSON.stringify(files);
      for (const id of others) expect(text).not.toContain(id);
    });
  });

  it('rebuilds the Groups from the log alone: wiped, then rebuilt, each Group answers as it did', async () => {
    const groups = async () => (await (await get('/fhir/Group', await auditor())).json()) as Bundle<Group>;
    const before = (await groups()).entry!.map((e) => e.resource);
    expect(before.length).toBeGreaterThan(0);
    for (const table of ['group_organisations', 'group_practitioners', 'group_care_teams', 'group_registered_gps']) await tandem.storage.readModels.query(`delete from ${table}`);
    expect((await groups()).total).toBe(0);
    const rebuilt = await fetch(`${tandem.url}/admin/projections/rebuild`, { method: 'POST', headers: { authorization: `Bearer ${await token({ role: 'system', user: 'tandem-test' })}` } });
    expect(rebuilt.status).toBe(200);
    expect((await groups()).entry!.map((e) => e.resource)).toEqual(before);
  }, 60_000);

  it("records each file's download in the access trail with the people it carried", async () => {
    const { manifest } = await exported('/fhir/Patient/$export?_type=Patient', await amira());
    await tandem.accessTrail.flush();
    const records = (await tandem.storage.store.readAll({ maxCount: 100_000 })).filter((e) => e.type === 'AccessRecorded').map((e) => e.data as AccessRecordedData);
    const download = records.filter((r) => r.path === new URL(manifest.output[0]!.url).pathname);
    expect(download).toHaveLength(1);
    expect(download[0]).toMatchObject({ agent: { id: DEMO.careWorkers[0]!.practitionerId }, status: 200 });
    expect([...download[0]!.patientIds].sort()).toEqual(patientIds.filter((_, i) => i % DEMO.careWorkers.length === 0).sort());
  });
});
