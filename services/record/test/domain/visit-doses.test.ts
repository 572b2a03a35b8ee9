import { DMD_SYSTEM, INSULIN_PRODUCT_SYSTEM, type DoseOutcome, type PrescribeMedication } from '@tandem/contracts';
import { careStateFrom } from '../../src/domain/care-state';
import { initialMedicinesState, medicinesStateFrom, prescribeMedication, type MedicationOrderState, type StoredMedicinesEvent } from '../../src/domain/medicines';
import { insulinDosesDueInVisit, instructedTimesInVisit, orderedDosesDueInVisit } from '../../src/domain/visit-doses';
import { at, base, INSULIN, insulinGiven, PATIENT_ID, stored } from './fixtures';

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

describe('prescribed doses due in a visit (the MAR)', () => {
  const AMLODIPINE = { system: DMD_SYSTEM, code: '42206511000001102', display: 'Amlodipine 5mg tablets' } as const;
  const order = (over: Partial<PrescribeMedication> = {}): MedicationOrderState => {
    const [event] = prescribeMedication(
      { ...base(at('09:00')), product: AMLODIPINE, dose: { value: 1, unit: 'tablet' }, route: 'oral', timing: { kind: 'scheduled', times: ['18:00'] }, start: at('09:00'), ...over },
      initialMedicinesState,
      { now: new Date(at('09:00')), actorId: 'dn-sarah' },
    );
    return medicinesStateFrom([{ ...event!, id: 'order-amlodipine', metadata: { occurredAt: at('09:00') } } as StoredMedicinesEvent]).orders['order-amlodipine']!;
  };
  const dose = (outcome: DoseOutcome, when: string, scheduledTime = '18:00') =>
    // Only what the outcome-matching reads: the order, the outcome, the scheduled time.
   
    stored('MedicineDoseRecorded', { patientId: PATIENT_ID, orderId: 'order-amlodipine', outcome, scheduledTime, ...(outcome === 'given' ? { dose: { value: 1, unit: 'tablet' } } : { reason: 'said no' }) } as never, at(when));

  it('given amlodipine prescribed at 18:00 and the visit 17:45 to 18:30, then its dose is due with no outcome, in the order’s own unit', () => {
    expect(orderedDosesDueInVisit(visit, [order()], careStateFrom([]))).toEqual([
      { doseId: `order-amlodipine@${new Date(at('18:00')).toISOString()}`, description: '1 tablet of Amlodipine 5mg tablets at 18:00', dueAt: new Date(at('18:00')).toISOString() },
    ]);
  });

  it('given it was refused at 18:10, then the dose has the outcome refused; an outcome for another scheduled time answers nothing', () => {
    expect(orderedDosesDueInVisit(visit, [order()], careStateFrom([dose('refused', '18:10')]))[0]!.outcome).toBe('refused');
    expect(orderedDosesDueInVisit(visit, [order({ timing: { kind: 'scheduled', times: ['08:00', '18:00'] } })], careStateFrom([dose('given', '08:05', '08:00')]))[0]!.outcome).toBeUndefined();
  });

  it('given a PRN order, a stopped one, or one starting after the visit, then nothing is due', () => {
    const prn = order({ timing: { kind: 'prn', indication: 'pain', minimumIntervalMinutes: 240, maxDosesIn24Hours: 4 } });
    const stopped: MedicationOrderState = { ...order(), status: 'stopped', stopped: { at: at('12:00'), reason: 'stopped by GP' } };
    const later = order({ start: at('19:00') });
    expect(orderedDosesDueInVisit(visit, [prn, stopped, later], careStateFrom([]))).toEqual([]);
  });

  it('given an insulin order whose product a delegation already schedules, then it is left to the delegation (never counted twice)', () => {
    const insulin = order({ product: { system: INSULIN_PRODUCT_SYSTEM, code: 'humulin-i-kwikpen', display: INSULIN }, dose: { value: 8, unit: 'units' }, route: 'subcutaneous' });
    expect(orderedDosesDueInVisit(visit, [insulin], careStateFrom([]), new Set(['humulin-i-kwikpen']))).toEqual([]);
    expect(orderedDosesDueInVisit(visit, [insulin], careStateFrom([]))).toHaveLength(1);
    // Without a delegation, the insulin given by pen (its own command) is the order's outcome.
    expect(orderedDosesDueInVisit(visit, [insulin], careStateFrom([insulinGiven({ at: '18:05', dose: 8 })]))[0]!.outcome).toBe('given');
  });
});
