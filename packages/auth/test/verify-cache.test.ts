import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { AuthenticationError, CLOCK_TOLERANCE_SECONDS, createTokenVerifier, DEV_AUDIENCE, DEV_ISSUER, type TokenVerifier } from '../src';

/**
 * H54: a verified token is remembered (by its exact text) so a client's every request does not pay
 * for a signature check, but never past the point where verifying it afresh would refuse it: its
 * expiry (with the same clock allowance jose applies), and never for longer than the cache's own
 * bound, so a key the identity provider withdraws stops working as it would without the cache.
 */
describe('the verified-token cache (H54)', () => {
  let now: Date;
  let verifier: TokenVerifier;
  let sign: (times: { iat: number; exp: number }) => Promise<string>;
  let signatureChecks: number;
  const seconds = () => Math.floor(now.getTime() / 1000);

  beforeEach(async () => {
    now = new Date('2026-12-02T08:00:00Z');
    signatureChecks = 0;
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] });
    verifier = createTokenVerifier({
      // Counts the key look-ups: one per signature actually checked.
      keys: (header, token) => {
        signatureChecks++;
        return keys(header, token);
      },
      issuer: DEV_ISSUER,
      audience: DEV_AUDIENCE,
      now: () => now,
    });
    sign = ({ iat, exp }) =>
      new SignJWT({ sub: 'gp-david-shah', role: 'gp' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(DEV_ISSUER).setAudience(DEV_AUDIENCE).setIssuedAt(iat).setExpirationTime(exp).sign(privateKey);
  });

  const refusal = async (header: string) => {
    try {
      await verifier.verifyBearer(header);
    } catch (error) {
      expect(error).toBeInstanceOf(AuthenticationError);
      return error as AuthenticationError;
    }
    throw new Error('the token was accepted');
  };

  it('checks a token once, then answers its next requests from memory', async () => {
    const header = `Bearer ${await sign({ iat: seconds(), exp: seconds() + 3600 })}`;
    await verifier.verifyBearer(header);
    now = new Date(now.getTime() + 60_000);
    const principal = await verifier.verifyBearer(header);
    expect(principal.actor.id).toBe('gp-david-shah');
    expect(signatureChecks).toBe(1);
  });

  it('does not accept a remembered token once it has expired (beyond the clock allowance)', async () => {
    const header = `Bearer ${await sign({ iat: seconds(), exp: seconds() + 120 })}`;
    await verifier.verifyBearer(header);
    // Within the allowance after exp a fresh check still accepts it, and so does the cache.
    now = new Date(now.getTime() + (120 + CLOCK_TOLERANCE_SECONDS - 1) * 1000);
    await expect(verifier.verifyBearer(header)).resolves.toBeDefined();
    now = new Date(now.getTime() + 2000);
    expect((await refusal(header)).failure).toBe('expired');
  });

  it('checks a long-lived token afresh after at most five minutes (as a withdrawn key would need)', async () => {
    const header = `Bearer ${await sign({ iat: seconds(), exp: seconds() + 3600 })}`;
    await verifier.verifyBearer(header);
    now = new Date(now.getTime() + 301_000);
    await verifier.verifyBearer(header);
    expect(signatureChecks).toBe(2);
  });
});
