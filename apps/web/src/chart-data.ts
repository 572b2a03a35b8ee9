import { OBSERVATION_VOCABULARY, parseEntryResourceId, pulseScore, respirationRateScore, spo2Scale1Score, spo2Scale2Score, systolicScore, temperatureScore } from '@tandem/contracts';

/**
 * A person's record as the RCP NEWS2 observation chart lays it out: each parameter over time with
 * its scoring bands, from FHIR Observations and MedicationAdministrations. Pure (no DOM), so the
 * bands and the table are tested without a browser. The bands are not a copy of the chart: they
 * are found by asking the record's own scoring functions (contracts/src/care/news2.ts)
 * the score of every value in the parameter's range, so the shading is the score Tandem gives.
 * On SpO2 scale 2 a saturation of 93 % or more scores by air or oxygen: its bands are found for
 * each, and each reading carries which it was (docs/decisions/0030-spo2-scale-2-on-the-chart.md).
 */

export type Score = 0 | 1 | 2 | 3;
/** Whether the person was breathing air or on oxygen when the reading was taken. */
export type Breathing = 'air' | 'oxygen';

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
  /** For SpO2: air or oxygen, from the same set's air-or-oxygen Observation (absent when not recorded). */
  readonly breathing?: Breathing;
}

export interface Parameter {
  readonly key: 'respirationRate' | 'spo2' | 'systolic' | 'pulse' | 'temperatureC' | 'news2' | 'glucose' | 'insulin';
  readonly title: string;
  readonly unit: string;
  /** The value's range on the chart's axis. */
  readonly range: readonly [number, number];
  /** The step between values the scoring is asked about (the measurement's precision). */
  readonly step: number;
  /** The NEWS2 score of a value; null when it cannot be known (scale 2 from 93 % with air or oxygen not recorded). */
  readonly score?: (value: number, breathing: Breathing | undefined) => Score | null;
  /** Its scores depend on air or oxygen (SpO2 scale 2): the chart shades by what each reading was taken on. */
  readonly byBreathing?: true;
}

export interface Band {
  readonly from: number;
  readonly to: number;
  /** null: not known (scale 2 from 93 % without air or oxygen recorded), never shown as 0. */
  readonly score: Score | null;
}

export const parametersFor = (spo2Scale: 1 | 2): readonly Parameter[] => [
  { key: 'respirationRate', title: 'Breathing rate', unit: 'breaths per minute', range: [4, 36], step: 1, score: respirationRateScore },
  spo2Scale === 2
    ? { key: 'spo2', title: 'Oxygen saturation, SpO2 Scale 2', unit: '%', range: [80, 100], step: 1, score: spo2Scale2Score, byBreathing: true }
    : { key: 'spo2', title: 'Oxygen saturation, SpO2 Scale 1', unit: '%', range: [80, 100], step: 1, score: spo2Scale1Score },
  { key: 'systolic', title: 'Blood pressure: systolic', unit: 'mmHg', range: [60, 240], step: 1, score: systolicScore },
  { key: 'pulse', title: 'Pulse', unit: 'beats per minute', range: [30, 150], step: 1, score: pulseScore },
  { key: 'temperatureC', title: 'Temperature', unit: '°C', range: [34, 40.5], step: 0.1, score: temperatureScore },
  // NEWS2 itself: 5-6 an urgent response (medium), 7 or more an emergency (high), as the chart's key says.
  { key: 'news2', title: 'NEWS2 total', unit: 'score', range: [0, 20], step: 1, score: (v) => (v >= 7 ? 3 : v >= 5 ? 2 : 0) },
  { key: 'glucose', title: 'Blood glucose', unit: 'mmol/L', range: [0, 25], step: 0.1 },
  { key: 'insulin', title: 'Insulin given', unit: 'units', range: [0, 40], step: 1 },
];

/**
 * The parameter's scoring bands over `range` (the axis drawn, which a reading outside the usual
 * range widens): each run of values with the same score, from the record's scoring function, for
 * readings on air or on oxygen (the same unless the parameter is scored `byBreathing`).
 */
export const bandsOf = (parameter: Parameter, breathing?: Breathing, range: readonly [number, number] = parameter.range): Band[] => {
  if (!parameter.score) return [];
  const [lo, hi] = range;
  const bands: Band[] = [];
  const count = Math.round((hi - lo) / parameter.step);
  for (let i = 0; i <= count; i++) {
    const value = Math.round((lo + i * parameter.step) * 1000) / 1000;
    const score = parameter.score(value, breathing);
    const last = bands[bands.length - 1];
    // A band reaches half a step either side of its values, so neighbouring bands meet.
    if (last && last.score === score) bands[bands.length - 1] = { ...last, to: Math.min(hi, value + parameter.step / 2) };
    else bands.push({ from: Math.max(lo, value - parameter.step / 2), to: Math.min(hi, value + parameter.step / 2), score });
  }
  return bands;
};

