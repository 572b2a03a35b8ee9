import type { PlannedVisit } from '@tandem/contracts';
import type { Ruleset } from '../frameworks/schema';
import { VISIT_RULE_IDS } from '../frameworks/care-visits';
import { sbardFor, type EscalationToRaise } from './escalations';

/**
 * What a late or missed visit raises (docs/decisions/0025-visits.md): urgent, to the provider's
 * registered manager first. Pure: the scheduler gives the visit as its stream tells it.
 */

const timeInEngland = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const dayInEngland = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'short', day: 'numeric', month: 'short' });
const hhmm = (at: string): string => timeInEngland.format(new Date(at));

export const visitEscalation = (ruleset: Ruleset, visit: PlannedVisit, kind: 'late' | 'missed'): EscalationToRaise => {
  const when = `${dayInEngland.format(new Date(visit.plannedStart))} ${hhmm(visit.plannedStart)} to ${hhmm(visit.plannedEnd)}`;
  const title = kind === 'late' ? `Visit late: not checked in ${visit.lateToleranceMinutes} minutes after its planned start` : 'Visit missed: its planned end passed with no check-in';
  const tasks = visit.tasks.map((t) => `${t.description}${t.delegationId ? ` (delegated activity ${t.delegationId})` : ''}`);
  return {
    frameworkId: ruleset.id,
    ruleId: VISIT_RULE_IDS[kind],
    title,
    urgency: 'urgent',
    incident: kind === 'missed',
    triggeringEntryIds: [],
    sbard: sbardFor(
      ruleset,
      {
        title: `${title}. Visit ${visit.visitId}, planned ${when} (England) by ${visit.providerOrganisationId}`,
        urgency: 'urgent',
        findings: [`care worker${visit.careWorkerIds.length > 1 ? 's' : ''} ${visit.careWorkerIds.join(', ')} had not checked in`, ...(tasks.length ? [`tasks planned: ${tasks.join('; ')}`] : [])],
        recommendation:
          kind === 'late'
            ? 'Find out where the care worker is; send someone else if she cannot come soon, and tell the person when someone will arrive.'
            : 'Make sure the person is safe now: send a care worker, and check any medicines or delegated activities that were due in the visit.',
      },
      'A home-care visit planned for the person (NICE QS123 measures late and missed visits).',
    ),
  };
};
