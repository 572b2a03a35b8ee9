import type {
  ContractedHoursSetData,
  OrganisationEvent,
  PractitionerEvent,
  PractitionerRegisteredData,
  RecordStaffAbsence,
  RegisterOrganisation,
  RegisterPractitioner,
  SetContractedHours,
  StaffAbsenceRecordedData,
} from '@tandem/contracts';
import { DomainRuleBroken } from './errors';
import { compact } from './compact';
import type { PatientContext } from './patient';
import { assertNotInFuture } from './time';

export type StaffingEvent = { type: 'ContractedHoursSet'; data: ContractedHoursSetData } | { type: 'StaffAbsenceRecorded'; data: StaffAbsenceRecordedData };

/**
 * Practitioners (`practitioner-<id>`) and organisations (`organisation-<id>`). A district nurse's
 * NMC and a GP's GMC registration are required by the contract; registering again records nothing.
 */

export interface RegisteredState {
  readonly registered: boolean;
}

export const initialRegisteredState: RegisteredState = { registered: false };

export const evolveRegistered = (state: RegisteredState, event: { type: string }): RegisteredState =>
  event.type === 'PractitionerRegistered' || event.type === 'OrganisationRegistered' ? { registered: true } : state;

export const registerPractitioner = (cmd: RegisterPractitioner, state: RegisteredState, context: PatientContext): PractitionerEvent[] => {
  if (state.registered) return [];
  assertNotInFuture(cmd.occurredAt, context.now);
  const { idempotencyKey: _key, occurredAt: _at, ...data } = cmd;
  return [{ type: 'PractitionerRegistered', data: compact(data) }];
};

export const registerOrganisation = (cmd: RegisterOrganisation, state: RegisteredState, context: PatientContext): OrganisationEvent[] => {
  if (state.registered) return [];
  assertNotInFuture(cmd.occurredAt, context.now);
  const { idempotencyKey: _key, occurredAt: _at, ...data } = cmd;
  return [{ type: 'OrganisationRegistered', data: compact(data) }];
};

// --- a practitioner's contracted hours and absences (capacity, issue 15; docs/decisions/0037) ---

/** What the practitioner stream says for staffing: who they are with, their contracted hours, the absences recorded. */
export interface StaffingState {
  readonly organisationId?: string;
  readonly role?: string;
  readonly hoursPerWeek?: number;
  readonly absences: ReadonlyMap<string, StaffAbsenceRecordedData>;
}

export const initialStaffingState: StaffingState = { absences: new Map() };

export const evolveStaffing = (state: StaffingState, event: { type: string; data: unknown }): StaffingState => {
  if (event.type === 'PractitionerRegistered') {
    const p = event.data as PractitionerRegisteredData;
    return { ...state, organisationId: p.organisationId, role: p.role };
  }
  if (event.type === 'ContractedHoursSet') return { ...state, hoursPerWeek: (event.data as ContractedHoursSetData).hoursPerWeek };
  if (event.type === 'StaffAbsenceRecorded') {
    const a = event.data as StaffAbsenceRecordedData;
    return { ...state, absences: new Map([...state.absences, [a.absenceId, a]]) };
  }
  return state;
};

/** The command's organisation must be the practitioner's own: the policy allowed the manager by it. */
const assertOwnPractitioner = (cmd: { practitionerId: string; organisationId: string }, state: StaffingState): void => {
  if (state.organisationId === undefined) throw new DomainRuleBroken('practitioner.not-registered', 'practitionerId', `${cmd.practitionerId} is not a registered practitioner`);
  if (state.organisationId !== cmd.organisationId) throw new DomainRuleBroken('practitioner.other-organisation', 'organisationId', `${cmd.practitionerId} is not of ${cmd.organisationId}`);
};

/** The same hours again records nothing. */
export const setContractedHours = (cmd: SetContractedHours, state: StaffingState, context: PatientContext): StaffingEvent[] => {
  assertOwnPractitioner(cmd, state);
  assertNotInFuture(cmd.occurredAt, context.now);
  if (state.hoursPerWeek === cmd.hoursPerWeek) return [];
  return [{ type: 'ContractedHoursSet', data: { practitionerId: cmd.practitionerId, organisationId: cmd.organisationId, hoursPerWeek: cmd.hoursPerWeek } }];
};

/** An absence is recorded once by its id; the same id with other dates is refused (an absence is not silently rewritten). */
export const recordStaffAbsence = (cmd: RecordStaffAbsence, state: StaffingState, context: PatientContext): StaffingEvent[] => {
  assertOwnPractitioner(cmd, state);
  assertNotInFuture(cmd.occurredAt, context.now);
  const { idempotencyKey: _key, occurredAt: _at, note: _note, ...data } = cmd;
  const known = state.absences.get(cmd.absenceId);
  if (known) {
    const same = Date.parse(known.from) === Date.parse(cmd.from) && Date.parse(known.to) === Date.parse(cmd.to) && known.kind === cmd.kind;
    if (same) return [];
    throw new DomainRuleBroken('absence.already-recorded', 'absenceId', `The absence ${cmd.absenceId} is already recorded with other dates or kind`);
  }
  return [{ type: 'StaffAbsenceRecorded', data }];
};
