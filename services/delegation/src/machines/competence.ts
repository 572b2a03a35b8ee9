import type {
  Actor,
  AssessingTeam,
  CareWorker,
  CompetenceAuthority,
  CompetenceCommand,
  CompetenceEvent,
  CompetenceRequirements,
  CompetenceSnapshot,
  CompetenceStatus,
  Role,
} from '@tandem/contracts';
import { assertEvent, assign, setup, type SnapshotFrom } from 'xstate';
import type { Framework } from '../frameworks/schema';
import { addMonths, decider, forEvent, guardsFrom, isBefore, refuse, type Check, type Decision, type Refusal, type Timed } from './decider';
import { asProfessional, asStaff, registeredProfessionalProblem, verifiedActor, type Person, type PractitionerRecord } from './people';

/**
 * Competence, per care worker per framework (stream competency-<careWorkerId>-<frameworkId>):
 * not started -> in training -> supervised practice (n of N, each observed by a named registered
 * professional) -> ready for assessment -> signed off (valid until) -> lapsed at expiry, or
 * suspended / revoked with a reason; reinstated from suspended; retrained after a lapse or a
 * revocation, or reassessed after a lapse.
 */

export interface CompetenceContext {
  readonly framework: Framework;
  readonly careWorker?: CareWorker;
  /** The team that trains and assesses this care worker under this framework (kept from the first training). */
  readonly assessingTeam?: AssessingTeam;
  /** What the framework asked when this training started: the practice count is judged against it. */
  readonly requirements?: CompetenceRequirements;
  readonly modulesCompleted: readonly string[];
  readonly satisfactoryPractices: number;
  readonly validUntil?: string;
  readonly signedOffBy?: string;
  readonly reason?: string;
}

export type CompetenceMachineEvent = Timed<CompetenceEvent>;
export interface CompetenceInput {
  readonly framework: Framework;
}

type C = CompetenceContext;
type E = CompetenceMachineEvent;

const modulesOutstanding = (context: C): string[] =>
  (context.requirements?.trainingModules ?? []).filter((moduleId) => !context.modulesCompleted.includes(moduleId));

/** Who may observe, assess, sign off, suspend, revoke and reinstate under this framework. */
const assessorProblem = (context: C, who: Person, action: string, code: string): Refusal | undefined =>
  registeredProfessionalProblem(who, context.framework.competence.assessors, { code, action }) ??
  (who.practitionerId === context.careWorker?.practitionerId ? refuse(`${code}.self`, 'actor', `${action}: nobody may do this for their own competence`) : undefined);

const managerRoles = (framework: Framework): Role[] => [...new Set([...framework.competence.assessors, ...framework.mayDelegate])];

const mayStartTraining = forEvent<C, E, 'TrainingStarted'>('TrainingStarted', (context, { data }) => {
  if (data.frameworkId !== context.framework.id) {
    return refuse('competence.wrong-framework', 'frameworkId', `this competence record is for ${context.framework.id}, not ${data.frameworkId}`);
  }
  if (!context.framework.mayReceive.includes(data.careWorker.role)) {
    return refuse(
      'competence.role-not-eligible',
      'careWorker.role',
      `${context.framework.title} is delegated only to ${context.framework.mayReceive.join(' or ')}, not ${data.careWorker.role}`,
    );
  }
  if (context.careWorker && context.careWorker.practitionerId !== data.careWorker.practitionerId) {
    return refuse('competence.wrong-stream', 'careWorker.practitionerId', `this competence record belongs to ${context.careWorker.practitionerId}`);
  }
  // Whoever starts the training makes their team the assessing team: they must be one of the framework's assessors.
  return data.assessingTeam
    ? registeredProfessionalProblem(data.assessingTeam.startedBy, context.framework.competence.assessors, { code: 'competence.trainer', action: 'Starting training' })
    : undefined;
});

const moduleOutstanding = forEvent<C, E, 'TrainingModuleCompleted'>('TrainingModuleCompleted', (context, { data }) => {
  if (!context.requirements?.trainingModules.includes(data.moduleId)) {
    return refuse('competence.unknown-module', 'moduleId', `${data.moduleId} is not a training module of ${context.framework.title} (modules: ${context.requirements?.trainingModules.join(', ')})`);
  }
  if (context.modulesCompleted.includes(data.moduleId)) return refuse('competence.module-already-completed', 'moduleId', `${data.moduleId} is already completed`);
  return undefined;
});

