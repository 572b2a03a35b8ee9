import {
  DEFAULT_BASELINE,
  FIRST_ENTRY_VERSION,
  nextEntryVersion,
  type AddCareTeamMember,
  type Baseline,
  type PatientEvent,
  type PatientRegisteredData,
  type RegisterPatient,
  type RemoveCareTeamMember,
  type SetPatientBaseline,
  type UpdatePatientDetails,
} from '@tandem/contracts';
import { compact } from './compact';
import { DomainRuleBroken, StaleEntryVersion } from './errors';
import { assertNotInFuture, dateInEngland } from './time';

/**
 * A person's identity and registration: the `patient-<id>` stream, the id keyed from the NHS
 * number (nhs-number.ts), so registering the same person twice (even at the same moment) finds one stream.
 */

export interface CareTeamMember {
  readonly practitionerId: string;
  readonly teamRole: AddCareTeamMember['teamRole'];
}

export type PatientState =
  | { readonly registered: false }
  | (Omit<PatientRegisteredData, 'baseline'> & {
      readonly registered: true;
      readonly baseline: Baseline;
      readonly careTeam: readonly CareTeamMember[];
      /** Who registered the person (the registration's actor): they set up a new person's team. */
      readonly registeredBy?: string;
      /**
       * The person's details' version: FIRST_ENTRY_VERSION at registration, nextEntryVersion at each
       * change of details or baseline (the events that make a new version of the FHIR Patient).
       */
      readonly version: number;
    });

export type RegisteredPatient = Extract<PatientState, { registered: true }>;

export const initialPatientState: PatientState = { registered: false };

/** A patient event as stored: its actor, when known, says who registered the person. */
export type PatientEventAsStored = PatientEvent & { readonly metadata?: { readonly actor?: { readonly id: string } } };

/** Folds one `patient-<id>` event into the state. */
export const evolvePatient = (state: PatientState, event: PatientEventAsStored): PatientState => {
  if (event.type === 'PatientRegistered') {
    if (state.registered) return state;
    const registeredBy = event.metadata?.actor?.id;
    return { ...event.data, registered: true, careTeam: [], version: FIRST_ENTRY_VERSION, ...(registeredBy !== undefined ? { registeredBy } : {}) };
  }
  if (!state.registered) return state;
  switch (event.type) {
    case 'PatientDetailsUpdated': {
      const { patientId: _patientId, ...changes } = event.data;
      return { ...state, ...compact(changes), version: nextEntryVersion(state.version) };
    }
    case 'PatientBaselineSet':
      return { ...state, baseline: event.data.baseline, version: nextEntryVersion(state.version) };
    case 'CareTeamMemberAdded':
      return { ...state, careTeam: [...state.careTeam, { practitionerId: event.data.practitionerId, teamRole: event.data.teamRole }] };
    case 'CareTeamMemberRemoved':
      return {
        ...state,
        careTeam: state.careTeam.filter((m) => !(m.practitionerId === event.data.practitionerId && m.teamRole === event.data.teamRole)),
      };
    default:
      return state;
  }
};

export const patientStateFrom = (events: readonly PatientEventAsStored[]): PatientState => events.reduce(evolvePatient, initialPatientState);

export interface PatientContext {
  readonly now: Date;
}

export interface RegisterPatientContext extends PatientContext {
  /** The id to give the person if they are new (a UUID from the edge). */
  readonly newPatientId: string;
}

export interface PatientDecision {
  /** The person's id: the new one, or the existing one when already registered. */
  readonly patientId: string;
  readonly events: PatientEvent[];
}

const assertBornInThePast = (birthDate: string | undefined, now: Date): void => {
  if (birthDate !== undefined && birthDate > dateInEngland(now)) {
    throw new DomainRuleBroken('patient.birth-date-in-future', 'birthDate', 'birthDate must not be in the future');
  }
};

const registered = (state: PatientState, patientId: string): RegisteredPatient => {
  if (!state.registered || state.patientId !== patientId) {
    throw new DomainRuleBroken('patient.not-registered', 'patientId', `no registered patient ${patientId}`);
  }
  return state;
};

