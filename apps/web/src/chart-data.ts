import { pulseScore, respirationRateScore, spo2Scale1Score, spo2Scale2Score, systolicScore, temperatureScore } from '@tandem/contracts';

/**
 * A person's record as the RCP NEWS2 observation chart lays it out: each parameter over time with
 * its scoring bands, from FHIR Observations and MedicationAdministrations. Pure (no DOM), so the
 * bands and the table are tested without a browser. The bands are not a copy of the chart: they
 * are found by asking the record's own scoring functions (contracts/src/care/news2.ts)
 * the score of every value in the parameter's range, so the shading is the score Tandem gives.
 */

export type Score = 0 | 1 | 2 | 3;

export interface Reading {
  readonly id: string;
  /** When it happened (the bedside time), ms since the epoch. */
  readonly at: number;
  readonly value: number;
  /** Recorded late (the record's late-entry flag). */
  readonly late: boolean;
  readonly status: 'final' | 'amended' | 'entered-in-error' | string;
  /** The reason of an amendment or of marking it entered in error (the Observation's notes). */
  readonly notes: readonly string[];
  /** What it said before it was changed, oldest first (from its _history). */
  readonly earlier: readonly number[];
}

export interface Parameter {
  readonly key: 'respirationRate' | 'spo2' | 'systolic' | 'pulse' | 'temperatureC' | 'news2' | 'glucose' | 'insulin';
  readonly title: string;
  readonly unit: string;
  /** The value's range on the chart's axis. */
  readonly range: readonly [number, number];
  /** The step between values the scoring is asked about (the measurement's precision). */
  readonly step: number;
  readonly score?: (value: number) => Score;
}

export interface Band {
  readonly from: number;
  readonly to: number;
  readonly score: Score;
}

export const parametersFor = (spo2Scale: 1 | 2): readonly Parameter[] => [
  { key: 'respirationRate', title: 'Breathing rate', unit: 'breaths per minute', range: [4, 36], step: 1, score: respirationRateScore },
  {
    key: 'spo2',
    title: spo2Scale === 2 ? 'Oxygen saturation (SpO2 scale 2, on air)' : 'Oxygen saturation (SpO2 scale 1)',
    unit: '%',
    range: [80, 100],
    step: 1,
    score: spo2Scale === 2 ? (v) => spo2Scale2Score(v, 'air') ?? 0 : spo2Scale1Score,
  },
  { key: 'systolic', title: 'Blood pressure: systolic', unit: 'mmHg', range: [60, 240], step: 1, score: systolicScore },
  { key: 'pulse', title: 'Pulse', unit: 'beats per minute', range: [30, 150], step: 1, score: pulseScore },
  { key: 'temperatureC', title: 'Temperature', unit: '°C', range: [34, 40.5], step: 0.1, score: temperatureScore },
  // NEWS2 itself: 5-6 an urgent response (medium), 7 or more an emergency (high), as the chart's key says.
  { key: 'news2', title: 'NEWS2 total', unit: 'score', range: [0, 20], step: 1, score: (v) => (v >= 7 ? 3 : v >= 5 ? 2 : 0) },
  { key: 'glucose', title: 'Blood glucose', unit: 'mmol/L', range: [0, 25], step: 0.1 },
  { key: 'insulin', title: 'Insulin given', unit: 'units', range: [0, 40], step: 1 },
];

/** The parameter's scoring bands: each run of values with the same score, from the record's scoring function. */
export const bandsOf = (parameter: Parameter): Band[] => {
  if (!parameter.score) return [];
  const [lo, hi] = parameter.range;
  const bands: Band[] = [];
  const count = Math.round((hi - lo) / parameter.step);
  for (let i = 0; i <= count; i++) {
    const value = Math.round((lo + i * parameter.step) * 1000) / 1000;
    const score = parameter.score(value);
    const last = bands[bands.length - 1];
    // A band reaches half a step either side of its values, so neighbouring bands meet.
    if (last && last.score === score) bands[bands.length - 1] = { ...last, to: Math.min(hi, value + parameter.step / 2) };
    else bands.push({ from: Math.max(lo, value - parameter.step / 2), to: Math.min(hi, value + parameter.step / 2), score });
  }
  return bands;
};

