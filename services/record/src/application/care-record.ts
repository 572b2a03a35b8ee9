import {
  careRecordCommandSchemas,
  isLateEntry,
  streamName,
  type DelegationProposedData,
  type Actor,
  type AddCareTeamMember,
  type CareRecordCommandName,
  medicinesCommandSchemas,
  type MedicinesCommandName,
  type PractitionerRegisteredData,
  type RegisterOrganisation,
  type RegisterPatient,
  type RegisterPractitioner,
  type RecordStaffAbsence,
  type SetContractedHours,
  type AgreeGoal,
  type CloseGoal,
  type RecordGoalProgress,
  type RemoveCareTeamMember,
  type SetPatientBaseline,
  type UpdatePatientDetails,
} from '@tandem/contracts';
import type { EventStore } from '@tandem/event-store';
import type { z } from 'zod';
import {
  addCareTeamMember,
  careRecordDecisions,
  evolve,
  evolvePatient,
  initialCareState,
  initialPatientState,
  type CareContext,
  type CareState,
  type PatientEventAsStored,
  type PatientState,
  careStreamId,
  DomainRuleBroken,
  evolveRegistered,
  evolveStaffing,
  agreeGoal,
  closeGoal,
  evolveGoals,
  initialGoalsState,
  recordGoalProgress,
  type GoalsState,
  initialStaffingState,
  recordStaffAbsence,
  setContractedHours,
  initialRegisteredState,
  isCareRecordEvent,
  organisationStreamId,
  patientIdFor,
  patientStreamId,
  practitionerStreamId,
  registerOrganisation,
  registerPatient,
  registerPractitioner,
  removeCareTeamMember,
  setPatientBaseline,
  updatePatientDetails,
  type CareDecision,
  type CareEntry,
  entryOf,
  type RegisteredPatient,
  type StoredCareEvent,
  evolveMedicines,
  initialMedicinesState,
  medicinesDecisions,
  orderOf,
  type MedicinesContext,
  type MedicinesState,
  type MedicinesFacts,
  type StoredMedicinesEvent,
  type StaffingState,
} from '../domain';
import { commandDigest, executeStreamCommand, executeStreamCommandRecording, type CommandResult } from '@tandem/commands';
import { bedsideAnswer, CAN_START_A_RULE, type BedsideAnswer } from '@tandem/contracts';
import { incrementalFold } from './incremental-fold';
import { VisitBook, type VisitOptions } from './visits';

export class PatientNotFound extends Error {
  constructor(readonly patientId: string) {
    super(`No patient ${patientId} is registered`);
    this.name = 'PatientNotFound';
  }
}

type CareCommand<Name extends CareRecordCommandName> = z.output<(typeof careRecordCommandSchemas)[Name]>;
type MedicinesCommand<Name extends MedicinesCommandName> = z.output<(typeof medicinesCommandSchemas)[Name]>;

/**
 * The care record's application service: loads streams, asks the pure domain, appends. Every
 * entry point (JSON API, FHIR writes, demo data) goes through here, so a rule holds everywhere.
 */
export interface CareRecordOptions {
  /**
   * The deployment's id secret (TANDEM_ID_SECRET, or the embedded data directory's): a person's id
   * is keyed from their NHS number with it (patientIdFor). Needed to register people; a care
   * record that only reads (the delegation service's) may go without.
   */
  readonly idSecret?: string | Uint8Array;
  /**
   * The prompts and escalations the delegation service's rules started for an entry, where this
   * process runs that service (the composition root wires it; see
   * services/delegation/src/application/follow-ups.ts). Bounded: `pending` when the rules had not
   * finished in time. Left out, the answer has no follow-ups (never "none").
   */
  readonly followUps?: FollowUpsLookup;
  /** A person's visits: the LOCAL late tolerance, and the MAR's scheduled doses (the insulin ones without it). */
  readonly visits?: VisitOptions;
}

export type FollowUpsLookup = (entry: { eventIds: readonly string[]; position: number }) => Promise<{ promptIds: string[]; escalationIds: string[]; pending: boolean }>;