const trainingComplete = forEvent<C, E, 'TrainingCompleted'>('TrainingCompleted', (context) => {
  const outstanding = modulesOutstanding(context);
  return outstanding.length ? refuse('competence.training-incomplete', 'moduleId', `training modules still to complete: ${outstanding.join(', ')}`) : undefined;
});

const mayObservePractice = forEvent<C, E, 'SupervisedPracticeRecorded'>('SupervisedPracticeRecorded', (context, { data }) =>
  assessorProblem(context, data.observer, 'Observing supervised practice', 'competence.observer'),
);

const enoughSupervisedPractice = forEvent<C, E, 'ReadyForAssessment'>('ReadyForAssessment', (context) => {
  const required = context.requirements?.supervisedPractices ?? context.framework.competence.supervisedPractices;
  return context.satisfactoryPractices < required
    ? refuse('competence.more-practice-needed', 'outcome', `${context.satisfactoryPractices} of ${required} satisfactory supervised practices observed`)
    : undefined;
});

const maySignOff = forEvent<C, E, 'CompetenceSignedOff'>('CompetenceSignedOff', (context, event) => {
  const { data, occurredAt } = event;
  const months = context.framework.competence.reassessmentMonths;
  return (
    assessorProblem(context, data.assessor, 'Signing off competence', 'competence.sign-off') ??
    ((data.careWorkerConsent as boolean) !== true
      ? refuse('competence.consent-required', 'careWorkerConsent', "the care worker's consent to the sign-off must be recorded")
      : undefined) ??
    (!isBefore(occurredAt, data.validUntil) ? refuse('competence.valid-until-not-after-sign-off', 'validUntil', 'validUntil must be after the sign-off') : undefined) ??
    (isBefore(addMonths(occurredAt, months), data.validUntil)
      ? refuse('competence.valid-until-too-late', 'validUntil', `validUntil must be within ${months} months (the framework's reassessment interval)`)
      : undefined)
  );
});

const mayAssess = forEvent<C, E, 'CompetenceAssessmentNotPassed'>('CompetenceAssessmentNotPassed', (context, { data }) =>
  assessorProblem(context, data.assessor, 'Assessing competence', 'competence.assessor'),
);

const expired = forEvent<C, E, 'CompetenceLapsed'>('CompetenceLapsed', (context, { occurredAt }) => {
  if (context.validUntil === undefined) return refuse('competence.no-expiry', 'occurredAt', 'the competence has no validUntil');
  return isBefore(occurredAt, context.validUntil)
    ? refuse('competence.not-yet-expired', 'occurredAt', `the competence is valid until ${context.validUntil}`)
    : undefined;
});

const mayChangeCompetence: Check<C, E> = (context, event) => {
  if (event.type !== 'CompetenceSuspended' && event.type !== 'CompetenceRevoked' && event.type !== 'CompetenceReinstated') return undefined;
  const action = { CompetenceSuspended: 'Suspending', CompetenceRevoked: 'Revoking', CompetenceReinstated: 'Reinstating' }[event.type];
  if (event.type === 'CompetenceSuspended' && event.data.authority === 'safeguarding') {
    // The care worker's employer suspending for safeguarding: a registered manager, with no professional register.
    return event.data.by.role === 'registered-manager'
      ? undefined
      : refuse('competence.change.role-not-allowed', 'actor.role', 'Suspending a competence for safeguarding: only the registered manager of the care worker’s employer may do this');
  }
  return (
    registeredProfessionalProblem(event.data.by, managerRoles(context.framework), { code: 'competence.change', action: `${action} a competence` }) ??
    (event.data.by.practitionerId === context.careWorker?.practitionerId ? refuse('competence.change.self', 'actor', 'nobody may change their own competence') : undefined)
  );
};

const mayReinstate = forEvent<C, E, 'CompetenceReinstated'>('CompetenceReinstated', (context, event) => {
  const problem = mayChangeCompetence(context, event);
  if (problem) return problem;
  return context.validUntil !== undefined && !isBefore(event.occurredAt, context.validUntil)
    ? refuse('competence.expired-while-suspended', 'occurredAt', `the competence expired at ${context.validUntil}: reassess it instead of reinstating`)
    : undefined;
});

export const competenceChecks = {
  mayStartTraining,
  moduleOutstanding,
  trainingComplete,
  mayObservePractice,
  enoughSupervisedPractice,
  maySignOff,
  mayAssess,
  expired,
  mayChangeCompetence,
  mayReinstate,
};

