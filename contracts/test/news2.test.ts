import type { VitalSignsMeasurements } from '@tandem/contracts';
import { scoreNews2 } from '../src/care/news2';

/** A full set where every parameter scores 0, to change one parameter at a time. */
const normal: VitalSignsMeasurements = {
  respirationRate: 16,
  spo2: 97,
  airOrOxygen: 'air',
  systolic: 120,
  pulse: 70,
  consciousness: 'A',
  temperatureC: 37.0,
};

const scale1 = { spo2Scale: 1 } as const;
const scale2 = { spo2Scale: 2 } as const;

describe('NEWS2 (RCP 2017), one parameter at a time, both sides of every band boundary', () => {
  it('scores a normal full set 0, complete and low', () => {
    const result = scoreNews2(normal, scale1);
    expect(result).toMatchObject({ total: 0, partialTotal: 0, missing: [], risk: 'low', anySingleParameterThree: false });
  });

  it.each([
    [8, 3],
    [9, 1],
    [11, 1],
    [12, 0],
    [20, 0],
    [21, 2],
    [24, 2],
    [25, 3],
  ])('respiration rate %i /min scores %i', (respirationRate, score) => {
    const result = scoreNews2({ ...normal, respirationRate }, scale1);
    expect(result.subScores.respirationRate).toBe(score);
    expect(result.total).toBe(score);
  });

  it.each([
    [91, 3],
    [92, 2],
    [93, 2],
    [94, 1],
    [95, 1],
    [96, 0],
  ])('SpO2 scale 1: %i %% scores %i', (spo2, score) => {
    expect(scoreNews2({ ...normal, spo2 }, scale1).subScores.spo2).toBe(score);
  });

  it.each([
    [83, 'air', 3],
    [84, 'air', 2],
    [85, 'air', 2],
    [86, 'air', 1],
    [87, 'air', 1],
    [88, 'air', 0],
    [92, 'air', 0],
    [93, 'air', 0],
    [100, 'air', 0],
    [88, 'oxygen', 0],
    [92, 'oxygen', 0],
    [93, 'oxygen', 1],
    [94, 'oxygen', 1],
    [95, 'oxygen', 2],
    [96, 'oxygen', 2],
    [97, 'oxygen', 3],
  ] as const)('SpO2 scale 2: %i %% on %s scores %i', (spo2, airOrOxygen, score) => {
    expect(scoreNews2({ ...normal, spo2, airOrOxygen }, scale2).subScores.spo2).toBe(score);
  });

  it.each([
    ['air', 0],
    ['oxygen', 2],
  ] as const)('breathing %s scores %i', (airOrOxygen, score) => {
    expect(scoreNews2({ ...normal, airOrOxygen }, scale1).subScores.airOrOxygen).toBe(score);
  });

  it.each([
    [90, 3],
    [91, 2],
    [100, 2],
    [101, 1],
    [110, 1],
    [111, 0],
    [219, 0],
    [220, 3],
  ])('systolic %i mmHg scores %i', (systolic, score) => {
    expect(scoreNews2({ ...normal, systolic }, scale1).subScores.systolic).toBe(score);
  });

  it.each([
    [40, 3],
    [41, 1],
    [50, 1],
    [51, 0],
    [90, 0],
    [91, 1],
    [110, 1],
    [111, 2],
    [130, 2],
    [131, 3],
  ])('pulse %i /min scores %i', (pulse, score) => {
    expect(scoreNews2({ ...normal, pulse }, scale1).subScores.pulse).toBe(score);
  });

  it.each([
    ['A', 0],
    ['C', 3],
    ['V', 3],
    ['P', 3],
    ['U', 3],
  ] as const)('consciousness %s scores %i', (consciousness, score) => {
    expect(scoreNews2({ ...normal, consciousness }, scale1).subScores.consciousness).toBe(score);
  });

  it.each([
    [35.0, 3],
    [35.1, 1],
    [36.0, 1],
    [36.1, 0],
    [38.0, 0],
    [38.1, 1],
    [39.0, 1],
    [39.1, 2],
  ])('temperature %d C scores %i', (temperatureC, score) => {
    expect(scoreNews2({ ...normal, temperatureC }, scale1).subScores.temperatureC).toBe(score);
  });
});

