import type { FrameworkDefinition } from './schema';
import { HYPO_PROTOCOL_PROMPT } from '@tandem/contracts';
import { competenceSettings, ESCALATION_PATH, ESCALATION_SETTINGS, JBDS, localBoolean, localNumber, NEWS2_RULES, RESTORE2_EMERGENCY_RULE } from './shared';


/**
 * Delegation of insulin administration (Diabetes UK, NHS England, TREND Diabetes; sample policy
 * Nov 2022): adults whose diabetes is stable, insulin given by pen (docs/clinical/reference.md section 2).
 */
export const insulinAdministration = {
  id: 'insulin-administration',
  version: 1,
  title: 'Insulin administration by pen',
  summary:
    'A district nurse delegates giving insulin by pen to a trained, signed-off care worker, for one adult whose diabetes is stable, under a person-specific instruction. Blood glucose is checked before each dose; lows, highs and withheld doses reach the nurse.',
  sources: [
    'Diabetes UK, NHS England, TREND Diabetes: Delegation of Insulin Administration (sample policy, Nov 2022)',
    'NPSA/2011/PSA003 Insulin Passport; NHS/PSA/W/2016/011 (never withdraw insulin from a pen with a syringe)',
    'JBDS-01 The hospital management of hypoglycaemia in adults with diabetes',
  ],
  activities: [{ id: 'insulin-administration', title: 'Give insulin by pen as instructed', entry: 'InsulinAdministered', instruction: 'insulin' }],
  mayDelegate: ['district-nurse'],
  mayReceive: ['care-worker'],
  eligibility: [
    { fact: 'ageYears', description: 'An adult (18 or over)', atLeast: 18, source: { reference: 'Delegation of Insulin Administration: scope', status: 'national' } },
    {
      fact: 'diabetesStable',
      description: 'Diabetes is stable, as judged by the delegating nurse',
      equals: true,
      source: { reference: 'Delegation of Insulin Administration: scope', status: 'national' },
    },
    { fact: 'insulinDevice', description: 'Insulin is given by pen', equals: 'pen', source: { reference: 'Delegation of Insulin Administration: scope', status: 'national' } },
  ],
  competence: {
    trainingModules: [
      { id: 'diabetes-awareness', title: 'Diabetes awareness (e-learning)' },
      { id: 'blood-glucose-monitoring', title: 'Blood glucose monitoring (workbook)' },
      { id: 'subcutaneous-insulin-by-pen', title: 'Subcutaneous insulin by pen: sites, technique, sharps (workbook)' },
      { id: 'hypo-and-hyperglycaemia', title: 'Recognising and treating hypoglycaemia; when glucose is high' },
      { id: 'insulin-safety', title: 'Insulin safety: "units" in full, the Insulin Passport, never a syringe from a pen' },
    ],
    supervisedPractices: { setting: 'competence.supervised-practices' },
    assessors: ['district-nurse'],
    reassessmentMonths: { setting: 'competence.reassessment-months' },
  },
  review: { intervalDays: { setting: 'delegation.review-interval-days' } },
  monitoring: [
    {
      id: 'glucose-before-insulin',
      title: 'Blood glucose before each insulin dose',
      entry: 'BloodGlucoseRecorded',
      schedule: { kind: 'before', activityId: 'insulin-administration', withinMinutes: { setting: 'monitoring.glucose-before-insulin-minutes' } },
      missedUrgency: 'routine',
      source: { reference: 'Delegation of Insulin Administration: blood glucose checked before each dose', status: 'national' },
    },
  ],
  escalation: ESCALATION_PATH,
  parameters: {},
  prompts: {
    'hypo-protocol': HYPO_PROTOCOL_PROMPT,
  },
  rules: [
    {
      id: 'insulin.hypo',
      title: 'Hypoglycaemia (blood glucose below 4.0 mmol/L)',
      when: { observation: 'glucose', below: 4.0 },
      urgency: 'urgent',
      recommendation: 'Hypo protocol started by the care worker; nurse to review the insulin dose and the plan.',
      prompt: 'hypo-protocol',
      recheckMinutes: 15,
      withhold: {
        activityId: 'insulin-administration',
        enabled: { setting: 'insulin.withhold-below-4' },
        step: 'Do not give insulin now: the nurse will advise on this dose.',
      },
      source: JBDS,
      // the whole-record hypoglycaemia rule, with this framework's withhold step and delegation
      covers: ['hypoglycaemia.below-4'],
    },
    {
      id: 'insulin.hyper',
      title: 'High blood glucose on consecutive readings',
      when: {
        observation: 'glucose',
        atLeast: { setting: 'insulin.hyperglycaemia-mmol-l' },
        consecutive: { setting: 'insulin.hyperglycaemia-consecutive-readings' },
      },
      urgency: 'urgent',
      recommendation: 'Nurse or GP to review: check ketones where possible, look for illness or missed doses.',
      source: { reference: 'docs/clinical/reference.md section 2: no single national threshold', status: 'LOCAL' },
    },
    {
      id: 'insulin.ketones',
      title: 'Blood ketones raised',
      when: { observation: 'ketones', atLeast: { setting: 'insulin.ketones-mmol-l' } },
      urgency: 'urgent',
      recommendation: 'Urgent review for diabetic ketoacidosis.',
      source: { reference: 'docs/clinical/reference.md section 2: no single national threshold', status: 'LOCAL' },
    },
    {
      id: 'insulin.withheld',
      title: 'Insulin dose withheld',
      when: { entry: 'InsulinWithheld' },
      urgency: 'routine',
      recommendation: 'Nurse informed: review the reason and whether the dose or the plan should change.',
      source: { reference: 'Delegation of Insulin Administration: the delegating nurse is told of every omitted dose', status: 'national' },
    },
    {
      id: 'insulin.outside-delegation',
      title: 'Insulin recorded without an active delegation and a current competence',
      when: { withoutDelegation: 'insulin-administration' },
      urgency: 'urgent',
      incident: true,
      recommendation: 'Recorded as given (the record never refuses a fact). Nurse to check the person and review how the dose came to be given.',
      source: { reference: 'NMC Code 11; DESIGN.md: never refuse to record a fact', status: 'national' },
    },
    {
      id: 'insulin.unchecked-dose',
      title: 'Insulin recorded that the record could not check against the instruction',
      // Set on the dose only when the person had to confirm it (docs/decisions/0013-coded-insulin.md).
      when: { entry: 'InsulinAdministered', signs: ['confirmedUnknownProduct', 'confirmedAgainstInstruction'], atLeast: 1 },
      urgency: 'urgent',
      incident: true,
      recommendation:
        'Recorded as given (the record never refuses a fact): a product the record does not know, or a dose given differently from the instruction. Nurse to check the person, the pen and the Insulin Passport against the instruction.',
      source: { reference: 'docs/decisions/0013-coded-insulin.md; Never Event: insulin overdose due to the wrong product or dose', status: 'LOCAL' },
    },
    ...NEWS2_RULES,
    RESTORE2_EMERGENCY_RULE,
  ],
  settings: {
    ...competenceSettings({
      supervisedPractices: 3,
      supervisedSource: 'docs/clinical/reference.md section 2: number of observed supervised administrations UNVERIFIED (LOCAL; default 3)',
      reviewIntervalDays: 90,
      reviewSource: 'docs/clinical/reference.md section 1: review interval has no national rule (LOCAL)',
    }),
    ...ESCALATION_SETTINGS,
    'insulin.withhold-below-4': localBoolean(true, {
      source: 'docs/clinical/reference.md section 2: "Do not give insulin when BG < 4" is LOCAL policy, on by default',
    }),
    'insulin.hyperglycaemia-mmol-l': localNumber(15, {
      min: 10,
      max: 30,
      unit: 'mmol/L',
      source: 'docs/clinical/reference.md section 2: no national threshold; default 15 mmol/L',
    }),
    'insulin.hyperglycaemia-consecutive-readings': localNumber(2, {
      min: 1,
      max: 5,
      integer: true,
      unit: 'readings',
      source: 'docs/clinical/reference.md section 2: default two consecutive readings',
    }),
    'insulin.ketones-mmol-l': localNumber(1.5, { min: 0.5, max: 5, unit: 'mmol/L', source: 'docs/clinical/reference.md section 2: default 1.5 mmol/L where measured' }),
    'monitoring.glucose-before-insulin-minutes': localNumber(60, {
      min: 5,
      max: 240,
      integer: true,
      unit: 'minutes',
      source: 'Local policy: how long before a dose the blood glucose check still counts',
    }),
  },
} satisfies FrameworkDefinition;
