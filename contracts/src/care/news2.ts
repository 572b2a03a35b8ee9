import { NEWS2_PARAMETERS, type News2Parameter, type News2Result, type News2Risk, type Spo2Scale, type VitalSignsMeasurements } from './observations';

/**
 * National Early Warning Score 2 (Royal College of Physicians, 2017), exactly as the chart in
 * docs/clinical/reference.md section 5. Each parameter scores 0-3. A set with any parameter missing is
 * incomplete: its total is null and its risk is "incomplete", never low.
 */

type SubScore = 0 | 1 | 2 | 3;

/** Respiration rate /min: <=8 3; 9-11 1; 12-20 0; 21-24 2; >=25 3. */
export const respirationRateScore = (perMinute: number): SubScore => {
  if (perMinute <= 8) return 3;
  if (perMinute <= 11) return 1;
  if (perMinute <= 20) return 0;
  if (perMinute <= 24) return 2;
  return 3;
};

/** SpO2 scale 1 %: <=91 3; 92-93 2; 94-95 1; >=96 0. */
export const spo2Scale1Score = (percent: number): SubScore => {
  if (percent <= 91) return 3;
  if (percent <= 93) return 2;
  if (percent <= 95) return 1;
  return 0;
};

/**
 * SpO2 scale 2 % (hypercapnic respiratory failure, target 88-92 %, prescribed by a clinician):
 * <=83 3; 84-85 2; 86-87 1; 88-92 0; 93 or more on air 0; on oxygen 93-94 1, 95-96 2, >=97 3.
 * At 93 % or more the score depends on air or oxygen: without it the score is unknown (null).
 */
export const spo2Scale2Score = (percent: number, airOrOxygen: 'air' | 'oxygen' | undefined): SubScore | null => {
  if (percent <= 83) return 3;
  if (percent <= 85) return 2;
  if (percent <= 87) return 1;
  if (percent <= 92) return 0;
  if (airOrOxygen === undefined) return null;
  if (airOrOxygen === 'air') return 0;
  if (percent <= 94) return 1;
  if (percent <= 96) return 2;
  return 3;
};

/** Air or oxygen: oxygen 2; air 0. */
export const airOrOxygenScore = (airOrOxygen: 'air' | 'oxygen'): SubScore => (airOrOxygen === 'oxygen' ? 2 : 0);

/** Systolic blood pressure mmHg: <=90 3; 91-100 2; 101-110 1; 111-219 0; >=220 3. */
export const systolicScore = (mmHg: number): SubScore => {
  if (mmHg <= 90) return 3;
  if (mmHg <= 100) return 2;
  if (mmHg <= 110) return 1;
  if (mmHg <= 219) return 0;
  return 3;
};

/** Pulse /min: <=40 3; 41-50 1; 51-90 0; 91-110 1; 111-130 2; >=131 3. */
export const pulseScore = (perMinute: number): SubScore => {
  if (perMinute <= 40) return 3;
  if (perMinute <= 50) return 1;
  if (perMinute <= 90) return 0;
  if (perMinute <= 110) return 1;
  if (perMinute <= 130) return 2;
  return 3;
};

/** Consciousness (ACVPU): Alert 0; new Confusion, Voice, Pain or Unresponsive 3. */
export const consciousnessScore = (acvpu: 'A' | 'C' | 'V' | 'P' | 'U'): SubScore => (acvpu === 'A' ? 0 : 3);

/**
 * Temperature C, read to one decimal place: <=35.0 3; 35.1-36.0 1; 36.1-38.0 0; 38.1-39.0 1;
 * >=39.1 2. Compared in tenths of a degree so that binary fractions cannot move a boundary.
 */
export const temperatureScore = (celsius: number): SubScore => {
  const tenths = Math.round(celsius * 10);
  if (tenths <= 350) return 3;
  if (tenths <= 360) return 1;
  if (tenths <= 380) return 0;
  if (tenths <= 390) return 1;
  return 2;
};

/** The clinical risk band of a total: 0-4 low (a 3 in one parameter: low-medium); 5-6 medium; 7+ high. */
export const news2Risk = (total: number, anySingleParameterThree: boolean): News2Risk => {
  if (total >= 7) return 'high';
  if (total >= 5) return 'medium';
  return anySingleParameterThree ? 'low-medium' : 'low';
};

export interface News2Options {
  /** From the person's plan (scale 2 only when a clinician has prescribed it). */
  readonly spo2Scale: Spo2Scale;
}

export const scoreNews2 = (observation: Partial<VitalSignsMeasurements>, options: News2Options): News2Result => {
  const o = observation;
  const subScores: News2Result['subScores'] = {
    respirationRate: o.respirationRate === undefined ? null : respirationRateScore(o.respirationRate),
    spo2: o.spo2 === undefined ? null : options.spo2Scale === 2 ? spo2Scale2Score(o.spo2, o.airOrOxygen) : spo2Scale1Score(o.spo2),
    airOrOxygen: o.airOrOxygen === undefined ? null : airOrOxygenScore(o.airOrOxygen),
    systolic: o.systolic === undefined ? null : systolicScore(o.systolic),
    pulse: o.pulse === undefined ? null : pulseScore(o.pulse),
    consciousness: o.consciousness === undefined ? null : consciousnessScore(o.consciousness),
    temperatureC: o.temperatureC === undefined ? null : temperatureScore(o.temperatureC),
  };
  const missing: News2Parameter[] = NEWS2_PARAMETERS.filter((parameter) => o[parameter] === undefined);
  const known = Object.values(subScores).filter((score): score is number => score !== null);
  const partialTotal = known.reduce((sum, score) => sum + score, 0);
  const anySingleParameterThree = known.includes(3);
  const complete = missing.length === 0 && known.length === NEWS2_PARAMETERS.length;
  const riskAtLeast = news2Risk(partialTotal, anySingleParameterThree);
  return {
    subScores,
    missing,
    total: complete ? partialTotal : null,
    partialTotal,
    anySingleParameterThree,
    risk: complete ? riskAtLeast : 'incomplete',
    riskAtLeast,
  };
};
