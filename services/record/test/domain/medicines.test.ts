import { DMD_SYSTEM, EventRegistry, careEventDefinitions, type ChangeAllergy, type ChangeCondition, type PrescribeMedication, type RecordAllergy, type RecordCondition, type RecordMedicineDose } from '@tandem/contracts';
import { specification } from './given';
import {
  changeAllergy,
  changeCondition,
  changeMedicationOrder,
  evolveMedicines,
  markAllergyEnteredInError,
  markConditionEnteredInError,
  initialMedicinesState,
  isUnchangedOrder,
  medicinesStateFrom,
  prescribeMedication,
  recordAllergy,
  recordCondition,
  stopMedicationOrder,
  type MedicationOrderState,
  type StoredMedicinesEvent,
} from '../../src/domain/medicines';
import { mostDosesIn24Hours, recordMedicineDose, recordPrnEffect } from '../../src/domain/mar';
import { recordInsulinAdministered } from '../../src/domain/insulin';
import type { CareContext } from '../../src/domain/context';
import { initialCareState } from '../../src/domain/care-state';
import { at, base, context, eventId, given, PATIENT_ID, stored, NOW } from './fixtures';

/** Issue 13: prescriptions and the MAR, as given / when / then specifications. */

const registry = new EventRegistry([...careEventDefinitions]);
const checkMedicines = (event: { type: string; data?: unknown }) => {
  const encoded = registry.encode(event.type, event.data);
  if (!encoded.ok) throw new Error(`${event.type} breaks its contract: ${JSON.stringify(encoded.issues)}`);
};
const medicines = specification<typeof initialMedicinesState, StoredMedicinesEvent>(evolveMedicines, initialMedicinesState, checkMedicines);
const NURSE = { now: NOW, actorId: 'dn-sarah' };
const DAY_OF_CHANGE = '2025-03-10';

const PARACETAMOL = { system: DMD_SYSTEM, code: '42109611000001109', display: 'Paracetamol 500mg tablets' } as const;
const AMOXICILLIN = { system: DMD_SYSTEM, code: '39732411000001106', display: 'Amoxicillin 500mg capsules' } as const;
const LEVODOPA = { system: DMD_SYSTEM, code: '41963311000001103', display: 'Co-careldopa 25mg/100mg tablets' } as const;

const prescription = (over: Partial<PrescribeMedication> = {}): PrescribeMedication => ({
  ...base(at('09:00')),
  product: PARACETAMOL,
  dose: { value: 2, unit: 'tablet' },
  route: 'oral',
  timing: { kind: 'prn', indication: 'pain', minimumIntervalMinutes: 240, maxDosesIn24Hours: 4 },
  start: at('09:00'),
  ...over,
});

const ordered = (over: Partial<PrescribeMedication> = {}, id = eventId()): StoredMedicinesEvent => {
  const [event] = prescribeMedication(prescription(over), initialMedicinesState, NURSE);
  return { ...event!, id, metadata: { occurredAt: at('09:00') } } as StoredMedicinesEvent;
};

