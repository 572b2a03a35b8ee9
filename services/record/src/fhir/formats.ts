import type { Request } from 'express';

/**
 * The one format this server answers in: FHIR JSON (the CapabilityStatement's `format`). A client
 * asking only for XML (Accept: application/fhir+xml, or _format=xml) is refused with 406 rather
 * than sent JSON it would fail to read as XML, or worse, read as a success.
 */
export const FHIR_FORMATS = ['application/fhir+json', 'json'] as const;

/** The `_format` values that mean JSON (FHIR R4 http.html#mime-type: the short form, or a JSON MIME type, with parameters). */
const JSON_FORMAT = /^(json|application\/(fhir\+)?json)(\s*;.*)?$/i;

export interface FormatRefusal {
  readonly diagnostics: string;
  readonly expression: string;
}

/** Undefined when the answer may be JSON; otherwise what to tell the client (406). */
export const acceptsFhirJson = (req: Request): FormatRefusal | undefined => {
  const format: unknown = req.query._format;
  const accept = req.get('accept');
  if (format !== undefined) {
    const values = Array.isArray(format) ? format : [format];
    const wrong = values.find((v) => typeof v !== 'string' || !JSON_FORMAT.test(v.trim()));
    if (wrong !== undefined) return { diagnostics: `_format ${JSON.stringify(wrong)} is not served: this server answers in FHIR JSON only (_format=json, or application/fhir+json)`, expression: '_format' };
    // _format overrides the Accept header (FHIR R4 http.html#mime-type).
    return undefined;
  }
  if (accept === undefined || accept.trim() === '') return undefined;
  // Express reads q-values and wildcards: */* or application/* still takes JSON.
  const chosen = req.accepts(['application/fhir+json', 'application/json']);
  return chosen === false ? { diagnostics: `Accept: ${accept} is not served: this server answers in FHIR JSON only (application/fhir+json)`, expression: 'Accept' } : undefined;
};
