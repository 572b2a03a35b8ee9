import { mintToken, type MintClaims } from '@tandem/auth';
import { ManualClock, reactionEscalationId, type DelegationService } from '@tandem/delegation';
import type { createRecordService } from '@tandem/record';
import type { Communication } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData, seedDemoRotas } from '../src/demo/demo-data';

/**
 * Issue 9 items 1 and 3, issue 16 item 2, over HTTP on a real embedded Tandem: a demo person with
 * no delegation is escalated like anyone else, every tier names people (the nursing team, then
 * whoever the rota has on call), each of them sees it in their open list and in the FHIR
 * Communication, and a reader with no relationship to the person reads nothing of it.
 *
 * Given the demo (nobody has a delegation) and its rotas: Sarah on call 08:00-20:00, Dr Shah
 * 20:00-08:00; the clock is 20:30 in England.
 */
describe('deterioration is escalated for everyone, to named people, and leaks to no one', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientIds: string[];
  const clock = new ManualClock('2025-11-20T20:30:00Z');
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const amira = () => token({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId });
  const sarah = () => token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
  const gp = () => token({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration });
  const system = () => token({ role: 'system', user: 'tandem-test' });
  /** Readers with no relationship to the demo's people. */
  const strangers = () =>
    Promise.all([
      token({ role: 'gp', user: 'gp-unrelated', org: 'Y99999', registration: { system: 'https://fhir.hl7.org.uk/Id/gmc-number', value: '7099999' } }),
      token({ role: 'district-nurse', user: 'nurse-zoe-adams', org: 'org-south-district-nursing', registration: { system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '99Z9999Z' } }),
      token({ role: 'registered-manager', user: 'rm-other', org: 'org-other-agency' }),
    ]);

  const call = async (method: string, path: string, bearer: string, body?: unknown, position?: number) => {
    const response = await fetch(`${tandem.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(position === undefined ? {} : { 'x-tandem-min-position': String(position) }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, text, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  };
  const openList = async (bearer: string, position?: number) => (await call('GET', '/api/escalations?open=true', bearer, undefined, position)).body.escalations as { escalationId: string; reachedYou: boolean }[];
  const openFor = async (bearer: string, position?: number) => (await openList(bearer, position)).map((e) => e.escalationId);
  /** The escalations in the open list that were sent to the reader (not only open for someone they care for). */
  const sentTo = async (bearer: string, position?: number) => (await openList(bearer, position)).filter((e) => e.reachedYou).map((e) => e.escalationId);
  const delegation = () => tandem.services.find((s) => s.name === 'delegation') as DelegationService;

  let emergencyId = '';
  let hypoId = '';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-everyone-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }), { clock });
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    ({ patientIds } = await seedDemoData(record.care, { patients: 2, days: 1, now: clock.now() }));
    await seedDemoRotas(delegation().commands);
    await delegation().processor.settle(60_000);

    // Amira, at Mr Jones's bedside (no delegation for him): the worst vital signs, then a low glucose.
    const at = new Date(clock.now().getTime() - 60_000).toISOString();
    const vitals = await call('POST', `/api/patients/${patientIds[0]}/vital-signs`, await amira(), {
      idempotencyKey: 'everyone-vitals',
      occurredAt: at,
      respirationRate: 28,
      spo2: 88,
      airOrOxygen: 'air',
      systolic: 88,
      diastolic: 50,
      pulse: 135,
      consciousness: 'V',
      temperatureC: 39.5,
    });
    expect(vitals.status).toBe(201);
    emergencyId = reactionEscalationId((vitals.body.eventIds as string[])[0]!, 'news2.high');
    const glucose = await call('POST', `/api/patients/${patientIds[0]}/blood-glucose`, await amira(), { idempotencyKey: 'everyone-glucose', occurredAt: at, glucoseMmolL: 3.2 });
    expect(glucose.status).toBe(201);
    hypoId = reactionEscalationId((glucose.body.eventIds as string[])[0]!, 'hypoglycaemia.below-4');
    await delegation().processor.settle(60_000);
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the emergency (NEWS2 17, sepsis red flags) is in the open list of the care worker told to call 999 and of the nurse informed', async () => {
    expect(await sentTo(await amira())).toContain(emergencyId);
    expect(await sentTo(await sarah())).toEqual(expect.arrayContaining([emergencyId, hypoId]));
    const escalation = await call('GET', `/api/escalations/${emergencyId}`, await sarah());
    expect(escalation.body).toMatchObject({ status: 'sentToTier', tier: 2, tierNumber: 3 });
  });

  it('nobody acknowledges the low glucose: 30 minutes on, tier 2 is Dr Shah, on call tonight; he sees it, and the Communication names him with tier 2', async () => {
    // open for his patient from the start; sent to him once it reaches tier 2
    expect(await openFor(await gp())).toEqual(expect.arrayContaining([emergencyId, hypoId]));
    expect(await sentTo(await gp())).not.toContain(hypoId);
    const advanced = await call('POST', '/admin/clock/advance', await system(), { minutes: 30 });
    expect(advanced.status).toBe(200);
    const position = advanced.body.position as number;
    expect(await sentTo(await gp(), position)).toContain(hypoId);

    // the FHIR projection catches up with the re-escalation
    const read = await call('GET', `/fhir/Communication/${hypoId}`, await gp(), undefined, await tandem.storage.store.headPosition());
    expect(read.status).toBe(200);
    const communication = read.body as unknown as Communication;
    expect(communication.recipient?.map((r) => r.reference)).toEqual(expect.arrayContaining([`Practitioner/${DEMO.nurse.practitionerId}`, `Practitioner/${DEMO.gp.practitionerId}`]));
    expect(communication.extension?.find((e) => e.url.endsWith('/escalation-tier'))?.valueInteger).toBe(2);
    expect(communication.note?.map((n) => n.text).join('\n')).toContain('Sent to tier 2');
  });

  it('a rota is data: its registered manager sets it (PUT), a manager of another organisation may not, and a bad time is refused naming the field', async () => {
    const path = `/api/oncall-rotas/${DEMO.nursingTeam.organisationId}`;
    const manager = await token({ role: 'registered-manager', user: 'rm-north', org: DEMO.nursingTeam.organisationId });
    const rota = { idempotencyKey: 'rota-north-1', shifts: [{ practitionerId: DEMO.nurse.practitionerId, days: ['sat', 'sun'], from: '08:00', until: '20:00' }] };
    const bad = await call('PUT', path, manager, { ...rota, shifts: [{ ...rota.shifts[0], from: '25:00' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'shifts.0.from' })]);
    const [, , otherManager] = await strangers();
    expect((await call('PUT', path, otherManager, rota)).status).toBe(403);
    expect((await call('PUT', path, manager, rota)).status).toBe(201);
    const read = await call('GET', path, await sarah());
    expect(read.body).toMatchObject({ organisationId: DEMO.nursingTeam.organisationId, shifts: rota.shifts, setBy: 'rm-north' });
    await seedDemoRotas({ setOnCallRota: (command, actor) => delegation().commands.setOnCallRota({ ...command, idempotencyKey: 'rota-north-back' }, actor) });
  });

  it('readers with no relationship to Mr Jones (another GP, a nurse of another team, a manager of another agency, a launch token for someone else) read nothing of him', async () => {
    const sarahsView = await call('GET', `/api/worklist?careWorkerId=${DEMO.careWorkers[0]!.practitionerId}`, await sarah());
    // the list does carry him for someone in his care: the test can fail
    expect(sarahsView.text).toContain(patientIds[0]!);
    // and the access trail names the people the list answer carried
    await tandem.accessTrail.flush();
    const auditor = await token({ role: 'auditor', user: 'auditor-everyone' });
    const trail = await call('GET', `/fhir/AuditEvent?agent=${DEMO.nurse.practitionerId}&patient=Patient/${patientIds[0]}&_count=100`, auditor, undefined, await tandem.storage.store.headPosition());
    expect(JSON.stringify(trail.body)).toContain('/api/worklist');
    const launchedForSomeoneElse = await token({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId, patient: patientIds[1]! });
    for (const stranger of [...(await strangers()), launchedForSomeoneElse]) {
      for (const path of [`/api/worklist?careWorkerId=${DEMO.careWorkers[0]!.practitionerId}`, '/api/escalations?open=true', '/api/prompts?open=true', '/api/delegations']) {
        const answer = await call('GET', path, stranger);
        if (answer.status === 200) expect(answer.text).not.toContain(patientIds[0]!);
        else expect(answer.status).toBe(403);
      }
    }
  });
});
