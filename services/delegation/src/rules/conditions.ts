import { NEWS2_PARAMETER_WORDS, type Baseline, type News2Parameter } from '@tandem/contracts';
import type { RuleCondition, RuleSource } from '../frameworks/schema';
import {
  CATEGORY_OBSERVATIONS,
  inWords,
  NUMERIC_OBSERVATIONS,
  valueAt,
  type CategoryObservation,
  type NumericObservation,
} from '../frameworks/vocabulary';
import { instantOf } from '../machines/decider';
import { registeredProfessionalProblem } from '../machines/people';
import type { CareEntry } from './entries';

/**
 * The interpreter for the conditions frameworks write as data. Each kind reads the new entry
 * (and, where the condition spans entries, the ones before it) and returns what it found, in
 * words, with the entries that show it; or nothing.
 */

export interface Finding {
  readonly text: string;
  readonly entryIds: readonly string[];
}

/** Whether the person who recorded an activity held an active delegation and a current competence for it. */
export interface RecorderAuthority {
  readonly activeDelegation: boolean;
  readonly currentCompetence: boolean;
}

export interface ConditionContext {
  readonly framework: RuleSource;
  readonly entry: CareEntry;
  /** The person's entries before this one, oldest first. */
  readonly earlier: readonly CareEntry[];
  readonly baseline?: Baseline;
  readonly authority?: RecorderAuthority;
}

type ThresholdCondition = Extract<RuleCondition, { observation: NumericObservation }>;
type News2Condition = Extract<RuleCondition, { news2: string }>;

const format = (value: number, observation: NumericObservation): string => {
  const { decimals, unit } = NUMERIC_OBSERVATIONS[observation];
  return `${value.toFixed(decimals)}${unit.startsWith('/') ? '' : ' '}${unit}`;
};

/** The value of a measured observation in an entry, when the entry records it. */
export const numericValue = (entry: CareEntry, observation: NumericObservation): number | undefined => {
  for (const source of NUMERIC_OBSERVATIONS[observation].from) {
    if (entry.type !== source.entry) continue;
    const value = (entry.data as Record<string, unknown>)[source.field];
    if (typeof value === 'number') return value;
  }
  return undefined;
};

const categoryValue = (entry: CareEntry, observation: CategoryObservation): string | undefined => {
  for (const source of CATEGORY_OBSERVATIONS[observation].from) {
    if (entry.type !== source.entry) continue;
    const value = (entry.data as Record<string, unknown>)[source.field];
    if (typeof value === 'string') return value;
  }
  return undefined;
};

const meets = (value: number, c: ThresholdCondition): boolean =>
  (c.below === undefined || value < c.below) &&
  (c.atMost === undefined || value <= c.atMost) &&
  (c.atLeast === undefined || value >= c.atLeast) &&
  (c.above === undefined || value > c.above);

const thresholdInWords = (c: ThresholdCondition): string =>
  [
    c.below !== undefined && `below ${format(c.below, c.observation)}`,
    c.atMost !== undefined && `${format(c.atMost, c.observation)} or less`,
    c.atLeast !== undefined && `${format(c.atLeast, c.observation)} or more`,
    c.above !== undefined && `above ${format(c.above, c.observation)}`,
  ]
    .filter(Boolean)
    .join(' and ');

/** A measured observation past a threshold, on this reading and (when `consecutive`) the ones just before it. */
const threshold = (c: ThresholdCondition, { entry, earlier }: ConditionContext): Finding | undefined => {
  const value = numericValue(entry, c.observation);
  if (value === undefined || !meets(value, c)) return undefined;
  const needed = c.consecutive ?? 1;
  const readings = [{ id: entry.id, value }];
  for (let i = earlier.length - 1; i >= 0 && readings.length < needed; i--) {
    const previous = earlier[i]!;
    const v = numericValue(previous, c.observation);
    if (v !== undefined) readings.push({ id: previous.id, value: v });
  }
  if (readings.length < needed || !readings.every((r) => meets(r.value, c))) return undefined;
  const label = NUMERIC_OBSERVATIONS[c.observation].label;
  const values = readings.map((r) => format(r.value, c.observation)).reverse();
  return {
    text: needed > 1 ? `${label} ${values.join(', then ')}: ${needed} readings in a row ${thresholdInWords(c)}` : `${label} ${values[0]} (${thresholdInWords(c)})`,
    entryIds: readings.map((r) => r.id).reverse(),
  };
};

const category = (c: { observation: CategoryObservation; oneOf: string[] }, { entry }: ConditionContext): Finding | undefined => {
  const value = categoryValue(entry, c.observation);
  return value !== undefined && c.oneOf.includes(value) ? { text: `${CATEGORY_OBSERVATIONS[c.observation].label} ${value}`, entryIds: [entry.id] } : undefined;
};

