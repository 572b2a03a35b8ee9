import { Router, type Request, type Response } from 'express';
import { devOidcMetadata, originOf } from './dev-sign-in';

/**
 * SMART App Launch 2.x discovery (https://hl7.org/fhir/smart-app-launch/conformance.html):
 * `/.well-known/smart-configuration`, at the server's root and under the FHIR base where SMART
 * clients look, so an app finds where to sign in and what Tandem honours before it asks.
 *
 * It describes what Tandem does, nothing more: standalone launch by a public client with PKCE
 * S256, OpenID Connect sign-in, SMART v2 scopes in the user/, patient/ and system/ contexts
 * (packages/auth/src/scopes.ts). No EHR launch and no launch-context picker are claimed.
 * The endpoints are the identity provider's: the development sign-in in the embedded mode, the
 * configured provider's own discovery document in the server and scale modes.
 */

/** What an OpenID provider's discovery document tells us, and we pass on. */
export interface ProviderEndpoints {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly jwks_uri?: string;
}

export const SMART_CAPABILITIES = ['launch-standalone', 'client-public', 'sso-openid-connect', 'permission-v2', 'permission-user', 'permission-patient'] as const;

export const smartConfiguration = (provider: ProviderEndpoints) => ({
  issuer: provider.issuer,
  ...(provider.jwks_uri ? { jwks_uri: provider.jwks_uri } : {}),
  authorization_endpoint: provider.authorization_endpoint,
  token_endpoint: provider.token_endpoint,
  grant_types_supported: ['authorization_code'],
  response_types_supported: ['code'],
  token_endpoint_auth_methods_supported: ['none'],
  code_challenge_methods_supported: ['S256'],
  scopes_supported: ['openid', 'fhirUser', 'user/*.cruds', 'user/*.rs', 'patient/*.rs', 'patient/*.cruds', 'system/*.rs'],
  capabilities: [...SMART_CAPABILITIES],
});

const PATHS = ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration'];

const unavailable = (res: Response, detail: string) =>
  res.status(503).set('retry-after', '30').type('application/problem+json').json({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail });

/** Where a SMART app signs in, for this request: what discovery names and /fhir/metadata's security repeats (oauth-uris). */
export type SmartEndpointsOf = (req: Request) => Promise<ProviderEndpoints>;

/** Embedded mode: the development sign-in is the provider. */
export const devSmartEndpoints =
  (devIssuer: string): SmartEndpointsOf =>
  (req) =>
    Promise.resolve(devOidcMetadata(originOf(req), devIssuer));

export const devSmartConfigurationRouter = (devIssuer: string, endpoints: SmartEndpointsOf = devSmartEndpoints(devIssuer)): Router => {
  const router = Router();
  for (const path of PATHS) {
    router.get(path, (req: Request, res: Response, next) => {
      endpoints(req).then((found) => res.json(smartConfiguration(found)), next);
    });
  }
  return router;
};

/** How long a provider's discovery document is kept before it is asked again. */
const KEEP_MS = 5 * 60_000;

/** Server and scale modes: the configured provider's endpoints, from its own discovery document (kept for five minutes). */
export const providerSmartEndpoints = (issuer: string, fetchImpl: typeof fetch = fetch): SmartEndpointsOf => {
  let kept: { endpoints: ProviderEndpoints; until: number } | undefined;
  return async () => {
    if (kept && kept.until > Date.now()) return kept.endpoints;
    const response = await fetchImpl(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(2000) });
    if (!response.ok) throw new Error(`answered ${response.status}`);
    const document = (await response.json()) as Partial<ProviderEndpoints>;
    if (typeof document.authorization_endpoint !== 'string' || typeof document.token_endpoint !== 'string') throw new Error('names no authorization or token endpoint');
    const found: ProviderEndpoints = {
      issuer: typeof document.issuer === 'string' ? document.issuer : issuer,
      authorization_endpoint: document.authorization_endpoint,
      token_endpoint: document.token_endpoint,
      ...(typeof document.jwks_uri === 'string' ? { jwks_uri: document.jwks_uri } : {}),
    };
    kept = { endpoints: found, until: Date.now() + KEEP_MS };
    return found;
  };
};

export const providerSmartConfigurationRouter = (issuer: string, fetchImpl: typeof fetch = fetch, endpoints: SmartEndpointsOf = providerSmartEndpoints(issuer, fetchImpl)): Router => {
  const router = Router();
  for (const path of PATHS) {
    router.get(path, (req: Request, res: Response) => {
      endpoints(req).then(
        (found) => res.json(smartConfiguration(found)),
        (error: Error) => unavailable(res, `The identity provider's discovery document (${issuer}/.well-known/openid-configuration) could not be read: ${error.message}`),
      );
    });
  }
  return router;
};
