import { AuthenticationError, createAccessControl, DevIssuer, TooManyRequestsError, type AccessControl, type Principal, type RateLimitOptions } from '../src';

/** What authenticate refused with (it must refuse). */
const refusalOf = async (control: AccessControl, header: string | undefined, address?: string) => {
  try {
    await control.authenticate(header, address ? { address } : undefined);
  } catch (error) {
    return error as AuthenticationError | TooManyRequestsError;
  }
  throw new Error('the request was accepted');
};

describe('rate limits on authentication', () => {
  let issuer: DevIssuer;
  let amira: string;
  let tom: string;
  /** Signed by a key Tandem does not trust: a guessed token. */
  let forged: string;

  beforeAll(async () => {
    issuer = await DevIssuer.create();
    amira = `Bearer ${await issuer.mint({ role: 'care-worker', user: 'cw-amira-hassan', org: 'org-kindly-care' })}`;
    tom = `Bearer ${await issuer.mint({ role: 'care-worker', user: 'cw-tom-baker', org: 'org-kindly-care' })}`;
    forged = `Bearer ${await (await DevIssuer.create()).mint({ role: 'auditor', user: 'intruder' })}`;
  });

  afterEach(() => jest.useRealTimers());

  const control = (rateLimit?: RateLimitOptions, onAuthenticated?: (p: Principal) => void) =>
    createAccessControl({ verifier: issuer.verifier(), ...(rateLimit ? { rateLimit } : {}), ...(onAuthenticated ? { onAuthenticated } : {}) });

  describe('per verified user', () => {
    it('refuses the N+1th request in the minute with 429 and the seconds to wait', async () => {
      const limited = control({ perUserPerMinute: 3 });
      for (let i = 0; i < 3; i++) expect((await limited.authenticate(amira)).actor.id).toBe('cw-amira-hassan');
      const refusal = await refusalOf(limited, amira);
      expect(refusal).toBeInstanceOf(TooManyRequestsError);
      expect(refusal.status).toBe(429);
      const { retryAfterSeconds } = refusal as TooManyRequestsError;
      expect(Number.isInteger(retryAfterSeconds)).toBe(true);
      expect(retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(retryAfterSeconds).toBeLessThanOrEqual(60);
      expect(refusal.message).toMatch(/More than 3 requests in a minute/);
    });

    it('counts by the verified user, not the token or the address: other users are unaffected', async () => {
      const limited = control({ perUserPerMinute: 2 });
      const again = `Bearer ${await issuer.mint({ role: 'care-worker', user: 'cw-amira-hassan', org: 'org-kindly-care', minutes: 30 })}`;
      await limited.authenticate(amira, { address: '10.0.0.1' });
      await limited.authenticate(again, { address: '10.0.0.2' });
      // A fresh token or another address does not reset Amira's count...
      expect(await refusalOf(limited, again, '10.0.0.3')).toBeInstanceOf(TooManyRequestsError);
      // ...and Tom, from the same address, has his own.
      expect((await limited.authenticate(tom, { address: '10.0.0.1' })).actor.id).toBe('cw-tom-baker');
      expect((await limited.authenticate(tom, { address: '10.0.0.1' })).actor.id).toBe('cw-tom-baker');
      expect(await refusalOf(limited, tom)).toBeInstanceOf(TooManyRequestsError);
    });

    it('lets the user in again once the minute is over', async () => {
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
      const limited = control({ perUserPerMinute: 1 });
      await limited.authenticate(amira);
      const refusal = (await refusalOf(limited, amira)) as TooManyRequestsError;
      expect(refusal).toBeInstanceOf(TooManyRequestsError);
      jest.advanceTimersByTime(refusal.retryAfterSeconds * 1000 + 1);
      expect((await limited.authenticate(amira)).actor.id).toBe('cw-amira-hassan');
    });

    it('is off with a limit of 0, and without a rateLimit at all', async () => {
      for (const unlimited of [control({ perUserPerMinute: 0 }), control()]) {
        for (let i = 0; i < 200; i++) await unlimited.authenticate(amira, { address: '10.0.0.9' });
      }
    });

    it('still names the throttled user to onAuthenticated (the audit trail records who was refused)', async () => {
      const seen: string[] = [];
      const limited = control({ perUserPerMinute: 1 }, (p) => seen.push(p.actor.id));
      await limited.authenticate(amira);
      expect(await refusalOf(limited, amira)).toBeInstanceOf(TooManyRequestsError);
      expect(seen).toEqual(['cw-amira-hassan', 'cw-amira-hassan']);
    });
  });

  describe('guessed tokens per client address', () => {
    it('answers 401 up to the limit, then 429 to that address\'s further guesses, but not to others', async () => {
      const limited = control({ perUserPerMinute: 0, guessesPerAddressPerMinute: 3 });
      const guesses = [forged, 'Bearer eyJ.eyJ.eyJ', `${amira.slice(0, -4)}AAAA`];
      for (const guess of guesses) {
        const refusal = await refusalOf(limited, guess, '192.0.2.7');
        expect(refusal).toBeInstanceOf(AuthenticationError);
        expect(refusal.status).toBe(401);
      }
      const blocked = await refusalOf(limited, forged, '192.0.2.7');
      expect(blocked).toBeInstanceOf(TooManyRequestsError);
      expect((blocked as TooManyRequestsError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(blocked.message).toMatch(/refused tokens from this address/);
      expect(await refusalOf(limited, 'Bearer eyJ.eyJ.eyJ', '192.0.2.7')).toBeInstanceOf(TooManyRequestsError);
      // Another address is unaffected.
      expect(await refusalOf(limited, forged, '192.0.2.8')).toBeInstanceOf(AuthenticationError);
    });

    it('never refuses a token that verifies for its address\'s guesses: 61 garbled tokens from one address, then every user behind it still gets in', async () => {
      const limited = control({ perUserPerMinute: 0 });
      for (let i = 0; i < 60; i++) expect((await refusalOf(limited, i % 2 ? forged : `Bearer eyJ${i}.eyJ.eyJ`, '203.0.113.5')).status).toBe(401);
      expect((await refusalOf(limited, forged, '203.0.113.5')).status).toBe(429);
      // The proxy's address is everyone's: Amira's and Tom's tokens verify, so they are accepted.
      expect((await limited.authenticate(amira, { address: '203.0.113.5' })).actor.id).toBe('cw-amira-hassan');
      expect((await limited.authenticate(tom, { address: '203.0.113.5' })).actor.id).toBe('cw-tom-baker');
      const fresh = `Bearer ${await issuer.mint({ role: 'gp', user: 'gp-behind-the-proxy' })}`;
      expect((await limited.authenticate(fresh, { address: '203.0.113.5' })).actor.id).toBe('gp-behind-the-proxy');
      // The guesser is still refused.
      expect((await refusalOf(limited, forged, '203.0.113.5')).status).toBe(429);
    });

    it('still applies the per-user limit to a verified user from an address over its guess limit', async () => {
      const limited = control({ perUserPerMinute: 1, guessesPerAddressPerMinute: 1 });
      expect((await refusalOf(limited, forged, '203.0.113.6')).status).toBe(401);
      expect((await refusalOf(limited, forged, '203.0.113.6')).status).toBe(429);
      expect((await limited.authenticate(amira, { address: '203.0.113.6' })).actor.id).toBe('cw-amira-hassan');
      const refusal = await refusalOf(limited, amira, '203.0.113.6');
      expect(refusal.message).toMatch(/More than 1 requests in a minute from this user/);
    });

    it('does not count a missing token, a header that is no bearer JWT ("Bearer undefined", Basic) or an expired one of our own', async () => {
      const limited = control({ perUserPerMinute: 0, guessesPerAddressPerMinute: 2 });
      const expired = `Bearer ${await issuer.mint({ role: 'gp', user: 'gp-1', issuedAt: new Date(Date.now() - 2 * 3_600_000), minutes: 60 })}`;
      for (let i = 0; i < 10; i++) {
        expect((await refusalOf(limited, undefined, '192.0.2.9')).status).toBe(401);
        expect((await refusalOf(limited, expired, '192.0.2.9')).status).toBe(401);
        expect((await refusalOf(limited, 'Bearer undefined', '192.0.2.9')).status).toBe(401);
        expect((await refusalOf(limited, 'Basic dXNlcjpwYXNz', '192.0.2.9')).status).toBe(401);
      }
      expect((await limited.authenticate(amira, { address: '192.0.2.9' })).actor.id).toBe('cw-amira-hassan');
    });

    it('is off with a limit of 0', async () => {
      const limited = control({ perUserPerMinute: 0, guessesPerAddressPerMinute: 0 });
      for (let i = 0; i < 100; i++) expect((await refusalOf(limited, forged, '192.0.2.10')).status).toBe(401);
    });

    it('defaults to 60 guesses a minute', async () => {
      const limited = control({ perUserPerMinute: 0 });
      for (let i = 0; i < 60; i++) expect((await refusalOf(limited, forged, '192.0.2.11')).status).toBe(401);
      expect((await refusalOf(limited, forged, '192.0.2.11')).status).toBe(429);
    });
  });
});
