import { mintToken, type MintClaims } from '@tandem/auth';
import { expectValidFhir } from '@tandem/fhir-validation';
import type { createProjectionsService } from '@tandem/projections';
import type { createRecordService } from '@tandem/record';
import Client from 'fhir-kit-client';
import type { Bundle, Goal } from 'fhir/r4';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';

/**
 * Issue 15, outcomes (docs/decisions/0037-capacity-and-outcomes.md): a person's own outcome, "I can
 * get to chapel on Sundays", agreed with them by the nurse, its progress recorded by their care
 * worker, then closed as met: through the JSON commands, read back as FHIR Goal with
 * fhir-kit-client; the progress over time is the Goal's history. Hazard H119: an outcome shown
 * as someone else's words, or to someone outside the person's care.
 */
describe("a person's own outcomes as FHIR Goal, agreed with them, and their progress over time", () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientId: string;
  const goalId = randomUUID();
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const sarah = () => token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
  const amira = () => token({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId });
  const tom = () => token({ role: 'care-worker', user: DEMO.careWorkers[1]!.practitionerId, org: DEMO.careAgency.organisationId });
  let n = 0;
  const post = async (path: string, bearer: string, body: Record<string, unknown>) => {
    const response = await fetch(`${tandem.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ idempotencyKey: `goals-test-${++n}`, occurredAt: new Date().toISOString(), ...body }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const runner = () => (tandem.services.find((s) => s.name === 'projections') as ReturnType<typeof createProjectionsService>).runner;
  const caughtUp = async () => expect(await runner().waitFor(await tandem.storage.store.headPosition(), 30_000)).toBe(true);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-goals-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    const { patientIds } = await seedDemoData(record.care, { patients: 2, days: 0, now: new Date() });
    patientId = patientIds[0]!;
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('agreed, progressed and closed: the Goal reads the person\'s words, expressed by them, and its history is the progress', async () => {
    const agreed = await post(`/api/patients/${patientId}/goals`, await sarah(), {
      goalId,
      statement: 'I can get to chapel on Sundays',
      target: { description: 'Walks to the end of the road and back with her frame', dueDate: '2027-02-28' },
      note: 'Agreed with her at home; her daughter was there',
    });
    expect(agreed.status).toBe(201);
    expect((await post(`/api/patients/${patientId}/goals/${goalId}/progress`, await amira(), { achievementStatus: 'improving', note: 'Walked to the post box today, "further than last week"' })).status).toBe(201);
    expect((await post(`/api/patients/${patientId}/goals/${goalId}/close`, await sarah(), { lifecycleStatus: 'completed', achievementStatus: 'achieved', reason: 'She went to chapel on Sunday with her daughter' })).status).toBe(201);
    await caughtUp();

    const kit = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: await amira() });
    const found = (await kit.search({ resourceType: 'Goal', searchParams: { patient: `Patient/${patientId}` } })) as Bundle<Goal>;
    expectValidFhir(found);
    expect(found.entry?.map((e) => e.resource?.id)).toEqual([goalId]);
    const goal = (await kit.read({ resourceType: 'Goal', id: goalId })) as Goal;
    expectValidFhir(goal);
    expect(goal).toMatchObject({
      lifecycleStatus: 'completed',
      achievementStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/goal-achievement', code: 'achieved' }] },
      description: { text: 'I can get to chapel on Sundays' },
      subject: { reference: `Patient/${patientId}` },
      expressedBy: { reference: `Patient/${patientId}` },
      target: [{ measure: { text: 'Walks to the end of the road and back with her frame' }, dueDate: '2027-02-28' }],
      statusReason: 'She went to chapel on Sunday with her daughter',
    });
    expect(goal.note?.map((note) => [note.text, note.authorReference?.reference])).toEqual([
      ['Agreed with her at home; her daughter was there', `Practitioner/${DEMO.nurse.practitionerId}`],
      ['Walked to the post box today, "further than last week"', `Practitioner/${DEMO.careWorkers[0]!.practitionerId}`],
    ]);
    const history = (await kit.history({ resourceType: 'Goal', id: goalId })) as Bundle<Goal>;
    expect(history.entry?.map((e) => [e.resource?.lifecycleStatus, e.resource?.achievementStatus?.coding?.[0]?.code]).reverse()).toEqual([
      ['active', 'in-progress'],
      ['active', 'improving'],
      ['completed', 'achieved'],
    ]);
    const active = (await kit.search({ resourceType: 'Goal', searchParams: { patient: patientId, 'lifecycle-status': 'active' } })) as Bundle<Goal>;
    expect(active.entry ?? []).toEqual([]);
  });

  it('a closed goal takes no more progress, an unknown one is refused naming goalId, and bad input names the field (nothing stored)', async () => {
    const closed = await post(`/api/patients/${patientId}/goals/${goalId}/progress`, await amira(), { achievementStatus: 'sustaining', note: 'Still going' });
    expect(closed.status).toBe(422);
    expect(closed.body.errors).toEqual([{ field: 'goalId', message: expect.stringContaining('was closed') }]);
    const unknown = await post(`/api/patients/${patientId}/goals/${randomUUID()}/progress`, await amira(), { achievementStatus: 'improving', note: 'x' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([{ field: 'goalId', message: expect.stringContaining('no goal') }]);
    const bad = await post(`/api/patients/${patientId}/goals`, await sarah(), { goalId: 'not-a-uuid', statement: '   ' });
    expect(bad.status).toBe(400);
    expect((bad.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['goalId', 'statement']);
  });

  it("access as the rest of the record: a care worker not in the person's care can neither read nor agree their goals (403)", async () => {
    const read = await fetch(`${tandem.url}/fhir/Goal/${goalId}`, { headers: { authorization: `Bearer ${await tom()}` } });
    expect(read.status).toBe(403);
    const agree = await post(`/api/patients/${patientId}/goals`, await tom(), { goalId: randomUUID(), statement: 'I can cook my own tea' });
    expect(agree.status).toBe(403);
  });
});
