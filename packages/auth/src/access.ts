import { decide, type AccessRequest, type Decision } from './policy';
import type { Principal } from './principal';
import type { TokenVerifier } from './verify';

/**
 * Called with every access decision, allowed or denied (break-glass reads included). The audit
 * trail turns these into AuditEvents; until then the composition root logs them (without clinical
 * data). It must not throw: a failing hook never changes the decision.
 */
export type OnAccess = (decision: Decision) => void;

export interface AccessControl {
  /** Verifies the `Authorization` header; throws AuthenticationError (401, or 503 when keys are unavailable). */
  authenticate(authorization: string | undefined): Promise<Principal>;
  /** Decides and reports the decision through onAccess. */
  authorise(request: AccessRequest): Decision;
  /** Decides without reporting: for narrowing a search to the people a user may see. */
  decide(request: AccessRequest): Decision;
}

export const createAccessControl = ({ verifier, onAccess }: { verifier: TokenVerifier; onAccess?: OnAccess }): AccessControl => ({
  authenticate: (authorization) => verifier.verifyBearer(authorization),
  authorise: (request) => {
    const decision = decide(request);
    try {
      onAccess?.(decision);
    } catch {
      // The hook reports; it never decides.
    }
    return decision;
  },
  decide,
});
