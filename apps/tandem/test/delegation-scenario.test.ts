import { mintToken, type MintClaims } from '@tandem/auth';
import { ManualClock, type DelegationService } from '@tandem/delegation';
import type { createRecordService } from '@tandem/record';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData, seedDemoRotas } from '../src/demo/demo-data';
import { runInsulinScenario, type ScenarioResult } from '../src/demo/insulin-scenario';
import { expectValidFhir } from '@tandem/fhir-validation';
import { recordChangesSince } from './record-changes';

/**
 * The insulin story through HTTP on startTandem, with a fake clock: the same steps
 * `npm run scenario` runs against `npm start` (src/demo/insulin-scenario.ts). Then what a care
 * worker and a nurse may not do: refusals name the field and store nothing.
 */
describe('delegating Mr Jones’s evening insulin, end to end over HTTP', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let result: ScenarioResult;
  const lines: string[] = [];
  const clock = new ManualClock('2025-11-20T17:45:00Z');
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const nurse = () => token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
  const amira = () => token({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId });
  const tom = () => token({ role: 'care-worker', user: DEMO.careWorkers[1]!.practitionerId, org: DEMO.careAgency.organisationId });

  const call = async (method: string, path: string, bearer: string, body?: unknown) => {
    const response = await fetch(`${tandem.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-delegation-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }), { clock });
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    await seedDemoData(record.care, { patients: 3, days: 2, now: clock.now() });
    await seedDemoRotas((tandem.services.find((s) => s.name === 'delegation') as DelegationService).commands);
    // The nurse finds Mr Jones through her caseload: wait until the read models hold the demo.
    const head = await tandem.storage.store.headPosition();
    await fetch(`${tandem.url}/fhir/Patient?name=jones`, { headers: { authorization: `Bearer ${await nurse()}`, 'x-tandem-min-position': String(head) } });
    result = await runInsulinScenario({ url: tandem.url, token, say: (line) => lines.push(line), runId: 'test' });
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('tells the story step by step', () => {
    const story = lines.join('\n');
    expect(story).toContain('supervised dose 3 of 3 observed by Sarah (NMC 12A3456E): satisfactory -> ready for assessment');
    expect(story).toContain("Sarah signs Amira off, with Amira's consent: signedOff, valid until 2026-11-20T17:45:00.000Z");
    expect(story).toContain('Amira accepts the delegation');
    expect(story).toContain("Sarah activates it with Amira's current competence: active");
    expect(story).toContain("Amira records Mr Jones's blood glucose before his dose: 3.4 mmol/L");
    expect(story).toContain('Sarah is alerted: urgent escalation to the accountable district nurse');
    expect(story).toContain('30 minutes on, it goes to tier 2: on call nurse or gp');
  });

  it('Amira’s worklist shows the evening insulin, with the blood glucose to record first', () => {
    expect(result.worklist.items).toHaveLength(1);
    const [item] = result.worklist.items;
    expect(item!.dueAt).toBe('2025-11-20T18:00:00.000Z');
    expect(item!.instructionText).toContain('10 units of Humulin I KwikPen by pen at 18:00');
    expect(item!.record.map((r) => r.path)).toEqual([`/api/patients/${result.patientId}/blood-glucose`, `/api/patients/${result.patientId}/insulin-administrations`]);
  });

  it('the escalation was re-escalated once, by the scheduler, 30 minutes after nobody acknowledged it', () => {
    expect(result.escalation.tier).toBe(1);
    expect(result.escalation.events.map((e) => e.type)).toEqual(['EscalationRaised', 'EscalationSentToTier', 'EscalationReEscalated', 'EscalationSentToTier']);
    expect(result.escalation.events[3]!.data).toMatchObject({ recipient: 'on-call-nurse-or-gp', dueAt: '2025-11-20T18:45:00.000Z' });
  });

  it('the Task, Communication and Flag read as valid FHIR R4', () => {
    for (const resource of [result.task, result.communication, result.flag]) expectValidFhir(resource);
    expect(result.task).toMatchObject({
      status: 'in-progress',
      for: { reference: `Patient/${result.patientId}` },
      requester: { reference: `Practitioner/${DEMO.nurse.practitionerId}` },
      owner: { reference: `Practitioner/${DEMO.careWorkers[0]!.practitionerId}` },
    });
    expect(result.task.basedOn![0]!.reference).toMatch(/^CarePlan\//);
    expect(result.communication).toMatchObject({ status: 'in-progress', priority: 'urgent', about: [{ reference: `Task/${result.delegationId}` }] });
    expect(result.communication.payload!.map((p) => p.contentString!.split(':')[0])).toEqual(['Situation', 'Background', 'Assessment', 'Recommendation', 'Decision']);
    // each tier by name: Sarah delegated the insulin and is on call on her team's rota this evening
    expect(result.communication.recipient!.map((r) => [r.reference, r.display])).toEqual([
      [`Practitioner/${DEMO.nurse.practitionerId}`, 'Accountable district nurse: delegating nurse'],
      [`Practitioner/${DEMO.nurse.practitionerId}`, `On call nurse or gp: on call (${DEMO.nursingTeam.organisationId} rota)`],
    ]);
    expect(result.flag).toMatchObject({ status: 'active', subject: { reference: `Patient/${result.patientId}` } });
  });

  it('the OpenAPI document describes the delegation commands with the care record’s', async () => {
    const doc = (await (await fetch(`${tandem.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId: string }>> };
    const operations = Object.values(doc.paths).flatMap((p) => Object.values(p).map((o) => o.operationId));
    expect(operations).toEqual(expect.arrayContaining(['RecordBloodGlucose', 'ProposeDelegation', 'AcceptDelegation', 'SignOffCompetence', 'AcknowledgeEscalation', 'AcknowledgeCarePrompt', 'ReadWorklist', 'FollowLiveEvents']));
    expect(Object.keys(doc.paths['/api/events/stream']?.get ?? {})).toEqual(expect.arrayContaining(['summary', 'responses']));
  });

  it('a refusal is problem+json naming the field and the reason, and stores nothing', async () => {
    const before = await tandem.storage.store.headPosition();
    // Tom does not care for Mr Jones: the policy refuses before anything is decided, and to him the
    // delegation answers as one that does not exist (issue 16.7: no person named to an outsider)
    expect((await call('POST', `/api/delegations/${result.delegationId}/acceptance`, await tom(), { idempotencyKey: 'tom-accepts' })).status).toBe(404);
    // the delegation is active: accepting it again is not allowed in its state
    const again = await call('POST', `/api/delegations/${result.delegationId}/acceptance`, await amira(), { idempotencyKey: 'amira-accepts-again' });
    expect(again.status).toBe(409);
    expect(again.type).toContain('application/problem+json');
    expect(again.body).toMatchObject({ code: 'delegation.not-allowed-in-state', errors: [{ field: 'delegationId', message: expect.stringContaining('the delegation is active') }] });
    // Amira's competence is signed off already: no second sign-off without consent
    const noConsent = await call('POST', `/api/competences/${DEMO.careWorkers[0]!.practitionerId}/insulin-administration/sign-off`, await nurse(), { idempotencyKey: 'no-consent', careWorkerConsent: false });
    expect(noConsent.status).toBe(422);
    expect(noConsent.body).toMatchObject({ code: 'competence.consent-required', errors: [{ field: 'careWorkerConsent' }] });
    // a care worker may not delegate
    const proposal = await call('POST', '/api/delegations', await amira(), { idempotencyKey: 'cw-proposes', patientId: result.patientId, frameworkId: 'insulin-administration' });
    expect(proposal.status).toBe(400);
    expect(await recordChangesSince(tandem.storage.store, before)).toEqual([]);
  });

  it('a care worker may not sign anyone off (403 from the policy)', async () => {
    const response = await call('POST', `/api/competences/${DEMO.careWorkers[1]!.practitionerId}/insulin-administration/sign-off`, await amira(), { idempotencyKey: 'cw-signs-off', careWorkerConsent: true });
    expect(response.status).toBe(403);
  });

  it('the delegation service reports its subscription in /health', async () => {
    const health = (await (await fetch(`${tandem.url}/health`)).json()) as { services: { service: string; status: string }[] };
    expect(health.services.find((s) => s.service === 'delegation')).toMatchObject({ status: 'ok' });
    expect((tandem.services.find((s) => s.name === 'delegation') as DelegationService).processor.position).toBeGreaterThan(0);
  });
});