describe('prescribing (the medicines stream)', () => {
  it('when a nurse prescribes paracetamol PRN, then the order is recorded with her as prescriber', () =>
    medicines
      .given()
      .when((state) => prescribeMedication(prescription(), state, NURSE))
      .then((events) => {
        expect(events.map((e) => e.type)).toEqual(['MedicationOrdered']);
        expect(events[0]!.data).toMatchObject({ product: PARACETAMOL, prescriberId: 'dn-sarah', timeCritical: false, timing: { kind: 'prn', maxDosesIn24Hours: 4 } });
      }));

  it('an insulin is always time-critical, dosed in "units" only and given under the skin', () => {
    const insulin = { system: 'https://tandem.example.org/CodeSystem/insulin-product', code: 'humulin-i-kwikpen', display: 'Humulin I KwikPen' } as const;
    medicines
      .given()
      .when((state) => prescribeMedication(prescription({ product: insulin, dose: { value: 10, unit: 'units' }, route: 'subcutaneous', timing: { kind: 'scheduled', times: ['08:00'] }, timeCritical: false }), state, NURSE))
      .then((events) => expect(events[0]!.data).toMatchObject({ timeCritical: true }));
    medicines
      .given()
      .when((state) => prescribeMedication(prescription({ product: insulin, dose: { value: 10, unit: 'ml' }, route: 'subcutaneous' }), state, NURSE))
      .thenThrows('medication.insulin-unit', 'dose.unit');
  });

  it("a Parkinson's medicine is time-critical when the prescriber says so", () =>
    medicines
      .given()
      .when((state) => prescribeMedication(prescription({ product: LEVODOPA, dose: { value: 1, unit: 'tablet' }, timing: { kind: 'scheduled', times: ['07:00', '11:00', '15:00', '19:00'] }, timeCritical: true }), state, NURSE))
      .then((events) => expect(events[0]!.data).toMatchObject({ timeCritical: true })));

  it('a stop before the start is refused naming stop', () =>
    medicines.given().when((state) => prescribeMedication(prescription({ stop: at('08:00') }), state, NURSE)).thenThrows('medication.stop-before-start', 'stop'));

  it('given an order, when it is changed, then the whole order is a new version (never overwritten) and the old one stays in the stream', () => {
    const order = ordered({}, 'e0000000-0000-4000-8000-000000000001');
    medicines
      .given(order)
      .when((state) => changeMedicationOrder({ ...prescription({ dose: { value: 1, unit: 'tablet' } }), orderId: order.id, reason: 'elderly, low weight: 1 g reduced to 500 mg', expectedVersion: 1 }, state, NURSE))
      .then((events) => {
        expect(events.map((e) => e.type)).toEqual(['MedicationOrderChanged']);
        expect(events[0]!.data).toMatchObject({ orderId: order.id, order: { dose: { value: 1, unit: 'tablet' } } });
      });
    const changed = { type: 'MedicationOrderChanged', id: eventId(), metadata: { occurredAt: at('10:00') }, data: { patientId: PATIENT_ID, orderId: order.id, reason: 'r', order: { ...(order.data as object), dose: { value: 1, unit: 'tablet' } } } } as unknown as StoredMedicinesEvent;
    expect(medicinesStateFrom([order, changed]).orders[order.id]).toMatchObject({ version: 2, details: { dose: { value: 1 } } });
  });

  it('a change made on a stale version, to another product, or of a stopped order is refused', () => {
    const order = ordered();
    const stop = { type: 'MedicationOrderStopped', id: eventId(), metadata: { occurredAt: at('10:00') }, data: { patientId: PATIENT_ID, orderId: order.id, reason: 'no longer needed' } } as StoredMedicinesEvent;
    const change = { ...prescription(), orderId: order.id, reason: 'r' };
    medicines.given(order).when((s) => changeMedicationOrder({ ...change, expectedVersion: 3 }, s, NURSE)).thenThrows('correction.stale-version', 'expectedVersion');
    medicines.given(order).when((s) => changeMedicationOrder({ ...change, product: AMOXICILLIN }, s, NURSE)).thenThrows('medication.product-change', 'product');
    medicines.given(order, stop).when((s) => changeMedicationOrder(change, s, NURSE)).thenThrows('medication.order-stopped', 'orderId');
    medicines.given(order, stop).when((s) => stopMedicationOrder({ ...base(at('11:00')), orderId: order.id, reason: 'again' }, s, NURSE)).thenThrows('medication.order-stopped', 'orderId');
    medicines.given().when((s) => stopMedicationOrder({ ...base(at('11:00')), orderId: 'nope', reason: 'x' }, s, NURSE)).thenThrows('medication.unknown-order', 'orderId');
  });
});

