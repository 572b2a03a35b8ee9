import { POLICY, type AccessControl, type Decision, type EndpointAccess, type Principal, type Target } from '@tandem/auth';
import type { RecordAccess } from '@tandem/record';

/** What a request is about: one person (the policy checks the care relationship), or no one. */
export type About = { readonly patientId: string } | 'nobody';

/** One authentication middleware and one principal per request, shared with the care record's routes. */
export { authenticate, principalOf } from '@tandem/record';

/**
 * The delegation service's side of the policy: the same decision as the care record's, with the
 * person's care relationship read from their own stream (RecordAccess.factsFor), never from a body.
 */
export class DelegationAccess {
  constructor(
    readonly control: AccessControl,
    private readonly record: Pick<RecordAccess, 'factsFor'>,
  ) {}

  async decide(principal: Principal, endpoint: EndpointAccess, about: About): Promise<Decision> {
    let target: Target = { kind: 'none' };
    if (about !== 'nobody') {
      const needsFacts = POLICY[principal.actor.role][endpoint.action] === 'relationship';
      target = { kind: 'patient', patientId: about.patientId, facts: needsFacts ? await this.record.factsFor(about.patientId, principal.actor.role) : undefined };
    }
    return this.control.authorise({ principal, action: endpoint.action, needs: endpoint.needs, target });
  }
}
