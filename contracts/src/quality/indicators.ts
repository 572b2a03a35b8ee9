import { z } from 'zod';
import { CORRECTABLE_ENTRY_TYPES } from '../care/corrections';
import { OCCURRED_AT_CONFIRM_OLDER_THAN_DAYS } from '../care/common';

// ---------------------------------------------------------------------------------------------
// Care-quality indicators (issue 15), defined as data: what each counts, its numerator and
// denominator in words, the periods it is reported for, its source, and the events that count.
// The quality projection (services/projections/src/quality) computes every figure from the events
// alone; the FHIR Measure of each is made from this data. Nothing here is ever typed in.
// docs/decisions/0032-care-quality-indicators.md.
// ---------------------------------------------------------------------------------------------

export const INDICATOR_IDS = [
  'missed-visits',
  'short-visits',
  'scheduled-doses-on-time',
  'time-critical-doses-on-time',
  'news2-sets-complete',
  'escalations-acknowledged-in-time',
  'late-entries',
] as const;
export const IndicatorIdSchema = z.enum(INDICATOR_IDS, { error: `must be one of ${INDICATOR_IDS.join(', ')}` });
export type IndicatorId = z.infer<typeof IndicatorIdSchema>;

export const IndicatorPeriodSchema = z.enum(['day', 'month']);

/** How an item is attributed to an organisation: the provider on the visit, or the organisations of the person's care team when it happened. */
export const AttributionSchema = z.enum(['visit-provider', 'care-team']);
export type Attribution = z.infer<typeof AttributionSchema>;

export const IndicatorDefinitionSchema = z.strictObject({
  id: IndicatorIdSchema,
  title: z.string().min(1).max(200),
  /** What one item is (a visit, a dose, a set of vital signs...). */
  counts: z.string().min(1).max(500),
  numerator: z.string().min(1).max(500),
  denominator: z.string().min(1).max(500),
  /** Every indicator so far is reported per day and per month (a month is the sum of its days). */
  periods: z.array(IndicatorPeriodSchema).min(1).default(['day', 'month']),
  sources: z.array(z.string().min(1)).min(1),
  /** The event types that put an item in the denominator, and those that can move it into the numerator. */
  denominatorEvents: z.array(z.string().min(1)).min(1),
  numeratorEvents: z.array(z.string().min(1)).min(1),
  /** Who an item counts for; the care team's organisations unless said. */
  attribution: AttributionSchema.default('care-team'),
  /** Whether a higher value is better care (FHIR Measure.improvementNotation). */
  higherIsBetter: z.boolean(),
  /**
   * A tolerance this indicator applies: its minutes stated here, or (doses) the medicines ruleset's
   * own tolerance (services/delegation/src/frameworks/medicines.ts, the one home of that number).
   */
  tolerance: z.strictObject({ minutes: z.number().int().min(0).optional(), fromMedicinesRuleset: z.enum(['scheduled', 'time-critical']).optional(), text: z.string().min(1) }).optional(),
  /** A second figure reported with it (the median minutes to acknowledge). */
  alsoReports: z.string().optional(),
});
export type IndicatorDefinition = z.infer<typeof IndicatorDefinitionSchema>;

/**
 * A visit counts as shorter than planned when checked out more than this many minutes before its
 * planned length had passed. LOCAL: NICE QS123 statement 4 asks that visits are long enough to
 * do the care planned, without a national figure for "cut short".
 */
export const SHORT_VISIT_TOLERANCE_MINUTES = 5;

// A delegated insulin dose's outcome is its insulin entry (given or withheld), matched to the delegation's instructed time.
const DOSE_EVENTS = ['MedicineDoseRecorded', 'InsulinAdministered', 'InsulinWithheld', 'VisitCheckedOut', 'CarePromptIssued', 'EscalationRaised'];

