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

  describe('9.6: a delegation command cannot be dated before what it answers', () => {
    it('an acknowledgement dated 2001 (even confirmed as late) for an escalation raised now is 422 naming occurredAt, and nothing is stored', async () => {
      const escalationId = await raiseEscalation('review-news2-c');
      // Before the fix: 201, and the escalation read "acknowledged" at 2001-01-01, 24 years before it was raised.
      const ack = await post(`/api/escalations/${escalationId}/acknowledgement`, await sarah(), { idempotencyKey: 'review-ack-2001', occurredAt: '2001-01-01T00:00:00Z', confirmedLate: true });
      expect(ack.status).toBe(422);
      expect(ack.body.errors).toEqual([{ field: 'occurredAt', message: expect.stringContaining('before the escalation was raised') }]);
      expect(await escalationEvents(escalationId)).not.toContain('EscalationAcknowledged');
      // Two minutes behind the server (a phone's clock) is still taken.
      const skewed = await post(`/api/escalations/${escalationId}/acknowledgement`, await sarah(), { idempotencyKey: 'review-ack-skew', occurredAt: new Date(clock.now().getTime() - 120_000).toISOString() });
      expect(skewed.status).toBe(201);
    });

    it('training started "1901-01-01" asks for confirmation naming occurredAt (409, nothing stored); confirmed, it is recorded', async () => {
      const body = { frameworkId: 'insulin-administration', careWorker: { practitionerId: DEMO.careWorkers[1]!.practitionerId, role: 'care-worker', organisationId: DEMO.careAgency.organisationId }, occurredAt: '1901-01-01T00:00:00Z' };
      // Before the fix: 201, TrainingStarted dated 1901 with no question asked.
      const unconfirmed = await post('/api/competences', await sarah(), { ...body, idempotencyKey: 'review-train-1901' });
      expect(unconfirmed.status).toBe(409);
      expect(unconfirmed.body).toMatchObject({ title: 'Confirmation needed', errors: [{ field: 'occurredAt', message: expect.stringContaining('confirmedLate true') }] });
      const stream = `competency-${DEMO.careWorkers[1]!.practitionerId}-insulin-administration`;
      expect((await tandem.storage.store.readStream(stream)).length).toBe(0);
      const confirmed = await post('/api/competences', await sarah(), { ...body, idempotencyKey: 'review-train-1901-confirmed', confirmedLate: true });
      expect(confirmed.status).toBe(201);
    });
  });

  describe('16.7: one escalation read by its id looks the same to an outsider whether it exists or not', () => {
    const zoe = () => token({ role: 'district-nurse', user: 'nurse-zoe-adams', org: 'org-south-district-nursing' });
    const get = async (path: string, bearer: string, headers: Record<string, string> = {}) => {
      const response = await fetch(`${tandem.url}${path}`, { headers: { authorization: `Bearer ${bearer}`, ...headers } });
      return { status: response.status, body: (await response.json()) as Record<string, Json> };
    };

    it('a nurse of another team gets the 404 of a missing escalation (no person named); with break-glass she reads it', async () => {
      const escalationId = await raiseEscalation('review-news2-d');
      const missingId = '00000000-0000-4000-8000-000000000000';
      const existing = await get(`/api/escalations/${escalationId}`, await zoe());
      const missing = await get(`/api/escalations/${missingId}`, await zoe());
      // Before the fix: 403 "nurse-zoe-adams has no care relationship with Patient/<the person>" for the one that exists.
      expect(existing.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(JSON.stringify(existing.body).replaceAll(escalationId, 'ID')).toBe(JSON.stringify(missing.body).replaceAll(missingId, 'ID'));
      expect(JSON.stringify(existing.body)).not.toContain(patientId);
      const brokenGlass = await get(`/api/escalations/${escalationId}`, await zoe(), { 'x-tandem-break-glass': 'covering an emergency visit' });
      expect(brokenGlass).toMatchObject({ status: 200, body: { escalationId } });
      // Her own team reads it as before.
      expect((await get(`/api/escalations/${escalationId}`, await sarah())).status).toBe(200);
    });

    it('a command on it (acknowledging) answers an outsider as for a missing escalation too, and stores nothing', async () => {
      // the person's escalation still open (raised above; a second one for the same finding is not raised)
      const open = await get(`/api/escalations?open=true&patientId=${patientId}`, await sarah());
      const escalationId = (open.body.escalations as unknown as { escalationId: string }[])[0]!.escalationId;
      const missingId = '00000000-0000-4000-8000-000000000000';
      const post = async (id: string) => {
        const response = await fetch(`${tandem.url}/api/escalations/${id}/acknowledgement`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await zoe()}`, 'content-type': 'application/json' },
          body: JSON.stringify({ idempotencyKey: `zoe-ack-${id}` }),
        });
        return { status: response.status, body: (await response.json()) as Record<string, Json> };
      };
      const before = (await tandem.storage.store.readStream(`escalation-${escalationId}`)).length;
      const existing = await post(escalationId);
      const missing = await post(missingId);
      // Before: 403 naming the person for the one that exists, 404 for the one that does not.
      expect(existing.status).toBe(404);
      expect(JSON.stringify(existing.body).replaceAll(escalationId, 'ID')).toBe(JSON.stringify(missing.body).replaceAll(missingId, 'ID'));
      expect(JSON.stringify(existing.body)).not.toContain(patientId);
      expect((await tandem.storage.store.readStream(`escalation-${escalationId}`)).length).toBe(before);
    });
  });
});
