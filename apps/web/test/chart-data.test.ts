import { spo2Scale1Score, spo2Scale2Score } from '@tandem/contracts';
import { byUrgency, type CaseloadRow } from '../src/caseload';
import { bandsOf, bandWords, dateRanges, breathingStretches, parametersFor, readingsOf, seriesOf, type Band, type Breathing } from '../src/chart-data';

/** The chart's data and the caseload's order, pure: what the nurse's screens draw (H57, H58, H95). */
describe("the nurse's chart data", () => {
  const parameter = (key: string) => parametersFor(1).find((p) => p.key === key)!;

  it("the breathing-rate bands are the record's scores: 8 or less 3, 9-11 1, 12-20 0, 21-24 2, 25 or more 3", () => {
    expect(bandsOf(parameter('respirationRate'))).toEqual([
      { from: 4, to: 8.5, score: 3 },
      { from: 8.5, to: 11.5, score: 1 },
      { from: 11.5, to: 20.5, score: 0 },
      { from: 20.5, to: 24.5, score: 2 },
      { from: 24.5, to: 36, score: 3 },
    ]);
  });

  it('the NEWS2 total is shaded from 5 (urgent response) and from 7 (emergency response)', () => {
    expect(bandsOf(parameter('news2')).filter((b) => (b.score ?? 0) > 0)).toEqual([
      { from: 4.5, to: 6.5, score: 2 },
      { from: 6.5, to: 20, score: 3 },
    ]);
  });

  describe('the SpO2 shading (H95)', () => {
    const spo2 = (scale: 1 | 2) => parametersFor(scale).find((p) => p.key === 'spo2')!;
    /** The band a value falls in: the one whose half-open stretch holds it (the top band also holds its top). */
    const bandAt = (bands: readonly Band[], value: number) => bands.find((b, i) => b.from <= value && (value < b.to || (i === bands.length - 1 && value === b.to)));
    const scorer = (scale: 1 | 2, breathing: Breathing) => (v: number) => (scale === 1 ? spo2Scale1Score(v) : spo2Scale2Score(v, breathing));

    it.each([
      [1, 'air'],
      [1, 'oxygen'],
      [2, 'air'],
      [2, 'oxygen'],
    ] as const)("shades scale %i on %s with the record's own score at every whole percent from 70 to 100", (scale, breathing) => {
      const bands = bandsOf(spo2(scale), breathing, [70, 100]);
      const values = Array.from({ length: 31 }, (_, i) => 70 + i);
      expect(values.map((v) => [v, bandAt(bands, v)?.score])).toEqual(values.map((v) => [v, scorer(scale, breathing)(v)]));
    });

    it('shades scale 2 exactly as the RCP chart: 83 or less 3, 84-85 2, 86-87 1, 88-92 0; from 93 on air 0, on oxygen 93-94 1, 95-96 2, 97 or more 3', () => {
      expect(bandsOf(spo2(2), 'oxygen', [70, 100])).toEqual([
        { from: 70, to: 83.5, score: 3 },
        { from: 83.5, to: 85.5, score: 2 },
        { from: 85.5, to: 87.5, score: 1 },
        { from: 87.5, to: 92.5, score: 0 },
        { from: 92.5, to: 94.5, score: 1 },
        { from: 94.5, to: 96.5, score: 2 },
        { from: 96.5, to: 100, score: 3 },
      ]);
      expect(bandsOf(spo2(2), 'air', [70, 100])).toEqual([
        { from: 70, to: 83.5, score: 3 },
        { from: 83.5, to: 85.5, score: 2 },
        { from: 85.5, to: 87.5, score: 1 },
        { from: 87.5, to: 100, score: 0 },
      ]);
      expect(bandWords(spo2(2), 'oxygen', [0, 100], '%')).toBe('83% or less scores 3, 84 to 85% scores 2, 86 to 87% scores 1, 88 to 92% scores 0, 93 to 94% scores 1, 95 to 96% scores 2, 97% or more scores 3');
    });

    it('shades scale 1 as before, whatever the person breathes: 91 or less 3, 92-93 2, 94-95 1, 96 or more 0', () => {
      const scale1 = [
        { from: 70, to: 91.5, score: 3 },
        { from: 91.5, to: 93.5, score: 2 },
        { from: 93.5, to: 95.5, score: 1 },
        { from: 95.5, to: 100, score: 0 },
      ];
      expect([bandsOf(spo2(1), 'air', [70, 100]), bandsOf(spo2(1), 'oxygen', [70, 100])]).toEqual([scale1, scale1]);
    });

    it('on scale 2 a saturation of 93 or more with air or oxygen not recorded is "not known", never shaded as 0', () => {
      expect(bandsOf(spo2(2), undefined, [70, 100]).at(-1)).toEqual({ from: 92.5, to: 100, score: null });
    });

    it('says "Scale 2" on the panel of a person on scale 2 and "Scale 1" otherwise', () => {
      expect([spo2(2).title, spo2(1).title]).toEqual(['Oxygen saturation, SpO2 Scale 2', 'Oxygen saturation, SpO2 Scale 1']);
    });

    it("reads whether each SpO2 reading was taken on air or oxygen from its set's air-or-oxygen Observation", () => {
      const entry = (n: number) => `0000000${n}-0000-4000-8000-000000000000`;
      const set = (n: number, at: string, spo2Value: number, breathing?: 'air' | 'oxygen') => [
        { resourceType: 'Observation', id: `${entry(n)}-spo2`, status: 'final', effectiveDateTime: at, code: { coding: [{ code: '2708-6' }] }, valueQuantity: { value: spo2Value, unit: '%' } },
        ...(breathing ? [{ resourceType: 'Observation', id: `${entry(n)}-air`, status: 'final', effectiveDateTime: at, code: { coding: [{ system: 'http://snomed.info/sct', code: breathing === 'air' ? '722742002' : '371825009' }] } }] : []),
      ];
      const readings = readingsOf('spo2', [...set(1, '2026-12-01T08:00:00Z', 95, 'oxygen'), ...set(2, '2026-12-01T12:00:00Z', 95, 'air'), ...set(3, '2026-12-01T16:00:00Z', 95)]);
      expect(readings.map((r) => [r.value, r.breathing])).toEqual([
        [95, 'oxygen'],
        [95, 'air'],
        [95, undefined],
      ]);
      expect(readings.map((r) => spo2(2).score!(r.value, r.breathing))).toEqual([2, 0, null]);
    });
  });

  it('behind each scale 2 reading shades the bands of what it was taken on, from halfway to the reading before until halfway to the next', () => {
    const reading = (hour: number, breathing?: Breathing) => ({ id: String(hour), at: Date.UTC(2026, 11, 1, hour), value: 95, late: false, status: 'final', notes: [], earlier: [], ...(breathing ? { breathing } : {}) });
    const at = (hour: number) => Date.UTC(2026, 11, 1, hour) / 1000;
    const spo2 = (scale: 1 | 2) => parametersFor(scale).find((p) => p.key === 'spo2')!;
    const readings = [reading(8, 'air'), reading(10, 'air'), reading(12, 'oxygen'), reading(16)];
    expect(breathingStretches(spo2(2), readings)).toEqual([
      { from: -Infinity, to: at(11), breathing: 'air' },
      { from: at(11), to: at(14), breathing: 'oxygen' },
      { from: at(14), to: Infinity, breathing: undefined },
    ]);
    // Scale 1 scores alike on air and oxygen: one stretch for the whole axis.
    expect(breathingStretches(spo2(1), readings)).toEqual([{ from: -Infinity, to: Infinity, breathing: undefined }]);
  });

  it('shades the whole axis drawn: a reading below the usual range widens the bands with it (a 75% SpO2 is in the red)', () => {
    expect(bandsOf(parametersFor(1).find((p) => p.key === 'spo2')!, 'air', [75, 100])[0]).toEqual({ from: 75, to: 91.5, score: 3 });
  });

  const observation = (id: string, at: string, value: number, extra: Record<string, unknown> = {}) => ({
    resourceType: 'Observation',
    id,
    status: 'final',
    effectiveDateTime: at,
    code: { coding: [{ code: '14743-9' }] },
    valueQuantity: { value, unit: 'mmol/L' },
    ...extra,
  });

  it('a reading entered in error is left out of the line and drawn grey; an amended one keeps its earlier value; a late one is ringed', () => {
    const resources = [
      observation('a', '2026-12-01T08:00:00Z', 5.1, { extension: [{ url: 'https://tandem.nhs.example/fhir/StructureDefinition/late-entry', valueBoolean: true }] }),
      observation('b', '2026-12-01T12:00:00Z', 7.4, { status: 'amended', note: [{ text: 'Amended: Typed 12.4 for 7.4' }] }),
      observation('c', '2026-12-01T18:00:00Z', 2.0, { status: 'entered-in-error', note: [{ text: 'Entered in error: wrong person' }] }),
    ];
    const earlier = new Map([['b', [observation('b', '2026-12-01T12:00:00Z', 12.4)]]]);
    const readings = readingsOf('glucose', resources, earlier);
    expect(readings.map((r) => [r.id, r.value, r.late, r.status, r.earlier])).toEqual([
      ['a', 5.1, true, 'final', []],
      ['b', 7.4, false, 'amended', [12.4]],
      ['c', 2.0, false, 'entered-in-error', []],
    ]);
    const [, line, late, grey] = seriesOf(readings);
    expect({ line, late, grey }).toEqual({ line: [5.1, 7.4, null], late: [5.1, null, null], grey: [null, 12.4, 2.0] });
  });

  it('reads insulin given in units and leaves doses not given off the chart', () => {
    const dose = (id: string, status: string, value: number) => ({ resourceType: 'MedicationAdministration', id, status, effectiveDateTime: '2026-12-01T17:00:00Z', dosage: { dose: { value, unit: 'units' } } });
    expect(readingsOf('insulin', [dose('x', 'completed', 10), dose('y', 'not-done', 10)]).map((r) => [r.id, r.value])).toEqual([['x', 10]]);
  });
});

