/**
 * NHS number rules (docs/clinical/reference.md section 7). The check itself lives in the contracts, so the
 * schema and the domain cannot disagree; so do the stream names (`streamName`) and `uuidV5`.
 */
export { isValidNhsNumber, nhsNumberProblem, NHS_NUMBER_SYSTEM, uuidV5 } from '@tandem/contracts';

import { streamName } from '@tandem/contracts';
import { createHmac } from 'node:crypto';

/** The shortest deployment id secret accepted: 32 bytes (256 bits), as HMAC-SHA256 wants. */
export const MIN_ID_SECRET_BYTES = 32;

/** Why a deployment id secret will not do, or undefined when it will. */
export const idSecretProblem = (secret: string | Uint8Array): string | undefined =>
  Buffer.byteLength(secret) < MIN_ID_SECRET_BYTES ? `must be at least ${MIN_ID_SECRET_BYTES} bytes (e.g. \`openssl rand -hex 32\`)` : undefined;

/**
 * A person's id is keyed from their NHS number with the deployment's id secret (HMAC-SHA256, shown
 * as a UUID of version 8, RFC 9562's "custom" layout), and their identity stream from the id:
 *
 * - two simultaneous registrations of the same person meet on one stream and the second fails its
 *   `no_stream` append (and then finds the first) (hazard H07);
 * - nobody without the secret can compute the id from an NHS number, or test an id against one:
 *   a bare hash (the UUID v5 this replaced, whose namespace was in the source) is reversed by
 *   trying every valid NHS number in under a second.
 */
export const patientIdFor = (nhsNumber: string, idSecret: string | Uint8Array): string => {
  const problem = idSecretProblem(idSecret);
  if (problem) throw new Error(`The id secret ${problem}`);
  const mac = createHmac('sha256', idSecret).update(`patient\u0000${nhsNumber}`, 'utf8').digest();
  mac[6] = (mac[6]! & 0x0f) | 0x80;
  mac[8] = (mac[8]! & 0x3f) | 0x80;
  const hex = mac.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

export const patientStreamId = streamName.patient;

/** Everything observed and done for one person: one consistency boundary. */
export const careStreamId = streamName.care;

export const practitionerStreamId = streamName.practitioner;

export const organisationStreamId = streamName.organisation;