describe('SpO2 scale 2 is for a person whose plan prescribes it', () => {
  it('scores 90 % on air 0 on scale 2 where scale 1 would score 3', () => {
    expect(scoreNews2({ ...normal, spo2: 90 }, scale2).subScores.spo2).toBe(0);
    expect(scoreNews2({ ...normal, spo2: 90 }, scale1).subScores.spo2).toBe(3);
  });

  it('scores 97 % on oxygen 3 for SpO2 plus 2 for the oxygen: an over-oxygenated person is high risk', () => {
    const result = scoreNews2({ ...normal, spo2: 97, airOrOxygen: 'oxygen' }, scale2);
    expect(result.subScores).toMatchObject({ spo2: 3, airOrOxygen: 2 });
    expect(result).toMatchObject({ total: 5, risk: 'medium' });
  });

  it('cannot score 93 % or more without knowing air or oxygen: the SpO2 sub-score is unknown', () => {
    const { airOrOxygen: _air, ...noAirOrOxygen } = normal;
    const result = scoreNews2({ ...noAirOrOxygen, spo2: 95 }, scale2);
    expect(result.subScores.spo2).toBeNull();
    expect(result.missing).toEqual(['airOrOxygen']);
    expect(result.total).toBeNull();
  });

  it('still scores 88-92 % on scale 2 without air or oxygen (0 either way)', () => {
    const { airOrOxygen: _air, ...noAirOrOxygen } = normal;
    expect(scoreNews2({ ...noAirOrOxygen, spo2: 90 }, scale2).subScores.spo2).toBe(0);
  });
});

describe('an incomplete set is incomplete, never low', () => {
  it('reports a set with every other parameter normal but no temperature as incomplete, not 0', () => {
    const { temperatureC: _t, ...noTemperature } = normal;
    const result = scoreNews2(noTemperature, scale1);
    expect(result.total).toBeNull();
    expect(result.risk).toBe('incomplete');
    expect(result.missing).toEqual(['temperatureC']);
    expect(result.subScores.temperatureC).toBeNull();
    expect(result.partialTotal).toBe(0);
    expect(result.riskAtLeast).toBe('low');
  });

  it.each(['respirationRate', 'spo2', 'airOrOxygen', 'systolic', 'pulse', 'consciousness', 'temperatureC'] as const)(
    'is incomplete without %s',
    (parameter) => {
      const partial: Partial<VitalSignsMeasurements> = { ...normal };
      delete partial[parameter];
      const result = scoreNews2(partial, scale1);
      expect(result).toMatchObject({ total: null, risk: 'incomplete', missing: [parameter] });
    },
  );

  it('lists every missing parameter and keeps what the known ones already say', () => {
    const result = scoreNews2({ respirationRate: 26, pulse: 135 }, scale1);
    expect(result.missing).toEqual(['spo2', 'airOrOxygen', 'systolic', 'consciousness', 'temperatureC']);
    expect(result).toMatchObject({ total: null, partialTotal: 6, anySingleParameterThree: true, risk: 'incomplete', riskAtLeast: 'medium' });
  });

  it('reports an empty set as incomplete with all seven parameters missing', () => {
    const result = scoreNews2({}, scale1);
    expect(result.missing).toHaveLength(7);
    expect(result).toMatchObject({ total: null, partialTotal: 0, risk: 'incomplete' });
  });
});

describe('clinical risk bands', () => {
  it.each([
    ['0: low', {}, 0, 'low'],
    ['1: low', { pulse: 95 }, 1, 'low'],
    ['4: low', { pulse: 95, respirationRate: 10, temperatureC: 38.5, systolic: 105 }, 4, 'low'],
    ['a 3 in one parameter (total 3): low-medium', { consciousness: 'C' }, 3, 'low-medium'],
    ['a 3 in one parameter with total 4: low-medium', { consciousness: 'V', pulse: 95 }, 4, 'low-medium'],
    ['5: medium', { respirationRate: 22, pulse: 115, temperatureC: 38.5 }, 5, 'medium'],
    ['6: medium, even with a 3 in one parameter', { systolic: 85, pulse: 115, temperatureC: 38.5 }, 6, 'medium'],
    ['7: high', { respirationRate: 25, pulse: 115, airOrOxygen: 'oxygen' }, 7, 'high'],
    ['20: high (the maximum)', { respirationRate: 30, spo2: 85, airOrOxygen: 'oxygen', systolic: 80, pulse: 140, consciousness: 'U', temperatureC: 34.0 }, 20, 'high'],
  ] as const)('%s', (_story, changes, total, risk) => {
    const result = scoreNews2({ ...normal, ...changes }, scale1);
    expect(result.total).toBe(total);
    expect(result.risk).toBe(risk);
    expect(result.riskAtLeast).toBe(risk);
  });

  it('flags a 3 in any single parameter', () => {
    expect(scoreNews2({ ...normal, systolic: 90 }, scale1).anySingleParameterThree).toBe(true);
    expect(scoreNews2({ ...normal, systolic: 91 }, scale1).anySingleParameterThree).toBe(false);
  });
});