/** How an edge asks for a command. */
export interface CommandOptions {
  /** Fields the edge filled in itself (a FHIR write's occurredAt: the server's time): left out of the command's digest. */
  readonly stamped?: readonly string[];
  /**
   * Wait (bounded) for the prompts and escalations the entry started, to put them in the answer:
   * the bedside API asks for them; a bulk load (the demo) or a FHIR write does not wait.
   */
  readonly followUps?: boolean;
}

/** The answer to an entry: where it went, and what to do at the bedside (CareEntryReplySchema in the contracts). */
export type CareEntryResult = CommandResult & BedsideAnswer & { entryId?: string; late?: boolean; followUps?: { promptIds: string[]; escalationIds: string[] }; followUpsPending?: boolean };

export class CareRecord {
  /** A person's visits (issue 13): their own streams, their own decider. */
  readonly visits: VisitBook;

  constructor(
    private readonly store: EventStore,
    private readonly now: () => Date = () => new Date(),
    private readonly options: CareRecordOptions = {},
  ) {
    this.visits = new VisitBook(store, now, options.visits);
  }

  /** The person's id for an NHS number: the same in every process that holds the same secret. */
  patientIdFor(nhsNumber: string): string {
    if (this.options.idSecret === undefined) throw new Error('This care record has no id secret (TANDEM_ID_SECRET): it cannot register people');
    return patientIdFor(nhsNumber, this.options.idSecret);
  }

  private readonly careFold = incrementalFold<CareState>(initialCareState, (state, event) =>
    isCareRecordEvent(event) ? evolve(state, event as unknown as StoredCareEvent) : state,
  );
  private readonly medicinesFold = incrementalFold<MedicinesState>(initialMedicinesState, (state, event) => evolveMedicines(state, event as unknown as StoredMedicinesEvent));
  private readonly patientFold = incrementalFold<PatientState>(initialPatientState, (state, event) => evolvePatient(state, event as unknown as PatientEventAsStored));

  /**
   * What a command's events carry: the actor, the key and bedside time, and the command's name and
   * digest, which scope the key to this actor and command (executeStreamCommand). The digest is of
   * the command as the caller sent it; `options.stamped` names fields the edge filled in itself
   * (a FHIR write's occurredAt is the server's time), which a retry cannot repeat and so are left out.
   */
  private meta(actor: Actor, name: string, cmd: { idempotencyKey: string; occurredAt: string }, options: CommandOptions = {}) {
    const said = Object.fromEntries(Object.entries(cmd).filter(([field]) => field !== 'idempotencyKey' && !options.stamped?.includes(field)));
    return { actor, idempotencyKey: cmd.idempotencyKey, occurredAt: cmd.occurredAt, command: { name, digest: commandDigest(said) } };
  }

  /**
   * Registers a person, or finds them when their NHS number is already registered. `created` says
   * whether this actor registered them (now, or in the request this one retries): when not, the
   * person was someone else's to register, and whether the caller may learn anything about them is
   * for the policy to decide (RecordAccess.existingPerson), not for this answer to assume.
   */
  async registerPatient(cmd: RegisterPatient, actor: Actor, options: CommandOptions = {}): Promise<CommandResult & { patientId: string; created: boolean }> {
    const patientId = this.patientIdFor(cmd.nhsNumber);
    let created = false;
    const result = await executeStreamCommand(this.store, {
      stream: patientStreamId(patientId),
      fold: (events) => this.patientFold(patientStreamId(patientId), events),
      decide: (state) => {
        const decision = registerPatient(cmd, state, { now: this.now(), newPatientId: patientId });
        created = decision.events.length > 0;
        return decision.events;
      },
      meta: this.meta(actor, 'RegisterPatient', cmd, options),
    });
    // A retry of the request that registered them counts as created only for the same actor: a
    // shared idempotency key (or the same derived one) must not hand a stranger the registrant's answer.
    const retriedOwn = result.replayed && result.eventTypes.includes('PatientRegistered') && (await this.patient(patientId)).registeredBy === actor.id;
    return { ...result, patientId, created: created || retriedOwn };
  }

  async patient(patientId: string): Promise<RegisteredPatient> {
    const state = this.patientFold(patientStreamId(patientId), await this.store.readStream(patientStreamId(patientId)));
    if (!state.registered) throw new PatientNotFound(patientId);
    return state;
  }

