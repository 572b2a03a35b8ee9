import { closeMinutes, noUnverified, UNVERIFIED_RECORDED_PER_MINUTE, unverifiedRefusal, type UnverifiedMinutes } from '../src/audit/unverified-floods';

/** The folding of unverified refusals, pure: given refusals from an address, what is recorded on its own and what is counted. */
const at = (time: string) => new Date(`2026-12-02T${time}Z`);

const refusals = (count: number, address: string, time: string, minutes: UnverifiedMinutes = noUnverified) => {
  let state = minutes;
  const recorded: boolean[] = [];
  const over = [];
  for (let i = 0; i < count; i++) {
    const step = unverifiedRefusal(state, address, at(time));
    state = step.minutes;
    recorded.push(step.record);
    over.push(...step.over);
  }
  return { state, recorded, over };
};

it('given the first few refusals of a minute from an address, each is recorded on its own', () => {
  const { recorded, over } = refusals(UNVERIFIED_RECORDED_PER_MINUTE, '203.0.113.9', '09:00:05');
  expect(recorded.every(Boolean)).toBe(true);
  expect(over).toEqual([]);
});

it('past them, refusals are counted, and the count is one flood when the minute is over', () => {
  const { state, recorded } = refusals(UNVERIFIED_RECORDED_PER_MINUTE + 7, '203.0.113.9', '09:00:05');
  expect(recorded.filter((r) => !r)).toHaveLength(7);
  expect(closeMinutes(state, at('09:00:59')).over).toEqual([]);
  const closed = closeMinutes(state, at('09:01:00'));
  expect(closed.over).toEqual([{ address: '203.0.113.9', at: at('09:00:05'), folded: 7 }]);
  expect(closed.minutes.size).toBe(0);
});

it('a refusal in a new minute closes the last one, and each address is counted apart', () => {
  const first = refusals(UNVERIFIED_RECORDED_PER_MINUTE + 2, '203.0.113.9', '09:00:05');
  const other = refusals(3, '198.51.100.4', '09:00:30', first.state);
  const next = unverifiedRefusal(other.state, '203.0.113.9', at('09:01:10'));
  expect(next.record).toBe(true);
  expect(next.over).toEqual([{ address: '203.0.113.9', at: at('09:00:05'), folded: 2 }]);
  expect(closeMinutes(next.minutes, at('09:01:20'), true).over).toEqual([]);
});
