import { loadConfig, startTandem, type RunningTandem } from '@tandem/app';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';

/**
 * The embedded mode's development sign-in over HTTP: authorization code with PKCE S256 for the
 * app's one public client. A code is used once, with its own verifier and redirect, and the token
 * it gives is accepted by the API like `npm run token`'s.
 */
describe('the development sign-in (embedded mode)', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const redirect = () => `${tandem.url}/signin-callback`;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-dev-sign-in-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const authorize = (params: Record<string, string>) => new URLSearchParams({ response_type: 'code', client_id: 'tandem-web', redirect_uri: redirect(), state: 's1', code_challenge: challenge, code_challenge_method: 'S256', scope: 'openid', ...params });

  /** Chooses a person on the sign-in page; answers the code from the redirect back to the app. */
  const codeFor = async (person: string, params: Record<string, string> = {}) => {
    const response = await fetch(`${tandem.url}/dev-sign-in/authorize`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...Object.fromEntries(authorize(params)), person }) });
    expect(response.status).toBe(303);
    const back = new URL(response.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(redirect());
    expect(back.searchParams.get('state')).toBe('s1');
    return back.searchParams.get('code')!;
  };
  const exchange = (code: string, codeVerifier: string, redirectUri = redirect()) =>
    fetch(`${tandem.url}/dev-sign-in/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: codeVerifier, client_id: 'tandem-web', redirect_uri: redirectUri }) });

  it('lists the demo people on a page marked as a demo, and refuses a request without PKCE S256 or with a redirect elsewhere', async () => {
    const page = await fetch(`${tandem.url}/dev-sign-in/authorize?${authorize({})}`);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('This is a demo');
    for (const name of ['Amira Hassan', 'Tom Baker', 'Grace Li', 'Sarah Okafor', 'Dr David Shah', 'Helen Clarke', 'Grace Adeyemi']) expect(text).toContain(`Sign in as ${name}`);
    expect((await fetch(`${tandem.url}/dev-sign-in/authorize?${authorize({ code_challenge_method: 'plain' })}`)).status).toBe(400);
    expect((await fetch(`${tandem.url}/dev-sign-in/authorize?${authorize({ redirect_uri: 'https://elsewhere.example/callback' })}`)).status).toBe(400);
  });

  it('gives a token for the right verifier only, once; the API accepts it like a `npm run token` token', async () => {
    const wrong = await exchange(await codeFor('cw-amira-hassan'), randomBytes(32).toString('base64url'));
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_grant' });

    const code = await codeFor('cw-amira-hassan');
    const response = await exchange(code, verifier);
    expect(response.status).toBe(200);
    const tokens = (await response.json()) as { access_token: string; token_type: string };
    expect(tokens.token_type).toBe('Bearer');
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: 'urn:tandem:dev-issuer', aud: 'tandem', sub: 'cw-amira-hassan', role: 'care-worker', org: 'org-kindly-care' });
    const worklist = await fetch(`${tandem.url}/api/worklist`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(worklist.status).toBe(200);
    expect(await worklist.json()).toMatchObject({ careWorkerId: 'cw-amira-hassan' });

    // The same code a second time: refused.
    expect((await exchange(code, verifier)).status).toBe(400);
    // A code given for one redirect is not exchanged for another.
    expect((await exchange(await codeFor('cw-amira-hassan'), verifier, `${tandem.url}/elsewhere`)).status).toBe(400);
  });
});

describe('the app pointed at a real identity provider (TANDEM_AUTH_*)', () => {
  let dataDir: string;
  let tandem: RunningTandem;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-web-idp-'));
    tandem = await startTandem(
      loadConfig({
        PORT: '0',
        TANDEM_DATA_DIR: dataDir,
        TANDEM_DEMO_DATA: 'false',
        TANDEM_AUTH_JWKS_URL: 'http://127.0.0.1:9/jwks',
        TANDEM_AUTH_ISSUER: 'https://idp.care.example/realms/care',
        TANDEM_AUTH_AUDIENCE: 'tandem',
        TANDEM_WEB_CLIENT_ID: 'care-worker-app',
      }),
      pino({ level: 'silent' }),
    );
  });
  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('tells the app to sign in there, and has no development sign-in', async () => {
    const config = await (await fetch(`${tandem.url}/app-config.json`)).json();
    expect(config).toEqual({ mode: 'server', demo: false, oidc: { authority: 'https://idp.care.example/realms/care', clientId: 'care-worker-app', scope: 'openid' } });
    const devPage = await fetch(`${tandem.url}/dev-sign-in/authorize?response_type=code`);
    expect(devPage.status).toBe(404);
    expect((await fetch(`${tandem.url}/dev-sign-in/token`, { method: 'POST' })).status).toBe(404);
  });
});
