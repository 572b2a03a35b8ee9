import { BloodGlucoseRecorded, RecordBloodGlucoseSchema } from '@tandem/contracts';
import { recordBloodGlucose } from '../../src/domain/glucose';
import { at, base, context, given, issuesOf, PATIENT_ID, refusedNaming, registry } from './fixtures';

describe('blood glucose', () => {
  it('records a reading with ketones, low or high alike (rules escalate; the record never refuses a fact)', () =>
    given()
      .when((state) => recordBloodGlucose({ ...base(at('07:30')), glucoseMmolL: 3.2, ketonesMmolL: 0.4, relationToMeal: 'fasting' }, state, context()))
      .then((events) =>
        expect(events).toEqual([
          { type: 'BloodGlucoseRecorded', data: { patientId: PATIENT_ID, glucoseMmolL: 3.2, ketonesMmolL: 0.4, relationToMeal: 'fasting' } },
        ]),
      ));

  it.each([
    ['glucoseMmolL', 0.4, 'blood glucose must be between 0.5 and 50 mmol/L'],
    ['glucoseMmolL', 50.1, 'blood glucose must be between 0.5 and 50 mmol/L'],
    ['glucoseMmolL', 6.25, 'blood glucose must have at most 1 decimal place'],
    ['ketonesMmolL', -0.1, 'blood ketones must be between 0 and 10 mmol/L'],
  ])('refuses %s %p naming the field', (field, value, message) => {
    const command = { ...base(at('07:30')), glucoseMmolL: 6.2, [field]: value };
    expect(refusedNaming(RecordBloodGlucoseSchema, command, field)).toBe(message);
  });

  it('accepts the ends of the range', () => {
    expect(issuesOf(RecordBloodGlucoseSchema, { ...base(at('07:30')), glucoseMmolL: 0.5 })).toEqual([]);
    expect(issuesOf(RecordBloodGlucoseSchema, { ...base(at('07:30')), glucoseMmolL: 50 })).toEqual([]);
  });
});

describe('BloodGlucoseRecorded version 2: stored version 1 events are upcast on read, never rewritten', () => {
  it('is at version 2 with an upcaster from version 1', () => {
    expect(BloodGlucoseRecorded.version).toBe(2);
    expect(BloodGlucoseRecorded.upcasters[1]).toBeDefined();
  });

  it('reads a version 1 payload (valueMmolL, no ketones) as version 2 (glucoseMmolL)', () => {
    const v1 = { patientId: PATIENT_ID, valueMmolL: 7.4, relationToMeal: 'before-meal' };
    expect(registry.decode('BloodGlucoseRecorded', 1, v1)).toEqual({
      ok: true,
      version: 2,
      data: { patientId: PATIENT_ID, glucoseMmolL: 7.4, relationToMeal: 'before-meal' },
    });
  });

  it('reads a version 2 payload as it is', () => {
    const v2 = { patientId: PATIENT_ID, glucoseMmolL: 7.4, ketonesMmolL: 0.2 };
    expect(registry.decode('BloodGlucoseRecorded', 2, v2)).toEqual({ ok: true, version: 2, data: v2 });
  });

  it('reports a broken version 1 payload instead of inventing a value', () => {
    const decoded = registry.decode('BloodGlucoseRecorded', 1, { patientId: PATIENT_ID });
    expect(decoded.ok).toBe(false);
  });

  it('writes new readings at version 2 only', () => {
    expect(registry.encode('BloodGlucoseRecorded', { patientId: PATIENT_ID, valueMmolL: 7.4 }).ok).toBe(false);
    expect(registry.encode('BloodGlucoseRecorded', { patientId: PATIENT_ID, glucoseMmolL: 7.4 })).toMatchObject({ ok: true, version: 2 });
  });
});
