import { RecordVitalSignsSchema, type RecordVitalSigns } from '@tandem/contracts';
import type { CareState } from '../../src/domain/care-state';
import type { CareContext } from '../../src/domain/context';
import { recordVitalSigns } from '../../src/domain/vital-signs';
import { at, base, context, given, issuesOf, PATIENT_ID, refusedNaming } from './fixtures';

const fullSet = {
  respirationRate: 16,
  spo2: 97,
  airOrOxygen: 'air' as const,
  systolic: 120,
  diastolic: 80,
  pulse: 70,
  consciousness: 'A' as const,
  temperatureC: 37.0,
};

const recordVitals =
  (measurements: Partial<RecordVitalSigns>, ctx: Partial<CareContext> = {}, occurredAt = at('18:00')) =>
  (state: CareState) =>
    recordVitalSigns({ ...base(occurredAt), ...measurements }, state, context(ctx));

describe('recording vital signs computes NEWS2 and stores it with them', () => {
  it('stores a full normal set with NEWS2 0, low', () =>
    given()
      .when(recordVitals(fullSet))
      .then((events) => {
        expect(events).toHaveLength(1);
        const [event] = events;
        expect(event?.type).toBe('VitalSignsRecorded');
        expect(event?.data).toMatchObject({ patientId: PATIENT_ID, ...fullSet, spo2Scale: 1, news2: { total: 0, risk: 'low', missing: [] } });
      }));

  it('stores an incomplete set (no temperature) as incomplete, never as 0', () => {
    const { temperatureC: _t, ...noTemperature } = fullSet;
    given()
      .when(recordVitals(noTemperature))
      .then(([event]) => {
        expect(event?.data).toMatchObject({ news2: { total: null, risk: 'incomplete', missing: ['temperatureC'], partialTotal: 0 } });
      });
  });

  it('stores alarming but possible values (they are escalated, not refused)', () =>
    given()
      .when(recordVitals({ ...fullSet, spo2: 82, airOrOxygen: 'oxygen', pulse: 140, consciousness: 'U' }))
      .then(([event]) => expect(event?.data).toMatchObject({ news2: { risk: 'high' } })));

  it("scores on the person's prescribed scale 2", () =>
    given()
      .when(recordVitals({ ...fullSet, spo2: 90 }, { spo2Scale: 2 }))
      .then(([event]) => expect(event?.data).toMatchObject({ spo2Scale: 2, news2: { subScores: { spo2: 0 }, total: 0 } })));

  it('refuses scale 2 at the bedside when the plan does not prescribe it', () =>
    given()
      .when(recordVitals({ ...fullSet, spo2: 90, spo2Scale: 2 }, { spo2Scale: 1 }))
      .thenThrows('news2.spo2-scale-not-in-plan', 'spo2Scale'));

  it('refuses scale 1 when the plan prescribes scale 2 (a stale screen)', () =>
    given()
      .when(recordVitals({ ...fullSet, spo2: 90, spo2Scale: 1 }, { spo2Scale: 2 }))
      .thenThrows('news2.spo2-scale-not-in-plan', 'spo2Scale'));

  it('accepts the scale when it matches the plan', () =>
    given()
      .when(recordVitals({ ...fullSet, spo2Scale: 2 }, { spo2Scale: 2 }))
      .then(['VitalSignsRecorded']));

  it('refuses a set timed more than 5 minutes in the future', () =>
    given().when(recordVitals(fullSet, {}, '2025-03-10T22:06:00+01:00')).thenThrows('time.in-future', 'occurredAt'));

  it('compares times with their offsets, not as text', () =>
    given().when(recordVitals(fullSet, {}, '2025-03-10T22:04:00+01:00')).then(['VitalSignsRecorded']));
});