type Resource = Record<string, unknown>;
type Coding = { code?: string };
const codesOf = (r: Resource) => new Set(((r.code as { coding?: Coding[] } | undefined)?.coding ?? []).map((c) => c.code));
const lateOf = (r: Resource) => (r.extension as { url: string; valueBoolean?: boolean }[] | undefined)?.some((x) => x.url.endsWith('/late-entry') && x.valueBoolean === true) ?? false;
const notesOf = (r: Resource) => ((r.note as { text?: string }[] | undefined) ?? []).map((n) => n.text).filter((t): t is string => typeof t === 'string');
const quantity = (q: unknown) => (typeof (q as { value?: unknown } | undefined)?.value === 'number' ? (q as { value: number }).value : undefined);

/** The LOINC code of each parameter's own Observation (systolic is a component of the blood pressure). */
const CODE: Partial<Record<Parameter['key'], string>> = { respirationRate: '9279-1', spo2: '2708-6', pulse: '8867-4', temperatureC: '8310-5', news2: '1104051000000101', glucose: '14743-9' };
const BLOOD_PRESSURE = '85354-9';
const SYSTOLIC = '8480-6';

/** A parameter's value in one Observation, if it is one of that parameter's. */
export const valueIn = (key: Parameter['key'], r: Resource): number | undefined => {
  if (r.resourceType !== 'Observation') return undefined;
  const codes = codesOf(r);
  if (key === 'systolic') {
    if (!codes.has(BLOOD_PRESSURE)) return undefined;
    const part = ((r.component as { code?: { coding?: Coding[] }; valueQuantity?: unknown }[] | undefined) ?? []).find((c) => c.code?.coding?.some((x) => x.code === SYSTOLIC));
    return quantity(part?.valueQuantity);
  }
  const code = CODE[key];
  if (!code || !codes.has(code)) return undefined;
  return quantity(r.valueQuantity) ?? (typeof r.valueInteger === 'number' ? r.valueInteger : undefined);
};

/** A parameter's readings from Observations (or, for insulin, MedicationAdministrations given), oldest first. */
export const readingsOf = (key: Parameter['key'], resources: readonly Resource[], earlier: ReadonlyMap<string, readonly Resource[]> = new Map()): Reading[] => {
  const readings: Reading[] = [];
  for (const r of resources) {
    const at = Date.parse(String(r.effectiveDateTime ?? ''));
    if (!Number.isFinite(at)) continue;
    let value: number | undefined;
    if (key === 'insulin') {
      if (r.resourceType !== 'MedicationAdministration' || r.status === 'not-done') continue;
      value = quantity((r.dosage as { dose?: unknown } | undefined)?.dose);
    } else value = valueIn(key, r);
    if (value === undefined) continue;
    const id = String(r.id);
    const before = (earlier.get(id) ?? []).map((v) => (key === 'insulin' ? quantity((v.dosage as { dose?: unknown } | undefined)?.dose) : valueIn(key, v))).filter((v): v is number => v !== undefined && v !== value);
    readings.push({ id, at, value, late: lateOf(r), status: String(r.status ?? 'final'), notes: notesOf(r), earlier: [...new Set(before)] });
  }
  return readings.sort((a, b) => a.at - b.at);
};

/**
 * The chart's data as uPlot takes it: one x (seconds) and, per series, a value or null at each x:
 * the readings in the record (entered in error left out of the line), those recorded late (ringed),
 * and earlier values of corrected readings (shown where they stood, greyed).
 */
export const seriesOf = (readings: readonly Reading[]): [number[], (number | null)[], (number | null)[], (number | null)[]] => {
  const xs: number[] = [];
  const current: (number | null)[] = [];
  const late: (number | null)[] = [];
  const earlier: (number | null)[] = [];
  for (const r of readings) {
    const inError = r.status === 'entered-in-error';
    xs.push(r.at / 1000);
    current.push(inError ? null : r.value);
    late.push(!inError && r.late ? r.value : null);
    earlier.push(inError ? r.value : (r.earlier[r.earlier.length - 1] ?? null));
  }
  return [xs, current, late, earlier];
};
