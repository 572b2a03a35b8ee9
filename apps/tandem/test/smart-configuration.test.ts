import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import pino from 'pino';
import type { createRecordService } from '@tandem/record';
import type { Patient } from 'fhir/r4';
import { InMemoryWebStorage, OidcClient, WebStorageStateStore } from 'oidc-client-ts';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { providerSmartConfigurationRouter } from '../src/web/smart-configuration';

/**
 * Issue 14 (SMART discovery): a SMART app finds where to sign in at /.well-known/smart-configuration
 * (root and FHIR base), and every endpoint and capability it is told of works: standalone launch,
 * public client, PKCE S256, a token the FHIR API accepts.
 */
describe('SMART App Launch discovery on the embedded default', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientIds: string[] = [];
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-smart-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', LOG_LEVEL: 'silent' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    ({ patientIds } = await seedDemoData(record.care, { patients: 1, days: 1, now: new Date() }));
  }, 60_000);
  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers at the root and under /fhir, without a token, with what SMART clients require', async () => {
    for (const path of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration']) {
      const response = await fetch(`${tandem.url}${path}`);
      expect(response.status).toBe(200);
      const config = (await response.json()) as Record<string, unknown>;
      expect(config).toMatchObject({
        grant_types_supported: ['authorization_code'],
        code_challenge_methods_supported: ['S256'],
        capabilities: expect.arrayContaining(['launch-standalone', 'client-public', 'permission-v2']),
        authorization_endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//),
        token_endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//),
      });
      // PKCE "plain" would let a stolen code be redeemed: it is never offered
      expect(config.code_challenge_methods_supported).not.toContain('plain');
    }
  });

  it('the advertised endpoints work: authorize with PKCE S256, redeem the code, and the token reads FHIR', async () => {
    const config = (await (await fetch(`${tandem.url}/.well-known/smart-configuration`)).json()) as { authorization_endpoint: string; token_endpoint: string };
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const redirectUri = `${tandem.url}/signin-callback`;
    const params = { response_type: 'code', client_id: 'tandem-web', redirect_uri: redirectUri, state: 'smart-test', code_challenge: challenge, code_challenge_method: 'S256', scope: 'openid' };
    const page = await fetch(`${config.authorization_endpoint}?${new URLSearchParams(params).toString()}`);
    expect(page.status).toBe(200);
    const chosen = await fetch(config.authorization_endpoint, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...params, person: 'nurse-sarah-okafor' }).toString() });
    expect(chosen.status).toBe(303);
    const code = new URL(chosen.headers.get('location')!).searchParams.get('code')!;
    const token = await fetch(config.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: 'tandem-web', redirect_uri: redirectUri, code_verifier: verifier }).toString() });
    expect(token.status).toBe(200);
    const { access_token } = (await token.json()) as { access_token: string };
    expect((await fetch(`${tandem.url}/fhir/Organization`, { headers: { authorization: `Bearer ${access_token}` } })).status).toBe(200);
  });

  it('a SMART client library (oidc-client-ts) discovers the identity provider\'s endpoints from the SMART configuration and completes a standalone launch whose token reads a Patient', async () => {
    const smartConfiguration = `${tandem.url}/fhir/.well-known/smart-configuration`;
    const raw = (await (await fetch(smartConfiguration)).json()) as Record<string, unknown>;
    // The library reads the SMART configuration as its OAuth metadata: nothing is told to it but where that is.
    const client = new OidcClient({
      authority: `${tandem.url}/fhir`,
      metadataUrl: smartConfiguration,
      client_id: 'tandem-web',
      redirect_uri: `${tandem.url}/signin-callback`,
      response_type: 'code',
      scope: 'openid',
      stateStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
    });
    const discovered = await client.metadataService.getMetadata();
    expect(discovered.authorization_endpoint).toBe(raw.authorization_endpoint);
    expect(discovered.token_endpoint).toBe(raw.token_endpoint);
    // the embedded development issuer's own endpoints, on this server, and what a SMART app looks for
    expect(discovered.authorization_endpoint!.startsWith(`${tandem.url}/`)).toBe(true);
    expect(discovered.token_endpoint!.startsWith(`${tandem.url}/`)).toBe(true);
    expect(discovered.code_challenge_methods_supported).toEqual(['S256']);
    expect(raw.capabilities).toEqual(expect.arrayContaining(['launch-standalone', 'client-public']));

    // standalone launch: the library builds the authorization request (PKCE S256), the user chooses who they are, the library redeems the code
    const request = await client.createSigninRequest({});
    const authorize = new URL(request.url);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(discovered.authorization_endpoint);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect((await fetch(authorize)).status).toBe(200);
    const chosen = await fetch(discovered.authorization_endpoint!, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...Object.fromEntries(authorize.searchParams), person: DEMO.nurse.practitionerId }).toString(),
    });
    expect(chosen.status).toBe(303);
    const signedIn = await client.processSigninResponse(chosen.headers.get('location')!);
    expect(signedIn.access_token).toBeTruthy();

    const patient = await fetch(`${tandem.url}/fhir/Patient/${patientIds[0]}`, { headers: { authorization: `Bearer ${signedIn.access_token}`, accept: 'application/fhir+json' } });
    expect(patient.status).toBe(200);
    expect((await patient.json()) as Patient).toMatchObject({ resourceType: 'Patient', id: patientIds[0] });
  });
});

