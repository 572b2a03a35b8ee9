import type { RecordedEvent } from '@tandem/event-store';

/**
 * Folds a stream's events into state, remembering the result per stream, so the next command
 * folds only the events appended since. A person's record grows for years; folding it whole on
 * every command made recording slower the longer someone was cared for. Streams are append-only,
 * so a remembered state stays right as long as the events it saw are still the stream's prefix
 * (checked by the id of the last one).
 */
export const incrementalFold = <State>(initial: State, evolve: (state: State, event: RecordedEvent) => State, maxStreams = 10_000) => {
  const memo = new Map<string, { count: number; lastId: string | undefined; state: State }>();
  return (stream: string, events: readonly RecordedEvent[]): State => {
    const known = memo.get(stream);
    const usable = known && known.count <= events.length && events[known.count - 1]?.id === known.lastId;
    let state = usable ? known.state : initial;
    for (let i = usable ? known.count : 0; i < events.length; i++) state = evolve(state, events[i]!);
    memo.delete(stream);
    memo.set(stream, { count: events.length, lastId: events[events.length - 1]?.id, state });
    if (memo.size > maxStreams) memo.delete(memo.keys().next().value!);
    return state;
  };
};
