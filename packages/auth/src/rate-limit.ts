import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AuthenticationError, TooManyRequestsError, type AuthenticationFailure } from './errors';
import type { Principal } from './principal';

/**
 * Rate limits on authentication (see docs/decisions/0009-hardening.md). Counters live in this
 * process's memory, or, given a shared store (Redis: TANDEM_REDIS_URL in the server mode, ADR
 * 0017), in Redis, so two or more record processes behind a proxy count each user once (hazard O4).
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
  /**
   * Counters shared by every process pointed at it (sharedRateLimitStore). While it cannot be
   * reached each process counts in its own memory instead (the limit per process, as without it),
   * so an outage of Redis never refuses care nor lifts the limit altogether.
   */
  readonly store?: SharedRateLimitStore;
}

/** A Redis connection for the rate limits' counters; close() at shutdown. */
export interface SharedRateLimitStore {
  readonly client: Redis;
  close(): Promise<void>;
}

/**
 * Connects to Redis for the counters (ioredis). No offline queue: a count while the connection is
 * down fails at once and the process's own memory counts it (rate-limiter-flexible's insurance
 * limiter), instead of the request waiting on a reconnect. `onError` hears each connection error.
 */
export const sharedRateLimitStore = (url: string, onError: (error: Error) => void = () => undefined): SharedRateLimitStore => {
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
  // Told once per outage (ioredis retries, with an error each time, until it is back).
  let down = false;
  client.on('error', (error: Error) => {
    if (!down) onError(error);
    down = true;
  });
  client.on('ready', () => {
    down = false;
  });
  return {
    client,
    close: async () => {
      // A connection that is not up is dropped (quit would wait on its reconnecting).
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
};

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
  // Both stores reject with the counter's state; any other rejection is a fault, not a limit.
  if (error instanceof RateLimiterRes) return error;
  throw error;
};

export const createAuthenticationLimiter = (options: RateLimitOptions): AuthenticationLimiter => {
  const perUser = Math.max(0, Math.floor(options.perUserPerMinute));
  const perAddress = Math.max(0, Math.floor(options.guessesPerAddressPerMinute ?? DEFAULT_GUESSES_PER_ADDRESS_PER_MINUTE));
  const limiter = (keyPrefix: string, points: number): RateLimiterAbstract => {
    const memory = new RateLimiterMemory({ keyPrefix, points, duration: WINDOW_SECONDS });
    if (!options.store) return memory;
    // Redis first; the memory limiter only while Redis does not answer (rejectIfRedisNotReady: at once).
    return new RateLimiterRedis({ storeClient: options.store.client, keyPrefix: `tandem:rate:${keyPrefix}`, points, duration: WINDOW_SECONDS, rejectIfRedisNotReady: true, insuranceLimiter: memory });
  };
  const users = perUser > 0 ? limiter('user', perUser) : undefined;
  const guesses = perAddress > 0 ? limiter('guess', perAddress) : undefined;

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
