import { mintToken, type MintClaims } from '@tandem/auth';
import { ManualClock } from '@tandem/delegation';
import type { createRecordService } from '@tandem/record';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer: its shape is what the assertions check
type Json = any;

/**
 * Defects a review of issues 9 and 16 found by black-box requests on a running Tandem, each as a
 * specification over real HTTP on an embedded Tandem.
 */
describe('review findings (issues 9 and 16)', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientId: string;
  const clock = new ManualClock('2025-11-20T17:45:00Z');
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const sarah = () => token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
  const now = () => clock.now().toISOString();

  const post = async (path: string, bearer: string, body: unknown) => {
    const response = await fetch(`${tandem.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, Json> };
  };
  const escalationEvents = async (escalationId: string) => (await tandem.storage.store.readStream(`escalation-${escalationId}`)).map((e) => e.type);

  /** Sarah records NEWS2 17 for the person: the escalation it starts reaches her (the nursing team). */
  const raiseEscalation = async (key: string): Promise<string> => {
    const reply = await post(`/api/patients/${patientId}/vital-signs`, await sarah(), {
      idempotencyKey: key,
      occurredAt: now(),
      respirationRate: 28,
      spo2: 88,
      airOrOxygen: 'air',
      systolic: 88,
      diastolic: 50,
      pulse: 135,
      consciousness: 'V',
      temperatureC: 39.5,
    });
    expect(reply.status).toBe(201);
    const escalationId = reply.body.followUps?.escalationIds?.[0] as string | undefined;
    expect(escalationId).toBeDefined();
    return escalationId!;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-review-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }), { clock });
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    const { patientIds } = await seedDemoData(record.care, { patients: 2, days: 1, now: clock.now() });
    patientId = patientIds[0]!;
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('9.4 / 16.5: an idempotency key on a delegation command is scoped to the user and the command', () => {
    it('the acknowledgement key sent again with a resolution records the resolution (a different command), never a replay of the acknowledgement', async () => {
      const escalationId = await raiseEscalation('review-news2-a');
      const ack = await post(`/api/escalations/${escalationId}/acknowledgement`, await sarah(), { idempotencyKey: 'review-ack', occurredAt: now() });
      expect(ack.status).toBe(201);
      // Before the fix: 200 "replayed": true with the acknowledgement's events, and no EscalationResolved stored.
      const resolve = await post(`/api/escalations/${escalationId}/resolution`, await sarah(), { idempotencyKey: 'review-ack', occurredAt: now(), outcome: 'Seen; GP to visit' });
      expect(resolve.status).toBe(201);
      expect(resolve.body).toMatchObject({ replayed: false, eventTypes: ['EscalationResolved'] });
      expect(await escalationEvents(escalationId)).toContain('EscalationResolved');
    });

    it('the same acknowledgement again (occurredAt left to the server) is a replay; with a different note it is 422', async () => {
      const escalationId = await raiseEscalation('review-news2-b');
      const first = await post(`/api/escalations/${escalationId}/acknowledgement`, await sarah(), { idempotencyKey: 'review-ack-b', note: 'On my way' });
      expect(first.status).toBe(201);
      clock.advance(60_000);
      const again = await post(`/api/escalations/${escalationId}/acknowledgement`, await sarah(), { idempotencyKey: 'review-ack-b', note: 'On my way' });
      expect(again).toMatchObject({ status: 200, body: { replayed: true, eventIds: first.body.eventIds } });
      const different = await post(`/api/escalations/${escalationId}/acknowledgement`, await sarah(), { idempotencyKey: 'review-ack-b', note: 'Not coming' });
      expect(different.status).toBe(422);
      expect(different.body.errors[0].field).toBe('idempotencyKey');
    });
  });
});
