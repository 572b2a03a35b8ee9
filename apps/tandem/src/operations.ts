import type { ServiceHealth } from '@tandem/contracts';
import { Router, type Request, type Response, type Router as RouterType } from 'express';
import type { TandemService } from './server';

/**
 * What running Tandem needs beyond its services: an identity provider that health can see, a
 * bound on heavy auditor work, and which paths exist at all (docs/decisions/0009-hardening.md).
 */

/** How long the identity provider has to answer health's check of its JWKS. */
export const JWKS_CHECK_TIMEOUT_MS = 2_000;
/** A JWKS that answered is not asked again for this long (a failing one is asked on every /health). */
export const JWKS_CHECK_CACHE_MS = 15_000;

/**
 * The identity provider as a health component: every request needs its keys, so when its JWKS
 * cannot be fetched every request is refused (503) and /health must say so, naming it. Checked on
 * demand (each /health) with a short timeout; a success is remembered for a few seconds, and
 * checks at the same moment share one fetch.
 */
export const identityProviderHealth = (jwksUrl: string, timeoutMs = JWKS_CHECK_TIMEOUT_MS): TandemService => {
  let okUntil = 0;
  let inFlight: Promise<ServiceHealth> | undefined;
  const check = async (): Promise<ServiceHealth> => {
    const problem = (why: string): ServiceHealth => ({
      service: 'identity-provider',
      status: 'degraded',
      details: { problem: `the identity provider's JWKS is unreachable (${why}): no token can be verified, every request is refused`, jwksUrl },
    });
    try {
      const response = await fetch(jwksUrl, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
      if (!response.ok) return problem(`it answered ${response.status}`);
      const body = (await response.json().catch(() => undefined)) as { keys?: unknown } | undefined;
      if (!body || !Array.isArray(body.keys) || body.keys.length === 0) return problem('it answered without signing keys');
      okUntil = Date.now() + JWKS_CHECK_CACHE_MS;
      return { service: 'identity-provider', status: 'ok', details: { jwksUrl, keys: body.keys.length } };
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      return problem(name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : 'connection failed');
    }
  };
  return {
    name: 'identity-provider',
    router: Router(),
    health: async () => {
      if (Date.now() < okUntil) return { service: 'identity-provider', status: 'ok', details: { jwksUrl } };
      inFlight ??= check().finally(() => (inFlight = undefined));
      return inFlight;
    },
    start: async () => undefined,
    stop: async () => undefined,
  };
};

/** What is wrong, in words, from the services' health: the only detail /health gives without a token. */
export const problemsOf = (services: readonly ServiceHealth[]): string[] =>
  services
    .filter((s) => s.status !== 'ok')
    .map((s) => (typeof s.details?.problem === 'string' ? s.details.problem : `${s.service} is degraded`));

/** `GET /api` and `/api/docs`: the API's description needs no token (it is the OpenAPI document's pointer). */
export const apiDescription = (_req: Request, res: Response): void => {
  res.json({
    name: 'Tandem',
    description: 'The shared care record: JSON commands and reads under /api, FHIR R4 under /fhir. Every request but /health, /api, /openapi.json and /fhir/metadata needs a bearer token.',
    openapi: '/openapi.json',
    fhir: { base: '/fhir', capabilityStatement: '/fhir/metadata' },
    health: '/health',
  });
};

interface LayerLike {
  route?: { methods: Record<string, boolean | undefined> };
  handle: { stack?: LayerLike[]; length: number };
  match(path: string): false | { path: string };
}

/**
 * Whether any route of these routers answers `method path`: an unknown path is a 404 before any
 * token is asked for (a 401 there says "log in" where there is nothing to find). Walks express's
 * router stacks; a router mounted under a prefix is searched with the prefix taken off.
 */
export const routeExists = (routers: readonly RouterType[], method: string, path: string): boolean => {
  const m = method.toLowerCase();
  const search = (stack: readonly LayerLike[], at: string): boolean =>
    stack.some((layer) => {
      const matched = layer.match(at);
      if (!matched) return false;
      if (layer.route) return Boolean(layer.route.methods[m] || layer.route.methods._all || (m === 'head' && layer.route.methods.get) || m === 'options');
      if (!layer.handle.stack) return false;
      return search(layer.handle.stack, at.slice(matched.path.length) || '/');
    });
  return routers.some((router) => search((router as unknown as { stack: LayerLike[] }).stack, path));
};

/** Refused because too many of a heavy kind of request are already running: 503 with Retry-After. */
export class Busy extends Error {
  constructor(
    readonly what: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`Too many ${what} are running at once; try again in ${retryAfterSeconds} s`);
    this.name = 'Busy';
  }
}

/**
 * At most `running` at once and `waiting` more queued; beyond that `run` throws Busy at once, so a
 * burst of heavy requests (replays) is refused quickly rather than piling up memory and stalling
 * every other request.
 */
export class Bulkhead {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    readonly what: string,
    private readonly running: number,
    private readonly waiting: number,
    private readonly retryAfterSeconds = 5,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.running) {
      if (this.queue.length >= this.waiting) throw new Busy(this.what, this.retryAfterSeconds);
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.active += 1;
    }
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      // The slot passes straight to the next in line; otherwise it is freed.
      if (next) next();
      else this.active -= 1;
    }
  }
}
