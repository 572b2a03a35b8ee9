import { z } from 'zod';
import { defineEvent } from '../events';
import { careCommandShape, DateSchema, measurement, PatientIdSchema, TemperatureCSchema, textSchema, type EventOf } from './common';

// ---------------------------------------------------------------------------------------------
// Vital signs and NEWS2 (docs/clinical/reference.md section 5)
// ---------------------------------------------------------------------------------------------

export const Spo2ScaleSchema = z.union([z.literal(1), z.literal(2)], { error: 'spo2Scale must be 1 or 2' });
export type Spo2Scale = z.infer<typeof Spo2ScaleSchema>;

/** ACVPU: Alert, new Confusion, Voice, Pain, Unresponsive. */
export const ConsciousnessSchema = z.enum(['A', 'C', 'V', 'P', 'U'], { error: 'consciousness must be one of A, C, V, P, U (ACVPU)' });
export type Consciousness = z.infer<typeof ConsciousnessSchema>;

export const AirOrOxygenSchema = z.enum(['air', 'oxygen'], { error: 'airOrOxygen must be "air" or "oxygen"' });

/** The seven NEWS2 parameters, named as the fields of a vital signs entry. */
export const NEWS2_PARAMETERS = ['respirationRate', 'spo2', 'airOrOxygen', 'systolic', 'pulse', 'consciousness', 'temperatureC'] as const;
export const News2ParameterSchema = z.enum(NEWS2_PARAMETERS);
export type News2Parameter = z.infer<typeof News2ParameterSchema>;
/** Each NEWS2 parameter in the words a care worker or a nurse reads (answers, SBARD messages). */
export const NEWS2_PARAMETER_WORDS: Readonly<Record<News2Parameter, string>> = {
  respirationRate: 'respiration rate',
  spo2: 'SpO2',
  airOrOxygen: 'air or oxygen',
  systolic: 'systolic blood pressure',
  pulse: 'pulse',
  consciousness: 'consciousness',
  temperatureC: 'temperature',
};

/**
 * The measurements of one set of vital signs. Each may be missing (NEWS2 is then incomplete), but
 * an impossible value is refused naming its field.
 */
const CALL_999 = 'call 999 now';
const vitalSignsShape = {
  respirationRate: measurement('respiration rate', 3, 80, '/min', { below: `A respiration rate below 3 /min means the person is not breathing: ${CALL_999} and start CPR if trained; if they are breathing, count again for a full minute` }).optional(),
  spo2: measurement('SpO2', 50, 100, '%', { below: `An SpO2 below 50 % is not a reading a living person keeps: if the person is unresponsive or not breathing, ${CALL_999}; otherwise check the probe (warm finger, no nail varnish) and measure again` }).optional(),
  airOrOxygen: AirOrOxygenSchema.optional(),
  oxygenFlowLPerMin: measurement('oxygen flow', 0.1, 60, 'L/min', { decimals: 1 }).optional(),
  systolic: measurement('systolic blood pressure', 40, 300, 'mmHg', { below: `A systolic blood pressure below 40 mmHg means no blood pressure can be felt: if the person is unresponsive, ${CALL_999}; otherwise check the cuff and measure again` }).optional(),
  diastolic: measurement('diastolic blood pressure', 20, 300, 'mmHg', { below: 'A diastolic blood pressure below 20 mmHg is not a reading: check the cuff and measure again' }).optional(),
  pulse: measurement('pulse', 20, 300, '/min', { below: `No pulse: ${CALL_999} and start CPR if trained (a pulse below 20 /min cannot be a living person's; if the person is awake, count again for a full minute)` }).optional(),
  consciousness: ConsciousnessSchema.optional(),
  temperatureC: TemperatureCSchema.optional(),
};

/**
 * The bounds events were stored with before the lower bounds became physiological: the stored
 * shape keeps them, so every event ever appended still reads back (a command is checked against
 * the shape above; an event against this one).
 */
const storedVitalSignsShape = {
  ...vitalSignsShape,
  respirationRate: measurement('respiration rate', 0, 80, '/min').optional(),
  spo2: measurement('SpO2', 0, 100, '%').optional(),
  systolic: measurement('systolic blood pressure', 0, 300, 'mmHg').optional(),
  diastolic: measurement('diastolic blood pressure', 0, 300, 'mmHg').optional(),
  pulse: measurement('pulse', 0, 300, '/min').optional(),
};

/** The measurements alone, as NEWS2 reads them. */
export const VitalSignsMeasurementsSchema = z.object(storedVitalSignsShape);
export type VitalSignsMeasurements = z.infer<typeof VitalSignsMeasurementsSchema>;
type VitalSignsShape = VitalSignsMeasurements;

