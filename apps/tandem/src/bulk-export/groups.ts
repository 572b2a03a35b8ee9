import type { CapabilityStatementRestResource, Group } from 'fhir/r4';

/**
 * Read-only FHIR Groups derived from the record (docs/decisions/0038-groups-and-handshake.md): an
 * organisation's caseload, as Group/<organisation id>. Pure: the resource and the search's
 * parameters; the members come from the Groups' read model (./groups-projection.ts), narrowed to
 * the caller's access by the service.
 */
export interface CaseloadGroup {
  readonly organisationId: string;
  readonly name: string;
  readonly type: string;
}

const KIND: Readonly<Record<string, string>> = {
  'gp-practice': 'registered with or cared for by',
  'district-nursing-team': 'on the caseload of',
  'care-agency': 'cared for by',
  'care-home': 'cared for by',
};

/** The Group as the caller may see it: `member` holds only the people given (those within their access). */
export const groupResource = (group: CaseloadGroup, members: readonly string[]): Group => ({
  resourceType: 'Group',
  id: group.organisationId,
  active: true,
  type: 'person',
  // An actual group: these people, not a definition of who would qualify.
  actual: true,
  name: `People ${KIND[group.type] ?? 'cared for by'} ${group.name}`,
  managingEntity: { reference: `Organization/${group.organisationId}`, display: group.name },
  quantity: members.length,
  ...(members.length > 0 ? { member: members.map((id) => ({ entity: { reference: `Patient/${id}` } })) } : {}),
});

export interface GroupSearch {
  readonly id?: string;
}

/** The search parameters a Group search takes (`_id`, `managing-entity`, both naming the organisation); anything else is named. */
export const parseGroupSearch = (query: Record<string, unknown>): GroupSearch | { readonly expression: string; readonly message: string } => {
  let id: string | undefined;
  for (const [name, raw] of Object.entries(query)) {
    const value = typeof raw === 'string' ? raw : undefined;
    if (value === undefined) return { expression: name, message: `${name} must be given once` };
    if (name === '_id' || name === 'managing-entity') {
      const organisation = name === 'managing-entity' && value.startsWith('Organization/') ? value.slice('Organization/'.length) : value;
      if (!/^[A-Za-z0-9\-.]{1,64}$/.test(organisation)) return { expression: name, message: `${name} must be ${name === '_id' ? 'a FHIR id' : 'Organization/<id>'}` };
      if (id !== undefined && id !== organisation) return { expression: name, message: '_id and managing-entity name different organisations' };
      id = organisation;
    } else {
      return { expression: name, message: `${name} is not a search parameter of Group here (it takes _id and managing-entity)` };
    }
  }
  return id === undefined ? {} : { id };
};

/** What /fhir/metadata declares for Group: read, search and Bulk Data's group-level `$export`. */
export const groupCapability = (): CapabilityStatementRestResource => ({
  type: 'Group',
  documentation:
    "Read-only Groups derived from the record: one per organisation (Group/<organisation id>), whose members are the people it is responsible for (someone of it on their care team, or their registered GP of it). Each member shown is within the caller's access; others are left out. Group/<id>/$export exports exactly those members' data.",
  interaction: [{ code: 'read' }, { code: 'search-type' }],
  searchParam: [
    { name: '_id', type: 'token' },
    { name: 'managing-entity', type: 'reference' },
  ],
  operation: [{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export' }],
});
