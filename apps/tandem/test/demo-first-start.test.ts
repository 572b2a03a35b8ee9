import { englandDate, englandInstant } from '@tandem/contracts';
import { mintToken, type MintClaims } from '@tandem/auth';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO } from '../src/demo/demo-data';
import { demoInsulinDelegationId, httpDesk, setUpInsulinDelegation } from '../src/demo/insulin-delegation';
import { runInsulinScenario } from '../src/demo/insulin-scenario';

/**
 * The demo loaded at first start (a new data directory, `npm start`'s defaults, the real clock):
 * besides the record, the nurse's side of Mr Jones's insulin is there, done through the delegation
 * service's commands, so Amira has his evening insulin to give (issue 10's "Done when").
 */
describe('the demo loaded at first start', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const nurse = () => token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
  const amira = () => token({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId });
  const get = async <T>(path: string, bearer: string): Promise<T> => {
    const response = await fetch(`${tandem.url}${path}`, { headers: { authorization: `Bearer ${bearer}`, 'x-tandem-min-position': String(await tandem.storage.store.headPosition()) } });
    expect({ path, status: response.status }).toEqual({ path, status: 200 });
    return (await response.json()) as T;
  };
  /**
   * What the demo's people wrote (Sarah's, Helen's, Amira's entries and steps), as "type by actor".
   * What the clock brings may come at any time: a deadline passing meanwhile (the evening visit's end
   * at 18:30, an escalation's next tier) is noticed by Tandem itself, as the system; the access trail
   * and its digests record every request.
   */
  const byPeople = (events: readonly { type: string; metadata: { actor: { id: string; role: string } } }[]) =>
    events.filter((e) => !['AccessRecorded', 'GlobalDigestSealed'].includes(e.type) && e.metadata.actor.role !== 'system').map((e) => `${e.type} by ${e.metadata.actor.id}`);
  const jonesId = async () => {
    const found = await get<{ entry?: { resource: { id: string; name: { family: string; given: string[] }[] } }[] }>('/fhir/Patient?name=jones', await nurse());
    return found.entry!.map((e) => e.resource).find((p) => p.name.some((n) => n.family === 'Jones' && n.given.includes('Arthur')))!.id;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-first-start-'));
    // As `npm start`: the embedded default, demo data on (the default), no test clock.
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir }), pino({ level: 'silent' }));
    // The read models catch up with the whole demo once, here: on a loaded machine that alone can
    // take longer than one test's time, and every test below reads at the store's head anyway.
    await get('/fhir/Patient?_count=1', await nurse());
  }, 180_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('has Amira trained, supervised and signed off for insulin by Sarah (NMC 12A3456E), with her consent, within the last week', async () => {
    const { competences } = await get<{ competences: { frameworkId: string; status: string; validUntil?: string }[] }>(`/api/competences/${DEMO.careWorkers[0]!.practitionerId}`, await nurse());
    const insulin = competences.find((c) => c.frameworkId === 'insulin-administration');
    expect(insulin?.status).toBe('signedOff');
    expect(Date.parse(insulin!.validUntil!)).toBeGreaterThan(Date.now() + 300 * 86_400_000);
    const stream = await tandem.storage.store.readStream(`competency-${DEMO.careWorkers[0]!.practitionerId}-insulin-administration`);
    const types = stream.map((e) => e.type);
    expect(types.filter((t) => t === 'SupervisedPracticeRecorded')).toHaveLength(3);
    expect(types).toEqual(expect.arrayContaining(['TrainingStarted', 'TrainingCompleted', 'ReadyForAssessment', 'CompetenceSignedOff']));
    // Every step is Sarah's, dated as it happened over the last days (never a late entry), in order.
    expect(new Set(stream.map((e) => e.metadata.actor.id))).toEqual(new Set([DEMO.nurse.practitionerId]));
    const times = stream.map((e) => Date.parse(e.metadata.occurredAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.min(...times)).toBeGreaterThan(Date.now() - 7 * 86_400_000);
    const signOff = stream.find((e) => e.type === 'CompetenceSignedOff')!.data as { careWorkerConsent?: boolean; signedOffBy?: { registration?: { value: string } } };
    expect(JSON.stringify(signOff)).toContain('12A3456E');
  });

  it('has Mr Jones’s evening insulin delegated to Amira and active, with his agreement: a coded product, 10 units, at 18:00', async () => {
    const patientId = await jonesId();
    const delegationId = demoInsulinDelegationId(patientId);
    const delegation = await get<{ status: string; events: { type: string; data: Record<string, unknown> }[] }>(`/api/delegations/${delegationId}`, await nurse());
    expect(delegation.status).toBe('active');
    expect(delegation.events.map((e) => e.type)).toEqual(['DelegationProposed', 'PersonAgreementRecorded', 'DelegationAccepted', 'DelegationActivated']);
    expect(delegation.events[0]!.data).toMatchObject({
      patientId,
      careWorker: { practitionerId: DEMO.careWorkers[0]!.practitionerId },
      instruction: { kind: 'insulin', product: 'Humulin I KwikPen', dose: { value: 10, unit: 'units' }, times: ['18:00'] },
    });
    expect(delegation.events[1]!.data).toMatchObject({ agreedBy: 'person' });
  });

  it('puts it on Amira’s worklist today, due at 18:00 England time: due until an hour after, then overdue', async () => {
    const patientId = await jonesId();
    const worklist = await get<{ items: { patientId: string; dueAt: string; status: string; instructionText: string }[] }>('/api/worklist', await amira());
    const dueAt = englandInstant(englandDate(new Date()), '18:00');
    expect(worklist.items).toEqual([expect.objectContaining({ patientId, dueAt, instructionText: expect.stringContaining('10 units of Humulin I KwikPen by pen at 18:00') })]);
    // The demo's history leaves out any dose near today's 18:00, so nothing is "done" before Amira gives it.
    expect(worklist.items[0]!.status).toBe(Date.now() > Date.parse(dueAt) + 60 * 60_000 ? 'overdue' : 'due');
  });

  it("names Helen as the care agency's registered manager, so a late or missed visit reaches her first, set by Helen herself", async () => {
    const helen = await token({ role: 'registered-manager', user: DEMO.manager.practitionerId, org: DEMO.careAgency.organisationId });
    const rota = await get<{ registeredManager?: string; setBy: string }>(`/api/oncall-rotas/${DEMO.careAgency.organisationId}`, helen);
    expect(rota).toEqual(expect.objectContaining({ registeredManager: DEMO.manager.practitionerId, setBy: DEMO.manager.practitionerId }));
  });

  it('finds what first start did when the set-up is sent again over HTTP (as `npm run scenario` does): nothing is made twice', async () => {
    const lines: string[] = [];
    const patientId = await jonesId();
    const head = await tandem.storage.store.headPosition();
    const again = await setUpInsulinDelegation(httpDesk({ url: tandem.url, nurse: await nurse(), careWorker: await amira() }), { patientId, now: new Date(), say: (l) => lines.push(l) });
    expect(again).toMatchObject({ delegationId: demoInsulinDelegationId(patientId), status: 'active' });
    expect(lines.join('\n')).toMatch(/Amira is already signed off[\s\S]*already delegated to Amira/);
    // Nothing but the access trail's records of those requests (and what the clock brings meanwhile).
    expect(byPeople(await tandem.storage.store.readAll({ fromPosition: head + 1 }))).toEqual([]);
  });

  it('loads nothing again on a second start of the same data directory', async () => {
    const head = await tandem.storage.store.headPosition();
    await tandem.stop();
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir }), pino({ level: 'silent' }));
    expect(byPeople(await tandem.storage.store.readAll({ fromPosition: head + 1 }))).toEqual([]);
  }, 60_000);

  it("lists Amira's hypo prompt as open until she has acknowledged it and the recheck is recorded, then as closed (open=true, open=false); a day that does not exist is refused naming date", async () => {
    const patientId = await jonesId();
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${tandem.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${await amira()}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as { followUps?: { promptIds: string[] }; position?: number } };
    };
    const low = await post(`/api/patients/${patientId}/blood-glucose`, { idempotencyKey: 'first-start-hypo', occurredAt: new Date().toISOString(), glucoseMmolL: 3.1 });
    expect(low.status).toBe(201);
    const [promptId] = low.body.followUps!.promptIds;
    expect(promptId).toBeDefined();
    const listed = async (open: boolean) => (await get<{ prompts: { promptId: string }[] }>(`/api/prompts?open=${open}`, await amira())).prompts.map((p) => p.promptId);
    expect({ open: await listed(true), closed: await listed(false) }).toEqual({ open: expect.arrayContaining([promptId]), closed: expect.not.arrayContaining([promptId]) });
    const ack = await post(`/api/prompts/${promptId}/acknowledgement`, { idempotencyKey: 'first-start-hypo-ack', occurredAt: new Date().toISOString() });
    expect(ack.status).toBe(201);
    // Acknowledged, but the hypo protocol's recheck is still due: still open.
    expect({ open: await listed(true), closed: await listed(false) }).toEqual({ open: expect.arrayContaining([promptId]), closed: expect.not.arrayContaining([promptId]) });
    const recheck = await post(`/api/patients/${patientId}/blood-glucose`, { idempotencyKey: 'first-start-hypo-recheck', occurredAt: new Date().toISOString(), glucoseMmolL: 5.6 });
    expect(recheck.status).toBe(201);
    expect({ open: await listed(true), closed: await listed(false) }).toEqual({ open: expect.not.arrayContaining([promptId]), closed: expect.arrayContaining([promptId]) });

    for (const date of ['2026-13-45', '2026-02-30']) {
      const response = await fetch(`${tandem.url}/api/worklist?date=${date}`, { headers: { authorization: `Bearer ${await amira()}` } });
      expect({ date, status: response.status, body: await response.json() }).toMatchObject({ date, status: 400, body: { errors: [expect.objectContaining({ field: 'date' })] } });
    }
  });
});

describe('`TANDEM_TEST_CLOCK=true npm start` then `npm run scenario`, on a new data directory', () => {
  it('runs the whole insulin story on the delegation loaded at first start (the hypo, the re-escalation, the FHIR)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tandem-first-start-clock-'));
    const tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_TEST_CLOCK: 'true' }), pino({ level: 'silent' }));
    try {
      const lines: string[] = [];
      const result = await runInsulinScenario({ url: tandem.url, token: (claims) => mintToken(claims, { dataDir }), say: (l) => lines.push(l), runId: 'first-start' });
      expect(result.delegationId).toBe(demoInsulinDelegationId(result.patientId));
      expect(lines.join('\n')).toContain('already delegated to Amira');
      expect(result.escalation.events.map((e) => e.type)).toEqual(['EscalationRaised', 'EscalationSentToTier', 'EscalationReEscalated', 'EscalationSentToTier']);
      expect(result.task).toMatchObject({ status: 'in-progress', owner: { reference: `Practitioner/${DEMO.careWorkers[0]!.practitionerId}` } });
    } finally {
      await tandem.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
