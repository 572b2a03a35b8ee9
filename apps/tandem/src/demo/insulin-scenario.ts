import type { MintClaims } from '@tandem/auth';
import type { Bundle, Communication, Flag, Patient, Task } from 'fhir/r4';
import { DEMO } from './demo-data';
import { httpDesk, setUpInsulinDelegation } from './insulin-delegation';

/**
 * The insulin story, end to end through the HTTP API, as a nurse and a care worker would live it:
 *
 *  1. Sarah (district nurse) trains Amira (care worker) on insulin: every module, three supervised
 *     doses observed, signed off with Amira's consent.
 *  2. Sarah delegates Mr Jones's evening insulin to Amira with a person-specific instruction in
 *     units; Mr Jones agrees; Amira accepts; Sarah activates it. It is on Amira's worklist.
 *  3. Amira records a blood glucose of 3.4 mmol/L: the hypo protocol prompt starts for her (treat,
 *     no insulin now, recheck in 15 minutes) and an urgent escalation goes to Sarah.
 *  4. Amira treats, rechecks (4.6 mmol/L) and acknowledges the prompt; nobody acknowledges the
 *     escalation: 30 minutes on, it goes to the next tier (on-call nurse or GP).
 *  5. The Task, Communication and Flag, read as FHIR R4.
 *
 * The clock is the server's test clock (POST /admin/clock/advance with a system token), so the 30
 * minutes pass at once. Used by scripts/scenario-insulin.ts (against `npm start`) and by
 * test/delegation-scenario.test.ts (against startTandem with a fake clock).
 */

export interface ScenarioIo {
  readonly url: string;
  /** A bearer token for these claims (the embedded mode's development issuer). */
  readonly token: (claims: MintClaims) => Promise<string>;
  /** Prints one step. */
  readonly say: (line: string) => void;
  /** Distinguishes this run's care entries from an earlier run's (training and delegation are kept). */
  readonly runId: string;
}

export interface ScenarioResult {
  readonly patientId: string;
  readonly delegationId: string;
  readonly escalationId: string;
  readonly promptId: string;
  readonly worklist: { items: { activity: string; dueAt: string; instructionText: string; record: { title: string; path: string }[] }[] };
  readonly escalation: { tier: number; status: string; events: { type: string; data: Record<string, unknown> }[] };
  readonly task: Task;
  readonly communication: Communication;
  readonly flag: Flag;
}

export class ScenarioError extends Error {}

const AMIRA = DEMO.careWorkers[0]!;

interface Reply<T> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export const runInsulinScenario = async (io: ScenarioIo): Promise<ScenarioResult> => {
  const nurse = await io.token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
  const amira = await io.token({ role: 'care-worker', user: AMIRA.practitionerId, org: DEMO.careAgency.organisationId });
  const clockToken = await io.token({ role: 'system', user: 'scenario-clock' });

