import type { Actor, DataIssue, ParsedCommand } from '@tandem/contracts';
import { FHIR_ACCESS, type EndpointAccess } from '@tandem/auth';
import { InvalidAppend, WrongExpectedRevision } from '@tandem/event-store';
import type { Request } from 'express';
import { createHash } from 'node:crypto';
import { PatientNotFound } from '../application/care-record';
import { IdempotencyKeyReused, type CommandResult } from '../application/stream-command';
import { DomainRuleBroken, NeedsConfirmation, StaleEntryVersion } from '../domain';
import type { About } from '../http/access';
import { FhirError, type OutcomeIssue } from './operation-outcome';
import { NOBODY_KNOWN } from './routes';

/**
 * Reading an untrusted FHIR body for a write, element by element with its FHIRPath, and turning
 * what the command or the domain refuses into an OperationOutcome naming the element: one home for
 * every FHIR create and update (writes.ts, medicine-writes.ts), so each type is read as strictly.
 */

/** A Tandem extension: the person giving a dose confirms it is not one already recorded. */
export const CONFIRMED_NOT_DUPLICATE_EXTENSION = 'https://tandem.nhs.example/fhir/StructureDefinition/confirmed-not-duplicate';

// ---------------------------------------------------------------------------------------------
// Reading an untrusted JSON body, element by element, with its FHIRPath
// ---------------------------------------------------------------------------------------------

export type Json = Record<string, unknown>;
export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** One element of the body and its FHIRPath (`Observation.component[1].valueQuantity`). */
export class El {
  constructor(
    readonly value: unknown,
    readonly path: string,
  ) {}

  get present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  get(key: string): El {
    if (this.present && !isObject(this.value)) throw structure(this.path, `${this.path} must be a JSON object`);
    return new El(isObject(this.value) ? this.value[key] : undefined, `${this.path}.${key}`);
  }

  list(): El[] {
    if (!this.present) return [];
    if (!Array.isArray(this.value)) throw structure(this.path, `${this.path} must be a JSON array`);
    return this.value.map((v, i) => new El(v, `${this.path}[${i}]`));
  }

  first(): El {
    return this.list()[0] ?? new El(undefined, `${this.path}[0]`);
  }

  string(): string | undefined {
    if (!this.present) return undefined;
    if (typeof this.value !== 'string') throw structure(this.path, `${this.path} must be a string`);
    return this.value;
  }

  /** Values handed to the command schema as they are: the schema says what is wrong with them. */
  raw(): unknown {
    return this.present ? this.value : undefined;
  }
}

export const structure = (expression: string, diagnostics: string) => new FhirError(400, [{ code: 'structure', diagnostics, expression }]);
export const required = (expression: string, diagnostics: string) => new FhirError(400, [{ code: 'required', diagnostics, expression }]);
export const badValue = (expression: string, diagnostics: string) => new FhirError(422, [{ code: 'value', diagnostics, expression }]);
export const notSupported = (expression: string, diagnostics: string) => new FhirError(422, [{ code: 'not-supported', diagnostics, expression }]);

/** Command field (dotted path) -> FHIRPath of the element it came from; the longest prefix wins. */
export class FieldMap {
  private readonly map = new Map<string, string>();
  constructor(private readonly fallback: string) {}

  set(field: string, expression: string): this {
    this.map.set(field, expression);
    return this;
  }

  /** The same fields again under a prefix (a replacement's `replacement.data.`). */
  nest(prefix: string, other: FieldMap): this {
    for (const [field, expression] of other.map) this.map.set(`${prefix}.${field}`, expression);
    return this;
  }

  resolve(field: string): string {
    const parts = field ? field.split('.') : [];
    for (let n = parts.length; n > 0; n--) {
      const found = this.map.get(parts.slice(0, n).join('.'));
      if (found) return found;
    }
    return this.fallback;
  }
}

/** The resource as a whole: an object of the right type, with no element we would silently drop. */
export const resourceOf = (type: string, body: unknown, allowed: ReadonlySet<string>, path: string = type): El => {
  if (!isObject(body)) throw structure(path, 'The body must be a FHIR resource (a JSON object)');
  if (body.resourceType !== type) {
    throw new FhirError(400, [{ code: 'invalid', diagnostics: `resourceType must be ${type} (got ${JSON.stringify(body.resourceType ?? null)})`, expression: `${path}.resourceType` }]);
  }
  if (body.modifierExtension !== undefined) {
    throw notSupported(`${path}.modifierExtension`, 'Modifier extensions change the meaning of a resource and none is understood here: nothing was stored');
  }
  for (const key of Object.keys(body)) {
    if (!allowed.has(key) && !key.startsWith('_')) throw notSupported(`${path}.${key}`, `${type}.${key} is not recorded by this server: nothing was stored`);
  }
  return new El(body, path);
};

