import { mintToken, type MintClaims } from '@tandem/auth';
import { ManualClock } from '@tandem/delegation';
import type { createRecordService } from '@tandem/record';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { runInsulinScenario, type ScenarioResult } from '../src/demo/insulin-scenario';

/**
 * Issue 16 item 3 and issue 9 item 7, as the black-box test found them, on a real embedded Tandem
 * over HTTP: a nurse of another team (Zoe, south team) tried to suspend Amira's insulin competence,
 * which Sarah's north team trained and signed off; a reinstatement left the delegation suspended;
 * identity facts and a typed age were trusted. Each answer is what a user would see.
 */
describe('who may stop a care worker’s delegated care, over HTTP', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let scenario: ScenarioResult;
  const clock = new ManualClock('2025-11-20T17:45:00Z');
  const NMC = 'https://fhir.hl7.org.uk/Id/nmc-number' as const;
  const AMIRA = DEMO.careWorkers[0]!.practitionerId;
  const FRAMEWORK = 'insulin-administration';
  const competencePath = `/api/competences/${AMIRA}/${FRAMEWORK}`;
  const MANAGER = { practitionerId: 'manager-priya-nair', name: { given: ['Priya'], family: 'Nair' }, role: 'registered-manager' as const };
  const ZOE = { practitionerId: 'nurse-zoe-adams', name: { given: ['Zoe'], family: 'Adams' }, role: 'district-nurse' as const, registration: { system: NMC, value: '15C7788E' } };
  const SOUTH = { organisationId: 'org-south-district-nursing', name: 'South Leeds District Nursing Team', type: 'district-nursing-team' as const };

  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const sarah = () => token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
  const zoe = () => token({ role: 'district-nurse', user: ZOE.practitionerId, org: SOUTH.organisationId, registration: ZOE.registration });
  const amira = () => token({ role: 'care-worker', user: AMIRA, org: DEMO.careAgency.organisationId });

  const call = async (method: string, path: string, bearer: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${tandem.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, type: response.headers.get('content-type'), position: response.headers.get('x-tandem-position'), body: (await response.json()) as Record<string, unknown> };
  };
  const competenceStatus = async () =>
    ((await call('GET', `/api/competences/${AMIRA}`, await sarah())).body.competences as { frameworkId: string; status: string }[]).find((c) => c.frameworkId === FRAMEWORK)?.status;
  const delegationStatus = async () => (await call('GET', `/api/delegations/${scenario.delegationId}`, await sarah())).body.status;
  const worklistInsulin = async (position?: string | null) => {
    const list = await call('GET', '/api/worklist', await amira(), undefined, position ? { 'x-tandem-min-position': position } : {});
    return (list.body.items as { delegationId: string }[]).filter((i) => i.delegationId === scenario.delegationId);
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-delegation-authority-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }), { clock });
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    await seedDemoData(record.care, { patients: 3, days: 2, now: clock.now() });
    // Zoe is a registered district nurse, of the south team: a real practitioner, just not of Amira's assessing team.
    const admin = { id: 'setup', role: 'system' as const };
    await record.care.registerOrganisation({ idempotencyKey: 'south-team', occurredAt: clock.now().toISOString(), ...SOUTH }, admin);
    await record.care.registerPractitioner({ idempotencyKey: 'zoe', occurredAt: clock.now().toISOString(), ...ZOE, organisationId: SOUTH.organisationId }, admin);
    await record.care.registerPractitioner({ idempotencyKey: 'manager', occurredAt: clock.now().toISOString(), ...MANAGER, organisationId: DEMO.careAgency.organisationId }, admin);
    const head = await tandem.storage.store.headPosition();
    await fetch(`${tandem.url}/fhir/Patient?name=jones`, { headers: { authorization: `Bearer ${await sarah()}`, 'x-tandem-min-position': String(head) } });
    // Sarah trains and signs off Amira, and delegates Mr Jones's evening insulin to her (the demo story).
    scenario = await runInsulinScenario({ url: tandem.url, token, say: () => undefined, runId: 'authority' });
  }, 180_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('Zoe (south team) suspending Amira’s competence: 403 problem+json, nothing stored, Mr Jones’s insulin stays on Amira’s worklist', async () => {
    // (the access trail records the refusal itself; the competence and the delegation record nothing)
    const competency = async () => (await tandem.storage.store.readStream(`competency-${AMIRA}-${FRAMEWORK}`)).length;
    const delegation = async () => (await tandem.storage.store.readStream(`delegation-${scenario.delegationId}`)).length;
    const before = { competency: await competency(), delegation: await delegation() };
    const refused = await call('POST', `${competencePath}/suspension`, await zoe(), { idempotencyKey: 'zoe-suspends', reason: 'Concern raised by another team' });
    expect(refused.status).toBe(403);
    expect(refused.type).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ title: 'Forbidden', code: 'competence.not-authorised', errors: [{ field: 'actor', message: expect.stringContaining(DEMO.nursingTeam.organisationId) }] });
    expect({ competency: await competency(), delegation: await delegation() }).toEqual(before);
    expect(await competenceStatus()).toBe('signedOff');
    expect(await delegationStatus()).toBe('active');
    expect(await worklistInsulin()).toHaveLength(1);
    // revoking and reinstating are the assessing team's too
    expect((await call('POST', `${competencePath}/revocation`, await zoe(), { idempotencyKey: 'zoe-revokes', reason: 'x' })).status).toBe(403);
  });

  it('Sarah suspends: the delegation is suspended and leaves the worklist; she reinstates: it is active again and back on the worklist, and the answer says so', async () => {
    const suspended = await call('POST', `${competencePath}/suspension`, await sarah(), { idempotencyKey: 'sarah-suspends', reason: 'Drug error under investigation' });
    expect(suspended.status).toBe(201);
    expect(await worklistInsulin(suspended.position)).toEqual([]);
    expect(await delegationStatus()).toBe('suspended');

    const reinstated = await call('POST', `${competencePath}/reinstatement`, await sarah(), { idempotencyKey: 'sarah-reinstates', reason: 'Investigation found no fault' });
    expect(reinstated.status).toBe(201);
    expect(reinstated.body.delegations).toEqual({ restored: [{ delegationId: scenario.delegationId, patientId: scenario.patientId }], needReactivating: [] });
    expect(await worklistInsulin(reinstated.position)).toHaveLength(1);
    expect(await delegationStatus()).toBe('active');
  });

  it('the registered manager of Amira’s employer suspends her competence for safeguarding over HTTP (201, recorded as such) but may not reinstate it', async () => {
    const manager = await token({ role: 'registered-manager', user: MANAGER.practitionerId, org: DEMO.careAgency.organisationId });
    const suspended = await call('POST', `${competencePath}/suspension`, manager, { idempotencyKey: 'manager-suspends', reason: 'Safeguarding concern reported by a family member' });
    expect(suspended.status).toBe(201);
    const stored = (await tandem.storage.store.readStream(`competency-${AMIRA}-${FRAMEWORK}`)).at(-1)!;
    expect(stored).toMatchObject({ type: 'CompetenceSuspended', data: { authority: 'safeguarding' } });
    expect(await worklistInsulin(suspended.position)).toEqual([]);
    const reinstating = await call('POST', `${competencePath}/reinstatement`, manager, { idempotencyKey: 'manager-reinstates', reason: 'x' });
    expect(reinstating.status).toBe(403);
    const back = await call('POST', `${competencePath}/reinstatement`, await sarah(), { idempotencyKey: 'sarah-reinstates-after-safeguarding', reason: 'Concern investigated: no fault' });
    expect(back.status).toBe(201);
    expect(await worklistInsulin(back.position)).toHaveLength(1);
  });

  it('training cannot be started for a care worker Tandem does not hold: 422 naming careWorker.practitionerId, nothing stored', async () => {
    const refused = await call('POST', '/api/competences', await sarah(), { idempotencyKey: 'nobody-training', careWorker: { practitionerId: 'cw-does-not-exist', role: 'care-worker' }, frameworkId: FRAMEWORK });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ errors: [{ field: 'careWorker.practitionerId', message: expect.stringContaining('not a practitioner registered in Tandem') }] });
    expect(await tandem.storage.store.readStream(`competency-cw-does-not-exist-${FRAMEWORK}`)).toEqual([]);
  });

  it('a token carrying a registration that is not Sarah’s own cannot act as her: refused naming the field', async () => {
    const forged = await token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: { system: NMC, value: '12A3456B' } });
    const refused = await call('POST', `${competencePath}/suspension`, forged, { idempotencyKey: 'forged-suspends', reason: 'x' });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ errors: [{ field: 'by.registration', message: expect.stringContaining('NMC 12A3456B') }] });
  });

  it('a typed ageYears is not accepted: the age is taken from the birth date in Mr Jones’s record', async () => {
    const refused = await call('POST', '/api/delegations', await sarah(), {
      idempotencyKey: 'typed-age',
      patientId: scenario.patientId,
      frameworkId: FRAMEWORK,
      activityId: 'insulin-administration',
      careWorker: { practitionerId: DEMO.careWorkers[1]!.practitionerId, role: 'care-worker' },
      instruction: { kind: 'general', plan: 'x' },
      eligibility: { ageYears: 40, diabetesStable: true, insulinDevice: 'pen' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ errors: [{ field: 'eligibility.ageYears', message: expect.stringContaining('is not accepted') }] });
  });
});
