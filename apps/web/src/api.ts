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
