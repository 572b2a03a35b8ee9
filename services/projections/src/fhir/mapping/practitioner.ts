import type { OrganisationRegisteredData, PractitionerRegisteredData } from '@tandem/contracts';
import type { Organization, Practitioner, PractitionerRole } from 'fhir/r4';
import { refKey, tokenKeys } from '@tandem/fhir-read-model';
import type { IndexedResource } from '../writer';
import { ODS_ORGANISATION_SYSTEM } from './codes';
import { dataOf, humanName, humanNameText, nameText, organizationRef, practitionerRef, type FhirHandlers } from './common';

const ROLE_TEXT: Record<PractitionerRegisteredData['role'], string> = {
  'care-worker': 'Care worker',
  'district-nurse': 'District nurse',
  gp: 'General practitioner',
  'registered-manager': 'Registered manager',
};

const ORGANISATION_TYPE_TEXT: Record<OrganisationRegisteredData['type'], string> = {
  'gp-practice': 'GP practice',
  'district-nursing-team': 'District nursing team',
  'care-agency': 'Home care agency',
  'care-home': 'Care home',
};

export const practitionerRoleId = (practitionerId: string): string => `${practitionerId}-role`;

const identifierTokens = (identifiers: readonly { system?: string; value?: string }[] | undefined): string[] =>
  (identifiers ?? []).flatMap((i) => (i.value ? tokenKeys('identifier', i.system, i.value) : []));

export const indexPractitioner = (practitioner: Practitioner & { id: string }): IndexedResource => ({
  resource: practitioner,
  tokens: identifierTokens(practitioner.identifier),
  nameText: humanNameText(practitioner.name),
});

export const indexPractitionerRole = (role: PractitionerRole & { id: string }): IndexedResource => ({
  resource: role,
  refs: [
    ...(role.practitioner?.reference ? [refKey('practitioner', role.practitioner.reference)] : []),
    ...(role.organization?.reference ? [refKey('organization', role.organization.reference)] : []),
  ],
});

export const indexOrganization = (organization: Organization & { id: string }): IndexedResource => ({
  resource: organization,
  tokens: identifierTokens(organization.identifier),
  nameText: nameText([organization.name]),
});

export const practitionerHandlers: FhirHandlers = {
  /** A Practitioner (with their professional registration) and their role in their organisation. */
  PractitionerRegistered: async (event) => {
    const d = dataOf<PractitionerRegisteredData>(event);
    const practitioner: Practitioner & { id: string } = {
      resourceType: 'Practitioner',
      id: d.practitionerId,
      ...(d.registration ? { identifier: [{ system: d.registration.system, value: d.registration.value }] } : {}),
      active: true,
      name: [humanName(d.name)],
    };
    const role: PractitionerRole & { id: string } = {
      resourceType: 'PractitionerRole',
      id: practitionerRoleId(d.practitionerId),
      active: true,
      practitioner: practitionerRef(d.practitionerId),
      organization: organizationRef(d.organisationId),
      code: [{ text: ROLE_TEXT[d.role] }],
    };
    return [indexPractitioner(practitioner), indexPractitionerRole(role)];
  },

  OrganisationRegistered: async (event) => {
    const d = dataOf<OrganisationRegisteredData>(event);
    const organization: Organization & { id: string } = {
      resourceType: 'Organization',
      id: d.organisationId,
      ...(d.odsCode ? { identifier: [{ system: ODS_ORGANISATION_SYSTEM, value: d.odsCode }] } : {}),
      active: true,
      type: [{ text: ORGANISATION_TYPE_TEXT[d.type] }],
      name: d.name,
    };
    return [indexOrganization(organization)];
  },
};
