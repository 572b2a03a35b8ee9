import type { Baseline, Urgency } from '@tandem/contracts';
import type { FrameworkRule, RuleSource } from '../frameworks/schema';
import type { CareEntryType, NumericObservation } from '../frameworks/vocabulary';
import { addMinutes, instantOf } from '../machines/decider';
import { evaluateCondition, type Finding, type RecorderAuthority } from './conditions';
import { currentEntries, entryOf, type CareEntry, type CareStreamEvent } from './entries';
import { isRecordedAwayFromBedside, moreUrgent, sbardFor, type EscalationToRaise } from './escalations';

/**
 * Evaluates a framework's rules when the care record gains an entry: a pure function of the
 * framework, the person's recent care record and the new entry. Returns the escalations to raise
 * and the prompts to show the care worker at once. Nothing is refused here: the entry is already
 * recorded; the rules only decide who needs to know.
 *
 * Deterioration rules that fire together raise one escalation, for the most urgent of them, naming
 * the others in its assessment. Incidents (an activity done without authority) and missed
 * monitoring are escalations of their own.
 */

export interface RuleInput {
  /** The event just appended to the person's care stream (an entry, or an amendment of one). */
  readonly event: CareStreamEvent;
  /** The person's recent care-stream events before it (corrections are applied). */
  readonly history: readonly CareStreamEvent[];
  /** The person's usual self, agreed with the clinical team (RESTORE2). */
  readonly baseline?: Baseline;
  /** For an activity entry: whether the person who recorded it had an active delegation and a current competence. */
  readonly authority?: RecorderAuthority;
  /** A sentence about the person and the delegation, for the SBARD background. */
  readonly background?: string;
  /** Rules with an escalation still open for this person: not raised again (the new entry is visible on it). */
  readonly openEscalationRuleIds?: readonly string[];
}

/** What the care worker is told at once. */
export interface CarePrompt {
  readonly ruleId: string;
  readonly promptId?: string;
  readonly title: string;
  readonly steps: readonly string[];
  /** The activity not to perform now (e.g. insulin while glucose is below 4.0 mmol/L). */
  readonly withholdActivityId?: string;
  /** Recheck timer: the same observation again by `dueAt`. */
  readonly recheck?: { readonly entry: CareEntryType; readonly observation?: NumericObservation; readonly afterEntryId: string; readonly dueAt: string };
}

export interface FiredRule {
  readonly ruleId: string;
  readonly urgency?: Urgency;
  readonly finding: Finding;
}

export interface RuleOutcome {
  readonly escalations: EscalationToRaise[];
  readonly prompts: CarePrompt[];
  /** Every rule that fired, with what it found. */
  readonly fired: FiredRule[];
  /** Rules that fired while an escalation for them is still open. */
  readonly alreadyOpen: string[];
}

const fillIn = (step: string, values: Record<string, number | undefined>): string =>
  step.replace(/\{([a-zA-Z0-9]+)\}/g, (whole, name: string) => (values[name] === undefined ? whole : String(values[name])));

const promptFor = (framework: RuleSource, rule: FrameworkRule, entry: CareEntry): CarePrompt | undefined => {
  const withhold = rule.withhold?.enabled ? rule.withhold : undefined;
  if (!rule.prompt && !withhold && rule.recheckMinutes === undefined) return undefined;
  const prompt = rule.prompt ? framework.prompts[rule.prompt] : undefined;
  const values = { ...framework.parameters, recheckMinutes: rule.recheckMinutes };
  const observation = 'observation' in rule.when && !('oneOf' in rule.when) ? rule.when.observation : undefined;
  return {
    ruleId: rule.id,
    ...(rule.prompt ? { promptId: rule.prompt } : {}),
    title: prompt?.title ?? rule.title,
    steps: [...(withhold ? [withhold.step] : []), ...(prompt?.steps ?? []).map((s) => fillIn(s, values))],
    ...(withhold ? { withholdActivityId: withhold.activityId } : {}),
    ...(rule.recheckMinutes !== undefined
      ? { recheck: { entry: entry.type, ...(observation ? { observation } : {}), afterEntryId: entry.id, dueAt: addMinutes(entry.occurredAt, rule.recheckMinutes) } }
      : {}),
  };
};

interface Raised {
  readonly ruleId: string;
  readonly title: string;
  readonly urgency: Urgency;
  readonly recommendation: string;
  readonly finding: Finding;
}

