import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthenticationError, createTokenVerifier, DEV_AUDIENCE, DEV_ISSUER, DevIssuer, DevIssuerRefused, mintToken, remoteTokenVerifier, type TokenVerifier } from '../src';

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
      build(new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(DEV_ISSUER).setAudience(DEV_AUDIENCE)).sign(privateKey);
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

  it('verifies tokens against the published key set, and says 503 when it cannot be fetched', async () => {
    const token = await issuer.mint({ role: 'gp', user: 'gp-1' });
    expect((await remoteTokenVerifier({ jwksUrl: url, issuer: 'https://idp.example', audience: 'tandem-api' }).verifyBearer(`Bearer ${token}`)).actor.id).toBe('gp-1');
    available = false;
    const error = await failureOf(remoteTokenVerifier({ jwksUrl: url, issuer: 'https://idp.example', audience: 'tandem-api' }), `Bearer ${token}`);
    expect(error.failure).toBe('keys-unavailable');
    expect(error.status).toBe(503);
  });
});