  /**
   * One entry of a person's record as the write model holds it (the stream folded by the decider's
   * own evolve): undefined when this person's record has no such entry. Throws PatientNotFound.
   */
  async careEntry(patientId: string, entryId: string): Promise<CareEntry | undefined> {
    await this.patient(patientId);
    return entryOf(this.careFold(careStreamId(patientId), await this.store.readStream(careStreamId(patientId))), entryId);
  }

  /** A registered practitioner's record (organisation and role), or undefined when not registered. */
  async practitioner(practitionerId: string): Promise<PractitionerRegisteredData | undefined> {
    const events = await this.store.readStream(practitionerStreamId(practitionerId));
    const registered = events.find((e) => e.type === 'PractitionerRegistered');
    return registered ? (registered.data as PractitionerRegisteredData) : undefined;
  }

  private patientCommand<C extends { patientId: string; idempotencyKey: string; occurredAt: string }>(
    name: string,
    cmd: C,
    actor: Actor,
    decide: (cmd: C, state: PatientState, context: { now: Date }) => readonly { type: string; data: unknown }[],
    options: CommandOptions = {},
  ): Promise<CommandResult> {
    return executeStreamCommand(this.store, {
      stream: patientStreamId(cmd.patientId),
      fold: (events) => {
        const state = this.patientFold(patientStreamId(cmd.patientId), events);
        if (!state.registered) throw new PatientNotFound(cmd.patientId);
        return state;
      },
      decide: (state) => decide(cmd, state, { now: this.now() }),
      meta: this.meta(actor, name, cmd, options),
    });
  }

  updatePatientDetails = (cmd: UpdatePatientDetails, actor: Actor, options?: CommandOptions) => this.patientCommand('UpdatePatientDetails', cmd, actor, updatePatientDetails, options);
  setPatientBaseline = (cmd: SetPatientBaseline, actor: Actor, options?: CommandOptions) => this.patientCommand('SetPatientBaseline', cmd, actor, setPatientBaseline, options);
  addCareTeamMember = (cmd: AddCareTeamMember, actor: Actor, options?: CommandOptions) => this.patientCommand('AddCareTeamMember', cmd, actor, addCareTeamMember, options);
  removeCareTeamMember = (cmd: RemoveCareTeamMember, actor: Actor, options?: CommandOptions) => this.patientCommand('RemoveCareTeamMember', cmd, actor, removeCareTeamMember, options);

  registerPractitioner(cmd: RegisterPractitioner, actor: Actor): Promise<CommandResult> {
    return executeStreamCommand(this.store, {
      stream: practitionerStreamId(cmd.practitionerId),
      fold: (events) => events.reduce(evolveRegistered, initialRegisteredState),
      decide: (state) => registerPractitioner(cmd, state, { now: this.now() }),
      meta: this.meta(actor, 'RegisterPractitioner', cmd),
    });
  }

  /** A person's own outcomes (Goals, issue 15), on their own stream: agreed with them, progress, closed. */
  agreeGoal = (cmd: AgreeGoal, actor: Actor) => this.goalCommand('AgreeGoal', cmd, actor, agreeGoal);
  recordGoalProgress = (cmd: RecordGoalProgress, actor: Actor) => this.goalCommand('RecordGoalProgress', cmd, actor, recordGoalProgress);
  closeGoal = (cmd: CloseGoal, actor: Actor) => this.goalCommand('CloseGoal', cmd, actor, closeGoal);

  private goalCommand<C extends { patientId: string; idempotencyKey: string; occurredAt: string }>(
    name: string,
    cmd: C,
    actor: Actor,
    decide: (cmd: C, goals: GoalsState, context: { now: Date }) => readonly { type: string; data: unknown }[],
  ): Promise<CommandResult> {
    return executeStreamCommand(this.store, {
      stream: patientStreamId(cmd.patientId),
      fold: (events) => {
        if (!this.patientFold(patientStreamId(cmd.patientId), events).registered) throw new PatientNotFound(cmd.patientId);
        return events.reduce(evolveGoals, initialGoalsState);
      },
      decide: (goals) => decide(cmd, goals, { now: this.now() }),
      meta: this.meta(actor, name, cmd),
    });
  }

