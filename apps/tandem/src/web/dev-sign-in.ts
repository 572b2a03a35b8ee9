import { DevIssuer, type MintClaims } from '@tandem/auth';
import { createHash, randomBytes } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import { DEMO } from '../demo/demo-data';

/**
 * The embedded mode's development sign-in: an OpenID Connect provider just large enough for the
 * care worker's app (authorization code with PKCE S256, one public client), whose page lists the
 * demo's people. It signs with the development issuer, so the access token is exactly what
 * `npm run token` prints for that person (same issuer, audience and claims). It exists only where
 * the development issuer does (TANDEM_EVENT_STORE=pglite); the server mode points the app at a
 * real identity provider instead (docs/decisions/0014-care-worker-app.md).
 */
export const DEV_SIGN_IN_PATH = '/dev-sign-in';
export const WEB_CLIENT_ID = 'tandem-web';
const CODE_LIFETIME_MS = 60_000;
const TOKEN_MINUTES = 60;

export interface DemoPerson {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly claims: MintClaims;
}

const nameOf = (n: { given: readonly string[]; family: string; prefix?: string }) => [n.prefix, ...n.given, n.family].filter(Boolean).join(' ');

/** Who can sign in on the demo: the care workers first (the app is theirs), then the nurse, the GP, the care agency's registered manager and a CQC inspector. */
export const DEMO_PEOPLE: readonly DemoPerson[] = [
  ...DEMO.careWorkers.map((cw) => ({
    id: cw.practitionerId,
    name: nameOf(cw.name),
    role: `Care worker, ${DEMO.careAgency.name}`,
    claims: { role: 'care-worker', user: cw.practitionerId, org: DEMO.careAgency.organisationId } as MintClaims,
  })),
  {
    id: DEMO.nurse.practitionerId,
    name: nameOf(DEMO.nurse.name),
    role: `District nurse, ${DEMO.nursingTeam.name}`,
    claims: { role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration },
  },
  {
    id: DEMO.gp.practitionerId,
    name: nameOf(DEMO.gp.name),
    role: `GP, ${DEMO.gpPractice.name}`,
    claims: { role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration },
  },
  {
    id: DEMO.manager.practitionerId,
    name: nameOf(DEMO.manager.name),
    role: `Registered manager, ${DEMO.careAgency.name}`,
    claims: { role: 'registered-manager', user: DEMO.manager.practitionerId, org: DEMO.careAgency.organisationId },
  },
  {
    id: DEMO.inspector.userId,
    name: nameOf(DEMO.inspector.name),
    role: DEMO.inspector.title,
    claims: { role: 'auditor', user: DEMO.inspector.userId },
  },
];

interface PendingCode {
  readonly person: DemoPerson;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly expiresAt: number;
}

/** RFC 7636: BASE64URL(SHA256(code_verifier)) must equal the code_challenge. */
export const s256 = (verifier: string): string => createHash('sha256').update(verifier, 'ascii').digest('base64url');
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface AuthorizeRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string;
  readonly codeChallenge: string;
  readonly scope: string;
  readonly nonce?: string;
}

/** The OIDC metadata the app is given (and that discovery answers), for this origin. */
export const devOidcMetadata = (origin: string, issuer: string) => ({
  issuer,
  authorization_endpoint: `${origin}${DEV_SIGN_IN_PATH}/authorize`,
  token_endpoint: `${origin}${DEV_SIGN_IN_PATH}/token`,
  jwks_uri: `${origin}${DEV_SIGN_IN_PATH}/jwks`,
  response_types_supported: ['code'],
  grant_types_supported: ['authorization_code'],
  code_challenge_methods_supported: ['S256'],
  token_endpoint_auth_methods_supported: ['none'],
  subject_types_supported: ['public'],
  id_token_signing_alg_values_supported: ['ES256'],
  scopes_supported: ['openid'],
});

export const originOf = (req: Request): string => `${req.protocol}://${req.get('host') ?? 'localhost'}`;

