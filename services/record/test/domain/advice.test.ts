import { hypoProtocolSteps } from '@tandem/contracts';
import { bedsideAnswer } from '@tandem/contracts';
import { recordBloodGlucose } from '../../src/domain/glucose';
import { recordSoftSigns } from '../../src/domain/soft-signs';
import { recordVitalSigns } from '../../src/domain/vital-signs';
import { at, base, context, given } from './fixtures';

/** What the answer to an entry says to do at the bedside (issue 9.2). */
const vitals = (v: Record<string, unknown>) => (state: Parameters<typeof recordVitalSigns>[1]) => recordVitalSigns({ ...base(at('10:00')), ...v }, state, context());
const answerOf = (decision: (state: never) => { type: string; data: unknown }[]) => {
  let answer: ReturnType<typeof bedsideAnswer> | undefined;
  given().when((state) => {
    const events = decision(state as never);
    answer = bedsideAnswer(events);
    return events;
  }).then(() => undefined);
  return answer!;
};

const DETERIORATING = { respirationRate: 28, spo2: 88, airOrOxygen: 'air', systolic: 88, diastolic: 50, pulse: 135, consciousness: 'V', temperatureC: 39.5 };
const WELL = { respirationRate: 16, spo2: 97, airOrOxygen: 'air', systolic: 128, diastolic: 78, pulse: 72, consciousness: 'A', temperatureC: 36.8 };

describe('the answer to a set of vital signs', () => {
  it('given the deterioration set, then NEWS2 17, band high, and the first advice is "Call 999 now"', () => {
    const answer = answerOf(vitals(DETERIORATING));
    expect(answer.news2).toMatchObject({ total: 17, band: 'high', subScores: { respirationRate: 3, spo2: 3, systolic: 3, pulse: 3, consciousness: 3, temperatureC: 2, airOrOxygen: 0 } });
    expect(answer.advice[0]).toMatchObject({ urgency: 'emergency' });
    expect(answer.advice[0]!.text).toMatch(/^Call 999 now/);
  });

  it('NEWS2 0 is routine observations', () => {
    const answer = answerOf(vitals(WELL));
    expect(answer.news2).toMatchObject({ total: 0, band: 'low' });
    expect(answer.advice).toEqual([expect.objectContaining({ urgency: 'routine', text: expect.stringContaining('at least every 12 hours') })]);
  });

  it('NEWS2 5 is an urgent response (call the GP or district nurse now)', () => {
    const answer = answerOf(vitals({ ...WELL, respirationRate: 22, pulse: 115, temperatureC: 38.5 }));
    expect(answer.news2).toMatchObject({ total: 5, band: 'medium' });
    expect(answer.advice[0]).toMatchObject({ urgency: 'urgent', text: expect.stringMatching(/^Urgent response: NEWS2 5/) });
  });

  it('a 3 in one parameter is an urgent review naming it', () => {
    const answer = answerOf(vitals({ ...WELL, consciousness: 'C' }));
    expect(answer.news2).toMatchObject({ total: 3, band: 'low-medium' });
    expect(answer.advice[0]!.text).toMatch(/^Urgent clinical review: consciousness scored 3/);
  });

  it('an incomplete set says which parameters are missing and never reads as low; a partial 7 is already 999', () => {
    const partial = answerOf(vitals({ pulse: 72 }));
    expect(partial.news2).toMatchObject({ total: null, band: 'incomplete' });
    expect(partial.advice).toEqual([expect.objectContaining({ text: expect.stringContaining('NEWS2 incomplete: respiration rate, SpO2, air or oxygen, systolic blood pressure, consciousness and temperature not measured') })]);
    const alarming = answerOf(vitals({ respirationRate: 28, pulse: 135, consciousness: 'V' }));
    expect(alarming.advice[0]!.text).toMatch(/^Call 999 now: NEWS2 at least 9/);
  });
});

describe('the answer to other entries that can start a rule', () => {
  it('a blood glucose below 4.0 mmol/L gives the hypo treatment and when to call 999', () => {
    const answer = answerOf((state) => recordBloodGlucose({ ...base(at('17:45')), glucoseMmolL: 3.4 }, state, context()));
    expect(answer.news2).toBeUndefined();
    expect(answer.advice[0]).toMatchObject({ urgency: 'urgent', text: expect.stringMatching(/^Hypo: blood glucose 3.4 mmol\/L is below 4.0\. Treat it now\. Give 15-20 g of quick-acting carbohydrate/) });
    // the same protocol the care worker's prompt gives (one wording, in contracts)
    for (const step of hypoProtocolSteps('10 to 15')) expect(answer.advice[0]!.text).toContain(step);
    expect(answer.advice[0]!.text).toContain('call 999');
  });

  it('4.0 mmol/L is not a hypo', () => {
    expect(answerOf((state) => recordBloodGlucose({ ...base(at('17:45')), glucoseMmolL: 4 }, state, context())).advice).toEqual([]);
  });

  it('an emergency sign is "Call 999 now" without waiting for a score', () => {
    const none = { newConfusion: false, reducedEatingOrDrinking: false, breathlessness: false, unsteadiness: false, distress: false, withdrawal: false, tiredness: false };
    const answer = answerOf((state) =>
      recordSoftSigns({ ...base(at('11:00')), softSigns: { ...none, newConfusion: true }, emergencySigns: { chestPain: true, strokeSigns: false, prolongedSeizure: false, unresponsive: false } }, state, context()),
    );
    expect(answer.advice.map((a) => a.urgency)).toEqual(['emergency', 'soon']);
    expect(answer.advice[0]!.text).toBe('Call 999 now: chest pain. Do not wait for a score.');
  });
});
