import { decide, type AccessRequest, type Decision } from './policy';
import type { Principal } from './principal';
import { createAuthenticationLimiter, type RateLimitOptions } from './rate-limit';
import type { TokenVerifier } from './verify';

/**
 * Called with every access decision, allowed or denied (break-glass reads included). The access
 * trail (apps/tandem) joins them to the request's record, which becomes a FHIR AuditEvent; the
 * composition root also logs them (without clinical data). It must not throw: a failing hook never
 * changes the decision.
 */
export type OnAccess = (decision: Decision) => void;

/** Called with the people whose data an answer carried (a search across a caseload, a type's history). */
export type OnDisclosed = (patientIds: readonly string[]) => void;

/** Called with every verified principal: the audit trail learns who made a request even when no decision follows (a 400, a 404). */
export type OnAuthenticated = (principal: Principal) => void;

export interface AccessControl {
  /**
   * Verifies the `Authorization` header; throws AuthenticationError (401, or 503 when keys are
   * unavailable), or TooManyRequestsError (429) when the verified user is over their rate limit, or
   * when a token that does not verify comes from an address (`from`) that sent too many guesses.
   */
  authenticate(authorization: string | undefined, from?: { readonly address?: string }): Promise<Principal>;
  /** Decides and reports the decision through onAccess. */
  authorise(request: AccessRequest): Decision;
  /** Decides without reporting: for narrowing a search to the people a user may see. */
  decide(request: AccessRequest): Decision;
  /** Reports the people whose data is being sent (through onDisclosed): the audit trail's "which patient" for a search. */
  disclose(patientIds: readonly string[]): void;
}

/** Reports to a hook; the hook reports, it never decides, so its failure is swallowed. */
const report = <T>(hook: ((value: T) => void) | undefined, value: T) => {
  try {
    hook?.(value);
  } catch {
    // deliberately ignored: see above
  }
};

export const createAccessControl = ({
  verifier,
  onAccess,
  onAuthenticated,
  onDisclosed,
  rateLimit,
}: {
  verifier: TokenVerifier;
  onAccess?: OnAccess;
  onAuthenticated?: OnAuthenticated;
  onDisclosed?: OnDisclosed;
  /** Per-user and per-address limits (rate-limit.ts); none when omitted. */
  rateLimit?: RateLimitOptions;
}): AccessControl => {
  const limiter = rateLimit ? createAuthenticationLimiter(rateLimit) : undefined;
  return {
    authenticate: async (authorization, from) => {
      // Verified before any limit: a good token is never refused for its address's guesses.
      const principal = await verifier.verifyBearer(authorization).catch(async (error: unknown) => {
        throw limiter ? await limiter.failed(error, from?.address) : error;
      });
      // Reported before the user's limit: the audit trail names who was throttled.
      report(onAuthenticated, principal);
      await limiter?.admit(principal);
      return principal;
    },
    authorise: (request) => {
      const decision = decide(request);
      report(onAccess, decision);
      return decision;
    },
    decide,
    disclose: (patientIds) => report(onDisclosed, patientIds),
  };
};
