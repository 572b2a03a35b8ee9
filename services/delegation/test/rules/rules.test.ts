import { insulinAdministration, resolveFramework } from '../../src/frameworks';
import { evaluateEntry, type RuleInput } from '../../src/rules';
import {
  amira,
  careEvent,
  cellulitis,
  cellulitisCheck,
  glucose,
  insulin,
  insulinGiven,
  MR_JONES,
  MRS_PATEL,
  nadia,
  news2,
  urinaryScreen,
  uti,
  vitals,
} from '../fixtures';

const at = (hhmm: string, day = '2025-03-06') => `${day}T${hhmm}:00Z`;
const outcomeOf = (framework: typeof insulin, input: RuleInput) => evaluateEntry(framework, input);
/** [ruleId, urgency] of every escalation raised. */
const raised = (framework: typeof insulin, input: RuleInput) => outcomeOf(framework, input).escalations.map((e) => [e.ruleId, e.urgency]);

describe('insulin: hypoglycaemia is below 4.0 mmol/L ("4 is the floor")', () => {
  it.each([
    [3.9, [['insulin.hypo', 'urgent']]],
    [4.0, []],
    [0.5, [['insulin.hypo', 'urgent']]],
  ])('blood glucose %p mmol/L raises %p', (value, expected) => {
    expect(raised(insulin, { event: glucose(MR_JONES, value, at('17:45')), history: [] })).toEqual(expected);
  });

  it('prompts the hypo protocol with a recheck due 15 minutes after the reading, and tells the care worker not to give insulin', () => {
    const [prompt] = outcomeOf(insulin, { event: glucose(MR_JONES, 3.9, at('17:45')), history: [] }).prompts;
    expect(prompt).toMatchObject({ promptId: 'hypo-protocol', withholdActivityId: 'insulin-administration', recheck: { dueAt: '2025-03-06T18:00:00.000Z' } });
  });

  it('"do not give insulin below 4" is a LOCAL setting: an organisation that turns it off gets no withhold step', () => {
    const local = resolveFramework(insulinAdministration, { organisationId: 'org', frameworkId: 'insulin-administration', settings: { 'insulin.withhold-below-4': false } });
    const [prompt] = outcomeOf(local, { event: glucose(MR_JONES, 3.2, at('17:45')), history: [] }).prompts;
    expect(prompt!.withholdActivityId).toBeUndefined();
    expect(prompt!.steps[0]).toMatch(/^Give 15-20 g/);
  });
});

describe('insulin: 15 mmol/L or more on two readings running (LOCAL)', () => {
  it.each([
    [[15.0], 15.0, [['insulin.hyper', 'urgent']]],
    [[14.9], 15.0, []],
    [[15.0], 14.9, []],
    [[], 22.0, []],
    [[15.0, 8.0], 16.0, []],
    [[8.0, 15.0], 16.0, [['insulin.hyper', 'urgent']]],
  ])('readings %p then %p raise %p', (before, now, expected) => {
    const history = before.map((v, i) => glucose(MR_JONES, v, at(`0${i + 7}:00`)));
    expect(raised(insulin, { event: glucose(MR_JONES, now, at('12:00')), history })).toEqual(expected);
  });

  it('names both readings as the triggering entries', () => {
    const first = glucose(MR_JONES, 15.4, at('08:00'));
    const second = glucose(MR_JONES, 16.1, at('12:00'));
    const [escalation] = outcomeOf(insulin, { event: second, history: [first] }).escalations;
    expect(escalation!.triggeringEntryIds).toEqual([first.id, second.id]);
    expect(escalation!.sbard.assessment).toBe('blood glucose 15.4 mmol/L, then 16.1 mmol/L: 2 readings in a row 15.0 mmol/L or more.');
  });

  it('does not count a reading entered in error; counts an amended one', () => {
    const wrong = glucose(MR_JONES, 15.4, at('08:00'));
    const markedWrong = careEvent('EntryMarkedEnteredInError', { patientId: MR_JONES, entryId: wrong.id, reason: 'meter not calibrated' }, at('08:05'), nadia);
    expect(raised(insulin, { event: glucose(MR_JONES, 16.1, at('12:00')), history: [wrong, markedWrong] })).toEqual([]);

    const typo = glucose(MR_JONES, 5.4, at('08:00'));
    const amended = careEvent(
      'EntryAmended',
      { patientId: MR_JONES, entryId: typo.id, reason: 'typed 5.4 for 15.4', replacement: { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 15.4 } } },
      at('08:10'),
    );
    expect(raised(insulin, { event: glucose(MR_JONES, 16.1, at('12:00')), history: [typo, amended] })).toEqual([['insulin.hyper', 'urgent']]);
  });

  it('an amendment that makes a reading low raises the hypo escalation', () => {
    const typo = glucose(MR_JONES, 6.4, at('17:45'));
    const amended = careEvent(
      'EntryAmended',
      { patientId: MR_JONES, entryId: typo.id, reason: 'misread the meter', replacement: { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 3.4 } } },
      at('17:50'),
    );
    const outcome = outcomeOf(insulin, { event: amended, history: [typo] });
    expect(outcome.escalations.map((e) => [e.ruleId, e.triggeringEntryIds])).toEqual([['insulin.hypo', [typo.id]]]);
  });

  it('blood ketones of 1.5 mmol/L or more (LOCAL) are urgent; 1.4 is not', () => {
    const ketones = (k: number) => careEvent('BloodGlucoseRecorded', { patientId: MR_JONES, glucoseMmolL: 9, ketonesMmolL: k }, at('12:00'));
    expect(raised(insulin, { event: ketones(1.5), history: [] })).toEqual([['insulin.ketones', 'urgent']]);
    expect(raised(insulin, { event: ketones(1.4), history: [] })).toEqual([]);
  });
});

