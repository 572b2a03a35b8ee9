import type { Problem } from './store';

/** The request could not reach Tandem (no signal, or the server is down). */
export class Unreachable extends Error {}

export const request = async (path: string, token: string, init: RequestInit = {}): Promise<Response> => {
  try {
    return await fetch(path, { ...init, headers: { accept: 'application/json', ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` } });
  } catch {
    throw new Unreachable();
  }
};

type FhirResource = Record<string, unknown>;

/**
 * Every page of a FHIR search, following its next links (at most `pages`): the entries' resources.
 * One page is never taken for the whole answer (a caseload's fortnight of NEWS2 is more than a page).
 * `refused` says what an answer that is not 200 means here (by default: an error naming the search).
 */
export const searchAllPages = async (
  path: string,
  token: string,
  headers: Record<string, string> = {},
  pages = 10,
  refused: (response: Response, path: string) => never = (response, at) => {
    throw new Error(`${at} answered ${response.status}`);
  },
): Promise<FhirResource[]> => {
  const found: FhirResource[] = [];
  let next: string | undefined = path;
  for (let i = 0; next && i < pages; i++) {
    const response = await request(next, token, { headers });
    if (!response.ok) refused(response, next);
    const bundle = (await response.json()) as { entry?: { resource?: FhirResource }[]; link?: { relation: string; url: string }[] };
    found.push(...(bundle.entry ?? []).map((e) => e.resource).filter((r): r is FhirResource => typeof r === 'object' && r !== null));
    const link = bundle.link?.find((l) => l.relation === 'next')?.url;
    next = link ? new URL(link, location.origin).pathname + new URL(link, location.origin).search : undefined;
  }
  return found;
};

/** A problem+json answer read defensively: whatever it holds, she sees words and the fields. */
export const problemOf = async (response: Response): Promise<Problem> => {
  let body: Record<string, unknown> = {};
  try {
    body = (await response.json()) as Record<string, unknown>;
  } catch {
    body = {};
  }
  const errors = Array.isArray(body.errors)
    ? body.errors.filter((e): e is { field: string; message: string } => typeof e === 'object' && e !== null && typeof (e as { field?: unknown }).field === 'string' && typeof (e as { message?: unknown }).message === 'string')
    : undefined;
  return {
    status: response.status,
    title: typeof body.title === 'string' ? body.title : `Tandem answered ${response.status}`,
    ...(typeof body.detail === 'string' ? { detail: body.detail } : {}),
    ...(typeof body.code === 'string' ? { code: body.code } : {}),
    ...(errors?.length ? { errors } : {}),
  };
};
