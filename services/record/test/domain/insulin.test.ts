import { RecordInsulinAdministeredSchema, RecordInsulinWithheldSchema } from '@tandem/contracts';
import { recordInsulinWithheld } from '../../src/domain/insulin';
import {
  at,
  base,
  context,
  eventId,
  given,
  INSULIN,
  insulinGiven,
  issuesOf,
  PATIENT_ID,
  recordInsulinGiven,
  refusedNaming,
  stored,
} from './fixtures';

const command = (changes: Record<string, unknown> = {}) => ({
  ...base(at('18:00')),
  product: INSULIN,
  device: 'pen',
  dose: { value: 8, unit: 'units' },
  site: 'abdomen',
  ...changes,
});

describe('insulin units: never "U" or "IU" (Never Event: overdose due to abbreviations)', () => {
  it('accepts a dose in "units"', () => {
    expect(issuesOf(RecordInsulinAdministeredSchema, command())).toEqual([]);
  });

  it.each(['U', 'IU', 'u', 'iu', 'unit', 'Units', ''])('refuses the unit %p, naming dose.unit and saying it must be the word "units"', (unit) => {
    const message = refusedNaming(RecordInsulinAdministeredSchema, command({ dose: { value: 8, unit } }), 'dose.unit');
    expect(message).toContain('the unit must be the word "units"');
  });

  it('refuses a dose without a unit', () => {
    refusedNaming(RecordInsulinAdministeredSchema, command({ dose: { value: 8 } }), 'dose.unit');
  });

  it('refuses the abbreviation on a withheld dose too', () => {
    const withheld = { ...base(at('18:00')), product: INSULIN, plannedDose: { value: 8, unit: 'IU' }, reason: 'blood glucose 3.2' };
    expect(refusedNaming(RecordInsulinWithheldSchema, withheld, 'plannedDose.unit')).toContain('"units"');
  });
});

describe('impossible doses and devices are refused naming the field', () => {
  it.each([
    [-2, 'dose must be more than 0 units'],
    [0, 'dose must be more than 0 units'],
    [101, 'dose must be at most 100 units'],
    [7.3, 'dose must be in whole or half units, as a pen dials'],
  ])('refuses a dose of %p units', (value, message) => {
    expect(refusedNaming(RecordInsulinAdministeredSchema, command({ dose: { value, unit: 'units' } }), 'dose.value')).toBe(message);
  });

  it('accepts 100 units and half units', () => {
    expect(issuesOf(RecordInsulinAdministeredSchema, command({ dose: { value: 100, unit: 'units' } }))).toEqual([]);
    expect(issuesOf(RecordInsulinAdministeredSchema, command({ dose: { value: 7.5, unit: 'units' } }))).toEqual([]);
  });

  it('refuses a syringe: insulin is never drawn from a pen with a syringe', () => {
    expect(refusedNaming(RecordInsulinAdministeredSchema, command({ device: 'syringe' }), 'device')).toContain('never draw insulin from a pen with a syringe');
  });

  it('refuses a field the contract does not know, naming it', () => {
    expect(refusedNaming(RecordInsulinAdministeredSchema, command({ doseUnits: 8 }), 'doseUnits')).toBe('is not a field of this command');
  });

  it('does not take the actor from the command', () => {
    refusedNaming(RecordInsulinAdministeredSchema, command({ actor: { id: 'someone', role: 'gp' } }), 'actor');
  });
});

