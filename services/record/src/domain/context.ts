import type { Spo2Scale } from '@tandem/contracts';
import type { AllergyState, MedicationOrderState } from './medicines';

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
  /**
   * The insulin instruction of the delegation a dose names (delegationId), read by the edge from
   * that delegation's own stream (never a read model): the dose is checked against it.
   */
  readonly insulinInstruction?: InsulinInstructionToCheck;
  /**
   * For a dose of a medication order (RecordMedicineDose, or insulin naming orderId): the order and
   * the person's allergies, read by the edge from the person's medicines stream (never a read model).
   */
  readonly medicines?: MedicinesFacts;
}

export interface MedicinesFacts {
  /** The order the command names; undefined when the person has no such order. */
  readonly order?: MedicationOrderState;
  readonly allergies: readonly AllergyState[];
}

export interface InsulinInstructionToCheck {
  readonly delegationId: string;
  readonly product: string;
  readonly doseUnits: number;
  /** Times of day in England, "HH:MM". */
  readonly times: readonly string[];
}

/**
 * How far from an instructed time (either side) a dose still counts as given at that time. LOCAL
 * policy (no national figure; docs/clinical/reference.md section 2): a setting, 60 minutes by default.
 */
export const INSULIN_TIME_WINDOW_MINUTES = 60;
