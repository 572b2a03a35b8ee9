import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ZodError } from 'zod';
import { AuthenticationError } from './errors';
import { principalFromClaims, type Principal } from './principal';

/** Only asymmetric signatures: `none` and HMAC (a shared secret, or a public key misused as one) are refused. */
export const ALLOWED_ALGORITHMS = ['ES256', 'RS256'] as const;
/** Clocks drift a little between the identity provider and Tandem. */
export const CLOCK_TOLERANCE_SECONDS = 30;

export interface TokenVerifierOptions {
  /** Where the signing keys come from: a JWKS (remote or local); a token's `kid` must name one of them. */
  readonly keys: JWTVerifyGetKey;
  readonly issuer: string;
  readonly audience: string;
  readonly clockToleranceSeconds?: number;
  /** The clock (tests). */
  readonly now?: () => Date;
  /**
   * Verified tokens are remembered (by their exact text) so a client's every request does not pay
   * for a signature check: at most this many, each for at most `cacheSeconds` and never past its
   * expiry. 0 turns the cache off.
   */
  readonly cacheSize?: number;
  readonly cacheSeconds?: number;
}

export interface TokenVerifier {
  /** Verifies an `Authorization` header's bearer token; throws AuthenticationError when it is not accepted. */
  verifyBearer(header: string | undefined): Promise<Principal>;
}

const BEARER = /^Bearer\s+([A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]*\.[A-Za-z0-9\-_=]*)\s*$/i;
const MAX_TOKEN_LENGTH = 16_384;

const failureOf = (error: unknown): AuthenticationError => {
  if (error instanceof AuthenticationError) return error;
  if (error instanceof ZodError) {
    const issue = error.issues[0];
    return new AuthenticationError('claims', `The token's ${issue?.path.join('.') || 'claims'} claim is not acceptable: ${issue?.message ?? 'invalid'}`);
  }
  if (error instanceof errors.JWTExpired) return new AuthenticationError('expired', 'The token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return new AuthenticationError('not-yet-valid', 'The token is not valid yet');
    if (error.claim === 'iss') return new AuthenticationError('wrong-issuer', 'The token was not issued by the configured issuer');
    if (error.claim === 'aud') return new AuthenticationError('wrong-audience', 'The token is not meant for Tandem (audience)');
    return new AuthenticationError('claims', `The token's ${error.claim} claim is not acceptable`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new AuthenticationError('algorithm', `The token must be signed with ${ALLOWED_ALGORITHMS.join(' or ')}`);
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new AuthenticationError('unknown-key', 'The token was signed with a key the issuer does not publish');
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new AuthenticationError('bad-signature', 'The token signature does not verify');
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return new AuthenticationError('keys-unavailable', "The identity provider's keys could not be fetched");
  }
  if (error instanceof errors.JOSEError && /JSON Web Key Set/.test(error.message)) {
    return new AuthenticationError('keys-unavailable', "The identity provider's keys could not be fetched");
  }
  if (error instanceof errors.JOSEError) return new AuthenticationError('malformed', 'The token is not a valid signed JWT');
  // A failed JWKS fetch (network) surfaces as a plain error from fetch.
  return new AuthenticationError('keys-unavailable', "The identity provider's keys could not be fetched");
};

/** A verifier for bearer tokens: signature, issuer, audience, exp and nbf (with a small tolerance), algorithms allow-list. */
export const createTokenVerifier = (options: TokenVerifierOptions): TokenVerifier => {
  const tolerance = options.clockToleranceSeconds ?? CLOCK_TOLERANCE_SECONDS;
  const cacheSize = options.cacheSize ?? 10_000;
  const cacheMs = (options.cacheSeconds ?? 300) * 1000;
  const now = () => (options.now ? options.now() : new Date()).getTime();
  const verified = new Map<string, { principal: Principal; until: number }>();

  return {
    async verifyBearer(header) {
      if (header === undefined || header.trim() === '') throw new AuthenticationError('missing', 'Send a bearer token: Authorization: Bearer <token>');
      const match = header.length <= MAX_TOKEN_LENGTH ? BEARER.exec(header) : null;
      if (!match) throw new AuthenticationError('not-bearer-jwt', 'The Authorization header must be "Bearer <JWT>"');
      const token = match[1]!;
      const known = verified.get(token);
      if (known && known.until > now()) return known.principal;
      if (known) verified.delete(token);
      try {
        const { payload } = await jwtVerify(token, options.keys, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: [...ALLOWED_ALGORITHMS],
          clockTolerance: tolerance,
          requiredClaims: ['exp', 'sub'],
          ...(options.now ? { currentDate: options.now() } : {}),
        });
        const principal = principalFromClaims(payload);
        if (cacheSize > 0) {
          if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
          verified.set(token, { principal, until: Math.min(now() + cacheMs, ((payload.exp ?? 0) + tolerance) * 1000) });
        }
        return principal;
      } catch (error) {
        throw failureOf(error);
      }
    },
  };
};

export interface RemoteVerifierOptions {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
}

/**
 * Server and scale modes: keys from the identity provider's JWKS URL (any OpenID Connect provider,
 * e.g. NHS CIS2 or an organisation's own). jose caches the set and refetches it when a token names a
 * key it has not seen (key rotation), at most once every 30 s.
 */
export const remoteTokenVerifier = ({ jwksUrl, issuer, audience }: RemoteVerifierOptions): TokenVerifier =>
  createTokenVerifier({ keys: createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 }), issuer, audience });
