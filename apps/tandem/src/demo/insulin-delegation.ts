import type { Actor, CompetenceCommand, DelegationCommand, Instruction } from '@tandem/contracts';
import { nameBasedId, type DelegationCommands } from '@tandem/delegation';
import { DEMO } from './demo-data';

/**
 * The nurse's side of the insulin story, with no test clock: Sarah Okafor (district nurse) trains
 * Amira Hassan on insulin, observes her supervised doses, signs her competence off with her
 * consent, and delegates Mr Jones's evening insulin to her; Mr Jones agrees, Amira accepts, Sarah
 * activates it. Told once, sent two ways (a DelegationDesk):
 *
 *  - at first start, the demo is loaded through the delegation service's own commands
 *    (commandDesk: the same command edge as the API, in the process, before anyone signs in), dated
 *    over the last days as it would have happened;
 *  - `npm run scenario` and the tests send the same commands over HTTP (httpDesk), dated by the server.
 *
 * Either way the delegation is on Amira's worklist at once and every evening: 10 units at 18:00,
 * shown "Due later" before 17:00, "Due now" around it and "Overdue" after 19:00 (the worklist's
 * windows, on England's clock), so the demo makes sense whenever it is started.
 */

export const INSULIN_FRAMEWORK = 'insulin-administration';
const AMIRA = DEMO.careWorkers[0]!;

/** Mr Jones's evening insulin, as Sarah writes it: a product the record knows (coded), the dose in units, the time. */
export const DEMO_INSULIN_INSTRUCTION: Instruction = {
  kind: 'insulin',
  product: 'Humulin I KwikPen',
  device: 'pen',
  dose: { value: 10, unit: 'units' },
  times: ['18:00'],
  sites: ['abdomen', 'thigh'],
  glucoseTargets: { lowMmolL: 6, highMmolL: 10 },
  minimumIntervalMinutes: 240,
  whenOutOfRange: 'Below 4.0 mmol/L: follow the hypo protocol, do not give insulin, tell the nurse. 15 mmol/L or more twice running: call the nurse.',
};

/** One delegation per person and care worker for the demo: named from both, so a second run finds the first. */
export const demoInsulinDelegationId = (patientId: string): string => nameBasedId(`demo|insulin-delegation|${patientId}|${AMIRA.practitionerId}`);

type WithoutTime<C> = C extends unknown ? Omit<C, 'occurredAt'> & { occurredAt?: string } : never;
type Picked<C extends { type: string }, T extends C['type']> = Extract<C, { type: T }>;

/** The commands the set-up sends; occurredAt left out is the server's now. */
export type SetUpCommand = WithoutTime<
  | Picked<CompetenceCommand, 'StartTraining' | 'CompleteTrainingModule' | 'RecordSupervisedPractice' | 'SignOffCompetence'>
  | Picked<DelegationCommand, 'ProposeDelegation' | 'RecordPersonAgreement' | 'AcceptDelegation'>
  | Omit<Picked<DelegationCommand, 'ActivateDelegation'>, 'competence'>
>;

export interface DelegationDesk {
  /** Sends a command as the nurse or as Amira; a refusal throws with the reason. */
  send(by: 'nurse' | 'careWorker', command: SetUpCommand): Promise<{ readonly eventTypes: readonly string[]; readonly position: number }>;
  framework(frameworkId: string): Promise<{ readonly title: string; readonly competence: { readonly trainingModules: readonly { id: string; title: string }[]; readonly supervisedPractices: number } }>;
  competence(careWorkerId: string, frameworkId: string): Promise<{ readonly status: string; readonly validUntil?: string | undefined } | undefined>;
  delegation(delegationId: string): Promise<{ readonly status: string; readonly reviewDueAt?: string | undefined } | undefined>;
}

export interface SetUpOptions {
  readonly patientId: string;
  /** Prints one step. */
  readonly say?: (line: string) => void;
  /** When each step happened; left out, the server stamps its own now (the API's default). */
  readonly when?: (step: SetUpCommand['type'], n?: number) => string | undefined;
  /** The clock's now, to tell whether a competence already signed off is still current. */
  readonly now: Date;
}