/** "Blood glucose before each insulin dose": an activity recorded without its check just before it. */
const monitoringBefore = (framework: RuleSource, entry: CareEntry, earlier: readonly CareEntry[]): Raised[] =>
  framework.monitoring.flatMap((m) => {
    if (m.schedule.kind !== 'before') return [];
    const { activityId, withinMinutes } = m.schedule;
    const activity = framework.activities?.find((a) => a.id === activityId);
    if (!activity || entry.type !== activity.entry) return [];
    const from = instantOf(entry.occurredAt) - withinMinutes * 60_000;
    const done = earlier.some((e) => e.type === m.entry && instantOf(e.occurredAt) >= from && instantOf(e.occurredAt) <= instantOf(entry.occurredAt));
    if (done) return [];
    return [
      {
        ruleId: `monitoring.${m.id}.missed`,
        title: `Missed: ${m.title}`,
        urgency: m.missedUrgency,
        recommendation: `Nurse informed: ${activity.title.toLowerCase()} was recorded without ${m.title.toLowerCase()} in the ${withinMinutes} minutes before.`,
        finding: { text: `no ${m.title.toLowerCase()} recorded in the ${withinMinutes} minutes before ${entry.occurredAt}`, entryIds: [entry.id] },
      },
    ];
  });

/** The rules of a framework, applied to one new care-stream event. */
export const evaluateEntry = (framework: RuleSource, input: RuleInput): RuleOutcome => {
  const history = currentEntries(input.history);
  const entry = entryOf(input.event, history);
  const empty: RuleOutcome = { escalations: [], prompts: [], fired: [], alreadyOpen: [] };
  if (!entry) return empty;
  const earlier = history.filter((e) => e.id !== entry.id && instantOf(e.occurredAt) <= instantOf(entry.occurredAt));
  const context = { framework, entry, earlier, ...(input.baseline ? { baseline: input.baseline } : {}), ...(input.authority ? { authority: input.authority } : {}) };

  const fired = framework.rules.flatMap((rule) => {
    const finding = evaluateCondition(rule.when, context);
    return finding ? [{ rule, finding }] : [];
  });
  const prompts = fired.map(({ rule }) => promptFor(framework, rule, entry)).filter((p): p is CarePrompt => p !== undefined);

  const open = new Set(input.openEscalationRuleIds ?? []);
  const asRaised = ({ rule, finding }: { rule: FrameworkRule; finding: Finding }): Raised => ({
    ruleId: rule.id,
    title: rule.title,
    urgency: rule.urgency!,
    recommendation: rule.recommendation,
    finding,
  });
  const escalating = fired.filter(({ rule }) => rule.urgency !== undefined);
  const deterioration = escalating.filter(({ rule }) => !rule.incident).map(asRaised);
  const incidents = escalating.filter(({ rule }) => rule.incident).map(asRaised);
  const monitoring = monitoringBefore(framework, entry, earlier);
  const alreadyOpen = [...deterioration, ...incidents, ...monitoring].map((r) => r.ruleId).filter((id) => open.has(id));

  const toRaise = (item: Raised, incident: boolean, also: Raised[] = []): EscalationToRaise => ({
    frameworkId: framework.id,
    ruleId: item.ruleId,
    title: item.title,
    urgency: item.urgency,
    incident,
    triggeringEntryIds: [...new Set([item.finding, ...also.map((a) => a.finding)].flatMap((f) => f.entryIds))],
    ...(isRecordedAwayFromBedside(entry) ? { recordedAwayFromBedside: true } : {}),
    sbard: sbardFor(
      framework,
      { title: item.title, urgency: item.urgency, findings: [item.finding.text], recommendation: item.recommendation, entry, also: also.map((a) => `${a.title}: ${a.finding.text}`) },
      input.background,
    ),
  });

  const pending = deterioration.filter((r) => !open.has(r.ruleId));
  const top = pending.reduce<Raised | undefined>((best, r) => (!best || moreUrgent(r.urgency, best.urgency) ? r : best), undefined);
  const escalations = [
    ...(top ? [toRaise(top, false, pending.filter((r) => r !== top))] : []),
    ...incidents.filter((r) => !open.has(r.ruleId)).map((r) => toRaise(r, true)),
    ...monitoring.filter((r) => !open.has(r.ruleId)).map((r) => toRaise(r, false)),
  ];

  return {
    escalations,
    prompts,
    fired: [
      ...fired.map(({ rule, finding }) => ({ ruleId: rule.id, ...(rule.urgency ? { urgency: rule.urgency } : {}), finding })),
      ...monitoring.map((m) => ({ ruleId: m.ruleId, urgency: m.urgency, finding: m.finding })),
    ],
    alreadyOpen,
  };
};