export const competenceMachine = setup({
  types: {} as { context: CompetenceContext; events: CompetenceMachineEvent; input: CompetenceInput },
  guards: guardsFrom<C, E, keyof typeof competenceChecks>(competenceChecks),
  actions: {
    startTraining: assign(({ event }) => {
      assertEvent(event, 'TrainingStarted');
      return {
        careWorker: event.data.careWorker,
        ...(event.data.assessingTeam ? { assessingTeam: event.data.assessingTeam } : {}),
        requirements: event.data.requirements,
        modulesCompleted: [],
        satisfactoryPractices: 0,
        validUntil: undefined,
        signedOffBy: undefined,
        reason: undefined,
      };
    }),
    completeModule: assign(({ context, event }) => {
      assertEvent(event, 'TrainingModuleCompleted');
      return { modulesCompleted: [...context.modulesCompleted, event.data.moduleId] };
    }),
    recordPractice: assign(({ context, event }) => {
      assertEvent(event, 'SupervisedPracticeRecorded');
      return { satisfactoryPractices: context.satisfactoryPractices + (event.data.outcome === 'satisfactory' ? 1 : 0) };
    }),
    restartPractice: assign({ satisfactoryPractices: 0 }),
    signOff: assign(({ event }) => {
      assertEvent(event, 'CompetenceSignedOff');
      return { validUntil: event.data.validUntil, signedOffBy: event.data.assessor.practitionerId, reason: undefined };
    }),
    noteReason: assign(({ event }) => {
      assertEvent(event, ['CompetenceSuspended', 'CompetenceRevoked', 'CompetenceReinstated']);
      return { reason: event.data.reason };
    }),
  },
}).createMachine({
  id: 'competence',
  context: ({ input }) => ({ framework: input.framework, modulesCompleted: [], satisfactoryPractices: 0 }),
  initial: 'notStarted',
  states: {
    notStarted: {
      on: { TrainingStarted: { guard: 'mayStartTraining', target: 'inTraining', actions: 'startTraining' } },
    },
    inTraining: {
      on: {
        TrainingModuleCompleted: { guard: 'moduleOutstanding', actions: 'completeModule' },
        TrainingCompleted: { guard: 'trainingComplete', target: 'supervisedPractice' },
      },
    },
    supervisedPractice: {
      on: {
        SupervisedPracticeRecorded: { guard: 'mayObservePractice', actions: 'recordPractice' },
        ReadyForAssessment: { guard: 'enoughSupervisedPractice', target: 'readyForAssessment' },
      },
    },
    readyForAssessment: {
      on: {
        CompetenceSignedOff: { guard: 'maySignOff', target: 'signedOff', actions: 'signOff' },
        CompetenceAssessmentNotPassed: { guard: 'mayAssess', target: 'supervisedPractice', actions: 'restartPractice' },
      },
    },
    signedOff: {
      on: {
        /** Reassessed before expiry: valid for another interval. */
        CompetenceSignedOff: { guard: 'maySignOff', target: 'signedOff', actions: 'signOff' },
        CompetenceLapsed: { guard: 'expired', target: 'lapsed' },
        CompetenceSuspended: { guard: 'mayChangeCompetence', target: 'suspended', actions: 'noteReason' },
        CompetenceRevoked: { guard: 'mayChangeCompetence', target: 'revoked', actions: 'noteReason' },
      },
    },
    suspended: {
      on: {
        CompetenceReinstated: { guard: 'mayReinstate', target: 'signedOff', actions: 'noteReason' },
        CompetenceRevoked: { guard: 'mayChangeCompetence', target: 'revoked', actions: 'noteReason' },
        CompetenceLapsed: { guard: 'expired', target: 'lapsed' },
      },
    },
    lapsed: {
      on: {
        /** Reassessed after the lapse. */
        CompetenceSignedOff: { guard: 'maySignOff', target: 'signedOff', actions: 'signOff' },
        TrainingStarted: { guard: 'mayStartTraining', target: 'inTraining', actions: 'startTraining' },
      },
    },
    revoked: {
      on: { TrainingStarted: { guard: 'mayStartTraining', target: 'inTraining', actions: 'startTraining' } },
    },
  },
});

export type CompetenceState = SnapshotFrom<typeof competenceMachine>;

