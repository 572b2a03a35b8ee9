/** Why a bearer token was not accepted. */
export type AuthenticationFailure =
  | 'missing'
  /** Not "Bearer <three base64url parts>" at all (Basic credentials, "Bearer undefined"): a client's mistake, not a guess. */
  | 'not-bearer-jwt'
  | 'malformed'
  | 'expired'
  | 'not-yet-valid'
  /** `iat` later than now (beyond the clock allowance). */
  | 'issued-in-the-future'
  /** Lives longer than the maximum lifetime (exp - iat, or exp - now). */
  | 'too-long-lived'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'algorithm'
  | 'unknown-key'
  | 'bad-signature'
  | 'claims'
  | 'keys-unavailable';

/**
 * No or a bad token: HTTP 401 with `WWW-Authenticate: Bearer` (RFC 6750). When the identity
 * provider's keys cannot be fetched the fault is ours, not the caller's: 503.
 */
export class AuthenticationError extends Error {
  readonly status: 401 | 503;

  constructor(
    readonly failure: AuthenticationFailure,
    message: string,
  ) {
    super(message);
    this.name = 'AuthenticationError';
    this.status = failure === 'keys-unavailable' ? 503 : 401;
  }

  /** The RFC 6750 challenge for the response. */
  get challenge(): string {
    if (this.failure === 'missing') return 'Bearer realm="tandem"';
    if (this.failure === 'keys-unavailable') return 'Bearer realm="tandem"';
    return `Bearer realm="tandem", error="invalid_token", error_description="${this.message.replace(/["\\]/g, '')}"`;
  }
}

/**
 * Too many requests: a verified user over their per-minute allowance, or a client address that sent
 * too many forged or garbled tokens. HTTP 429 with `Retry-After` (seconds, RFC 9110).
 */
export class TooManyRequestsError extends Error {
  readonly status = 429 as const;

  constructor(
    /** Whole seconds until the window resets (at least 1). */
    readonly retryAfterSeconds: number,
    message: string,
  ) {
    super(message);
    this.name = 'TooManyRequestsError';
  }
}

/** What `AccessControl.authenticate` refuses with. */
export type AuthenticationRefusal = AuthenticationError | TooManyRequestsError;

/** The problem+json title for a refused authentication. */
export const refusalTitle = (refusal: AuthenticationRefusal): string =>
  refusal.status === 401 ? 'Unauthorized' : refusal.status === 429 ? 'Too Many Requests' : 'Service Unavailable';