describe('possible duplicate dose', () => {
  it('records a first dose', () =>
    given()
      .when(recordInsulinGiven({ at: '18:00', dose: 8 }))
      .then((events) => {
        expect(events).toEqual([
          {
            type: 'InsulinAdministered',
            data: { patientId: PATIENT_ID, product: INSULIN, productCode: 'humulin-i-kwikpen', device: 'pen', dose: { value: 8, unit: 'units' }, site: 'thigh' },
          },
        ]);
      }));

  it('asks for confirmation before a second evening dose inside the minimum interval', () =>
    given(insulinGiven({ at: '18:00', dose: 8 }))
      .when(recordInsulinGiven({ at: '18:20', dose: 8 }))
      .thenThrows('insulin.possible-duplicate', 'occurredAt'));

  it('records a confirmed second dose and flags it for the nurse', () => {
    const first = insulinGiven({ at: '18:00', dose: 8 });
    given(first)
      .when(recordInsulinGiven({ at: '18:20', dose: 8, confirmedNotDuplicate: true }))
      .then((events) => {
        expect(events.map((e) => e.type)).toEqual(['InsulinAdministered', 'DoseInsideMinimumIntervalFlagged']);
        expect(events[0]?.data).toMatchObject({ confirmedNotDuplicate: true });
        expect(events[1]?.data).toEqual({
          patientId: PATIENT_ID,
          product: INSULIN,
          previousDoseEntryId: first.id,
          previousDoseOccurredAt: at('18:00'),
          minutesApart: 20,
          minimumIntervalMinutes: 60,
        });
      });
  });

  it('asks one minute inside the interval and records one at exactly the interval', () => {
    given(insulinGiven({ at: '18:00', dose: 8 }))
      .when(recordInsulinGiven({ at: '18:59', dose: 8 }))
      .thenThrows('insulin.possible-duplicate');
    given(insulinGiven({ at: '18:00', dose: 8 }))
      .when(recordInsulinGiven({ at: '19:00', dose: 8 }))
      .then(['InsulinAdministered']);
  });

  it('takes the minimum interval from the person\'s instruction (the context)', () => {
    given(insulinGiven({ at: '08:00', dose: 8 }))
      .when(recordInsulinGiven({ at: '11:00', dose: 8 }, { insulinMinimumIntervalMinutes: 240 }))
      .thenThrows('insulin.possible-duplicate');
    given(insulinGiven({ at: '08:00', dose: 8 }))
      .when(recordInsulinGiven({ at: '08:20', dose: 8 }, { insulinMinimumIntervalMinutes: 15 }))
      .then(['InsulinAdministered']);
  });

  it('treats the same product typed differently as the same product', () =>
    given(insulinGiven({ at: '18:00', dose: 8, product: 'humulin i  kwikpen' }))
      .when(recordInsulinGiven({ at: '18:10', dose: 8 }))
      .thenThrows('insulin.possible-duplicate'));

  it('does not ask about a different product (a basal and a bolus insulin)', () =>
    given(insulinGiven({ at: '18:00', dose: 8, product: 'NovoRapid FlexPen' }))
      .when(recordInsulinGiven({ at: '18:10', dose: 8 }))
      .then(['InsulinAdministered']));

  it('asks about a late entry written for a time just before a recorded dose', () =>
    given(insulinGiven({ at: '18:00', dose: 8 }))
      .when(recordInsulinGiven({ at: '17:45', dose: 8 }))
      .thenThrows('insulin.possible-duplicate'));

  it('does not count a dose that was entered in error', () => {
    const wrong = insulinGiven({ at: '18:00', dose: 8 });
    given(wrong, stored('EntryMarkedEnteredInError', { patientId: PATIENT_ID, entryId: wrong.id, reason: 'wrong person' }, at('18:05')))
      .when(recordInsulinGiven({ at: '18:20', dose: 8 }))
      .then(['InsulinAdministered']);
  });

  it('uses an amended dose time', () => {
    const dose = insulinGiven({ at: '16:00', dose: 8 });
    const amended = stored(
      'EntryAmended',
      {
        patientId: PATIENT_ID,
        entryId: dose.id,
        reason: 'time typed wrong',
        replacement: {
          type: 'InsulinAdministered',
          data: { product: INSULIN, device: 'pen', dose: { value: 8, unit: 'units' }, site: 'abdomen' },
          occurredAt: at('18:00'),
        },
      },
      at('18:30'),
      eventId(),
    );
    given(dose, amended).when(recordInsulinGiven({ at: '18:40', dose: 8 })).thenThrows('insulin.possible-duplicate');
  });
});

describe('insulin withheld', () => {
  it('records a withheld dose with its reason', () =>
    given()
      .when((state) =>
        recordInsulinWithheld(
          { ...base(at('18:00')), product: INSULIN, plannedDose: { value: 8, unit: 'units' }, reason: 'blood glucose 3.2 mmol/L: hypo treated' },
          state,
          context(),
        ),
      )
      .then(['InsulinWithheld']));

  it('refuses a withheld dose without a reason, naming reason', () => {
    const withheld = { ...base(at('18:00')), product: INSULIN, plannedDose: { value: 8, unit: 'units' } };
    refusedNaming(RecordInsulinWithheldSchema, withheld, 'reason');
    expect(refusedNaming(RecordInsulinWithheldSchema, { ...withheld, reason: '   ' }, 'reason')).toBe('must not be blank');
  });
});

describe('bedside time', () => {
  it('refuses a dose recorded more than 5 minutes in the future', () =>
    given().when(recordInsulinGiven({ at: '21:06', dose: 8 })).thenThrows('time.in-future', 'occurredAt'));

  it('accepts a dose up to 5 minutes ahead of the clock (phone clock drift)', () =>
    given().when(recordInsulinGiven({ at: '21:05', dose: 8 })).then(['InsulinAdministered']));
});
