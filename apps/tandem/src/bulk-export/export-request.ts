import { PATIENT_COMPARTMENT_TYPES } from '@tandem/auth';

/**
 * FHIR Bulk Data Access 2.0 `$export`: the pure parts. What a kick-off asks for (checked here,
 * before anything runs), the job's progress and its completion manifest. No I/O.
 */

/** System level (everyone; auditors and system clients), Patient level (the requester's people), or one person. */
export type ExportLevel = { readonly kind: 'system' } | { readonly kind: 'patients' } | { readonly kind: 'patient'; readonly patientId: string } | { readonly kind: 'group'; readonly groupId: string };

/**
 * The types an export can carry: the person's compartment as Patient/$everything reads it.
 * Provenance and AuditEvent are left out as they are from $everything (one Provenance per write;
 * the access trail is the auditors' own), and the directory (Practitioner, Organization) is about no one.
 */
export const EXPORTABLE_TYPES: readonly string[] = PATIENT_COMPARTMENT_TYPES;

export const NDJSON = 'application/fhir+ndjson';
const OUTPUT_FORMATS = [NDJSON, 'application/ndjson', 'ndjson'];
const KNOWN_PARAMS = ['_type', '_since', '_outputFormat'];
/** A FHIR instant (seconds and a time zone required): `_since` is an instant in the Bulk Data IG. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export interface ExportRequest {
  readonly types: readonly string[];
  /** ISO instant: only resources last updated at or after it. */
  readonly since?: string;
}

export interface ExportIssue {
  readonly expression: string;
  readonly message: string;
}

type RawQuery = Readonly<Record<string, unknown>>;

const single = (query: RawQuery, name: string): string | undefined | ExportIssue => {
  const raw = query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') return { expression: name, message: `${name} is given once` };
  return raw;
};

const isIssue = (value: unknown): value is ExportIssue => typeof value === 'object' && value !== null && 'expression' in value;

/**
 * The kick-off's headers and parameters: `Accept: application/fhir+json`, `Prefer: respond-async`,
 * `_type` (comma-separated), `_since` (an instant), `_outputFormat` (ndjson only). Anything else
 * the IG defines (`_typeFilter`, `patient`, `includeAssociatedData`, `_elements`) is refused by
 * name rather than ignored, so a client never gets more than it asked for believing it was filtered.
 */
export const parseExportRequest = (headers: { readonly accept?: string; readonly prefer?: string }, query: RawQuery): ExportRequest | ExportIssue[] => {
  const issues: ExportIssue[] = [];
  if (!/(^|[\s,;])respond-async($|[\s,;])/i.test(headers.prefer ?? '')) issues.push({ expression: 'Prefer', message: 'A bulk export is asynchronous: send "Prefer: respond-async"' });
  if (!(headers.accept ?? '').split(',').some((a) => a.trim().split(';')[0]!.toLowerCase() === 'application/fhir+json')) {
    issues.push({ expression: 'Accept', message: 'Send "Accept: application/fhir+json" (errors and the manifest are FHIR JSON)' });
  }
  for (const name of Object.keys(query)) if (!KNOWN_PARAMS.includes(name)) issues.push({ expression: name, message: `${name} is not supported here; supported: ${KNOWN_PARAMS.join(', ')}` });

  const format = single(query, '_outputFormat');
  if (isIssue(format)) issues.push(format);
  else if (format !== undefined && !OUTPUT_FORMATS.includes(format)) issues.push({ expression: '_outputFormat', message: `_outputFormat ${format} is not supported: ${NDJSON} only` });

  const since = single(query, '_since');
  if (isIssue(since)) issues.push(since);
  else if (since !== undefined && (!INSTANT.test(since) || Number.isNaN(Date.parse(since)))) issues.push({ expression: '_since', message: `_since "${since}" is not a FHIR instant (e.g. 2026-01-01T00:00:00Z)` });

  const rawTypes = query._type === undefined ? [] : (Array.isArray(query._type) ? query._type : [query._type]);
  const types: string[] = [];
  for (const raw of rawTypes) {
    if (typeof raw !== 'string') {
      issues.push({ expression: '_type', message: '_type is a comma-separated list of resource types' });
      continue;
    }
    for (const type of raw.split(',').map((t) => t.trim())) {
      if (!EXPORTABLE_TYPES.includes(type)) issues.push({ expression: '_type', message: `_type "${type}" cannot be exported; exportable: ${EXPORTABLE_TYPES.join(', ')}` });
      else if (!types.includes(type)) types.push(type);
    }
  }
  if (issues.length > 0) return issues;
  return { types: types.length > 0 ? types : EXPORTABLE_TYPES, ...(since !== undefined && !isIssue(since) ? { since: new Date(since).toISOString() } : {}) };
};

/** One file of the export: the resources of one type, and how many. */
export interface ExportOutput {
  readonly type: string;
  readonly url: string;
  readonly count: number;
}

/** The completion manifest (Bulk Data Access 2.0): only files that hold something are listed. */
export const manifest = (job: { readonly transactionTime: string; readonly request: string; readonly outputs: readonly ExportOutput[] }) => ({
  transactionTime: job.transactionTime,
  request: job.request,
  requiresAccessToken: true,
  output: job.outputs.filter((o) => o.count > 0).map((o) => ({ type: o.type, url: o.url, count: o.count })),
  error: [] as const,
});

/** `X-Progress` while running (the IG asks for a short text): how many of the people are done. */
export const progressText = (done: number, of: number): string => `${of === 0 ? 100 : Math.floor((done / of) * 100)}% (${done} of ${of} people)`;

/**
 * What /fhir/metadata declares for Bulk Data where this service is mounted (with the record
 * service): `$export` at system level and at Patient level (type and instance), as served. Group
 * level is declared with the Group resource itself (`groupCapability`, ./groups.ts).
 */
export const BULK_DATA_OPERATIONS = {
  system: { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' },
  patient: { name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export' },
} as const;
