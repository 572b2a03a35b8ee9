import { POLICY, type AccessControl, type Decision, type EndpointAccess, type PatientFacts, type Principal, type Target } from '@tandem/auth';
import type { Role } from '@tandem/contracts';

/** What a request is about: one person (the policy checks the care relationship), an organisation, or no one. */
export type About = { readonly patientId: string } | { readonly organisationId: string } | 'nobody';

/** One authentication middleware and one principal per request, shared with the care record's routes (@tandem/http-auth). */
export { authenticate, principalOf } from '@tandem/http-auth';

/**
 * What the delegation service asks of the care record to decide access (a port it defines; the
 * composition root passes the record service's RecordAccess): who cares for a person, read from
 * the person's own stream, never from a body or a read model.
 */
export interface CareRelationships {
  /** Who cares for the person (team, registered GP, registrar); undefined when no such person is recorded. */
  factsFor(patientId: string, role: Role): Promise<PatientFacts | undefined>;
  /** Of these people, those the principal may reach with this endpoint (decided, not reported). */
  confirm(principal: Principal, endpoint: EndpointAccess, patientIds: Iterable<string>): Promise<string[]>;
  /** The people who may be in the principal's care, from the read model, not yet confirmed: only for rows each confirmed after (`reachable`). */
  caseloadCandidates(principal: Principal): Promise<Set<string>>;
}

/**
 * The delegation service's side of the policy: the same decision as the care record's, with the
 * person's care relationship read from their own stream (CareRelationships.factsFor), never from a body.
 */
export class DelegationAccess {
  constructor(
    readonly control: AccessControl,
    private readonly record: CareRelationships,
  ) {}

  /** The people who may be in the principal's care (the read model's care teams), unconfirmed: narrow the rows built from them with `reachable`. */
  caseloadCandidates(principal: Principal): Promise<Set<string>> {
    return this.record.caseloadCandidates(principal);
  }

  /**
   * Of these people, those the principal may reach with this endpoint: the same per-person rule
   * as a direct read of the person's record (CareRelationships.confirm, decided on their own stream).
   * A list answer keeps only these, and names them in the access trail (disclose).
   */
  async reachable(principal: Principal, endpoint: EndpointAccess, patientIds: Iterable<string>): Promise<Set<string>> {
    return new Set(await this.record.confirm(principal, endpoint, patientIds));
  }

  /** breakGlassReason: the X-Tandem-Break-Glass header's reason, as the care record's reads take it (the refusal's words offer it). */
  async decide(principal: Principal, endpoint: EndpointAccess, about: About, breakGlassReason?: string): Promise<Decision> {
    let target: Target = { kind: 'none' };
    if (about !== 'nobody' && 'organisationId' in about) {
      target = { kind: 'organisation', organisationId: about.organisationId };
    } else if (about !== 'nobody') {
      const needsFacts = POLICY[principal.actor.role][endpoint.action] === 'relationship';
      target = { kind: 'patient', patientId: about.patientId, facts: needsFacts ? await this.record.factsFor(about.patientId, principal.actor.role) : undefined };
    }
    return this.control.authorise({ principal, action: endpoint.action, needs: endpoint.needs, target, ...(breakGlassReason ? { breakGlassReason } : {}) });
  }
}