const vitalSignsAreConsistent = (v: VitalSignsShape, ctx: z.RefinementCtx) => {
  if (NEWS2_PARAMETERS.every((p) => v[p] === undefined) && v.diastolic === undefined) {
    ctx.addIssue({ code: 'custom', path: [], message: `must hold at least one of ${NEWS2_PARAMETERS.join(', ')}, diastolic` });
  }
  if (v.systolic !== undefined && v.diastolic !== undefined && v.diastolic >= v.systolic) {
    ctx.addIssue({ code: 'custom', path: ['diastolic'], message: 'diastolic blood pressure must be below systolic' });
  }
  if (v.oxygenFlowLPerMin !== undefined && v.airOrOxygen !== 'oxygen') {
    ctx.addIssue({ code: 'custom', path: ['oxygenFlowLPerMin'], message: 'oxygen flow is only given when airOrOxygen is "oxygen"' });
  }
};

/**
 * What a person enters: the measurements, and optionally the SpO2 scale they believe applies, which
 * must match the person's plan (scale 2 is a clinician's decision, never a choice at the bedside).
 */
export const VitalSignsInputSchema = z
  .strictObject({ ...vitalSignsShape, spo2Scale: Spo2ScaleSchema.optional() })
  .superRefine(vitalSignsAreConsistent);
export type VitalSignsInput = z.infer<typeof VitalSignsInputSchema>;

export const RecordVitalSignsSchema = z
  .strictObject({ ...careCommandShape, ...vitalSignsShape, spo2Scale: Spo2ScaleSchema.optional() })
  .superRefine(vitalSignsAreConsistent);
export type RecordVitalSigns = z.infer<typeof RecordVitalSignsSchema>;

export const SubScoreSchema = z.number().int().min(0).max(3).nullable();

export const News2RiskSchema = z.enum(['low', 'low-medium', 'medium', 'high']);
export type News2Risk = z.infer<typeof News2RiskSchema>;

/** The NEWS2 result, computed by the record's domain and stored with the observation. */
export const News2ResultSchema = z.object({
  /** Sub-score per parameter; null when the parameter (or, on scale 2 at 93 % or more, air/oxygen) is missing. */
  subScores: z.object({
    respirationRate: SubScoreSchema,
    spo2: SubScoreSchema,
    airOrOxygen: SubScoreSchema,
    systolic: SubScoreSchema,
    pulse: SubScoreSchema,
    consciousness: SubScoreSchema,
    temperatureC: SubScoreSchema,
  }),
  missing: z.array(News2ParameterSchema),
  /** Null when any parameter is missing: an incomplete NEWS2 is never shown as a low score. */
  total: z.number().int().min(0).max(20).nullable(),
  /** Sum of the sub-scores that are known. */
  partialTotal: z.number().int().min(0).max(20),
  anySingleParameterThree: z.boolean(),
  risk: z.union([News2RiskSchema, z.literal('incomplete')]),
  /** The band the known sub-scores already reach: missing ones can only raise it. */
  riskAtLeast: News2RiskSchema,
});
export type News2Result = z.infer<typeof News2ResultSchema>;

export const VitalSignsDetailsSchema = z
  .object({ ...storedVitalSignsShape, spo2Scale: Spo2ScaleSchema, news2: News2ResultSchema })
  .superRefine(vitalSignsAreConsistent);
export type VitalSignsDetails = z.infer<typeof VitalSignsDetailsSchema>;

export const VitalSignsRecorded = defineEvent(
  'VitalSignsRecorded',
  z.object({ patientId: PatientIdSchema, ...storedVitalSignsShape, spo2Scale: Spo2ScaleSchema, news2: News2ResultSchema }).superRefine(vitalSignsAreConsistent),
);
export type VitalSignsRecordedData = z.infer<typeof VitalSignsRecorded.schema>;

// ---------------------------------------------------------------------------------------------
// Blood glucose (docs/clinical/reference.md section 2). Version 2 renamed valueMmolL to glucoseMmolL and added
// blood ketones; stored version 1 events are upcast on read, never rewritten.
// ---------------------------------------------------------------------------------------------

export const MealRelationSchema = z.enum(['fasting', 'before-meal', 'after-meal', 'bedtime', 'other']);

const glucoseShape = {
  glucoseMmolL: measurement('blood glucose', 0.5, 50, 'mmol/L', { decimals: 1 }),
  ketonesMmolL: measurement('blood ketones', 0, 10, 'mmol/L', { decimals: 1 }).optional(),
  relationToMeal: MealRelationSchema.optional(),
};

