import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AuthenticationError, TooManyRequestsError, type AuthenticationFailure } from './errors';
import type { Principal } from './principal';

/**
 * Rate limits on authentication (see docs/decisions/0009-hardening.md). Counters live in this
 * process's memory: each process counts alone (a shared store is the scale mode's follow-up).
 */
export interface RateLimitOptions {
  /** Requests per verified user (the token's `sub`, `principal.actor.id`) per minute; 0 turns this limit off. */
  readonly perUserPerMinute: number;
  /**
   * Guessed tokens (malformed, an unknown key, a bad signature, a refused algorithm) per client
   * address per minute; past it the address's further unverifiable tokens are refused (429) until
   * its minute is over. A token that verifies is never refused for its address: behind a proxy or
   * a care home's NAT one address is everyone. 0 turns this limit off;
   * DEFAULT_GUESSES_PER_ADDRESS_PER_MINUTE when omitted.
   */
  readonly guessesPerAddressPerMinute?: number;
}

export const DEFAULT_GUESSES_PER_ADDRESS_PER_MINUTE = 60;
const WINDOW_SECONDS = 60;

/**
 * The failures that are guesses: a JWT not signed by a key Tandem trusts. No token at all, a header
 * that is not a bearer JWT ("Bearer undefined", Basic credentials), or a token Tandem's issuer signed
 * that has run out (a client that forgot to refresh) is no guess: counting them would let one buggy
 * or stale tablet lock out a whole care home behind one address.
 */
const GUESSES: ReadonlySet<AuthenticationFailure> = new Set<AuthenticationFailure>(['malformed', 'algorithm', 'unknown-key', 'bad-signature']);

const secondsUntil = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Applies the limits around token verification; AccessControl.authenticate calls it. The token is
 * verified first (cheaply: a token seen before is a cache hit, one naming a key Tandem does not
 * trust fails before any signature check), so only what does not verify counts against, and is
 * refused for, its address.
 */
export interface AuthenticationLimiter {
  /** A verification failed: counts a guess against the address; the error to throw (429 once the address is over the limit). */
  failed(error: unknown, address: string | undefined): Promise<unknown>;
  /** A verification succeeded: counts the request against the user; 429 once over the limit. */
  admit(principal: Principal): Promise<void>;
}

const rejected = (error: unknown): RateLimiterRes => {
  // The memory store rejects with the counter's state; any other rejection is a fault, not a limit.
  if (error instanceof RateLimiterRes) return error;
  throw error;
};

export const createAuthenticationLimiter = (options: RateLimitOptions): AuthenticationLimiter => {
  const perUser = Math.max(0, Math.floor(options.perUserPerMinute));
  const perAddress = Math.max(0, Math.floor(options.guessesPerAddressPerMinute ?? DEFAULT_GUESSES_PER_ADDRESS_PER_MINUTE));
  const users = perUser > 0 ? new RateLimiterMemory({ keyPrefix: 'tandem-user', points: perUser, duration: WINDOW_SECONDS }) : undefined;
  const guesses = perAddress > 0 ? new RateLimiterMemory({ keyPrefix: 'tandem-guess', points: perAddress, duration: WINDOW_SECONDS }) : undefined;

  const addressRefused = (res: RateLimiterRes) => {
    const seconds = secondsUntil(res.msBeforeNext);
    return new TooManyRequestsError(seconds, `Too many refused tokens from this address; try again in ${seconds} s`);
  };

  return {
    async failed(error, address) {
      if (!guesses || !address || !(error instanceof AuthenticationError) || !GUESSES.has(error.failure)) return error;
      try {
        await guesses.consume(address);
        return error;
      } catch (limit) {
        return addressRefused(rejected(limit));
      }
    },
    async admit(principal) {
      if (!users) return;
      try {
        await users.consume(principal.actor.id);
      } catch (limit) {
        const seconds = secondsUntil(rejected(limit).msBeforeNext);
        throw new TooManyRequestsError(seconds, `More than ${perUser} requests in a minute from this user; try again in ${seconds} s`);
      }
    },
  };
};
