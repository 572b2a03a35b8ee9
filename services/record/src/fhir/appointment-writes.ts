import { FHIR_ACCESS } from '@tandem/auth';
import { CancelVisitSchema, parseCommand, PlanVisitSchema, uuidV5, VISIT_TASKS_EXTENSION, type Actor, type DataIssue } from '@tandem/contracts';
import { IdempotencyKeyReused } from '@tandem/commands';
import type { Request } from 'express';
import { createHash } from 'node:crypto';
import type { VisitBook } from '../application/visits';
import { DomainRuleBroken } from '../domain';
import type { About } from '../http/access';
import { FhirError } from './operation-outcome';

/**
 * FHIR Appointment create and update (a rostering system's planned visit, issue 13): through the
 * same commands as the JSON API (PlanVisit; an update with status cancelled is CancelVisit), so a
 * rule holds whichever way a visit comes. What the Appointment says:
 * - the person: the one participant that is a Patient; the care workers: each Practitioner participant;
 * - the provider: supportingInformation's Organization (an Appointment participant cannot be one);
 * - the planned period: start and end; the tasks: the visit-tasks extension's `task` strings.
 * Anything else the server would silently drop is refused naming it.
 */

const ELEMENTS = new Set([
  'resourceType', 'id', 'meta', 'text', 'extension', 'language', 'identifier', 'status', 'serviceCategory', 'serviceType', 'description',
  'start', 'end', 'minutesDuration', 'created', 'supportingInformation', 'participant', 'cancelationReason', 'comment',
]);
/** The namespace of the visit ids a FHIR create allocates (from its idempotency key: a retry gets the same id). */
const APPOINTMENT_ID_NAMESPACE = '6b3c9d2e-41f7-4a8b-9c0d-7e5f1a2b3c4d';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const invalid = (status: number, code: string, expression: string, diagnostics: string) => new FhirError(status, [{ code, diagnostics, expression }]);
const list = (value: unknown, path: string): unknown[] => {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(400, 'structure', path, `${path} must be a JSON array`);
  return value;
};
const referenceOf = (value: unknown): string | undefined => (isObject(value) && typeof value.reference === 'string' ? value.reference : undefined);

interface ReadAppointment {
  readonly status: unknown;
  readonly command: Record<string, unknown>;
  readonly cancelReason?: unknown;
  readonly fields: Readonly<Record<string, string>>;
}

const readAppointment = (body: unknown): ReadAppointment => {
  if (!isObject(body)) throw invalid(400, 'structure', 'Appointment', 'The body must be a FHIR resource (a JSON object)');
  if (body.resourceType !== 'Appointment') throw invalid(400, 'invalid', 'Appointment.resourceType', `resourceType must be Appointment (got ${JSON.stringify(body.resourceType ?? null)})`);
  if (body.modifierExtension !== undefined) throw invalid(422, 'not-supported', 'Appointment.modifierExtension', 'Modifier extensions change the meaning of a resource and none is understood here: nothing was stored');
  for (const key of Object.keys(body)) if (!ELEMENTS.has(key) && !key.startsWith('_')) throw invalid(422, 'not-supported', `Appointment.${key}`, `Appointment.${key} is not recorded by this server: nothing was stored`);
  const participants = list(body.participant, 'Appointment.participant').map((p, i) => ({ reference: referenceOf(isObject(p) ? p.actor : undefined), path: `Appointment.participant[${i}].actor` }));
  const patients = participants.filter((p) => p.reference?.startsWith('Patient/'));
  if (patients.length !== 1) throw invalid(400, 'required', 'Appointment.participant', 'An Appointment here is a visit to one person: exactly one participant must be a Patient');
  const careWorkerIds = participants.filter((p) => p.reference?.startsWith('Practitioner/')).map((p) => p.reference!.slice('Practitioner/'.length));
  const provider = list(body.supportingInformation, 'Appointment.supportingInformation').map(referenceOf).find((r) => r?.startsWith('Organization/'));
  if (!provider) throw invalid(400, 'required', 'Appointment.supportingInformation', 'The care provider is required: a supportingInformation reference to its Organization');
  const tasksExtension = list(body.extension, 'Appointment.extension').find((e) => isObject(e) && e.url === VISIT_TASKS_EXTENSION);
  const tasks = (isObject(tasksExtension) ? list(tasksExtension.extension, 'Appointment.extension.extension') : [])
    .filter((e) => isObject(e) && e.url === 'task')
    .map((e, i) => ({ taskId: `task-${i + 1}`, description: (e as Json).valueString }));
  return {
    status: body.status,
    cancelReason: isObject(body.cancelationReason) ? body.cancelationReason.text : undefined,
    command: {
      patientId: patients[0]!.reference!.slice('Patient/'.length),
      providerOrganisationId: provider.slice('Organization/'.length),
      plannedStart: body.start,
      plannedEnd: body.end,
      careWorkerIds,
      tasks,
    },
    fields: {
      patientId: patients[0]!.path,
      providerOrganisationId: 'Appointment.supportingInformation',
      plannedStart: 'Appointment.start',
      plannedEnd: 'Appointment.end',
      careWorkerIds: 'Appointment.participant',
      tasks: 'Appointment.extension',
      reason: 'Appointment.cancelationReason',
      visitId: 'Appointment.id',
    },
  };
};