describe('insulin: doses withheld, doses without authority, glucose before each dose', () => {
  const check = glucose(MR_JONES, 7.1, at('17:50'));

  it('a withheld dose informs the nurse (routine), with the reason in the SBARD', () => {
    const withheld = careEvent('InsulinWithheld', { patientId: MR_JONES, product: 'Humulin I KwikPen', plannedDose: { value: 8, unit: 'units' }, reason: 'Mr Jones not eating today' }, at('18:00'));
    const [escalation] = outcomeOf(insulin, { event: withheld, history: [check] }).escalations;
    expect([escalation!.ruleId, escalation!.urgency]).toEqual(['insulin.withheld', 'routine']);
    expect(escalation!.sbard.assessment).toBe('8 units of Humulin I KwikPen withheld: Mr Jones not eating today.');
  });

  it.each([
    [{ activeDelegation: true, currentCompetence: true }, []],
    [{ activeDelegation: true, currentCompetence: false }, [['insulin.outside-delegation', 'urgent']]],
    [{ activeDelegation: false, currentCompetence: true }, [['insulin.outside-delegation', 'urgent']]],
    [undefined, [['insulin.outside-delegation', 'urgent']]],
  ])('a dose recorded by a care worker with authority %p raises %p (and is never refused)', (authority, expected) => {
    expect(raised(insulin, { event: insulinGiven(MR_JONES, at('18:00'), amira), history: [check], ...(authority ? { authority } : {}) })).toEqual(expected);
  });

  it('a dose given by the registered nurse herself needs no delegation', () => {
    expect(raised(insulin, { event: insulinGiven(MR_JONES, at('18:00'), nadia), history: [check] })).toEqual([]);
  });

  it('a dose without a blood glucose in the hour before it (LOCAL) tells the nurse', () => {
    const authority = { activeDelegation: true, currentCompetence: true };
    expect(raised(insulin, { event: insulinGiven(MR_JONES, at('18:00')), history: [], authority })).toEqual([['monitoring.glucose-before-insulin.missed', 'routine']]);
    // the check at 17:50 counts for a dose up to 60 minutes later, not 61
    expect(raised(insulin, { event: insulinGiven(MR_JONES, at('18:50')), history: [check], authority })).toEqual([]);
    expect(raised(insulin, { event: insulinGiven(MR_JONES, at('18:51')), history: [check], authority })).toEqual([['monitoring.glucose-before-insulin.missed', 'routine']]);
  });
});

