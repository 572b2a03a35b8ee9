import { mintToken } from '@tandem/auth';
import type { createRecordService } from '@tandem/record';
import type { Bundle } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';

/**
 * H53: the policy's facts (who is in a person's care team) are held in memory between reads and
 * kept current by the log, not by a time to live. A care worker removed from a person's care team
 * is refused on the very next read after the removal was answered, and given access again on the
 * very next read after she is added back, over HTTP on the embedded default.
 */
describe('a change to the care team decides the very next read (H53)', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientId: string;
  let observationId: string;

  const amira = DEMO.careWorkers[0]!;
  const amiraToken = () => mintToken({ role: 'care-worker', user: amira.practitionerId, org: DEMO.careAgency.organisationId }, { dataDir });
  const sarahToken = () => mintToken({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration }, { dataDir });

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const response = await fetch(`${tandem.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as unknown };
  };

  /** Every read Amira makes of her person's record, by id, by search and as $everything. */
  const amiraReads = async () => {
    const token = await amiraToken();
    return [
      (await call('GET', `/fhir/Observation/${observationId}`, token)).status,
      (await call('GET', `/fhir/Patient/${patientId}`, token)).status,
      (await call('GET', `/fhir/Observation?patient=${patientId}&_count=5`, token)).status,
    ];
  };

  const membership = (key: string) => ({ idempotencyKey: key, occurredAt: new Date(Date.now() - 60_000).toISOString(), practitionerId: amira.practitionerId, teamRole: 'care-worker' });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-h53-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', TANDEM_RATE_LIMIT_PER_MINUTE: '0' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    // The demo's first person is Amira's.
    ({ patientIds: [patientId = ''] } = await seedDemoData(record.care, { patients: 1, days: 1, now: new Date() }));
    const sarah = await sarahToken();
    const head = String(await tandem.storage.store.headPosition());
    const found = await fetch(`${tandem.url}/fhir/Observation?patient=${patientId}&_count=1`, { headers: { authorization: `Bearer ${sarah}`, 'x-tandem-min-position': head } });
    observationId = ((await found.json()) as Bundle).entry![0]!.resource!.id!;
  }, 60_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses her the very next read once she is removed, and allows it again the moment she is added back', async () => {
    // Read twice: the second is decided on the facts held from the first.
    expect(await amiraReads()).toEqual([200, 200, 200]);
    expect(await amiraReads()).toEqual([200, 200, 200]);

    const sarah = await sarahToken();
    expect((await call('POST', `/api/patients/${patientId}/care-team/removals`, sarah, membership('h53-remove'))).status).toBe(201);
    expect(await amiraReads()).toEqual([403, 403, 403]);

    expect((await call('POST', `/api/patients/${patientId}/care-team`, sarah, membership('h53-add-back'))).status).toBe(201);
    expect(await amiraReads()).toEqual([200, 200, 200]);
  }, 60_000);
});
