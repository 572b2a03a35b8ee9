/**
 * SMART on FHIR v2 scopes (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html):
 * `<context>/<resource type or *>.<permissions>`, e.g. `patient/Observation.rs`, `user/*.cruds`,
 * `system/Observation.c`. SMART v1 forms (`.read`, `.write`, `.*`) are read as their v2 meaning.
 *
 * What each context grants in Tandem (docs/decisions/0005-identity-and-policy.md):
 * - `patient/`: only the person named in the token's `patient` claim (nothing without one);
 * - `user/`: what the user's role and care relationship allow (people, never `system` tokens);
 * - `system/`: what the role allows without a care relationship (only `system` tokens).
 * Scopes with a query (`patient/Observation.rs?category=vital-signs`) are kept but grant nothing
 * yet, so they never widen access. Other scopes (`openid`, `fhirUser`, `launch/patient`) are ignored.
 */

export type ScopeContext = 'patient' | 'user' | 'system';
/** SMART v2 permissions: create, read, update, delete, search. */
export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

export interface SmartScope {
  readonly raw: string;
  readonly context: ScopeContext;
  /** A FHIR resource type, or `*` for all. */
  readonly resourceType: string;
  readonly interactions: ReadonlySet<Interaction>;
  /** A v2 fine-grained scope (`?param=value`): parsed, not yet honoured, so it grants nothing. */
  readonly restricted: boolean;
}

const SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{0,63})\.([a-z*]+)(\?.*)?$/;
const V1: Readonly<Record<string, string>> = { read: 'rs', write: 'cud', '*': 'cruds' };
const V2 = /^c?r?u?d?s?$/;

/** Parses one scope; undefined when it is not a SMART resource scope. */
export const parseScope = (raw: string): SmartScope | undefined => {
  const match = SCOPE.exec(raw);
  if (!match) return undefined;
  const [, context, resourceType, permissions, query] = match;
  // Own keys only: `.constructor` is no SMART v1 permission.
  const letters = Object.hasOwn(V1, permissions!) ? V1[permissions!]! : permissions!;
  if (!letters || !V2.test(letters)) return undefined;
  return {
    raw,
    context: context as ScopeContext,
    resourceType: resourceType!,
    interactions: new Set(letters.split('') as Interaction[]),
    restricted: query !== undefined,
  };
};

/** The SMART resource scopes of a space-separated `scope` claim. */
export const parseScopes = (scope: string): SmartScope[] =>
  scope
    .split(/\s+/)
    .filter(Boolean)
    .flatMap((s) => parseScope(s) ?? []);

/** Whether one scope allows an interaction on a resource type (ignoring its context). */
export const scopeCovers = (scope: SmartScope, resourceType: string, interaction: Interaction): boolean =>
  !scope.restricted && (scope.resourceType === '*' || scope.resourceType === resourceType) && scope.interactions.has(interaction);

export const INTERACTION_TEXT: Readonly<Record<Interaction, string>> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };
