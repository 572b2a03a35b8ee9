import type { RulesetDefinition } from './schema';
import { ESCALATION_SETTINGS, localNumber } from './shared';

/**
 * Scheduled doses left with no outcome (issue 13; docs/decisions/0023). Not a framework of
 * delegated activities: the scheduler raises these from a medication order's scheduled times. A
 * dose with no outcome by its time plus the tolerance prompts the care worker(s) of the person;
 * still nothing after a further interval, the person's nursing team is told (urgent when the
 * medicine is time-critical: insulin, Parkinson's medicines). Every interval is LOCAL: no national
 * rule says how late a dose is "overdue" (NICE SC1 asks providers to set it in their policy).
 */
export const MEDICINES_RULESET_ID = 'medicines';

export const DOSE_RULE_IDS = { overdue: 'medicine.dose-overdue' } as const;

export const DOSE_SETTINGS = {
  tolerance: 'dose.overdue-after-minutes',
  timeCriticalTolerance: 'dose.time-critical-overdue-after-minutes',
  escalateAfter: 'dose.escalate-after-minutes',
  timeCriticalEscalateAfter: 'dose.time-critical-escalate-after-minutes',
} as const;

export const medicinesRules = {
  id: MEDICINES_RULESET_ID,
  version: 1,
  title: 'Scheduled doses overdue',
  summary:
    'A scheduled dose with no outcome recorded by its time plus the tolerance (tighter for time-critical medicines) prompts the care worker; still none after a further interval, it is escalated once to the nursing team.',
  sources: [
    'NICE SC1 Managing medicines for adults receiving social care in the community (2017): the provider sets out how late or missed doses are handled',
    'LOCAL: the tolerances and the further interval (the dose.* settings)',
  ],
  monitoring: [],
  escalation: {
    tiers: [
      {
        id: 'nursing-team',
        title: 'Nursing team (then the GP)',
        recipient: 'accountable-district-nurse',
        acknowledgedBy: ['district-nurse', 'gp'],
      },
    ],
    deadlineMinutes: { urgent: { setting: 'escalation.urgent-deadline-minutes' }, routine: { setting: 'escalation.routine-deadline-minutes' } },
    // No overdue dose is an emergency by itself; the path needs an emergency tier all the same.
    emergency: { tier: 'nursing-team', inform: [], advice: 'If the person is unwell now, call 999.' },
    decisionRequested: {
      emergency: 'If the person is unwell now, call 999.',
      urgent: 'Decide now whether the dose is still to be given, and by whom (a time-critical medicine late can harm).',
      routine: 'Decide today whether the dose is still to be given, and review why it was not recorded.',
    },
  },
  parameters: {},
  prompts: {},
  rules: [],
  settings: {
    ...ESCALATION_SETTINGS,
    [DOSE_SETTINGS.tolerance]: localNumber(60, { min: 15, max: 240, integer: true, unit: 'minutes', source: 'LOCAL: the provider\'s medicines policy (NICE SC1); 60 minutes is the common default' }),
    [DOSE_SETTINGS.timeCriticalTolerance]: localNumber(30, {
      min: 5,
      max: 60,
      integer: true,
      unit: 'minutes',
      source: 'LOCAL: time-critical medicines (insulin, Parkinson\'s medicines) are given within 30 minutes of their time (Parkinson\'s UK "Get It On Time"; NPSA 2010 omitted and delayed medicines)',
    }),
    [DOSE_SETTINGS.escalateAfter]: localNumber(60, { min: 15, max: 480, integer: true, unit: 'minutes', source: 'LOCAL: how long after the prompt a dose still unrecorded reaches the nursing team' }),
    [DOSE_SETTINGS.timeCriticalEscalateAfter]: localNumber(15, { min: 5, max: 60, integer: true, unit: 'minutes', source: 'LOCAL: the same for a time-critical medicine' }),
  },
} satisfies RulesetDefinition;
