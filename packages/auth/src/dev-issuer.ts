import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type KeyLike } from 'jose';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Registration, Role } from '@tandem/contracts';
import { RoleSchema } from '@tandem/contracts';
import { TokenClaimsSchema } from './principal';
import { createTokenVerifier, MAX_TOKEN_LIFETIME_SECONDS, type TokenVerifier } from './verify';

export const DEV_ISSUER = 'urn:tandem:dev-issuer';
export const DEV_AUDIENCE = 'tandem';
export const DEV_ISSUER_FILE = 'dev-issuer.json';
const ALG = 'ES256';
/** Development tokens live an hour by default and at most as long as the verifier accepts (12 hours). */
export const DEFAULT_TOKEN_MINUTES = 60;
export const MAX_TOKEN_MINUTES = MAX_TOKEN_LIFETIME_SECONDS / 60;

/** What a development token says about its holder. */
export interface MintClaims {
  readonly role: Role;
  readonly user: string;
  readonly org?: string;
  readonly registration?: Registration;
  /** SMART v2 scopes; by default everything the role may do (see defaultScope). */
  readonly scope?: string;
  /** A patient-context launch: the token acts for this person only. */
  readonly patient?: string;
  readonly minutes?: number;
  /** Backdate or postdate the token (tests of exp and nbf). */
  readonly issuedAt?: Date;
  readonly notBefore?: Date;
}

/**
 * The scopes a development token carries unless told otherwise: every resource, every
 * interaction the role may be allowed (the policy still decides). Auditors read; a patient-context
 * launch gets `patient/` scopes; an integration `system/` scopes.
 */
export const defaultScope = (role: Role, patient?: string): string => {
  const permissions = role === 'auditor' ? 'rs' : 'cruds';
  const context = patient ? 'patient' : role === 'system' ? 'system' : 'user';
  return `${context}/*.${permissions}`;
};

interface StoredKey {
  readonly issuer: string;
  readonly audience: string;
  readonly kid: string;
  readonly alg: typeof ALG;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
  readonly createdAt: string;
}

/**
 * The embedded mode's development issuer: one ES256 key pair, signing tokens for any role. It
 * exists so a laptop demo needs no identity provider; it is never on in the server or scale modes.
 */
/**
 * Creates `file` (owner only) with `content` unless it exists: written aside, then linked into
 * place, so two processes starting together agree on one file (the first link wins; the other's
 * content is discarded). Read the file back afterwards for what was kept.
 */
