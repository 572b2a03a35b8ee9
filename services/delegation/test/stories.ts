import type {
  Actor,
  CompetenceCommand,
  CompetenceEvent,
  DelegationCommand,
  DelegationLifecycleEvent,
  EscalationCommand,
  EscalationEvent,
  Instruction,
  PersonFacts,
} from '@tandem/contracts';
import type { Framework } from '../src/frameworks';
import {
  competenceSnapshotOf,
  decideCompetence,
  decideDelegation,
  decideEscalation,
  evolveCompetence,
  evolveDelegation,
  evolveEscalation,
  initialCompetenceState,
  initialDelegationState,
  initialEscalationState,
  type CompetenceState,
  type DelegationState,
  type EscalationState,
} from '../src/machines';
import { raiseEscalationCommand, type EscalationToRaise } from '../src/rules';
import { asCareWorker, key, type FakeClock, Stream } from './fixtures';

/** Commands as the stories write them: what is said, with the clock's time and a fresh key. */

export type CompetenceStream = Stream<CompetenceState, CompetenceCommand, CompetenceEvent>;
export type DelegationStream = Stream<DelegationState, DelegationCommand, DelegationLifecycleEvent>;
export type EscalationStream = Stream<EscalationState, EscalationCommand, EscalationEvent>;

export const competenceStream = (framework: Framework): CompetenceStream =>
  new Stream(initialCompetenceState(framework), decideCompetence, evolveCompetence);
export const delegationStream = (framework: Framework): DelegationStream =>
  new Stream(initialDelegationState(framework), decideDelegation, evolveDelegation);
export const escalationStream = (framework: Framework): EscalationStream =>
  new Stream(initialEscalationState(framework), decideEscalation, evolveEscalation);

type Without<T, K extends string> = T extends unknown ? Omit<T, K> : never;

/** A competence command for this care worker and framework, now. */
export const competenceCommand = (
  clock: FakeClock,
  careWorker: Actor,
  framework: Framework,
  command: Without<CompetenceCommand, 'idempotencyKey' | 'occurredAt' | 'careWorkerId' | 'frameworkId' | 'careWorker'>,
): CompetenceCommand =>
  ({
    idempotencyKey: key(),
    occurredAt: clock.now(),
    frameworkId: framework.id,
    ...(command.type === 'StartTraining' ? { careWorker: asCareWorker(careWorker) } : { careWorkerId: careWorker.id }),
    ...command,
  }) as CompetenceCommand;

/** Training, every module, N satisfactory supervised practices a day apart, then sign-off: the whole path. */
export const trainAndSignOff = (clock: FakeClock, careWorker: Actor, framework: Framework, nurse: Actor): CompetenceStream => {
  const stream = competenceStream(framework);
  const say = (command: Parameters<typeof competenceCommand>[3]) => stream.ok(nurse, competenceCommand(clock, careWorker, framework, command));
  say({ type: 'StartTraining' });
  for (const module of framework.competence.trainingModules) say({ type: 'CompleteTrainingModule', moduleId: module.id });
  for (let i = 0; i < framework.competence.supervisedPractices; i++) {
    clock.advance({ days: 1 });
    say({ type: 'RecordSupervisedPractice', outcome: 'satisfactory' });
  }
  say({ type: 'SignOffCompetence', careWorkerConsent: true });
  return stream;
};

export const delegationCommand = (
  clock: FakeClock,
  delegationId: string,
  command: Without<DelegationCommand, 'idempotencyKey' | 'occurredAt' | 'delegationId'>,
): DelegationCommand => ({ idempotencyKey: key(), occurredAt: clock.now(), delegationId, ...command }) as DelegationCommand;

export const EVENING_INSULIN: Instruction = {
  kind: 'insulin',
  product: 'Humulin I KwikPen',
  device: 'pen',
  dose: { value: 8, unit: 'units' },
  times: ['18:00'],
  sites: ['abdomen', 'thigh'],
  glucoseTargets: { lowMmolL: 6, highMmolL: 10 },
  minimumIntervalMinutes: 240,
  whenOutOfRange: 'Below 4.0 mmol/L: follow the hypo protocol and do not give insulin; 15 or more twice: call the nurse.',
};

/** Proposed, accepted by the care worker, agreed by the person, activated with the care worker's current competence. */
export const delegateAndActivate = (
  clock: FakeClock,
  o: {
    delegationId: string;
    framework: Framework;
    patientId: string;
    careWorker: Actor;
    nurse: Actor;
    competence: CompetenceStream;
    instruction: Instruction;
    eligibility: PersonFacts;
  },
): DelegationStream => {
  const stream = delegationStream(o.framework);
  const say = (actor: Actor, command: Parameters<typeof delegationCommand>[2]) => stream.ok(actor, delegationCommand(clock, o.delegationId, command));
  say(o.nurse, {
    type: 'ProposeDelegation',
    patientId: o.patientId,
    frameworkId: o.framework.id,
    activityId: o.framework.activities[0]!.id,
    careWorker: asCareWorker(o.careWorker),
    instruction: o.instruction,
    eligibility: o.eligibility,
  });
  say(o.careWorker, { type: 'AcceptDelegation' });
  say(o.nurse, { type: 'RecordPersonAgreement', agreement: { agreedBy: 'person' } });
  say(o.nurse, { type: 'ActivateDelegation', competence: competenceSnapshotOf(o.competence.state)! });
  return stream;
};

/** Raises what the rules asked for, on a new escalation stream. */
export const raise = (clock: FakeClock, framework: Framework, escalation: EscalationToRaise, patientId: string, escalationId: string, delegationId?: string) => {
  const stream = escalationStream(framework);
  const types = stream.ok(
    { id: 'rules', role: 'system' },
    raiseEscalationCommand(escalation, { escalationId, patientId, occurredAt: clock.now(), idempotencyKey: key(), ...(delegationId ? { delegationId } : {}) }),
  );
  return { stream, types };
};

export const escalationCommand = (
  clock: FakeClock,
  escalationId: string,
  command: Without<EscalationCommand, 'idempotencyKey' | 'occurredAt' | 'escalationId'>,
): EscalationCommand => ({ idempotencyKey: key(), occurredAt: clock.now(), escalationId, ...command }) as EscalationCommand;
