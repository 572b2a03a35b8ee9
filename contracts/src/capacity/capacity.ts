import { z } from 'zod';
import { defineEvent } from '../events';
import { DateTimeSchema, IdSchema, textSchema } from '../care/common';
import { englandInstant } from '../england-time';

// ---------------------------------------------------------------------------------------------
// Capacity (issue 15; docs/decisions/0037-capacity-and-outcomes.md): what a home-care provider's
// staff can give in a week. Two facts no event held before, both on the practitioner's own stream
// (practitioner-<id>), recorded by the registered manager of the practitioner's organisation:
// the hours a week a care worker is contracted for, and an absence (sickness, leave). Everything
// else the capacity figures need (visits, competences) is already recorded.
// ---------------------------------------------------------------------------------------------

/** At most this many contracted hours a week (the Working Time Regulations' 48, with room for an opted-out worker). */
export const MAX_CONTRACTED_HOURS_PER_WEEK = 60;
/** An absence recorded at once covers at most this many days (a longer one is recorded again when it is extended). */
export const MAX_ABSENCE_DAYS = 366;

const hoursSchema = z
  .number({ error: 'must be a number of hours' })
  .min(0, { error: 'must be 0 or more' })
  .max(MAX_CONTRACTED_HOURS_PER_WEEK, { error: `must be at most ${MAX_CONTRACTED_HOURS_PER_WEEK} hours a week` })
  .refine((h) => Number.isInteger(h * 4), { error: 'must be in quarter hours (e.g. 37.5)' });

export const AbsenceKindSchema = z.enum(['sickness', 'annual-leave', 'training', 'other'], { error: 'must be sickness, annual-leave, training or other' });

const contractedShape = { practitionerId: IdSchema, organisationId: IdSchema, hoursPerWeek: hoursSchema };
const absenceShape = { practitionerId: IdSchema, organisationId: IdSchema, absenceId: IdSchema, from: DateTimeSchema, to: DateTimeSchema, kind: AbsenceKindSchema };

const absencePeriod = (value: { from?: string; to?: string }, ctx: z.RefinementCtx) => {
  if (value.from === undefined || value.to === undefined) return;
  const from = Date.parse(value.from);
  const to = Date.parse(value.to);
  if (Number.isNaN(from) || Number.isNaN(to)) return;
  if (!(to > from)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  else if (to - from > MAX_ABSENCE_DAYS * 86_400_000) ctx.addIssue({ code: 'custom', path: ['to'], message: `must be at most ${MAX_ABSENCE_DAYS} days after from` });
};

export const ContractedHoursSet = defineEvent('ContractedHoursSet', z.object(contractedShape));
export type ContractedHoursSetData = z.infer<typeof ContractedHoursSet.schema>;

export const StaffAbsenceRecorded = defineEvent('StaffAbsenceRecorded', z.object(absenceShape).superRefine(absencePeriod));
export type StaffAbsenceRecordedData = z.infer<typeof StaffAbsenceRecorded.schema>;

export const staffingEventDefinitions = [ContractedHoursSet, StaffAbsenceRecorded] as const;

const commandShape = {
  idempotencyKey: z.string().min(1).max(200),
  occurredAt: DateTimeSchema,
};

/** The manager sets a care worker's contracted hours; `organisationId` must be the practitioner's own (the policy decides by it). */
export const SetContractedHoursSchema = z.strictObject({ ...commandShape, ...contractedShape });
export type SetContractedHours = z.infer<typeof SetContractedHoursSchema>;

export const RecordStaffAbsenceSchema = z.strictObject({ ...commandShape, ...absenceShape, note: textSchema(500).optional() }).superRefine(absencePeriod);
export type RecordStaffAbsence = z.infer<typeof RecordStaffAbsenceSchema>;

// --- the week asked for ----------------------------------------------------------------------

/** An ISO 8601 week, `2026-W49`: Monday to Sunday in England. */
export const IsoWeekSchema = z
  .string({ error: 'week is required: an ISO week such as 2026-W49' })
  .regex(/^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/, { error: 'must be an ISO week such as 2026-W49' })
  .refine((w) => Number(w.slice(6)) <= isoWeeksIn(Number(w.slice(0, 4))), { error: 'that year has no such week' });

const isoWeeksIn = (year: number): number => {
  // A year has 53 ISO weeks when 28 December falls in week 53.
  const dec28 = new Date(Date.UTC(year, 11, 28));
  return isoWeekOf(dec28).week;
};

const isoWeekOf = (date: Date): { year: number; week: number } => {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  return { year: d.getUTCFullYear(), week: Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7) };
};

/** The ISO week (`2026-W49`) an England date (YYYY-MM-DD) falls in. */
export const isoWeekOfDate = (date: string): string => {
  const { year, week } = isoWeekOf(new Date(`${date}T00:00:00Z`));
  return `${year}-W${String(week).padStart(2, '0')}`;
};

/** The seven England dates of an ISO week, Monday first. */
export const datesOfIsoWeek = (week: string): string[] => {
  const year = Number(week.slice(0, 4));
  const n = Number(week.slice(6));
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const monday = Date.UTC(year, 0, 4 - ((jan4.getUTCDay() || 7) - 1) + (n - 1) * 7);
  return Array.from({ length: 7 }, (_, i) => new Date(monday + i * 86_400_000).toISOString().slice(0, 10));
};

/** The instants a week runs between: Monday 00:00 to the next Monday 00:00 in England (167 or 169 hours when the clocks change). */
export const isoWeekWindow = (week: string): { readonly start: string; readonly end: string; readonly dates: readonly string[] } => {
  const dates = datesOfIsoWeek(week);
  const next = new Date(Date.parse(`${dates[6]}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { start: englandInstant(dates[0]!, '00:00'), end: englandInstant(next, '00:00'), dates };
};
