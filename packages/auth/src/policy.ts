import type { Actor, Role } from '@tandem/contracts';
import type { Principal } from './principal';
import { INTERACTION_TEXT, scopeCovers, type Interaction, type ScopeContext } from './scopes';

/**
 * Who may see and do what: the whole policy, as data where it can be. Three questions, in order:
 *
 * 1. Role: may this role do this action at all, and how far does it reach (POLICY)?
 * 2. Scope: does the token's SMART v2 scope cover the FHIR resource and interaction?
 * 3. Relationship: is the person in the user's care (RELATIONSHIPS), from the person's own
 *    record (their care team and registered GP), never from a request body?
 *
 * A clinician may read outside their relationship by giving a reason (break-glass): allowed,
 * flagged, and reported through the onAccess hook.
 */

export const ACTIONS = [
  'fhir.read',
  'care.record',
  'medicine.prescribe',
  'patient.register',
  'patient.details',
  'patient.baseline',
  'patient.care-team',
  'practitioner.register',
  'organisation.register',
  'admin.rebuild',
  'audit.read',
  'delegation.manage',
  'competence.suspend',
  'delegation.respond',
  'escalation.respond',
  'subscription.manage',
  'visit.plan',
  'quality.read',
  'capacity.read',
] as const;
export type Action = (typeof ACTIONS)[number];

export const ACTION_TEXT: Readonly<Record<Action, string>> = {
  'fhir.read': 'read the record',
  'care.record': 'record care (observations, medicines, notes, corrections)',
  'medicine.prescribe': 'prescribe or change medicines, and record allergies and conditions',
  'patient.register': 'register a person',
  'patient.details': "change a person's details",
  'patient.baseline': "agree a person's baseline",
  'patient.care-team': "change a person's care team",
  'practitioner.register': 'register a practitioner',
  'organisation.register': 'register an organisation',
  'admin.rebuild': 'rebuild the read models',
  'audit.read': 'read the audit trail',
  'delegation.manage': 'train, sign off, delegate and review delegated healthcare activities',
  'competence.suspend': "suspend a care worker's competence (the assessing nursing team, or the employer's registered manager for safeguarding)",
  'delegation.respond': 'answer a delegation (accept, decline, hand back) or a prompt',
  'escalation.respond': 'acknowledge or resolve an escalation',
  'subscription.manage': 'subscribe to notifications (FHIR Subscription)',
  'visit.plan': "plan, reschedule or cancel a person's visits (the care provider's registered manager or rostering system)",
  'quality.read': 'read the care-quality indicators and the entries behind them',
  'capacity.read': "read a home-care provider's capacity (hours, staff, care workers able to take on delegated activities)",
};

/**
 * - `none`: never.
 * - `any`: for everyone (or no person is concerned).
 * - `relationship`: only for people in the user's care (RELATIONSHIPS below).
 * - `own-organisation`: only within the user's own organisation (the token's `org`).
 */
export type Reach = 'none' | 'any' | 'relationship' | 'own-organisation';

const r = 'relationship' as const;