export const COMPETENCE_STATE_DESCRIPTIONS: Record<CompetenceStatus, string> = {
  notStarted: 'not started',
  inTraining: 'in training',
  supervisedPractice: 'in supervised practice',
  readyForAssessment: 'ready for assessment',
  signedOff: 'signed off',
  lapsed: 'lapsed',
  suspended: 'suspended',
  revoked: 'revoked',
};

const core = decider({
  machine: competenceMachine,
  subject: 'competence',
  streamField: 'careWorkerId',
  describeState: COMPETENCE_STATE_DESCRIPTIONS,
  checks: competenceChecks as Record<string, Check<C, unknown>>,
});

/** The pure core behind decideCompetence and evolveCompetence: replay machine, refusal reasons, states accepting an event. */
export const competenceDecider = core;
export const competenceReplayMachine = core.replayMachine;

/** The state before any event: needs the framework (resolved for the organisation). */
export const initialCompetenceState = (framework: Framework): CompetenceState => core.initialState({ framework });

/** Applies one stored event of a competency stream. */
export const evolveCompetence = (state: CompetenceState, event: CompetenceMachineEvent): CompetenceState => core.evolve(state, event);

/** Rebuilds a competence from its stream. */
export const replayCompetence = (framework: Framework, events: readonly CompetenceMachineEvent[]): CompetenceState => core.replay({ framework }, events);

export interface CompetenceDecisionContext {
  /** Who is acting (from the token, checked against their practitioner record), or the scheduler for the expiry timer. */
  readonly actor: Actor;
  /** By what authority (competenceAuthority): recorded with a suspension. */
  readonly authority?: CompetenceAuthority;
}

const wrongStream = (state: CompetenceState, command: CompetenceCommand): Refusal | undefined => {
  const { careWorker, framework } = state.context;
  const careWorkerId = command.type === 'StartTraining' ? command.careWorker.practitionerId : command.careWorkerId;
  if (command.frameworkId !== framework.id) return refuse('competence.wrong-framework', 'frameworkId', `this competence record is for ${framework.id}`);
  if (careWorker && careWorkerId !== careWorker.practitionerId) {
    return refuse('competence.wrong-stream', command.type === 'StartTraining' ? 'careWorker.practitionerId' : 'careWorkerId', `this competence record belongs to ${careWorker.practitionerId}`);
  }
  return undefined;
};

/** The events a command means, before they are checked. */
const intend = (state: CompetenceState, command: CompetenceCommand, actor: Actor, authority: CompetenceAuthority | undefined): CompetenceEvent[] => {
  const { context } = state;
  const { framework } = context;
  switch (command.type) {
    case 'StartTraining':
      return [
        {
          type: 'TrainingStarted',
          data: {
            careWorker: command.careWorker,
            frameworkId: framework.id,
            frameworkVersion: framework.version,
            requirements: {
              trainingModules: framework.competence.trainingModules.map((m) => m.id),
              supervisedPractices: framework.competence.supervisedPractices,
              reassessmentMonths: framework.competence.reassessmentMonths,
            },
            // Kept from the first training: retraining after a lapse or revocation stays with the same team.
            ...(context.assessingTeam
              ? { assessingTeam: context.assessingTeam }
              : actor.organisation
                ? { assessingTeam: { organisationId: actor.organisation, startedBy: asProfessional(actor) } }
                : {}),
          },
        },
      ];
    case 'CompleteTrainingModule': {
      const outstanding = modulesOutstanding(context).filter((id) => id !== command.moduleId);
      const completed = [...context.modulesCompleted, command.moduleId];
      return [
        { type: 'TrainingModuleCompleted', data: { moduleId: command.moduleId, ...(command.evidence ? { evidence: command.evidence } : {}) } },
        ...(outstanding.length === 0 ? [{ type: 'TrainingCompleted' as const, data: { modules: completed } }] : []),
      ];
    }
    case 'RecordSupervisedPractice': {
      const required = context.requirements?.supervisedPractices ?? framework.competence.supervisedPractices;
      const satisfactoryCount = context.satisfactoryPractices + (command.outcome === 'satisfactory' ? 1 : 0);
      const reached = command.outcome === 'satisfactory' && satisfactoryCount >= required;
      return [
        {
          type: 'SupervisedPracticeRecorded',
          data: {
            observer: asProfessional(actor),
            outcome: command.outcome,
            satisfactoryCount,
            required,
            ...(command.patientId ? { patientId: command.patientId } : {}),
            ...(command.notes ? { notes: command.notes } : {}),
          },
        },
        ...(reached ? [{ type: 'ReadyForAssessment' as const, data: { satisfactoryPractices: satisfactoryCount, required } }] : []),
      ];
    }
    case 'SignOffCompetence':
      return [
        {
          type: 'CompetenceSignedOff',
          data: {
            assessor: asProfessional(actor),
            validUntil: command.validUntil ?? addMonths(command.occurredAt, framework.competence.reassessmentMonths),
            // false is refused by the maySignOff guard, with the reason
            careWorkerConsent: command.careWorkerConsent as true,
            frameworkId: framework.id,
            frameworkVersion: framework.version,
          },
        },
      ];
    case 'RecordAssessmentNotPassed':
      return [{ type: 'CompetenceAssessmentNotPassed', data: { assessor: asProfessional(actor), feedback: command.feedback } }];
    case 'ExpireCompetence':
      return [{ type: 'CompetenceLapsed', data: { validUntil: context.validUntil ?? command.occurredAt } }];
    case 'SuspendCompetence':
      return [{ type: 'CompetenceSuspended', data: { by: asStaff(actor), reason: command.reason, ...(authority ? { authority } : {}) } }];
    case 'RevokeCompetence':
      return [{ type: 'CompetenceRevoked', data: { by: asProfessional(actor), reason: command.reason } }];
    case 'ReinstateCompetence':
      return [{ type: 'CompetenceReinstated', data: { by: asProfessional(actor), reason: command.reason, validUntil: context.validUntil ?? command.occurredAt } }];
  }
};

