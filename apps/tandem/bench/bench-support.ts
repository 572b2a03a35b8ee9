/** What the FHIR benchmarks share: the stand-in identity provider, the database URL, the wait for the projection. */
import { DevIssuer } from '@tandem/auth';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The benchmark database on the admin URL's server. */
export const databaseUrl = (adminUrl: string, database: string): string => {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
};

/**
 * The server mode takes tokens from an identity provider's JWKS URL: the benchmark plays the
 * provider with an in-memory key pair, serving its key set and minting the tokens it sends.
 * `idSecret` keys patient ids alike in the seeding process and the server (docs/decisions/0005).
 */
export const identityProvider = async (idSecret: string) => {
  const issuer = await DevIssuer.create({ issuer: 'urn:tandem:bench-issuer', audience: 'tandem' });
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issuer.jwks())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const env = {
    TANDEM_AUTH_JWKS_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    TANDEM_AUTH_ISSUER: issuer.issuer,
    TANDEM_AUTH_AUDIENCE: issuer.audience,
    TANDEM_ID_SECRET: idSecret,
  };
  return { issuer, env, close: () => server.close() };
};

/** Waits until the projection has no lag; the lag is in /health's details, which need an operator's token (system). */
export const waitCaughtUp = async (base: string, operator: Record<string, string>): Promise<void> => {
  for (;;) {
    try {
      const health = (await (await fetch(`${base}/health`, { headers: operator })).json()) as { services: { service: string; details?: { projection?: { lagEvents: number } } }[] };
      const lag = health.services.find((s) => s.service === 'projections')?.details?.projection?.lagEvents;
      if (lag === 0) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};
