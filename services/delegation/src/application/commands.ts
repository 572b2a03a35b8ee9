import type {
  ActivateDelegation,
  Actor,
  PersonFacts,
  PractitionerRegisteredData,
  CompetenceCommand,
  DelegationCommand,
  EscalationCommand,
  EscalationRaisedData,
  OnCallRotaSetData,
  PromptCommand,
  SetOnCallRota,
} from '@tandem/contracts';
import { OCCURRED_AT_MAX_FUTURE_MINUTES } from '@tandem/contracts';
import type { EventStore, RecordedEvent } from '@tandem/event-store';
import { commandDigest, executeStreamCommand, type CommandResult } from '@tandem/commands';
import { ageInYears, FACTS_FROM_THE_RECORD, type Framework, type Ruleset } from '../frameworks';
import {
  competenceAuthority,
  competenceSnapshotOf,
  decideCompetence,
  decideDelegation,
  decideEscalation,
  eligibilityProblems,
  replayCompetence,
  replayDelegation,
  replayEscalation,
  refuse,
  timedFromStored,
  verifiedActor,
  type CompetenceState,
  type Decision,
  type DelegationState,
  type EscalationState,
  type PractitionerRecord,
} from '../machines';
import { decidePrompt, replayPrompt, type PromptState } from '../prompts';
import type { Clock } from './clock';
import { DelegationCommandRefused, DelegationNotFound } from './errors';
import type { FrameworkCatalogue } from './frameworks';
import { englandDate } from '@tandem/contracts';
import { decideOnCallRota } from '../rules/rota';
import { resolveRecipients, type ResolveRecipients } from '../rules/recipients';
import { loadRecipientDirectory } from './directory';
import { competencyStreamId, delegationStreamId, escalationStreamId, onCallRotaStreamId, patientStreamOf, practitionerStreamOf, promptStreamId } from './streams';

/** Who acts when the service itself reacts to an entry or fires a timer. */
export const DELEGATION_SYSTEM_ACTOR: Actor = { id: 'tandem-delegation', role: 'system' };

/** Tracing for commands the service sends itself: the event it reacts to. */
export interface CommandTrace {
  readonly causationId?: string;
  readonly correlationId?: string;
  /** Fields the edge filled in itself (occurredAt left out by the client): a retry cannot repeat them, so they stay out of the command's digest. */
  readonly stamped?: readonly string[];
}

export type { CommandResult };

const timed = <Event>(events: readonly RecordedEvent[]) => events.map((e) => timedFromStored(e) as unknown as Event & { occurredAt: string });

const dataOf = (event: RecordedEvent | undefined): Record<string, unknown> | undefined => event?.data as Record<string, unknown> | undefined;

/** Where a delegation command's event names its professional: the field a registration not their own is refused on. */
const DELEGATION_REGISTRATION_FIELD: Partial<Record<DelegationCommand['type'], string>> = {
  ProposeDelegation: 'delegatedBy.registration',
  ActivateDelegation: 'activatedBy.registration',
  ReviewDelegation: 'reviewedBy.registration',
  SuspendDelegation: 'by.registration',
  WithdrawDelegation: 'by.registration',
  EndDelegation: 'by.registration',
};

/** A stream rebuilt to a state, with what it is about. */
export interface Loaded<State, Rules extends Ruleset = Framework> {
  readonly state: State;
  readonly framework: Rules;
  readonly events: readonly RecordedEvent[];
}

/**
 * A person cannot answer an escalation or a prompt before it existed (issue 9.6: an acknowledgement
 * dated 2001 was stored for an escalation raised in 2026): a time before the stream's first event,
 * beyond the clock drift allowed between a phone and the server, is refused naming occurredAt.
 */
const notBeforeItBegan = (events: readonly RecordedEvent[], occurredAt: string, began: string): void => {
  const first = events[0]?.metadata.occurredAt;
  if (first === undefined) return;
  if (Date.parse(occurredAt) < Date.parse(first) - OCCURRED_AT_MAX_FUTURE_MINUTES * 60_000) {
    throw new DelegationCommandRefused(refuse('time.before-it-began', 'occurredAt', `occurredAt ${occurredAt} is before ${began} (${first}): check the date`));
  }
};