export interface SetUpResult {
  readonly delegationId: string;
  readonly status: string;
  readonly reviewDueAt?: string | undefined;
  /** The log position of the last command sent (0 when nothing was sent): read with it, a read model has seen the delegation. */
  readonly position: number;
}

/** The keys are stable: a second run of the set-up is a replay, and what it already did is kept. */
const stable = (step: string) => `scenario-insulin:${step}`;

export const setUpInsulinDelegation = async (desk: DelegationDesk, o: SetUpOptions): Promise<SetUpResult> => {
  const say = o.say ?? (() => undefined);
  const at = (step: SetUpCommand['type'], n?: number) => {
    const time = o.when?.(step, n);
    return time === undefined ? {} : { occurredAt: time };
  };
  const { patientId } = o;

  // 1. Training, supervised practice, sign-off ------------------------------------------------
  const framework = await desk.framework(INSULIN_FRAMEWORK);
  const current = await desk.competence(AMIRA.practitionerId, INSULIN_FRAMEWORK);
  const competence = { careWorkerId: AMIRA.practitionerId, frameworkId: INSULIN_FRAMEWORK };
  if (current?.status === 'signedOff' && current.validUntil && Date.parse(current.validUntil) > o.now.getTime()) {
    say(`1. Amira is already signed off for ${framework.title} until ${current.validUntil} (an earlier run)`);
  } else {
    say(`1. Sarah starts Amira's training for "${framework.title}"`);
    await desk.send('nurse', { type: 'StartTraining', idempotencyKey: stable('start-training'), careWorker: { practitionerId: AMIRA.practitionerId, role: 'care-worker' }, frameworkId: INSULIN_FRAMEWORK, ...at('StartTraining') });
    for (const [i, module] of framework.competence.trainingModules.entries()) {
      await desk.send('nurse', { type: 'CompleteTrainingModule', idempotencyKey: stable(`module-${module.id}`), ...competence, moduleId: module.id, ...at('CompleteTrainingModule', i + 1) });
      say(`   module completed: ${module.title}`);
    }
    const practices = framework.competence.supervisedPractices;
    for (let n = 1; n <= practices; n++) {
      const practice = await desk.send('nurse', {
        type: 'RecordSupervisedPractice',
        idempotencyKey: stable(`practice-${n}`),
        ...competence,
        outcome: 'satisfactory',
        patientId,
        notes: `Observed dose ${n}: pen primed, site rotated, 10 units given subcutaneously`,
        ...at('RecordSupervisedPractice', n),
      });
      say(`   supervised dose ${n} of ${practices} observed by Sarah (NMC ${DEMO.nurse.registration.value}): satisfactory${practice.eventTypes.includes('ReadyForAssessment') ? ' -> ready for assessment' : ''}`);
    }
    await desk.send('nurse', { type: 'SignOffCompetence', idempotencyKey: stable('sign-off'), ...competence, careWorkerConsent: true, ...at('SignOffCompetence') });
    const signed = await desk.competence(AMIRA.practitionerId, INSULIN_FRAMEWORK);
    say(`   Sarah signs Amira off, with Amira's consent: ${signed?.status}, valid until ${signed?.validUntil}`);
  }

  // 2. The delegation -------------------------------------------------------------------------
  const delegationId = demoInsulinDelegationId(patientId);
  const existing = await desk.delegation(delegationId);
  if (existing && existing.status !== 'proposed' && existing.status !== 'accepted') {
    say(`2. Mr Jones's evening insulin is already delegated to Amira (delegation ${delegationId}): ${existing.status}`);
    return { delegationId, status: existing.status, reviewDueAt: existing.reviewDueAt, position: 0 };
  }
  await desk.send('nurse', {
    type: 'ProposeDelegation',
    idempotencyKey: stable(`propose-${patientId}`),
    delegationId,
    patientId,
    frameworkId: INSULIN_FRAMEWORK,
    activityId: 'insulin-administration',
    careWorker: { practitionerId: AMIRA.practitionerId, role: 'care-worker' },
    instruction: DEMO_INSULIN_INSTRUCTION,
    // The age is Tandem's to work out, from Mr Jones's birth date in his record: it is never typed.
    eligibility: { diabetesStable: true, insulinDevice: 'pen' },
    ...at('ProposeDelegation'),
  });
  say(`2. Sarah delegates Mr Jones's evening insulin to Amira (delegation ${delegationId}): 10 units of Humulin I KwikPen by pen at 18:00, abdomen or thigh, target 6-10 mmol/L`);
  await desk.send('nurse', { type: 'RecordPersonAgreement', idempotencyKey: stable(`agree-${delegationId}`), delegationId, agreement: { agreedBy: 'person' }, ...at('RecordPersonAgreement') });
  say('   Mr Jones agrees to Amira giving his insulin');
  await desk.send('careWorker', { type: 'AcceptDelegation', idempotencyKey: stable(`accept-${delegationId}`), delegationId, ...at('AcceptDelegation') });
  say('   Amira accepts the delegation');
  const activated = await desk.send('nurse', { type: 'ActivateDelegation', idempotencyKey: stable(`activate-${delegationId}`), delegationId, ...at('ActivateDelegation') });
  const delegation = await desk.delegation(delegationId);
  say(`   Sarah activates it with Amira's current competence: ${delegation?.status}, review due ${delegation?.reviewDueAt}`);
  return { delegationId, status: delegation?.status ?? 'unknown', reviewDueAt: delegation?.reviewDueAt, position: activated.position };
};

