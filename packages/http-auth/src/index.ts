import { AuthenticationError, TooManyRequestsError, type AccessControl, type AuthenticationRefusal, type Principal } from '@tandem/auth';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * The principal travels on the request itself, typed, rather than in a module-level map that
 * every service had to import from the record service to find it. Only `authenticate` sets it,
 * once, as a read-only property that cannot be replaced afterwards: no later middleware or body
 * can swap who is asking.
 */
declare module 'express-serve-static-core' {
  interface Request {
    /** Who is asking: set by `authenticate` (@tandem/http-auth); read it with `principalOf`. */
    readonly principal?: Principal;
  }
}

const carry = (req: Request, principal: Principal): void => {
  Object.defineProperty(req, 'principal', { value: principal, writable: false, configurable: false, enumerable: false });
};

/** Who is asking: set by `authenticate`, which every route but /health, /openapi.json and /fhir/metadata sits behind. */
export const principalOf = (req: Request): Principal => {
  const { principal } = req;
  if (!principal) throw new Error('This route is not behind authentication');
  return principal;
};

/**
 * Express middleware: verifies the bearer token and carries the principal on the request;
 * otherwise answers 401 (or 503 when the identity provider's keys cannot be fetched), or 429 with
 * Retry-After over a rate limit, with `refuse` (each service answers in its own format:
 * OperationOutcome on /fhir, problem+json elsewhere).
 */
export const authenticate =
  (control: AccessControl, refuse: (res: Response, error: AuthenticationRefusal) => void): RequestHandler =>
  (req: Request, res: Response, next: NextFunction) => {
    // Once per request: in one process the care record's /api guard runs before the delegation
    // service's, and a second check would count the request twice against the user's rate limit.
    if (req.principal) return next();
    control.authenticate(req.get('authorization'), { address: req.ip }).then(
      (principal) => {
        carry(req, principal);
        next();
      },
      (error: unknown) => {
        if (error instanceof TooManyRequestsError) {
          res.set('Retry-After', String(error.retryAfterSeconds));
          return refuse(res, error);
        }
        if (!(error instanceof AuthenticationError)) return next(error);
        res.set('WWW-Authenticate', error.challenge);
        refuse(res, error);
      },
    );
  };
