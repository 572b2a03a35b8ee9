import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthenticationError,
  CLOCK_TOLERANCE_SECONDS,
  createTokenVerifier,
  DEV_AUDIENCE,
  DEV_ISSUER,
  DevIssuer,
  DevIssuerRefused,
  InsecureKeyUrl,
  isSecureKeyUrl,
  MAX_TOKEN_LIFETIME_SECONDS,
  MAX_TOKEN_MINUTES,
  mintToken,
  parseScopes,
  remoteTokenVerifier,
  type TokenVerifier,
} from '../src';

const NMC = 'https://fhir.hl7.org.uk/Id/nmc-number' as const;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

const failureOf = async (verifier: TokenVerifier, header: string | undefined) => {
  try {
    await verifier.verifyBearer(header);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthenticationError);
    return error as AuthenticationError;
  }
  throw new Error('the token was accepted');
};

describe('bearer token verification', () => {
  let issuer: DevIssuer;
  let verifier: TokenVerifier;

  beforeAll(async () => {
    issuer = await DevIssuer.create();
    verifier = issuer.verifier();
  });

  it('accepts a valid token and builds the actor, scopes and launch patient from its claims', async () => {
    const token = await issuer.mint({
      role: 'district-nurse',
      user: 'nurse-sarah-okafor',
      org: 'org-north-district-nursing',
      registration: { system: NMC, value: '12A3456E' },
      scope: 'openid fhirUser patient/Observation.rs user/*.cruds',
      patient: 'b0a0c9e2-1f7b-5c55-9a5e-0d4a3a0f6f11',
    });
    const principal = await verifier.verifyBearer(`Bearer ${token}`);
    expect(principal.actor).toEqual({ id: 'nurse-sarah-okafor', role: 'district-nurse', organisation: 'org-north-district-nursing', registration: { system: NMC, value: '12A3456E' } });
    expect(principal.patient).toBe('b0a0c9e2-1f7b-5c55-9a5e-0d4a3a0f6f11');
    expect(principal.scopes.map((s) => s.raw)).toEqual(['patient/Observation.rs', 'user/*.cruds']);
    expect([...principal.scopes[0]!.interactions].sort()).toEqual(['r', 's']);
  });

  it('refuses no token and a header that is not a bearer JWT', async () => {
    expect((await failureOf(verifier, undefined)).failure).toBe('missing');
    expect((await failureOf(verifier, 'Basic dXNlcjpwYXNz')).failure).toBe('not-bearer-jwt');
    expect((await failureOf(verifier, 'Bearer not-a-jwt')).failure).toBe('not-bearer-jwt');
  });

  it('refuses an expired token', async () => {
    const token = await issuer.mint({ role: 'gp', user: 'gp-1', issuedAt: new Date(Date.now() - 2 * 3_600_000), minutes: 60 });
    const error = await failureOf(verifier, `Bearer ${token}`);
    expect(error.failure).toBe('expired');
    expect(error.status).toBe(401);
  });

  it('remembers a verified token only until it expires', async () => {
    let clock = Date.now();
    const remembering = issuer.verifier({ now: () => new Date(clock) });
    const token = await issuer.mint({ role: 'gp', user: 'gp-1', minutes: 10 });
    expect((await remembering.verifyBearer(`Bearer ${token}`)).actor.id).toBe('gp-1');
    expect((await remembering.verifyBearer(`Bearer ${token}`)).actor.id).toBe('gp-1');
    clock += 11 * 60_000;
    expect((await failureOf(remembering, `Bearer ${token}`)).failure).toBe('expired');
  });

  it('allows a small clock skew but refuses a token not valid yet', async () => {
    const skewed = await issuer.mint({ role: 'gp', user: 'gp-1', notBefore: new Date(Date.now() + 10_000) });
    await expect(verifier.verifyBearer(`Bearer ${skewed}`)).resolves.toBeDefined();
    const future = await issuer.mint({ role: 'gp', user: 'gp-1', notBefore: new Date(Date.now() + 10 * 60_000) });
    expect((await failureOf(verifier, `Bearer ${future}`)).failure).toBe('not-yet-valid');
  });

  it('refuses a token from another issuer or for another audience', async () => {
    // A token from another issuer, checked with its keys (so the signature verifies) but Tandem's expected issuer.
    const stranger = await DevIssuer.create({ issuer: 'https://idp.example/other' });
    const wrongIssuer = await stranger.mint({ role: 'gp', user: 'gp-1' });
    const trustsStrangerKeys = stranger.verifier();
    expect((await trustsStrangerKeys.verifyBearer(`Bearer ${wrongIssuer}`)).actor.id).toBe('gp-1');
    const expectingDev = createTokenVerifier({
      keys: createLocalJWKSet(stranger.jwks()),
      issuer: DEV_ISSUER,
      audience: DEV_AUDIENCE,
    });
    expect((await failureOf(expectingDev, `Bearer ${wrongIssuer}`)).failure).toBe('wrong-issuer');

    const otherAudience = await DevIssuer.create({ audience: 'some-other-api' });
    const forOthers = await otherAudience.mint({ role: 'gp', user: 'gp-1' });
    const expectingTandem = createTokenVerifier({
      keys: createLocalJWKSet(otherAudience.jwks()),
      issuer: DEV_ISSUER,
      audience: DEV_AUDIENCE,
    });
    expect((await failureOf(expectingTandem, `Bearer ${forOthers}`)).failure).toBe('wrong-audience');
  });

  it('refuses a forged token with alg "none"', async () => {
    const now = Math.floor(Date.now() / 1000);
    const forged = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: DEV_ISSUER, aud: DEV_AUDIENCE, sub: 'intruder', role: 'auditor', scope: 'user/*.rs', iat: now, exp: now + 600 })}.`;
    const error = await failureOf(verifier, `Bearer ${forged}`);
    expect(error.status).toBe(401);
    expect(['algorithm', 'malformed']).toContain(error.failure);
  });

  it('refuses an HMAC token signed with the public key as its secret (algorithm confusion)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(issuer.publicJwk));
    const confused = await new SignJWT({ role: 'auditor', scope: 'user/*.rs' })
      .setProtectedHeader({ alg: 'HS256', kid: issuer.publicJwk.kid })
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setSubject('intruder')
      .setExpirationTime('10m')
      .sign(secret);
    expect((await failureOf(verifier, `Bearer ${confused}`)).failure).toBe('algorithm');
  });

  it('refuses a token signed by a key the issuer does not publish (unknown kid)', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ role: 'gp', scope: 'user/*.cruds' })
      .setProtectedHeader({ alg: 'ES256', kid: 'not-a-published-key' })
      .setIssuer(DEV_ISSUER)
      .setAudience(DEV_AUDIENCE)
      .setSubject('gp-1')
      .setExpirationTime('10m')
      .sign(privateKey);
    expect((await failureOf(verifier, `Bearer ${token}`)).failure).toBe('unknown-key');
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const token = await issuer.mint({ role: 'care-worker', user: 'cw-amira-hassan' });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${header}.${b64({ ...claims, role: 'auditor' })}.${signature}`;
    expect((await failureOf(verifier, `Bearer ${tampered}`)).failure).toBe('bad-signature');
  });

  it('refuses a properly signed token whose claims are not Tandem claims (unknown role, no subject, no expiry)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const own = createTokenVerifier({ keys: createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }), issuer: DEV_ISSUER, audience: DEV_AUDIENCE });
    const sign = (claims: Record<string, unknown>, build: (jwt: SignJWT) => SignJWT = (jwt) => jwt.setSubject('u-1').setExpirationTime('5m')) =>
      build(new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(DEV_ISSUER).setAudience(DEV_AUDIENCE).setIssuedAt()).sign(privateKey);
    expect((await own.verifyBearer(`Bearer ${await sign({ role: 'gp' })}`)).actor).toEqual({ id: 'u-1', role: 'gp' });
    const surgeon = await failureOf(own, `Bearer ${await sign({ role: 'surgeon' })}`);
    expect(surgeon.failure).toBe('claims');
    expect(surgeon.message).toContain('role');
    expect((await failureOf(own, `Bearer ${await sign({ role: 'gp' }, (jwt) => jwt.setExpirationTime('5m'))}`)).failure).toBe('claims');
    expect((await failureOf(own, `Bearer ${await sign({ role: 'gp' }, (jwt) => jwt.setSubject('u-1'))}`)).failure).toBe('claims');
    const badRegistration = await sign({ role: 'gp', registration: { system: 'https://example.org/made-up-register', value: '1' } });
    expect((await failureOf(own, `Bearer ${badRegistration}`)).failure).toBe('claims');
  });
});

