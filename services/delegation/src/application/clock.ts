/**
 * Time is injected: every decision, reaction and timer reads this clock, never `new Date()`. The
 * scheduler fires a timer when the clock reaches its dueAt, so tests (and a demo) move time on
 * instead of waiting for it.
 */
export interface Clock {
  now(): Date;
}

/** A clock that can be moved on: tests, and the embedded mode's test clock. */
export interface AdjustableClock extends Clock {
  /** Moves the clock on by `ms` milliseconds; returns the new time. */
  advance(ms: number): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Stands still at `start` until moved on (tests). */
export class ManualClock implements AdjustableClock {
  private instant: number;
  constructor(start: string | Date) {
    this.instant = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.instant);
  }
  advance(ms: number): Date {
    this.instant += ms;
    return this.now();
  }
  set(at: string | Date): Date {
    this.instant = new Date(at).getTime();
    return this.now();
  }
}

/** The system's time plus an offset that only grows: the embedded mode's test clock (TANDEM_TEST_CLOCK). */
export class OffsetClock implements AdjustableClock {
  private offsetMs = 0;
  constructor(private readonly base: () => number = Date.now) {}
  now(): Date {
    return new Date(this.base() + this.offsetMs);
  }
  advance(ms: number): Date {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forwards');
    this.offsetMs += ms;
    return this.now();
  }
}

export const isAdjustable = (clock: Clock): clock is AdjustableClock => typeof (clock as Partial<AdjustableClock>).advance === 'function';
