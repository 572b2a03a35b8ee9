import { ConfigError, loadConfig } from '../src';

/**
 * Where the server mode takes its signing keys from (issue 16, item 13): a JWKS URL over plain
 * http lets anyone on the path swap the keys and sign tokens for any role, so start-up refuses it,
 * naming the variable, unless it is this machine.
 */
describe('the identity provider settings', () => {
  const server = (jwksUrl: string) => ({
    TANDEM_EVENT_STORE: 'postgres',
    DATABASE_URL: 'postgres://tandem@db.example/tandem',
    TANDEM_ID_SECRET: 'x'.repeat(32),
    TANDEM_AUTH_JWKS_URL: jwksUrl,
    TANDEM_AUTH_ISSUER: 'https://idp.example',
    TANDEM_AUTH_AUDIENCE: 'tandem',
  });

  it('refuses a JWKS URL over plain http outside loopback, naming TANDEM_AUTH_JWKS_URL', () => {
    for (const insecure of ['http://idp.example/.well-known/jwks.json', 'http://10.1.2.3:8080/jwks']) {
      expect(() => loadConfig(server(insecure))).toThrow(ConfigError);
      expect(() => loadConfig(server(insecure))).toThrow(/TANDEM_AUTH_JWKS_URL: must be an https URL/);
    }
  });

  it('accepts https, and http to this machine (a local test identity provider)', () => {
    for (const url of ['https://idp.example/.well-known/jwks.json', 'http://127.0.0.1:9000/jwks', 'http://localhost:9000/jwks']) {
      expect(loadConfig(server(url)).TANDEM_AUTH_JWKS_URL).toBe(url);
    }
  });
});
