import { checkFormOf, checkOffered } from '../src/checks';

/**
 * Which bedside checks her day offers for a person: the urinary screen is the UKHSA tool for people
 * aged 65 and over (the suspected-UTI framework's eligibility), so it follows the birth date in
 * the person's record; the other checks are for everyone.
 */
describe('the checks offered for a person', () => {
  const urinary = checkFormOf('urinary-symptoms')!;
  const now = new Date('2026-12-02T10:00:00Z');

  it('offers the urinary screen from the 65th birthday on, by England’s date', () => {
    expect(checkOffered(urinary, { birthDate: '1950-03-14' }, now)).toBe(true);
    expect(checkOffered(urinary, { birthDate: '1961-12-02' }, now)).toBe(true);
    expect(checkOffered(urinary, { birthDate: '1961-12-03' }, now)).toBe(false);
    expect(checkOffered(urinary, { birthDate: '1990-01-01' }, now)).toBe(false);
    // In summer England is an hour ahead: 23:30 UTC on 30 June is already 1 July (00:30 BST), 22:30 UTC is not.
    expect(checkOffered(urinary, { birthDate: '1961-07-01' }, new Date('2026-06-30T23:30:00Z'))).toBe(true);
    expect(checkOffered(urinary, { birthDate: '1961-07-01' }, new Date('2026-06-30T22:30:00Z'))).toBe(false);
  });

  it('offers it when the record holds no birth date (a screen is never hidden for want of one)', () => {
    expect(checkOffered(urinary, {}, now)).toBe(true);
  });

  it('offers soft signs, a drink and the cellulitis check to everyone', () => {
    for (const kind of ['soft-signs', 'fluid-intake', 'cellulitis-checks']) expect(checkOffered(checkFormOf(kind)!, { birthDate: '2000-01-01' }, now)).toBe(true);
  });
});
