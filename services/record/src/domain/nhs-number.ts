/**
 * NHS number rules (REFERENCE.md section 7). The check itself lives in the contracts, so the
 * schema and the domain cannot disagree; the stream names are the record's own.
 */
export { isValidNhsNumber, nhsNumberProblem, NHS_NUMBER_SYSTEM } from '@tandem/contracts';

/**
 * A person's identity stream is named after their NHS number, so two simultaneous registrations
 * of the same person meet on one stream and the second fails its `no_stream` append.
 */
export const patientStreamId = (nhsNumber: string): string => `patient-${nhsNumber}`;

/** Everything observed and done for one person: one consistency boundary. */
export const careStreamId = (patientId: string): string => `care-${patientId}`;

export const practitionerStreamId = (practitionerId: string): string => `practitioner-${practitionerId}`;

export const organisationStreamId = (organisationId: string): string => `organisation-${organisationId}`;
