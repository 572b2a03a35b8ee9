import {
  AddCareTeamMemberSchema,
  CancelVisitSchema,
  CheckInVisitSchema,
  CheckOutVisitSchema,
  ImportVisitsSchema,
  PlanVisitSchema,
  RescheduleVisitSchema,
  careRecordCommandSchemas,
  medicinesCommandSchemas,
  type MedicinesCommandName,
  parseCommand,
  RegisterOrganisationSchema,
  RegisterPatientSchema,
  RegisterPractitionerSchema,
  RecordStaffAbsenceSchema,
  AgreeGoalSchema,
  CloseGoalSchema,
  RecordGoalProgressSchema,
  SetContractedHoursSchema,
  RemoveCareTeamMemberSchema,
  SetPatientBaselineSchema,
  UpdatePatientDetailsSchema,
  type Actor,
  type CareRecordCommandName,
} from '@tandem/contracts';
import { COMMAND_ACCESS, refusalTitle, type CommandOperationId } from '@tandem/auth';
import { InvalidAppend, WrongExpectedRevision } from '@tandem/event-store';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { CareRecord, PatientNotFound } from '../application/care-record';
import { IdempotencyKeyReused, storableJson, type CommandResult } from '@tandem/commands';
import { DomainRuleBroken, NeedsConfirmation, StopAndConfirm } from '../domain';
import { authenticate, principalOf } from '@tandem/http-auth';
import type { About, RecordAccess } from './access';
import { sendProblem } from './problem';

/** One JSON command route: the table drives the router and the OpenAPI document alike. */
export interface CommandRoute {
  /** Also the route's entry in the access policy (@tandem/auth COMMAND_ACCESS). */
  readonly operationId: CommandOperationId;
  readonly path: string;
  readonly summary: string;
  readonly schema: z.ZodType;
  /** Path parameters copied into the command (so the body need not repeat them). */
  readonly pathParams: readonly string[];
  readonly run: (care: CareRecord, command: never, actor: Actor, refused: ReadonlySet<string>) => Promise<(CommandResult & { created?: boolean }) | { position: number; visits: readonly unknown[] }>;
  /**
   * A command about several people (a rostering import): each is decided on its own, reported like
   * any decision, and those refused are passed to `run` (their part is refused, the rest recorded).
   */
  readonly people?: (command: never) => readonly string[];
}

const paramsOf = (path: string): string[] => [...path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);

const careRoute = (name: CareRecordCommandName & CommandOperationId, path: string, summary: string): CommandRoute => ({
  operationId: name,
  path: `/api/patients/:patientId/${path}`,
  summary,
  schema: careRecordCommandSchemas[name],
  pathParams: paramsOf(`/api/patients/:patientId/${path}`),
  // The bedside answer: with the prompts and escalations the entry started, as soon as they are known.
  run: (care, command, actor) => care.recordCare(name, command, actor, { followUps: true }),
});

const medicinesRoute = (name: MedicinesCommandName & CommandOperationId, path: string, summary: string): CommandRoute => ({
  operationId: name,
  path: `/api/patients/:patientId/${path}`,
  summary,
  schema: medicinesCommandSchemas[name],
  pathParams: paramsOf(`/api/patients/:patientId/${path}`),
  run: (care, command, actor) => care.recordMedicines(name, command, actor),
});