/**
 * The delegation service's command edge, mirroring the care record's: load the stream, rebuild
 * the machine's state, decide, append with the revision read (executeStreamCommand from
 * @tandem/commands). A refusal throws DelegationCommandRefused and nothing is stored; an idempotency
 * key already in the stream returns the original result.
 */
export class DelegationCommands {
  constructor(
    /** Read-only use outside (the reinstatement's answer reads the delegation streams): writes go through the commands. */
    readonly store: EventStore,
    readonly frameworks: FrameworkCatalogue,
    readonly clock: Clock,
  ) {}

  framework(frameworkId: string, field = 'frameworkId'): Framework {
    const framework = this.frameworks.get(frameworkId);
    if (!framework) {
      throw new DelegationNotFound(field, `There is no framework ${frameworkId} (frameworks: ${this.frameworks.all().map((f) => f.id).join(', ')})`);
    }
    return framework;
  }

  /** A framework or the whole-record ruleset: what an escalation or a prompt is raised under. */
  ruleset(rulesetId: string, field = 'frameworkId'): Ruleset {
    const ruleset = this.frameworks.ruleset(rulesetId);
    if (!ruleset) throw new DelegationNotFound(field, `There is no framework or ruleset ${rulesetId}`);
    return ruleset;
  }

  private run<State, Event extends { type: string; data: unknown }>(
    stream: string,
    fold: (events: readonly RecordedEvent[]) => State,
    decide: (state: State) => Decision<Event>,
    command: { type?: string; idempotencyKey: string; occurredAt: string },
    actor: Actor,
    { stamped = [], ...trace }: CommandTrace,
  ): Promise<CommandResult> {
    // A person's command (issue 9.4, 16.5): the key is scoped to them and the command, and the same
    // key with different content is refused (IdempotencyKeyReused), as the care record's. The
    // service's own commands (reactions, timers) keep the stream-wide key they were stored with.
    const said = Object.fromEntries(Object.entries(command).filter(([field]) => field !== 'idempotencyKey' && !stamped.includes(field)));
    const scoped = actor.role === 'system' ? {} : { command: { name: command.type ?? 'SetOnCallRota', digest: commandDigest(said) } };
    return executeStreamCommand(this.store, {
      stream,
      fold,
      decide: (state) => {
        const decision = decide(state);
        if (!decision.ok) throw new DelegationCommandRefused(decision.refusal);
        return decision.events;
      },
      meta: { actor, idempotencyKey: command.idempotencyKey, occurredAt: command.occurredAt, ...trace, ...scoped },
    });
  }

  // -------------------------------------------------------------------------------------------
  // Commands
  // -------------------------------------------------------------------------------------------

  /**
   * A competence command, decided on the competency stream and the practitioners' own records:
   * who may act (competenceAuthority: the assessing team, the safeguarding manager, the scheduler
   * at expiry) and as whom (the record's registration and organisation, never the token's say-so).
   * The event names the verified actor; the metadata keeps the sign-in as it came.
   */
  async competence(command: CompetenceCommand, actor: Actor, trace: CommandTrace = {}): Promise<CommandResult> {
    const framework = this.framework(command.frameworkId);
    const careWorkerId = command.type === 'StartTraining' ? command.careWorker.practitionerId : command.careWorkerId;
    const [actorRecord, careWorkerRecord] = actor.role === 'system' ? [undefined, undefined] : await Promise.all([this.practitioner(actor.id), this.practitioner(careWorkerId)]);
    const stream = competencyStreamId(careWorkerId, framework.id);
    // A stream recorded before the assessing team was kept: the team of the nurse who started its training.
    const starter = (await this.store.readStream(stream, { maxCount: 1 }))[0];
    const legacyTeam = starter && !dataOf(starter)?.assessingTeam ? (await this.practitioner(starter.metadata.actor.id))?.organisationId : undefined;
    return this.run(
      stream,
      (events) => replayCompetence(framework, timed(events)),
      (state) => {
        const authority = competenceAuthority(state, command, actor, { actorRecord, careWorkerRecord, legacyTeam });
        if (!authority.ok) return authority;
        return decideCompetence(state, command, { actor: authority.actor, ...(authority.authority ? { authority: authority.authority } : {}) });
      },
      command,
      actor,
      trace,
    );
  }

