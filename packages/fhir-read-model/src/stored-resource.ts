import type { FhirResource as Resource } from 'fhir/r4';

/** A version of a resource as the read model stores it. */
export interface StoredResource<R extends Resource = Resource> {
  readonly resource: R;
  readonly versionId: number;
  readonly lastUpdated: string;
  /** The person the resource is about, as the projection indexed it. */
  readonly patientId?: string;
  /** The resource as its JSON text, when a reader holds it ready to send (LatestVersionsReader). */
  readonly json?: string;
}

/**
 * The JSON text of resources a reader holds, by the resource object itself: a version never
 * changes, so its text is stringified once when it is held and every answer that carries it (a
 * read, a search's bundle, `$everything`) sends those bytes rather than stringifying it again.
 * Weak: a resource no longer held takes its text with it.
 */
const heldJson = new WeakMap<Resource, string>();

/** Holds a resource's JSON text (the reader that holds the resource, once). */
export const holdJsonText = (resource: Resource, json: string): void => {
  heldJson.set(resource, json);
};

/** A resource's JSON text: the held text when a reader holds it, else stringified now. */
export const jsonTextOf = (resource: Resource): string => heldJson.get(resource) ?? JSON.stringify(resource);
