import { AmendEntrySchema, MarkEntryEnteredInErrorSchema, type AmendEntry, type MarkEntryEnteredInError } from '@tandem/contracts';
import type { CareState } from '../../src/domain/care-state';
import type { CareContext } from '../../src/domain/context';
import { amendEntry, markEntryEnteredInError } from '../../src/domain/corrections';
import { scoreNews2 } from '@tandem/contracts';
import { at, base, context, eventId, given, INSULIN, insulinGiven, PATIENT_ID, refusedNaming, stored } from './fixtures';

const glucoseRecorded = (value: number, time = '07:30') => stored('BloodGlucoseRecorded', { patientId: PATIENT_ID, glucoseMmolL: value }, at(time));

const vitals = { respirationRate: 16, spo2: 90, airOrOxygen: 'air' as const, systolic: 120, pulse: 70, consciousness: 'A' as const, temperatureC: 37.0 };
const vitalsRecorded = (spo2Scale: 1 | 2) =>
  stored('VitalSignsRecorded', { patientId: PATIENT_ID, ...vitals, spo2Scale, news2: scoreNews2(vitals, { spo2Scale }) }, at('08:00'));

const enteredInError = (entryId: string) => stored('EntryMarkedEnteredInError', { patientId: PATIENT_ID, entryId, reason: 'wrong person' }, at('09:00'));

const amend =
  (entryId: string, replacement: AmendEntry['replacement'], reason = 'value typed wrong', ctx: Partial<CareContext> = {}) =>
  (state: CareState) =>
    amendEntry({ ...base(at('10:00')), entryId, reason, replacement }, state, context(ctx));

const markInError = (entryId: string, reason = 'recorded for the wrong person') => (state: CareState) =>
  markEntryEnteredInError({ ...base(at('10:00')), entryId, reason } satisfies MarkEntryEnteredInError, state, context());

describe('amending an entry adds a version; the old one stays', () => {
  it('amends a glucose reading typed wrong', () => {
    const reading = glucoseRecorded(62);
    given(reading)
      .when(amend(reading.id, { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 6.2 } }))
      .then((events) =>
        expect(events).toEqual([
          {
            type: 'EntryAmended',
            data: {
              patientId: PATIENT_ID,
              entryId: reading.id,
              reason: 'value typed wrong',
              replacement: { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 6.2 } },
            },
          },
        ]),
      );
  });

  it('rescores NEWS2 on the SpO2 scale the original was scored on', () => {
    const original = vitalsRecorded(2);
    given(original)
      .when(amend(original.id, { type: 'VitalSignsRecorded', data: { ...vitals, pulse: 135 } }))
      .then(([event]) =>
        expect(event?.data).toMatchObject({
          replacement: { type: 'VitalSignsRecorded', data: { pulse: 135, spo2Scale: 2, news2: { subScores: { spo2: 0, pulse: 3 }, total: 3 } } },
        }),
      );
  });

  it('refuses a replacement that names another SpO2 scale', () => {
    const original = vitalsRecorded(1);
    given(original)
      .when(amend(original.id, { type: 'VitalSignsRecorded', data: { ...vitals, spo2Scale: 2 } }))
      .thenThrows('news2.spo2-scale-not-in-plan', 'replacement.data.spo2Scale');
  });

  it('corrects the time of an entry', () => {
    const dose = insulinGiven({ at: '16:00', dose: 8 });
    given(dose)
      .when(
        amend(dose.id, {
          type: 'InsulinAdministered',
          data: { product: INSULIN, device: 'pen', dose: { value: 8, unit: 'units' }, site: 'abdomen' },
          occurredAt: at('18:00'),
        }),
      )
      .then(([event]) => expect(event?.data).toMatchObject({ replacement: { occurredAt: at('18:00') } }));
  });

  it('refuses a corrected time in the future', () => {
    const reading = glucoseRecorded(6.2);
    given(reading)
      .when(amend(reading.id, { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 6.2 }, occurredAt: '2025-03-11T07:30:00Z' }))
      .thenThrows('time.in-future', 'replacement.occurredAt');
  });

  it('requires a reason', () => {
    const reading = glucoseRecorded(62);
    given(reading)
      .when(amend(reading.id, { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 6.2 } }, '  '))
      .thenThrows('correction.reason-required', 'reason');
  });

  it('refuses an entry that is not in this record', () =>
    given(glucoseRecorded(6.2))
      .when(amend(eventId(), { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 6.2 } }))
      .thenThrows('correction.unknown-entry', 'entryId'));

  it('refuses to amend an entry entered in error', () => {
    const reading = glucoseRecorded(62);
    given(reading, enteredInError(reading.id))
      .when(amend(reading.id, { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 6.2 } }))
      .thenThrows('correction.entry-in-error', 'entryId');
  });

  it('refuses a replacement of another kind', () => {
    const reading = glucoseRecorded(6.2);
    given(reading)
      .when(amend(reading.id, { type: 'NoteWritten', data: { text: 'glucose 6.2' } }))
      .thenThrows('correction.kind-mismatch', 'replacement.type');
  });

  it('refuses to treat an amendment as an entry of its own (entries are named by the original event)', () => {
    const reading = glucoseRecorded(62);
    const amendment = stored(
      'EntryAmended',
      { patientId: PATIENT_ID, entryId: reading.id, reason: 'typo', replacement: { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 6.2 } } },
      at('08:00'),
    );
    given(reading, amendment)
      .when(amend(amendment.id, { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 6.3 } }))
      .thenThrows('correction.unknown-entry');
    given(reading, amendment)
      .when(amend(reading.id, { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 6.3 } }))
      .then(['EntryAmended']);
  });
});