describe('NEWS2 (RCP 2017), relative to the person\'s baseline where one is set', () => {
  it.each([
    [4, []],
    [5, [['news2.medium', 'urgent']]],
    [6, [['news2.medium', 'urgent']]],
    [7, [['news2.high', 'emergency']]],
    [12, [['news2.high', 'emergency']]],
  ])('a total of %i raises %p', (total, expected) => {
    expect(raised(insulin, { event: vitals(MR_JONES, at('10:00'), total), history: [] })).toEqual(expected);
  });

  it('a 3 in any single parameter is urgent even when the total is low', () => {
    const score = news2(3, { subScores: { respirationRate: 0, spo2: 0, airOrOxygen: 0, systolic: 0, pulse: 0, consciousness: 3, temperatureC: 0 } });
    expect(raised(insulin, { event: vitals(MR_JONES, at('10:00'), score), history: [] })).toEqual([['news2.single-parameter-3', 'urgent']]);
  });

  it('with an agreed baseline of 5, a 5 is the person\'s usual self; a 6 is urgent; a 7 is still an emergency', () => {
    const baseline = { spo2Scale: 1 as const, news2Baseline: 5 };
    expect(raised(insulin, { event: vitals(MR_JONES, at('10:00'), 5), history: [], baseline })).toEqual([]);
    expect(raised(insulin, { event: vitals(MR_JONES, at('10:00'), 6), history: [], baseline })).toEqual([['news2.medium', 'urgent']]);
    expect(raised({ ...insulin }, { event: vitals(MR_JONES, at('10:00'), 7), history: [], baseline: { ...baseline, news2Baseline: 7 } })).toEqual([['news2.high', 'emergency']]);
  });

  it('an incomplete NEWS2 is never read as low: the known sub-scores already at 7 are an emergency', () => {
    const incomplete = news2(7, { missing: ['temperatureC'] });
    expect(incomplete.total).toBeNull();
    const outcome = outcomeOf(insulin, { event: vitals(MR_JONES, at('10:00'), incomplete), history: [] });
    expect(outcome.escalations.map((e) => [e.ruleId, e.urgency])).toEqual([['news2.high', 'emergency']]);
    expect(outcome.escalations[0]!.sbard.assessment).toContain('NEWS2 7 or more (incomplete: temperature missing)');
  });

  it('several rules on one reading raise one escalation, for the most urgent, naming the others', () => {
    const score = news2(7, { subScores: { respirationRate: 3, spo2: 2, airOrOxygen: 0, systolic: 0, pulse: 2, consciousness: 0, temperatureC: 0 } });
    const outcome = outcomeOf(insulin, { event: vitals(MR_JONES, at('10:00'), score), history: [] });
    expect(outcome.escalations.map((e) => e.ruleId)).toEqual(['news2.high']);
    expect(outcome.fired.map((f) => f.ruleId)).toEqual(['news2.high', 'news2.single-parameter-3']);
    expect(outcome.escalations[0]!.sbard.assessment).toContain('Also: NEWS2: a score of 3 in one parameter: NEWS2 respiration rate scores 3');
  });

  it('an escalation still open for the same rule is not raised again', () => {
    const outcome = outcomeOf(insulin, { event: vitals(MR_JONES, at('10:00'), 6), history: [], openEscalationRuleIds: ['news2.medium'] });
    expect(outcome.escalations).toEqual([]);
    expect(outcome.alreadyOpen).toEqual(['news2.medium']);
  });
});

describe('RESTORE2: emergency signs mean 999 at once', () => {
  it('chest pain is an emergency whatever the score', () => {
    const softSigns = { newConfusion: false, reducedEatingOrDrinking: false, breathlessness: false, unsteadiness: false, distress: false, withdrawal: false, tiredness: false };
    const emergencySigns = { chestPain: true, strokeSigns: false, prolongedSeizure: false, unresponsive: false };
    expect(raised(insulin, { event: careEvent('SoftSignsRecorded', { patientId: MR_JONES, softSigns, emergencySigns }, at('10:00')), history: [] })).toEqual([
      ['restore2.emergency-signs', 'emergency'],
    ]);
  });
});

