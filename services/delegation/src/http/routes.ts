import type { DelegationOperationId } from '@tandem/auth';
import {
  AcceptDelegationSchema,
  AcknowledgeCarePromptSchema,
  AcknowledgeEscalationSchema,
  ActivateDelegationSchema,
  CompleteTrainingModuleSchema,
  DateTimeSchema,
  DeclineDelegationSchema,
  EndDelegationSchema,
  IdSchema,
  ProposeDelegationSchema,
  RecordAssessmentNotPassedSchema,
  RecordPersonAgreementSchema,
  RecordSupervisedPracticeSchema,
  ReinstateCompetenceSchema,
  ResolveEscalationSchema,
  ReviewDelegationSchema,
  RevokeCompetenceSchema,
  SignOffCompetenceSchema,
  StartTrainingSchema,
  SuspendCompetenceSchema,
  SuspendDelegationSchema,
  WithdrawDelegationSchema,
  type Actor,
  type CompetenceCommand,
  type DelegationCommand,
  type EscalationCommand,
} from '@tandem/contracts';
import type { z } from 'zod';
import type { CommandResult, CommandTrace, DelegationCommands } from '../application/commands';
import { DelegationNotFound } from '../application/errors';
import { competencyStreamId, nameBasedId } from '../application/streams';
import { restorationsFor } from '../reactions/competence';
import type { DelegationViews } from '../reactions/read-model';
import type { About } from './access';

/** What a route's handler works with. */
export interface DelegationApi {
  readonly commands: DelegationCommands;
  readonly views: DelegationViews;
}

/** One JSON command route: the table drives the router, the access check and the OpenAPI document alike. */
export interface DelegationCommandRoute {
  /** Also the route's entry in the access policy (@tandem/auth DELEGATION_ACCESS). */
  readonly operationId: DelegationOperationId;
  readonly path: string;
  readonly summary: string;
  /** Who the route is for, in words (nurse, care worker, ...). */
  readonly for: string;
  /** The body, with the path parameters copied in; occurredAt defaults to the server's clock. */
  readonly schema: z.ZodType;
  readonly pathParams: readonly string[];
  /** Who the command concerns, read from the stored stream (never from the body's say-so). */
  readonly about: (api: DelegationApi, command: never) => Promise<About>;
  readonly run: (api: DelegationApi, command: never, actor: Actor, trace: CommandTrace) => Promise<CommandResult & { readonly delegationId?: string; readonly delegations?: unknown }>;
}

const when = { occurredAt: DateTimeSchema.optional() };
const paramsOf = (path: string): string[] => [...path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);

const nobody = async (): Promise<About> => 'nobody';

const delegationAbout = async (api: DelegationApi, command: { delegationId: string }): Promise<About> => {
  const loaded = await api.commands.loadDelegation(command.delegationId);
  const patientId = loaded?.state.context.patientId;
  if (!patientId) throw new DelegationNotFound('delegationId', `There is no delegation ${command.delegationId}`);
  return { patientId };
};

const escalationAbout = async (api: DelegationApi, command: { escalationId: string }): Promise<About> => {
  const loaded = await api.commands.loadEscalation(command.escalationId);
  const patientId = loaded?.state.context.patientId;
  if (!patientId) throw new DelegationNotFound('escalationId', `There is no escalation ${command.escalationId}`);
  return { patientId };
};

const promptAbout = async (api: DelegationApi, command: { promptId: string }): Promise<About> => {
  const loaded = await api.commands.loadPrompt(command.promptId);
  const patientId = loaded?.state.prompt?.patientId;
  if (!patientId) throw new DelegationNotFound('promptId', `There is no prompt ${command.promptId}`);
  return { patientId };
};

type Schema = z.ZodObject;

const competenceRoute = (operationId: CompetenceCommand['type'] & DelegationOperationId, verb: string, schema: Schema, summary: string): DelegationCommandRoute => {
  const path = `/api/competences/:careWorkerId/:frameworkId/${verb}`;
  return {
    operationId,
    path,
    summary,
    for: 'nurse',
    schema: schema.extend(when),
    pathParams: paramsOf(path),
    about: nobody,
    run: (api, command: Omit<CompetenceCommand, 'type'>, actor, trace) => api.commands.competence({ ...command, type: operationId } as CompetenceCommand, actor, trace),
  };
};

const delegationRoute = (operationId: DelegationCommand['type'] & DelegationOperationId, verb: string, schema: Schema, summary: string, who: string): DelegationCommandRoute => {
  const path = `/api/delegations/:delegationId/${verb}`;
  return {
    operationId,
    path,
    summary,
    for: who,
    schema: schema.extend(when),
    pathParams: paramsOf(path),
    about: delegationAbout,
    run: (api, command: Omit<DelegationCommand, 'type'>, actor, trace) => api.commands.delegation({ ...command, type: operationId } as DelegationCommand, actor, trace),
  };
};

