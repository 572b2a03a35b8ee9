import type { Spo2Scale } from '@tandem/contracts';

/** Until the person's instruction says otherwise, two doses of one insulin less than an hour apart are questioned. */
export const DEFAULT_INSULIN_MINIMUM_INTERVAL_MINUTES = 60;

/**
 * What a care-record decision needs from outside the stream, passed in by the edge: the clock, and
 * the settings that come from the person's plan and framework.
 */
export interface CareContext {
  /** The injected clock's reading. */
  readonly now: Date;
  /** From the person's baseline (PatientBaselineSet): scale 2 only when a clinician prescribed it. */
  readonly spo2Scale: Spo2Scale;
  /** From the person's insulin instruction; DEFAULT_INSULIN_MINIMUM_INTERVAL_MINUTES when left out. */
  readonly insulinMinimumIntervalMinutes?: number;
}
