import { ActorSchema, RegistrationSchema, RoleSchema, type Actor } from '@tandem/contracts';
import { z } from 'zod';
import { parseScopes, type SmartScope } from './scopes';

/** A FHIR logical id, as Tandem's patient ids are. */
const FhirId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a FHIR id');

/**
 * An identifier claim (`sub`, `org`, a registration number): 1 to `max` visible ASCII characters,
 * as OpenID Connect says of `sub`. A validly signed token is input like any other: a NUL or a lone
 * surrogate (which PostgreSQL cannot store), a control or bidirectional character (which would
 * disguise who acted in an audit view), a space or anything overlong is refused here, at
 * authentication, rather than reaching the access trail and every event the user writes.
 */
const identifier = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(/^[\x21-\x7E]+$/, 'must be visible ASCII characters only (no spaces, control or non-ASCII characters)');

/** A scope token as RFC 6749 (section 3.3) defines one; scopes are separated by single spaces. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const scopeList = z
  .string()
  .max(4000, 'must be at most 4000 characters')
  .refine((s) => s.split(' ').every((token) => token === '' || SCOPE_TOKEN.test(token)), 'must be scope tokens of visible ASCII characters separated by spaces');

/**
 * The claims Tandem reads from a verified token (besides iss, aud, exp, nbf, iat, which the
 * verifier checks): `sub` the user, `role` one of Tandem's roles, `org` the organisation,
 * `registration` the professional registration (NMC, GMC, HCPC), `scope` SMART on FHIR v2 scopes,
 * and `patient` for a launch in one person's context. Each is checked as any input is, so a refusal
 * names the claim (401).
 */
export const TokenClaimsSchema = z.object({
  sub: identifier(128),
  role: RoleSchema,
  org: identifier(128).optional(),
  registration: RegistrationSchema.extend({ value: identifier(32) }).optional(),
  // SMART and RFC 8693 send a space-separated string; some providers send a list.
  scope: z
    .union([scopeList, z.array(z.string().max(200).regex(SCOPE_TOKEN, 'must be a scope token of visible ASCII characters')).max(100).transform((list) => list.join(' '))])
    .optional()
    .transform((s) => s ?? ''),
  patient: FhirId.optional(),
});
export type TokenClaims = z.input<typeof TokenClaimsSchema>;

/** Who is asking, from a verified token: the actor every event records, and what the token allows. */
export interface Principal {
  readonly actor: Actor;
  /** The SMART resource scopes the token carries. */
  readonly scopes: readonly SmartScope[];
  /** The `scope` claim as sent. */
  readonly scope: string;
  /** The person a patient-context launch is limited to. */
  readonly patient?: string;
}

/** Builds the principal from claims; throws a ZodError naming the claim when they do not fit. */
export const principalFromClaims = (claims: unknown): Principal => {
  const c = TokenClaimsSchema.parse(claims);
  const actor: Actor = ActorSchema.parse({
    id: c.sub,
    role: c.role,
    ...(c.registration ? { registration: c.registration } : {}),
    ...(c.org ? { organisation: c.org } : {}),
  });
  return { actor, scopes: parseScopes(c.scope), scope: c.scope, ...(c.patient ? { patient: c.patient } : {}) };
};