  /** A care worker's contracted hours (capacity, issue 15): by the registered manager of the practitioner's organisation. */
  setContractedHours(cmd: SetContractedHours, actor: Actor): Promise<CommandResult> {
    return this.staffingCommand('SetContractedHours', cmd, actor, setContractedHours);
  }

  /** A staff absence (sickness, leave): by the registered manager of the practitioner's organisation. */
  recordStaffAbsence(cmd: RecordStaffAbsence, actor: Actor): Promise<CommandResult> {
    return this.staffingCommand('RecordStaffAbsence', cmd, actor, recordStaffAbsence);
  }

  private staffingCommand<C extends { practitionerId: string; idempotencyKey: string; occurredAt: string }>(
    name: string,
    cmd: C,
    actor: Actor,
    decide: (cmd: C, state: StaffingState, context: { now: Date }) => readonly { type: string; data: unknown }[],
  ): Promise<CommandResult> {
    return executeStreamCommand(this.store, {
      stream: practitionerStreamId(cmd.practitionerId),
      fold: (events) => events.reduce(evolveStaffing, initialStaffingState),
      decide: (state) => decide(cmd, state, { now: this.now() }),
      meta: this.meta(actor, name, cmd),
    });
  }

  registerOrganisation(cmd: RegisterOrganisation, actor: Actor): Promise<CommandResult> {
    return executeStreamCommand(this.store, {
      stream: organisationStreamId(cmd.organisationId),
      fold: (events) => events.reduce(evolveRegistered, initialRegisteredState),
      decide: (state) => registerOrganisation(cmd, state, { now: this.now() }),
      meta: this.meta(actor, 'RegisterOrganisation', cmd),
    });
  }

  /**
   * Records an entry in a person's care stream, decided against everything recorded before, and
   * answers with what to do at the bedside: the NEWS2 and advice from the pure domain (the same
   * scoring everywhere), and the prompts and escalations the delegation service's rules started
   * for it (when this process was given `followUps`).
   */
  async recordCare<Name extends CareRecordCommandName>(name: Name, sent: CareCommand<Name>, actor: Actor, options: CommandOptions = {}): Promise<CareEntryResult> {
    const patient = await this.patient(sent.patientId);
    const decide = careRecordDecisions[name] as CareDecision<CareCommand<Name>>;
    const now = this.now();
    // A correction made now may leave its own time out; it is this clock's (never the digest's).
    const cmd = (sent.occurredAt === undefined ? { ...sent, occurredAt: now.toISOString() } : sent) as CareCommand<Name> & { occurredAt: string };
    const stamped = sent.occurredAt === undefined ? [...(options.stamped ?? []), 'occurredAt'] : options.stamped;
    const instruction = name === 'RecordInsulinAdministered' ? await this.instructionOf(cmd as CareCommand<'RecordInsulinAdministered'>) : undefined;
    const orderId = (cmd as { orderId?: unknown }).orderId;
    const medicines = name !== 'AmendEntry' && typeof orderId === 'string' ? { medicines: await this.medicinesFacts(cmd.patientId, orderId) } : {};
    const { result, events: entryEvents } = await executeStreamCommandRecording(this.store, {
      stream: careStreamId(cmd.patientId),
      fold: (events) => this.careFold(careStreamId(cmd.patientId), events),
      decide: (state) => decide(cmd, state, { now: this.now(), spo2Scale: patient.baseline.spo2Scale, ...(instruction ?? {}), ...medicines }),
      meta: this.meta(actor, name, cmd, stamped ? { stamped } : {}),
    });
    // The advice is of the events the command appended (or, replayed, first recorded): no read of the stream back.
    const answer = bedsideAnswer(entryEvents);
    const late = isLateEntry(cmd.occurredAt, now) ? { late: true } : {};
    const base: CareEntryResult = { ...result, ...(result.eventIds[0] ? { entryId: result.eventIds[0] } : {}), ...answer, ...late };
    if (!options.followUps || !this.options.followUps || result.eventIds.length === 0 || !CAN_START_A_RULE.has(result.eventTypes[0]!)) return base;
    const followUps = await this.options.followUps({ eventIds: result.eventIds, position: result.position });
    return followUps.pending ? { ...base, followUps: { promptIds: followUps.promptIds, escalationIds: followUps.escalationIds }, followUpsPending: true } : { ...base, followUps: { promptIds: followUps.promptIds, escalationIds: followUps.escalationIds } };
  }