export const BloodGlucoseInputSchema = z.strictObject(glucoseShape);
export const RecordBloodGlucoseSchema = z.strictObject({ ...careCommandShape, ...glucoseShape });
export type RecordBloodGlucose = z.infer<typeof RecordBloodGlucoseSchema>;
export const BloodGlucoseDetailsSchema = z.object(glucoseShape);

/** Version 1 as it was stored: `valueMmolL`, no ketones. Kept to read old events. */
export const BloodGlucoseRecordedV1Schema = z.object({
  patientId: PatientIdSchema,
  valueMmolL: z.number(),
  relationToMeal: MealRelationSchema.optional(),
});

const upcastBloodGlucoseV1 = (data: unknown): unknown => {
  const v1 = BloodGlucoseRecordedV1Schema.safeParse(data);
  if (!v1.success) return data; // leave it for the v2 schema to report
  const { valueMmolL, ...rest } = v1.data;
  return { ...rest, glucoseMmolL: valueMmolL };
};

export const BloodGlucoseRecorded = defineEvent('BloodGlucoseRecorded', z.object({ patientId: PatientIdSchema, ...glucoseShape }), {
  version: 2,
  upcasters: { 1: upcastBloodGlucoseV1 },
});
export type BloodGlucoseRecordedData = z.infer<typeof BloodGlucoseRecorded.schema>;

// ---------------------------------------------------------------------------------------------
// RESTORE2 soft signs, against the person's usual self; emergency signs mean 999 at once.
// ---------------------------------------------------------------------------------------------

const yesNo = (what: string) => z.boolean({ error: `${what}: answer true or false` });

export const SoftSignsSchema = z.object({
  newConfusion: yesNo('new confusion'),
  reducedEatingOrDrinking: yesNo('reduced eating or drinking'),
  breathlessness: yesNo('breathlessness'),
  unsteadiness: yesNo('unsteadiness'),
  distress: yesNo('distress'),
  withdrawal: yesNo('withdrawal'),
  tiredness: yesNo('tiredness'),
});
export const EmergencySignsSchema = z.object({
  chestPain: yesNo('chest pain'),
  strokeSigns: yesNo('stroke signs'),
  prolongedSeizure: yesNo('prolonged seizure'),
  unresponsive: yesNo('unresponsive'),
});

const softSignsShape = { softSigns: SoftSignsSchema, emergencySigns: EmergencySignsSchema };
export const SoftSignsInputSchema = z.strictObject(softSignsShape);
export const RecordSoftSignsSchema = z.strictObject({ ...careCommandShape, ...softSignsShape });
export type RecordSoftSigns = z.infer<typeof RecordSoftSignsSchema>;
export const SoftSignsDetailsSchema = z.object(softSignsShape);

export const SoftSignsRecorded = defineEvent('SoftSignsRecorded', z.object({ patientId: PatientIdSchema, ...softSignsShape }));
export type SoftSignsRecordedData = z.infer<typeof SoftSignsRecorded.schema>;

// ---------------------------------------------------------------------------------------------
// Suspected UTI at 65 and over (UKHSA). Urine dipsticks are not evidence at this age, so there is
// no field for them: a command that sends one is refused with the reason.
// ---------------------------------------------------------------------------------------------

export const UrinarySignsSchema = z.object({
  newDysuria: yesNo('new dysuria'),
  /** 1.5 C above the person's normal (twice in the period the framework sets). */
  temperatureRaised: yesNo('temperature raised'),
  newFrequencyOrUrgency: yesNo('new frequency or urgency'),
  newIncontinence: yesNo('new incontinence'),
  newOrWorseDelirium: yesNo('new or worse delirium'),
  newSuprapubicPain: yesNo('new suprapubic pain'),
  visibleHaematuria: yesNo('visible haematuria'),
});
/** Signs of sepsis or pyelonephritis: urgent escalation. */
export const SepsisOrPyelonephritisSignsSchema = z.object({
  kidneyPain: yesNo('kidney pain'),
  newMyalgia: yesNo('new myalgia'),
  nauseaOrVomiting: yesNo('nausea or vomiting'),
  rigors: yesNo('rigors'),
});
export const CatheterSchema = z
  .object({ inPlace: yesNo('catheter in place'), insertedOn: DateSchema.optional() })
  .refine((c) => c.inPlace || c.insertedOn === undefined, { path: ['insertedOn'], error: 'is only given when a catheter is in place' });