// -----------------------------------------------------------------------------------------------
// The two desks
// -----------------------------------------------------------------------------------------------

export const DEMO_NURSE_ACTOR: Actor = { id: DEMO.nurse.practitionerId, role: 'district-nurse', organisation: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration };
export const DEMO_AMIRA_ACTOR: Actor = { id: AMIRA.practitionerId, role: 'care-worker', organisation: DEMO.careAgency.organisationId };

/**
 * The delegation service's command edge in this process (what the API calls after its access
 * check): each command decided on its own stream, with the actor's practitioner record checked.
 * A time left out is the clock's now, stamped as the API stamps it.
 */
export const commandDesk = (commands: DelegationCommands): DelegationDesk => ({
  async send(by, command) {
    const actor = by === 'nurse' ? DEMO_NURSE_ACTOR : DEMO_AMIRA_ACTOR;
    const stamped = command.occurredAt === undefined;
    const timed = { ...command, occurredAt: command.occurredAt ?? commands.clock.now().toISOString() };
    const trace = stamped ? { stamped: ['occurredAt'] } : {};
    switch (timed.type) {
      case 'StartTraining':
      case 'CompleteTrainingModule':
      case 'RecordSupervisedPractice':
      case 'SignOffCompetence':
        return commands.competence(timed, actor, trace);
      case 'ActivateDelegation':
        return commands.activate(timed, actor, trace);
      default:
        return commands.delegation(timed, actor, trace);
    }
  },
  async framework(frameworkId) {
    return commands.framework(frameworkId);
  },
  async competence(careWorkerId, frameworkId) {
    const state = await commands.loadCompetence(careWorkerId, frameworkId);
    return state && { status: String(state.value), validUntil: state.context.validUntil };
  },
  async delegation(delegationId) {
    const loaded = await commands.loadDelegation(delegationId);
    return loaded && { status: String(loaded.state.value), reviewDueAt: loaded.state.context.reviewDueAt };
  },
});

/** Where each command is sent in the API (services/delegation DELEGATION_ROUTES); the rest of the command is the body. */
const ROUTES: Readonly<Record<SetUpCommand['type'], (c: Record<string, unknown>) => { path: string; omit: readonly string[] }>> = {
  StartTraining: () => ({ path: '/api/competences', omit: [] }),
  CompleteTrainingModule: (c) => ({ path: `/api/competences/${c.careWorkerId}/${c.frameworkId}/modules`, omit: ['careWorkerId', 'frameworkId'] }),
  RecordSupervisedPractice: (c) => ({ path: `/api/competences/${c.careWorkerId}/${c.frameworkId}/supervised-practice`, omit: ['careWorkerId', 'frameworkId'] }),
  SignOffCompetence: (c) => ({ path: `/api/competences/${c.careWorkerId}/${c.frameworkId}/sign-off`, omit: ['careWorkerId', 'frameworkId'] }),
  ProposeDelegation: () => ({ path: '/api/delegations', omit: [] }),
  RecordPersonAgreement: (c) => ({ path: `/api/delegations/${c.delegationId}/person-agreement`, omit: ['delegationId'] }),
  AcceptDelegation: (c) => ({ path: `/api/delegations/${c.delegationId}/acceptance`, omit: ['delegationId'] }),
  ActivateDelegation: (c) => ({ path: `/api/delegations/${c.delegationId}/activation`, omit: ['delegationId'] }),
};