describe('an order sent back by another system (FHIR update)', () => {
  const order = ordered({}, 'e0000000-0000-4000-8000-000000000002');
  const state = medicinesStateFrom([order]);
  const current = state.orders[order.id]!;

  it('the order exactly as read changes nothing; another dose, or a stop later than the start, is a change', () => {
    expect(isUnchangedOrder(prescription(), current, NURSE)).toBe(true);
    expect(isUnchangedOrder({ ...prescription(), timing: { maxDosesIn24Hours: 4, minimumIntervalMinutes: 240, indication: 'pain', kind: 'prn' } }, current, NURSE)).toBe(true);
    expect(isUnchangedOrder(prescription({ dose: { value: 1, unit: 'tablet' } }), current, NURSE)).toBe(false);
    expect(isUnchangedOrder(prescription({ stop: at('18:00') }), current, NURSE)).toBe(false);
  });

  it('an insulin sent back without its time-critical flag is still the same order (an insulin is always time-critical)', () => {
    const insulin = { system: 'https://tandem.example.org/CodeSystem/insulin-product', code: 'lantus-solostar', display: 'Lantus SoloStar' } as const;
    const lantus: Partial<PrescribeMedication> = { product: insulin, dose: { value: 10, unit: 'units' }, route: 'subcutaneous', timing: { kind: 'scheduled', times: ['08:00'] } };
    const insulinOrder = ordered({ ...lantus, timeCritical: true });
    expect(isUnchangedOrder(prescription({ ...lantus, timeCritical: false }), medicinesStateFrom([insulinOrder]).orders[insulinOrder.id]!, NURSE)).toBe(true);
  });

  it('the order is the prescriber’s: the same order under another prescriber is a change', () =>
    expect(isUnchangedOrder(prescription({ prescriberId: 'gp-jones' }), current, NURSE)).toBe(false));

  it('given a change, then the order remembers why (its MedicationRequest carries the reasons as notes)', () => {
    const changed = { type: 'MedicationOrderChanged', id: eventId(), metadata: { occurredAt: at('10:00') }, data: { patientId: PATIENT_ID, orderId: order.id, reason: 'low weight', order: { ...(order.data as object) } } } as unknown as StoredMedicinesEvent;
    expect(medicinesStateFrom([order, changed]).orders[order.id]!.changeReasons).toEqual(['low weight']);
  });

  it('a stop made on a stale version is refused naming expectedVersion; on the current version it stops the order', () => {
    const stop = { ...base(at('11:00')), orderId: order.id, reason: 'pain resolved' };
    medicines.given(order).when((s) => stopMedicationOrder({ ...stop, expectedVersion: 2 }, s, NURSE)).thenThrows('correction.stale-version', 'expectedVersion');
    medicines
      .given(order)
      .when((s) => stopMedicationOrder({ ...stop, expectedVersion: 1 }, s, NURSE))
      .then((events) => expect(events).toEqual([{ type: 'MedicationOrderStopped', data: { patientId: PATIENT_ID, orderId: order.id, reason: 'pain resolved' } }]));
  });
});

// ---------------------------------------------------------------------------------------------
// The MAR (the care stream), decided with the order and allergies the edge read
// ---------------------------------------------------------------------------------------------

const orderState = (event: StoredMedicinesEvent): MedicationOrderState => medicinesStateFrom([event]).orders[event.id]!;
const withOrder = (order: StoredMedicinesEvent, allergies: MedicationOrderStateAllergy[] = []): CareContext => context({ medicines: { order: orderState(order), allergies } });
type MedicationOrderStateAllergy = NonNullable<CareContext['medicines']>['allergies'][number];

const dose = (order: StoredMedicinesEvent, o: Partial<RecordMedicineDose> & { at: string }): RecordMedicineDose => {
  const { at: time, ...rest } = o;
  return { ...base(at(time)), orderId: order.id, outcome: 'given', ...rest } as RecordMedicineDose;
};

const doseRecorded = (order: StoredMedicinesEvent, time: string, over: Record<string, unknown> = {}) => {
  const details = (order.data as { product: unknown; timing: { kind: string }; timeCritical: boolean });
  return stored('MedicineDoseRecorded', { patientId: PATIENT_ID, orderId: order.id, outcome: 'given', dose: { value: 2, unit: 'tablet' }, product: details.product, prn: details.timing.kind === 'prn', timeCritical: details.timeCritical, ...over } as never, at(time));
};