export const COMMAND_ROUTES: readonly CommandRoute[] = [
  {
    operationId: 'RegisterPatient',
    path: '/api/patients',
    summary: 'Register a person by NHS number (already registered: their id for those who may read them, otherwise 403 and nothing of them)',
    schema: RegisterPatientSchema,
    pathParams: [],
    run: (care, command, actor) => care.registerPatient(command, actor),
  },
  { operationId: 'UpdatePatientDetails', path: '/api/patients/:patientId/details', summary: "Change a person's details", schema: UpdatePatientDetailsSchema, pathParams: ['patientId'], run: (c, cmd, a) => c.updatePatientDetails(cmd, a) },
  { operationId: 'SetPatientBaseline', path: '/api/patients/:patientId/baseline', summary: "Agree the person's usual self and SpO2 scale", schema: SetPatientBaselineSchema, pathParams: ['patientId'], run: (c, cmd, a) => c.setPatientBaseline(cmd, a) },
  { operationId: 'AddCareTeamMember', path: '/api/patients/:patientId/care-team', summary: "Add a practitioner to the person's care team", schema: AddCareTeamMemberSchema, pathParams: ['patientId'], run: (c, cmd, a) => c.addCareTeamMember(cmd, a) },
  { operationId: 'RemoveCareTeamMember', path: '/api/patients/:patientId/care-team/removals', summary: "Remove a practitioner from the person's care team", schema: RemoveCareTeamMemberSchema, pathParams: ['patientId'], run: (c, cmd, a) => c.removeCareTeamMember(cmd, a) },
  { operationId: 'RegisterPractitioner', path: '/api/practitioners', summary: 'Register a nurse, GP, care worker or manager', schema: RegisterPractitionerSchema, pathParams: [], run: (c, cmd, a) => c.registerPractitioner(cmd, a) },
  // A care worker's contracted hours and absences (capacity, issue 15): by the registered manager of her organisation.
  { operationId: 'SetContractedHours', path: '/api/practitioners/:practitionerId/contracted-hours', summary: "Set a care worker's contracted hours a week (her organisation's registered manager); the same hours again records nothing", schema: SetContractedHoursSchema, pathParams: ['practitionerId'], run: (c, cmd, a) => c.setContractedHours(cmd, a) },
  { operationId: 'RecordStaffAbsence', path: '/api/practitioners/:practitionerId/absences', summary: 'Record a staff absence (sickness, annual leave, training) from and to an instant; her capacity leaves it out', schema: RecordStaffAbsenceSchema, pathParams: ['practitionerId'], run: (c, cmd, a) => c.recordStaffAbsence(cmd, a) },
  { operationId: 'RegisterOrganisation', path: '/api/organisations', summary: 'Register a GP practice, nursing team, care agency or care home', schema: RegisterOrganisationSchema, pathParams: [], run: (c, cmd, a) => c.registerOrganisation(cmd, a) },
  careRoute('RecordVitalSigns', 'vital-signs', 'Record a set of vital signs; the answer holds the NEWS2 (total or incomplete, band, sub-scores), what to do now, and the prompts and escalations it started'),
  careRoute('RecordBloodGlucose', 'blood-glucose', 'Record capillary blood glucose (mmol/L) and ketones where measured; the answer says what to do now (a hypo below 4.0 mmol/L: treat and recheck)'),
  careRoute('RecordInsulinAdministered', 'insulin-administrations', 'Record insulin given by pen (dose in units); the product is one the record knows (by name or code), or is confirmed with confirmedUnknownProduct and flagged'),
  careRoute('RecordInsulinWithheld', 'insulin-withheld', 'Record insulin withheld, with the reason'),
  medicinesRoute('PrescribeMedication', 'medication-orders', 'Prescribe a medicine (nurse or GP): dm+d product, dose and unit, route, scheduled times or PRN limits, start and stop; the answer holds its id (MedicationRequest/<id>)'),
  medicinesRoute('ChangeMedicationOrder', 'medication-orders/:orderId/changes', 'Change a medication order (the whole order again, with the reason): a new version, the earlier one kept'),
  medicinesRoute('StopMedicationOrder', 'medication-orders/:orderId/stop', 'Stop a medication order, with the reason'),
  medicinesRoute('RecordAllergy', 'allergies', 'Record an allergy or intolerance (nurse or GP): a dose of a product it matches then stops the care worker'),
  medicinesRoute('RecordCondition', 'conditions', 'Record a condition (nurse or GP), SNOMED CT coded'),
  medicinesRoute('ChangeAllergy', 'allergies/:allergyId/changes', 'Change an allergy (the whole allergy again, with the reason): its reaction, criticality, clinical status (active, inactive, resolved) or verification (confirmed, unconfirmed, refuted). Refuted, inactive or resolved, it no longer stops a dose; unconfirmed, it still does'),
  medicinesRoute('MarkAllergyEnteredInError', 'allergies/:allergyId/entered-in-error', 'Withdraw an allergy entered in error (reason required): it no longer stops a dose; the earlier version stays readable'),
  medicinesRoute('ChangeCondition', 'conditions/:conditionId/changes', 'Change a condition (the whole condition again, with the reason): its clinical status, the day it ended (abatement), its note'),
  medicinesRoute('MarkConditionEnteredInError', 'conditions/:conditionId/entered-in-error', 'Withdraw a condition entered in error (reason required)'),
  careRoute('RecordMedicineDose', 'medicine-doses', "Record a dose's outcome (given, self-administered, already-taken, refused, not-given, missed); outside the schedule, inside a PRN's minimum interval, over its 24-hour maximum or despite an allergy asks for confirmation first"),
  careRoute('RecordPrnEffect', 'medicine-doses/:doseEntryId/effects', 'Record the effect of a PRN dose, later'),
  careRoute('RecordSoftSigns', 'soft-signs', 'Record RESTORE2 soft signs against the person’s usual self'),
  careRoute('ScreenUrinarySymptoms', 'urinary-symptoms', 'Record the UKHSA over-65 urinary symptom screen'),
  careRoute('RecordFluidIntake', 'fluid-intake', 'Record a drink'),
  careRoute('CheckCellulitis', 'cellulitis-checks', 'Record the daily check of a marked cellulitis'),
  careRoute('WriteNote', 'notes', 'Write a free-text note'),
  careRoute('AmendEntry', 'entries/:entryId/amendments', 'Amend an entry (reason required); the earlier version stays readable'),
  careRoute('MarkEntryEnteredInError', 'entries/:entryId/entered-in-error', 'Mark an entry entered in error (reason required)'),
  // A person's own outcomes, agreed with them (issue 15): FHIR Goal, its progress as the Goal's versions.
  { operationId: 'AgreeGoal', path: '/api/patients/:patientId/goals', summary: "Agree a goal with the person: their outcome in their own words (an I statement), what achieved will look like and by when", schema: AgreeGoalSchema, pathParams: ['patientId'], run: (c, cmd, a) => c.agreeGoal(cmd, a) },
  { operationId: 'RecordGoalProgress', path: '/api/patients/:patientId/goals/:goalId/progress', summary: "Record progress towards the person's goal (achievement status and the person's words): a new version of the Goal", schema: RecordGoalProgressSchema, pathParams: ['patientId', 'goalId'], run: (c, cmd, a) => c.recordGoalProgress(cmd, a) },
  { operationId: 'CloseGoal', path: '/api/patients/:patientId/goals/:goalId/close', summary: 'Close a goal: completed (met, or let go of) or cancelled, with the reason', schema: CloseGoalSchema, pathParams: ['patientId', 'goalId'], run: (c, cmd, a) => c.closeGoal(cmd, a) },
  // A person's visits (issue 13): planned by the registered manager or the provider's rostering system; checked in and out by the care worker assigned.
  { operationId: 'PlanVisit', path: '/api/patients/:patientId/visits', summary: 'Plan a visit (times, care workers, tasks, provider), or bring a planned one up to date: only what changed is recorded', schema: PlanVisitSchema, pathParams: ['patientId'], run: (c, cmd, a) => c.visits.plan(cmd, a) },
  { operationId: 'RescheduleVisit', path: '/api/patients/:patientId/visits/:visitId/reschedule', summary: 'Move a planned visit to new times', schema: RescheduleVisitSchema, pathParams: ['patientId', 'visitId'], run: (c, cmd, a) => c.visits.reschedule(cmd, a) },
  { operationId: 'CancelVisit', path: '/api/patients/:patientId/visits/:visitId/cancellation', summary: 'Cancel a planned visit (reason required)', schema: CancelVisitSchema, pathParams: ['patientId', 'visitId'], run: (c, cmd, a) => c.visits.cancel(cmd, a) },
  { operationId: 'CheckInVisit', path: '/api/patients/:patientId/visits/:visitId/check-in', summary: 'The assigned care worker arrives (location only when the phone gives it); a late arrival records how late', schema: CheckInVisitSchema, pathParams: ['patientId', 'visitId'], run: (c, cmd, a) => c.visits.checkIn(cmd, a) },
  {
    operationId: 'CheckOutVisit',
    path: '/api/patients/:patientId/visits/:visitId/check-out',
    summary: 'The care worker leaves: every planned task done or not done (with the reason); not closed while a scheduled medicine due in the visit has no outcome, unless unrecordedDosesReason says why',
    schema: CheckOutVisitSchema,
    pathParams: ['patientId', 'visitId'],
    run: (c, cmd, a) => c.visits.checkOut(cmd, a),
  },
  {
    operationId: 'ImportVisits',
    path: '/api/visits/imports',
    summary: "A rostering system's day of visits for one provider: each planned or brought up to date on its own (a visit refused is reported, the rest recorded); sending the same day again records only what changed",
    schema: ImportVisitsSchema,
    pathParams: [],
    people: (cmd: z.output<typeof ImportVisitsSchema>) => [...new Set(cmd.visits.map((v) => v.patientId))],
    run: (c, cmd: z.output<typeof ImportVisitsSchema>, a, refused) => c.visits.importVisits(cmd, a, refused),
  },
];