describe('SMART discovery in the server mode names the configured identity provider', () => {
  let provider: Server;
  let app: Server;
  let answering = true;
  let issuer: string;
  beforeAll(async () => {
    provider = createServer((req, res) => {
      if (!answering || req.url !== '/realms/nhs/.well-known/openid-configuration') return void res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer, authorization_endpoint: `${issuer}/protocol/openid-connect/auth`, token_endpoint: `${issuer}/protocol/openid-connect/token`, jwks_uri: `${issuer}/certs` }));
    });
    await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(provider.address() as AddressInfo).port}/realms/nhs`;
    app = express().use(providerSmartConfigurationRouter(issuer)).listen(0, '127.0.0.1');
    await new Promise((resolve) => app.once('listening', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => app.close(resolve));
    await new Promise((resolve) => provider.close(resolve));
  });
  const url = () => `http://127.0.0.1:${(app.address() as AddressInfo).port}/fhir/.well-known/smart-configuration`;

  it("passes on the provider's own endpoints", async () => {
    const config = (await (await fetch(url())).json()) as Record<string, unknown>;
    expect(config).toMatchObject({ issuer, authorization_endpoint: `${issuer}/protocol/openid-connect/auth`, token_endpoint: `${issuer}/protocol/openid-connect/token`, jwks_uri: `${issuer}/certs` });
  });

  it("the SMART client library finds the configured provider's endpoints, not Tandem's", async () => {
    const client = new OidcClient({ authority: url().replace('/.well-known/smart-configuration', ''), metadataUrl: url(), client_id: 'a-smart-app', redirect_uri: 'https://app.example/callback', stateStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }) });
    const discovered = await client.metadataService.getMetadata();
    expect(discovered).toMatchObject({ issuer, authorization_endpoint: `${issuer}/protocol/openid-connect/auth`, token_endpoint: `${issuer}/protocol/openid-connect/token` });
  });

  it('says plainly when the provider cannot be asked (503 naming it), rather than guessing endpoints', async () => {
    answering = false;
    const fresh = express().use(providerSmartConfigurationRouter(issuer)).listen(0, '127.0.0.1');
    await new Promise((resolve) => fresh.once('listening', resolve));
    const response = await fetch(`http://127.0.0.1:${(fresh.address() as AddressInfo).port}/.well-known/smart-configuration`);
    await new Promise((resolve) => fresh.close(resolve));
    answering = true;
    expect(response.status).toBe(503);
    expect(((await response.json()) as { detail: string }).detail).toContain(`${issuer}/.well-known/openid-configuration`);
  });
});
