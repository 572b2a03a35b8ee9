import { careStateFrom, entryOf, isCareRecordEvent, lastInsulinDose, RECENT_GLUCOSE_LIMIT } from '../../src/domain/care-state';
import { at, insulinGiven, PATIENT_ID, stored } from './fixtures';

const glucose = (value: number, time: string) => stored('BloodGlucoseRecorded', { patientId: PATIENT_ID, glucoseMmolL: value }, at(time));

describe('the care state folds a care stream', () => {
  it('keeps entries by the id of the event that recorded them, at version 1', () => {
    const reading = glucose(6.2, '07:30');
    const entry = entryOf(careStateFrom([reading]), reading.id);
    expect(entry).toMatchObject({ id: reading.id, type: 'BloodGlucoseRecorded', version: 1, occurredAt: at('07:30'), eventIds: [reading.id] });
  });

  it('adds a version for each amendment and for an entered-in-error mark', () => {
    const reading = glucose(62, '07:30');
    const amended = stored(
      'EntryAmended',
      { patientId: PATIENT_ID, entryId: reading.id, reason: 'typo', replacement: { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 6.2 } } },
      at('08:00'),
    );
    const inError = stored('EntryMarkedEnteredInError', { patientId: PATIENT_ID, entryId: reading.id, reason: 'wrong person' }, at('09:00'));
    const afterAmendment = careStateFrom([reading, amended]);
    expect(entryOf(afterAmendment, reading.id)).toMatchObject({ version: 2, data: { patientId: PATIENT_ID, glucoseMmolL: 6.2 } });
    expect(afterAmendment.recentGlucose.map((r) => r.glucoseMmolL)).toEqual([6.2]);
    const afterError = careStateFrom([reading, amended, inError]);
    expect(entryOf(afterError, reading.id)).toMatchObject({ version: 3, enteredInError: { reason: 'wrong person', eventId: inError.id } });
    expect(afterError.enteredInError[reading.id]).toBeDefined();
    expect(afterError.recentGlucose).toEqual([]);
  });

  it('keeps the last insulin dose per product by bedside time, late entries included', () => {
    const evening = insulinGiven({ at: '18:00', dose: 8 });
    const morningWrittenLate = insulinGiven({ at: '08:00', dose: 10 });
    const other = insulinGiven({ at: '12:00', dose: 4, product: 'NovoRapid FlexPen' });
    const state = careStateFrom([evening, morningWrittenLate, other]);
    expect(lastInsulinDose(state, 'Humulin I KwikPen')).toMatchObject({ entryId: evening.id, occurredAt: at('18:00') });
    expect(lastInsulinDose(state, 'novorapid flexpen')).toMatchObject({ entryId: other.id });
  });

  it('falls back to the previous dose when the last one is entered in error', () => {
    const morning = insulinGiven({ at: '08:00', dose: 10 });
    const evening = insulinGiven({ at: '18:00', dose: 8 });
    const inError = stored('EntryMarkedEnteredInError', { patientId: PATIENT_ID, entryId: evening.id, reason: 'wrong person' }, at('18:30'));
    expect(lastInsulinDose(careStateFrom([morning, evening, inError]), 'Humulin I KwikPen')?.entryId).toBe(morning.id);
  });

  it('keeps recent glucose readings newest first, up to the limit', () => {
    const readings = Array.from({ length: RECENT_GLUCOSE_LIMIT + 5 }, (_, i) => glucose(5 + i / 10, `${String(i % 24).padStart(2, '0')}:00`));
    const state = careStateFrom(readings);
    expect(state.recentGlucose).toHaveLength(RECENT_GLUCOSE_LIMIT);
    expect(state.recentGlucose[0]?.occurredAt).toBe(at('23:00'));
  });

  it('ignores an unknown product name safely', () => {
    expect(lastInsulinDose(careStateFrom([]), '__proto__')).toBeUndefined();
  });

  it('recognises care-stream events among other streams\' events', () => {
    expect(isCareRecordEvent({ type: 'InsulinAdministered' })).toBe(true);
    expect(isCareRecordEvent({ type: 'PatientRegistered' })).toBe(false);
  });
});