/**
 * Decides a competence command on the state rebuilt from the stream: the events to append, or a
 * refusal with the reason (a command the current state does not allow is refused, never dropped).
 */
export const decideCompetence = (state: CompetenceState, command: CompetenceCommand, { actor, authority }: CompetenceDecisionContext): Decision<CompetenceEvent> => {
  const stream = wrongStream(state, command);
  if (stream) return { ok: false, refusal: stream };
  return core.decideEvents(state, command.type, command.occurredAt, intend(state, command, actor, authority));
};

// ---------------------------------------------------------------------------------------------
// Who may act on a competence (docs/decisions/0012-competence-authority.md)
// ---------------------------------------------------------------------------------------------

/** What the command edge reads from the practitioner streams for competenceAuthority. */
export interface CompetenceAuthorityFacts {
  /** The acting practitioner's own record (practitioner-<actor id>); undefined when Tandem holds none. */
  readonly actorRecord: PractitionerRecord | undefined;
  /** The care worker's record (practitioner-<careWorkerId>); undefined when Tandem holds none. */
  readonly careWorkerRecord: PractitionerRecord | undefined;
  /**
   * For a stream recorded before the assessing team was kept: the organisation of the nurse who
   * started its training (from their record). Undefined for a new stream.
   */
  readonly legacyTeam?: string | undefined;
}

const REGISTRATION_FIELD: Readonly<Record<CompetenceCommand['type'], string>> = {
  StartTraining: 'actor.registration',
  CompleteTrainingModule: 'actor.registration',
  RecordSupervisedPractice: 'observer.registration',
  SignOffCompetence: 'assessor.registration',
  RecordAssessmentNotPassed: 'assessor.registration',
  ExpireCompetence: 'actor.registration',
  SuspendCompetence: 'by.registration',
  RevokeCompetence: 'by.registration',
  ReinstateCompetence: 'by.registration',
};

export type CompetenceAuthorityDecision =
  | { readonly ok: true; readonly actor: Actor; readonly authority?: CompetenceAuthority }
  | { readonly ok: false; readonly refusal: Refusal };

/**
 * Whether this actor may send this command to this competency stream, decided from the stream (its
 * assessing team) and the practitioners' own records, never from a read model or a token's say-so:
 *
 * - the scheduler (system) only lapses a competence at its expiry, and nobody else does;
 * - the actor must be a practitioner Tandem holds, in the role their sign-in names, and a
 *   registration they carry must be their own;
 * - training is started for a registered care worker only (a role the framework may delegate to);
 * - once the stream exists, only the practitioners of its assessing team (the organisation of the
 *   nurse who started the training) act on it; the machine's guards then decide which roles;
 * - safeguarding: the registered manager of the care worker's employer may suspend (only suspend),
 *   recorded with authority `safeguarding`.
 *
 * Anyone else is refused with code `competence.not-authorised` (403).
 */
