import { englandDate, instantOf, lateEntryQuestion, occurredAtProblem } from '@tandem/contracts';
import { DomainRuleBroken, NeedsConfirmation } from './errors';

export { instantOf };

/** Whole and fractional minutes from a to b, whichever comes first. */
export const minutesBetween = (a: string, b: string): number => Math.abs(instantOf(b) - instantOf(a)) / 60_000;

/**
 * Refuses a bedside time that cannot be true: more than OCCURRED_AT_MAX_FUTURE_MINUTES ahead of the
 * (injected) clock, or before OCCURRED_AT_EARLIEST.
 */
export const assertNotInFuture = (occurredAt: string, now: Date, field = 'occurredAt'): void => {
  const problem = occurredAtProblem(occurredAt, now);
  if (problem) throw new DomainRuleBroken(Date.parse(occurredAt) > now.getTime() ? 'time.in-future' : 'time.impossible', field, `${field} ${problem}`);
};

/**
 * The bedside time of a new entry: refused when it cannot be true; when it is more than
 * OCCURRED_AT_CONFIRM_OLDER_THAN_DAYS back, recorded only once the person confirms it (a late
 * entry is possible, and shown as late; a date typed wrong is far more likely).
 */
export const assertBedsideTime = (cmd: { occurredAt: string; confirmedLate?: boolean | undefined }, now: Date): void => {
  assertNotInFuture(cmd.occurredAt, now);
  const question = lateEntryQuestion(cmd.occurredAt, cmd.confirmedLate, now);
  if (question) throw new NeedsConfirmation('time.late-entry', 'occurredAt', question);
};

/** Today's date (YYYY-MM-DD) in England, where a date of birth is written. */
export const dateInEngland = (now: Date): string => englandDate(now);
