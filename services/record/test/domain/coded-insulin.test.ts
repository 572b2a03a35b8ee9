import { INSULIN_PRODUCTS, insulinProductOf } from '@tandem/contracts';
import { recordInsulinAdministered, recordInsulinWithheld } from '../../src/domain/insulin';
import { at, base, context, given, insulinGiven, PATIENT_ID } from './fixtures';

/** Insulin is identified by code, not free text (issue 9.5; docs/decisions/0013-coded-insulin.md). */
const dose = (o: { at: string; product: string; confirmedUnknownProduct?: boolean; confirmedNotDuplicate?: boolean }) => ({
  ...base(at(o.at)),
  product: o.product,
  device: 'pen' as const,
  dose: { value: 10, unit: 'units' as const },
  site: 'abdomen' as const,
  ...(o.confirmedUnknownProduct === undefined ? {} : { confirmedUnknownProduct: o.confirmedUnknownProduct }),
  ...(o.confirmedNotDuplicate === undefined ? {} : { confirmedNotDuplicate: o.confirmedNotDuplicate }),
});

describe('the insulin products the record knows', () => {
  it('has one code per product, and says of every dm+d code whether it was checked', () => {
    expect(new Set(INSULIN_PRODUCTS.map((p) => p.code)).size).toBe(INSULIN_PRODUCTS.length);
    for (const product of INSULIN_PRODUCTS) {
      expect(product.device).toBe('pen');
      // An unchecked dm+d code is said to be unchecked, and carries no number that looks checked.
      if (product.dmdStatus === 'UNVERIFIED') expect([product.vmp, product.amp]).toEqual([null, null]);
    }
  });

  it('finds a product by its exact name (spacing and case aside) or by its code, never by a near miss', () => {
    expect(insulinProductOf('Humulin I KwikPen')?.code).toBe('humulin-i-kwikpen');
    expect(insulinProductOf('  humulin i   kwikpen ')?.code).toBe('humulin-i-kwikpen');
    expect(insulinProductOf('humulin-i-kwikpen')?.name).toBe('Humulin I KwikPen');
    expect(insulinProductOf('Humalog?? maybe')).toBeUndefined();
    expect(insulinProductOf('Humulin')).toBeUndefined();
  });
});

describe('a dose of a product the record does not know', () => {
  it('given 10 units of Humulin I KwikPen, when "Humalog?? maybe" is recorded, then it asks for confirmation naming product', () =>
    given(insulinGiven({ at: '18:00', dose: 10 }))
      .when((state) => recordInsulinAdministered(dose({ at: '18:10', product: 'Humalog?? maybe' }), state, context()))
      .thenThrows('insulin.unknown-product', 'product'));

  it('when confirmed, then it is recorded as said and flagged in the same append (a fact is never refused)', () =>
    given()
      .when((state) => recordInsulinAdministered(dose({ at: '18:10', product: 'Humalog?? maybe', confirmedUnknownProduct: true }), state, context()))
      .then((events) => {
        expect(events.map((e) => e.type)).toEqual(['InsulinAdministered', 'UnknownInsulinProductFlagged']);
        expect(events[0]!.data).toMatchObject({ product: 'Humalog?? maybe' });
        expect(events[0]!.data).not.toHaveProperty('productCode');
        expect(events[1]!.data).toEqual({ patientId: PATIENT_ID, product: 'Humalog?? maybe' });
      }));

  it('a withheld dose of an unknown product asks for confirmation too', () =>
    given()
      .when((state) =>
        recordInsulinWithheld({ ...base(at('18:00')), product: 'the usual one', plannedDose: { value: 8, unit: 'units' }, reason: 'asleep' }, state, context()),
      )
      .thenThrows('insulin.unknown-product', 'product'));
});

describe('duplicate and minimum-interval checks compare codes', () => {
  it('given a dose named "Humulin I KwikPen", when one named by its code comes 10 minutes later, then it is questioned as a possible duplicate', () =>
    given(insulinGiven({ at: '18:00', dose: 10 }))
      .when((state) => recordInsulinAdministered(dose({ at: '18:10', product: 'humulin-i-kwikpen' }), state, context()))
      .thenThrows('insulin.possible-duplicate', 'occurredAt'));

  it('stores the code and the product\'s own name, however it was typed', () =>
    given()
      .when((state) => recordInsulinAdministered(dose({ at: '18:00', product: 'HUMULIN I  KWIKPEN' }), state, context()))
      .then((events) => expect(events[0]!.data).toMatchObject({ product: 'Humulin I KwikPen', productCode: 'humulin-i-kwikpen' })));

  it('a different known product inside the interval is not taken for the same dose', () =>
    given(insulinGiven({ at: '18:00', dose: 10 }))
      .when((state) => recordInsulinAdministered(dose({ at: '18:10', product: 'NovoRapid FlexPen' }), state, context()))
      .then(['InsulinAdministered']));
});

describe('a dose given under a delegation is checked against its instruction', () => {
  // Mr Jones's instruction: 10 units of Humulin I KwikPen by pen at 18:00 (England; 18:00Z in winter).
  const instruction = { delegationId: 'del-jones-evening', product: 'Humulin I KwikPen', doseUnits: 10, times: ['18:00'] };
  const underInstruction = (o: { at: string; product?: string; units?: number; confirmed?: boolean }) => (state: Parameters<typeof recordInsulinAdministered>[1]) =>
    recordInsulinAdministered(
      {
        ...dose({ at: o.at, product: o.product ?? 'Humulin I KwikPen' }),
        dose: { value: o.units ?? 10, unit: 'units' },
        delegationId: instruction.delegationId,
        ...(o.confirmed ? { confirmedAgainstInstruction: true } : {}),
      },
      state,
      context({ insulinInstruction: instruction }),
    );

  it('given the instruction, when 10 units of Humulin I KwikPen are given at 18:05, then it is recorded with nothing to flag', () =>
    given().when(underInstruction({ at: '18:05' })).then(['InsulinAdministered']));

  it('when 20 units are given, then it asks for confirmation naming dose.value', () => given().when(underInstruction({ at: '18:05', units: 20 })).thenThrows('insulin.differs-from-instruction', 'dose.value'));

  it('when another known product is given, then it asks for confirmation naming product', () =>
    given().when(underInstruction({ at: '18:05', product: 'NovoRapid FlexPen' })).thenThrows('insulin.differs-from-instruction', 'product'));

  it('when given at 20:30, outside the time window, then it asks for confirmation naming occurredAt', () =>
    given().when(underInstruction({ at: '20:30' })).thenThrows('insulin.differs-from-instruction', 'occurredAt'));

  it('once confirmed, it is recorded and flagged with every difference', () =>
    given()
      .when(underInstruction({ at: '20:30', units: 12, confirmed: true }))
      .then((events) => {
        expect(events.map((e) => e.type)).toEqual(['InsulinAdministered', 'DoseOutsideInstructionFlagged']);
        expect(events[1]!.data).toEqual({
          patientId: PATIENT_ID,
          delegationId: 'del-jones-evening',
          differences: [
            { field: 'dose.value', instructed: '10 units', given: '12 units' },
            { field: 'occurredAt', instructed: '18:00 (within 60 minutes)', given: at('20:30') },
          ],
        });
      }));
});
