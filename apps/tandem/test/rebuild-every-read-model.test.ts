import { mintToken, type MintClaims } from '@tandem/auth';
import { ManualClock, type DelegationService } from '@tandem/delegation';
import type { createRecordService } from '@tandem/record';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData, seedDemoRotas } from '../src/demo/demo-data';

/**
 * Issue 12 item 4 (hazard H55): `npm run projections:rebuild` (POST /admin/projections/rebuild)
 * rebuilds every read model, the delegation service's among them, from the log alone. Given an
 * escalation and a prompt in the delegation views, when the views are wiped and rebuilt, then the
 * delegation API answers as it did, and the scheduler's timers are there again (none fired twice).
 */
describe('a rebuild rebuilds every read model, the delegation views among them', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientIds: string[];
  const clock = new ManualClock('2025-11-20T10:30:00Z');
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const amira = () => token({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId });
  const sarah = () => token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
  const manager = () => token({ role: 'system', user: 'tandem-test' });
  const delegation = () => tandem.services.find((s) => s.name === 'delegation') as DelegationService;

  const call = async (method: string, path: string, bearer: string, body?: unknown) => {
    const response = await fetch(`${tandem.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  };
  /** What the delegation API answers Sarah and Amira about the person. */
  const answers = async () => ({
    escalations: (await call('GET', `/api/escalations?patientId=${patientIds[0]}`, await sarah())).body,
    prompts: (await call('GET', `/api/prompts?patientId=${patientIds[0]}`, await amira())).body,
    timers: (await call('GET', '/admin/timers', await manager())).body.timers,
  });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-rebuild-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }), { clock });
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    ({ patientIds } = await seedDemoData(record.care, { patients: 1, days: 1, now: clock.now() }));
    await seedDemoRotas(delegation().commands);
    // A glucose of 3.1 mmol/L: the hypo protocol prompts Amira (with a recheck) and an escalation is raised.
    const low = await call('POST', `/api/patients/${patientIds[0]}/blood-glucose`, await amira(), { idempotencyKey: 'rebuild-low', occurredAt: new Date(clock.now().getTime() - 60_000).toISOString(), glucoseMmolL: 3.1 });
    expect(low.status).toBeLessThan(300);
    await delegation().processor.settle(60_000);
  }, 120_000);
  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('wiped, then rebuilt: the same escalations, prompts and timers', async () => {
    const before = await answers();
    expect((before.escalations as { escalations: unknown[] }).escalations.length).toBeGreaterThan(0);
    expect((before.prompts as { prompts: unknown[] }).prompts.length).toBeGreaterThan(0);

    for (const table of ['delegation_escalations', 'delegation_prompts', 'delegation_timers', 'delegation_delegations', 'delegation_competences', 'delegation_stream_states']) {
      await tandem.storage.readModels.query(`delete from ${table}`);
    }
    expect((await answers()).escalations).toMatchObject({ escalations: [] });

    const rebuilt = await call('POST', '/admin/projections/rebuild', await manager());
    expect(rebuilt.status).toBe(200);
    expect(await answers()).toEqual(before);
  }, 120_000);
});
