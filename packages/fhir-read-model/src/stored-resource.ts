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
