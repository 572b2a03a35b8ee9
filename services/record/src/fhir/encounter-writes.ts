import { FHIR_ACCESS } from '@tandem/auth';
import {
  CheckInVisitSchema,
  CheckOutVisitSchema,
  parseCommand,
  VISIT_ENCOUNTER_CLASS,
  VISIT_LATE_EXTENSION,
  VISIT_TASK_OUTCOME_EXTENSION,
  VISIT_UNRECORDED_DOSES_REASON_EXTENSION,
  type PlannedVisit,
} from '@tandem/contracts';
import type { Request } from 'express';
import type { VisitBook } from '../application/visits';
import { DomainRuleBroken } from '../domain';
import { FhirError } from './operation-outcome';
import {
  accepted,
  badValue,
  COMMON_ELEMENTS,
  El,
  FieldMap,
  isObject,
  keyOf,
  notSupported,
  only,
  practitionerOf,
  required,
  resourceOf,
  staleVersion,
  statusOf,
  structure,
  subjectOf,
  translated,
  updateAccess,
  type Json,
  type WriteAuthoriser,
} from './reading';

/**
 * FHIR Encounter create and update (issue 13): a provider's visit-monitoring app, signed in as the
 * care worker, sends the visit's Encounter. POST (status in-progress) is her check-in
 * (CheckInVisit); PUT with status finished is her check-out (CheckOutVisit), so the visit's rules
 * hold whichever way it comes: only the care worker assigned checks in, every planned task has an
 * outcome, and a visit is not closed while a scheduled medicine due in it has no outcome unless she
 * says why (H99). Encounter/<visitId> is the visit (as the projection writes it, mapping/visits.ts).
 * Anything the record would not keep is refused naming it. docs/decisions/0031-fhir-updates-and-encounters.md.
 */

/** `serviceType`, `length`, `serviceProvider` and the late-arrival extension are written by the projection: accepted back, never read. */
const ENCOUNTER_ELEMENTS = new Set([...COMMON_ELEMENTS, 'contained', 'status', 'class', 'serviceType', 'subject', 'participant', 'appointment', 'period', 'length', 'serviceProvider', 'location']);
const UNDERSTOOD_EXTENSIONS = [VISIT_LATE_EXTENSION, VISIT_TASK_OUTCOME_EXTENSION, VISIT_UNRECORDED_DOSES_REASON_EXTENSION];
const TASK_PARTS = new Set(['task', 'outcome', 'reason']);
/** FHIRPath of the extension an unrecorded dose's reason goes in, for an answer that asks for it. */
const REASON_PATH = `Encounter.extension('${VISIT_UNRECORDED_DOSES_REASON_EXTENSION}')`;

/** The Encounter's versions as the projection writes them: the check-in is version 1, the check-out version 2. */
const encounterVersion = (visit: PlannedVisit): number => (visit.checkedOut ? 2 : 1);

const sameInstant = (a: string, b: string): boolean => Date.parse(a) === Date.parse(b);

interface ReadEncounter {
  readonly encounter: El;
  readonly status: string;
  readonly patientId: string;
  readonly visitId: string;
  readonly start: string | undefined;
  readonly end: string | undefined;
  readonly location?: Json;
  readonly tasks: readonly Json[];
  readonly unrecordedDosesReason?: unknown;
  readonly fields: FieldMap;
}