const urinaryShape = { signs: UrinarySignsSchema, sepsisSigns: SepsisOrPyelonephritisSignsSchema, catheter: CatheterSchema };
const noDipstick = {
  dipstick: z
    .never({ error: 'urine dipstick results are not accepted at 65 and over (UKHSA): record the signs and symptoms instead' })
    .optional(),
};
export const UrinarySymptomsInputSchema = z.strictObject({ ...urinaryShape, ...noDipstick });
export const ScreenUrinarySymptomsSchema = z.strictObject({ ...careCommandShape, ...urinaryShape, ...noDipstick });
export type ScreenUrinarySymptoms = z.infer<typeof ScreenUrinarySymptomsSchema>;
export const UrinarySymptomsDetailsSchema = z.object(urinaryShape);

export const UrinarySymptomsScreened = defineEvent('UrinarySymptomsScreened', z.object({ patientId: PatientIdSchema, ...urinaryShape }));
export type UrinarySymptomsScreenedData = z.infer<typeof UrinarySymptomsScreened.schema>;

// ---------------------------------------------------------------------------------------------
// Fluid chart
// ---------------------------------------------------------------------------------------------

const fluidShape = { volumeMl: measurement('volume', 1, 3000, 'ml'), drink: textSchema(100) };
export const FluidIntakeInputSchema = z.strictObject(fluidShape);
export const RecordFluidIntakeSchema = z.strictObject({ ...careCommandShape, ...fluidShape });
export type RecordFluidIntake = z.infer<typeof RecordFluidIntakeSchema>;
export const FluidIntakeDetailsSchema = z.object(fluidShape);

export const FluidIntakeRecorded = defineEvent('FluidIntakeRecorded', z.object({ patientId: PatientIdSchema, ...fluidShape }));
export type FluidIntakeRecordedData = z.infer<typeof FluidIntakeRecorded.schema>;

// ---------------------------------------------------------------------------------------------
// Cellulitis daily check (NICE NG141)
// ---------------------------------------------------------------------------------------------

const cellulitisShape = {
  markedLineDrawn: yesNo('marked line drawn'),
  rednessBeyondMarkedLine: yesNo('redness beyond the marked line'),
  pain: measurement('pain score', 0, 10, ''),
  temperatureC: TemperatureCSchema.optional(),
  limbElevated: yesNo('limb elevated').optional(),
  /** Redness is harder to see on darker skin: the limitation is recorded, not hidden. */
  skinToneLimitsAssessment: yesNo('skin tone limits the assessment'),
};
const lineNeededForSpread = (c: { markedLineDrawn: boolean; rednessBeyondMarkedLine: boolean }, ctx: z.RefinementCtx) => {
  if (c.rednessBeyondMarkedLine && !c.markedLineDrawn) {
    ctx.addIssue({ code: 'custom', path: ['rednessBeyondMarkedLine'], message: 'needs a marked line: record markedLineDrawn true first' });
  }
};
export const CellulitisInputSchema = z.strictObject(cellulitisShape).superRefine(lineNeededForSpread);
export const CheckCellulitisSchema = z.strictObject({ ...careCommandShape, ...cellulitisShape }).superRefine(lineNeededForSpread);
export type CheckCellulitis = z.infer<typeof CheckCellulitisSchema>;
export const CellulitisDetailsSchema = z.object(cellulitisShape).superRefine(lineNeededForSpread);

export const CellulitisChecked = defineEvent(
  'CellulitisChecked',
  z.object({ patientId: PatientIdSchema, ...cellulitisShape }).superRefine(lineNeededForSpread),
);
export type CellulitisCheckedData = z.infer<typeof CellulitisChecked.schema>;

// ---------------------------------------------------------------------------------------------
// Notes
// ---------------------------------------------------------------------------------------------

const noteShape = { text: textSchema(5000) };
export const NoteInputSchema = z.strictObject(noteShape);
export const WriteNoteSchema = z.strictObject({ ...careCommandShape, ...noteShape });
export type WriteNote = z.infer<typeof WriteNoteSchema>;
export const NoteDetailsSchema = z.object(noteShape);

export const NoteWritten = defineEvent('NoteWritten', z.object({ patientId: PatientIdSchema, ...noteShape }));
export type NoteWrittenData = z.infer<typeof NoteWritten.schema>;

export const observationEventDefinitions = [
  VitalSignsRecorded,
  BloodGlucoseRecorded,
  SoftSignsRecorded,
  UrinarySymptomsScreened,
  FluidIntakeRecorded,
  CellulitisChecked,
  NoteWritten,
] as const;
export type ObservationEvent = EventOf<(typeof observationEventDefinitions)[number]>;
