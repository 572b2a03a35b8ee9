import { z } from 'zod';

/** Professional registers a Tandem user may carry (docs/clinical/reference.md section 7). */
export const RegistrationSchema = z.object({
  system: z.enum([
    'https://fhir.hl7.org.uk/Id/nmc-number',
    'https://fhir.hl7.org.uk/Id/gmc-number',
    'https://fhir.hl7.org.uk/Id/hcpc-number',
  ]),
  value: z.string().min(1).max(32),
});
export type Registration = z.infer<typeof RegistrationSchema>;

export const RoleSchema = z.enum([
  'care-worker',
  'district-nurse',
  'gp',
  'registered-manager',
  'auditor',
  'system',
]);
export type Role = z.infer<typeof RoleSchema>;

export const ActorSchema = z.object({
  id: z.string().min(1).max(128),
  role: RoleSchema,
  registration: RegistrationSchema.optional(),
  organisation: z.string().min(1).max(128).optional(),
});
export type Actor = z.infer<typeof ActorSchema>;

/**
 * What every event carries besides its data. `occurredAt` is when it happened at the bedside;
 * `recordedAt` is added by the store when it is appended, so late entries are visible as such.
 */
export const EventMetadataSchema = z.object({
  actor: ActorSchema,
  onBehalfOf: ActorSchema.optional(),
  correlationId: z.uuid(),
  causationId: z.uuid().optional(),
  occurredAt: z.iso.datetime({ offset: true }),
  idempotencyKey: z.string().min(1).max(200).optional(),
  /**
   * The command these events answer (e.g. "RecordVitalSigns") and a digest of what it said. An
   * idempotency key is scoped to the actor and the command; the digest tells a retry (same digest:
   * the same answer again) from a different command sent under the same key (refused).
   */
  command: z.string().min(1).max(100).optional(),
  commandDigest: z.string().regex(/^[0-9a-f]{64}$/).optional(),
});
export type EventMetadata = z.infer<typeof EventMetadataSchema>;

export const RecordedMetadataSchema = EventMetadataSchema.extend({
  recordedAt: z.iso.datetime({ offset: true }),
});
export type RecordedMetadata = z.infer<typeof RecordedMetadataSchema>;