/**
 * A validly signed token is input like any other (issue 16, items 4 and 13): the claims Tandem reads
 * are refused, naming the claim, when they hold what cannot be stored or shown (a NUL, a lone
 * surrogate, a control character), are overlong, or when the token lives too long or claims to be
 * issued in the future.
 */
describe('a validly signed token with odd claims', () => {
  let own: TokenVerifier;
  let sign: (claims: Record<string, unknown>, times?: { iat?: number; exp?: number; nbf?: number }) => Promise<string>;
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    own = createTokenVerifier({ keys: createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }), issuer: DEV_ISSUER, audience: DEV_AUDIENCE, cacheSize: 0 });
    sign = (claims, times = {}) => {
      const iat = times.iat ?? nowSeconds();
      const jwt = new SignJWT({ sub: 'cw-amira-hassan', role: 'care-worker', ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(DEV_ISSUER)
        .setAudience(DEV_AUDIENCE)
        .setIssuedAt(iat)
        .setExpirationTime(times.exp ?? iat + 600);
      if (times.nbf !== undefined) jwt.setNotBefore(times.nbf);
      return jwt.sign(privateKey);
    };
  });

  it.each([
    ['a NUL in sub', { sub: 'cw-amira-hassan\u0000x' }, 'sub'],
    ['a lone surrogate in org', { org: 'org-kindly-care\ud800' }, 'org'],
    ['a lone low surrogate in sub', { sub: '\udc00cw' }, 'sub'],
    ['a control character in sub', { sub: 'cw-amira\u0007' }, 'sub'],
    ['a right-to-left override in sub (disguising who acted)', { sub: 'cw-\u202Enassah-arima' }, 'sub'],
    ['a space in sub', { sub: 'cw amira' }, 'sub'],
    ['an empty sub', { sub: '' }, 'sub'],
    ['an overlong sub', { sub: 'x'.repeat(129) }, 'sub'],
    ['an overlong org', { org: 'o'.repeat(129) }, 'org'],
    ['a NUL in the registration number', { role: 'district-nurse', registration: { system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '12A\u00003456E' } }, 'registration.value'],
    ['a NUL in scope', { scope: 'user/*.rs\u0000' }, 'scope'],
    ['a lone surrogate in a scope list', { scope: ['user/*.rs', 'patient/\ud800.r'] }, 'scope'],
    ['an overlong scope', { scope: 'user/*.rs '.repeat(500) }, 'scope'],
    ['a patient that is no FHIR id', { patient: "p-1' OR 1=1" }, 'patient'],
    ['sub that is not text', { sub: 42 }, 'sub'],
  ])('refuses %s with 401 naming the claim', async (_name, claims, claim) => {
    const error = await failureOf(own, `Bearer ${await sign(claims)}`);
    expect(error.status).toBe(401);
    expect(error.failure).toBe('claims');
    expect(error.message).toContain(`token's ${claim} claim`);
  });

  it('accepts the same token with ordinary claims', async () => {
    const principal = await own.verifyBearer(`Bearer ${await sign({ org: 'org-kindly-care', scope: ['openid', 'user/*.cruds'] })}`);
    expect(principal.actor).toEqual({ id: 'cw-amira-hassan', role: 'care-worker', organisation: 'org-kindly-care' });
    expect(principal.scope).toBe('openid user/*.cruds');
  });

  it(`refuses a token that lives longer than ${MAX_TOKEN_LIFETIME_SECONDS / 3600} hours (50 years, or a day), saying so`, async () => {
    const now = nowSeconds();
    for (const exp of [now + 50 * 365 * 86_400, now + 86_400, now + MAX_TOKEN_LIFETIME_SECONDS + 3600]) {
      const error = await failureOf(own, `Bearer ${await sign({}, { iat: now, exp })}`);
      expect(error.status).toBe(401);
      expect(error.failure).toBe('too-long-lived');
      expect(error.message).toMatch(/at most 12 h/);
    }
    // Issued long ago with a short-looking remainder is still a token that lives too long.
    const old = await failureOf(own, `Bearer ${await sign({}, { iat: now - 20 * 3600, exp: now + 600 })}`);
    expect(old.failure).toBe('too-long-lived');
    // Exactly the maximum is accepted.
    await expect(own.verifyBearer(`Bearer ${await sign({}, { iat: now, exp: now + MAX_TOKEN_LIFETIME_SECONDS })}`)).resolves.toBeDefined();
  });

  it(`refuses a token issued in the future beyond the clock allowance (${CLOCK_TOLERANCE_SECONDS} s), and allows a little skew`, async () => {
    const now = nowSeconds();
    const nextYear = await failureOf(own, `Bearer ${await sign({}, { iat: now + 365 * 86_400, exp: now + 365 * 86_400 + 600 })}`);
    expect(nextYear.status).toBe(401);
    expect(nextYear.failure).toBe('issued-in-the-future');
    expect(nextYear.message).toMatch(/issued in the future/);
    expect((await failureOf(own, `Bearer ${await sign({}, { iat: now + CLOCK_TOLERANCE_SECONDS + 30 })}`)).failure).toBe('issued-in-the-future');
    await expect(own.verifyBearer(`Bearer ${await sign({}, { iat: now + 20 })}`)).resolves.toBeDefined();
  });

  it('refuses a token without iat (its lifetime cannot be known)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const verifier = createTokenVerifier({ keys: createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k2', alg: 'ES256' }] }), issuer: DEV_ISSUER, audience: DEV_AUDIENCE });
    const token = await new SignJWT({ role: 'gp' }).setProtectedHeader({ alg: 'ES256', kid: 'k2' }).setIssuer(DEV_ISSUER).setAudience(DEV_AUDIENCE).setSubject('gp-1').setExpirationTime('5m').sign(privateKey);
    const error = await failureOf(verifier, `Bearer ${token}`);
    expect(error.failure).toBe('claims');
    expect(error.message).toBe('The token has no iat claim');
  });

  it(`will not mint beyond the maximum lifetime (the development issuer, npm run token --minutes)`, async () => {
    const issuer = await DevIssuer.create();
    expect(MAX_TOKEN_MINUTES).toBe(MAX_TOKEN_LIFETIME_SECONDS / 60);
    await expect(issuer.mint({ role: 'gp', user: 'gp-1', minutes: MAX_TOKEN_MINUTES + 1 })).rejects.toThrow(/at most 720/);
    await expect(issuer.mint({ role: 'gp', user: 'gp-1', minutes: 50 * 365 * 24 * 60 })).rejects.toThrow(RangeError);
    const longest = await issuer.mint({ role: 'gp', user: 'gp-1', minutes: MAX_TOKEN_MINUTES });
    expect((await issuer.verifier().verifyBearer(`Bearer ${longest}`)).actor.id).toBe('gp-1');
    // Nor sign claims a verifier would refuse.
    await expect(issuer.mint({ role: 'gp', user: 'gp-1\u0000x' })).rejects.toThrow();
  });
});

