import { careStateFrom } from '../../src/domain/care-state';
import { insulinDosesDueInVisit, instructedTimesInVisit } from '../../src/domain/visit-doses';
import { at, INSULIN, insulinGiven, PATIENT_ID, stored } from './fixtures';

/**
 * The scheduled doses due in a visit, insulin's case (the only scheduled medicine before the MAR):
 * the delegation's instructed times (England) inside the visit's planned period, each with the
 * outcome recorded within the window (given, withheld), or none. The check-out refuses to close
 * while one has none (visits.test.ts).
 */
const EVENING = { delegationId: 'd-evening', product: INSULIN, doseUnits: 8, times: ['18:00'] };
const visit = { plannedStart: at('17:45'), plannedEnd: at('18:30') };

describe('insulin doses due in a visit', () => {
  it('given the instruction says 18:00 and the visit is 17:45 to 18:30, then one dose is due at 18:00 with no outcome', () => {
    expect(insulinDosesDueInVisit(visit, [EVENING], careStateFrom([]))).toEqual([
      { doseId: `d-evening@${new Date(at('18:00')).toISOString()}`, description: '8 units of Humulin I KwikPen at 18:00', dueAt: new Date(at('18:00')).toISOString() },
    ]);
  });

  it('given 8 units were given at 18:05, then the dose has the outcome given; withheld at 17:50, withheld', () => {
    expect(insulinDosesDueInVisit(visit, [EVENING], careStateFrom([insulinGiven({ at: '18:05', dose: 8 })]))[0]!.outcome).toBe('given');
    const withheld = stored('InsulinWithheld', { patientId: PATIENT_ID, product: INSULIN, plannedDose: { value: 8, unit: 'units' }, reason: 'glucose 3.4' }, at('17:50'));
    expect(insulinDosesDueInVisit(visit, [EVENING], careStateFrom([withheld]))[0]!.outcome).toBe('withheld');
  });

  it('given a dose of another insulin, or one hours away, then the 18:00 dose still has no outcome', () => {
    expect(insulinDosesDueInVisit(visit, [EVENING], careStateFrom([insulinGiven({ at: '18:00', dose: 8, product: 'Lantus SoloStar' })]))[0]!.outcome).toBeUndefined();
    expect(insulinDosesDueInVisit(visit, [EVENING], careStateFrom([insulinGiven({ at: '08:00', dose: 8 })]))[0]!.outcome).toBeUndefined();
  });

  it('given a morning visit, then the evening dose is not due in it; a visit across midnight finds 00:15', () => {
    expect(insulinDosesDueInVisit({ plannedStart: at('08:00'), plannedEnd: at('08:45') }, [EVENING], careStateFrom([]))).toEqual([]);
    expect(instructedTimesInVisit({ plannedStart: '2025-03-10T23:50:00Z', plannedEnd: '2025-03-11T00:30:00Z' }, ['00:15'])).toEqual([{ time: '00:15', dueAt: '2025-03-11T00:15:00.000Z' }]);
  });

  it('reads the times in England: 18:00 in summer (BST) is 17:00Z', () => {
    expect(instructedTimesInVisit({ plannedStart: '2025-07-01T16:45:00Z', plannedEnd: '2025-07-01T17:30:00Z' }, ['18:00'])).toEqual([{ time: '18:00', dueAt: '2025-07-01T17:00:00.000Z' }]);
  });
});
