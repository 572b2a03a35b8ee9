import { DMD_SYSTEM, type MedicationProduct } from '@tandem/contracts';
import { medicineDosesDueInVisit, type CareState, type MedicationOrderState } from '../../src/domain';

/**
 * The MAR's scheduled doses due in a visit (what the check-out asks about, hazard H83): each
 * scheduled time of an active non-insulin order inside the visit, with the outcome recorded for that
 * time that day, none when there is none. Pure, so given orders and entries, then the doses.
 */
describe('the scheduled medicines due in a visit', () => {
  const visit = { plannedStart: '2026-12-02T07:30:00Z', plannedEnd: '2026-12-02T08:30:00Z' };
  const order = (id: string, times: string[], product: MedicationProduct = { system: DMD_SYSTEM, code: '319283006', display: 'Amlodipine 5mg tablets' }, extra: Partial<MedicationOrderState> = {}): MedicationOrderState => ({
    id,
    version: 1,
    status: 'active',
    details: { product, dose: { value: 1, unit: 'tablet' }, route: 'oral', timing: { kind: 'scheduled', times }, start: '2026-11-01T00:00:00Z', timeCritical: false, prescriberId: 'nurse-1' },
    ...extra,
  });
  const careWith = (entries: { orderId: string; scheduledTime: string; outcome: string; occurredAt: string; enteredInError?: boolean }[]): CareState =>
    ({ entries: Object.fromEntries(entries.map((e, i) => [`e${i}`, { type: 'MedicineDoseRecorded', occurredAt: e.occurredAt, enteredInError: e.enteredInError ?? false, data: { orderId: e.orderId, scheduledTime: e.scheduledTime, outcome: e.outcome } }])) }) as unknown as CareState;

  it('given an 08:00 and an 18:00 tablet and no outcome, when the 07:30 visit closes, then only the 08:00 dose is due, without an outcome', () => {
    expect(medicineDosesDueInVisit(visit, [order('o1', ['08:00', '18:00'])], careWith([]))).toEqual([{ doseId: 'o1@2026-12-02T08:00:00.000Z', description: '1 tablet of Amlodipine 5mg tablets at 08:00', dueAt: '2026-12-02T08:00:00.000Z' }]);
  });

  it("given the 08:00 dose refused today, then it has that outcome; yesterday's, or one entered in error, is not today's", () => {
    const today = medicineDosesDueInVisit(visit, [order('o1', ['08:00'])], careWith([{ orderId: 'o1', scheduledTime: '08:00', outcome: 'refused', occurredAt: '2026-12-02T08:05:00Z' }]));
    expect(today.map((d) => d.outcome)).toEqual(['refused']);
    const notToday = medicineDosesDueInVisit(
      visit,
      [order('o1', ['08:00'])],
      careWith([
        { orderId: 'o1', scheduledTime: '08:00', outcome: 'given', occurredAt: '2026-12-01T08:05:00Z' },
        { orderId: 'o1', scheduledTime: '08:00', outcome: 'given', occurredAt: '2026-12-02T08:01:00Z', enteredInError: true },
      ]),
    );
    expect(notToday.map((d) => d.outcome)).toEqual([undefined]);
  });

  it('an insulin order is left to the delegation (never asked twice), and an order stopped before the time asks nothing', () => {
    const insulin = order('o2', ['08:00'], { system: DMD_SYSTEM, code: '400000000', display: 'Humulin I KwikPen' });
    const stopped = order('o3', ['08:00'], undefined, { status: 'stopped', stopped: { at: '2026-12-01T12:00:00Z', reason: 'blood pressure low' } });
    expect(medicineDosesDueInVisit(visit, [insulin, stopped], careWith([]))).toEqual([]);
  });
});
