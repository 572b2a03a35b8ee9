import type { RulesetDefinition } from './schema';
import { HYPO_PROTOCOL_PROMPT } from '@tandem/contracts';
import { ESCALATION_PATH, ESCALATION_SETTINGS, JBDS, NEWS2_RULES, RESTORE2_EMERGENCY_RULE, SEPSIS_RED_FLAGS_RULE } from './shared';

/**
 * The whole-record rules: evaluated for every person whose record Tandem holds, with or without a
 * delegation (docs/clinical/reference.md sections 5 and 6). A framework that spreads the same
 * rules (NEWS2 in the insulin framework) does not raise them a second time: a rule raises one
 * escalation per entry, whichever ruleset found it first; a framework rule that stands for a
 * whole-record one says so with `covers` (insulin.hypo covers hypoglycaemia.below-4).
 *
 * Without a delegation the escalation's first tier is the person's nursing team, then their
 * registered GP, then the registered manager of the care service
 * (docs/clinical/escalation-recipients.md).
 */
export const WHOLE_RECORD_RULESET_ID = 'whole-record';


export const wholeRecordRules = {
  id: WHOLE_RECORD_RULESET_ID,
  version: 1,
  title: 'Deterioration in the whole record',
  summary:
    'NEWS2 bands, RESTORE2 soft and emergency signs, the sepsis red flags and hypoglycaemia, for everyone whose record Tandem holds, whether or not any activity is delegated for them.',
  sources: [
    'Royal College of Physicians, NEWS2 (2017)',
    'RESTORE2 (Recognise Early Soft-signs, Take Observations, Respond, Escalate)',
    'NICE NG51 sepsis (adults)',
    'JBDS-01 The hospital management of hypoglycaemia in adults with diabetes',
  ],
  monitoring: [],
  escalation: ESCALATION_PATH,
  parameters: {},
  prompts: {
    'hypo-protocol': HYPO_PROTOCOL_PROMPT,
    'soft-signs': {
      title: 'Not their usual self: take observations',
      steps: [
        'Take a full set of observations now (respiration, SpO2, blood pressure, pulse, consciousness, temperature) and record them: NEWS2 is worked out for you.',
        'Stay with the person if you are worried. Any emergency sign (chest pain, stroke signs, a seizure that does not stop, unresponsive): call 999 now.',
      ],
    },
  },
  rules: [
    ...NEWS2_RULES,
    RESTORE2_EMERGENCY_RULE,
    SEPSIS_RED_FLAGS_RULE,
    {
      id: 'hypoglycaemia.below-4',
      title: 'Hypoglycaemia (blood glucose below 4.0 mmol/L)',
      when: { observation: 'glucose', below: 4.0 },
      urgency: 'urgent',
      recommendation: 'Hypo protocol started by the care worker; nurse or GP to review why the glucose is low and the plan.',
      prompt: 'hypo-protocol',
      recheckMinutes: 15,
      source: JBDS,
    },
    {
      id: 'medicines.given-despite-allergy',
      title: 'A medicine given despite an allergy recorded to it',
      // Set on the dose only when the person giving it confirmed it past the allergy stop (docs/decisions/0023).
      when: { entry: 'MedicineDoseRecorded', signs: ['confirmedDespiteAllergy'], atLeast: 1 },
      urgency: 'urgent',
      incident: true,
      recommendation:
        'Recorded as given (the record never refuses a fact). Nurse or GP to assess the person now for a reaction (breathing, swelling, rash: anaphylaxis is a 999 call) and review how it came to be given.',
      source: { reference: 'NICE CG183 drug allergy; docs/decisions/0023-medication-orders-and-mar.md', status: 'LOCAL' },
    },
    {
      id: 'medicines.over-daily-maximum',
      title: 'A PRN medicine given above its maximum in 24 hours',
      when: { entry: 'MedicineDoseRecorded', signs: ['confirmedOverDailyMaximum'], atLeast: 1 },
      urgency: 'urgent',
      incident: true,
      recommendation: 'Recorded as given. Nurse or GP to check the person for overdose (paracetamol above its maximum needs advice now: NHS 111) and review the PRN plan.',
      source: { reference: 'docs/decisions/0023-medication-orders-and-mar.md', status: 'LOCAL' },
    },
    {
      id: 'restore2.soft-signs',
      title: 'Soft signs: not their usual self (RESTORE2)',
      when: {
        entry: 'SoftSignsRecorded',
        signs: [
          'softSigns.newConfusion',
          'softSigns.reducedEatingOrDrinking',
          'softSigns.breathlessness',
          'softSigns.unsteadiness',
          'softSigns.distress',
          'softSigns.withdrawal',
          'softSigns.tiredness',
        ],
        atLeast: 1,
      },
      urgency: 'routine',
      recommendation: 'Take observations (NEWS2) now; nursing team to review today against the person’s usual self.',
      prompt: 'soft-signs',
      source: { reference: 'RESTORE2; docs/clinical/reference.md section 5: the urgency of soft signs alone is a LOCAL choice', status: 'LOCAL' },
    },
  ],
  settings: { ...ESCALATION_SETTINGS },
} satisfies RulesetDefinition;