export const competenceAuthority = (state: CompetenceState, command: CompetenceCommand, actor: Actor, facts: CompetenceAuthorityFacts): CompetenceAuthorityDecision => {
  const { framework, assessingTeam, careWorker } = state.context;
  const careWorkerId = command.type === 'StartTraining' ? command.careWorker.practitionerId : command.careWorkerId;
  const notAuthorised = (field: string, reason: string): CompetenceAuthorityDecision => ({ ok: false, refusal: refuse('competence.not-authorised', field, reason) });
  if (command.type === 'ExpireCompetence' || actor.role === 'system') {
    return command.type === 'ExpireCompetence' && actor.role === 'system'
      ? { ok: true, actor }
      : notAuthorised('actor', command.type === 'ExpireCompetence' ? 'Only the scheduler lapses a competence, at its expiry' : 'The system only lapses a competence at its expiry');
  }
  const verified = verifiedActor(actor, facts.actorRecord, { code: 'competence', action: `${command.type} for ${careWorkerId}`, registrationField: REGISTRATION_FIELD[command.type] });
  if (!verified.ok) return verified;
  const record = facts.actorRecord!;

  if (command.type === 'StartTraining') {
    const worker = facts.careWorkerRecord;
    if (!worker) {
      return { ok: false, refusal: refuse('competence.care-worker-not-registered', 'careWorker.practitionerId', `${careWorkerId} is not a practitioner registered in Tandem: register the care worker first`) };
    }
    if (!framework.mayReceive.includes(worker.role)) {
      return {
        ok: false,
        refusal: refuse('competence.care-worker-not-registered', 'careWorker.practitionerId', `${careWorkerId} is registered as ${worker.role}; ${framework.title} is delegated only to ${framework.mayReceive.join(' or ')}`),
      };
    }
    if (worker.role !== command.careWorker.role) {
      return { ok: false, refusal: refuse('competence.care-worker-role', 'careWorker.role', `${careWorkerId} is registered as ${worker.role}, not ${command.careWorker.role}`) };
    }
  }

  const team = assessingTeam?.organisationId ?? (careWorker ? facts.legacyTeam : undefined);
  // A new stream: whoever starts the training (an assessor, checked by the machine) makes their team the assessing team.
  if (team === undefined) return { ok: true, actor: verified.actor };
  if (record.organisationId === team) return { ok: true, actor: verified.actor, ...(command.type === 'SuspendCompetence' ? { authority: 'assessing-team' as const } : {}) };
  if (command.type === 'SuspendCompetence' && record.role === 'registered-manager' && facts.careWorkerRecord?.organisationId === record.organisationId) {
    return { ok: true, actor: verified.actor, authority: 'safeguarding' };
  }
  return notAuthorised(
    'actor',
    `Only the nursing team that trains and assesses ${careWorkerId} for ${framework.title} (${team}) may do this` +
      (command.type === 'SuspendCompetence' ? ', or the registered manager of the care worker’s employer for safeguarding' : '') +
      `; you are of ${record.organisationId}`,
  );
};

/** The competence as a delegation reads it when it is activated. */
export const competenceSnapshotOf = (state: CompetenceState): CompetenceSnapshot | undefined => {
  const { careWorker, framework, validUntil } = state.context;
  if (!careWorker) return undefined;
  return { careWorkerId: careWorker.practitionerId, frameworkId: framework.id, status: state.value as CompetenceStatus, ...(validUntil ? { validUntil } : {}) };
};

/** Whether the care worker may practise unsupervised at this time. */
export const isCompetenceCurrent = (state: CompetenceState, at: string): boolean =>
  state.value === 'signedOff' && state.context.validUntil !== undefined && isBefore(at, state.context.validUntil);

/** The timer the scheduler must hold for this stream: EXPIRE at validUntil while signed off or suspended. */
export const competenceTimer = (state: CompetenceState): { dueAt: string; command: CompetenceCommand } | undefined => {
  const { careWorker, framework, validUntil } = state.context;
  if ((state.value !== 'signedOff' && state.value !== 'suspended') || !validUntil || !careWorker) return undefined;
  return {
    dueAt: validUntil,
    command: {
      type: 'ExpireCompetence',
      idempotencyKey: `competency-${careWorker.practitionerId}-${framework.id}:expire:${validUntil}`,
      occurredAt: validUntil,
      careWorkerId: careWorker.practitionerId,
      frameworkId: framework.id,
    },
  };
};
