import type { CapabilityStatementRestResourceInteraction } from 'fhir/r4';

/**
 * The FHIR interactions and operations this router serves, as data: routes.ts registers each
 * express handler from this table (and only from it), and capability.ts declares what was
 * registered. A claim in /fhir/metadata is a route that exists, so neither can drift from the
 * other (docs/decisions/0034-capability-statement-from-the-routes.md).
 */

export type TypeInteraction = CapabilityStatementRestResourceInteraction['code'];
export type Method = 'get' | 'post' | 'put';

export interface InteractionRoute {
  readonly interaction: TypeInteraction;
  readonly method: Method;
  readonly path: string;
  /** Served only on the types the record service writes (its `writableTypes`). */
  readonly writesOnly?: boolean;
}

/** Express matches in order: the more specific paths come first (`_history` before `:id`). */
export const INTERACTION_ROUTES = {
  'history-type': { interaction: 'history-type', method: 'get', path: '/fhir/:type/_history' },
  vread: { interaction: 'vread', method: 'get', path: '/fhir/:type/:id/_history/:vid' },
  'history-instance': { interaction: 'history-instance', method: 'get', path: '/fhir/:type/:id/_history' },
  read: { interaction: 'read', method: 'get', path: '/fhir/:type/:id' },
  'search-type': { interaction: 'search-type', method: 'get', path: '/fhir/:type' },
  create: { interaction: 'create', method: 'post', path: '/fhir/:type', writesOnly: true },
  update: { interaction: 'update', method: 'put', path: '/fhir/:type/:id', writesOnly: true },
} as const satisfies Record<string, InteractionRoute>;

export type ServedInteraction = keyof typeof INTERACTION_ROUTES;

export interface OperationRoute {
  readonly name: string;
  readonly definition: string;
  readonly method: Method;
  readonly paths: readonly string[];
  /** The types it is served on; undefined: every type. */
  readonly types?: readonly string[];
}

export const OPERATION_ROUTES = {
  everything: { name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything', method: 'get', paths: ['/fhir/Patient/:id/\\$everything'], types: ['Patient'] },
  lastn: { name: 'lastn', definition: 'http://hl7.org/fhir/OperationDefinition/Observation-lastn', method: 'get', paths: ['/fhir/Observation/\\$lastn'], types: ['Observation'] },
  validate: { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate', method: 'post', paths: ['/fhir/:type/\\$validate', '/fhir/:type/:id/\\$validate'] },
  meta: { name: 'meta', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-meta', method: 'get', paths: ['/fhir/:type/:id/\\$meta'] },
} as const satisfies Record<string, OperationRoute>;

export type ServedOperation = keyof typeof OPERATION_ROUTES;

/** What a router registered, in the order it did: what the CapabilityStatement may claim. */
export interface ServedRoutes {
  readonly interactions: readonly InteractionRoute[];
  readonly operations: readonly OperationRoute[];
}
