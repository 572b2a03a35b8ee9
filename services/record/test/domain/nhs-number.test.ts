import { NhsNumberSchema } from '@tandem/contracts';
import { careStreamId, isValidNhsNumber, nhsNumberProblem, patientIdFor, patientStreamId, uuidV5 } from '../../src/domain/nhs-number';

describe('NHS number (modulus 11)', () => {
  it.each([
    ['9912003888', 'the published example'],
    ['9434765919', 'another valid number'],
    ['9876543210', 'a number whose check digit computes to 11, written 0'],
  ])('accepts %s (%s)', (nhsNumber) => {
    expect(nhsNumberProblem(nhsNumber)).toBeUndefined();
    expect(isValidNhsNumber(nhsNumber)).toBe(true);
    expect(NhsNumberSchema.safeParse(nhsNumber).success).toBe(true);
  });

  it.each([
    ['9912003880', 'check digit does not match'],
    ['1234567890', 'is not a valid NHS number: its check digit would be 10'],
    ['991200388', 'must be 10 digits (got 9)'],
    ['99120038881', 'must be 10 digits (got 11)'],
    ['99120O3888', 'must contain digits only'],
    ['ABCDEFGHIJ', 'must contain digits only'],
    ['991 200 3888', 'must be 10 digits without spaces'],
    ['', 'must contain digits only'],
  ])('refuses %s: %s', (nhsNumber, reason) => {
    expect(nhsNumberProblem(nhsNumber)).toBe(reason);
    expect(isValidNhsNumber(nhsNumber)).toBe(false);
  });

  it('refuses what is not a string', () => {
    expect(nhsNumberProblem(9912003888)).toBe('must be a string of 10 digits');
  });

  it('gives the reason in the contract, too', () => {
    const parsed = NhsNumberSchema.safeParse('9912003880');
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe('NHS number check digit does not match');
  });

  it('names the streams deterministically, keyed with the deployment secret', () => {
    const secret = 'nhs-number-test-id-secret-0123456789';
    expect(patientIdFor('9912003888', secret)).toBe(patientIdFor('9912003888', secret));
    expect(patientIdFor('9912003888', secret)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(patientIdFor('9912003888', secret)).not.toBe(patientIdFor('9434765919', secret));
    expect(patientStreamId(patientIdFor('9912003888', secret))).toBe(`patient-${patientIdFor('9912003888', secret)}`);
  });

  it('cannot be computed from the NHS number without the secret: another secret, another id; the old public UUID v5 no longer matches', () => {
    const secret = 'nhs-number-test-id-secret-0123456789';
    expect(patientIdFor('9912003888', secret)).not.toBe(patientIdFor('9912003888', 'another-deployment-id-secret-98765'));
    // The UUID v5 with the namespace that was in the source (what a stranger could compute before).
    expect(patientIdFor('9912003888', secret)).not.toBe(uuidV5('4b7f0c3e-2a9d-4c55-9b61-7d2f3e8a1c90', '9912003888'));
    expect(() => patientIdFor('9912003888', 'short')).toThrow(/at least 32 bytes/);
    expect(careStreamId('2b0f6a4e-3c1d-4e5f-8a9b-0c1d2e3f4a5b')).toBe('care-2b0f6a4e-3c1d-4e5f-8a9b-0c1d2e3f4a5b');
  });
});