  const call = async <T = Record<string, unknown>>(token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> => {
    const response = await fetch(`${io.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as T) : (undefined as T);
    return { status: response.status, body: parsed, headers: response.headers };
  };
  /** A call that must succeed (2xx); otherwise the problem's detail is the error. */
  const ok = async <T = Record<string, unknown>>(token: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> => {
    const reply = await call<T>(token, method, path, body, headers);
    if (reply.status >= 300) {
      const problem = reply.body as { detail?: string; issue?: { diagnostics?: string }[] } | undefined;
      throw new ScenarioError(`${method} ${path} answered ${reply.status}: ${problem?.detail ?? problem?.issue?.[0]?.diagnostics ?? JSON.stringify(reply.body)}`);
    }
    return reply.body;
  };
  const once = (step: string) => `scenario-insulin:${io.runId}:${step}`;

  // The test clock: the server's time, moved on by the script.
  const clock = await call<{ now: string }>(clockToken, 'GET', '/admin/clock');
  if (clock.status === 404) {
    throw new ScenarioError('The server has no test clock: start it with TANDEM_TEST_CLOCK=true npm start (embedded mode only), then run this again');
  }
  if (clock.status !== 200) throw new ScenarioError(`GET /admin/clock answered ${clock.status}`);
  let now = new Date(clock.body.now);
  const advance = async (minutes: number) => {
    const moved = await ok<{ now: string; fired: { stream: string; outcome: string }[]; position: number }>(clockToken, 'POST', '/admin/clock/advance', { minutes });
    now = new Date(moved.now);
    return moved;
  };
  const hhmm = (d: Date) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit' }).format(d);

  // -------------------------------------------------------------------------------------------
  io.say(`Tandem at ${io.url}; the server's test clock reads ${now.toISOString()}`);
  const found = await ok<Bundle>(nurse, 'GET', '/fhir/Patient?name=jones');
  const jones = found.entry?.map((e) => e.resource as Patient).find((p) => p.name?.some((n) => n.family === 'Jones' && n.given?.includes('Arthur')));
  if (!jones?.id) throw new ScenarioError('Mr Arthur Jones is not in the record: start on a new data directory with the demo data (TANDEM_DEMO_DATA=true)');
  const patientId = jones.id;
  io.say(`Mr Arthur Jones (Patient/${patientId}), on insulin; Sarah Okafor is his accountable district nurse, Amira Hassan his care worker`);

  // Leftovers from an earlier run: an escalation still open for Mr Jones would hold the same rule back.
  for (const old of (await ok<{ escalations: { escalationId: string; status: string }[] }>(nurse, 'GET', `/api/escalations?patientId=${patientId}&open=true`)).escalations) {
    if (old.status === 'sentToTier') await ok(nurse, 'POST', `/api/escalations/${old.escalationId}/acknowledgement`, { idempotencyKey: once(`ack-old-${old.escalationId}`) });
    await ok(nurse, 'POST', `/api/escalations/${old.escalationId}/resolution`, { idempotencyKey: once(`resolve-old-${old.escalationId}`), outcome: 'Closed before a new run of the demo' });
    io.say(`  (closed escalation ${old.escalationId} left open by an earlier run)`);
  }

  // 1-2. Training, sign-off and the delegation: the nurse's side, as the demo loads it at first start
  // (src/demo/insulin-delegation.ts); kept from an earlier run or the first start when already there.
  const setUp = await setUpInsulinDelegation(httpDesk({ url: io.url, nurse, careWorker: amira }), { patientId, now, say: io.say });
  const { delegationId } = setUp;
  if (setUp.status !== 'active') throw new ScenarioError(`The delegation ${delegationId} is ${setUp.status}, not active`);
  const worklist = await ok<ScenarioResult['worklist']>(amira, 'GET', '/api/worklist', undefined, { 'x-tandem-min-position': String(setUp.position) });
  for (const item of worklist.items) io.say(`   Amira's worklist: ${item.activity} at ${hhmm(new Date(item.dueAt))}: ${item.instructionText}; record ${item.record.map((r) => r.title).join(', then ')}`);

  // 3. The low glucose ---------------------------------------------------------------------------
  const low = await ok<{ eventIds: string[]; position: number }>(amira, 'POST', `/api/patients/${patientId}/blood-glucose`, {
    idempotencyKey: once('glucose-low'),
    occurredAt: now.toISOString(),
    glucoseMmolL: 3.4,
    relationToMeal: 'before-meal',
  });
  io.say(`3. At ${hhmm(now)} Amira records Mr Jones's blood glucose before his dose: 3.4 mmol/L`);
  const seen = { 'x-tandem-min-position': String(low.position) };
  const prompts = await ok<{ prompts: { promptId: string; patientId: string; title: string; steps: string[]; recheck?: { dueAt: string }; escalationId?: string }[] }>(amira, 'GET', '/api/prompts?open=true', undefined, seen);
  const prompt = prompts.prompts.filter((p) => p.patientId === patientId).at(-1);
  if (!prompt) throw new ScenarioError('No hypo protocol prompt was raised');
  io.say(`   Amira's phone shows "${prompt.title}":`);
  for (const step of prompt.steps) io.say(`     - ${step}`);
  const escalations = await ok<{ escalations: { escalationId: string; ruleId: string; urgency: string; recipient?: string; dueAt?: string; sbard: Record<string, string> }[] }>(
    nurse,
    'GET',
    `/api/escalations?patientId=${patientId}&open=true`,
    undefined,
    seen,
  );
  const hypo = escalations.escalations.find((e) => e.ruleId === 'insulin.hypo');
  if (!hypo) throw new ScenarioError('No hypo escalation was raised');
  io.say(`   Sarah is alerted: ${hypo.urgency} escalation to the ${hypo.recipient?.replace(/-/g, ' ')}, to acknowledge by ${hypo.dueAt ? hhmm(new Date(hypo.dueAt)) : '-'}`);
  io.say(`     S: ${hypo.sbard.situation}`);
  io.say(`     A: ${hypo.sbard.assessment}`);
  io.say(`     D: ${hypo.sbard.decision}`);

  // 4. Treatment, recheck, and nobody acknowledging ---------------------------------------------
  await advance(10);
  await ok(amira, 'POST', `/api/patients/${patientId}/blood-glucose`, {
    idempotencyKey: once('glucose-recheck'),
    occurredAt: now.toISOString(),
    glucoseMmolL: 4.6,
  });
  await ok(amira, 'POST', `/api/prompts/${prompt.promptId}/acknowledgement`, { idempotencyKey: once('ack-prompt'), note: 'Gave 150 ml orange juice; rechecked' });
  io.say(`4. At ${hhmm(now)} Amira has given 150 ml of juice, rechecks (4.6 mmol/L) and acknowledges the prompt; the insulin is withheld for Sarah to advise`);
  io.say('   Nobody acknowledges the escalation...');
  const moved = await advance(20);
  for (const f of moved.fired) io.say(`   ${hhmm(now)}: the scheduler fires ${f.stream}: ${f.outcome}`);
  const escalation = await ok<ScenarioResult['escalation'] & { position: number }>(nurse, 'GET', `/api/escalations/${hypo.escalationId}`);
  const sent = [...escalation.events].reverse().find((e) => e.type === 'EscalationSentToTier');
  io.say(`   30 minutes on, it goes to tier ${escalation.tier + 1}: ${String(sent?.data.recipient ?? '').replace(/-/g, ' ')}, to acknowledge by ${sent?.data.dueAt ? hhmm(new Date(String(sent.data.dueAt))) : '-'}`);

  // 5. FHIR --------------------------------------------------------------------------------------
  const fresh = { 'x-tandem-min-position': String(escalation.position) };
  const task = await ok<Task>(nurse, 'GET', `/fhir/Task/${delegationId}`, undefined, fresh);
  const communication = await ok<Communication>(nurse, 'GET', `/fhir/Communication/${hypo.escalationId}`, undefined, fresh);
  const flag = await ok<Flag>(nurse, 'GET', `/fhir/Flag/flag-${hypo.escalationId}`, undefined, fresh);
  io.say('5. As FHIR R4, for the GP and other systems:');
  io.say(`Task/${task.id}\n${JSON.stringify(task, null, 2)}`);
  io.say(`Communication/${communication.id}\n${JSON.stringify(communication, null, 2)}`);
  io.say(`Flag/${flag.id}\n${JSON.stringify(flag, null, 2)}`);

  return { patientId, delegationId, escalationId: hypo.escalationId, promptId: prompt.promptId, worklist, escalation, task, communication, flag };
};
