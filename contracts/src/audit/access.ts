import { z } from 'zod';
import { defineEvent } from '../events';
import { DateTimeSchema } from '../care/common';
import { ActorSchema } from '../metadata';
import { streamName, streamOfKind } from '../streams/names';

// ---------------------------------------------------------------------------------------------
// The access trail (streams audit-<yyyy-mm-dd>): one event per request to a protected route,
// allowed or not, so an auditor can answer "who saw this person's record, when, why, from where"
// from the same tamper-evident log as the care itself. The FHIR read model serves them as AuditEvent.
// ---------------------------------------------------------------------------------------------

/** The audit streams are one per UTC day: short enough to verify and replay, found by date. */
export const auditStreamFor = (at: Date): string => streamName.auditDay(at);

export const isAuditStream = (stream: string): boolean => streamOfKind(stream, 'audit') !== undefined;

/** How a request ended, as an auditor asks about it. */
export const AccessOutcomeSchema = z.enum([
  'success',
  /** 403: the policy refused (role, scope, relationship). */
  'denied',
  /** 401: no token, or one that could not be verified. */
  'unauthenticated',
  /** 429: too many requests. */
  'throttled',
  /** Another 4xx: the request was wrong (bad input, nothing there). */
  'refused',
  /** 5xx: Tandem failed. */
  'failed',
]);
export type AccessOutcome = z.infer<typeof AccessOutcomeSchema>;

/** The RESTful interaction, as FHIR's restful-interaction codes name them (`command` for the JSON API's). */
export const AccessInteractionSchema = z.enum(['read', 'vread', 'history-instance', 'history-type', 'search-type', 'operation', 'create', 'update', 'command']);
export type AccessInteraction = z.infer<typeof AccessInteractionSchema>;

/**
 * Why the user had the record open (HL7 v3 PurposeOfUse): TREAT care, ETREAT a break-glass read,
 * HOPERAT running a service, HCOMPL inspection and audit, HSYSADMIN an integration or administration.
 */
export const PurposeOfUseSchema = z.enum(['TREAT', 'ETREAT', 'HOPERAT', 'HCOMPL', 'HSYSADMIN']);
export type PurposeOfUse = z.infer<typeof PurposeOfUseSchema>;

/** A logical id as requests name people and resources; anything else in a path is not recorded as an id. */
const LogicalIdSchema = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/);

export const AccessRecorded = defineEvent(
  'AccessRecorded',
  z.object({
    accessId: z.uuid(),
    /** When the request arrived. */
    at: DateTimeSchema,
    /** Who asked: absent when no token could be verified (the attempt is still recorded). */
    agent: ActorSchema.optional(),
    method: z.string().min(1).max(10),
    /** The path as requested (ids included), without the query string. */
    path: z.string().min(1).max(2000),
    /** The query string as sent: a search's terms are part of what was asked. */
    query: z.string().max(4000).optional(),
    interaction: AccessInteractionSchema,
    /** The FHIR type and id the request named, when it named one (`Observation/abc`). */
    resourceType: z.string().regex(/^[A-Z][A-Za-z]{1,63}$/).optional(),
    resourceId: LogicalIdSchema.optional(),
    /** The people the request concerned: those the policy decided on and those whose data the answer carried. */
    patientIds: z.array(LogicalIdSchema).max(1000),
    /** Tandem's policy actions decided for the request (e.g. fhir.read, care.record). */
    actions: z.array(z.string().min(1).max(64)).max(20),
    status: z.number().int().min(100).max(599),
    /** The client left before the answer was sent (the handler went on; `status` is what it answered). */
    abandoned: z.boolean().optional(),
    outcome: AccessOutcomeSchema,
    /** Why it was refused, as the user was told (no clinical data). */
    reason: z.string().max(1000).optional(),
    /** A break-glass read: the reason the clinician gave. */
    breakGlassReason: z.string().max(500).optional(),
    purposeOfUse: PurposeOfUseSchema.optional(),
    source: z.object({
      address: z.string().max(64),
      userAgent: z.string().max(300).optional(),
    }),
  }),
);
export type AccessRecordedData = z.infer<typeof AccessRecorded.schema>;

export const auditEventDefinitions = [AccessRecorded] as const;