/** Roles x actions. */
export const POLICY: Readonly<Record<Role, Readonly<Record<Action, Reach>>>> = {
  'care-worker': {
    'fhir.read': r,
    'care.record': r,
    'medicine.prescribe': 'none',
    'patient.register': 'none',
    'patient.details': 'none',
    'patient.baseline': 'none',
    'patient.care-team': 'none',
    'practitioner.register': 'none',
    'organisation.register': 'none',
    'admin.rebuild': 'none',
    'audit.read': 'none',
    'delegation.manage': 'none',
    'competence.suspend': 'none',
    'delegation.respond': r,
    'escalation.respond': r,
    'subscription.manage': 'none',
    'visit.plan': 'none',
    'quality.read': 'none',
    'capacity.read': 'none',
  },
  'district-nurse': {
    'fhir.read': r,
    'care.record': r,
    'medicine.prescribe': r,
    'patient.register': 'any',
    'patient.details': r,
    'patient.baseline': r,
    // A relationship starts by referral from someone already responsible for the person (their
    // team, their GP, the manager of the service caring for them, or whoever registered them while
    // nobody is on their team yet): nobody joins a stranger's team on their own say-so.
    'patient.care-team': r,
    'practitioner.register': 'none',
    'organisation.register': 'none',
    'admin.rebuild': 'none',
    'audit.read': 'none',
    'delegation.manage': r,
    'competence.suspend': r,
    'delegation.respond': r,
    'escalation.respond': r,
    'subscription.manage': r,
    'visit.plan': 'none',
    'quality.read': 'none',
    'capacity.read': 'none',
  },
  gp: {
    'fhir.read': r,
    'care.record': r,
    'medicine.prescribe': r,
    'patient.register': 'any',
    'patient.details': r,
    'patient.baseline': r,
    'patient.care-team': r,
    'practitioner.register': 'none',
    'organisation.register': 'none',
    'admin.rebuild': 'none',
    'audit.read': 'none',
    'delegation.manage': 'none',
    'competence.suspend': 'none',
    'delegation.respond': 'none',
    'escalation.respond': r,
    'subscription.manage': r,
    'visit.plan': 'none',
    'quality.read': 'none',
    'capacity.read': 'none',
  },
  'registered-manager': {
    'fhir.read': r,
    'care.record': 'none',
    'medicine.prescribe': 'none',
    'patient.register': 'any',
    'patient.details': r,
    'patient.baseline': 'none',
    // A manager assigns care workers to the people her service already cares for (or has just registered).
    'patient.care-team': r,
    'practitioner.register': 'own-organisation',
    'organisation.register': 'any',
    'admin.rebuild': 'any',
    'audit.read': 'none',
    'delegation.manage': 'none',
    // Who exactly may is decided on the competency stream: the assessing team, or the employer's manager (safeguarding).
    'competence.suspend': r,
    'delegation.respond': 'none',
    // Late and missed visits reach her first (docs/decisions/0025); the escalation's tier decides what she may acknowledge.
    'escalation.respond': r,
    'subscription.manage': 'none',
    'visit.plan': r,
    // The indicators of her own service only (docs/decisions/0032).
    'quality.read': 'own-organisation',
    // Her own service's capacity (docs/decisions/0037).
    'capacity.read': 'own-organisation',
  },
  auditor: {
    'fhir.read': 'any',
    'care.record': 'none',
    'medicine.prescribe': 'none',
    'patient.register': 'none',
    'patient.details': 'none',
    'patient.baseline': 'none',
    'patient.care-team': 'none',
    'practitioner.register': 'none',
    'organisation.register': 'none',
    'admin.rebuild': 'none',
    'audit.read': 'any',
    'delegation.manage': 'none',
    'competence.suspend': 'none',
    'delegation.respond': 'none',
    'escalation.respond': 'none',
    'subscription.manage': 'none',
    'visit.plan': 'none',
    'quality.read': 'any',
    'capacity.read': 'any',
  },
  system: {
    'fhir.read': r,
    'care.record': r,
    'medicine.prescribe': r,
    'patient.register': 'none',
    'patient.details': 'none',
    'patient.baseline': 'none',
    'patient.care-team': 'none',
    'practitioner.register': 'none',
    'organisation.register': 'none',
    'admin.rebuild': 'any',
    'audit.read': 'none',
    'delegation.manage': 'none',
    'competence.suspend': 'none',
    'delegation.respond': 'none',
    'escalation.respond': 'none',
    'subscription.manage': r,
    'visit.plan': r,
    'quality.read': 'none',
    // A hospital discharge team's system asks any provider's capacity (docs/decisions/0037): figures and care workers' ids, no names.
    'capacity.read': 'any',
  },
};

/** Clinicians who may read outside their relationship, giving a reason. */
export const BREAK_GLASS_ROLES: readonly Role[] = ['district-nurse', 'gp'];
/** Break-glass opens reading only: it never lets anyone write for a person outside their care. */
export const BREAK_GLASS_ACTIONS: readonly Action[] = ['fhir.read'];
export const BREAK_GLASS_HEADER = 'x-tandem-break-glass';
export const MAX_BREAK_GLASS_REASON = 500;

/** How a user can be related to a person. */
export type RelationshipRule =
  /** The user is in the person's care team (in one of these team roles, or any). */
  | { readonly kind: 'care-team'; readonly teamRoles?: readonly string[] }
  /** A district nurse of the user's organisation is in the team: the nursing team's caseload. */
  | { readonly kind: 'nursing-team' }
  /** The user is the person's registered GP. */
  | { readonly kind: 'registered-gp' }
  /**
   * The user works at the person's registered GP practice (the token's `org` is the practice's ODS
   * code): the practice is responsible for its registered patients, and GP Connect treats its
   * clinicians as in a care relationship with them (docs/decisions/0035).
   */
  | { readonly kind: 'registered-practice' }
  /** Someone from the user's organisation is in the person's care team. */
  | { readonly kind: 'organisation' }
  /** The token was issued for this person (`patient` claim). */
  | { readonly kind: 'launch-patient' }
  /**
   * The user registered the person and nobody is on their team yet: whoever takes a new person on
   * sets up their team. Once anyone is on it, the team (and the GP) are who is responsible.
   */
  | { readonly kind: 'registrant' };

export type Relationship = RelationshipRule['kind'];