  /**
   * A delegation command. A person acting is checked against their practitioner record (a
   * registration they carry must be their own); a delegation is proposed only to a registered care
   * worker, and the person's age comes from the birth date in their own record.
   */
  async delegation(command: DelegationCommand, actor: Actor, trace: CommandTrace = {}): Promise<CommandResult> {
    let acting = actor;
    if (actor.role !== 'system') {
      const verified = verifiedActor(actor, await this.practitioner(actor.id), {
        code: 'delegation',
        action: command.type,
        registrationField: DELEGATION_REGISTRATION_FIELD[command.type] ?? 'actor.registration',
      });
      if (!verified.ok) throw new DelegationCommandRefused(verified.refusal);
      acting = verified.actor;
    }
    const decided: DelegationCommand = command.type === 'ProposeDelegation' ? await this.withRecordFacts(command) : command;
    return this.run(
      delegationStreamId(command.delegationId),
      (events) => {
        const proposed = dataOf(events.find((e) => e.type === 'DelegationProposed'));
        if (!proposed && command.type !== 'ProposeDelegation') throw new DelegationNotFound('delegationId', `There is no delegation ${command.delegationId}`);
        const framework = this.framework(String(proposed?.frameworkId ?? (command as { frameworkId: string }).frameworkId));
        return replayDelegation(framework, timed(events));
      },
      (state) => decideDelegation(state, decided, { actor: acting }),
      command,
      actor,
      trace,
    );
  }

  /**
   * A proposal with the facts the record holds put in: the care worker must be registered in a role
   * the framework delegates to, and the age is the person's, from the birth date in their patient
   * stream, on the day (in England). A client that types one of these facts is refused naming it.
   */
  private async withRecordFacts(command: Extract<DelegationCommand, { type: 'ProposeDelegation' }>): Promise<DelegationCommand> {
    const framework = this.framework(command.frameworkId);
    const typed = Object.keys(command.eligibility).filter((fact): fact is keyof typeof FACTS_FROM_THE_RECORD => fact in FACTS_FROM_THE_RECORD);
    const problems = typed.map((fact) =>
      refuse('delegation.fact-from-the-record', `eligibility.${fact}`, `eligibility.${fact} is not accepted: Tandem takes ${FACTS_FROM_THE_RECORD[fact]}`),
    );
    const worker = await this.practitioner(command.careWorker.practitionerId);
    if (!worker || !framework.mayReceive.includes(worker.role)) {
      problems.push(
        refuse(
          'delegation.care-worker-not-registered',
          'careWorker.practitionerId',
          worker
            ? `${command.careWorker.practitionerId} is registered as ${worker.role}; ${framework.title} is delegated only to ${framework.mayReceive.join(' or ')}`
            : `${command.careWorker.practitionerId} is not a practitioner registered in Tandem: register the care worker first`,
        ),
      );
    } else if (worker.role !== command.careWorker.role) {
      problems.push(refuse('delegation.care-worker-role', 'careWorker.role', `${command.careWorker.practitionerId} is registered as ${worker.role}, not ${command.careWorker.role}`));
    }
    const birthDate = await this.birthDateOf(command.patientId);
    if (!birthDate) throw new DelegationNotFound('patientId', `There is no person ${command.patientId} in the record`);
    const ageYears = ageInYears(birthDate, englandDate(new Date(command.occurredAt)));
    const recordFacts: PersonFacts = { ...Object.fromEntries(Object.entries(command.eligibility).filter(([fact]) => !(fact in FACTS_FROM_THE_RECORD))), ageYears };
    // Every criterion the person fails, with the age from their record, in the same answer as the rest.
    problems.push(
      ...eligibilityProblems(framework, recordFacts).map((p) =>
        p.field === 'eligibility.ageYears' ? { ...p, reason: `${p.reason}; from the birth date ${birthDate} in the person's record` } : p,
      ),
    );
    if (problems.length > 0) {
      const [first] = problems as [ReturnType<typeof refuse>];
      throw new DelegationCommandRefused(
        problems.length === 1 ? first : { ...first, reason: problems.map((p) => p.reason).join('; '), errors: problems.map((p) => ({ field: p.field, message: p.reason })) },
      );
    }
    return { ...command, eligibility: recordFacts };
  }

