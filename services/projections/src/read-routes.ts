import { AuthenticationError, refusalTitle, TooManyRequestsError, type AccessControl, type Principal } from '@tandem/auth';
import type { ServiceHealth } from '@tandem/contracts';
import type { Request, Response, Router } from 'express';

/**
 * The HTTP side of the projections' own reads (indicators, capacity): refusals as problem+json or
 * OperationOutcome, the query's parameters, who is asking, and the service that mounts a router.
 */

export type Problem = { readonly field: string; readonly message: string };
export type Refusal = { readonly status: number; readonly title: string; readonly detail: string; readonly errors?: readonly Problem[]; readonly headers?: Record<string, string> };

export const jsonRefusal = (res: Response, r: Refusal) => {
  for (const [name, value] of Object.entries(r.headers ?? {})) res.set(name, value);
  res.status(r.status).type('application/problem+json').json({ type: 'about:blank', title: r.title, status: r.status, detail: r.detail, ...(r.errors ? { errors: r.errors } : {}) });
};

export const fhirRefusal = (res: Response, r: Refusal) => {
  for (const [name, value] of Object.entries(r.headers ?? {})) res.set(name, value);
  const code = r.status === 400 ? 'invalid' : r.status === 403 ? 'forbidden' : r.status === 404 ? 'not-found' : r.status === 401 ? 'login' : r.status === 429 ? 'throttled' : 'exception';
  const issue = r.errors && r.errors.length > 0 ? r.errors.map((e) => ({ severity: 'error', code, diagnostics: `${e.field}: ${e.message}`, expression: [e.field] })) : [{ severity: 'error', code, diagnostics: r.detail }];
  res.status(r.status).type('application/fhir+json').json({ resourceType: 'OperationOutcome', issue });
};

/** The server's FHIR base as the client reached it (a search's fullUrls). */
export const fhirBase = (req: Request): string => `${req.protocol}://${req.get('host') ?? 'localhost'}/fhir`;

export const bad = (errors: Problem[]): Refusal => ({ status: 400, title: 'Bad Request', detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors });

export const single = (req: Request, name: string): string | undefined => {
  const value = req.query[name];
  return typeof value === 'string' ? value : undefined;
};

/** A parameter this read does not take is refused naming it (as the FHIR API's searches do), never ignored. */
export const unknownParameters = (req: Request, type: string, known: readonly string[]): Problem[] =>
  Object.keys(req.query)
    .filter((name) => !known.includes(name))
    .map((name) => ({ field: name, message: `is not a search parameter of ${type} here; supported: ${known.filter((k) => !k.startsWith('_')).join(', ') || 'none'}` }));

/** A FHIR reference of one type in a search parameter (`Organization/x`, or `x`). */
export const referenceOf = (value: string | undefined, type: string): string | undefined => {
  if (value === undefined) return undefined;
  const id = value.startsWith(`${type}/`) ? value.slice(type.length + 1) : value;
  return /^[A-Za-z0-9\-.]{1,64}$/.test(id) ? id : '';
};

/** Who is asking (a forged or expired token is refused before anything it asks is read). */
export const authenticatedBy = async (access: AccessControl, req: Request): Promise<{ principal: Principal } | Refusal> => {
  try {
    return { principal: await access.authenticate(req.get('authorization'), { address: req.ip }) };
  } catch (error) {
    if (error instanceof TooManyRequestsError) return { status: 429, title: refusalTitle(error), detail: error.message, headers: { 'Retry-After': String(error.retryAfterSeconds) } };
    if (error instanceof AuthenticationError) return { status: error.status, title: refusalTitle(error), detail: error.message, headers: { 'WWW-Authenticate': error.challenge } };
    throw error;
  }
};

/** Runs a read, answering its refusal (if any) in the read's own form. */
export const handle =
  (refuse: (res: Response, r: Refusal) => void, work: (req: Request, res: Response) => Promise<Refusal | void>) =>
  (req: Request, res: Response, next: (error?: unknown) => void) => {
    work(req, res).then((refusal) => (refusal ? refuse(res, refusal) : undefined), next);
  };

/** A read-only service of the process: its router (mounted before the record service's /fhir/:type), nothing to start or stop. */
export const readRoutesService = (name: string, router: Router) => ({
  name,
  router,
  health: (): Promise<ServiceHealth> => Promise.resolve({ service: name, status: 'ok', details: {} }),
  start: () => Promise.resolve(),
  stop: () => Promise.resolve(),
});
