import type { FrameworkDefinition } from './schema';
import {
  competenceSettings,
  ESCALATION_PATH,
  ESCALATION_SETTINGS,
  localNumber,
  NEWS2_RULES,
  RESTORE2_EMERGENCY_RULE,
  SEPSIS_RED_FLAGS_RULE,
  unverifiedNumber,
} from './shared';

const UKHSA = { reference: 'UKHSA urinary tract infection: diagnostic tools for primary care (over-65s); docs/clinical/reference.md section 3', status: 'national' } as const;

/** The UKHSA signs that make a UTI likely at 65 and over (two or more, or new dysuria alone). */
const UKHSA_SIGNS = [
  'signs.newDysuria',
  'signs.temperatureRaised',
  'signs.newFrequencyOrUrgency',
  'signs.newIncontinence',
  'signs.newOrWorseDelirium',
  'signs.newSuprapubicPain',
  'signs.visibleHaematuria',
];

/**
 * Suspected urinary tract infection in people aged 65 and over (NICE QS90, UKHSA): the care worker
 * observes and records signs, vital signs and a fluid chart, follows the agreed plan and escalates.
 * No urine dipsticks at this age; diagnosis and prescribing stay with clinicians.
 */
export const suspectedUti65Plus = {
  id: 'suspected-uti-65-plus',
  version: 1,
  title: 'Suspected urinary tract infection, aged 65 and over',
  summary:
    'A nurse or GP delegates watching a suspected UTI to a trained care worker: a daily symptom screen (no dipsticks), vital signs and a fluid chart. Sepsis or kidney signs are an emergency; new dysuria or two UKHSA signs go to the nurse or GP urgently.',
  sources: [
    'NICE QS90 Urinary tract infections in adults',
    'UKHSA Diagnosis of urinary tract infections: quick reference tool for primary care (over-65s)',
    'NICE NG113 (catheter in place over 7 days)',
  ],
  activities: [
    {
      id: 'uti-observation',
      title: 'Screen urinary signs, take vital signs and keep a fluid chart',
      entry: 'UrinarySymptomsScreened',
      instruction: 'general',
    },
  ],
  mayDelegate: ['district-nurse', 'gp'],
  mayReceive: ['care-worker'],
  eligibility: [{ fact: 'ageYears', description: 'Aged 65 or over', atLeast: 65, source: UKHSA }],
  competence: {
    trainingModules: [
      { id: 'uti-signs-over-65', title: 'UTI signs at 65 and over (UKHSA); why dipsticks are not used' },
      { id: 'sepsis-red-flags', title: 'Sepsis and kidney infection signs: when to call 999' },
      { id: 'vital-signs-and-news2', title: 'Taking vital signs; NEWS2 and soft signs (RESTORE2)' },
      { id: 'fluid-chart-and-hydration', title: 'Fluid charts and encouraging drinks; PINCH ME' },
    ],
    supervisedPractices: { setting: 'competence.supervised-practices' },
    assessors: ['district-nurse'],
    reassessmentMonths: { setting: 'competence.reassessment-months' },
  },
  review: { intervalDays: { setting: 'delegation.review-interval-days' } },
  monitoring: [
    {
      id: 'urinary-symptom-screen',
      title: 'Urinary symptom screen, daily',
      entry: 'UrinarySymptomsScreened',
      schedule: { kind: 'every', everyMinutes: 1440, graceMinutes: { setting: 'monitoring.grace-minutes' } },
      missedUrgency: 'routine',
      source: UKHSA,
    },
    {
      id: 'vital-signs',
      title: 'Vital signs, daily',
      entry: 'VitalSignsRecorded',
      schedule: { kind: 'every', everyMinutes: 1440, graceMinutes: { setting: 'monitoring.grace-minutes' } },
      missedUrgency: 'routine',
      source: { reference: 'RESTORE2: take observations', status: 'national' },
    },
    {
      id: 'fluid-chart',
      title: 'Fluid chart',
      entry: 'FluidIntakeRecorded',
      schedule: { kind: 'every', everyMinutes: { setting: 'uti.fluid-chart-every-minutes' }, graceMinutes: { setting: 'monitoring.grace-minutes' } },
      missedUrgency: 'routine',
      source: { reference: 'docs/clinical/reference.md section 3: keep a fluid chart (interval LOCAL)', status: 'LOCAL' },
    },
  ],
  escalation: ESCALATION_PATH,
  parameters: {
    fluidTargetCupsPerDay: { setting: 'uti.fluid-target-cups-per-day' },
    temperatureRaisedWindowHours: { setting: 'uti.temperature-raised-window-hours' },
  },
  prompts: {
    'pinch-me': {
      title: 'Not a likely UTI yet: look for other causes and encourage drinks',
      steps: [
        'Think PINCH ME: Pain, Infection elsewhere, Nutrition, Constipation, Hydration, Medication, Environment.',
        'Encourage drinks: aim for {fluidTargetCupsPerDay} cups a day, and record them on the fluid chart.',
        'Dark or smelly urine alone is not a sign of UTI (often dehydration).',
        'Count "temperature raised" only when 1.5 C above the person\'s normal twice within {temperatureRaisedWindowHours} hours.',
      ],
    },
  },
  rules: [
    {
      id: 'uti.sepsis-or-pyelonephritis',
      title: 'Sepsis or kidney infection sign',
      when: {
        entry: 'UrinarySymptomsScreened',
        signs: ['sepsisSigns.kidneyPain', 'sepsisSigns.newMyalgia', 'sepsisSigns.nauseaOrVomiting', 'sepsisSigns.rigors'],
        atLeast: 1,
      },
      urgency: 'emergency',
      recommendation: 'Possible sepsis or pyelonephritis: 999 advice now; GP or nurse to assess today.',
      source: UKHSA,
    },
    {
      id: 'uti.new-dysuria',
      title: 'New dysuria',
      when: { entry: 'UrinarySymptomsScreened', signs: ['signs.newDysuria'], atLeast: 1 },
      urgency: 'urgent',
      recommendation: 'UTI likely: GP or nurse to assess (full clinical assessment, no dipstick at 65 and over).',
      source: UKHSA,
    },
    {
      id: 'uti.two-or-more-signs',
      title: 'Two or more UKHSA signs of UTI',
      when: { entry: 'UrinarySymptomsScreened', signs: UKHSA_SIGNS, atLeast: 2 },
      urgency: 'urgent',
      recommendation: 'UTI likely: GP or nurse to assess (full clinical assessment, no dipstick at 65 and over).',
      source: UKHSA,
    },
    {
      id: 'uti.one-sign',
      title: 'One UKHSA sign: consider other causes',
      when: { entry: 'UrinarySymptomsScreened', signs: UKHSA_SIGNS, atLeast: 1 },
      recommendation: 'Consider other causes (PINCH ME) and encourage fluids.',
      prompt: 'pinch-me',
      source: UKHSA,
    },
    {
      id: 'uti.catheter-over-7-days',
      title: 'Urinary catheter in place over 7 days',
      when: { catheterInPlaceMoreThanDays: 7 },
      urgency: 'routine',
      recommendation: 'Change the catheter (a nursing task) before any urine sample is taken.',
      source: { reference: 'NICE NG113; docs/clinical/reference.md section 3', status: 'national' },
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
      reviewSource: 'docs/clinical/reference.md section 1: review interval has no national rule (LOCAL); a suspected infection is reviewed within days',
    }),
    ...ESCALATION_SETTINGS,
    'uti.temperature-raised-window-hours': unverifiedNumber(12, {
      min: 12,
      max: 24,
      integer: true,
      unit: 'hours',
      source: 'docs/clinical/reference.md section 3: sources differ (12 or 24 hours); default 12',
    }),
    'uti.fluid-target-cups-per-day': localNumber(6, { min: 4, max: 10, integer: true, unit: 'cups', source: 'docs/clinical/reference.md section 3: hydration default 6-8 cups a day' }),
    'uti.fluid-chart-every-minutes': localNumber(360, {
      min: 60,
      max: 1440,
      integer: true,
      unit: 'minutes',
      source: 'Local policy: how often the fluid chart must show an entry',
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