describe("the nurse's caseload order", () => {
  const row = (name: string, extra: Partial<CaseloadRow> = {}): CaseloadRow => ({ person: { id: name, name, spo2Scale: 1 }, escalations: [], monitoringOverdue: [], reviewsDue: [], competencesLapsing: [], ...extra });
  const escalation = (urgency: string) => ({ escalationId: urgency, patientId: '', ruleId: '', urgency, status: 'sentToTier', tierNumber: 1, raisedAt: '', reachedYou: true, sbard: { situation: '', background: '', assessment: '', recommendation: '', decision: '' } });

  it('puts an emergency escalation first, then urgent, then the NEWS2 band, then monitoring overdue, then by name', () => {
    const rows = [
      row('Ada'),
      row('Bea', { news2: { at: '', value: 5, late: false, band: 'medium' } }),
      row('Cal', { escalations: [escalation('urgent')] }),
      row('Dot', { monitoringOverdue: ['Cellulitis check'] }),
      row('Eve', { escalations: [escalation('emergency')] }),
      row('Fay', { news2: { at: '', value: 8, late: false, band: 'high' } }),
    ];
    expect([...rows].sort(byUrgency).map((r) => r.person.name)).toEqual(['Eve', 'Cal', 'Fay', 'Bea', 'Dot', 'Ada']);
  });
  it("asks for the chart's 90 days as ranges that meet end to start, the last open to today, so no reading is missed or counted twice", () => {
    const ranges = dateRanges('2026-09-04', 90);
    expect(ranges).toEqual([
      { ge: '2026-09-04', lt: '2026-09-22' },
      { ge: '2026-09-22', lt: '2026-10-10' },
      { ge: '2026-10-10', lt: '2026-10-28' },
      { ge: '2026-10-28', lt: '2026-11-15' },
      { ge: '2026-11-15' },
    ]);
    // Across the end of British Summer Time (25 October) and a month's end, whole days still.
    expect(ranges.slice(1).every((r, i) => r.ge === ranges[i]!.lt)).toBe(true);
    expect(dateRanges('2026-12-01', 5)).toEqual([{ ge: '2026-12-01' }]);
  });
});
