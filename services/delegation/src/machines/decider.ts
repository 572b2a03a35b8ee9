import { delegationEventDefinitions, EventRegistry, instantOf } from '@tandem/contracts';
import {
  getNextTransitions,
  initialTransition,
  transition,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyTransitionDefinition,
  type SnapshotFrom,
} from 'xstate';

/**
 * What every machine here shares: a decision either returns the events to append or refuses with
 * a reason naming the field, and an event the current state does not allow is refused, never
 * silently dropped.
 *
 * One principle keeps replay safe: an event's type alone decides where the machine goes; guards
 * only decide whether the event may happen. So a stream is replayed with every guard passing (a
 * stored event is a fact, decided under the framework of its day, and a framework changed since must
 * never make an old stream unreadable), while new decisions are checked by every guard against the
 * framework in force now.
 */

/** Why a command was refused: a code, the field it is about (for an OperationOutcome `expression`), and the reason. */
export interface Refusal {
  readonly code: string;
  readonly field: string;
  readonly reason: string;
  /** When more than one thing is wrong at once (every failing eligibility criterion), each of them. */
  readonly errors?: readonly { readonly field: string; readonly message: string }[];
}

export type Decision<Event> = { readonly ok: true; readonly events: Event[] } | { readonly ok: false; readonly refusal: Refusal };

/** A domain event as a machine takes it: with the time it happened (the metadata's occurredAt). */
export type Timed<Event> = Event & { readonly occurredAt: string };

/** A guard's reasoning: undefined when the event may happen, otherwise the refusal. */
export type Check<Context, Event> = (context: Context, event: Event) => Refusal | undefined;

/** Turns named checks into XState guards (`true` when the check finds nothing wrong). */
export const guardsFrom = <Context, Event, Name extends string>(checks: Record<Name, Check<Context, Event>>) =>
  Object.fromEntries(Object.entries(checks).map(([name, check]) => [name, ({ context, event }: { context: Context; event: Event }) => (check as Check<Context, Event>)(context, event) === undefined])) as Record<
    Name,
    (args: { context: Context; event: Event }) => boolean
  >;

/** Narrows a check to one event type (its guard is only ever attached to transitions of that type). */
export const forEvent =
  <Context, Event extends { type: string }, Type extends Event['type']>(type: Type, check: Check<Context, Extract<Event, { type: Type }>>): Check<Context, Event> =>
  (context, event) =>
    event.type === type ? check(context, event as Extract<Event, { type: Type }>) : undefined;

export const refuse = (code: string, field: string, reason: string): Refusal => ({ code, field, reason });

const registry = new EventRegistry([...delegationEventDefinitions]);

const guardNameOf = (t: AnyTransitionDefinition): string | undefined => {
  const guard: unknown = t.guard;
  if (typeof guard === 'string') return guard;
  if (guard !== null && typeof guard === 'object' && 'type' in guard && typeof guard.type === 'string') return guard.type;
  return undefined;
};

export interface DeciderOptions<Machine extends AnyStateMachine> {
  readonly machine: Machine;
  /** What the stream is ("delegation"), for refusal codes such as delegation.not-allowed-in-state. */
  readonly subject: string;
  /** The command field that names the stream (for refusals about the stream's state). */
  readonly streamField: string;
  /** Each state in words, for refusal reasons ("signed off", "declined"). */
  readonly describeState: Readonly<Record<string, string>>;
  /** The check behind each named guard. */
  readonly checks: Readonly<Record<string, Check<SnapshotFrom<Machine>['context'], unknown>>>;
}

