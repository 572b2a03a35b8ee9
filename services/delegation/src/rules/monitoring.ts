import type { Urgency } from '@tandem/contracts';
import type { Ruleset } from '../frameworks/schema';
import { inWords, type CareEntryType } from '../frameworks/vocabulary';
import { addMinutes, instantOf } from '../machines/decider';
import { currentEntries, type CareStreamEvent } from './entries';
import { sbardFor, type EscalationToRaise } from './escalations';
import type { CarePrompt } from './evaluate';

/**
 * Missed monitoring: an activity the framework asks for at intervals (a daily cellulitis check, the
 * fluid chart) not recorded by its deadline, or a recheck the rules asked for (blood glucose 15
 * minutes after a hypo) not done by its dueAt. Pure: the scheduler at the edge fires at `missedAt`
 * (or the recheck's dueAt) and calls these with its clock's time.
 */

export interface MonitoringDue {
  readonly monitoringId: string;
  readonly title: string;
  readonly entry: CareEntryType;
  /** The last time it was recorded (since the delegation became active). */
  readonly lastRecordedAt?: string;
  readonly dueAt: string;
  /** dueAt plus the grace: when it is escalated as missed. */
  readonly missedAt: string;
  readonly urgency: Urgency;
}

/** When each repeating monitoring activity is next due, counting from `since` (the delegation's activation). */
export const monitoringDue = (framework: Ruleset, events: readonly CareStreamEvent[], since: string): MonitoringDue[] => {
  const entries = currentEntries(events).filter((e) => instantOf(e.occurredAt) >= instantOf(since));
  return framework.monitoring.flatMap((m) => {
    if (m.schedule.kind !== 'every') return [];
    const last = [...entries].reverse().find((e) => e.type === m.entry);
    const dueAt = addMinutes(last?.occurredAt ?? since, m.schedule.everyMinutes);
    return [
      {
        monitoringId: m.id,
        title: m.title,
        entry: m.entry,
        ...(last ? { lastRecordedAt: last.occurredAt } : {}),
        dueAt,
        missedAt: addMinutes(dueAt, m.schedule.graceMinutes),
        urgency: m.missedUrgency,
      },
    ];
  });
};

/** Escalations for every repeating monitoring activity past its deadline at `now`. */
export const missedMonitoring = (
  framework: Ruleset,
  input: { events: readonly CareStreamEvent[]; since: string; now: string; background?: string; openEscalationRuleIds?: readonly string[] },
): EscalationToRaise[] => {
  const open = new Set(input.openEscalationRuleIds ?? []);
  return monitoringDue(framework, input.events, input.since)
    .filter((due) => instantOf(due.missedAt) <= instantOf(input.now) && !open.has(`monitoring.${due.monitoringId}.missed`))
    .map((due) => {
      const title = `Missed: ${due.title}`;
      const finding = `no ${inWords(due.entry)} entry since ${due.lastRecordedAt ?? `${input.since} (when the delegation started)`}; it was due at ${due.dueAt}`;
      return {
        frameworkId: framework.id,
        ruleId: `monitoring.${due.monitoringId}.missed`,
        title,
        urgency: due.urgency,
        incident: false,
        triggeringEntryIds: [],
        sbard: sbardFor(
          framework,
          { title, urgency: due.urgency, findings: [finding], recommendation: 'Find out why the check was not recorded and whether the person is well.' },
          input.background,
        ),
      };
    });
};

/**
 * A recheck a rule asked for (e.g. blood glucose 15 minutes after a hypo) not recorded by its
 * dueAt: escalated with the urgency of the rule that asked for it.
 */
export const missedRecheck = (
  framework: Ruleset,
  prompt: CarePrompt,
  input: { events: readonly CareStreamEvent[]; now: string; background?: string },
): EscalationToRaise | undefined => {
  const { recheck } = prompt;
  if (!recheck || instantOf(input.now) < instantOf(recheck.dueAt)) return undefined;
  const entries = currentEntries(input.events);
  const after = entries.find((e) => e.id === recheck.afterEntryId);
  const from = instantOf(after?.occurredAt ?? recheck.dueAt);
  const done = entries.some((e) => e.type === recheck.entry && e.id !== recheck.afterEntryId && instantOf(e.occurredAt) > from);
  if (done) return undefined;
  const rule = framework.rules.find((r) => r.id === prompt.ruleId);
  const urgency = rule?.urgency ?? 'urgent';
  const title = `Recheck not recorded: ${prompt.title}`;
  return {
    frameworkId: framework.id,
    ruleId: `${prompt.ruleId}.recheck-missed`,
    title,
    urgency,
    incident: false,
    triggeringEntryIds: [recheck.afterEntryId],
    sbard: sbardFor(
      framework,
      { title, urgency, findings: [`no ${inWords(recheck.entry)} recorded after ${after?.occurredAt ?? 'the first reading'}; the recheck was due at ${recheck.dueAt}`], recommendation: 'Call the care worker now: is the person safe?' },
      input.background,
    ),
  };
};
