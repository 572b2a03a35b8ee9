import type { FrameworkDefinition, Setting } from './schema';

/**
 * Data every shipped framework uses: the escalation path, NEWS2 and RESTORE2 rules, the NICE NG51
 * sepsis red flags, and the settings behind them. Plain data, spread into each framework.
 */

type Definition = FrameworkDefinition;
type NumberSettingOptions = { min: number; max: number; unit: string; source: string; note?: string; integer?: boolean };

/** A LOCAL setting: no national rule, so the organisation may choose; `value` is the default shown. */
export const localNumber = (value: number, options: NumberSettingOptions): Setting => ({ type: 'number', default: value, status: 'LOCAL', ...options });
/** An UNVERIFIED setting: sources differ or are not confirmed; `value` is the reference default. */
export const unverifiedNumber = (value: number, options: NumberSettingOptions): Setting => ({
  type: 'number',
  default: value,
  status: 'UNVERIFIED',
  ...options,
});
export const localBoolean = (value: boolean, options: { source: string; note?: string }): Setting => ({
  type: 'boolean',
  default: value,
  status: 'LOCAL',
  ...options,
});

/** JBDS-01, cited by every hypoglycaemia rule. */
export const JBDS = { reference: 'JBDS-01 hypoglycaemia: "4 is the floor"; docs/clinical/reference.md section 2', status: 'national' } as const;

export const ESCALATION_SETTINGS: Record<string, Setting> = {
  'escalation.urgent-deadline-minutes': localNumber(30, {
    min: 5,
    max: 120,
    integer: true,
    unit: 'minutes',
    source: 'Tandem design brief: urgent response within 30 minutes; no national rule for community escalation deadlines',
  }),
  'escalation.routine-deadline-minutes': localNumber(480, {
    min: 60,
    max: 1440,
    integer: true,
    unit: 'minutes',
    source: 'Tandem design brief: routine escalations answered the same day (8 hours); no national rule',
  }),
};

/** Accountable district nurse -> on-call nurse or GP -> NHS 111 / 999 advice to the care worker. */
export const ESCALATION_PATH: Definition['escalation'] = {
  tiers: [
    {
      id: 'accountable-district-nurse',
      title: 'Accountable district nurse',
      recipient: 'accountable-district-nurse',
      acknowledgedBy: ['district-nurse'],
    },
    {
      id: 'on-call-nurse-or-gp',
      title: 'On-call nurse or GP',
      recipient: 'on-call-nurse-or-gp',
      acknowledgedBy: ['district-nurse', 'gp'],
    },
    {
      id: 'nhs-111-999-advice',
      title: 'NHS 111 or 999 advice to the care worker',
      recipient: 'care-worker',
      acknowledgedBy: ['care-worker', 'district-nurse', 'gp'],
      advice:
        'Nobody from the nursing team or the GP has answered. Call NHS 111 now for advice; call 999 if the person is getting worse or has any emergency sign. Stay with the person and record what you are told.',
    },
  ],
  deadlineMinutes: { urgent: { setting: 'escalation.urgent-deadline-minutes' }, routine: { setting: 'escalation.routine-deadline-minutes' } },
  emergency: {
    tier: 'nhs-111-999-advice',
    inform: ['accountable-district-nurse'],
    advice: 'Call 999 now. Stay with the person. The accountable nurse has been informed.',
    awayFromBedsideAdvice:
      'Emergency sign recorded by someone other than a care worker at the bedside: a care worker may not be with the person. If you are with them, call 999 now; otherwise contact the person or whoever is with them now, and call 999 for them if you cannot be sure they are safe.',
  },
  decisionRequested: {
    emergency: 'Emergency response: 999 called by the care worker; nurse to follow up.',
    emergencyAwayFromBedside: 'Emergency response now: not recorded by a care worker at the bedside; make sure someone is with the person and 999 is called.',
    urgent: 'Urgent clinical review: please call back or visit.',
    routine: 'Review today and update the plan.',
  },
};

const NEWS2_SOURCE = { reference: 'Royal College of Physicians, NEWS2 (2017); docs/clinical/reference.md section 5', status: 'national' } as const;

/** NEWS2 response bands; a total at or below the person's agreed baseline does not fire the medium band (RESTORE2). */
export const NEWS2_RULES: Definition['rules'] = [
  {
    id: 'news2.high',
    title: 'NEWS2 7 or more',
    when: { news2: 'total', atLeast: 7 },
    urgency: 'emergency',
    recommendation: 'Emergency response: call 999.',
    source: NEWS2_SOURCE,
  },
  {
    id: 'news2.medium',
    title: 'NEWS2 5 or 6',
    when: { news2: 'total', atLeast: 5, below: 7, aboveBaseline: true },
    urgency: 'urgent',
    recommendation: 'Urgent response: clinical review by a registered nurse or GP.',
    source: NEWS2_SOURCE,
  },
  {
    id: 'news2.single-parameter-3',
    title: 'NEWS2: a score of 3 in one parameter',
    when: { news2: 'anySingleParameter', atLeast: 3 },
    urgency: 'urgent',
    recommendation: 'Urgent clinical review: one observation is far outside its normal range.',
    source: NEWS2_SOURCE,
  },
];

/** RESTORE2: emergencies mean 999 at once, without waiting for a score. */
export const RESTORE2_EMERGENCY_RULE: Definition['rules'][number] = {
  id: 'restore2.emergency-signs',
  title: 'Emergency sign (chest pain, stroke signs, prolonged seizure, unresponsive)',
  when: {
    entry: 'SoftSignsRecorded',
    signs: ['emergencySigns.chestPain', 'emergencySigns.strokeSigns', 'emergencySigns.prolongedSeizure', 'emergencySigns.unresponsive'],
    atLeast: 1,
  },
  urgency: 'emergency',
  recommendation: 'Call 999 now; do not wait for a score.',
  source: { reference: 'RESTORE2; docs/clinical/reference.md section 5', status: 'national' },
};

/** NICE NG51 red flags that the record can see (mottled skin, rash and urine output are not recorded yet). */
export const SEPSIS_RED_FLAGS_RULE: Definition['rules'][number] = {
  id: 'sepsis.red-flag',
  title: 'Sepsis red flag',
  when: {
    anyOf: [
      { observation: 'respirationRate', atLeast: 25 },
      { observation: 'pulse', above: 130 },
      { observation: 'systolic', atMost: 90 },
      { observation: 'consciousness', oneOf: ['C', 'V', 'P', 'U'] },
    ],
  },
  urgency: 'emergency',
  recommendation: 'Possible sepsis: call 999.',
  source: { reference: 'NICE NG51 (adults); a newer NICE guideline may replace it (docs/clinical/reference.md section 6)', status: 'UNVERIFIED' },
};

export const competenceSettings = (o: { supervisedPractices: number; supervisedSource: string; reviewIntervalDays: number; reviewSource: string }) => ({
  'competence.supervised-practices': (o.supervisedSource.includes('UNVERIFIED') ? unverifiedNumber : localNumber)(o.supervisedPractices, {
    min: 1,
    max: 20,
    integer: true,
    unit: 'observed practices',
    source: o.supervisedSource,
  }),
  'competence.reassessment-months': localNumber(12, {
    min: 1,
    max: 36,
    integer: true,
    unit: 'months',
    source: 'docs/clinical/reference.md section 1: no national rule; common local practice is annual reassessment',
  }),
  'delegation.review-interval-days': localNumber(o.reviewIntervalDays, {
    min: 1,
    max: 365,
    integer: true,
    unit: 'days',
    source: o.reviewSource,
  }),
});