  /**
   * The insulin instruction of the delegation a dose names, from that delegation's own stream (its
   * proposal fixes the instruction; the record never reads a read model to decide). A delegation
   * that is not there, is for someone else or is not for insulin is refused naming delegationId.
   */
  private async instructionOf(cmd: CareCommand<'RecordInsulinAdministered'>): Promise<Pick<CareContext, 'insulinInstruction' | 'insulinMinimumIntervalMinutes'> | undefined> {
    if (cmd.delegationId === undefined) return undefined;
    const [proposed] = await this.store.readStream(streamName.delegation(cmd.delegationId), { maxCount: 1 });
    if (proposed?.type !== 'DelegationProposed') {
      throw new DomainRuleBroken('insulin.unknown-delegation', 'delegationId', `There is no delegation ${cmd.delegationId}`);
    }
    const data = proposed.data as DelegationProposedData;
    if (data.patientId !== cmd.patientId) {
      throw new DomainRuleBroken('insulin.delegation-for-another-person', 'delegationId', `Delegation ${cmd.delegationId} is for another person`);
    }
    if (data.instruction.kind !== 'insulin') {
      throw new DomainRuleBroken('insulin.delegation-not-insulin', 'delegationId', `Delegation ${cmd.delegationId} is not for giving insulin`);
    }
    const { product, dose, times, minimumIntervalMinutes } = data.instruction;
    return {
      insulinInstruction: { delegationId: cmd.delegationId, product, doseUnits: dose.value, times },
      insulinMinimumIntervalMinutes: minimumIntervalMinutes,
    };
  }

  /** A person's medication orders, allergies and conditions as their medicines stream holds them (undefined for someone not registered). */
  async medicines(patientId: string): Promise<MedicinesState> {
    await this.patient(patientId);
    const stream = streamName.medicines(patientId);
    return this.medicinesFold(stream, await this.store.readStream(stream));
  }

  /**
   * The order a dose names and the person's allergies, from their medicines stream (never a read
   * model). A dose decided on a stream another process has just moved on is still checked against
   * what was prescribed when it was read; a stop a moment later is the stop's time, not the dose's.
   */
  private async medicinesFacts(patientId: string, orderId: string): Promise<MedicinesFacts> {
    const stream = streamName.medicines(patientId);
    const state = this.medicinesFold(stream, await this.store.readStream(stream));
    const order = orderOf(state, orderId);
    return { ...(order ? { order } : {}), allergies: state.allergies };
  }

  /**
   * A command on a person's medicines stream (prescribe, change, stop; allergies; conditions), decided
   * against everything prescribed before. `prescriberId` left out is whoever records it.
   */
  async recordMedicines<Name extends MedicinesCommandName>(name: Name, cmd: MedicinesCommand<Name>, actor: Actor, options: CommandOptions = {}): Promise<CommandResult & { id?: string }> {
    await this.patient(cmd.patientId);
    const stream = streamName.medicines(cmd.patientId);
    const decide = medicinesDecisions[name] as (cmd: MedicinesCommand<Name>, state: MedicinesState, context: MedicinesContext) => { type: string; data: unknown }[];
    const result = await executeStreamCommand(this.store, {
      stream,
      fold: (events) => this.medicinesFold(stream, events),
      decide: (state) => decide(cmd, state, { now: this.now(), actorId: actor.id }),
      meta: this.meta(actor, name, cmd, options),
    });
    // A change names what it changes; a new order, allergy or condition is named by its event.
    const named = cmd as { orderId?: string; allergyId?: string; conditionId?: string };
    const id = named.orderId ?? named.allergyId ?? named.conditionId ?? result.eventIds[0];
    return { ...result, ...(id ? { id } : {}) };
  }
}

export { DomainRuleBroken };
