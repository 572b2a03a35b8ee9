import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ZodError } from 'zod';
import { AuthenticationError } from './errors';
import { principalFromClaims, type Principal } from './principal';

/** Only asymmetric signatures: `none` and HMAC (a shared secret, or a public key misused as one) are refused. */
export const ALLOWED_ALGORITHMS = ['ES256', 'RS256'] as const;
/** Clocks drift a little between the identity provider and Tandem: iat, nbf and exp are read with this allowance. */
export const CLOCK_TOLERANCE_SECONDS = 60;
/**
 * The longest a token may live (from `iat` to `exp`), and the furthest ahead its `exp` may be: a
 * shift. A stolen token is good for hours, not years; clients refresh. See docs/decisions/0009-hardening.md.
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 12 * 60 * 60;

export interface TokenVerifierOptions {
  /** Where the signing keys come from: a JWKS (remote or local); a token's `kid` must name one of them. */
  readonly keys: JWTVerifyGetKey;
  readonly issuer: string;
  readonly audience: string;
  readonly clockToleranceSeconds?: number;
  /** The longest lifetime accepted (exp - iat, and exp - now); MAX_TOKEN_LIFETIME_SECONDS when omitted. */
  readonly maxLifetimeSeconds?: number;
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
    if (error.reason === 'missing') return new AuthenticationError('claims', `The token has no ${error.claim} claim`);
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

const hours = (seconds: number) => `${Math.round((seconds / 3600) * 10) / 10} h`;

/**
 * Checks what jose leaves to the caller: when the token was issued (not in the future beyond the
 * clock allowance) and how long it lives (at most the maximum, counted from its issue and from now).
 */
const checkLifetime = (payload: JWTPayload, nowSeconds: number, tolerance: number, maxLifetime: number) => {
  const { iat, exp } = payload as { iat: number; exp: number };
  if (iat > nowSeconds + tolerance) throw new AuthenticationError('issued-in-the-future', `The token's iat claim says it was issued in the future (${new Date(iat * 1000).toISOString()})`);
  if (exp - iat > maxLifetime) {
    throw new AuthenticationError('too-long-lived', `The token lives ${hours(exp - iat)} (iat to exp); Tandem accepts at most ${hours(maxLifetime)}`);
  }
  if (exp - nowSeconds > maxLifetime + tolerance) {
    throw new AuthenticationError('too-long-lived', `The token's exp claim is more than ${hours(maxLifetime)} away; Tandem accepts at most ${hours(maxLifetime)}`);
  }
};

/**
 * A verifier for bearer tokens: signature, issuer, audience, algorithms allow-list; exp, nbf and iat
 * (with a clock allowance) and a maximum lifetime; then the claims Tandem reads (principal.ts).
 */
export const createTokenVerifier = (options: TokenVerifierOptions): TokenVerifier => {
  const tolerance = options.clockToleranceSeconds ?? CLOCK_TOLERANCE_SECONDS;
  const maxLifetime = options.maxLifetimeSeconds ?? MAX_TOKEN_LIFETIME_SECONDS;
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
          requiredClaims: ['exp', 'iat', 'sub'],
          ...(options.now ? { currentDate: options.now() } : {}),
        });
        checkLifetime(payload, Math.floor(now() / 1000), tolerance, maxLifetime);
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

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * Whether a JWKS URL may be trusted for signing keys: https, or http to this machine only (a test
 * identity provider, a sidecar). Over plain http anyone on the path could swap the keys and sign
 * tokens for any role.
 */
export const isSecureKeyUrl = (url: string): boolean => {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && LOOPBACK.test(parsed.hostname));
};

export class InsecureKeyUrl extends Error {
  constructor(url: string) {
    super(`The JWKS URL must be https (plain http only to localhost): ${url}`);
    this.name = 'InsecureKeyUrl';
  }
}

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
export const remoteTokenVerifier = ({ jwksUrl, issuer, audience }: RemoteVerifierOptions): TokenVerifier => {
  if (!isSecureKeyUrl(jwksUrl)) throw new InsecureKeyUrl(jwksUrl);
  return createTokenVerifier({ keys: createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 }), issuer, audience });
};