export const INDICATORS: readonly IndicatorDefinition[] = z.array(IndicatorDefinitionSchema).parse([
  {
    id: 'missed-visits',
    title: 'Missed visits',
    counts: 'planned home-care visits (a cancelled visit is not counted)',
    numerator: 'visits whose planned end passed with nobody checked in (VisitMissed), even if someone arrived later',
    denominator: 'visits planned for the day, not cancelled',
    sources: ['NICE QS123 Home care for older people, statement 2 (continuity) and statement 4 (visits long enough, not missed)'],
    denominatorEvents: ['VisitPlanned', 'VisitRescheduled', 'VisitCancelled'],
    numeratorEvents: ['VisitMissed'],
    attribution: 'visit-provider',
    higherIsBetter: false,
  },
  {
    id: 'short-visits',
    title: 'Visits shorter than planned',
    counts: 'visits checked in and out',
    numerator: `visits checked out more than ${SHORT_VISIT_TOLERANCE_MINUTES} minutes short of their planned length`,
    denominator: 'visits completed (checked out)',
    sources: ['NICE QS123 Home care for older people, statement 4 (visits of at least 30 minutes, long enough for the care planned)'],
    denominatorEvents: ['VisitCheckedOut'],
    numeratorEvents: ['VisitCheckedIn', 'VisitCheckedOut'],
    attribution: 'visit-provider',
    higherIsBetter: false,
    tolerance: { minutes: SHORT_VISIT_TOLERANCE_MINUTES, text: `LOCAL: shorter than planned by more than ${SHORT_VISIT_TOLERANCE_MINUTES} minutes` },
  },
  {
    id: 'scheduled-doses-on-time',
    title: 'Scheduled medicines given on time',
    counts: 'scheduled (not PRN) doses due, each with its outcome or named at check-out as having none; a delegated insulin dose is one, its outcome the insulin given or withheld at its instructed time',
    numerator: 'doses given (or self-administered with the care worker there) within the tolerance of their scheduled time',
    denominator: 'scheduled doses due: every outcome recorded (given, refused, not given, missed...) and every dose a visit closed without',
    sources: ['NICE SC1 Managing medicines for adults receiving social care in the community, 1.6 (recording and late or missed doses)'],
    denominatorEvents: DOSE_EVENTS,
    numeratorEvents: ['MedicineDoseRecorded', 'InsulinAdministered'],
    higherIsBetter: true,
    tolerance: { fromMedicinesRuleset: 'scheduled', text: 'the medicines ruleset\'s tolerance for a scheduled dose (LOCAL, NICE SC1)' },
  },
  {
    id: 'time-critical-doses-on-time',
    title: 'Time-critical medicines given on time',
    counts: 'scheduled doses of time-critical medicines (insulin, Parkinson\'s medicines) due',
    numerator: 'time-critical doses given within the tolerance for time-critical medicines',
    denominator: 'time-critical scheduled doses due',
    sources: ['NICE SC1 1.6', 'NPSA Rapid Response Report 2010: reducing harm from omitted and delayed medicines'],
    denominatorEvents: DOSE_EVENTS,
    numeratorEvents: ['MedicineDoseRecorded', 'InsulinAdministered'],
    higherIsBetter: true,
    tolerance: { fromMedicinesRuleset: 'time-critical', text: 'the medicines ruleset\'s tolerance for a time-critical dose (LOCAL)' },
  },
  {
    id: 'news2-sets-complete',
    title: 'NEWS2 sets complete',
    counts: 'sets of vital signs recorded',
    numerator: 'sets with all seven NEWS2 parameters, so a total score (a missing parameter makes a score incomplete, not low)',
    denominator: 'sets of vital signs recorded',
    sources: ['Royal College of Physicians, National Early Warning Score (NEWS) 2, 2017'],
    denominatorEvents: ['VitalSignsRecorded'],
    numeratorEvents: ['VitalSignsRecorded'],
    higherIsBetter: true,
  },
  {
    id: 'escalations-acknowledged-in-time',
    title: 'Escalations acknowledged within their deadline',
    counts: 'escalations raised',
    numerator: 'escalations acknowledged by the deadline of the first tier they were sent to (at the last tier, with no deadline: acknowledged at all)',
    denominator: 'escalations raised',
    sources: ['RCP NEWS2 (urgent response)', 'LOCAL: the escalation deadlines of each framework (escalation.* settings)'],
    denominatorEvents: ['EscalationRaised'],
    numeratorEvents: ['EscalationSentToTier', 'EscalationAcknowledged'],
    higherIsBetter: true,
    alsoReports: 'the median minutes from raised to acknowledged, over the escalations acknowledged',
  },
  {
    id: 'late-entries',
    title: 'Entries recorded late',
    counts: 'care entries recorded (observations, notes, medicines): the entry kinds a correction can name',
    numerator: `entries recorded more than ${OCCURRED_AT_CONFIRM_OLDER_THAN_DAYS} days after they happened (the record's late-entry rule, isLateEntry)`,
    denominator: 'care entries recorded',
    sources: ['NMC The Code 10.1: complete records at the time or as soon as possible after an event'],
    denominatorEvents: [...CORRECTABLE_ENTRY_TYPES],
    numeratorEvents: [...CORRECTABLE_ENTRY_TYPES],
    higherIsBetter: false,
  },
]);

export const indicatorById = (id: string): IndicatorDefinition | undefined => INDICATORS.find((i) => i.id === id);

/** A period asked for: a day (YYYY-MM-DD) or a month (YYYY-MM). */
export const IndicatorPeriodQuerySchema = z
  .string({ error: 'period is required: a month (2026-12) or a day (2026-12-03)' })
  .regex(/^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$/, { error: 'period must be a month (2026-12) or a day (2026-12-03)' });

/** The first and last day (inclusive, YYYY-MM-DD) a period covers. */
export const daysOfPeriod = (period: string): { readonly from: string; readonly to: string; readonly kind: 'day' | 'month' } => {
  if (period.length === 10) return { from: period, to: period, kind: 'day' };
  const [year, month] = period.split('-').map(Number) as [number, number];
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return { from: `${period}-01`, to: `${period}-${String(last).padStart(2, '0')}`, kind: 'month' };
};