describe('suspected UTI at 65 and over (UKHSA)', () => {
  const screen = (signs: Parameters<typeof urinaryScreen>[2], sepsis: Parameters<typeof urinaryScreen>[3] = {}, catheter?: Parameters<typeof urinaryScreen>[4]) =>
    urinaryScreen(MRS_PATEL, at('10:00'), signs, sepsis, catheter);

  it.each([
    [{}, {}, []],
    [{ newIncontinence: true }, {}, []],
    [{ newDysuria: true }, {}, [['uti.new-dysuria', 'urgent']]],
    [{ newIncontinence: true, visibleHaematuria: true }, {}, [['uti.two-or-more-signs', 'urgent']]],
    [{}, { kidneyPain: true }, [['uti.sepsis-or-pyelonephritis', 'emergency']]],
    [{}, { newMyalgia: true }, [['uti.sepsis-or-pyelonephritis', 'emergency']]],
    [{}, { nauseaOrVomiting: true }, [['uti.sepsis-or-pyelonephritis', 'emergency']]],
    [{}, { rigors: true }, [['uti.sepsis-or-pyelonephritis', 'emergency']]],
  ])('signs %p and sepsis signs %p raise %p', (signs, sepsis, expected) => {
    expect(raised(uti, { event: screen(signs, sepsis), history: [] })).toEqual(expected);
  });

  it('one sign that is not dysuria prompts PINCH ME and fluids, without an escalation', () => {
    const outcome = outcomeOf(uti, { event: screen({ newOrWorseDelirium: true }), history: [] });
    expect(outcome.prompts.map((p) => p.promptId)).toEqual(['pinch-me']);
    expect(outcome.escalations).toEqual([]);
  });

  it('a catheter in place more than 7 days is a nursing task (routine); 7 days is not yet', () => {
    expect(raised(uti, { event: screen({}, {}, { inPlace: true, insertedOn: '2025-02-26' }), history: [] })).toEqual([['uti.catheter-over-7-days', 'routine']]);
    expect(raised(uti, { event: screen({}, {}, { inPlace: true, insertedOn: '2025-02-27' }), history: [] })).toEqual([]);
  });

  it.each([
    [{ respirationRate: 25 }, [['sepsis.red-flag', 'emergency']]],
    [{ respirationRate: 24 }, []],
    [{ pulse: 131 }, [['sepsis.red-flag', 'emergency']]],
    [{ pulse: 130 }, []],
    [{ systolic: 90 }, [['sepsis.red-flag', 'emergency']]],
    [{ systolic: 91 }, []],
    [{ consciousness: 'C' as const }, [['sepsis.red-flag', 'emergency']]],
  ])('sepsis red flags (NICE NG51, UNVERIFIED currency): %p raises %p', (measurements, expected) => {
    expect(raised(uti, { event: vitals(MRS_PATEL, at('10:00'), 2, measurements), history: [] })).toEqual(expected);
  });
});

describe('cellulitis (Eron class I)', () => {
  it.each([
    [38.0, []],
    [38.1, [['cellulitis.fever', 'urgent']]],
  ])('a temperature of %p C at the daily check raises %p', (temperatureC, expected) => {
    expect(raised(cellulitis, { event: cellulitisCheck(MR_JONES, at('09:00'), { temperatureC }), history: [] })).toEqual(expected);
  });

  it.each([
    [38.0, []],
    [38.1, [['cellulitis.fever', 'urgent']]],
  ])('a temperature of %p C in a set of vital signs raises %p', (temperatureC, expected) => {
    expect(raised(cellulitis, { event: vitals(MR_JONES, at('09:00'), 1, { temperatureC }), history: [] })).toEqual(expected);
  });

  it('redness beyond the marked line is urgent', () => {
    expect(raised(cellulitis, { event: cellulitisCheck(MR_JONES, at('09:00'), { beyondLine: true }), history: [] })).toEqual([['cellulitis.beyond-marked-line', 'urgent']]);
  });

  it.each([
    [2, 2, []],
    [2, 3, [['cellulitis.news2-rising', 'urgent']]],
    [3, 2, []],
  ])('NEWS2 %i then %i raises %p', (before, now, expected) => {
    const earlier = vitals(MR_JONES, at('08:00'), before);
    expect(raised(cellulitis, { event: vitals(MR_JONES, at('14:00'), now), history: [earlier] })).toEqual(expected);
  });

  it('with no earlier score, a rise is measured from the agreed baseline', () => {
    expect(raised(cellulitis, { event: vitals(MR_JONES, at('14:00'), 2), history: [], baseline: { spo2Scale: 1, news2Baseline: 1 } })).toEqual([
      ['cellulitis.news2-rising', 'urgent'],
    ]);
    expect(raised(cellulitis, { event: vitals(MR_JONES, at('14:00'), 2), history: [] })).toEqual([]);
  });
});
