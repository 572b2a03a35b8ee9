import {
  VitalSignsMeasurementsSchema,
  type CareRecordEvent,
  type RecordVitalSigns,
  type Spo2Scale,
  type VitalSignsDetails,
  type VitalSignsInput,
  type VitalSignsMeasurements,
} from '@tandem/contracts';
import type { CareState } from './care-state';
import { compact } from './compact';
import type { CareContext } from './context';
import { DomainRuleBroken } from './errors';
import { scoreNews2 } from '@tandem/contracts';
import { assertBedsideTime } from './time';

const MEASUREMENT_FIELDS = Object.keys(VitalSignsMeasurementsSchema.shape) as (keyof VitalSignsMeasurements)[];

const measurementsOf = (input: VitalSignsInput): VitalSignsMeasurements =>
  compact(Object.fromEntries(MEASUREMENT_FIELDS.map((field) => [field, input[field]])) as VitalSignsMeasurements);

/**
 * The SpO2 scale comes from the person's plan: scale 2 only when a registered clinician has
 * prescribed it. A reading that names a different scale is refused, so a stale screen or a guess
 * at the bedside can never change how a person is scored.
 */
export const assertScaleMatchesPlan = (given: Spo2Scale | undefined, plan: Spo2Scale, field: string): void => {
  if (given === undefined || given === plan) return;
  throw new DomainRuleBroken(
    'news2.spo2-scale-not-in-plan',
    field,
    plan === 1
      ? "SpO2 scale 2 is used only when a registered clinician has prescribed it in the person's plan; this person's plan uses scale 1"
      : "this person's plan uses SpO2 scale 2, prescribed by a clinician: record the reading on scale 2 (or leave the scale out)",
  );
};

/** The stored details of a set of vital signs: the measurements, the scale used and NEWS2. */
export const vitalSignsDetails = (input: VitalSignsInput, planScale: Spo2Scale, scaleField = 'spo2Scale'): VitalSignsDetails => {
  assertScaleMatchesPlan(input.spo2Scale, planScale, scaleField);
  const measurements = measurementsOf(input);
  return { ...measurements, spo2Scale: planScale, news2: scoreNews2(measurements, { spo2Scale: planScale }) };
};

/** Records a set of vital signs with its NEWS2, scored on the person's prescribed SpO2 scale. */
export const recordVitalSigns = (cmd: RecordVitalSigns, _state: CareState, context: CareContext): CareRecordEvent[] => {
  assertBedsideTime(cmd, context.now);
  return [{ type: 'VitalSignsRecorded', data: { patientId: cmd.patientId, ...vitalSignsDetails(cmd, context.spo2Scale) } }];
};