describe('the MAR: a scheduled dose gets one outcome', () => {
  const morning = ordered({ product: AMOXICILLIN, dose: { value: 1, unit: 'capsule' }, timing: { kind: 'scheduled', times: ['08:00', '14:00', '20:00'] }, start: at('07:00') });

  it.each(['given', 'self-administered', 'already-taken', 'refused', 'not-given', 'missed'] as const)('records the outcome %s', (outcome) =>
    given()
      .when((state) =>
        recordMedicineDose(
          dose(morning, {
            at: '14:05',
            outcome,
            scheduledTime: '14:00',
            ...(outcome === 'given' || outcome === 'self-administered' ? { dose: { value: 1, unit: 'capsule' } } : {}),
            ...(outcome === 'not-given' ? { reason: 'asleep, nurse told' } : {}),
          }),
          state,
          withOrder(morning),
        ),
      )
      .then((events) => expect(events[0]!.data).toMatchObject({ outcome, orderId: morning.id, scheduledTime: '14:00', prn: false })));

  it('given the 14:00 dose recorded, when another outcome for 14:00 the same day comes, then it is refused: one outcome per dose', () =>
    given(doseRecorded(morning, '14:05', { scheduledTime: '14:00', dose: { value: 1, unit: 'capsule' } }))
      .when((state) => recordMedicineDose(dose(morning, { at: '14:20', outcome: 'refused', scheduledTime: '14:00' }), state, withOrder(morning)))
      .thenThrows('mar.outcome-already-recorded', 'scheduledTime'));

  it('a dose at a time the order does not name asks for confirmation, then is recorded flagged', () => {
    given().when((s) => recordMedicineDose(dose(morning, { at: '11:00', scheduledTime: '11:00', dose: { value: 1, unit: 'capsule' } }), s, withOrder(morning))).thenThrows('mar.outside-schedule', 'scheduledTime');
    given()
      .when((s) => recordMedicineDose(dose(morning, { at: '11:00', scheduledTime: '11:00', dose: { value: 1, unit: 'capsule' }, confirmedOutsideSchedule: true }), s, withOrder(morning)))
      .then((events) => expect(events[0]!.data).toMatchObject({ confirmedOutsideSchedule: true }));
  });

  it('the wrong unit is refused naming dose.unit (never converted)', () =>
    given().when((s) => recordMedicineDose(dose(morning, { at: '14:00', scheduledTime: '14:00', dose: { value: 500, unit: 'mg' } }), s, withOrder(morning))).thenThrows('mar.wrong-unit', 'dose.unit'));

  it('what an outcome must say: the dose when given, the reason when not given, the scheduled time', () => {
    given().when((s) => recordMedicineDose(dose(morning, { at: '14:00', scheduledTime: '14:00' }), s, withOrder(morning))).thenThrows('mar.dose-required', 'dose');
    given().when((s) => recordMedicineDose(dose(morning, { at: '14:00', scheduledTime: '14:00', outcome: 'not-given' }), s, withOrder(morning))).thenThrows('mar.reason-required', 'reason');
    given().when((s) => recordMedicineDose(dose(morning, { at: '14:00', dose: { value: 1, unit: 'capsule' } }), s, withOrder(morning))).thenThrows('mar.scheduled-time-required', 'scheduledTime');
  });

  it('a dose of an order the person does not have, or before it starts, or after it stopped, is refused naming orderId', () => {
    given().when((s) => recordMedicineDose(dose(morning, { at: '14:00', scheduledTime: '14:00', outcome: 'missed' }), s, context({ medicines: { allergies: [] } }))).thenThrows('mar.unknown-order', 'orderId');
    given().when((s) => recordMedicineDose(dose(morning, { at: '06:00', scheduledTime: '08:00', outcome: 'missed' }), s, withOrder(morning))).thenThrows('mar.order-not-started', 'orderId');
    const stoppedOrder = { ...orderState(morning), status: 'stopped' as const, stopped: { at: at('12:00'), reason: 'rash' } };
    given().when((s) => recordMedicineDose(dose(morning, { at: '14:00', scheduledTime: '14:00', outcome: 'missed' }), s, context({ medicines: { order: stoppedOrder, allergies: [] } }))).thenThrows('mar.order-stopped', 'orderId');
  });
});