/** The pure core every machine's decide and evolve are built on. */
export const decider = <Machine extends AnyStateMachine>(options: DeciderOptions<Machine>) => {
  type Snapshot = SnapshotFrom<Machine>;
  type Input = Parameters<Machine['getInitialSnapshot']>[1];
  type MachineEvent = Parameters<Machine['transition']>[1] & { type: string; occurredAt: string };
  const { machine, subject, describeState, checks, streamField } = options;

  const permissiveGuards = Object.fromEntries(Object.keys(checks).map((name) => [name, () => true]));
  /** The same machine with every guard passing: stored events are facts. */
  const replayMachine = machine.provide({ guards: permissiveGuards } as Parameters<Machine['provide']>[0]) as Machine;

  const open = (snapshot: Snapshot): AnyMachineSnapshot => snapshot as unknown as AnyMachineSnapshot;
  const stateOf = (snapshot: Snapshot): string => String(open(snapshot).value);
  const statesAccepting = (type: string): string[] =>
    Object.entries(machine.root.states as Record<string, { ownEvents: string[] }>)
      .filter(([, node]) => node.ownEvents.includes(type))
      .map(([name]) => name);
  const describe = (state: string): string => describeState[state] ?? state;

  /** Why the snapshot cannot take the event, or undefined when it can. */
  const refusalFor = (snapshot: Snapshot, event: MachineEvent, commandType: string): Refusal | undefined => {
    if (open(snapshot).can(event)) return undefined;
    const candidates = getNextTransitions(open(snapshot)).filter((t) => t.eventType === event.type);
    if (candidates.length === 0) {
      const accepting = statesAccepting(event.type).map(describe);
      return refuse(
        `${subject}.not-allowed-in-state`,
        streamField,
        `${commandType} is not allowed: the ${subject} is ${describe(stateOf(snapshot))}` +
          (accepting.length ? ` (${event.type} needs it to be ${accepting.join(' or ')})` : ''),
      );
    }
    for (const candidate of candidates) {
      const name = guardNameOf(candidate);
      const refusal = name ? checks[name]?.(open(snapshot).context, event) : undefined;
      if (refusal) return refusal;
    }
    return refuse(`${subject}.not-allowed`, streamField, `${commandType} is not allowed while the ${subject} is ${describe(stateOf(snapshot))}`);
  };

  const initialState = (input: Input): Snapshot => initialTransition(replayMachine, input as never)[0] as Snapshot;

  /** Applies one stored event. An event the state does not accept at all means a corrupt stream: it throws. */
  const evolve = (snapshot: Snapshot, event: MachineEvent): Snapshot => {
    const { value, context } = open(snapshot);
    const replaying = replayMachine.resolveState({ value, context }) as Snapshot;
    if (!open(replaying).can(event)) {
      throw new Error(`${subject} stream: ${event.type} cannot follow a ${subject} that is ${describe(stateOf(snapshot))}`);
    }
    return transition(replayMachine, replaying, event as never)[0] as Snapshot;
  };

  /** Rebuilds the state from a stream's events. */
  const replay = (input: Input, events: readonly MachineEvent[]): Snapshot => events.reduce(evolve, initialState(input));

  /**
   * Checks the events a command means, one after another, against the machine with its guards and
   * against their contracts; returns them all, or the first refusal.
   */
  const decideEvents = <Event extends { type: string; data: unknown }>(snapshot: Snapshot, commandType: string, occurredAt: string, events: Event[]): Decision<Event> => {
    const { value, context } = open(snapshot);
    let current = machine.resolveState({ value, context }) as Snapshot;
    for (const event of events) {
      const timed = { ...event, occurredAt } as unknown as MachineEvent;
      const refusal = refusalFor(current, timed, commandType);
      if (refusal) return { ok: false, refusal };
      const encoded = registry.encode(event.type, event.data);
      if (!encoded.ok) {
        const issue = encoded.issues[0]!;
        return { ok: false, refusal: refuse(`${subject}.invalid`, issue.path, `${event.type}: ${issue.path} ${issue.message}`) };
      }
      current = transition(machine, current, timed as never)[0] as Snapshot;
    }
    return { ok: true, events };
  };

  return { machine, replayMachine, initialState, evolve, replay, decideEvents, refusalFor, statesAccepting };
};

// ---------------------------------------------------------------------------------------------
// Time: ISO instants, never compared as strings
// ---------------------------------------------------------------------------------------------

export { instantOf };
export const isAtOrAfter = (a: string, b: string): boolean => instantOf(a) >= instantOf(b);
export const isBefore = (a: string, b: string): boolean => instantOf(a) < instantOf(b);
export const addMinutes = (iso: string, minutes: number): string => new Date(instantOf(iso) + minutes * 60_000).toISOString();
export const addDays = (iso: string, days: number): string => addMinutes(iso, days * 24 * 60);

/** Calendar months later, at the same time of day; the 31st becomes the last day of a shorter month. */
export const addMonths = (iso: string, months: number): string => {
  const date = new Date(instantOf(iso));
  const day = date.getUTCDate();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
  date.setUTCDate(Math.min(day, lastDay));
  return date.toISOString();
};
