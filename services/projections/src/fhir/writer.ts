import type { SqlQueryable } from '@tandem/event-store';
import type { FhirResource as Resource } from 'fhir/r4';

/** What the projection knows about a resource besides its body: the search columns. */
export interface IndexedResource {
  readonly resource: Resource & { id: string };
  readonly patientId?: string;
  readonly tokens?: readonly string[];
  readonly refs?: readonly string[];
  readonly nameText?: string;
  readonly birthdate?: string;
  readonly effective?: string;
}

export interface StoredResource<R extends Resource = Resource> {
  readonly resource: R;
  readonly versionId: number;
  readonly lastUpdated: string;
}

/**
 * Writes a new version of a resource caused by the event at `position`. Versions count the events
 * that changed the resource; an event already applied (position not beyond the resource's last)
 * changes nothing, so replays are harmless.
 */
export const writeResourceVersion = async (tx: SqlQueryable, indexed: IndexedResource, position: number, recordedAt: string): Promise<void> => {
  const { resource } = indexed;
  const [current] = await tx.query<{ version_id: number; last_position: string }>(
    'select version_id, last_position from fhir_resource where resource_type = $1 and id = $2',
    [resource.resourceType, resource.id],
  );
  if (current && Number(current.last_position) >= position) return;
  const versionId = (current?.version_id ?? 0) + 1;
  const body = { ...resource, meta: { ...resource.meta, versionId: String(versionId), lastUpdated: recordedAt } };
  await tx.query(
    `insert into fhir_resource (resource_type, id, version_id, last_updated, patient_id, tokens, refs, name_text, birthdate, effective, resource, last_position)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12)
     on conflict (resource_type, id) do update set version_id = excluded.version_id, last_updated = excluded.last_updated,
       patient_id = excluded.patient_id, tokens = excluded.tokens, refs = excluded.refs, name_text = excluded.name_text,
       birthdate = excluded.birthdate, effective = excluded.effective, resource = excluded.resource, last_position = excluded.last_position`,
    [
      resource.resourceType,
      resource.id,
      versionId,
      recordedAt,
      indexed.patientId ?? null,
      indexed.tokens ?? [],
      indexed.refs ?? [],
      indexed.nameText ?? null,
      indexed.birthdate ?? null,
      indexed.effective ?? null,
      JSON.stringify(body),
      position,
    ],
  );
  await tx.query(
    `insert into fhir_resource_version (resource_type, id, version_id, last_updated, patient_id, resource)
     values ($1, $2, $3, $4, $5, $6::jsonb) on conflict do nothing`,
    [resource.resourceType, resource.id, versionId, recordedAt, indexed.patientId ?? null, JSON.stringify(body)],
  );
};

/** Reads the current version of a resource inside the projection (to apply an amendment to it). */
export const readCurrent = async <R extends Resource>(tx: SqlQueryable, type: R['resourceType'], id: string): Promise<R | undefined> => {
  const [row] = await tx.query<{ resource: R }>('select resource from fhir_resource where resource_type = $1 and id = $2', [type, id]);
  return row?.resource;
};
