import { AssertionError } from 'node:assert';
import { specification } from '../src';

/** A counter that refuses to go past three: both decider shapes, over the same evolve. */
type Counted = { type: 'Counted' };
const evolve = (state: number, _event: Counted): number => state + 1;
const { given } = specification<number, Counted>(evolve, 0);

class RuleBroken extends Error {
  constructor(
    readonly code: string,
    readonly field: string,
  ) {
    super(code);
  }
}
const throwing = (state: number): Counted[] => {
  if (state >= 3) throw new RuleBroken('counter.full', 'count');
  return [{ type: 'Counted' }];
};
const returning = (state: number) =>
  state >= 3 ? ({ ok: false, refusal: { code: 'counter.full', field: 'count', reason: 'full' } } as const) : ({ ok: true, events: [{ type: 'Counted' as const }] } as const);

describe.each([
  ['a decider that throws its refusal (the record)', throwing],
  ['a decider that returns a Decision (delegation)', returning],
])('%s', (_name, decide) => {
  it('given fewer than three, when counting, then Counted', () => {
    given({ type: 'Counted' }).when(decide).then(['Counted']);
  });

  it('given three, when counting, then refused naming the field', () => {
    given({ type: 'Counted' }, { type: 'Counted' }, { type: 'Counted' }).when(decide).thenRefused('counter.full', 'count');
  });

  it('fails when the events differ, and when a refusal was expected but events came', () => {
    expect(() => given().when(decide).then([])).toThrow(AssertionError);
    expect(() => given().when(decide).thenRefused('counter.full')).toThrow(AssertionError);
    expect(() => given({ type: 'Counted' }, { type: 'Counted' }, { type: 'Counted' }).when(decide).then(['Counted'])).toThrow(AssertionError);
    expect(() => given({ type: 'Counted' }, { type: 'Counted' }, { type: 'Counted' }).when(decide).thenRefused('counter.other')).toThrow(AssertionError);
  });
});

it('every decided event is checked (e.g. against its contract)', () => {
  const checked: string[] = [];
  specification<number, Counted>(evolve, 0, (e) => checked.push(e.type))
    .given()
    .when(throwing)
    .then(['Counted']);
  expect(checked).toEqual(['Counted']);
});

it('an error that is not a refusal is a bug, not an outcome: it is rethrown', () => {
  const broken = (): Counted[] => {
    throw new TypeError('undefined is not a function');
  };
  expect(() => given().when(broken).thenRefused('anything')).toThrow(TypeError);
});