export const writeOnce = (file: string, content: string): void => {
  const temporary = `${file}.${process.pid}.${randomUUID()}`;
  writeFileSync(temporary, content, { mode: 0o600 });
  try {
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
};

export class DevIssuer {
  private constructor(
    private readonly privateKey: KeyLike | Uint8Array,
    readonly publicJwk: JWK & { kid: string },
    readonly issuer: string = DEV_ISSUER,
    readonly audience: string = DEV_AUDIENCE,
  ) {}

  /** A fresh key pair held in memory only (tests, benchmarks). */
  static async create(options: { issuer?: string; audience?: string } = {}): Promise<DevIssuer> {
    const stored = await newKey(options.issuer ?? DEV_ISSUER, options.audience ?? DEV_AUDIENCE);
    return DevIssuer.from(stored);
  }

  private static async from(stored: StoredKey): Promise<DevIssuer> {
    const privateKey = await importJWK(stored.privateJwk, ALG);
    return new DevIssuer(privateKey, { ...stored.publicJwk, kid: stored.kid, alg: ALG, use: 'sig' }, stored.issuer, stored.audience);
  }

  /**
   * The issuer kept in `<dataDir>/dev-issuer.json` (mode 0600), made on first use. Refuses unless
   * the event store is PGlite: a development issuer must never sign tokens for a shared server.
   */
  static async open(options: { dataDir: string; eventStore: string }): Promise<DevIssuer> {
    assertEmbedded(options.eventStore);
    const dir = resolve(options.dataDir);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, DEV_ISSUER_FILE);
    let stored = readKey(file);
    if (!stored) {
      writeOnce(file, JSON.stringify(await newKey(DEV_ISSUER, DEV_AUDIENCE), null, 2));
      stored = readKey(file);
      if (!stored) throw new Error(`${file} could not be read back`);
    }
    return DevIssuer.from(stored);
  }

  /** The public key set, as an identity provider publishes it at its JWKS URL. */
  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  /** A verifier that accepts this issuer's tokens (and only them). */
  verifier(options: { now?: () => Date } = {}): TokenVerifier {
    return createTokenVerifier({ keys: createLocalJWKSet(this.jwks()), issuer: this.issuer, audience: this.audience, ...options });
  }

  /** Signs a token; the claims are checked as a verifier would read them. */
  async mint(claims: MintClaims): Promise<string> {
    const minutes = claims.minutes ?? DEFAULT_TOKEN_MINUTES;
    if (!Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_TOKEN_MINUTES) throw new RangeError(`minutes must be more than 0 and at most ${MAX_TOKEN_MINUTES} (${MAX_TOKEN_MINUTES / 60} hours, the longest a token may live)`);
    const payload = TokenClaimsSchema.parse({
      sub: claims.user,
      role: RoleSchema.parse(claims.role),
      ...(claims.org ? { org: claims.org } : {}),
      ...(claims.registration ? { registration: claims.registration } : {}),
      scope: claims.scope ?? defaultScope(claims.role, claims.patient),
      ...(claims.patient ? { patient: claims.patient } : {}),
    });
    const { sub, ...rest } = payload;
    const issuedAt = Math.floor((claims.issuedAt ?? new Date()).getTime() / 1000);
    return new SignJWT(rest)
      .setProtectedHeader({ alg: ALG, kid: this.publicJwk.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setSubject(sub)
      .setJti(randomUUID())
      .setIssuedAt(issuedAt)
      .setNotBefore(claims.notBefore ? Math.floor(claims.notBefore.getTime() / 1000) : issuedAt)
      .setExpirationTime(issuedAt + Math.round(minutes * 60))
      .sign(this.privateKey);
  }
}

export class DevIssuerRefused extends Error {
  constructor(eventStore: string) {
    super(`The development issuer only runs in the embedded mode (TANDEM_EVENT_STORE=pglite), not with ${eventStore}: configure TANDEM_AUTH_JWKS_URL, TANDEM_AUTH_ISSUER and TANDEM_AUTH_AUDIENCE`);
    this.name = 'DevIssuerRefused';
  }
}

export const assertEmbedded = (eventStore: string): void => {
  if (eventStore !== 'pglite') throw new DevIssuerRefused(eventStore);
};

const newKey = async (issuer: string, audience: string): Promise<StoredKey> => {
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  return {
    issuer,
    audience,
    kid: `dev-${randomUUID()}`,
    alg: ALG,
    privateJwk: await exportJWK(privateKey),
    publicJwk: await exportJWK(publicKey),
    createdAt: new Date().toISOString(),
  };
};

const readKey = (file: string): StoredKey | undefined => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // The private key is readable by its owner only, whatever made the file.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  const stored = JSON.parse(text) as StoredKey;
  if (stored.alg !== ALG || !stored.kid || !stored.privateJwk || !stored.publicJwk) throw new Error(`${file} is not a Tandem development issuer key`);
  return stored;
};

const issuers = new Map<string, Promise<DevIssuer>>();

/**
 * Test helper: a token from the development issuer of an embedded data directory (the one a
 * running `startTandem` uses), or from a given issuer.
 */
export const mintToken = async (claims: MintClaims, from: { dataDir: string } | DevIssuer): Promise<string> => {
  if (from instanceof DevIssuer) return from.mint(claims);
  const dir = resolve(from.dataDir);
  let issuer = issuers.get(dir);
  if (!issuer) {
    issuer = DevIssuer.open({ dataDir: dir, eventStore: 'pglite' });
    issuers.set(dir, issuer);
  }
  return (await issuer).mint(claims);
};
