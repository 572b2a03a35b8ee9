import { REGISTER_FOR_ROLE, type Actor, type CareWorker, type RegisteredProfessional, type Role, type StaffMember } from '@tandem/contracts';
import { refuse, type Refusal } from './decider';

/** Anyone named in an event: the practitioner, their role and, for a registered professional, their registration. */
export type Person = { readonly practitionerId: string; readonly role: Role; readonly registration?: { system: string; value: string } | undefined };

/**
 * Why this person may not act as a registered professional in one of these roles, or undefined.
 * A registration number is always required, on the register that fits the role (NMC for nurses,
 * GMC for GPs).
 */
export const registeredProfessionalProblem = (
  who: Person,
  roles: readonly Role[],
  what: { code: string; action: string; field?: string },
): Refusal | undefined => {
  const field = what.field ?? 'actor';
  if (!roles.includes(who.role)) {
    return refuse(`${what.code}.role-not-allowed`, `${field}.role`, `${what.action}: only ${roles.join(' or ')} may do this under the framework, not ${who.role}`);
  }
  if (!who.registration?.value) {
    return refuse(
      `${what.code}.registration-required`,
      `${field}.registration`,
      `${what.action}: only a registered professional with a registration number may do this`,
    );
  }
  const register = (REGISTER_FOR_ROLE as Partial<Record<Role, string>>)[who.role];
  if (register && who.registration.system !== register) {
    return refuse(`${what.code}.wrong-register`, `${field}.registration.system`, `${what.action}: a ${who.role} is registered on ${register}`);
  }
  return undefined;
};

/**
 * The actor as named in an event. Whether they really are a registered professional is the
 * machine's guards' business: they are checked before anything is decided.
 */
export const asProfessional = (actor: Actor): RegisteredProfessional =>
  ({ practitionerId: actor.id, role: actor.role, ...(actor.registration ? { registration: actor.registration } : {}) }) as RegisteredProfessional;

export const asStaff = (actor: Actor): StaffMember => ({
  practitionerId: actor.id,
  role: actor.role,
  ...(actor.registration ? { registration: actor.registration } : {}),
});

export const asCareWorker = (actor: Actor): CareWorker => ({ practitionerId: actor.id, role: actor.role });

// ---------------------------------------------------------------------------------------------
// Identity facts checked against the record, never trusted from a token
// ---------------------------------------------------------------------------------------------

/** A practitioner as their own stream (practitioner-<id>, PractitionerRegistered) records them. */
export interface PractitionerRecord {
  readonly practitionerId: string;
  readonly role: Role;
  readonly registration?: { readonly system: string; readonly value: string } | undefined;
  readonly organisationId: string;
}

const REGISTER_NAMES: Readonly<Record<string, string>> = {
  'https://fhir.hl7.org.uk/Id/nmc-number': 'NMC',
  'https://fhir.hl7.org.uk/Id/gmc-number': 'GMC',
  'https://fhir.hl7.org.uk/Id/hcpc-number': 'HCPC',
};
const registrationText = (r: { system: string; value: string }): string => `${REGISTER_NAMES[r.system] ?? r.system} ${r.value}`;

/**
 * The actor as their practitioner record says they are, or why not. Someone Tandem holds no
 * record for, or whose sign-in names another role, has no authority here (403, code
 * `<code>.not-authorised`). A registration on the sign-in that is not the one in the record is
 * refused naming the field that would carry it (e.g. `assessor.registration`): the registration
 * that signs must be the practitioner's own. The verified actor carries the record's registration
 * and organisation, so what is stored is what the record holds.
 */
export const verifiedActor = (
  actor: Actor,
  record: PractitionerRecord | undefined,
  what: { code: string; action: string; registrationField: string },
): { ok: true; actor: Actor } | { ok: false; refusal: Refusal } => {
  if (!record) {
    return {
      ok: false,
      refusal: refuse(`${what.code}.not-authorised`, 'actor', `${what.action}: ${actor.id} is not registered as a practitioner in Tandem, so has no authority to do this`),
    };
  }
  if (record.role !== actor.role) {
    return {
      ok: false,
      refusal: refuse(`${what.code}.not-authorised`, 'actor.role', `${what.action}: ${actor.id} is registered in Tandem as ${record.role}, not ${actor.role}`),
    };
  }
  const claimed = actor.registration;
  if (claimed && (claimed.system !== record.registration?.system || claimed.value !== record.registration.value)) {
    return {
      ok: false,
      refusal: refuse(
        `${what.code}.registration-not-own`,
        what.registrationField,
        `${what.action}: the registration on your sign-in (${registrationText(claimed)}) is not the one your practitioner record holds; the registration that signs must be your own`,
      ),
    };
  }
  const { registration: _claimed, organisation: _organisation, ...rest } = actor;
  return {
    ok: true,
    actor: { ...rest, ...(record.registration ? { registration: record.registration as Actor['registration'] & object } : {}), organisation: record.organisationId },
  };
};