describe('impossible values are refused naming the field; nothing is recorded', () => {
  const command = (changes: Record<string, unknown>) => ({ ...base(at('18:00')), ...fullSet, ...changes });

  it('accepts a full set', () => expect(issuesOf(RecordVitalSignsSchema, command({}))).toEqual([]));

  it.each([
    ['spo2', 101, 'SpO2 must be between 50 and 100 %'],
    ['spo2', 140, 'SpO2 must be between 50 and 100 %'],
    ['spo2', 96.5, 'SpO2 must be a whole number'],
    ['temperatureC', 60, 'temperature must be between 25 and 45 C'],
    ['temperatureC', 37.25, 'temperature must have at most 1 decimal place'],
    ['pulse', 301, 'pulse must be between 20 and 300 /min'],
    ['respirationRate', 81, 'respiration rate must be between 3 and 80 /min'],
    ['systolic', 301, 'systolic blood pressure must be between 40 and 300 mmHg'],
    ['consciousness', 'X', 'consciousness must be one of A, C, V, P, U (ACVPU)'],
    ['airOrOxygen', 'nasal', 'airOrOxygen must be "air" or "oxygen"'],
    ['spo2Scale', 3, 'spo2Scale must be 1 or 2'],
    ['spo2', '97', 'SpO2 must be a number'],
  ])('refuses %s %p', (field, value, message) => {
    expect(refusedNaming(RecordVitalSignsSchema, command({ [field]: value }), field)).toBe(message);
  });

  // Given a value no living person has, when it is recorded, then it is refused with words that say what to do.
  it.each([
    ['pulse', 0, /^No pulse: call 999 now/],
    ['pulse', 19, /^No pulse: call 999 now/],
    ['spo2', 0, /call 999 now.*check the probe/],
    ['spo2', -1, /call 999 now/],
    ['respirationRate', 0, /not breathing: call 999 now/],
    ['systolic', 0, /no blood pressure can be felt: if the person is unresponsive, call 999 now/],
    ['temperatureC', 24.9, /cold and unresponsive, call 999 now; otherwise check the thermometer/],
  ])('refuses %s %p below what a living person has, saying what to do', (field, value, words) => {
    expect(refusedNaming(RecordVitalSignsSchema, command({ [field]: value }), field)).toMatch(words);
  });

  it.each([
    ['pulse', 20],
    ['spo2', 50],
    ['respirationRate', 3],
    ['systolic', 40],
  ])('accepts %s %p: alarming, but possible (the rules escalate it)', (field, value) => {
    expect(issuesOf(RecordVitalSignsSchema, command({ [field]: value, ...(field === 'systolic' ? { diastolic: 25 } : {}) }))).toEqual([]);
  });

  it('refuses a diastolic not below the systolic', () => {
    expect(refusedNaming(RecordVitalSignsSchema, command({ systolic: 120, diastolic: 120 }), 'diastolic')).toBe(
      'diastolic blood pressure must be below systolic',
    );
  });

  it('refuses an oxygen flow when breathing air', () => {
    refusedNaming(RecordVitalSignsSchema, command({ airOrOxygen: 'air', oxygenFlowLPerMin: 2 }), 'oxygenFlowLPerMin');
    expect(issuesOf(RecordVitalSignsSchema, command({ airOrOxygen: 'oxygen', oxygenFlowLPerMin: 2 }))).toEqual([]);
  });

  it('refuses a set with no measurement at all', () => {
    expect(issuesOf(RecordVitalSignsSchema, base(at('18:00')))).toEqual([{ path: '', message: expect.stringContaining('must hold at least one of') }]);
  });

  it('accepts a set with only some measurements (NEWS2 is then incomplete)', () => {
    expect(issuesOf(RecordVitalSignsSchema, { ...base(at('18:00')), pulse: 88 })).toEqual([]);
  });

  it.each([
    ['occurredAt', '2025-03-10 18:00'],
    ['occurredAt', '2025-03-10T18:00:00'],
    ['patientId', 'not-a-uuid'],
    ['idempotencyKey', ''],
  ])('refuses a command whose %s is %p', (field, value) => {
    refusedNaming(RecordVitalSignsSchema, command({ [field]: value }), field);
  });
});
