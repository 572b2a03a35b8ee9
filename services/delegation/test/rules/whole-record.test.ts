import { resolveRuleset, RulesetDefinitionSchema, wholeRecordRules } from '../../src/frameworks';
import { evaluateEntry, type RuleInput } from '../../src/rules';
import { careEvent, glucose, MR_JONES, news2, vitals } from '../fixtures';

/**
 * The whole-record rules, as data, for everyone whose record Tandem holds (docs/clinical/reference.md
 * sections 5 and 6): given one entry and no delegation, which escalations and prompts they ask for.
 */
describe('the whole-record ruleset', () => {
  const wholeRecord = resolveRuleset(wholeRecordRules);
  const at = '2025-03-06T10:00:00Z';
  const raised = (input: RuleInput) => evaluateEntry(wholeRecord, input).escalations.map((e) => [e.ruleId, e.urgency]);

  it('is valid data with a source on every rule, and national thresholds cannot be overridden', () => {
    expect(RulesetDefinitionSchema.safeParse(wholeRecordRules).success).toBe(true);
    expect(wholeRecord.rules.every((r) => r.source.reference.length > 0)).toBe(true);
    expect(() => resolveRuleset(wholeRecordRules, { organisationId: 'org', frameworkId: 'whole-record', settings: { 'news2.high': 9 } })).toThrow(/only LOCAL and UNVERIFIED settings/);
  });

  it.each([
    [4, []],
    [5, [['news2.medium', 'urgent']]],
    [6, [['news2.medium', 'urgent']]],
    [7, [['news2.high', 'emergency']]],
  ])('NEWS2 %i raises %p', (total, expected) => {
    expect(raised({ event: vitals(MR_JONES, at, total), history: [] })).toEqual(expected);
  });

  it('a 3 in one parameter is an urgent review even with a low total', () => {
    const score = news2(3, { subScores: { respirationRate: 0, spo2: 3, airOrOxygen: 0, systolic: 0, pulse: 0, consciousness: 0, temperatureC: 0 } });
    expect(raised({ event: vitals(MR_JONES, at, score), history: [] })).toEqual([['news2.single-parameter-3', 'urgent']]);
  });

  it('a sepsis red flag alone (pulse 131) is an emergency', () => {
    expect(raised({ event: vitals(MR_JONES, at, 2, { pulse: 131 }), history: [] })).toEqual([['sepsis.red-flag', 'emergency']]);
  });

  it.each([
    [3.9, [['hypoglycaemia.below-4', 'urgent']]],
    [4.0, []],
  ])('blood glucose %p mmol/L raises %p, with the hypo protocol and a recheck', (value, expected) => {
    const outcome = evaluateEntry(wholeRecord, { event: glucose(MR_JONES, value, at), history: [] });
    expect(outcome.escalations.map((e) => [e.ruleId, e.urgency])).toEqual(expected);
    expect(outcome.prompts.map((p) => p.recheck?.dueAt)).toEqual(expected.length ? ['2025-03-06T10:15:00.000Z'] : []);
  });

  const softSigns = (soft: Record<string, boolean>, emergency: Record<string, boolean> = {}) =>
    careEvent('SoftSignsRecorded', {
      patientId: MR_JONES,
      softSigns: { newConfusion: false, reducedEatingOrDrinking: false, breathlessness: false, unsteadiness: false, distress: false, withdrawal: false, tiredness: false, ...soft },
      emergencySigns: { chestPain: false, strokeSigns: false, prolongedSeizure: false, unresponsive: false, ...emergency },
    }, at);

  it('soft signs against the usual self ask for observations now and a nursing review today; an emergency sign is 999 at once', () => {
    const soft = evaluateEntry(wholeRecord, { event: softSigns({ newConfusion: true }), history: [] });
    expect(soft.escalations.map((e) => [e.ruleId, e.urgency])).toEqual([['restore2.soft-signs', 'routine']]);
    expect(soft.prompts[0]!.steps[0]).toContain('Take a full set of observations now');
    expect(raised({ event: softSigns({}, { chestPain: true }), history: [] })).toEqual([['restore2.emergency-signs', 'emergency']]);
    expect(raised({ event: softSigns({}), history: [] })).toEqual([]);
  });
});
