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