export class DeskError extends Error {}

/** The same commands over Tandem's HTTP API, with the nurse's and Amira's bearer tokens. */
export const httpDesk = (o: { url: string; nurse: string; careWorker: string }): DelegationDesk => {
  const call = async <T>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${o.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const ok = async <T>(token: string, method: string, path: string, body?: unknown): Promise<T> => {
    const reply = await call<T>(token, method, path, body);
    if (reply.status >= 300) {
      const problem = reply.body as { detail?: string } | undefined;
      throw new DeskError(`${method} ${path} answered ${reply.status}: ${problem?.detail ?? JSON.stringify(reply.body)}`);
    }
    return reply.body;
  };
  return {
    async send(by, command) {
      const { type, ...fields } = command as SetUpCommand & Record<string, unknown>;
      const route = ROUTES[type](fields);
      const body = Object.fromEntries(Object.entries(fields).filter(([field]) => !route.omit.includes(field)));
      return ok<{ eventTypes: string[]; position: number }>(by === 'nurse' ? o.nurse : o.careWorker, 'POST', route.path, body);
    },
    framework: (frameworkId) => ok(o.nurse, 'GET', `/api/frameworks/${frameworkId}`),
    async competence(careWorkerId, frameworkId) {
      const { competences } = await ok<{ competences: { frameworkId: string; status: string; validUntil?: string }[] }>(o.nurse, 'GET', `/api/competences/${careWorkerId}`);
      return competences.find((c) => c.frameworkId === frameworkId);
    },
    async delegation(delegationId) {
      const reply = await call<{ status: string; context?: { reviewDueAt?: string } }>(o.nurse, 'GET', `/api/delegations/${delegationId}`);
      if (reply.status === 404) return undefined;
      if (reply.status >= 300) throw new DeskError(`GET /api/delegations/${delegationId} answered ${reply.status}`);
      return { status: reply.body.status, reviewDueAt: reply.body.context?.reviewDueAt };
    },
  };
};

// -----------------------------------------------------------------------------------------------
// At first start
// -----------------------------------------------------------------------------------------------

const DAY = 86_400_000;

/**
 * When each step happened, for the demo loaded at first start: training six days ago, one
 * supervised evening dose on each of the next three days, the sign-off and the delegation two days
 * ago, its activation yesterday. All within the last week, so none is a late entry to confirm.
 */
export const demoSetUpTimes = (now: Date) => (step: SetUpCommand['type'], n = 1): string => {
  const ago = (days: number, minutes = 0) => new Date(now.getTime() - days * DAY + minutes * 60_000).toISOString();
  switch (step) {
    case 'StartTraining':
      return ago(6);
    case 'CompleteTrainingModule':
      return ago(6, 30 * n);
    case 'RecordSupervisedPractice':
      return ago(6 - n);
    case 'SignOffCompetence':
      return ago(2);
    case 'ProposeDelegation':
      return ago(2, 10);
    case 'RecordPersonAgreement':
      return ago(2, 20);
    case 'AcceptDelegation':
      return ago(2, 30);
    case 'ActivateDelegation':
      return ago(1);
  }
};

/**
 * The demo's delegation at first start (a new data directory): through the delegation service's
 * commands, never by writing a read model; the worklist and the app read it from the log like any other.
 */
export const seedDemoInsulinDelegation = (commands: DelegationCommands, o: { patientId: string; now: Date }): Promise<SetUpResult> =>
  setUpInsulinDelegation(commandDesk(commands), { patientId: o.patientId, now: o.now, when: demoSetUpTimes(o.now) });