/** Where the phone was: a contained Location with its position, referred to by the one Encounter.location. */
const locationOf = (encounter: El, fields: FieldMap): Json | undefined => {
  const locations = encounter.get('location').list();
  const contained = encounter.get('contained').list();
  if (locations.length === 0) {
    if (contained.length > 0) throw notSupported(contained[0]!.path, 'A contained resource here is the phone’s Location, referred to by Encounter.location: nothing was stored');
    return undefined;
  }
  if (locations.length > 1) throw notSupported(locations[1]!.path, 'One location per check-in or check-out (where the phone was): nothing was stored');
  const reference = only(only(locations[0]!, new Set(['location'])).get('location'), new Set(['reference', 'display']));
  const target = reference.get('reference').string();
  const index = contained.findIndex((c) => isObject(c.value) && target === `#${String(c.value.id)}`);
  if (target === undefined || !target.startsWith('#') || index < 0) {
    throw badValue(`${reference.path}.reference`, 'Where the phone was is a contained Location (#<id>) with position.latitude and position.longitude: a Location elsewhere is not read');
  }
  const other = contained.findIndex((_, i) => i !== index);
  if (other >= 0) throw notSupported(contained[other]!.path, 'One contained resource is read here (the phone’s Location): nothing was stored');
  const location = resourceOf('Location', contained[index]!.value, new Set(['resourceType', 'id', 'position']), contained[index]!.path);
  const position = only(location.get('position'), new Set(['latitude', 'longitude']));
  if (!position.present) throw required(position.path, `${position.path} is required: the phone's latitude and longitude`);
  fields.set('location', position.path).set('location.latitude', `${position.path}.latitude`).set('location.longitude', `${position.path}.longitude`);
  return { latitude: position.get('latitude').raw(), longitude: position.get('longitude').raw() };
};

/** Each planned task's outcome: one visit-task-outcome extension per task (task, outcome, reason). */
const tasksOf = (extensions: readonly El[], fields: FieldMap): Json[] =>
  extensions
    .filter((e) => e.get('url').string() === VISIT_TASK_OUTCOME_EXTENSION)
    .map((extension, i) => {
      only(extension, new Set(['url', 'extension']));
      const parts = extension.get('extension').list();
      for (const part of parts) {
        const url = part.get('url').string();
        if (url === undefined || !TASK_PARTS.has(url)) throw notSupported(part.path, `A task's outcome has the parts task, outcome and reason; ${url ?? '(no url)'} is not recorded: nothing was stored`);
      }
      const part = (url: string) => parts.find((p) => p.get('url').string() === url);
      const task = part('task');
      const outcome = part('outcome');
      const reason = part('reason');
      fields
        .set(`tasks.${i}`, extension.path)
        .set(`tasks.${i}.taskId`, task ? `${task.path}.valueString` : extension.path)
        .set(`tasks.${i}.outcome`, outcome ? `${outcome.path}.valueCode` : extension.path)
        .set(`tasks.${i}.reason`, reason ? `${reason.path}.valueString` : extension.path);
      return {
        taskId: task?.get('valueString').raw(),
        outcome: outcome?.get('valueCode').raw(),
        ...(reason ? { reason: reason.get('valueString').raw() } : {}),
      };
    });

const readEncounter = (body: unknown): ReadEncounter => {
  const encounter = resourceOf('Encounter', body, ENCOUNTER_ELEMENTS);
  const fields = new FieldMap('Encounter')
    .set('patientId', 'Encounter.subject')
    .set('visitId', 'Encounter.appointment')
    .set('occurredAt', 'Encounter.period')
    .set('actor', 'Encounter.participant')
    .set('tasks', 'Encounter.extension')
    .set('unrecordedDosesReason', REASON_PATH);
  const status = statusOf(encounter);
  const patientId = subjectOf(encounter);

  const encounterClass = only(encounter.get('class'), new Set(['system', 'code', 'display', 'version', 'userSelected']));
  if (!encounterClass.present) throw required(encounterClass.path, `${encounterClass.path} is required: a visit is home health (${VISIT_ENCOUNTER_CLASS.system} ${VISIT_ENCOUNTER_CLASS.code})`);
  if (encounterClass.get('system').string() !== VISIT_ENCOUNTER_CLASS.system || encounterClass.get('code').string() !== VISIT_ENCOUNTER_CLASS.code) {
    throw badValue(encounterClass.path, `An Encounter here is a home care visit: class ${VISIT_ENCOUNTER_CLASS.system} ${VISIT_ENCOUNTER_CLASS.code} (home health)`);
  }

  const appointments = encounter.get('appointment').list();
  if (appointments.length === 0) throw required('Encounter.appointment', 'Encounter.appointment is required: the planned visit, Appointment/<visitId>');
  if (appointments.length > 1) throw notSupported('Encounter.appointment[1]', 'An Encounter here is one visit (one Appointment): nothing was stored');
  const appointment = only(appointments[0]!, new Set(['reference', 'display']));
  const visit = /(?:^|\/)Appointment\/([^/]+)$/.exec(appointment.get('reference').string() ?? '');
  if (!visit) throw structure(`${appointment.path}.reference`, `${appointment.path}.reference must be Appointment/<visitId>`);
  fields.set('visitId', `${appointment.path}.reference`);

  const participants = encounter.get('participant').list();
  if (participants.length > 1) throw notSupported('Encounter.participant[1]', 'The Encounter’s participant is the care worker checking in and out (one): nothing was stored');
  const participant = participants[0] && only(participants[0], new Set(['individual', 'period']));
  if (participant) fields.set('actor', `${participant.path}.individual`);

  const period = only(encounter.get('period'), new Set(['start', 'end']));
  const extensions = encounter.get('extension').list();
  for (const extension of extensions) {
    const url = extension.get('url').string();
    if (url === undefined || !UNDERSTOOD_EXTENSIONS.includes(url)) throw notSupported(extension.path, `The extension ${url ?? '(without url)'} is not recorded by this server: nothing was stored`);
  }
  const reasons = extensions.filter((e) => e.get('url').string() === VISIT_UNRECORDED_DOSES_REASON_EXTENSION);
  if (reasons.length > 1) throw notSupported(reasons[1]!.path, 'One reason for the doses left without an outcome: nothing was stored');
  if (reasons[0]) fields.set('unrecordedDosesReason', `${only(reasons[0], new Set(['url', 'valueString'])).path}.valueString`);
  const location = locationOf(encounter, fields);
  return {
    encounter,
    status,
    patientId,
    visitId: visit[1]!,
    start: period.get('start').string(),
    end: period.get('end').string(),
    ...(location ? { location } : {}),
    tasks: tasksOf(extensions, fields),
    ...(reasons[0] ? { unrecordedDosesReason: reasons[0].get('valueString').raw() } : {}),
    fields,
  };
};

