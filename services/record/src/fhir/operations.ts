import { FHIR_ACCESS, type EndpointAccess } from '@tandem/auth';
import { OBSERVATION_VOCABULARY, type ObservationKind } from '@tandem/contracts';
import type { FhirReader, SearchQuery, StoredResource } from '@tandem/fhir-read-model';
import { validationIssues } from '@tandem/fhir-validation';
import type { Bundle, FhirResource as Resource, Meta, Parameters } from 'fhir/r4';
import type { Request, Response } from 'express';
import type { About } from '../http/access';
import { entryFor } from './bundle';
import { FhirError, operationOutcome } from './operation-outcome';

/**
 * The FHIR operations besides $everything: `$validate` (the validator the tests use), `$lastn` on
 * Observation (the latest of each measurement: what a GP's summary screen shows) and `$meta`.
 * Each is decided by the policy as the read or search it amounts to.
 */

/** The measurements $lastn reports by default: each kind Tandem records with a code of its own. */
const LASTN_KINDS: readonly ObservationKind[] = ['news2', 'resp', 'spo2', 'air', 'oxygen', 'bp', 'pulse', 'acvpu', 'temp', 'glucose'];
const MAX_LASTN = 50;

export interface OperationDeps {
  readonly reader: FhirReader;
  /** Throws 403 unless the policy allows the endpoint for the person (or no one). */
  readonly allow: (req: Request, res: Response, endpoint: EndpointAccess, about: About) => Promise<unknown>;
  /** Reads a resource the policy must allow (refusals as a direct read gives them). */
  readonly allowedRead: (req: Request, res: Response, type: string, id: string, read: () => Promise<StoredResource | undefined>) => Promise<StoredResource | undefined>;
  readonly send: (res: Response, status: number, body: Resource) => void;
}

const single = (req: Request, name: string): string | undefined => {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new FhirError(400, [{ code: 'invalid', diagnostics: `${name} may be given once`, expression: name }]);
  return value;
};

/** The resource a $validate names: the body itself, or a Parameters' `resource` parameter. */
const resourceToValidate = (body: unknown, type: string): Resource => {
  const sent = body as { resourceType?: unknown; parameter?: { name?: string; resource?: Resource }[] } | undefined;
  if (!sent || typeof sent !== 'object' || typeof sent.resourceType !== 'string') {
    throw new FhirError(400, [{ code: 'structure', diagnostics: 'Send the resource to validate (or a Parameters with a `resource` parameter) as application/fhir+json', expression: 'resourceType' }]);
  }
  const resource = sent.resourceType === 'Parameters' && type !== 'Parameters' ? sent.parameter?.find((p) => p.name === 'resource')?.resource : (sent as Resource);
  if (!resource) throw new FhirError(400, [{ code: 'required', diagnostics: 'The Parameters hold no `resource` parameter to validate', expression: 'Parameters.parameter' }]);
  if (resource.resourceType !== type) {
    throw new FhirError(400, [{ code: 'invalid', diagnostics: `POST /fhir/${type}/$validate validates a ${type}, not a ${resource.resourceType}`, expression: 'resourceType' }]);
  }
  return resource;
};

export const validateOperation = (deps: OperationDeps) => async (req: Request, res: Response) => {
  const type = req.params.type as string;
  // Validating reads nothing of anyone: any signed-in user who may read the type may ask.
  await deps.allow(req, res, FHIR_ACCESS.read(type), 'nobody');
  const issues = validationIssues(resourceToValidate(req.body, type)).map((issue) => ({ severity: 'error' as const, code: 'invalid' as const, diagnostics: issue.text, expression: issue.expression }));
  deps.send(res, 200, operationOutcome(issues.length > 0 ? issues : [{ severity: 'information', code: 'informational', diagnostics: `The ${type} is valid FHIR R4` }]));
};

export const metaOperation = (deps: OperationDeps) => async (req: Request, res: Response) => {
  const type = req.params.type as string;
  const id = req.params.id as string;
  const stored = await deps.allowedRead(req, res, type, id, () => deps.reader.read(type, id));
  if (!stored) throw FhirError.notFound(type, id);
  const meta: Meta = stored.resource.meta ?? { versionId: String(stored.versionId), lastUpdated: stored.lastUpdated };
  const parameters: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'return', valueMeta: meta }] };
  deps.send(res, 200, parameters);
};

/**
 * `Observation/$lastn?patient=<id>`: the latest `max` (default 1) of each measurement, newest
 * first within each; `code` narrows it to those codes, `category` to a category. One person only,
 * decided as a search naming them.
 */
export const lastnOperation = (deps: OperationDeps) => async (req: Request, res: Response) => {
  const patientRef = single(req, 'patient') ?? single(req, 'subject');
  if (!patientRef) throw new FhirError(400, [{ code: 'required', diagnostics: '$lastn needs the person: patient=<id>', expression: 'patient' }]);
  const patientId = patientRef.startsWith('Patient/') ? patientRef.slice('Patient/'.length) : patientRef;
  const maxText = single(req, 'max') ?? '1';
  const max = Number(maxText);
  if (!Number.isInteger(max) || max < 1 || max > MAX_LASTN) throw new FhirError(400, [{ code: 'value', diagnostics: `max must be a whole number from 1 to ${MAX_LASTN}`, expression: 'max' }]);
  const known = new Set(['patient', 'subject', 'max', 'code', 'category', '_format']);
  const unknown = Object.keys(req.query).find((name) => !known.has(name));
  if (unknown) throw new FhirError(400, [{ code: 'not-supported', diagnostics: `$lastn takes patient, max, code and category; not ${unknown}`, expression: unknown }]);
  await deps.allow(req, res, FHIR_ACCESS.search('Observation'), { patientId });

  const sentCodes = single(req, 'code');
  const codes = sentCodes
    ? sentCodes.split(',').filter((c) => c !== '')
    : LASTN_KINDS.flatMap((kind) => {
        const [primary] = OBSERVATION_VOCABULARY[kind].codings;
        return primary ? [`${primary.system}|${primary.code}`] : [];
      });
  const category = single(req, 'category');
  const found = await Promise.all(
    codes.map(async (code) => {
      const search: SearchQuery = { patient: patientId, code, _sort: '-date', _count: String(max), ...(category ? { category } : {}) };
      return (await deps.reader.search('Observation', search)).matches;
    }),
  );
  const base = `${req.protocol}://${req.get('host')}/fhir`;
  // The same Observation can answer two codes (a LOINC and its SNOMED twin): listed once.
  const seen = new Set<string>();
  const latest = found.flat().filter((r) => !seen.has(r.id ?? '') && seen.add(r.id ?? ''));
  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', total: latest.length, entry: latest.map((r) => entryFor(base, r, 'match')) };
  deps.send(res, 200, bundle);
};
