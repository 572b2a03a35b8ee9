import { englandDate, englandInstant, englandMinutesOfDay, englandTimeOfDay } from '../src/england-time';

describe("England's clock, where an order's times and a visit's day are written", () => {
  it('puts 18:00 at 18:00 UTC in winter and 17:00 UTC in summer', () => {
    expect(englandInstant('2026-12-03', '18:00')).toBe('2026-12-03T18:00:00.000Z');
    expect(englandInstant('2026-07-01', '18:00')).toBe('2026-07-01T17:00:00.000Z');
  });

  it('gives the same answer asked again (the kept answers are the answers)', () => {
    const first = englandInstant('2026-07-01', '08:00');
    expect(englandInstant('2026-07-01', '08:00')).toBe(first);
    expect(first).toBe('2026-07-01T07:00:00.000Z');
  });

  it('moves a time the clocks skip in spring an hour on, and takes the second (GMT) of a time repeated in autumn', () => {
    expect(englandInstant('2027-03-28', '01:30')).toBe('2027-03-28T01:30:00.000Z');
    expect(englandTimeOfDay(new Date('2027-03-28T01:30:00Z'))).toBe('02:30');
    expect(englandInstant('2027-10-31', '01:30')).toBe('2027-10-31T01:30:00.000Z');
  });

  it("reads England's date and time of day at an instant: half past eleven UTC on a summer night is already tomorrow", () => {
    const at = new Date('2026-07-01T23:30:00Z');
    expect(englandDate(at)).toBe('2026-07-02');
    expect(englandTimeOfDay(at)).toBe('00:30');
    expect(englandMinutesOfDay(at)).toBe(30);
    expect(englandDate(Date.parse('2026-12-31T23:30:00Z'))).toBe('2026-12-31');
  });
});
