/**
 * NHS number rules (docs/clinical/reference.md section 7). The check itself lives in the contracts, so the
 * schema and the domain cannot disagree; the stream names are the record's own.
 */
export { isValidNhsNumber, nhsNumberProblem, NHS_NUMBER_SYSTEM } from '@tandem/contracts';

import { createHash } from 'node:crypto';

/** Namespace for patient ids derived from NHS numbers (a fixed, random UUID). */
const PATIENT_ID_NAMESPACE = '4b7f0c3e-2a9d-4c55-9b61-7d2f3e8a1c90';

/** A UUID v5 (RFC 9562) of a name in a namespace: the same name always gives the same id. */
export const uuidV5 = (namespace: string, name: string): string => {
  const hash = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/**
 * A person's id is derived from their NHS number, and their identity stream from the id, so two
 * simultaneous registrations of the same person meet on one stream and the second fails its
 * `no_stream` append (and then finds the first).
 */
export const patientIdFor = (nhsNumber: string): string => uuidV5(PATIENT_ID_NAMESPACE, nhsNumber);

export const patientStreamId = (patientId: string): string => `patient-${patientId}`;

/** Everything observed and done for one person: one consistency boundary. */
export const careStreamId = (patientId: string): string => `care-${patientId}`;

export const practitionerStreamId = (practitionerId: string): string => `practitioner-${practitionerId}`;

export const organisationStreamId = (organisationId: string): string => `organisation-${organisationId}`;
