import { AuthenticationError, POLICY, type AccessControl, type Decision, type EndpointAccess, type Principal, type Target } from '@tandem/auth';
import type { RecordAccess } from '@tandem/record';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** What a request is about: one person (the policy checks the care relationship), or no one. */
export type About = { readonly patientId: string } | 'nobody';

const principals = new WeakMap<Request, Principal>();

export const principalOf = (req: Request): Principal => {
  const principal = principals.get(req);
  if (!principal) throw new Error('This route is not behind authentication');
  return principal;
};

/** Verifies the bearer token (401, or 503 when keys cannot be fetched) and remembers who is asking. */
export const authenticate =
  (control: AccessControl, refuse: (res: Response, error: AuthenticationError) => void): RequestHandler =>
  (req: Request, res: Response, next: NextFunction) => {
    control.authenticate(req.get('authorization')).then(
      (principal) => {
        principals.set(req, principal);
        next();
      },
      (error: unknown) => {
        if (!(error instanceof AuthenticationError)) return next(error);
        res.set('WWW-Authenticate', error.challenge);
        refuse(res, error);
      },
    );
  };

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