/** An object element with only the children this server reads: any other is refused, naming it. */
export const only = (el: El, allowed: ReadonlySet<string>): El => {
  if (!el.present) return el;
  if (typeof el.value !== 'object' || Array.isArray(el.value)) throw structure(el.path, `${el.path} must be a JSON object`);
  for (const key of Object.keys(el.value as Json)) {
    if (!allowed.has(key) && !key.startsWith('_')) throw notSupported(`${el.path}.${key}`, `${el.path}.${key} is not recorded by this server: nothing was stored`);
  }
  return el;
};

/** A reference to a Practitioner, as the projection writes requester and recorder: their id. */
export const practitionerOf = (reference: El): string | undefined => {
  if (!reference.present) return undefined;
  only(reference, new Set(['reference', 'display']));
  const match = /(?:^|\/)Practitioner\/([^/]+)$/.exec(reference.get('reference').string() ?? '');
  if (!match) throw badValue(`${reference.path}.reference`, `${reference.path}.reference must be Practitioner/<id>`);
  return match[1]!;
};

/** Tandem writes who recorded it, from the token: another system may name only the one sending it. */
export const mustBeActor = (reference: El, actor: Actor, role: string): void => {
  const id = practitionerOf(reference);
  if (id !== undefined && id !== actor.id) {
    throw badValue(`${reference.path}.reference`, `The ${role} is whoever sends it (Practitioner/${actor.id}, from the token), not Practitioner/${id}: send it as its ${role}, or leave ${reference.path} out`);
  }
};

export const COMMON_ELEMENTS = ['resourceType', 'id', 'meta', 'text', 'extension', 'implicitRules', 'language'];

export const codingsOf = (concept: El): { system: string | undefined; code: string | undefined }[] =>
  concept.get('coding').list().map((c) => ({ system: c.get('system').string(), code: c.get('code').string() }));


/** The person a resource is about: `subject` (or `patient`, an AllergyIntolerance's), Patient/<id>. */
export const subjectOf = (resource: El, element: 'subject' | 'patient' = 'subject'): string => {
  const subject = resource.get(element);
  if (!subject.present) throw required(subject.path, `${subject.path} must name the person (Patient/<id>)`);
  const reference = subject.get('reference').string();
  const match = reference === undefined ? null : /(?:^|\/)Patient\/([^/]+)$/.exec(reference);
  if (!match) throw structure(`${subject.path}.reference`, `${subject.path}.reference must be Patient/<id>`);
  return match[1]!;
};

export const effectiveOf = (resource: El): string => {
  const effective = resource.get('effectiveDateTime');
  if (!effective.present) throw required(effective.path, `${effective.path} is required: when it happened`);
  return effective.string()!;
};

export const statusOf = (resource: El): string => {
  const status = resource.get('status');
  if (!status.present) throw required(status.path, `${status.path} is required`);
  return status.string()!;
};

/** The note an update adds (not one the server wrote on the entry): the reason for the correction. */
export const newNoteOf = (resource: El, known: ReadonlySet<string>): string | undefined => {
  for (const note of resource.get('note').list()) {
    const text = note.get('text').string();
    if (text !== undefined && text.trim() && !known.has(text)) return text;
  }
  return undefined;
};

// ---------------------------------------------------------------------------------------------
// Commands and errors
// ---------------------------------------------------------------------------------------------

/**
 * The commands whose occurredAt this edge stamps with the server's clock: a retry under the same
 * Idempotency-Key cannot repeat that time, so it is left out of the command's digest.
 */
export const SERVER_TIME = { stamped: ['occurredAt'] } as const;

export const sha256 = (value: unknown): string => createHash('sha256').update(JSON.stringify(value) ?? '').digest('hex');

/** A command the schema refused: 422 naming the FHIR element (400 for a bad Idempotency-Key header). */
export const refused = (issues: readonly DataIssue[], fields: FieldMap): FhirError => {
  if (issues.some((i) => i.path === 'idempotencyKey')) {
    return new FhirError(400, [{ code: 'invalid', diagnostics: 'Idempotency-Key must be 1 to 200 characters', expression: 'Idempotency-Key' }]);
  }
  return new FhirError(
    422,
    issues.map((i): OutcomeIssue => ({ code: 'value', diagnostics: i.message, expression: fields.resolve(i.path) })),
  );
};

export const accepted = <T>(parsed: ParsedCommand<T>, fields: FieldMap): T => {
  if (!parsed.ok) throw refused(parsed.issues, fields);
  return parsed.value;
};

