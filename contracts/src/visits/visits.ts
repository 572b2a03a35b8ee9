import { z } from 'zod';
import { defineEvent } from '../events';
import { commandBaseShape, DateTimeSchema, IdSchema, PatientIdSchema, ReasonSchema, textSchema, type EventOf } from '../care/common';

// ---------------------------------------------------------------------------------------------
// A person's visits (stream visit-<visitId>, one per visit): planned by the registered manager or
// received from the provider's rostering system (JSON, or FHIR Appointment), rescheduled or
// cancelled, then checked in and out by the care worker assigned. One stream per visit, so two
// care workers checking in to two visits never contend, and a visit's versions are its own events.
// Issue 13; docs/decisions/0025-visits.md.
// ---------------------------------------------------------------------------------------------

/**
 * How long after the planned start a visit not checked in is late (the scheduler escalates it to
 * the provider's registered manager). LOCAL: no national figure (NICE QS123 measures late and
 * missed visits, but leaves "late" to the commissioner); a visit may carry its own.
 */
export const DEFAULT_VISIT_LATE_TOLERANCE_MINUTES = 30;
export const MAX_VISIT_HOURS = 12;

/** The FHIR extensions of a visit (both mappers read these): its planned tasks on the Appointment, how late she arrived on the Encounter. */
export const VISIT_TASKS_EXTENSION = 'https://tandem.nhs.example/fhir/StructureDefinition/visit-tasks';
export const VISIT_LATE_EXTENSION = 'https://tandem.nhs.example/fhir/StructureDefinition/visit-arrived-late';
/** A visit's Encounter class: home health (HL7 v3 ActCode HH), as the projection writes it and a create must send it. */
export const VISIT_ENCOUNTER_CLASS = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HH', display: 'home health' } as const;
/**
 * A checked-out Encounter's task outcomes, one extension per planned task: `task` (valueString, the
 * task's id: the element id of its part of the Appointment's visit-tasks extension), `outcome`
 * (valueCode done or not-done) and `reason` (valueString, required when not done).
 */
export const VISIT_TASK_OUTCOME_EXTENSION = 'https://tandem.nhs.example/fhir/StructureDefinition/visit-task-outcome';
/** Why a visit closed while a scheduled medicine due in it had no outcome (valueString): without it, such a visit is not closed. */
export const VISIT_UNRECORDED_DOSES_REASON_EXTENSION = 'https://tandem.nhs.example/fhir/StructureDefinition/visit-unrecorded-doses-reason';

/** A task planned for the visit (a wash, a meal, a delegated activity such as insulin). */
export const PlannedTaskSchema = z.strictObject({
  taskId: IdSchema,
  description: textSchema(200),
  /** The delegated healthcare activity this task carries out (e.g. the insulin delegation): its scheduled doses are due in the visit. */
  delegationId: IdSchema.optional(),
});
export type PlannedTask = z.infer<typeof PlannedTaskSchema>;

/** Where the phone was, when it could say: never required. */
export const VisitLocationSchema = z.strictObject({
  latitude: z.number({ error: 'latitude must be a number' }).min(-90, { error: 'latitude must be between -90 and 90' }).max(90, { error: 'latitude must be between -90 and 90' }),
  longitude: z.number({ error: 'longitude must be a number' }).min(-180, { error: 'longitude must be between -180 and 180' }).max(180, { error: 'longitude must be between -180 and 180' }),
  accuracyMetres: z.number().min(0).max(100_000).optional(),
});
export type VisitLocation = z.infer<typeof VisitLocationSchema>;

const careWorkersSchema = z
  .array(IdSchema)
  .min(1, { error: 'must name at least one care worker' })
  .max(4, { error: 'must name at most 4 care workers' })
  .refine((ids) => new Set(ids).size === ids.length, { error: 'must not name a care worker twice' });

const tasksSchema = z
  .array(PlannedTaskSchema)
  .max(50, { error: 'must hold at most 50 tasks' })
  .refine((tasks) => new Set(tasks.map((t) => t.taskId)).size === tasks.length, { error: 'must not use a taskId twice' });

const planShape = {
  visitId: IdSchema,
  /** The provider (care agency) whose visit it is: its registered manager hears of a late or missed visit. */
  providerOrganisationId: IdSchema,
  plannedStart: DateTimeSchema,
  plannedEnd: DateTimeSchema,
  careWorkerIds: careWorkersSchema,
  tasks: tasksSchema,
};

