import { durationInWords } from '../src/audit/timeline';

describe('lateness in words a reviewer reads', () => {
  it.each([
    [0, '0 minutes'],
    [1, '1 minute'],
    [45, '45 minutes'],
    [60, '1 hour'],
    [200, '3 hours 20 minutes'],
    [1440, '1 day'],
    [29_700, '20 days 15 hours'],
  ])('%d minutes late reads "%s"', (minutes, words) => expect(durationInWords(minutes)).toBe(words));
});
