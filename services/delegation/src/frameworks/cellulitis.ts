import type { FrameworkDefinition } from './schema';
import {
  competenceSettings,
  ESCALATION_PATH,
  ESCALATION_SETTINGS,
  localNumber,
  NEWS2_RULES,
  RESTORE2_EMERGENCY_RULE,
  SEPSIS_RED_FLAGS_RULE,
} from './shared';

const NG141 = { reference: 'NICE NG141 Cellulitis and erysipelas; docs/clinical/reference.md section 4', status: 'national' } as const;

/**
 * Cellulitis, Eron class I only (no systemic toxicity): the only class suitable for community
 * monitoring by care workers (docs/clinical/reference.md section 4). A daily check of the marked area, temperature
 * and vital signs; spread beyond the line, fever or a rising NEWS2 go to the nurse urgently.
 */
export const cellulitisEronClassI = {
  id: 'cellulitis-eron-1',
  version: 1,
  title: 'Cellulitis (Eron class I): daily check of the marked area',
  summary:
    'A district nurse marks the border of the redness and delegates a daily check to a trained care worker: the marked area, temperature, vital signs, pain and limb elevation. Spread beyond the line, a temperature of 38.1 C or more, or a rising NEWS2 are urgent; sepsis red flags are an emergency.',
  sources: ['NICE NG141 Cellulitis and erysipelas: antimicrobial prescribing', 'NICE NG51 Sepsis (red flags)'],
  activities: [{ id: 'cellulitis-check', title: 'Check the marked area, temperature and pain; keep the limb raised', entry: 'CellulitisChecked', instruction: 'general' }],
  mayDelegate: ['district-nurse'],
  mayReceive: ['care-worker'],
  eligibility: [
    { fact: 'eronClass', description: 'Eron class I (no systemic toxicity): classes II to IV need clinician management', equals: 1, source: NG141 },
    { fact: 'borderMarked', description: 'The border of the redness has been marked with a single-use skin marker', equals: true, source: NG141 },
  ],
  competence: {
    trainingModules: [
      { id: 'cellulitis-marked-border', title: 'The marked border: within or beyond the line; darker skin and its limits' },
      { id: 'temperature-and-vital-signs', title: 'Temperature and vital signs; NEWS2' },
      { id: 'sepsis-red-flags', title: 'Sepsis red flags: when to call 999' },
      { id: 'limb-elevation-and-skin-care', title: 'Limb elevation, pain and skin care' },
    ],
    supervisedPractices: { setting: 'competence.supervised-practices' },
    assessors: ['district-nurse'],
    reassessmentMonths: { setting: 'competence.reassessment-months' },
  },
  review: { intervalDays: { setting: 'delegation.review-interval-days' } },
  monitoring: [
    {
      id: 'cellulitis-daily-check',
      title: 'Daily check of the marked area',
      entry: 'CellulitisChecked',
      schedule: { kind: 'every', everyMinutes: 1440, graceMinutes: { setting: 'monitoring.grace-minutes' } },
      missedUrgency: 'urgent',
      source: NG141,
    },
    {
      id: 'vital-signs',
      title: 'Vital signs, daily',
      entry: 'VitalSignsRecorded',
      schedule: { kind: 'every', everyMinutes: 1440, graceMinutes: { setting: 'monitoring.grace-minutes' } },
      missedUrgency: 'routine',
      source: NG141,
    },
  ],
  escalation: ESCALATION_PATH,
  parameters: {},
  prompts: {},
  rules: [
    {
      id: 'cellulitis.beyond-marked-line',
      title: 'Redness spreading beyond the marked line',
      when: { entry: 'CellulitisChecked', signs: ['rednessBeyondMarkedLine'], atLeast: 1 },
      urgency: 'urgent',
      recommendation: 'Nurse to reassess today (some early spread is expected; spread after that is not).',
      source: NG141,
    },
    {
      id: 'cellulitis.fever',
      title: 'Temperature 38.1 C or more',
      when: { observation: 'temperature', atLeast: 38.1 },
      urgency: 'urgent',
      recommendation: 'Nurse to reassess: the person may be becoming systemically unwell.',
      source: NG141,
    },
    {
      id: 'cellulitis.news2-rising',
      title: 'NEWS2 rising',
      when: { news2: 'rise', atLeast: { setting: 'cellulitis.news2-rise' } },
      urgency: 'urgent',
      recommendation: 'Nurse to reassess: the person may be becoming systemically unwell.',
      source: { reference: 'NICE NG141: reassess if the person becomes systemically unwell; the size of rise is LOCAL', status: 'LOCAL' },
    },
    SEPSIS_RED_FLAGS_RULE,
    ...NEWS2_RULES,
    RESTORE2_EMERGENCY_RULE,
  ],
  settings: {
    ...competenceSettings({
      supervisedPractices: 2,
      supervisedSource: 'No national number of supervised practices for this framework (LOCAL)',
      reviewIntervalDays: 3,
      reviewSource: 'NICE NG141: reassess if not improving in 2 to 3 days; review interval LOCAL',
    }),
    ...ESCALATION_SETTINGS,
    'cellulitis.news2-rise': localNumber(1, {
      min: 1,
      max: 5,
      integer: true,
      unit: 'NEWS2 points',
      source: 'No national rule for "NEWS2 rising": default any rise from the last complete score',
    }),
    'monitoring.grace-minutes': localNumber(120, {
      min: 0,
      max: 720,
      integer: true,
      unit: 'minutes',
      source: 'Local policy: how late a scheduled check may be before it is escalated as missed',
    }),
  },
} satisfies FrameworkDefinition;