const IMPOSSIBLE_TIME: ReadonlySet<string> = new Set(['time.in-future', 'time.impossible']);

const statusOf = (route: CommandRoute, result: Awaited<ReturnType<CommandRoute['run']>>) =>
  !('eventIds' in result) || result.replayed ? 200 : route.operationId === 'RegisterPatient' ? (result.created ? 201 : 200) : result.eventIds.length > 0 ? 201 : 200;

/** What a command is about, for the policy: the person in its path, the organisation a practitioner joins, or no one. */
const aboutOf = (route: CommandRoute, command: Record<string, unknown>): About => {
  if (route.pathParams.includes('patientId')) return { patientId: String(command.patientId) };
  if (route.people) return 'people';
  if (route.operationId === 'RegisterPractitioner' || route.operationId === 'SetContractedHours' || route.operationId === 'RecordStaffAbsence') return { organisationId: String(command.organisationId) };
  return 'nobody';
};

/** Of the people a command is about (route.people), those the policy refuses: each decided and reported. */
const refusedPeople = async (req: Request, res: Response, route: CommandRoute, command: unknown, access?: RecordAccess): Promise<ReadonlySet<string>> => {
  if (!route.people || !access) return new Set();
  const refused = new Set<string>();
  for (const patientId of route.people(command as never)) {
    if (!(await access.decide(req, res, COMMAND_ACCESS[route.operationId], { patientId })).allowed) refused.add(patientId);
  }
  return refused;
};

