/**
 * Floods of unverified requests, folded (pure): anyone can send requests without a token, and
 * each refusal would be kept forever, so past the first few per address and minute they are
 * counted, and the count becomes one record when the minute is over. No clock, no I/O: the
 * recorder passes the time and writes what this returns.
 */

/** Refusals of unverified callers recorded one by one per address and minute; the rest are counted into one record. */
export const UNVERIFIED_RECORDED_PER_MINUTE = 20;

/** Per address: the minute being counted, its first refusal and how many unverified refusals so far. */
export type UnverifiedMinutes = ReadonlyMap<string, { readonly minute: number; readonly count: number; readonly at: Date }>;

/** A minute that is over, with more refusals than were recorded one by one: one record of how many more. */
export interface FoldedFlood {
  readonly address: string;
  /** The minute's first refusal. */
  readonly at: Date;
  /** How many refusals were not recorded one by one. */
  readonly folded: number;
}

export const noUnverified: UnverifiedMinutes = new Map();

const minuteOf = (at: Date): number => Math.floor(at.getTime() / 60_000);

const overflowOf = (address: string, seen: { count: number; at: Date }): FoldedFlood[] =>
  seen.count > UNVERIFIED_RECORDED_PER_MINUTE ? [{ address, at: seen.at, folded: seen.count - UNVERIFIED_RECORDED_PER_MINUTE }] : [];

/**
 * One more unverified refusal from an address: whether it is recorded on its own (`record`), and
 * the previous minute's flood when this one starts a new minute.
 */
export const unverifiedRefusal = (minutes: UnverifiedMinutes, address: string, at: Date): { minutes: UnverifiedMinutes; record: boolean; over: FoldedFlood[] } => {
  const minute = minuteOf(at);
  const seen = minutes.get(address);
  const next = new Map(minutes);
  if (!seen || seen.minute !== minute) {
    next.set(address, { minute, count: 1, at });
    return { minutes: next, record: true, over: seen ? overflowOf(address, seen) : [] };
  }
  const count = seen.count + 1;
  next.set(address, { ...seen, count });
  return { minutes: next, record: count <= UNVERIFIED_RECORDED_PER_MINUTE, over: [] };
};

/** The minutes that are over by `now` (all of them, when stopping), closed: their floods, and what is still counting. */
export const closeMinutes = (minutes: UnverifiedMinutes, now: Date, all = false): { minutes: UnverifiedMinutes; over: FoldedFlood[] } => {
  const current = minuteOf(now);
  const next = new Map<string, { minute: number; count: number; at: Date }>();
  const over: FoldedFlood[] = [];
  for (const [address, seen] of minutes) {
    if (all || seen.minute !== current) over.push(...overflowOf(address, seen));
    else next.set(address, seen);
  }
  return { minutes: next, over };
};