export const devSignInRouter = (issuer: DevIssuer): Router => {
  const router = Router();
  const codes = new Map<string, PendingCode>();
  // The sign-in page loads nothing from elsewhere (helmet's default would let the NHS.UK CSS fetch its fonts).
  router.use(DEV_SIGN_IN_PATH, (_req, res, next) => {
    res.setHeader('content-security-policy', "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'");
    next();
  });
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  /** The redirect must come back to this server (the app it serves), never elsewhere. */
  const checkAuthorize = (req: Request, source: Record<string, unknown>): AuthorizeRequest | string => {
    const text = (key: string) => (typeof source[key] === 'string' ? (source[key] as string) : '');
    if (text('response_type') !== 'code') return 'response_type must be code';
    if (text('client_id') !== WEB_CLIENT_ID) return `client_id must be ${WEB_CLIENT_ID}`;
    const redirectUri = text('redirect_uri');
    let redirect: URL;
    try {
      redirect = new URL(redirectUri);
    } catch {
      return 'redirect_uri must be a URL';
    }
    if (redirect.origin !== originOf(req)) return 'redirect_uri must be on this server';
    if (text('code_challenge_method') !== 'S256') return 'code_challenge_method must be S256 (PKCE)';
    if (!CHALLENGE.test(text('code_challenge'))) return 'code_challenge must be a base64url SHA-256 (43 characters)';
    const nonce = text('nonce');
    return { clientId: WEB_CLIENT_ID, redirectUri, state: text('state'), codeChallenge: text('code_challenge'), scope: text('scope') || 'openid', ...(nonce ? { nonce } : {}) };
  };

  const badRequest = (res: Response, message: string) => res.status(400).type('text/html').send(page('Sign-in could not start', `<p>${escape(message)}</p><p><a href="/">Go back to the app</a></p>`));

  router.get(`${DEV_SIGN_IN_PATH}/.well-known/openid-configuration`, (req, res) => {
    res.json(devOidcMetadata(originOf(req), issuer.issuer));
  });
  router.get(`${DEV_SIGN_IN_PATH}/jwks`, (_req, res) => {
    res.json(issuer.jwks());
  });

  router.get(`${DEV_SIGN_IN_PATH}/authorize`, (req, res) => {
    const request = checkAuthorize(req, req.query as Record<string, unknown>);
    if (typeof request === 'string') return badRequest(res, request);
    const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${escape(value)}">`;
    const fields = [
      hidden('response_type', 'code'),
      hidden('client_id', request.clientId),
      hidden('redirect_uri', request.redirectUri),
      hidden('state', request.state),
      hidden('code_challenge', request.codeChallenge),
      hidden('code_challenge_method', 'S256'),
      hidden('scope', request.scope),
      ...(request.nonce ? [hidden('nonce', request.nonce)] : []),
    ].join('');
    const people = DEMO_PEOPLE.map(
      (p) => `<li class="nhsuk-u-margin-bottom-3"><button class="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-1" type="submit" name="person" value="${escape(p.id)}">Sign in as ${escape(p.name)}</button><p class="nhsuk-body-s nhsuk-u-secondary-text-colour">${escape(p.role)}</p></li>`,
    ).join('');
    res.type('text/html').send(
      page(
        'Demo sign-in',
        `<div class="nhsuk-warning-callout"><h2 class="nhsuk-warning-callout__label"><span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>This is a demo</span></h2><p>These are made-up people in Tandem's demo data. Real care records are never signed in to here: in the server mode Tandem uses your organisation's sign-in.</p></div>
<form method="post" action="${DEV_SIGN_IN_PATH}/authorize">${fields}<fieldset class="nhsuk-fieldset"><legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">Who are you?</legend><ul class="nhsuk-list">${people}</ul></fieldset></form>`,
      ),
    );
  });

  router.post(`${DEV_SIGN_IN_PATH}/authorize`, form, (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const request = checkAuthorize(req, body);
    if (typeof request === 'string') return badRequest(res, request);
    const person = DEMO_PEOPLE.find((p) => p.id === body.person);
    if (!person) return badRequest(res, 'Choose a person from the list');
    const now = Date.now();
    for (const [code, pending] of codes) if (pending.expiresAt < now) codes.delete(code);
    const code = randomBytes(32).toString('base64url');
    codes.set(code, { person, clientId: request.clientId, redirectUri: request.redirectUri, codeChallenge: request.codeChallenge, expiresAt: now + CODE_LIFETIME_MS });
    const back = new URL(request.redirectUri);
    back.searchParams.set('code', code);
    if (request.state) back.searchParams.set('state', request.state);
    res.redirect(303, back.toString());
  });

  router.post(`${DEV_SIGN_IN_PATH}/token`, form, async (req, res, next) => {
    try {
      res.set('cache-control', 'no-store');
      const body = (req.body ?? {}) as Record<string, unknown>;
      const refuse = (error: string, description: string) => res.status(400).json({ error, error_description: description });
      if (body.grant_type !== 'authorization_code') return refuse('unsupported_grant_type', 'grant_type must be authorization_code');
      const code = typeof body.code === 'string' ? body.code : '';
      const pending = codes.get(code);
      // A code is used once, whatever happens next.
      codes.delete(code);
      if (!pending || pending.expiresAt < Date.now()) return refuse('invalid_grant', 'the code is unknown, used or expired');
      if (body.client_id !== pending.clientId) return refuse('invalid_grant', 'client_id does not match the code');
      if (body.redirect_uri !== pending.redirectUri) return refuse('invalid_grant', 'redirect_uri does not match the code');
      const verifier = typeof body.code_verifier === 'string' ? body.code_verifier : '';
      if (!VERIFIER.test(verifier) || s256(verifier) !== pending.codeChallenge) return refuse('invalid_grant', 'code_verifier does not match the code_challenge (PKCE S256)');
      const accessToken = await issuer.mint({ ...pending.person.claims, minutes: TOKEN_MINUTES });
      res.json({ access_token: accessToken, id_token: accessToken, token_type: 'Bearer', expires_in: TOKEN_MINUTES * 60, scope: 'openid' });
    } catch (error) {
      next(error);
    }
  });
  return router;
};

const page = (title: string, content: string) => `<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} - Tandem</title><link rel="stylesheet" href="${DEV_SIGN_IN_PATH}/nhsuk.css"></head>
<body><header class="nhsuk-header" role="banner"><div class="nhsuk-header__container nhsuk-width-container"><div class="nhsuk-header__service"><a class="nhsuk-header__service-logo" href="/" aria-label="Tandem homepage"><span class="nhsuk-header__service-name">Tandem</span></a></div></div></header>
<div class="nhsuk-width-container"><main class="nhsuk-main-wrapper" id="maincontent"><h1>${escape(title)}</h1>${content}</main></div></body></html>`;
