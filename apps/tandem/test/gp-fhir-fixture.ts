import { mintToken } from '@tandem/auth';
import type { createRecordService } from '@tandem/record';
import Client from 'fhir-kit-client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';

/** A GP reading a fresh embedded Tandem with a real FHIR client: the demo's people, caught up, and his token. */
export interface GpFhir {
  readonly tandem: RunningTandem;
  readonly dataDir: string;
  readonly fhir: InstanceType<typeof Client>;
  readonly gp: string;
  readonly patientIds: readonly string[];
  stop(): Promise<void>;
}

export const startGpFhir = async (name: string, people: { patients: number; days: number }): Promise<GpFhir> => {
  const dataDir = mkdtempSync(join(tmpdir(), `tandem-${name}-`));
  const tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
  const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
  const { patientIds } = await seedDemoData(record.care, { ...people, now: new Date() });
  const gp = await mintToken({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration }, { dataDir });
  const fhir = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: gp });
  // The read models hold the seeded care before the first test reads.
  await fetch(`${tandem.url}/fhir/Patient/${patientIds[0]}`, { headers: { 'x-tandem-min-position': String(await tandem.storage.store.headPosition()), authorization: `Bearer ${gp}` } });
  return {
    tandem,
    dataDir,
    fhir,
    gp,
    patientIds,
    stop: async () => {
      await tandem.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
