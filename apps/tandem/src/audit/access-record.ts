import type { Decision, Principal } from '@tandem/auth';
import { storableText, type AccessInteraction, type Actor, type AccessOutcome, type AccessRecordedData, type PurposeOfUse, type Role } from '@tandem/contracts';

/**
 * What one request did, as the access trail records it: pure functions from what the HTTP layer
 * saw (method, path, status) and what the policy decided, to an AccessRecorded event's data.
 */

export interface AccessSeen {
  readonly accessId: string;
  readonly at: Date;
  readonly method: string;
  /** The URL as requested, query string included. */
  readonly url: string;
  readonly address: string;
  readonly userAgent?: string;
  readonly principal?: Principal;
  readonly decisions: readonly Decision[];
  /** The people whose data the answer carried (a search across a caseload decides on no one in particular). */
  readonly disclosed: readonly string[];
  readonly status: number;
  /** The client left before the answer was sent. */
  readonly abandoned?: boolean;
}

const LOGICAL_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const MAX_PATIENTS = 1000;

/** Query parameters that carry credentials: never kept in a record that can never be deleted. */
const SECRET_PARAMS = new Set(['access_token', 'id_token', 'refresh_token', 'token', 'client_secret', 'password']);

const redacted = (query: string): string =>
  query
    .split('&')
    .map((pair) => {
      const name = pair.split('=', 1)[0] ?? '';
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // a malformed escape is kept as sent
      }
      return SECRET_PARAMS.has(decoded.toLowerCase()) ? `${name}=REDACTED` : pair;
    })
    .join('&');
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;

/** Routes that are public by design: nobody's record is read there, so they are not audited. */
export const isPublicRoute = (method: string, path: string): boolean =>
  path === '/health' || path === '/openapi.json' || (method === 'GET' && (path === '/fhir/metadata' || path === '/fhir/metadata/'));

const decodeSegment = (segment: string): string => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/** The FHIR interaction a path and method are, and the resource they name. */
export const describeRequest = (method: string, path: string): { interaction: AccessInteraction; resourceType?: string; resourceId?: string } => {
  const segments = path.split('/').filter(Boolean).map(decodeSegment);
  if (segments[0] !== 'fhir') return { interaction: method === 'GET' ? 'read' : 'command' };
  const [, type, id, third, vid] = segments;
  const named = {
    ...(type && RESOURCE_TYPE.test(type) ? { resourceType: type } : {}),
    ...(id && LOGICAL_ID.test(id) ? { resourceId: id } : {}),
  };
  if (method === 'POST') return { interaction: 'create', ...named };
  if (method === 'PUT') return { interaction: 'update', ...named };
  if (id === '_history') return { interaction: 'history-type', ...(named.resourceType ? { resourceType: named.resourceType } : {}) };
  if (third?.startsWith('$')) return { interaction: 'operation', ...named };
  if (third === '_history') return { interaction: vid === undefined ? 'history-instance' : 'vread', ...named };
  if (id !== undefined) return { interaction: 'read', ...named };
  return { interaction: 'search-type', ...named };
};

export const outcomeOf = (status: number): AccessOutcome => {
  if (status < 400) return 'success';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'denied';
  if (status === 429) return 'throttled';
  return status < 500 ? 'refused' : 'failed';
};

const PURPOSE: Readonly<Record<Role, PurposeOfUse>> = {
  'care-worker': 'TREAT',
  'district-nurse': 'TREAT',
  gp: 'TREAT',
  'registered-manager': 'HOPERAT',
  auditor: 'HCOMPL',
  system: 'HSYSADMIN',
};

/**
 * Bounded and storable: PostgreSQL's jsonb refuses NUL and a lone surrogate, and one record it
 * refuses would hold back every record batched with it.
 */
const truncate = (value: string, max: number): string => storableText(value.length > max ? value.slice(0, max) : value);

/** The actor with every text field bounded and storable (a token's claims are checked at authentication; this is the last line). */
const storableActor = (actor: Actor): Actor => ({
  id: truncate(actor.id, 128) || 'unknown',
  role: actor.role,
  ...(actor.organisation !== undefined ? { organisation: truncate(actor.organisation, 128) || 'unknown' } : {}),
  ...(actor.registration ? { registration: { system: actor.registration.system, value: truncate(actor.registration.value, 32) || 'unknown' } } : {}),
});

/** The AccessRecorded data for a request; every field bounded, so hostile input cannot make it unstorable. */
export const accessRecord = (seen: AccessSeen): AccessRecordedData => {
  const [rawPath = '/', rawQuery] = seen.url.split(/\?(.*)/s, 2);
  const path = truncate(rawPath, 2000);
  const actor = seen.principal?.actor ?? seen.decisions[0]?.actor;
  const breakGlass = seen.decisions.find((d) => d.breakGlass)?.breakGlass;
  const denied = seen.decisions.find((d) => !d.allowed);
  const decided = seen.decisions.flatMap((d) => (d.patientId !== undefined ? [d.patientId] : []));
  const patientIds = [...new Set([...decided, ...seen.disclosed])].filter((id) => LOGICAL_ID.test(id)).slice(0, MAX_PATIENTS);
  const actions = [...new Set(seen.decisions.map((d) => d.action))].slice(0, 20);
  const record: AccessRecordedData = {
    accessId: seen.accessId,
    at: seen.at.toISOString(),
    ...(actor ? { agent: storableActor(actor) } : {}),
    method: truncate(seen.method, 10),
    path,
    ...(rawQuery ? { query: truncate(redacted(rawQuery), 4000) } : {}),
    ...describeRequest(seen.method, path),
    patientIds,
    actions,
    status: seen.status >= 100 && seen.status <= 599 ? seen.status : 500,
    ...(seen.abandoned ? { abandoned: true } : {}),
    outcome: outcomeOf(seen.status),
    ...(denied ? { reason: truncate(denied.detail, 1000) } : {}),
    ...(breakGlass ? { breakGlassReason: truncate(breakGlass.reason, 500) } : {}),
    ...(actor ? { purposeOfUse: breakGlass ? 'ETREAT' : PURPOSE[actor.role] } : {}),
    source: { address: truncate(seen.address, 64), ...(seen.userAgent ? { userAgent: truncate(seen.userAgent, 300) } : {}) },
  };
  // Not validated here: the event store checks it against the contract on append, and a record it
  // refuses is stored as its essentials (AccessTrail.append), so the hot path checks once.
  return record;
};

/**
 * Who, when, whom and the outcome, without the free text that came from the request, and with the
 * agent's text made storable: what a record keeps when the rest cannot be stored.
 */
export const essentialsOf = (record: AccessRecordedData): AccessRecordedData => {
  const { query: _query, resourceType: _type, resourceId: _id, reason: _reason, breakGlassReason, agent, ...essentials } = record;
  return {
    ...essentials,
    ...(agent ? { agent: storableActor(agent) } : {}),
    ...(breakGlassReason !== undefined ? { breakGlassReason: 'not storable' } : {}),
    path: '/',
    source: { address: 'unknown' },
  };
};
