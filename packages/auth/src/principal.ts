import { ActorSchema, RegistrationSchema, RoleSchema, type Actor } from '@tandem/contracts';
import { z } from 'zod';
import { parseScopes, type SmartScope } from './scopes';

/** A FHIR logical id, as Tandem's patient ids are. */
const FhirId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a FHIR id');

/**
 * The claims Tandem reads from a verified token (besides iss, aud, exp, nbf, which jose checks):
 * `sub` the user, `role` one of Tandem's roles, `org` the organisation, `registration` the
 * professional registration (NMC, GMC, HCPC), `scope` SMART on FHIR v2 scopes, and `patient`
 * for a launch in one person's context.
 */
export const TokenClaimsSchema = z.object({
  sub: z.string().min(1).max(128),
  role: RoleSchema,
  org: z.string().min(1).max(128).optional(),
  registration: RegistrationSchema.optional(),
  // SMART and RFC 8693 send a space-separated string; some providers send a list.
  scope: z
    .union([z.string().max(4000), z.array(z.string().max(200)).max(100).transform((list) => list.join(' '))])
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