describe('marking an entry entered in error', () => {
  it('marks an entry with its reason', () => {
    const reading = glucoseRecorded(6.2);
    given(reading)
      .when(markInError(reading.id))
      .then((events) =>
        expect(events).toEqual([
          { type: 'EntryMarkedEnteredInError', data: { patientId: PATIENT_ID, entryId: reading.id, reason: 'recorded for the wrong person' } },
        ]),
      );
  });

  it('requires a reason', () => {
    const reading = glucoseRecorded(6.2);
    given(reading).when(markInError(reading.id, '')).thenThrows('correction.reason-required', 'reason');
  });

  it('refuses an unknown entry', () => given().when(markInError(eventId())).thenThrows('correction.unknown-entry', 'entryId'));

  it('refuses an entry already entered in error', () => {
    const reading = glucoseRecorded(6.2);
    given(reading, enteredInError(reading.id)).when(markInError(reading.id)).thenThrows('correction.already-in-error', 'entryId');
  });
});

describe('the correction contracts', () => {
  const entryId = '00000000-0000-4000-8000-000000000001';

  it('refuses a correction without a reason, naming reason', () => {
    refusedNaming(MarkEntryEnteredInErrorSchema, { ...base(at('10:00')), entryId }, 'reason');
    expect(refusedNaming(MarkEntryEnteredInErrorSchema, { ...base(at('10:00')), entryId, reason: '  ' }, 'reason')).toBe('must not be blank');
  });

  it('refuses an impossible value in a replacement, naming it', () => {
    const command = { ...base(at('10:00')), entryId, reason: 'typo', replacement: { type: 'VitalSignsRecorded', data: { spo2: 140 } } };
    refusedNaming(AmendEntrySchema, command, 'replacement.data.spo2');
  });

  it('refuses "IU" in an amended dose, naming the unit', () => {
    const command = {
      ...base(at('10:00')),
      entryId,
      reason: 'typo',
      replacement: { type: 'InsulinAdministered', data: { product: INSULIN, device: 'pen', dose: { value: 8, unit: 'IU' }, site: 'thigh' } },
    };
    expect(refusedNaming(AmendEntrySchema, command, 'replacement.data.dose.unit')).toContain('"units"');
  });

  it('refuses an entry id that is not an event id', () => {
    refusedNaming(MarkEntryEnteredInErrorSchema, { ...base(at('10:00')), entryId: 'glucose-1', reason: 'typo' }, 'entryId');
  });
});

describe('a correction names the version it was made on (FHIR If-Match), decided on the stream (H49)', () => {
  const amendedOnce = (reading: ReturnType<typeof glucoseRecorded>) =>
    stored('EntryAmended', { patientId: PATIENT_ID, entryId: reading.id, reason: 'typo', replacement: { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 6.2 } } }, at('08:00'));
  const amendAt = (entryId: string, expectedVersion: number) => (state: CareState) =>
    amendEntry({ ...base(at('10:00')), entryId, reason: 'recounted', expectedVersion, replacement: { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 5.9 } } }, state, context());
  const markAt = (entryId: string, expectedVersion: number) => (state: CareState) =>
    markEntryEnteredInError({ ...base(at('10:00')), entryId, reason: 'wrong person', expectedVersion }, state, context());

  it('given an entry amended once (version 2), when it is amended on version 2, then the amendment is recorded', () => {
    const reading = glucoseRecorded(62);
    given(reading, amendedOnce(reading)).when(amendAt(reading.id, 2)).then(['EntryAmended']);
  });

  it('given an entry amended once, when it is amended again on version 1 (a stale copy), then it is refused naming expectedVersion', () => {
    const reading = glucoseRecorded(62);
    given(reading, amendedOnce(reading)).when(amendAt(reading.id, 1)).thenThrows('correction.stale-version', 'expectedVersion');
  });

  it('given an entry amended once, when it is marked entered in error on version 1, then it is refused naming expectedVersion', () => {
    const reading = glucoseRecorded(62);
    given(reading, amendedOnce(reading)).when(markAt(reading.id, 1)).thenThrows('correction.stale-version', 'expectedVersion');
  });

  it('given an entry never corrected, when it is marked entered in error on version 1, then the mark is recorded (and the command schema takes expectedVersion)', () => {
    const reading = glucoseRecorded(62);
    given(reading).when(markAt(reading.id, 1)).then(['EntryMarkedEnteredInError']);
    expect(MarkEntryEnteredInErrorSchema.safeParse({ ...base(at('10:00')), entryId: reading.id, reason: 'x', expectedVersion: 0 }).success).toBe(false);
  });
});
