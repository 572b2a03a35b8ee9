/**
 * FHIR read model: the current version of each resource with its search columns, and every
 * version for vread and _history. Search columns are extracted at projection time so a search is
 * one indexed query.
 *
 * tokens: `param|system|code` and `param||code` (code-only search), e.g. `code|http://loinc.org|8867-4`.
 * refs:   `param|Type/id`, e.g. `general-practitioner|Practitioner/p-1`.
 * strings: a string parameter's entries (search-params.ts stringKeys), e.g. `family^smi`.
 */
export const fhirSchemaSql = `
create table if not exists fhir_resource (
  resource_type text not null,
  id text not null,
  version_id int not null,
  last_updated timestamptz not null,
  patient_id text,
  tokens text[] not null default '{}',
  refs text[] not null default '{}',
  name_text text,
  birthdate date,
  effective timestamptz,
  resource jsonb not null,
  last_position bigint not null,
  primary key (resource_type, id)
);
create index if not exists fhir_resource_patient on fhir_resource (resource_type, patient_id, effective);
-- Patient/$everything: a person's resources, the most recent care first across types (patient_id
-- leads: the index above leads with resource_type, and a query on patient_id alone scanned all of it).
drop index if exists fhir_resource_patient_everything;
create index if not exists fhir_resource_patient_recent on fhir_resource (patient_id, effective desc nulls last, resource_type, id);
create index if not exists fhir_resource_tokens on fhir_resource using gin (tokens);
-- String searches (family, given, address-postalcode) and _revinclude (Provenance:target) are GIN lookups too.
alter table fhir_resource add column if not exists strings text[] not null default '{}';
create index if not exists fhir_resource_strings on fhir_resource using gin (strings);
create index if not exists fhir_resource_refs on fhir_resource using gin (refs);
create index if not exists fhir_resource_updated on fhir_resource (resource_type, last_updated);

create table if not exists fhir_resource_version (
  resource_type text not null,
  id text not null,
  version_id int not null,
  last_updated timestamptz not null,
  patient_id text,
  resource jsonb not null,
  primary key (resource_type, id, version_id)
);
create index if not exists fhir_resource_version_updated on fhir_resource_version (last_updated);
create index if not exists fhir_resource_version_patient on fhir_resource_version (patient_id, last_updated);
`;