/**
 * The participant is the care worker, from the token (her own app): on a check-in, whoever sends
 * it; sent back on the check-out, the one who checked in (as the projection writes it) or the sender.
 */
const participantOf = (read: ReadEncounter): string | undefined => practitionerOf(read.encounter.get('participant').first().get('individual'));

const participantMustBe = (read: ReadEncounter, allowed: readonly string[]): void => {
  const id = participantOf(read);
  if (id !== undefined && !allowed.includes(id)) {
    throw badValue('Encounter.participant[0].individual.reference', `The care worker is whoever sends it (Practitioner/${allowed.at(-1)!}, from the token), not Practitioner/${id}: send it with her own sign-in, or leave the participant out`);
  }
};

export const encounterWrites = (visits: VisitBook, authorise: WriteAuthoriser) => {
  const { authoriseUpdate } = updateAccess(authorise);

  /** POST Encounter: the care worker arrives (CheckInVisit); the answer is Encounter/<visitId>. */
  const create = async (body: unknown, req: Request, entryKey?: string) => {
    const read = readEncounter(body);
    const actor = await authorise(req, FHIR_ACCESS.create('Encounter'), { patientId: read.patientId });
    if (read.status !== 'in-progress') throw badValue('Encounter.status', 'A visit’s Encounter begins in progress (status in-progress): it is her check-in; the check-out is a PUT with status finished');
    participantMustBe(read, [actor.id]);
    if (read.start === undefined) throw required('Encounter.period.start', 'When she arrived is required: Encounter.period.start');
    if (read.end !== undefined) throw badValue('Encounter.period.end', 'A check-in has no end: the check-out (PUT, status finished) gives it');
    if (read.tasks.length > 0 || read.unrecordedDosesReason !== undefined) throw notSupported('Encounter.extension', 'Task outcomes and a reason for unrecorded doses belong to the check-out (PUT, status finished): nothing was stored');
    read.fields.set('occurredAt', 'Encounter.period.start');
    const cmd = accepted(
      parseCommand(CheckInVisitSchema, { idempotencyKey: keyOf(req, 'POST:Encounter', body, entryKey), occurredAt: read.start, visitId: read.visitId, patientId: read.patientId, ...(read.location ? { location: read.location } : {}) }),
      read.fields,
    );
    const result = await translated(read.fields, () => visits.checkIn(cmd, actor));
    return { id: read.visitId, position: result.position, created: !result.replayed };
  };

  /**
   * PUT Encounter/<visitId>: status finished with period.end is her check-out (CheckOutVisit). The
   * Encounter sent back as read (in progress, or finished at the same time) changes nothing. If-Match,
   * when sent, is the Encounter's version (1 checked in, 2 checked out).
   */
  const update = async (id: string, body: unknown, ifMatch: number | undefined, req: Request, entryKey?: string) => {
    const read = readEncounter(body);
    if (read.encounter.get('id').raw() !== id) throw new FhirError(400, [{ code: 'invalid', diagnostics: `Encounter.id must be ${id}, as in the URL`, expression: 'Encounter.id' }]);
    if (read.visitId !== id) throw badValue('Encounter.appointment[0].reference', `Encounter/${id} is the visit Appointment/${id}`);
    const actor = await authoriseUpdate('Encounter', id, { patientId: read.patientId }, req);
    const visit = await visits.visit(id);
    // No Encounter until she checks in: a visit not started (or someone else's) has none to update.
    if (!visit.planned || visit.patientId !== read.patientId || !visit.checkedIn) throw FhirError.notFound('Encounter', id);
    if (ifMatch !== undefined && ifMatch !== encounterVersion(visit)) throw staleVersion('Encounter', id, encounterVersion(visit), ifMatch);
    participantMustBe(read, [visit.checkedIn.careWorkerId, actor.id]);
    if (read.start !== undefined && !sameInstant(read.start, visit.checkedIn.at)) {
      throw badValue('Encounter.period.start', `She arrived at ${visit.checkedIn.at} (the check-in): an update does not move the arrival`);
    }
    const noChange = { position: 0 };

    if (read.status === 'in-progress') {
      if (visit.checkedOut) throw new FhirError(422, [{ code: 'business-rule', diagnostics: `Encounter/${id} finished at ${visit.checkedOut.at}: a visit is not reopened`, expression: 'Encounter.status' }]);
      if (read.end !== undefined) throw badValue('Encounter.period.end', 'An Encounter in progress has no end: send status finished to check out');
      if (read.tasks.length > 0 || read.unrecordedDosesReason !== undefined || read.location !== undefined) {
        throw notSupported('Encounter.extension', 'Task outcomes, a reason for unrecorded doses and where she left from belong to the check-out (status finished): nothing was stored');
      }
      return noChange;
    }
    if (read.status !== 'finished') throw badValue('Encounter.status', 'A visit’s Encounter is in-progress (checked in) or finished (checked out): no other status is recorded here');
    if (read.end === undefined) throw required('Encounter.period.end', 'When she left is required: Encounter.period.end');
    if (visit.checkedOut) {
      // Sent back as read: the same departure. Any other would be a second check-out.
      if (sameInstant(read.end, visit.checkedOut.at)) return noChange;
      throw new FhirError(422, [{ code: 'business-rule', diagnostics: `Encounter/${id} finished at ${visit.checkedOut.at}: it is not checked out again. Nothing was stored`, expression: 'Encounter.period.end' }]);
    }
    read.fields.set('occurredAt', 'Encounter.period.end');
    const cmd = accepted(
      parseCommand(CheckOutVisitSchema, {
        idempotencyKey: keyOf(req, `PUT:Encounter/${id}`, body, entryKey),
        occurredAt: read.end,
        visitId: id,
        patientId: read.patientId,
        tasks: read.tasks,
        ...(read.location ? { location: read.location } : {}),
        ...(read.unrecordedDosesReason !== undefined ? { unrecordedDosesReason: read.unrecordedDosesReason } : {}),
      }),
      read.fields,
    );
    const checkOut = () =>
      visits.checkOut(cmd, actor).catch((error: unknown) => {
        // The JSON API's refusal, with where the reason goes in FHIR.
        if (error instanceof DomainRuleBroken && error.code === 'visit.dose-without-outcome') {
          throw new FhirError(422, [{ code: 'business-rule', diagnostics: `${error.message} (in FHIR: the extension ${VISIT_UNRECORDED_DOSES_REASON_EXTENSION}, valueString)`, expression: REASON_PATH }]);
        }
        throw error;
      });
    return { position: (await translated(read.fields, checkOut)).position };
  };

  return { create, update };
};