/**
 * Registers a person. Idempotent on the NHS number: when it is already registered, nothing new is
 * recorded and the existing id is returned (whatever details the second request carried).
 */
export const registerPatient = (cmd: RegisterPatient, state: PatientState, context: RegisterPatientContext): PatientDecision => {
  if (state.registered) return { patientId: state.patientId, events: [] };
  assertNotInFuture(cmd.occurredAt, context.now);
  assertBornInThePast(cmd.birthDate, context.now);
  const data: PatientRegisteredData = compact({
    patientId: context.newPatientId,
    nhsNumber: cmd.nhsNumber,
    name: cmd.name,
    birthDate: cmd.birthDate,
    gender: cmd.gender,
    address: cmd.address,
    gpPractice: cmd.gpPractice,
    registeredGp: cmd.registeredGp,
    telecom: cmd.telecom,
    nhsNumberVerificationStatus: cmd.nhsNumberVerificationStatus,
    baseline: cmd.baseline ?? DEFAULT_BASELINE,
  });
  return { patientId: context.newPatientId, events: [{ type: 'PatientRegistered', data }] };
};

/** Changes demographic details; what is left out stays as it was. */
export const updatePatientDetails = (cmd: UpdatePatientDetails, state: PatientState, context: PatientContext): PatientEvent[] => {
  const patient = registered(state, cmd.patientId);
  // A change made on a stale copy (If-Match) is refused on the stream, never by a read model's version.
  if (cmd.expectedVersion !== undefined && cmd.expectedVersion !== patient.version) throw new StaleEntryVersion(`Patient ${cmd.patientId}`, cmd.expectedVersion, patient.version);
  assertNotInFuture(cmd.occurredAt, context.now);
  assertBornInThePast(cmd.birthDate, context.now);
  const { idempotencyKey: _key, occurredAt: _at, expectedVersion: _version, ...changes } = cmd;
  return [{ type: 'PatientDetailsUpdated', data: compact(changes) }];
};

/** Agrees the person's usual self (and SpO2 scale, prescribed by a named registered clinician). */
export const setPatientBaseline = (cmd: SetPatientBaseline, state: PatientState, context: PatientContext): PatientEvent[] => {
  registered(state, cmd.patientId);
  assertNotInFuture(cmd.occurredAt, context.now);
  return [{ type: 'PatientBaselineSet', data: { patientId: cmd.patientId, baseline: cmd.baseline } }];
};

/** Adds a practitioner to the person's team in a role; adding the same membership again records nothing. */
export const addCareTeamMember = (cmd: AddCareTeamMember, state: PatientState, context: PatientContext): PatientEvent[] => {
  const patient = registered(state, cmd.patientId);
  assertNotInFuture(cmd.occurredAt, context.now);
  if (patient.careTeam.some((m) => m.practitionerId === cmd.practitionerId && m.teamRole === cmd.teamRole)) return [];
  return [{ type: 'CareTeamMemberAdded', data: { patientId: cmd.patientId, practitionerId: cmd.practitionerId, teamRole: cmd.teamRole } }];
};

export const removeCareTeamMember = (cmd: RemoveCareTeamMember, state: PatientState, context: PatientContext): PatientEvent[] => {
  const patient = registered(state, cmd.patientId);
  assertNotInFuture(cmd.occurredAt, context.now);
  if (!patient.careTeam.some((m) => m.practitionerId === cmd.practitionerId && m.teamRole === cmd.teamRole)) {
    throw new DomainRuleBroken('care-team.not-a-member', 'practitionerId', `${cmd.practitionerId} is not in this person's team as ${cmd.teamRole}`);
  }
  return [
    {
      type: 'CareTeamMemberRemoved',
      data: compact({ patientId: cmd.patientId, practitionerId: cmd.practitionerId, teamRole: cmd.teamRole, reason: cmd.reason }),
    },
  ];
};