  /** A practitioner as their own stream records them (PractitionerRegistered), or undefined when Tandem holds none. */
  async practitioner(practitionerId: string): Promise<PractitionerRecord | undefined> {
    const events = await this.store.readStream(practitionerStreamOf(practitionerId));
    const registered = events.find((e) => e.type === 'PractitionerRegistered')?.data as PractitionerRegisteredData | undefined;
    return registered && { practitionerId: registered.practitionerId, role: registered.role, registration: registered.registration, organisationId: registered.organisationId };
  }

  /** The person's birth date as their patient stream holds it now (registration, then any change of details). */
  private async birthDateOf(patientId: string): Promise<string | undefined> {
    let birthDate: string | undefined;
    for (const event of await this.store.readStream(patientStreamOf(patientId))) {
      const data = dataOf(event);
      if ((event.type === 'PatientRegistered' || event.type === 'PatientDetailsUpdated') && typeof data?.birthDate === 'string') birthDate = data.birthDate;
    }
    return birthDate;
  }

  /**
   * Activates a delegation with the care worker's competence as their competency stream holds it
   * now (the caller never supplies it). The reaction to DelegationActivated checks it again, so a
   * competence suspended in between still suspends the delegation at once.
   */
  async activate(command: Omit<ActivateDelegation, 'competence'>, actor: Actor, trace: CommandTrace = {}): Promise<CommandResult> {
    const delegation = await this.loadDelegation(command.delegationId);
    if (!delegation) throw new DelegationNotFound('delegationId', `There is no delegation ${command.delegationId}`);
    const { careWorker, framework } = delegation.state.context;
    const careWorkerId = careWorker?.practitionerId ?? '';
    const competence = await this.loadCompetence(careWorkerId, framework.id);
    const snapshot = (competence && competenceSnapshotOf(competence)) ?? { careWorkerId, frameworkId: framework.id, status: 'notStarted' as const };
    // The snapshot is read from the record, not sent: a retry after it changed is still the same command.
    return this.delegation({ ...command, type: 'ActivateDelegation', competence: snapshot }, actor, { ...trace, stamped: [...(trace.stamped ?? []), 'competence'] });
  }

  /**
   * An escalation command. Sending to a tier (raising, a deadline passed) names the tier's people
   * from the streams (loadRecipientDirectory), as they stood before `before` when a reaction gives it.
   */
  async escalation(command: EscalationCommand, actor: Actor, trace: CommandTrace = {}, options: { before?: number } = {}): Promise<CommandResult> {
    let recipients: ResolveRecipients | undefined;
    if (command.type === 'RaiseEscalation' || command.type === 'EscalationDeadlinePassed') {
      const raised =
        command.type === 'RaiseEscalation'
          ? command
          : ((await this.store.readStream(escalationStreamId(command.escalationId))).find((e) => e.type === 'EscalationRaised')?.data as EscalationRaisedData | undefined);
      if (raised) {
        const directory = await loadRecipientDirectory(this.store, {
          patientId: raised.patientId,
          ...(raised.delegationId ? { delegationId: raised.delegationId } : {}),
          triggeringEntryIds: raised.triggeringEntryIds,
          ...(raised.visitId ? { visitId: raised.visitId } : {}),
          ...(options.before !== undefined ? { before: options.before } : {}),
        });
        recipients = resolveRecipients(directory);
      }
    }
    return this.run(
      escalationStreamId(command.escalationId),
      (events) => {
        const raised = dataOf(events.find((e) => e.type === 'EscalationRaised'));
        if (!raised && command.type !== 'RaiseEscalation') throw new DelegationNotFound('escalationId', `There is no escalation ${command.escalationId}`);
        if (actor.role !== 'system') notBeforeItBegan(events, command.occurredAt, 'the escalation was raised');
        const framework = this.ruleset(String(raised?.frameworkId ?? (command as { frameworkId: string }).frameworkId));
        return replayEscalation(framework, timed(events));
      },
      (state) => decideEscalation(state, command, { actor, ...(recipients ? { recipients } : {}) }),
      command,
      actor,
      trace,
    );
  }