/** Domain and store errors as OperationOutcomes naming the element the field came from. */
export const translated = async <T>(fields: FieldMap, run: () => Promise<T>): Promise<T> => {
  try {
    return await run();
  } catch (error) {
    if (error instanceof PatientNotFound) {
      throw new FhirError(422, [{ code: 'not-found', diagnostics: `${error.message}: the resource refers to a person not in this record`, expression: fields.resolve('patientId') }]);
    }
    if (error instanceof IdempotencyKeyReused) {
      throw new FhirError(422, [{ code: 'conflict', diagnostics: error.message, expression: 'Idempotency-Key' }]);
    }
    if (error instanceof NeedsConfirmation && error.code !== 'insulin.possible-duplicate') {
      // Only a possible duplicate has a FHIR extension to confirm it; other confirmations go through the JSON API.
      throw new FhirError(409, [{ code: 'business-rule', diagnostics: `${error.message} (confirm it through the command API: /openapi.json)`, expression: fields.resolve(error.field) }]);
    }
    if (error instanceof NeedsConfirmation) {
      throw new FhirError(409, [
        {
          code: 'duplicate',
          diagnostics: `${error.message}. To record it, send it again with the extension ${CONFIRMED_NOT_DUPLICATE_EXTENSION} (valueBoolean true)`,
          expression: fields.resolve(error.field),
        },
      ]);
    }
    // Checked by the decider on the stream: the client's If-Match is not the entry's version now.
    if (error instanceof StaleEntryVersion) throw new FhirError(412, [{ code: 'conflict', diagnostics: error.message, expression: 'If-Match' }]);
    if (error instanceof DomainRuleBroken) throw new FhirError(422, [{ code: 'business-rule', diagnostics: error.message, expression: fields.resolve(error.field) }]);
    if (error instanceof WrongExpectedRevision) throw new FhirError(409, [{ code: 'conflict', diagnostics: 'The record changed while this was being recorded; try again' }]);
    if (error instanceof InvalidAppend) throw new FhirError(422, [{ code: 'value', diagnostics: error.message, expression: fields.resolve('') }]);
    throw error;
  }
};

export const firstEventId = (result: CommandResult): string => {
  const id = result.eventIds[0];
  if (!id) throw new Error('The command recorded no entry');
  return id;
};

/**
 * Asks the policy whether this request may write (throwing a 403 FhirError when not) and returns
 * the actor the events will carry: from the verified token, never from the resource.
 */
export type WriteAuthoriser = (req: Request, endpoint: EndpointAccess, about: About) => Promise<Actor>;

export const preconditionRequired = (type: string, id: string) =>
  new FhirError(428, [{ code: 'required', diagnostics: `Send If-Match with the version you read (the ETag of ${type}/${id}, e.g. W/"1"): a clinical entry is only changed knowingly`, expression: 'If-Match' }]);


export const staleVersion = (type: string, id: string, current: number, ifMatch: number) =>
  new FhirError(412, [{ code: 'conflict', diagnostics: `${type}/${id} is at version ${current}, not ${ifMatch}: read it again and reapply the change`, expression: 'If-Match' }]);

/** The client's Idempotency-Key, or one derived from the request: the exact same request is recorded once. */
export const keyOf = (req: Request, request: string, body: unknown, entryKey?: string): string =>
  entryKey ?? req.get('idempotency-key') ?? `fhir:${request}:${sha256(body)}`;

/** Who may change a resource, decided as a read of it is (routes.ts allowedRead), for every FHIR update. */
export const updateAccess = (authorise: WriteAuthoriser) => {
  /** The policy's permission to change a resource about this person (403 otherwise, naming no one). */
  const authoriseUpdate = (type: string, id: string, about: About, req: Request): Promise<Actor> =>
    authorise(req, FHIR_ACCESS.update(type), about).catch((error: unknown) => {
      // Outside a relationship, an entry not recorded is refused like someone else's (routes.ts allowedRead).
      throw error instanceof FhirError && error.reason === 'relationship'
        ? new FhirError(403, [{ code: 'forbidden', diagnostics: `${type}/${id} is not about anyone in your care, or is not recorded` }], error.reason)
        : error;
    });

  /** A resource this server does not hold: refused as about no one known (403 to the relationship-bound), else 404. */
  const unknownEntry = async (type: string, id: string, req: Request): Promise<never> => {
    await authoriseUpdate(type, id, NOBODY_KNOWN, req);
    throw FhirError.notFound(type, id);
  };

  return { authoriseUpdate, unknownEntry };
};
