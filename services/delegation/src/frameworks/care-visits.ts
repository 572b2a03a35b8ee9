import type { RulesetDefinition } from './schema';
import { ESCALATION_SETTINGS } from './shared';

/**
 * Late and missed home-care visits (NICE QS123, statement 5: people have visits of the agreed
 * length at the agreed time; late and missed visits are what it measures). Not a framework of
 * delegated activities: the scheduler raises these from a visit's own deadlines (its planned
 * start plus the LOCAL tolerance; its planned end with no check-in), and the first people told are
 * the registered manager of the provider whose visit it is, who can send someone
 * (docs/clinical/escalation-recipients.md; docs/decisions/0025-visits.md). Nobody answering, the
 * person's nursing team (then GP) hears of it: a person left without their visit may be left
 * without their medicines, food or help to the toilet.
 */
export const CARE_VISITS_RULESET_ID = 'care-visits';

export const VISIT_RULE_IDS = { late: 'visit.late', missed: 'visit.missed' } as const;

export const careVisitsRules = {
  id: CARE_VISITS_RULESET_ID,
  version: 1,
  title: 'Late and missed home-care visits',
  summary:
    'A visit not checked in by its planned start plus the tolerance is late; one whose planned end passed with no check-in is missed. Each is escalated once to the registered manager of the provider, then to the nursing team.',
  sources: ['NICE QS123 Home care for older people (2016), statement 5 and its measures of late and missed visits', 'LOCAL: the late tolerance (TANDEM_VISIT_LATE_TOLERANCE_MINUTES)'],
  monitoring: [],
  escalation: {
    tiers: [
      {
        id: 'registered-manager-of-provider',
        title: 'Registered manager of the care provider',
        recipient: 'registered-manager-of-provider',
        acknowledgedBy: ['registered-manager'],
      },
      {
        id: 'nursing-team',
        title: 'Nursing team (then the GP)',
        recipient: 'accountable-district-nurse',
        acknowledgedBy: ['district-nurse', 'gp', 'registered-manager'],
      },
    ],
    deadlineMinutes: { urgent: { setting: 'escalation.urgent-deadline-minutes' }, routine: { setting: 'escalation.routine-deadline-minutes' } },
    // No visit finding is an emergency; the path needs an emergency tier all the same.
    emergency: { tier: 'nursing-team', inform: ['registered-manager-of-provider'], advice: 'Make sure someone is with the person now.' },
    decisionRequested: {
      emergency: 'Make sure someone is with the person now.',
      urgent: 'Send a care worker now, or make sure the person is safe and tell them (and their family) when someone will come.',
      routine: 'Review the visit today.',
    },
  },
  parameters: {},
  prompts: {},
  rules: [],
  settings: { ...ESCALATION_SETTINGS },
} satisfies RulesetDefinition;
