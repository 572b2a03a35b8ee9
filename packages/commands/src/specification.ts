import { deepStrictEqual, fail, strictEqual } from 'node:assert';

/**
 * One given / when / then for every decider in Tandem, the record's and delegation's alike:
 * given past events, when a decision is taken on the state they fold into, then these events (by
 * type, or checked by a function) or this refusal.
 *
 * The two decider shapes both fit: the record's deciders return the events or throw an error that
 * names a code and a field (DomainRuleBroken, NeedsConfirmation); delegation's return a Decision,
 * `{ ok: true, events }` or `{ ok: false, refusal: { code, field, reason } }`. Assertions are
 * node:assert's, so the helper works under any test runner and ships no test framework.
 */

/** Why a decision said no, as either shape gives it. */
export interface RefusalLike {
  readonly code: string;
  readonly field: string;
}

/** What a decider returns: the events, or delegation's Decision (events or a refusal). */
export type Decided<Out> = readonly Out[] | { readonly ok: true; readonly events: readonly Out[] } | { readonly ok: false; readonly refusal: RefusalLike };

export interface Outcome<Out extends { type: string }> {
  /** Expected event types in order, or a function that checks the events. */
  then: (expected: readonly string[] | ((events: Out[]) => void)) => void;
  /** The decision refuses with this code (and, when given, names this field), thrown or returned. */
  thenRefused: (code: string, field?: string) => void;
  /** The same as thenRefused (the record's tests' older name). */
  thenThrows: (code: string, field?: string) => void;
}

export interface Specification<State, Event> {
  given: (...events: Event[]) => {
    when: <Out extends { type: string }>(decision: (state: State) => Decided<Out>) => Outcome<Out>;
  };
}

const isRefusal = (value: unknown): value is RefusalLike =>
  typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'string' && typeof (value as { field?: unknown }).field === 'string';

type Result<Out> = { readonly events: Out[] } | { readonly refusal: RefusalLike };

const settle = <Out>(decide: () => Decided<Out>): Result<Out> => {
  let decided: Decided<Out>;
  try {
    decided = decide();
  } catch (error) {
    // A refusal the decider threw; anything else is a bug in the decider or the test, not an outcome.
    if (isRefusal(error)) return { refusal: error };
    throw error;
  }
  if (Array.isArray(decided)) return { events: [...(decided as readonly Out[])] };
  const decision = decided as Exclude<Decided<Out>, readonly Out[]>;
  return decision.ok ? { events: [...decision.events] } : { refusal: decision.refusal };
};

/**
 * @param evolve folds one event into the state
 * @param initial the state before any event
 * @param check called on every decided event (e.g. to check it against its contract)
 */
export const specification = <State, Event>(
  evolve: (state: State, event: Event) => State,
  initial: State,
  check: (event: { type: string }) => void = () => undefined,
): Specification<State, Event> => ({
  given: (...events) => ({
    when: <Out extends { type: string }>(decision: (state: State) => Decided<Out>): Outcome<Out> => {
      const run = (): Result<Out> => {
        const result = settle(() => decision(events.reduce(evolve, initial)));
        if ('events' in result) result.events.forEach(check);
        return result;
      };
      const refused = (code: string, field?: string): void => {
        const result = run();
        if (!('refusal' in result)) return fail(`Expected a refusal ${code}, but the decision recorded ${JSON.stringify(result.events.map((e) => e.type))}`);
        strictEqual(result.refusal.code, code);
        if (field !== undefined) strictEqual(result.refusal.field, field);
      };
      return {
        then: (expected) => {
          const result = run();
          if ('refusal' in result) return fail(`Expected events, but the decision refused: ${result.refusal.code} (${result.refusal.field})`);
          if (typeof expected === 'function') expected(result.events);
          else deepStrictEqual(result.events.map((e) => e.type), [...expected]);
        },
        thenRefused: refused,
        thenThrows: refused,
      };
    },
  }),
});
