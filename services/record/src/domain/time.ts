import { occurredAtProblem } from '@tandem/contracts';
import { DomainRuleBroken } from './errors';

/** Milliseconds since the epoch of an ISO date-time with an offset (never compared as strings). */
export const instantOf = (isoDateTime: string): number => Date.parse(isoDateTime);

/** Whole and fractional minutes from a to b, whichever comes first. */
export const minutesBetween = (a: string, b: string): number => Math.abs(instantOf(b) - instantOf(a)) / 60_000;

/** Refuses a bedside time more than a few minutes ahead of the (injected) clock. */
export const assertNotInFuture = (occurredAt: string, now: Date, field = 'occurredAt'): void => {
  const problem = occurredAtProblem(occurredAt, now);
  if (problem) throw new DomainRuleBroken('time.in-future', field, `${field} ${problem}`);
};

/** Today's date (YYYY-MM-DD) in England, where a date of birth is written. */
export const dateInEngland = (now: Date): string =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