/** Roles x relationships: any one rule is enough. */
export const RELATIONSHIPS: Readonly<Record<Role, readonly RelationshipRule[]>> = {
  'care-worker': [{ kind: 'care-team', teamRoles: ['care-worker'] }],
  'district-nurse': [{ kind: 'care-team' }, { kind: 'nursing-team' }, { kind: 'registrant' }],
  gp: [{ kind: 'registered-gp' }, { kind: 'registered-practice' }, { kind: 'care-team', teamRoles: ['gp'] }, { kind: 'registrant' }],
  'registered-manager': [{ kind: 'care-team' }, { kind: 'organisation' }, { kind: 'registrant' }],
  auditor: [],
  system: [{ kind: 'launch-patient' }],
};

/** Team roles that make a member one of the nursing team. */
const NURSING_TEAM_ROLES: readonly string[] = ['district-nurse', 'accountable-clinician'];

/** What the person's own record says about who cares for them (from the patient stream). */
export interface PatientFacts {
  readonly patientId: string;
  readonly registeredGp?: string;
  /** The ODS code of the person's registered GP practice (from the patient stream). */
  readonly registeredPracticeOds?: string;
  readonly careTeam: readonly CareTeamFact[];
  /** Who registered the person (the registration event's actor). */
  readonly registeredBy?: string;
}

export interface CareTeamFact {
  readonly practitionerId: string;
  readonly teamRole: string;
  /** The member's organisation and registered role (from their practitioner record), when looked up. */
  readonly organisation?: string;
  readonly practitionerRole?: string;
}

/** Whether the relationship rules of a role need the care team members' organisations. */
export const needsMemberDetails = (role: Role): boolean => RELATIONSHIPS[role].some((rule) => rule.kind === 'nursing-team' || rule.kind === 'organisation');

const holds = (rule: RelationshipRule, principal: Principal, facts: PatientFacts): boolean => {
  const { actor } = principal;
  switch (rule.kind) {
    case 'care-team':
      return facts.careTeam.some((m) => m.practitionerId === actor.id && (!rule.teamRoles || rule.teamRoles.includes(m.teamRole)));
    case 'nursing-team':
      return (
        actor.organisation !== undefined &&
        facts.careTeam.some((m) => m.organisation === actor.organisation && (m.practitionerRole === 'district-nurse' || NURSING_TEAM_ROLES.includes(m.teamRole)))
      );
    case 'registered-gp':
      return facts.registeredGp === actor.id;
    case 'registered-practice':
      return actor.organisation !== undefined && facts.registeredPracticeOds !== undefined && facts.registeredPracticeOds === actor.organisation;
    case 'organisation':
      return actor.organisation !== undefined && facts.careTeam.some((m) => m.organisation === actor.organisation);
    case 'launch-patient':
      return principal.patient === facts.patientId;
    case 'registrant':
      return facts.registeredBy !== undefined && facts.registeredBy === actor.id && facts.careTeam.length === 0;
  }
};

/** The first relationship that holds between the user and the person, if any. */
export const relationshipOf = (principal: Principal, facts: PatientFacts): Relationship | undefined =>
  RELATIONSHIPS[principal.actor.role].find((rule) => holds(rule, principal, facts))?.kind;

/** A FHIR resource and interaction a request needs the token's scopes to cover; any one of `types` is enough. */
export interface ScopeNeed {
  readonly types: readonly string[];
  readonly interaction: Interaction;
}

export type Target =
  /** No particular person: directory resources, registering someone new, administration. */
  | { readonly kind: 'none' }
  /** One person; `facts` undefined when no such person is recorded. */
  | { readonly kind: 'patient'; readonly patientId: string; readonly facts: PatientFacts | undefined }
  /** A search across people: the decision says how results must be narrowed. */
  | { readonly kind: 'people' }
  /** Something within an organisation (registering a practitioner there). */
  | { readonly kind: 'organisation'; readonly organisationId: string };

export interface AccessRequest {
  readonly principal: Principal;
  readonly action: Action;
  /** Scopes needed; empty for actions that are not about FHIR resources (administration). */
  readonly needs: readonly ScopeNeed[];
  readonly target: Target;
  /** The reason given in X-Tandem-Break-Glass, if any. */
  readonly breakGlassReason?: string;
}

export type DecisionReason = 'allowed' | 'role' | 'scope' | 'launch-context' | 'relationship' | 'organisation';

export interface Decision {
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  /** Why, in words for the 403 body (no clinical data). */
  readonly detail: string;
  readonly actor: Actor;
  readonly action: Action;
  readonly needs: readonly ScopeNeed[];
  readonly patientId?: string;
  /** How the user is related to the person, when that is what allowed it. */
  readonly relationship?: Relationship;
  /** Set when a clinician read outside their relationship, giving this reason. */
  readonly breakGlass?: { readonly reason: string };
  /** For a search across people: everyone, the user's caseload, or the launch patient only. */
  readonly narrowTo?: 'everyone' | 'caseload' | 'launch-patient';
}