/**
 * The JSON command API for the apps. Errors are problem+json naming the field; nothing is stored.
 * Every command needs a bearer token (401 before anything else) and the policy's permission (403).
 */
export const commandRoutes = (care: CareRecord, access: RecordAccess): Router => {
  const router = Router();
  router.use(
    '/api',
    authenticate(access.control, (res, error) => sendProblem(res, error.status, refusalTitle(error), error.message)),
  );
  router.use('/api', express.json({ limit: '256kb', strict: true, reviver: storableJson }));
  for (const route of COMMAND_ROUTES) {
    router.post(route.path, (req: Request, res: Response, next: NextFunction) => {
      const { actor } = principalOf(req);
      if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
        sendProblem(res, 400, 'Invalid command', 'The body must be a JSON object', { errors: [{ field: '(body)', message: 'must be a JSON object' }] });
        return;
      }
      const input: Record<string, unknown> = { ...(req.body as Record<string, unknown>) };
      for (const param of route.pathParams) {
        const value = req.params[param];
        if (input[param] !== undefined && input[param] !== value) {
          sendProblem(res, 400, 'Invalid command', `${param} in the body does not match the path`, { errors: [{ field: param, message: 'does not match the path' }] });
          return;
        }
        input[param] = value;
      }
      const parsed = parseCommand(route.schema, input);
      if (!parsed.ok) {
        const errors = parsed.issues.map((i) => ({ field: i.path || '(body)', message: i.message }));
        sendProblem(res, 400, 'Invalid command', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
        return;
      }
      access
        .decide(req, res, COMMAND_ACCESS[route.operationId], aboutOf(route, parsed.value as Record<string, unknown>))
        .then((decision) => {
          if (!decision.allowed) {
            sendProblem(res, 403, 'Forbidden', decision.detail, { reason: decision.reason });
            return;
          }
          return refusedPeople(req, res, route, parsed.value, access)
            .then((refused) => route.run(care, parsed.value as never, actor, refused))
            .then(async (result) => {
              // Someone else's person: the answer says nothing of them unless a read would (RecordAccess.existingPerson).
              if (route.operationId === 'RegisterPatient' && 'created' in result && result.created === false && 'patientId' in result) {
                const disclosure = await access.existingPerson(req, res, String(result.patientId));
                if (!disclosure.allowed) return sendProblem(res, 403, 'Forbidden', disclosure.detail, { reason: disclosure.reason });
              }
              res.status(statusOf(route, result)).set('X-Tandem-Position', String(result.position)).json(result);
            });
        })
        .catch(next);
    });
  }
  router.use('/api', (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    if (error instanceof PatientNotFound) return sendProblem(res, 404, 'Not Found', error.message, { errors: [{ field: 'patientId', message: 'no such patient' }] });
    if (error instanceof IdempotencyKeyReused) {
      return sendProblem(res, 422, 'Idempotency key reused', error.message, { code: 'idempotency-key.reused', errors: [{ field: error.field, message: error.message }] });
    }
    if (error instanceof StopAndConfirm) {
      return sendProblem(res, 422, 'Stop: confirmation needed', error.message, { code: error.code, errors: [{ field: error.field, message: error.message }] });
    }
    if (error instanceof NeedsConfirmation) {
      return sendProblem(res, 409, 'Confirmation needed', error.message, { code: error.code, errors: [{ field: error.field, message: error.message }] });
    }
    // A time that cannot be true (in the future, before 1900) is bad input like a malformed one: 400.
    if (error instanceof DomainRuleBroken && IMPOSSIBLE_TIME.has(error.code)) {
      return sendProblem(res, 400, 'Invalid command', error.message, { code: error.code, errors: [{ field: error.field, message: error.message }] });
    }
    if (error instanceof DomainRuleBroken) return sendProblem(res, 422, 'Rule broken', error.message, { code: error.code, errors: [{ field: error.field, message: error.message }] });
    if (error instanceof InvalidAppend) return sendProblem(res, 400, 'Invalid command', error.message, { errors: error.issues });
    if (error instanceof WrongExpectedRevision) return sendProblem(res, 409, 'Conflict', 'The record changed while this was being recorded; try again');
    const bodyError = error as { type?: string };
    if (bodyError.type === 'entity.parse.failed') return sendProblem(res, 400, 'Invalid JSON', 'The body is not valid JSON', { errors: [{ field: '(body)', message: 'is not valid JSON' }] });
    if (bodyError.type === 'entity.too.large') return sendProblem(res, 413, 'Too large', 'The body is larger than 256 kB');
    return next(error);
  });
  return router;
};
