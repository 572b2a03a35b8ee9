import { DevIssuer } from '@tandem/auth';
import express, { Router, type Request, type Response } from 'express';
import { existsSync } from 'node:fs';
import { dirname, extname, join, sep } from 'node:path';
import type { Config } from '../config';
import { DEV_SIGN_IN_PATH, devOidcMetadata, devSignInRouter, originOf, WEB_CLIENT_ID } from './dev-sign-in';
import { devSmartConfigurationRouter, devSmartEndpoints, providerSmartConfigurationRouter, providerSmartEndpoints, type SmartEndpointsOf } from './smart-configuration';

/**
 * The care worker's app (apps/web, built by Vite) served at `/` in every mode, with what it needs
 * to sign in: `GET /app-config.json` names the identity provider Tandem is configured with (the
 * development sign-in in the embedded mode). docs/decisions/0014-care-worker-app.md
 */
export interface WebAppOptions {
  /** The embedded mode's development issuer; absent in the server and scale modes. */
  readonly devIssuer?: DevIssuer;
  /** The identity provider (server mode): its issuer URL, the app's client id there and the scopes to ask for. */
  readonly oidc?: { readonly authority: string; readonly clientId: string; readonly scope: string };
  /** Where the built app is (default: apps/web/dist). */
  readonly distDir?: string;
}

/** The app's own pages (apps/web/src/main.ts routes them). */
const APP_PAGES = /^\/($|signin-callback$|waiting$|people\/[^/]+\/(vital-signs|blood-glucose|insulin-administrations|insulin-withheld|notes)(\/saved)?$)/;

/** Paths that are the API's, never the app's pages. */
const NOT_THE_APP = /^\/(api|fhir|admin|health|openapi\.json|dev-sign-in)(\/|$)/;

/** apps/web, found through the workspace link (or beside apps/tandem). */
const webDir = (): string => {
  try {
    return dirname(require.resolve('@tandem/web/package.json'));
  } catch {
    return join(__dirname, '../../../web');
  }
};

/**
 * The app's own Content-Security-Policy: helmet's default adds upgrade-insecure-requests, which
 * breaks http://localhost; the identity provider's origin is allowed for the token request and
 * the sign-in redirect.
 */
const contentSecurityPolicy = (idpOrigin?: string) =>
  [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${idpOrigin ? ` ${idpOrigin}` : ''}`,
    `form-action 'self'${idpOrigin ? ` ${idpOrigin}` : ''}`,
    "manifest-src 'self'",
    "worker-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "object-src 'none'",
  ].join('; ');

const notBuilt = (res: Response) =>
  res
    .status(503)
    .type('text/html')
    .send('<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>Tandem</title></head><body><h1>The care worker\'s app is not built</h1><p>Run <code>npm run build -w @tandem/web</code> (or <code>npm start</code>, which builds it first).</p></body></html>');

export const webAppRouter = (options: WebAppOptions): Router => {
  const router = Router();
  const dist = options.distDir ?? join(webDir(), 'dist');
  let idpOrigin: string | undefined;
  if (options.oidc) {
    try {
      idpOrigin = new URL(options.oidc.authority).origin;
    } catch {
      idpOrigin = undefined;
    }
  }
  const csp = contentSecurityPolicy(idpOrigin);

  router.get('/app-config.json', (req: Request, res: Response) => {
    res.set('cache-control', 'no-cache');
    if (options.devIssuer) {
      const origin = originOf(req);
      return res.json({
        mode: 'embedded',
        demo: true,
        oidc: { authority: `${origin}${DEV_SIGN_IN_PATH}`, clientId: WEB_CLIENT_ID, scope: 'openid', metadata: devOidcMetadata(origin, options.devIssuer.issuer) },
      });
    }
    if (options.oidc) return res.json({ mode: 'server', demo: false, oidc: { authority: options.oidc.authority, clientId: options.oidc.clientId, scope: options.oidc.scope } });
    res.status(503).type('application/problem+json').json({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'No identity provider is configured for the app: set TANDEM_AUTH_ISSUER' });
  });

  if (options.devIssuer) {
    router.use(devSignInRouter(options.devIssuer));
    router.use(`${DEV_SIGN_IN_PATH}/nhsuk.css`, (_req, res) => res.sendFile(require.resolve('nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css', { paths: [webDir()] })));
  }

  const staticFiles = express.static(dist, {
    index: false,
    setHeaders: (res, path) => {
      // Hashed assets never change; the service worker, the manifest and the page are checked each time.
      res.setHeader('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      if (path.endsWith('.html')) res.setHeader('content-security-policy', csp);
    },
  });
  router.use((req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || NOT_THE_APP.test(req.path)) return next();
    // The build keeps .br and .gz beside each text file: a phone that accepts them gets those bytes.
    const file = join(dist, req.path);
    if (file.startsWith(dist + sep) && /\.(js|css|svg|webmanifest|json)$/.test(req.path)) {
      const accepted = req.get('accept-encoding') ?? '';
      const encoding = ['br', 'gzip'].find((e) => accepted.includes(e) && existsSync(`${file}.${e === 'gzip' ? 'gz' : e}`));
      if (encoding) {
        res.setHeader('content-encoding', encoding);
        res.setHeader('vary', 'Accept-Encoding');
        res.setHeader('cache-control', req.path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
        res.type(extname(req.path) === '.webmanifest' ? 'application/manifest+json' : extname(req.path));
        return res.sendFile(`${file}.${encoding === 'gzip' ? 'gz' : encoding}`);
      }
    }
    staticFiles(req, res, () => {
      // A page of the app (one of its own routes, asked for as a page): the app's index.html.
      // Anything else goes on to the API's answers (an unknown path stays a problem+json 404).
      if (!APP_PAGES.test(req.path) || !(req.get('accept') ?? '').includes('text/html')) return next();
      const index = join(dist, 'index.html');
      if (!existsSync(index)) return notBuilt(res);
      res.setHeader('content-security-policy', csp);
      res.setHeader('cache-control', 'no-cache');
      res.sendFile(index);
    });
  });
  return router;
};

/**
 * The app for this configuration: pointed at the configured identity provider (server and scale
 * modes), or at the development sign-in (embedded mode, where the development issuer runs). With
 * it, where SMART discovery says a SMART app signs in, for /fhir/metadata to say the same.
 */
export const webAppFor = async (config: Config): Promise<{ router: Router; smartEndpoints: SmartEndpointsOf }> => {
  const router = Router();
  if (config.TANDEM_AUTH_ISSUER) {
    // SMART discovery names the configured provider's endpoints (docs/decisions/0014).
    const smartEndpoints = providerSmartEndpoints(config.TANDEM_AUTH_ISSUER);
    router.use(providerSmartConfigurationRouter(config.TANDEM_AUTH_ISSUER, fetch, smartEndpoints));
    router.use(webAppRouter({ oidc: { authority: config.TANDEM_AUTH_ISSUER, clientId: config.TANDEM_WEB_CLIENT_ID, scope: config.TANDEM_WEB_SCOPE } }));
    return { router, smartEndpoints };
  }
  const devIssuer = await DevIssuer.open({ dataDir: config.TANDEM_DATA_DIR, eventStore: config.TANDEM_EVENT_STORE });
  const smartEndpoints = devSmartEndpoints(devIssuer.issuer);
  router.use(devSmartConfigurationRouter(devIssuer.issuer, smartEndpoints));
  router.use(webAppRouter({ devIssuer }));
  return { router, smartEndpoints };
};
