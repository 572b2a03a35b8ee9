import { byUrgency, type CaseloadRow } from '../src/caseload';
import { bandsOf, parametersFor, readingsOf, seriesOf } from '../src/chart-data';

/** The chart's data and the caseload's order, pure: what the nurse's screens draw (H57, H58). */
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
    expect(bandsOf(parameter('news2')).filter((b) => b.score > 0)).toEqual([
      { from: 4.5, to: 6.5, score: 2 },
      { from: 6.5, to: 20, score: 3 },
    ]);
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
});
