import { mintToken, type MintClaims } from '@tandem/auth';
import type { createRecordService } from '@tandem/record';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { httpDesk, setUpInsulinDelegation } from '../src/demo/insulin-delegation';

/**
 * GET /api/competences/{careWorkerId}/{frameworkId}: one competence with every step and who took
 * it, what the skills passport shows as its history (issue 11). Over HTTP on a real embedded Tandem.
 */
describe("a care worker's competence with its history, over HTTP", () => {
  let dataDir: string;
  let tandem: RunningTandem;
  const AMIRA = DEMO.careWorkers[0]!.practitionerId;
  const TOM = DEMO.careWorkers[1]!.practitionerId;
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const sarah = () => token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
  const careWorker = (id: string) => token({ role: 'care-worker', user: id, org: DEMO.careAgency.organisationId });
  const manager = () => token({ role: 'registered-manager', user: DEMO.manager.practitionerId, org: DEMO.careAgency.organisationId });
  const get = async (path: string, bearer: string) => {
    const response = await fetch(`${tandem.url}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-competence-history-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    const { patientIds } = await seedDemoData(record.care, { patients: 1, days: 1, now: new Date() });
    await setUpInsulinDelegation(httpDesk({ url: tandem.url, nurse: await sarah(), careWorker: await careWorker(AMIRA) }), { patientId: patientIds[0]!, now: new Date() });
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('tells the nurse, the care worker herself and her manager every step, who took it and their registration', async () => {
    for (const bearer of [await sarah(), await careWorker(AMIRA), await manager()]) {
      const { status, body } = await get(`/api/competences/${AMIRA}/insulin-administration`, bearer);
      expect(status).toBe(200);
      expect(body.status).toBe('signedOff');
      expect(typeof body.validUntil).toBe('string');
      expect(body.modulesCompleted).toHaveLength(5);
      const events = body.events as { type: string; actor: { id: string }; data: { assessor?: { registration?: { value: string } } } }[];
      expect(events.map((e) => e.type)).toEqual([
        'TrainingStarted',
        ...Array(5).fill('TrainingModuleCompleted'),
        'TrainingCompleted',
        ...events.filter((e) => e.type === 'SupervisedPracticeRecorded').map(() => 'SupervisedPracticeRecorded'),
        'ReadyForAssessment',
        'CompetenceSignedOff',
      ]);
      const signedOff = events.find((e) => e.type === 'CompetenceSignedOff')!;
      expect(signedOff.actor.id).toBe(DEMO.nurse.practitionerId);
      expect(signedOff.data.assessor?.registration?.value).toBe(DEMO.nurse.registration.value);
    }
  });

  it("refuses another care worker (403), and says 404 naming the framework when there is no such record; nothing leaks on a hostile id", async () => {
    const other = await get(`/api/competences/${AMIRA}/insulin-administration`, await careWorker(TOM));
    expect(other.status).toBe(403);
    const none = await get(`/api/competences/${TOM}/insulin-administration`, await sarah());
    expect(none.status).toBe(404);
    expect(none.body.errors).toEqual([{ field: 'frameworkId', message: `${TOM} has no competence record for insulin-administration` }]);
    const unknown = await get(`/api/competences/${AMIRA}/no-such-framework`, await sarah());
    expect(unknown.status).toBe(404);
    // A NUL byte is refused before any route (400); whatever refuses it, never a 500 and never a record.
    const hostile = await get(`/api/competences/${AMIRA}/%00'%3B--`, await sarah());
    expect([400, 404]).toContain(hostile.status);
    expect(hostile.body.events).toBeUndefined();
    const badId = await get(`/api/competences/%00x/insulin-administration`, await sarah());
    expect(badId.status).toBe(400);
    expect(badId.body.events).toBeUndefined();
  });
});