/** The scope contexts whose scopes count for this token (see scopes.ts). */
const usableContexts = (principal: Principal, target: Target): ScopeContext[] => {
  const contexts: ScopeContext[] = [principal.actor.role === 'system' ? 'system' : 'user'];
  if (principal.patient !== undefined && (target.kind !== 'patient' || target.patientId === principal.patient)) contexts.push('patient');
  return contexts;
};

const grantingContexts = (principal: Principal, need: ScopeNeed, contexts: readonly ScopeContext[]): ScopeContext[] =>
  contexts.filter((context) => principal.scopes.some((s) => s.context === context && need.types.some((t) => scopeCovers(s, t, need.interaction))));

/** Why joining a team is refused to a stranger, and what to do instead. */
export const REFERRAL_TEXT =
  "a person's care team is changed only by someone already responsible for them (their care team, their registered GP, the registered manager of the service caring for them): ask them to refer the person to you";

/** Whether this role may read outside its relationships by giving a reason. */
export const mayBreakGlass = (role: Role, action: Action): boolean => BREAK_GLASS_ROLES.includes(role) && BREAK_GLASS_ACTIONS.includes(action);

/** The decision for one request. Pure: no I/O, no clock. */
export const decide = (request: AccessRequest): Decision => {
  const { principal, action, target, needs } = request;
  const { actor } = principal;
  const patientId = target.kind === 'patient' ? target.patientId : undefined;
  const base = { actor, action, needs, ...(patientId !== undefined ? { patientId } : {}) };
  const deny = (reason: DecisionReason, detail: string): Decision => ({ ...base, allowed: false, reason, detail });
  const allow = (extra: Partial<Decision> = {}): Decision => ({ ...base, allowed: true, reason: 'allowed', detail: 'allowed', ...extra });

  const reach = POLICY[actor.role][action];
  if (reach === 'none') return deny('role', `The role ${actor.role} may not ${ACTION_TEXT[action]}`);

  if (principal.patient !== undefined && patientId !== undefined && patientId !== principal.patient) {
    return deny('launch-context', 'This token was issued for another person (patient launch context)');
  }

  const contexts = usableContexts(principal, target);
  // Every need must be met; the contexts that met all of them decide the reach below.
  let granted: readonly ScopeContext[] = contexts;
  for (const need of needs) {
    const by = grantingContexts(principal, need, contexts);
    if (by.length === 0) return deny('scope', `The token's scopes do not allow ${INTERACTION_TEXT[need.interaction]} on ${need.types.join(' or ')}`);
    granted = granted.filter((c) => by.includes(c));
  }
  const onlyLaunchPatient = principal.patient !== undefined;

  switch (reach) {
    case 'any':
      return allow(target.kind === 'people' ? { narrowTo: onlyLaunchPatient ? 'launch-patient' : 'everyone' } : {});
    case 'own-organisation':
      if (target.kind === 'organisation' && actor.organisation !== undefined && target.organisationId === actor.organisation) return allow();
      return deny('organisation', `The role ${actor.role} may ${ACTION_TEXT[action]} only within their own organisation`);
    case 'relationship': {
      if (target.kind === 'none' || target.kind === 'organisation') return allow();
      // An integration's system/ scope reaches everyone (still only the launch patient when it names one).
      const systemWide = needs.length > 0 && granted.includes('system');
      if (target.kind === 'people') return allow({ narrowTo: onlyLaunchPatient ? 'launch-patient' : systemWide ? 'everyone' : 'caseload' });
      if (systemWide) return allow();
      const relationship = target.facts ? relationshipOf(principal, target.facts) : undefined;
      if (relationship) return allow({ relationship });
      const glass = mayBreakGlass(actor.role, action);
      if (glass && request.breakGlassReason) return allow({ breakGlass: { reason: request.breakGlassReason } });
      return deny(
        'relationship',
        `${actor.id} has no care relationship with Patient/${target.patientId}` +
          (action === 'patient.care-team' ? `; ${REFERRAL_TEXT}` : '') +
          (glass ? `; in an emergency, read it by giving a reason in the X-Tandem-Break-Glass header` : ''),
      );
    }
  }
};

/** The break-glass reason from its header: trimmed, control characters removed, at most 500 characters. */
export const breakGlassReasonOf = (header: string | undefined): string | undefined => {
  if (header === undefined) return undefined;
  // eslint-disable-next-line no-control-regex
  const reason = header.replace(/[\u0000-\u001f\u007f]/g, ' ').trim().slice(0, MAX_BREAK_GLASS_REASON);
  return reason === '' ? undefined : reason;
};
