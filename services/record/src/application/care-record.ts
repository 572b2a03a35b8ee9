import {
  careRecordCommandSchemas,
  type Actor,
  type AddCareTeamMember,
  type CareRecordCommandName,
  type PatientEvent,
  type PractitionerRegisteredData,
  type RegisterOrganisation,
  type RegisterPatient,
  type RegisterPractitioner,
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
  type CareState,
  type PatientState,
  careStreamId,
  DomainRuleBroken,
  evolveRegistered,
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
  type RegisteredPatient,
  type StoredCareEvent,
} from '../domain';
import { executeStreamCommand, type CommandResult } from './stream-command';
import { incrementalFold } from './incremental-fold';

export class PatientNotFound extends Error {
  constructor(readonly patientId: string) {
    super(`No patient ${patientId} is registered`);
    this.name = 'PatientNotFound';
  }
}

type CareCommand<Name extends CareRecordCommandName> = z.output<(typeof careRecordCommandSchemas)[Name]>;

/**
 * The care record's application service: loads streams, asks the pure domain, appends. Every
 * entry point (JSON API, FHIR writes, demo data) goes through here, so a rule holds everywhere.
 */
export class CareRecord {
  constructor(
    private readonly store: EventStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private readonly careFold = incrementalFold<CareState>(initialCareState, (state, event) =>
    isCareRecordEvent(event) ? evolve(state, event as unknown as StoredCareEvent) : state,
  );
  private readonly patientFold = incrementalFold<PatientState>(initialPatientState, (state, event) => evolvePatient(state, event as unknown as PatientEvent));

  private meta(actor: Actor, cmd: { idempotencyKey: string; occurredAt: string }) {
    return { actor, idempotencyKey: cmd.idempotencyKey, occurredAt: cmd.occurredAt };
  }

  async registerPatient(cmd: RegisterPatient, actor: Actor): Promise<CommandResult & { patientId: string; created: boolean }> {
    const patientId = patientIdFor(cmd.nhsNumber);
    let created = false;
    const result = await executeStreamCommand(this.store, {
      stream: patientStreamId(patientId),
      fold: (events) => this.patientFold(patientStreamId(patientId), events),
      decide: (state) => {
        const decision = registerPatient(cmd, state, { now: this.now(), newPatientId: patientId });
        created = decision.events.length > 0;
        return decision.events;
      },
      meta: this.meta(actor, cmd),
    });
    return { ...result, patientId, created: created || (result.replayed && result.eventTypes.includes('PatientRegistered')) };
  }

  async patient(patientId: string): Promise<RegisteredPatient> {
    const state = this.patientFold(patientStreamId(patientId), await this.store.readStream(patientStreamId(patientId)));
    if (!state.registered) throw new PatientNotFound(patientId);
    return state;
  }

  /** A registered practitioner's record (organisation and role), or undefined when not registered. */
  async practitioner(practitionerId: string): Promise<PractitionerRegisteredData | undefined> {
    const events = await this.store.readStream(practitionerStreamId(practitionerId));
    const registered = events.find((e) => e.type === 'PractitionerRegistered');
    return registered ? (registered.data as PractitionerRegisteredData) : undefined;
  }

  private patientCommand<C extends { patientId: string; idempotencyKey: string; occurredAt: string }>(
    cmd: C,
    actor: Actor,
    decide: (cmd: C, state: PatientState, context: { now: Date }) => readonly { type: string; data: unknown }[],
  ): Promise<CommandResult> {
    return executeStreamCommand(this.store, {
      stream: patientStreamId(cmd.patientId),
      fold: (events) => {
        const state = this.patientFold(patientStreamId(cmd.patientId), events);
        if (!state.registered) throw new PatientNotFound(cmd.patientId);
        return state;
      },
      decide: (state) => decide(cmd, state, { now: this.now() }),
      meta: this.meta(actor, cmd),
    });
  }

  updatePatientDetails = (cmd: UpdatePatientDetails, actor: Actor) => this.patientCommand(cmd, actor, updatePatientDetails);
  setPatientBaseline = (cmd: SetPatientBaseline, actor: Actor) => this.patientCommand(cmd, actor, setPatientBaseline);
  addCareTeamMember = (cmd: AddCareTeamMember, actor: Actor) => this.patientCommand(cmd, actor, addCareTeamMember);
  removeCareTeamMember = (cmd: RemoveCareTeamMember, actor: Actor) => this.patientCommand(cmd, actor, removeCareTeamMember);

  registerPractitioner(cmd: RegisterPractitioner, actor: Actor): Promise<CommandResult> {
    return executeStreamCommand(this.store, {
      stream: practitionerStreamId(cmd.practitionerId),
      fold: (events) => events.reduce(evolveRegistered, initialRegisteredState),
      decide: (state) => registerPractitioner(cmd, state, { now: this.now() }),
      meta: this.meta(actor, cmd),
    });
  }

  registerOrganisation(cmd: RegisterOrganisation, actor: Actor): Promise<CommandResult> {
    return executeStreamCommand(this.store, {
      stream: organisationStreamId(cmd.organisationId),
      fold: (events) => events.reduce(evolveRegistered, initialRegisteredState),
      decide: (state) => registerOrganisation(cmd, state, { now: this.now() }),
      meta: this.meta(actor, cmd),
    });
  }

  /** Records an entry in a person's care stream, decided against everything recorded before. */
  async recordCare<Name extends CareRecordCommandName>(name: Name, cmd: CareCommand<Name>, actor: Actor): Promise<CommandResult> {
    const patient = await this.patient(cmd.patientId);
    const decide = careRecordDecisions[name] as CareDecision<CareCommand<Name>>;
    return executeStreamCommand(this.store, {
      stream: careStreamId(cmd.patientId),
      fold: (events) => this.careFold(careStreamId(cmd.patientId), events),
      decide: (state) => decide(cmd, state, { now: this.now(), spo2Scale: patient.baseline.spo2Scale }),
      meta: this.meta(actor, cmd),
    });
  }
}

export { DomainRuleBroken };