const plannedPeriod = (value: { plannedStart?: string; plannedEnd?: string }, ctx: z.RefinementCtx) => {
  if (value.plannedStart === undefined || value.plannedEnd === undefined) return;
  const start = Date.parse(value.plannedStart);
  const end = Date.parse(value.plannedEnd);
  // A time that is not one is refused by its own field.
  if (Number.isNaN(start) || Number.isNaN(end)) return;
  if (!(end > start)) ctx.addIssue({ code: 'custom', path: ['plannedEnd'], message: 'must be after plannedStart' });
  else if (end - start > MAX_VISIT_HOURS * 3_600_000) ctx.addIssue({ code: 'custom', path: ['plannedEnd'], message: `must be at most ${MAX_VISIT_HOURS} hours after plannedStart` });
};

const toleranceSchema = z.number().int({ error: 'must be a whole number of minutes' }).min(0).max(240, { error: 'must be at most 240 minutes' });

// --- events ------------------------------------------------------------------------------------

export const VisitPlanned = defineEvent(
  'VisitPlanned',
  z.object({ patientId: PatientIdSchema, ...planShape, lateToleranceMinutes: toleranceSchema }).superRefine(plannedPeriod),
);
export type VisitPlannedData = z.infer<typeof VisitPlanned.schema>;

export const VisitRescheduled = defineEvent(
  'VisitRescheduled',
  z.object({ visitId: IdSchema, plannedStart: DateTimeSchema, plannedEnd: DateTimeSchema, reason: ReasonSchema.optional() }).superRefine(plannedPeriod),
);
export type VisitRescheduledData = z.infer<typeof VisitRescheduled.schema>;

/** The care workers or the tasks changed (a re-sent roster, a manager's change): the whole new list. */
export const VisitReplanned = defineEvent(
  'VisitReplanned',
  z.object({ visitId: IdSchema, careWorkerIds: careWorkersSchema.optional(), tasks: tasksSchema.optional(), lateToleranceMinutes: toleranceSchema.optional() }),
);
export type VisitReplannedData = z.infer<typeof VisitReplanned.schema>;

export const VisitCancelled = defineEvent('VisitCancelled', z.object({ visitId: IdSchema, reason: ReasonSchema }));
export type VisitCancelledData = z.infer<typeof VisitCancelled.schema>;

export const VisitCheckedIn = defineEvent(
  'VisitCheckedIn',
  z.object({
    visitId: IdSchema,
    careWorkerId: IdSchema,
    location: VisitLocationSchema.optional(),
    /** Minutes after the planned start, when beyond the visit's tolerance: the lateness, recorded. */
    lateByMinutes: z.number().int().min(1).optional(),
  }),
);
export type VisitCheckedInData = z.infer<typeof VisitCheckedIn.schema>;

export const TaskOutcomeSchema = z
  .strictObject({
    taskId: IdSchema,
    outcome: z.enum(['done', 'not-done'], { error: 'must be done or not-done' }),
    /** Why it was not done: required then (the person declined, no food in the house). */
    reason: ReasonSchema.optional(),
  })
  .superRefine((task, ctx) => {
    if (task.outcome === 'not-done' && task.reason === undefined) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'is required when a task is not done: say why' });
  });
export type TaskOutcome = z.infer<typeof TaskOutcomeSchema>;

/** A scheduled dose due in the visit that had no outcome when it was closed (with the care worker's reason). */
export const UnrecordedDoseSchema = z.object({ doseId: textSchema(200), description: textSchema(300), dueAt: DateTimeSchema });
export type UnrecordedDose = z.infer<typeof UnrecordedDoseSchema>;

export const VisitCheckedOut = defineEvent(
  'VisitCheckedOut',
  z.object({
    visitId: IdSchema,
    careWorkerId: IdSchema,
    tasks: z.array(TaskOutcomeSchema).max(50),
    location: VisitLocationSchema.optional(),
    unrecordedDoses: z.array(UnrecordedDoseSchema).max(50).optional(),
    unrecordedDosesReason: ReasonSchema.optional(),
  }),
);
export type VisitCheckedOutData = z.infer<typeof VisitCheckedOut.schema>;

