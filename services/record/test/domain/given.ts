import { isDecisionError } from '../../src/domain/errors';

/**
 * A tiny given / when / then for deciders: given past events, when a decision is taken on the
 * state they fold into, then these events (by type, or checked by a function) or this refusal.
 */
export interface Specification<State, Event extends { type: string }> {
  given: (...events: Event[]) => {
    when: <Out extends { type: string }>(decision: (state: State) => Out[]) => Outcome<Out>;
  };
}

export interface Outcome<Out extends { type: string }> {
  /** Expected event types in order, or a function that checks the events. */
  then: (expected: string[] | ((events: Out[]) => void)) => void;
  /** Expected error code (and, when given, the field it names). */
  thenThrows: (code: string, field?: string) => void;
}

export const specification = <State, Event extends { type: string }>(
  evolve: (state: State, event: Event) => State,
  initial: State,
  /** Called on every decided event (e.g. to check it against its contract). */
  check: (event: { type: string }) => void = () => undefined,
): Specification<State, Event> => ({
  given: (...events) => ({
    when: (decision) => {
      const decide = () => {
        const out = decision(events.reduce(evolve, initial));
        out.forEach(check);
        return out;
      };
      return {
        then: (expected) => {
          const out = decide();
          if (typeof expected === 'function') expected(out);
          else expect(out.map((e) => e.type)).toEqual(expected);
        },
        thenThrows: (code, field) => {
          let thrown: unknown;
          try {
            decide();
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeDefined();
          if (!isDecisionError(thrown)) throw thrown;
          expect(thrown.code).toBe(code);
          if (field !== undefined) expect(thrown.field).toBe(field);
        },
      };
    },
  }),
});