const escalationRoute = (operationId: EscalationCommand['type'] & DelegationOperationId, verb: string, schema: Schema, summary: string): DelegationCommandRoute => {
  const path = `/api/escalations/:escalationId/${verb}`;
  return {
    operationId,
    path,
    summary,
    for: 'nurse, GP, or the care worker at the last tier',
    schema: schema.extend(when),
    pathParams: paramsOf(path),
    about: escalationAbout,
    run: (api, command: Omit<EscalationCommand, 'type'>, actor, trace) => api.commands.escalation({ ...command, type: operationId } as EscalationCommand, actor, trace),
  };
};

/** A delegation's id is the client's or, when left out, named from the proposer and the idempotency key (a retry proposes nothing twice). */
const proposedDelegationId = (actor: Actor, idempotencyKey: string): string => nameBasedId(`delegation|${actor.id}|${idempotencyKey}`);

export const DELEGATION_ROUTES: readonly DelegationCommandRoute[] = [
  // Competence: the care worker's skills passport, kept by the nurse who trains and assesses them.
  {
    operationId: 'StartTraining',
    path: '/api/competences',
    summary: 'Start a care worker’s training for a framework (the framework’s modules and supervised practice count are kept with it)',
    for: 'nurse',
    schema: StartTrainingSchema.extend(when),
    pathParams: [],
    about: nobody,
    run: (api, command: Omit<Extract<CompetenceCommand, { type: 'StartTraining' }>, 'type'>, actor, trace) => api.commands.competence({ ...command, type: 'StartTraining' }, actor, trace),
  },
  competenceRoute('CompleteTrainingModule', 'modules', CompleteTrainingModuleSchema, 'Record a training module completed (the last one completes the training)'),
  competenceRoute('RecordSupervisedPractice', 'supervised-practice', RecordSupervisedPracticeSchema, 'Record one supervised practice observed by you (n of N; the Nth satisfactory one makes the care worker ready for assessment)'),
  competenceRoute('SignOffCompetence', 'sign-off', SignOffCompetenceSchema, 'Sign off competence with the care worker’s consent, valid until reassessment (registered nurse, never yourself)'),
  competenceRoute('RecordAssessmentNotPassed', 'assessment-not-passed', RecordAssessmentNotPassedSchema, 'Record an assessment not passed: more supervised practice first'),
  competenceRoute('SuspendCompetence', 'suspension', SuspendCompetenceSchema, 'Suspend a competence with a reason: every delegation that depends on it is suspended at once'),
  competenceRoute('RevokeCompetence', 'revocation', RevokeCompetenceSchema, 'Revoke a competence with a reason: every delegation that depends on it is suspended at once'),
  {
    ...competenceRoute('ReinstateCompetence', 'reinstatement', ReinstateCompetenceSchema, ''),
    summary:
      'Reinstate a suspended competence (before it expires): the delegations its suspension suspended are active again; the answer lists them (delegations.restored) and any that need reactivating by a nurse, with why (delegations.needReactivating)',
    run: async (api, command: Omit<Extract<CompetenceCommand, { type: 'ReinstateCompetence' }>, 'type'>, actor, trace) => {
      const result = await api.commands.competence({ ...command, type: 'ReinstateCompetence' }, actor, trace);
      const stream = await api.commands.store.readStream(competencyStreamId(command.careWorkerId, command.frameworkId));
      const reinstated = stream.find((e) => e.id === result.eventIds[0]);
      const plan = reinstated ? await restorationsFor({ store: api.commands.store, commands: api.commands, views: api.views }, reinstated) : { restore: [], needReactivating: [] };
      return {
        ...result,
        delegations: {
          restored: plan.restore.map(({ delegationId, patientId }) => ({ delegationId, patientId })),
          needReactivating: plan.needReactivating,
        },
      };
    },
  },
  // Delegations
  {
    operationId: 'ProposeDelegation',
    path: '/api/delegations',
    summary:
      'Propose a delegation to a registered care worker with a person-specific instruction (for insulin: product, device, dose in units, times, sites, glucose targets); eligibility holds the facts you assess (the age is taken from the birth date in the person’s record: ageYears is not accepted), and every failing criterion is listed at once',
    for: 'nurse',
    schema: ProposeDelegationSchema.extend({ delegationId: IdSchema.optional(), ...when }),
    pathParams: [],
    about: async (_api, command: { patientId: string }) => ({ patientId: command.patientId }),
    run: async (api, command: Omit<Extract<DelegationCommand, { type: 'ProposeDelegation' }>, 'type' | 'delegationId'> & { delegationId?: string }, actor, trace) => {
      const delegationId = command.delegationId ?? proposedDelegationId(actor, command.idempotencyKey);
      const result = await api.commands.delegation({ ...command, type: 'ProposeDelegation', delegationId }, actor, trace);
      return { ...result, delegationId };
    },
  },
  delegationRoute('AcceptDelegation', 'acceptance', AcceptDelegationSchema, 'Accept a delegation proposed to you', 'care worker'),
  delegationRoute('DeclineDelegation', 'decline', DeclineDelegationSchema, 'Decline a delegation proposed to you (declining is normal: a reason may be given, never required)', 'care worker'),
  delegationRoute('RecordPersonAgreement', 'person-agreement', RecordPersonAgreementSchema, 'Record the person’s (or their representative’s) agreement to the delegation', 'nurse'),
  {
    ...delegationRoute('ActivateDelegation', 'activation', ActivateDelegationSchema.omit({ competence: true }), '', 'nurse'),
    summary: 'Activate an accepted delegation: needs the person’s agreement and the care worker’s current competence (read from their competency record)',
    run: (api, command: Omit<Extract<DelegationCommand, { type: 'ActivateDelegation' }>, 'type' | 'competence'>, actor, trace) => api.commands.activate(command, actor, trace),
  },
  delegationRoute('ReviewDelegation', 'review', ReviewDelegationSchema, 'Review a delegation (it stays active until the next review)', 'nurse'),
  delegationRoute('SuspendDelegation', 'suspension', SuspendDelegationSchema, 'Suspend a delegation with a reason', 'nurse'),
  delegationRoute('WithdrawDelegation', 'withdrawal', WithdrawDelegationSchema, 'Withdraw a delegation with a reason (the nurse, or the care worker handing it back)', 'nurse or care worker'),
  delegationRoute('EndDelegation', 'end', EndDelegationSchema, 'End a delegation with a reason', 'nurse'),
  // Escalations and prompts
  escalationRoute('AcknowledgeEscalation', 'acknowledgement', AcknowledgeEscalationSchema, 'Acknowledge an escalation at the tier it is with (stops it going to the next tier)'),
  escalationRoute('ResolveEscalation', 'resolution', ResolveEscalationSchema, 'Resolve an acknowledged escalation with its outcome (registered nurse or GP)'),
  {
    operationId: 'AcknowledgeCarePrompt',
    path: '/api/prompts/:promptId/acknowledgement',
    summary: 'Acknowledge a prompt (e.g. the hypo protocol) shown to you at the bedside',
    for: 'care worker',
    schema: AcknowledgeCarePromptSchema.extend(when),
    pathParams: ['promptId'],
    about: promptAbout,
    run: (api, command: { promptId: string; idempotencyKey: string; occurredAt: string; note?: string }, actor, trace) =>
      api.commands.prompt({ ...command, type: 'AcknowledgeCarePrompt' }, actor, trace),
  },
];