/**
 * The bands in words, as the chart's scale is read aloud ("83 or less scores 3, 84 to 85 scores
 * 2, ..."), from the same bands (so from the record's scorer), over the whole possible range.
 */
export const bandWords = (parameter: Parameter, breathing: Breathing | undefined, range: readonly [number, number], unit = ''): string =>
  bandsOf(parameter, breathing, range)
    .map((band, i, all) => {
      const from = Math.round((band.from + parameter.step / 2) * 1000) / 1000;
      const to = Math.round((band.to - parameter.step / 2) * 1000) / 1000;
      const values = i === 0 ? `${to}${unit} or less` : i === all.length - 1 ? `${from}${unit} or more` : from === to ? `${from}${unit}` : `${from} to ${to}${unit}`;
      return `${values} ${band.score === null ? 'not known' : `scores ${band.score}`}`;
    })
    .join(', ');

/**
 * Stretches of the time axis (seconds) and what the person breathed in each: one stretch for a
 * parameter scored alike on air and oxygen; for SpO2 scale 2, each reading's from halfway to the
 * reading before until halfway to the next, so the bands behind a reading are the ones it scored on.
 */
export const breathingStretches = (parameter: Parameter, readings: readonly Reading[]): { from: number; to: number; breathing: Breathing | undefined }[] => {
  if (!parameter.byBreathing || readings.length === 0) return [{ from: -Infinity, to: Infinity, breathing: undefined }];
  const stretches: { from: number; to: number; breathing: Breathing | undefined }[] = [];
  readings.forEach((r, i) => {
    const from = i === 0 ? -Infinity : (readings[i - 1]!.at + r.at) / 2000;
    const to = i === readings.length - 1 ? Infinity : (r.at + readings[i + 1]!.at) / 2000;
    const last = stretches[stretches.length - 1];
    if (last && last.breathing === r.breathing) last.to = to;
    else stretches.push({ from, to, breathing: r.breathing });
  });
  return stretches;
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
/** Air or oxygen of each vital signs set, by its entry (the set's air-or-oxygen Observation is `<entryId>-air`). */
const breathingByEntry = (resources: readonly Resource[]): Map<string, Breathing> => {
  const air = new Set(OBSERVATION_VOCABULARY.air.codings.map((c) => c.code));
  const oxygen = new Set(OBSERVATION_VOCABULARY.oxygen.codings.map((c) => c.code));
  const byEntry = new Map<string, Breathing>();
  for (const r of resources) {
    if (r.resourceType !== 'Observation' || r.status === 'entered-in-error') continue;
    const entry = parseEntryResourceId(String(r.id));
    if (entry?.suffix !== 'air') continue;
    const codes = [...codesOf(r)];
    if (codes.some((c) => c !== undefined && oxygen.has(c))) byEntry.set(entry.entryId, 'oxygen');
    else if (codes.some((c) => c !== undefined && air.has(c))) byEntry.set(entry.entryId, 'air');
  }
  return byEntry;
};

export const readingsOf = (key: Parameter['key'], resources: readonly Resource[], earlier: ReadonlyMap<string, readonly Resource[]> = new Map()): Reading[] => {
  const readings: Reading[] = [];
  const breathing = key === 'spo2' ? breathingByEntry(resources) : new Map<string, Breathing>();
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
    const onAirOrOxygen = breathing.get(parseEntryResourceId(id)?.entryId ?? '');
    readings.push({ id, at, value, late: lateOf(r), status: String(r.status ?? 'final'), notes: notesOf(r), earlier: [...new Set(before)], ...(onAirOrOxygen ? { breathing: onAirOrOxygen } : {}) });
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

/** Days per search of the chart's observations: 90 days of 4 sets of 9 is about 650 Observations a range, one page each. */
const RANGE_DAYS = 18;

/**
 * The days from `since` (YYYY-MM-DD) to today in ranges of RANGE_DAYS, the last open-ended: `ge`
 * the first day and `lt` the next range's first day, which the server reads as `>=` and `<` the
 * same instant, so each Observation is in exactly one range.
 */
export const dateRanges = (since: string, days: number, step = RANGE_DAYS): { ge: string; lt?: string }[] => {
  const start = Date.parse(`${since}T00:00:00Z`);
  const dayOf = (offset: number) => new Date(start + offset * 86_400_000).toISOString().slice(0, 10);
  const ranges: { ge: string; lt?: string }[] = [];
  for (let offset = 0; offset < days; offset += step) ranges.push({ ge: dayOf(offset), ...(offset + step < days ? { lt: dayOf(offset + step) } : {}) });
  return ranges;
};
