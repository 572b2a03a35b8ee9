import {
  CORRECTABLE_ENTRY_TYPES,
  EmergencySignsSchema,
  SepsisOrPyelonephritisSignsSchema,
  SoftSignsSchema,
  UrinarySignsSchema,
  type CorrectableEntryType,
} from '@tandem/contracts';

/**
 * The words a framework's data may use to talk about the care record: the entries, the numbers
 * read from them, and the yes/no signs they carry. Taken from the care contracts, so a framework
 * that names a field the record does not have is refused when it is loaded, not when it matters.
 */

/** The care entries a framework can watch (everything recorded at the bedside). */
export const CARE_ENTRY_TYPES = CORRECTABLE_ENTRY_TYPES;
export type CareEntryType = CorrectableEntryType;

/** Where each measured observation is read from: entry type and field, and its unit. */
export const NUMERIC_OBSERVATIONS = {
  glucose: { unit: 'mmol/L', decimals: 1, label: 'blood glucose', from: [{ entry: 'BloodGlucoseRecorded', field: 'glucoseMmolL' }] },
  ketones: { unit: 'mmol/L', decimals: 1, label: 'blood ketones', from: [{ entry: 'BloodGlucoseRecorded', field: 'ketonesMmolL' }] },
  temperature: {
    unit: 'C',
    decimals: 1,
    label: 'temperature',
    from: [
      { entry: 'VitalSignsRecorded', field: 'temperatureC' },
      { entry: 'CellulitisChecked', field: 'temperatureC' },
    ],
  },
  respirationRate: { unit: '/min', decimals: 0, label: 'respiration rate', from: [{ entry: 'VitalSignsRecorded', field: 'respirationRate' }] },
  spo2: { unit: '%', decimals: 0, label: 'SpO2', from: [{ entry: 'VitalSignsRecorded', field: 'spo2' }] },
  systolic: { unit: 'mmHg', decimals: 0, label: 'systolic blood pressure', from: [{ entry: 'VitalSignsRecorded', field: 'systolic' }] },
  diastolic: { unit: 'mmHg', decimals: 0, label: 'diastolic blood pressure', from: [{ entry: 'VitalSignsRecorded', field: 'diastolic' }] },
  pulse: { unit: '/min', decimals: 0, label: 'pulse', from: [{ entry: 'VitalSignsRecorded', field: 'pulse' }] },
  pain: { unit: '/10', decimals: 0, label: 'pain score', from: [{ entry: 'CellulitisChecked', field: 'pain' }] },
} as const satisfies Record<string, { unit: string; decimals: number; label: string; from: readonly { entry: CareEntryType; field: string }[] }>;
export type NumericObservation = keyof typeof NUMERIC_OBSERVATIONS;
export const NUMERIC_OBSERVATION_NAMES = Object.keys(NUMERIC_OBSERVATIONS) as [NumericObservation, ...NumericObservation[]];

/** Observations with a category answer (ACVPU consciousness). */
export const CATEGORY_OBSERVATIONS = {
  consciousness: { label: 'consciousness (ACVPU)', values: ['A', 'C', 'V', 'P', 'U'], from: [{ entry: 'VitalSignsRecorded', field: 'consciousness' }] },
} as const satisfies Record<string, { label: string; values: readonly string[]; from: readonly { entry: CareEntryType; field: string }[] }>;
export type CategoryObservation = keyof typeof CATEGORY_OBSERVATIONS;
export const CATEGORY_OBSERVATION_NAMES = Object.keys(CATEGORY_OBSERVATIONS) as [CategoryObservation, ...CategoryObservation[]];

const group = (prefix: string, shape: Record<string, unknown>): string[] => Object.keys(shape).map((k) => `${prefix}.${k}`);

/** The yes/no signs of each entry, as dotted paths into its data (e.g. sepsisSigns.rigors). */
export const SIGN_PATHS: Partial<Record<CareEntryType, readonly string[]>> = {
  UrinarySymptomsScreened: [...group('signs', UrinarySignsSchema.shape), ...group('sepsisSigns', SepsisOrPyelonephritisSignsSchema.shape), 'catheter.inPlace'],
  SoftSignsRecorded: [...group('softSigns', SoftSignsSchema.shape), ...group('emergencySigns', EmergencySignsSchema.shape)],
  CellulitisChecked: ['markedLineDrawn', 'rednessBeyondMarkedLine', 'limbElevated', 'skinToneLimitsAssessment'],
  // Set only when the person had to confirm a dose the record could not check (docs/decisions/0013-coded-insulin.md).
  InsulinAdministered: ['confirmedUnknownProduct', 'confirmedAgainstInstruction'],
  // Set only when the person giving a dose had to confirm it (services/record/src/domain/mar.ts).
  MedicineDoseRecorded: ['confirmedDespiteAllergy', 'confirmedOverDailyMaximum', 'confirmedInsideMinimumInterval', 'confirmedOutsideSchedule'],
};

/** Reads a dotted path from an entry's data. */
export const valueAt = (data: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((value, key) => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), data);

/** A field name or dotted path in words: sepsisSigns.kidneyPain -> kidney pain. */
export const inWords = (path: string): string =>
  (path.split('.').pop() ?? path)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