describe('the MAR: a PRN dose', () => {
  const prn = ordered();
  const prnDose = (time: string, over: Partial<RecordMedicineDose> = {}) => dose(prn, { at: time, dose: { value: 2, unit: 'tablet' }, prnReason: 'pain in her hip, 6 out of 10', ...over });

  it('records why it was given', () =>
    given().when((s) => recordMedicineDose(prnDose('10:00'), s, withOrder(prn))).then((events) => expect(events[0]!.data).toMatchObject({ prn: true, prnReason: 'pain in her hip, 6 out of 10' })));

  it('without a reason it is refused naming prnReason', () =>
    given().when((s) => recordMedicineDose(prnDose('10:00', { prnReason: undefined } as never), s, withOrder(prn))).thenThrows('mar.prn-reason-required', 'prnReason'));

  it('given a dose at 10:00, when another comes at 12:00 (minimum interval 4 hours), then it asks for confirmation; confirmed, it is recorded flagged', () => {
    given(doseRecorded(prn, '10:00', { prnReason: 'pain' }))
      .when((s) => recordMedicineDose(prnDose('12:00'), s, withOrder(prn)))
      .thenThrows('mar.inside-minimum-interval', 'occurredAt');
    given(doseRecorded(prn, '10:00', { prnReason: 'pain' }))
      .when((s) => recordMedicineDose(prnDose('12:00', { confirmedInsideMinimumInterval: true }), s, withOrder(prn)))
      .then((events) => expect(events[0]!.data).toMatchObject({ confirmedInsideMinimumInterval: true }));
  });

  it('given four doses in 24 hours (the maximum), when a fifth comes, then it asks for confirmation; confirmed, it is recorded flagged', () => {
    const four = ['00:00', '04:30', '09:00', '13:30'].map((t) => doseRecorded(prn, t, { prnReason: 'pain' }));
    given(...four).when((s) => recordMedicineDose(prnDose('18:00'), s, withOrder(prn))).thenThrows('mar.over-daily-maximum', 'occurredAt');
    given(...four)
      .when((s) => recordMedicineDose(prnDose('18:00', { confirmedOverDailyMaximum: true }), s, withOrder(prn)))
      .then((events) => expect(events[0]!.data).toMatchObject({ confirmedOverDailyMaximum: true }));
  });

  it('a dose entered in error or refused does not count towards the maximum', () => {
    const three = ['00:00', '04:30', '09:00'].map((t) => doseRecorded(prn, t, { prnReason: 'pain' }));
    const refused = doseRecorded(prn, '13:30', { outcome: 'refused', dose: undefined });
    given(...three, refused).when((s) => recordMedicineDose(prnDose('18:00'), s, withOrder(prn))).then(['MedicineDoseRecorded']);
  });

  it('counts the doses in any 24 hours that hold the new one', () => {
    expect(mostDosesIn24Hours([], at('10:00'))).toBe(1);
    // Three the day before, more than 24 hours back, and one after: two in the worst window.
    expect(mostDosesIn24Hours(['2025-03-09T08:00:00Z', '2025-03-09T09:00:00Z', at('12:00')], at('10:00'))).toBe(2);
    // 11:00 yesterday to 11:00 today holds three (11:00 today is the 24th hour's end); 09:00 to 09:00 tomorrow holds three.
    expect(mostDosesIn24Hours(['2025-03-09T11:00:00Z', at('09:00'), at('11:00')], at('10:00'))).toBe(3);
    expect(mostDosesIn24Hours(['2025-03-09T10:30:00Z', at('09:00'), at('10:20')], at('10:00'))).toBe(4);
  });

  it('later, records its effect; an effect of a dose that is not a PRN dose taken is refused', () => {
    const given10 = doseRecorded(prn, '10:00', { prnReason: 'pain' });
    given(given10)
      .when((s) => recordPrnEffect({ ...base(at('11:00')), doseEntryId: given10.id, effect: 'pain down to 2 out of 10' }, s, context()))
      .then(['PrnEffectRecorded']);
    const refused = doseRecorded(prn, '10:00', { outcome: 'refused', dose: undefined });
    given(refused).when((s) => recordPrnEffect({ ...base(at('11:00')), doseEntryId: refused.id, effect: 'x' }, s, context())).thenThrows('mar.effect-of-prn-only', 'doseEntryId');
  });
});

const PENICILLIN_SUBSTANCE = { system: 'http://snomed.info/sct', code: '764146007', display: 'Penicillin' } as const;
const allergyInput = (over: Partial<RecordAllergy> = {}): RecordAllergy => ({ ...base(at('09:00')), substance: PENICILLIN_SUBSTANCE, category: 'medication', criticality: 'high', reaction: 'anaphylaxis in 2019', ...over });
const allergyRecorded = (over: Partial<RecordAllergy> = {}, id = eventId()): StoredMedicinesEvent => {
  const [event] = recordAllergy(allergyInput(over), initialMedicinesState, NURSE);
  return { ...event!, id, metadata: { occurredAt: at('09:00') } } as StoredMedicinesEvent;
};
/** The allergy as the medicines stream holds it after these events (what the MAR's check is given). */
const allergyState = (...events: StoredMedicinesEvent[]) => medicinesStateFrom(events).allergies[0]!;
/** A decided event as the stream stores it. */
const storedAs = (event: { type: string; data: unknown } | undefined, occurredAt = at('10:00')): StoredMedicinesEvent => ({ ...event!, id: eventId(), metadata: { occurredAt } }) as StoredMedicinesEvent;