/** The read routes (GET), for the OpenAPI document. */
export const DELEGATION_READS: readonly { path: string; operationId: string; summary: string; query?: Record<string, string> }[] = [
  { path: '/api/frameworks', operationId: 'ListFrameworks', summary: 'The delegation frameworks in force, with their local settings next to the national defaults' },
  { path: '/api/frameworks/{frameworkId}', operationId: 'ReadFramework', summary: 'One framework as resolved for this organisation (activities, competence, monitoring, rules, escalation tiers)' },
  {
    path: '/api/worklist',
    operationId: 'ReadWorklist',
    summary:
      "A care worker's worklist for a day: delegated activities due with what to record, delegations awaiting an answer, open prompts, escalations at the care worker's tier; only the people you may read (the others are left out)",
    query: { date: 'YYYY-MM-DD in England (default today)', careWorkerId: 'a nurse may read a care worker’s list (default: yours)' },
  },
  { path: '/api/delegations', operationId: 'ListDelegations', summary: 'Delegations of a person, or your own (as care worker or delegating nurse), of the people you may read', query: { patientId: 'the person' } },
  { path: '/api/delegations/{delegationId}', operationId: 'ReadDelegation', summary: 'One delegation: its state and events' },
  {
    path: '/api/escalations',
    operationId: 'ListEscalations',
    summary: 'Escalations of a person; without one, those that reached you (at any tier, or informed) and those of the people you delegated for, of the people you may read',
    query: { patientId: 'the person', open: 'true or false' },
  },
  { path: '/api/escalations/{escalationId}', operationId: 'ReadEscalation', summary: 'One escalation with its SBARD message and every step' },
  { path: '/api/prompts', operationId: 'ListPrompts', summary: 'Your prompts (or a person’s), of the people you may read', query: { patientId: 'the person', open: 'true' } },
  {
    path: '/api/oncall-rotas/{organisationId}',
    operationId: 'ReadOnCallRota',
    summary: "An organisation's on-call rota: who the on-call tier of an escalation reaches, when (England's local time); docs/clinical/escalation-recipients.md",
  },
  { path: '/api/competences/{careWorkerId}', operationId: 'ReadCompetences', summary: "A care worker's competences (the skills passport)" },
  {
    path: '/api/competences/{careWorkerId}/{frameworkId}',
    operationId: 'ReadCompetence',
    summary: "One competence of a care worker: its state, modules completed, supervised practices, and every step with who took it (the skills passport's history)",
  },
];