const expressionOf = (fields: Readonly<Record<string, string>>, field: string): string => fields[field.split('.')[0]!] ?? 'Appointment';

const refused = (issues: readonly DataIssue[], fields: Readonly<Record<string, string>>): FhirError => {
  if (issues.some((i) => i.path === 'idempotencyKey')) return invalid(400, 'invalid', 'Idempotency-Key', 'Idempotency-Key must be 1 to 200 characters');
  return new FhirError(422, issues.map((i) => ({ code: 'value', diagnostics: `${i.path}: ${i.message}`, expression: expressionOf(fields, i.path) })));
};

const translated = async <T>(fields: Readonly<Record<string, string>>, run: () => Promise<T>): Promise<T> => {
  try {
    return await run();
  } catch (error) {
    if (error instanceof IdempotencyKeyReused) throw invalid(422, 'conflict', 'Idempotency-Key', error.message);
    if (error instanceof DomainRuleBroken) throw invalid(422, 'business-rule', expressionOf(fields, error.field), error.message);
    throw error;
  }
};

const sha256 = (value: unknown): string => createHash('sha256').update(JSON.stringify(value) ?? '').digest('hex');

export const appointmentWrites = (visits: VisitBook, authorise: (req: Request, endpoint: ReturnType<typeof FHIR_ACCESS.create>, about: About) => Promise<Actor>, now: () => Date) => {
  const keyOf = (req: Request, request: string, body: unknown, entryKey?: string): string => entryKey ?? req.get('idempotency-key') ?? `fhir:${request}:${sha256(body)}`;

  const create = async (body: unknown, req: Request, entryKey?: string) => {
    const read = readAppointment(body);
    const actor = await authorise(req, FHIR_ACCESS.create('Appointment'), { patientId: String(read.command.patientId) });
    if (read.status !== 'booked') throw invalid(422, 'value', 'Appointment.status', 'A new visit is booked (status booked)');
    const idempotencyKey = keyOf(req, 'POST:Appointment', body, entryKey);
    const visitId = uuidV5(APPOINTMENT_ID_NAMESPACE, `${actor.id}\u0000${idempotencyKey}`);
    const parsed = parseCommand(PlanVisitSchema, { idempotencyKey, occurredAt: now().toISOString(), visitId, ...read.command });
    if (!parsed.ok) throw refused(parsed.issues, read.fields);
    const result = await translated(read.fields, () => visits.plan(parsed.value, actor));
    return { id: visitId, position: result.position, created: !result.replayed };
  };

  const update = async (id: string, body: unknown, ifMatch: number | undefined, req: Request, entryKey?: string) => {
    const read = readAppointment(body);
    if (isObject(body) && body.id !== id) throw invalid(400, 'invalid', 'Appointment.id', `Appointment.id must be ${id}, as in the URL`);
    const actor = await authorise(req, FHIR_ACCESS.update('Appointment'), { patientId: String(read.command.patientId) });
    const current = await visits.visit(id);
    if (!current.planned || current.patientId !== read.command.patientId) throw FhirError.notFound('Appointment', id);
    if (ifMatch !== undefined && ifMatch !== current.version) throw invalid(412, 'conflict', 'If-Match', `Appointment/${id} is at version ${current.version}, not ${ifMatch}: read it again and reapply the change`);
    const idempotencyKey = keyOf(req, `PUT:Appointment/${id}@${ifMatch ?? '*'}`, body, entryKey);
    const base = { idempotencyKey, occurredAt: now().toISOString(), visitId: id, patientId: read.command.patientId };
    if (read.status === 'cancelled') {
      const parsed = parseCommand(CancelVisitSchema, { ...base, reason: read.cancelReason });
      if (!parsed.ok) throw refused(parsed.issues, read.fields);
      return { position: (await translated(read.fields, () => visits.cancel(parsed.value, actor))).position };
    }
    if (read.status !== 'booked') throw invalid(422, 'value', 'Appointment.status', 'A visit is changed here while booked, or cancelled (status cancelled, with cancelationReason.text); arrival and departure are the care worker’s check-in and check-out');
    const parsed = parseCommand(PlanVisitSchema, { ...base, ...read.command });
    if (!parsed.ok) throw refused(parsed.issues, read.fields);
    return { position: (await translated(read.fields, () => visits.plan(parsed.value, actor))).position };
  };

  return { create, update };
};