const news2 = (c: News2Condition, { entry, earlier, baseline }: ConditionContext): Finding | undefined => {
  if (entry.type !== 'VitalSignsRecorded') return undefined;
  const result = entry.data.news2;
  // an incomplete NEWS2 is never low: its known sub-scores are a floor the missing ones can only raise
  const score = result.total ?? result.partialTotal;
  const incomplete = result.total === null ? ` or more (incomplete: ${result.missing.map((p) => NEWS2_PARAMETER_WORDS[p]).join(', ')} missing)` : '';
  const agreed = baseline?.news2Baseline;
  switch (c.news2) {
    case 'total': {
      if (score < c.atLeast || (c.below !== undefined && score >= c.below)) return undefined;
      if (c.aboveBaseline && agreed !== undefined && result.total !== null && score <= agreed) return undefined;
      return { text: `NEWS2 ${score}${incomplete}${agreed !== undefined ? ` (the person's agreed baseline is ${agreed})` : ''}`, entryIds: [entry.id] };
    }
    case 'anySingleParameter': {
      const high = (Object.entries(result.subScores) as [News2Parameter, number | null][]).filter(([, s]) => s !== null && s >= c.atLeast);
      return high.length
        ? { text: `NEWS2 ${high.map(([p, s]) => `${NEWS2_PARAMETER_WORDS[p]} scores ${s}`).join(', ')}`, entryIds: [entry.id] }
        : undefined;
    }
    case 'rise': {
      const previous = [...earlier].reverse().find((e) => e.type === 'VitalSignsRecorded' && e.data.news2.total !== null);
      const reference = previous?.type === 'VitalSignsRecorded' ? previous.data.news2.total : agreed;
      if (reference === null || reference === undefined) return undefined;
      const rise = score - reference;
      if (rise < c.atLeast || (c.below !== undefined && rise >= c.below)) return undefined;
      return {
        text: `NEWS2 ${score}${incomplete}, up ${rise} from ${reference} (${previous ? `the score at ${previous.occurredAt}` : "the person's agreed baseline"})`,
        entryIds: previous ? [previous.id, entry.id] : [entry.id],
      };
    }
  }
};

/** The entry in a few words, for the SBARD message. */
export const describeEntry = (entry: CareEntry): string => {
  switch (entry.type) {
    case 'InsulinAdministered':
      return `${entry.data.dose.value} units of ${entry.data.product} given`;
    case 'InsulinWithheld':
      return `${entry.data.plannedDose.value} units of ${entry.data.product} withheld: ${entry.data.reason}`;
    case 'BloodGlucoseRecorded':
      return `blood glucose ${entry.data.glucoseMmolL.toFixed(1)} mmol/L`;
    default:
      return inWords(entry.type);
  }
};

const entrySigns = (c: { entry: string; signs?: string[] | undefined; atLeast?: number | undefined }, { entry }: ConditionContext): Finding | undefined => {
  if (entry.type !== c.entry) return undefined;
  if (!c.signs) return { text: describeEntry(entry), entryIds: [entry.id] };
  const yes = c.signs.filter((path) => valueAt(entry.data, path) === true);
  return yes.length >= (c.atLeast ?? 1) ? { text: yes.map(inWords).join(', '), entryIds: [entry.id] } : undefined;
};

const withoutDelegation = (activityId: string, { framework, entry, authority }: ConditionContext): Finding | undefined => {
  const activity = framework.activities?.find((a) => a.id === activityId);
  if (!activity || entry.type !== activity.entry) return undefined;
  const who = entry.recordedBy;
  const person = who ? { practitionerId: who.id, role: who.role, registration: who.registration } : undefined;
  // a registered professional the framework lets delegate acts on their own authority
  if (person && registeredProfessionalProblem(person, framework.mayDelegate ?? [], { code: 'rule', action: 'act' }) === undefined) return undefined;
  if (authority?.activeDelegation && authority.currentCompetence) return undefined;
  const missing = [!authority?.activeDelegation && 'an active delegation', !authority?.currentCompetence && 'a current competence'].filter(Boolean).join(' or ');
  return { text: `${describeEntry(entry)}, recorded by ${who ? `${who.id} (${who.role})` : 'someone unknown'} without ${missing}`, entryIds: [entry.id] };
};

const DAY_MS = 24 * 60 * 60 * 1000;

const catheter = (moreThanDays: number, { entry }: ConditionContext): Finding | undefined => {
  if (entry.type !== 'UrinarySymptomsScreened') return undefined;
  const { inPlace, insertedOn } = entry.data.catheter;
  if (!inPlace || !insertedOn) return undefined;
  const days = Math.floor((instantOf(entry.occurredAt) - instantOf(`${insertedOn}T00:00:00Z`)) / DAY_MS);
  return days > moreThanDays ? { text: `urinary catheter in place ${days} days (inserted ${insertedOn})`, entryIds: [entry.id] } : undefined;
};

/** What a condition finds in the new entry (and the ones before it), or undefined. */
export const evaluateCondition = (condition: RuleCondition, context: ConditionContext): Finding | undefined => {
  if ('anyOf' in condition) {
    const found = condition.anyOf.map((c) => evaluateCondition(c, context)).filter((f): f is Finding => f !== undefined);
    return found.length ? { text: found.map((f) => f.text).join('; '), entryIds: [...new Set(found.flatMap((f) => f.entryIds))] } : undefined;
  }
  if ('news2' in condition) return news2(condition, context);
  if ('withoutDelegation' in condition) return withoutDelegation(condition.withoutDelegation, context);
  if ('catheterInPlaceMoreThanDays' in condition) return catheter(condition.catheterInPlaceMoreThanDays, context);
  if ('entry' in condition) return entrySigns(condition, context);
  if ('oneOf' in condition) return category(condition, context);
  return threshold(condition, context);
};
