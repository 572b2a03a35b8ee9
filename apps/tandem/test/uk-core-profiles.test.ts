import { mintToken } from '@tandem/auth';
import type { createDelegationService } from '@tandem/delegation';
import { expectValidUkCore } from '@tandem/fhir-validation';
import type { createRecordService } from '@tandem/record';
import type { FhirResource } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { seedDemoData } from '../src/demo/demo-data';
import { seedDemoDelegationSide } from '../src/demo/first-start';
import { seedDemoMedicinesAndVisits } from '../src/demo/medicines-visits';

/**
 * Issue 17 item 9: every resource the server serves declares its UK Core profile and conforms to
 * it, and to base R4. Given the demo's record (vital signs, glucose, insulin, a delegation, a
 * medicines chart, visits), loaded through the same commands as at first start; when the auditor
 * exports everything through the FHIR API (Bulk Data `$export`) and searches the directory and the
 * trails (Practitioner, PractitionerRole, Organization, AuditEvent, Provenance); then each resource of each type
 * passes @tandem/fhir-validation against R4 and the UK Core StructureDefinitions it declares.
 */
describe('every served resource is valid against base R4 and its UK Core profile', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let auditor: string;

  const get = (url: string, headers: Record<string, string> = {}) => fetch(url.startsWith('http') ? url : `${tandem.url}${url}`, { headers: { authorization: `Bearer ${auditor}`, ...headers } });

  /** The export's files, by type, once its job is done. */
  const exportEverything = async (): Promise<Record<string, FhirResource[]>> => {
    const kickOff = await get('/fhir/$export', { accept: 'application/fhir+json', prefer: 'respond-async' });
    expect(kickOff.status).toBe(202);
    const status = kickOff.headers.get('content-location')!;
    let reply = await get(status);
    while (reply.status === 202) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      reply = await get(status);
    }
    expect(reply.status).toBe(200);
    const manifest = (await reply.json()) as { output: { type: string; url: string }[] };
    const files: Record<string, FhirResource[]> = {};
    for (const output of manifest.output) {
      const lines = (await (await get(output.url)).text()).split('\n').filter((line) => line !== '');
      files[output.type] = [...(files[output.type] ?? []), ...lines.map((line) => JSON.parse(line) as FhirResource)];
    }
    return files;
  };

  /** What a search gives, every page (the directory and the trails are not in a person's export). */
  const searchAll = async (type: string): Promise<FhirResource[]> => {
    const found: FhirResource[] = [];
    let next: string | undefined = `/fhir/${type}?_count=200`;
    while (next) {
      const reply = await get(next);
      expect(reply.status).toBe(200);
      const bundle = (await reply.json()) as { entry?: { resource: FhirResource }[]; link?: { relation: string; url: string }[] };
      found.push(...(bundle.entry ?? []).map((e) => e.resource));
      next = bundle.link?.find((l) => l.relation === 'next')?.url;
    }
    return found;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-uk-core-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    const delegation = tandem.services.find((s) => s.name === 'delegation') as ReturnType<typeof createDelegationService>;
    const now = new Date();
    const { patientIds } = await seedDemoData(record.care, { patients: 3, days: 3, now });
    await seedDemoDelegationSide(delegation.commands, { patientIds, now });
    await seedDemoMedicinesAndVisits(record.care, { patientId: patientIds[0]!, now, insulinDelegation: true });
    auditor = await mintToken({ role: 'auditor', user: 'auditor-uk-core' }, { dataDir });
    await get(`/fhir/Patient/${patientIds[0]}`, { 'x-tandem-min-position': String(await tandem.storage.store.headPosition()) });
  }, 180_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('declares and meets a UK Core profile on every resource of every type exported', async () => {
    const files = await exportEverything();
    for (const type of ['Practitioner', 'PractitionerRole', 'Organization', 'AuditEvent', 'Provenance']) files[type] = await searchAll(type);
    const problems: string[] = [];
    for (const resources of Object.values(files)) {
      for (const resource of resources) {
        try {
          expectValidUkCore(resource);
        } catch (error) {
          problems.push((error as Error).message.split('\n{')[0]!);
        }
      }
    }
    expect(problems).toEqual([]);
    // The types a GP system reads from this record, each checked above.
    const types = ['Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'CareTeam', 'Observation', 'MedicationAdministration', 'MedicationRequest', 'Appointment', 'CarePlan', 'Task', 'AuditEvent', 'Provenance'];
    expect(Object.fromEntries(types.map((type) => [type, (files[type]?.length ?? 0) > 0]))).toEqual(Object.fromEntries(types.map((type) => [type, true])));
  }, 120_000);
});