/** The scheduler found the visit not checked in beyond its tolerance (once per planned start). */
export const VisitLateNoticed = defineEvent('VisitLateNoticed', z.object({ visitId: IdSchema, dueAt: DateTimeSchema, plannedStart: DateTimeSchema }));
export type VisitLateNoticedData = z.infer<typeof VisitLateNoticed.schema>;

/** The planned end passed with no check-in: the visit was missed (once per planned end). */
export const VisitMissed = defineEvent('VisitMissed', z.object({ visitId: IdSchema, plannedEnd: DateTimeSchema }));
export type VisitMissedData = z.infer<typeof VisitMissed.schema>;

export const visitEventDefinitions = [VisitPlanned, VisitRescheduled, VisitReplanned, VisitCancelled, VisitCheckedIn, VisitCheckedOut, VisitLateNoticed, VisitMissed] as const;
export type VisitEvent = EventOf<(typeof visitEventDefinitions)[number]>;
export type VisitEventType = VisitEvent['type'];
export const VISIT_EVENT_TYPES: ReadonlySet<string> = new Set(visitEventDefinitions.map((d) => d.type));

// --- commands ------------------------------------------------------------------------------------

/**
 * Plans a visit, or brings a planned one up to date: a re-sent roster records only what changed
 * (new times: VisitRescheduled; new care workers or tasks: VisitReplanned), and nothing when
 * nothing did. `lateToleranceMinutes` left out: the deployment's LOCAL setting.
 */
export const PlanVisitSchema = z.strictObject({ ...commandBaseShape, ...planShape, lateToleranceMinutes: toleranceSchema.optional() }).superRefine(plannedPeriod);
export type PlanVisit = z.infer<typeof PlanVisitSchema>;

const visitCommandShape = { ...commandBaseShape, visitId: IdSchema };

export const RescheduleVisitSchema = z.strictObject({ ...visitCommandShape, plannedStart: DateTimeSchema, plannedEnd: DateTimeSchema, reason: ReasonSchema.optional() }).superRefine(plannedPeriod);
export type RescheduleVisit = z.infer<typeof RescheduleVisitSchema>;

export const CancelVisitSchema = z.strictObject({ ...visitCommandShape, reason: ReasonSchema });
export type CancelVisit = z.infer<typeof CancelVisitSchema>;

/** occurredAt is when she arrived; location only when the phone gives it. */
export const CheckInVisitSchema = z.strictObject({ ...visitCommandShape, location: VisitLocationSchema.optional() });
export type CheckInVisit = z.infer<typeof CheckInVisitSchema>;

export const CheckOutVisitSchema = z.strictObject({
  ...visitCommandShape,
  tasks: z
    .array(TaskOutcomeSchema)
    .max(50)
    .refine((tasks) => new Set(tasks.map((t) => t.taskId)).size === tasks.length, { error: 'must not give a task two outcomes' }),
  location: VisitLocationSchema.optional(),
  /** Why the visit closes while a scheduled medicine due in it has no outcome: without it, such a visit is not closed. */
  unrecordedDosesReason: ReasonSchema.optional(),
});
export type CheckOutVisit = z.infer<typeof CheckOutVisitSchema>;

/** A rostering system's day of visits for one provider: each becomes a PlanVisit, keyed `<idempotencyKey>:<visitId>`. */
export const ImportVisitsSchema = z.strictObject({
  idempotencyKey: commandBaseShape.idempotencyKey,
  occurredAt: commandBaseShape.occurredAt,
  providerOrganisationId: IdSchema,
  visits: z
    .array(z.strictObject({ patientId: PatientIdSchema, ...planShape, providerOrganisationId: IdSchema.optional(), lateToleranceMinutes: toleranceSchema.optional() }).superRefine(plannedPeriod))
    .min(1, { error: 'must hold at least one visit' })
    .max(2000, { error: 'must hold at most 2000 visits (send a day per provider)' })
    .refine((visits) => new Set(visits.map((v) => v.visitId)).size === visits.length, { error: 'must not list a visitId twice' }),
});
export type ImportVisits = z.infer<typeof ImportVisitsSchema>;

export const visitCommandSchemas = {
  PlanVisit: PlanVisitSchema,
  RescheduleVisit: RescheduleVisitSchema,
  CancelVisit: CancelVisitSchema,
  CheckInVisit: CheckInVisitSchema,
  CheckOutVisit: CheckOutVisitSchema,
} as const;
export type VisitCommandName = keyof typeof visitCommandSchemas;