describe('an allergy changes as events, never overwritten (who and why on each)', () => {
  const recorded = allergyRecorded({}, 'a0000000-0000-4000-8000-000000000010');
  const change = (over: Partial<ChangeAllergy> = {}): ChangeAllergy => ({ ...allergyInput(), idempotencyKey: `change-${eventId()}`, occurredAt: at('10:00'), allergyId: recorded.id, reason: 'patch test negative', clinicalStatus: 'active', verificationStatus: 'refuted', ...over });

  it('given an allergy recorded, then it stands active and confirmed at version 1', () =>
    expect(allergyState(recorded)).toMatchObject({ clinicalStatus: 'active', verificationStatus: 'confirmed', version: 1, changeReasons: [] }));

  it('given an allergy, when it is refuted, then AllergyChanged holds the whole allergy again with why; the stream makes it version 2', () =>
    medicines
      .given(recorded)
      .when((s) => changeAllergy(change({ expectedVersion: 1 }), s, NURSE))
      .then((events) => {
        expect(events).toEqual([
          {
            type: 'AllergyChanged',
            data: { patientId: PATIENT_ID, allergyId: recorded.id, reason: 'patch test negative', allergy: { substance: PENICILLIN_SUBSTANCE, category: 'medication', criticality: 'high', reaction: 'anaphylaxis in 2019', clinicalStatus: 'active', verificationStatus: 'refuted' } },
          },
        ]);
        expect(allergyState(recorded, storedAs(events[0]))).toMatchObject({ version: 2, verificationStatus: 'refuted', changeReasons: ['patch test negative'] });
      }));

  it('a change that changes nothing records nothing; one on a stale version, to another substance, or of an allergy not held is refused', () => {
    medicines.given(recorded).when((s) => changeAllergy(change({ verificationStatus: 'confirmed' }), s, NURSE)).then([]);
    medicines.given(recorded).when((s) => changeAllergy(change({ expectedVersion: 2 }), s, NURSE)).thenThrows('correction.stale-version', 'expectedVersion');
    medicines.given(recorded).when((s) => changeAllergy(change({ substance: { ...PENICILLIN_SUBSTANCE, code: '372687004', display: 'Amoxicillin' } }), s, NURSE)).thenThrows('allergy.substance-change', 'substance');
    medicines.given().when((s) => changeAllergy(change(), s, NURSE)).thenThrows('allergy.unknown', 'allergyId');
  });

  it('given an allergy, when it is marked entered in error, then AllergyEnteredInError with why; again, nothing more; a change of it is then refused', () => {
    const withdraw = { ...base(at('10:00')), allergyId: recorded.id, reason: 'recorded for the wrong person' };
    medicines
      .given(recorded)
      .when((s) => markAllergyEnteredInError(withdraw, s, NURSE))
      .then((events) => expect(events).toEqual([{ type: 'AllergyEnteredInError', data: { patientId: PATIENT_ID, allergyId: recorded.id, reason: 'recorded for the wrong person' } }]));
    const withdrawn = storedAs(markAllergyEnteredInError(withdraw, medicinesStateFrom([recorded]), NURSE)[0]);
    expect(allergyState(recorded, withdrawn)).toMatchObject({ version: 2, enteredInError: { reason: 'recorded for the wrong person' } });
    medicines.given(recorded, withdrawn).when((s) => markAllergyEnteredInError(withdraw, s, NURSE)).then([]);
    medicines.given(recorded, withdrawn).when((s) => changeAllergy(change(), s, NURSE)).thenThrows('allergy.entered-in-error', 'allergyId');
  });
});