  /** Replaces an organisation's on-call rota (stream oncall-<organisationId>); the same rota again records nothing. */
  setOnCallRota(command: SetOnCallRota, actor: Actor, trace: CommandTrace = {}): Promise<CommandResult> {
    return this.run(
      onCallRotaStreamId(command.organisationId),
      (events) => [...events].reverse().find((e) => e.type === 'OnCallRotaSet')?.data as OnCallRotaSetData | undefined,
      (current) => decideOnCallRota(current, command),
      command,
      actor,
      trace,
    );
  }

  prompt(command: PromptCommand, actor: Actor, trace: CommandTrace = {}): Promise<CommandResult> {
    return this.run(
      promptStreamId(command.promptId),
      (events) => {
        if (events.length === 0 && command.type !== 'IssueCarePrompt') throw new DelegationNotFound('promptId', `There is no prompt ${command.promptId}`);
        if (actor.role !== 'system') notBeforeItBegan(events, command.occurredAt, 'the prompt was issued');
        return replayPrompt(timed(events));
      },
      (state) => decidePrompt(state, command, { actor }),
      command,
      actor,
      trace,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Streams rebuilt (optionally as they stood at a revision)
  // -------------------------------------------------------------------------------------------

  private async read(stream: string, upToRevision?: number): Promise<RecordedEvent[]> {
    const events = await this.store.readStream(stream);
    return upToRevision === undefined ? events : events.filter((e) => e.revision <= upToRevision);
  }

  async loadCompetence(careWorkerId: string, frameworkId: string, upToRevision?: number): Promise<CompetenceState | undefined> {
    const framework = this.frameworks.get(frameworkId);
    if (!framework) return undefined;
    const events = await this.read(competencyStreamId(careWorkerId, frameworkId), upToRevision);
    return events.length ? replayCompetence(framework, timed(events)) : undefined;
  }

  async loadDelegation(delegationId: string, upToRevision?: number): Promise<Loaded<DelegationState> | undefined> {
    const events = await this.read(delegationStreamId(delegationId), upToRevision);
    const proposed = dataOf(events.find((e) => e.type === 'DelegationProposed'));
    const framework = proposed && this.frameworks.get(String(proposed.frameworkId));
    return framework ? { state: replayDelegation(framework, timed(events)), framework, events } : undefined;
  }

  async loadEscalation(escalationId: string, upToRevision?: number): Promise<Loaded<EscalationState, Ruleset> | undefined> {
    const events = await this.read(escalationStreamId(escalationId), upToRevision);
    const raised = dataOf(events.find((e) => e.type === 'EscalationRaised'));
    const framework = raised && this.frameworks.ruleset(String(raised.frameworkId));
    return framework ? { state: replayEscalation(framework, timed(events)), framework, events } : undefined;
  }

  async loadPrompt(promptId: string, upToRevision?: number): Promise<{ state: PromptState; events: readonly RecordedEvent[] } | undefined> {
    const events = await this.read(promptStreamId(promptId), upToRevision);
    return events.length ? { state: replayPrompt(timed(events)), events } : undefined;
  }
}