describe('the development issuer', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-auth-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps one key pair in dev-issuer.json, readable by its owner only', async () => {
    const first = await DevIssuer.open({ dataDir, eventStore: 'pglite' });
    const again = await DevIssuer.open({ dataDir, eventStore: 'pglite' });
    expect(again.publicJwk.kid).toBe(first.publicJwk.kid);
    const file = join(dataDir, 'dev-issuer.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ issuer: 'urn:tandem:dev-issuer', audience: 'tandem', alg: 'ES256' });
    const token = await mintToken({ role: 'auditor', user: 'auditor-1' }, { dataDir });
    expect((await again.verifier().verifyBearer(`Bearer ${token}`)).actor).toEqual({ id: 'auditor-1', role: 'auditor' });
  });

  it('refuses to run unless the event store is PGlite', async () => {
    await expect(DevIssuer.open({ dataDir, eventStore: 'postgres' })).rejects.toBeInstanceOf(DevIssuerRefused);
  });
});

describe('keys from a JWKS URL', () => {
  let server: Server;
  let url: string;
  let issuer: DevIssuer;
  let available = true;

  beforeAll(async () => {
    issuer = await DevIssuer.create({ issuer: 'https://idp.example', audience: 'tandem-api' });
    server = createServer((_req, res) => {
      if (!available) {
        res.writeHead(500).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issuer.jwks()));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('refuses a JWKS URL over plain http unless it is this machine (anyone on the path could swap the keys)', () => {
    for (const insecure of ['http://idp.example/.well-known/jwks.json', 'http://10.0.0.5/jwks', 'ftp://idp.example/jwks', 'not a url']) {
      expect(isSecureKeyUrl(insecure)).toBe(false);
      expect(() => remoteTokenVerifier({ jwksUrl: insecure, issuer: 'https://idp.example', audience: 'tandem-api' })).toThrow(InsecureKeyUrl);
    }
    for (const secure of ['https://idp.example/.well-known/jwks.json', 'http://localhost:8081/jwks', 'http://127.0.0.1/jwks', 'http://[::1]:9000/jwks']) expect(isSecureKeyUrl(secure)).toBe(true);
  });

  it('verifies tokens against the published key set, and says 503 when it cannot be fetched', async () => {
    const token = await issuer.mint({ role: 'gp', user: 'gp-1' });
    expect((await remoteTokenVerifier({ jwksUrl: url, issuer: 'https://idp.example', audience: 'tandem-api' }).verifyBearer(`Bearer ${token}`)).actor.id).toBe('gp-1');
    available = false;
    const error = await failureOf(remoteTokenVerifier({ jwksUrl: url, issuer: 'https://idp.example', audience: 'tandem-api' }), `Bearer ${token}`);
    expect(error.failure).toBe('keys-unavailable');
    expect(error.status).toBe(503);
  });
});

describe('SMART scopes', () => {
  it('reads only SMART permissions, never a name every object inherits (`.constructor`)', () => {
    expect(parseScopes('user/Patient.constructor user/Patient.read patient/*.rs').map((s) => [s.raw, [...s.interactions].join('')])).toEqual([
      ['user/Patient.read', 'rs'],
      ['patient/*.rs', 'rs'],
    ]);
  });
});