describe('a condition changes as events, never overwritten', () => {
  const conditionInput = (over: Partial<RecordCondition> = {}): RecordCondition => ({ ...base(at('09:00')), code: { system: 'http://snomed.info/sct', code: '128045006', display: 'Cellulitis' }, clinicalStatus: 'active', onset: '2025-03-01', note: 'left lower leg', ...over });
  const [recordedEvent] = recordCondition(conditionInput(), initialMedicinesState, NURSE);
  const recorded = { ...recordedEvent!, id: 'c0000000-0000-4000-8000-000000000001', metadata: { occurredAt: at('09:00') } } as StoredMedicinesEvent;
  const change = (over: Partial<ChangeCondition> = {}): ChangeCondition => ({ ...conditionInput(), idempotencyKey: `change-${eventId()}`, occurredAt: at('10:00'), conditionId: recorded.id, reason: 'antibiotics finished, skin healed', clinicalStatus: 'resolved', abatement: DAY_OF_CHANGE, ...over });

  it('given a condition, when it is resolved with the day it ended, then ConditionChanged with why, and it stands resolved at version 2', () =>
    medicines
      .given(recorded)
      .when((s) => changeCondition(change({ expectedVersion: 1 }), s, NURSE))
      .then((events) => {
        expect(events).toEqual([
          {
            type: 'ConditionChanged',
            data: { patientId: PATIENT_ID, conditionId: recorded.id, reason: 'antibiotics finished, skin healed', condition: { code: conditionInput().code, clinicalStatus: 'resolved', onset: '2025-03-01', abatement: DAY_OF_CHANGE, note: 'left lower leg' } },
          },
        ]);
        expect(medicinesStateFrom([recorded, storedAs(events[0])]).conditions[0]).toMatchObject({ version: 2, clinicalStatus: 'resolved', abatement: DAY_OF_CHANGE, changeReasons: ['antibiotics finished, skin healed'] });
      }));

  it('an end date on a condition still active, before its onset or after the change is refused naming abatement; another code naming code', () => {
    medicines.given(recorded).when((s) => changeCondition(change({ clinicalStatus: 'active' }), s, NURSE)).thenThrows('condition.abated-but-active', 'abatement');
    medicines.given(recorded).when((s) => changeCondition(change({ abatement: '2025-02-01' }), s, NURSE)).thenThrows('condition.abatement-before-onset', 'abatement');
    medicines.given(recorded).when((s) => changeCondition(change({ abatement: '2025-03-11' }), s, NURSE)).thenThrows('condition.abatement-in-future', 'abatement');
    medicines.given(recorded).when((s) => changeCondition(change({ code: { system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertensive disorder' } }), s, NURSE)).thenThrows('condition.code-change', 'code');
    medicines.given(recorded).when((s) => changeCondition(change({ clinicalStatus: 'active', abatement: undefined }), s, NURSE)).then([]);
  });

  it('given a condition, when it is marked entered in error, then ConditionEnteredInError; a change of it is then refused', () => {
    const withdraw = { ...base(at('10:00')), conditionId: recorded.id, reason: 'another person’s diagnosis' };
    const [decided] = markConditionEnteredInError(withdraw, medicinesStateFrom([recorded]), NURSE);
    expect(decided).toEqual({ type: 'ConditionEnteredInError', data: { patientId: PATIENT_ID, conditionId: recorded.id, reason: 'another person’s diagnosis' } });
    medicines.given(recorded, storedAs(decided)).when((s) => changeCondition(change(), s, NURSE)).thenThrows('condition.entered-in-error', 'conditionId');
  });
});

describe('the MAR: an allergy to the product stops the care worker', () => {
  const amoxicillin = ordered({ product: AMOXICILLIN, dose: { value: 1, unit: 'capsule' }, timing: { kind: 'scheduled', times: ['08:00'] }, start: at('07:00') });
  const penicillin = allergyState(allergyRecorded({ substance: { ...PENICILLIN_SUBSTANCE, display: 'Penicillin' } }, 'a0000000-0000-4000-8000-000000000001'));
  const amoxicillinAllergy = { ...penicillin, substance: { ...penicillin.substance, display: 'Amoxicillin' } };

  it('given an allergy to amoxicillin, when amoxicillin is given, then it stops with a message naming the allergy', () => {
    let message = '';
    try {
      recordMedicineDose(dose(amoxicillin, { at: '08:05', scheduledTime: '08:00', dose: { value: 1, unit: 'capsule' } }), initialCareState, withOrder(amoxicillin, [amoxicillinAllergy]));
    } catch (error) {
      message = (error as Error).message;
      expect(error).toMatchObject({ code: 'mar.allergy', field: 'orderId', name: 'StopAndConfirm' });
    }
    expect(message).toMatch(/STOP.*Amoxicillin \(AllergyIntolerance\/a0000000-0000-4000-8000-000000000001, criticality high, reaction: anaphylaxis in 2019\)/);
  });

  it('confirmed (it has been given), it is recorded flagged with the allergy named', () =>
    given()
      .when((s) => recordMedicineDose(dose(amoxicillin, { at: '08:05', scheduledTime: '08:00', dose: { value: 1, unit: 'capsule' }, confirmedDespiteAllergy: true }), s, withOrder(amoxicillin, [amoxicillinAllergy])))
      .then((events) => expect(events[0]!.data).toMatchObject({ confirmedDespiteAllergy: true, allergyIds: [amoxicillinAllergy.id] })));

  it('a refusal or a missed dose of it is recorded without asking (nothing was given)', () =>
    given().when((s) => recordMedicineDose(dose(amoxicillin, { at: '08:05', scheduledTime: '08:00', outcome: 'refused' }), s, withOrder(amoxicillin, [amoxicillinAllergy]))).then(['MedicineDoseRecorded']));

  const changedTo = (over: Partial<ChangeAllergy>) => {
    const recorded = allergyRecorded({ substance: { ...PENICILLIN_SUBSTANCE, display: 'Amoxicillin' } });
    const cmd: ChangeAllergy = { ...allergyInput({ substance: { ...PENICILLIN_SUBSTANCE, display: 'Amoxicillin' } }), allergyId: recorded.id, reason: 'r', clinicalStatus: 'active', verificationStatus: 'confirmed', ...over };
    return allergyState(recorded, storedAs(changeAllergy(cmd, medicinesStateFrom([recorded]), NURSE)[0]));
  };
  const amoxicillinGiven = dose(amoxicillin, { at: '08:05', scheduledTime: '08:00', dose: { value: 1, unit: 'capsule' } });

  it.each([
    ['refuted', { verificationStatus: 'refuted' }],
    ['resolved', { clinicalStatus: 'resolved' }],
    ['inactive', { clinicalStatus: 'inactive' }],
  ] as const)('given the allergy changed to %s, then amoxicillin is given without asking', (_status, over) =>
    given().when((s) => recordMedicineDose(amoxicillinGiven, s, withOrder(amoxicillin, [changedTo(over)]))).then((events) => expect(events[0]!.data).not.toHaveProperty('confirmedDespiteAllergy')));

  it('given the allergy entered in error, then amoxicillin is given without asking', () => {
    const recorded = allergyRecorded({ substance: { ...PENICILLIN_SUBSTANCE, display: 'Amoxicillin' } });
    const withdrawn = storedAs(markAllergyEnteredInError({ ...base(at('08:00')), allergyId: recorded.id, reason: 'wrong person' }, medicinesStateFrom([recorded]), NURSE)[0]);
    given().when((s) => recordMedicineDose(amoxicillinGiven, s, withOrder(amoxicillin, [allergyState(recorded, withdrawn)]))).then(['MedicineDoseRecorded']);
  });

  it('given the allergy changed to unconfirmed (only suspected), then it still stops, saying it is suspected', () => {
    const suspected = changedTo({ verificationStatus: 'unconfirmed' });
    given().when((s) => recordMedicineDose(amoxicillinGiven, s, withOrder(amoxicillin, [suspected]))).thenThrows('mar.allergy', 'orderId');
    expect(() => recordMedicineDose(amoxicillinGiven, initialCareState, withOrder(amoxicillin, [suspected]))).toThrow(`Amoxicillin (AllergyIntolerance/${suspected.id}, suspected (unconfirmed), criticality high`);
  });

  it('an allergy to paracetamol does not stop amoxicillin', () =>
    given()
      .when((s) => recordMedicineDose(dose(amoxicillin, { at: '08:05', scheduledTime: '08:00', dose: { value: 1, unit: 'capsule' } }), s, withOrder(amoxicillin, [{ ...penicillin, substance: { ...penicillin.substance, display: 'Paracetamol' } }])))
      .then((events) => expect(events[0]!.data).not.toHaveProperty('confirmedDespiteAllergy')));
});

describe('insulin is one case of a dose of an order (linked by orderId; its own checks kept)', () => {
  const insulinOrder = ordered({
    product: { system: 'https://tandem.example.org/CodeSystem/insulin-product', code: 'humulin-i-kwikpen', display: 'Humulin I KwikPen' },
    dose: { value: 10, unit: 'units' },
    route: 'subcutaneous',
    timing: { kind: 'scheduled', times: ['18:00'] },
    start: at('07:00'),
  });
  const insulin = (product: string, orderId = insulinOrder.id) => ({ ...base(at('18:00')), product, device: 'pen' as const, dose: { value: 10, unit: 'units' as const }, site: 'abdomen' as const, orderId });

  it('given an order for Humulin I, when Humulin I is given naming it, then the dose carries the order', () =>
    given().when((s) => recordInsulinAdministered(insulin('Humulin I KwikPen'), s, withOrder(insulinOrder))).then((events) => expect(events[0]!.data).toMatchObject({ orderId: insulinOrder.id, dose: { unit: 'units' } })));

  it('another insulin than the order is refused naming product', () =>
    given().when((s) => recordInsulinAdministered(insulin('NovoRapid FlexPen'), s, withOrder(insulinOrder))).thenThrows('insulin.order-product', 'product'));

  it('insulin given through the generic MAR command is refused: it is recorded by pen with its own checks', () =>
    given().when((s) => recordMedicineDose(dose(insulinOrder, { at: '18:00', scheduledTime: '18:00', dose: { value: 10, unit: 'units' } }), s, withOrder(insulinOrder))).thenThrows('mar.insulin-by-pen', 'outcome'));

  it('an insulin dose refused by the person is one MAR outcome like any other', () =>
    given().when((s) => recordMedicineDose(dose(insulinOrder, { at: '18:00', scheduledTime: '18:00', outcome: 'refused', reason: 'not eating' }), s, withOrder(insulinOrder))).then(['MedicineDoseRecorded']));
});
