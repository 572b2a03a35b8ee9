import type { CodeableConcept, Coding, Quantity } from 'fhir/r4';
import { NHS_NUMBER_SYSTEM } from '@tandem/contracts';

/**
 * Code systems and codes the FHIR projection writes. Every code here is either in
 * docs/clinical/reference.md section 7 or justified where it is defined; where no code is
 * certain, a resource carries `code.text` only (an honest text beats a wrong code).
 */

export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const UCUM = 'http://unitsofmeasure.org';
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const DATA_ABSENT_REASON = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
export { NHS_NUMBER_SYSTEM };
export const ODS_ORGANISATION_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

/** Tandem's own extensions. */
export const LATE_ENTRY_EXTENSION = 'https://tandem.nhs.example/fhir/StructureDefinition/late-entry';
export const BASELINE_EXTENSION = 'https://tandem.nhs.example/fhir/StructureDefinition/patient-baseline';

/** Who a Tandem user is (the token's `sub`) and their role, as AuditEvent and Provenance name them. */
export const USER_ID = 'https://tandem.nhs.example/Id/user';
export const USER_ROLE = 'https://tandem.nhs.example/fhir/CodeSystem/user-role';

/** NMC Code 10.1: an entry written more than this long after the event is marked late. */
export const LATE_ENTRY_MINUTES = 60;

export const coding = (system: string, code: string, display?: string): Coding => (display ? { system, code, display } : { system, code });

export const concept = (text: string, ...codings: Coding[]): CodeableConcept => (codings.length ? { coding: codings, text } : { text });

// ---------------------------------------------------------------------------------------------
// Observation categories
// ---------------------------------------------------------------------------------------------

export type ObservationCategoryCode = 'vital-signs' | 'laboratory' | 'survey' | 'exam';

const CATEGORY_DISPLAY: Record<ObservationCategoryCode, string> = {
  'vital-signs': 'Vital Signs',
  laboratory: 'Laboratory',
  survey: 'Survey',
  exam: 'Exam',
};

export const category = (code: ObservationCategoryCode): CodeableConcept => ({
  coding: [coding(OBSERVATION_CATEGORY, code, CATEGORY_DISPLAY[code])],
});

// ---------------------------------------------------------------------------------------------
// Vital signs (docs/clinical/reference.md section 7: LOINC + SNOMED CT + UCUM)
// ---------------------------------------------------------------------------------------------

export const VITAL_SIGNS_PANEL = concept('Vital signs', coding(LOINC, '85353-1', 'Vital signs, weight, height, head circumference, oxygen saturation and BMI panel'));
export const BLOOD_PRESSURE_PANEL = concept(
  'Blood pressure',
  coding(LOINC, '85354-9', 'Blood pressure panel with all children optional'),
  coding(SNOMED, '75367002', 'Blood pressure'),
);
export const SYSTOLIC = concept('Systolic blood pressure', coding(LOINC, '8480-6', 'Systolic blood pressure'), coding(SNOMED, '72313002', 'Systolic arterial pressure'));
export const DIASTOLIC = concept('Diastolic blood pressure', coding(LOINC, '8462-4', 'Diastolic blood pressure'), coding(SNOMED, '1091811000000102', 'Diastolic arterial pressure'));
export const HEART_RATE = concept('Pulse rate', coding(LOINC, '8867-4', 'Heart rate'), coding(SNOMED, '364075005', 'Heart rate'));
export const RESPIRATORY_RATE = concept('Respiration rate', coding(LOINC, '9279-1', 'Respiratory rate'), coding(SNOMED, '86290005', 'Respiratory rate'));
export const OXYGEN_SATURATION = concept('SpO2', coding(LOINC, '2708-6', 'Oxygen saturation in Arterial blood'), coding(SNOMED, '431314004', 'Peripheral oxygen saturation'));
export const BODY_TEMPERATURE = concept('Body temperature', coding(LOINC, '8310-5', 'Body temperature'), coding(SNOMED, '276885007', 'Core body temperature'));

/** ACVPU (docs/clinical/reference.md): the question and its five answers. */
export const ACVPU = concept('ACVPU (level of consciousness)', coding(SNOMED, '1104441000000107', 'ACVPU (Alert New-confusion Voice Pain Unresponsive) scale score'));
export const ACVPU_ANSWERS: Record<'A' | 'C' | 'V' | 'P' | 'U', CodeableConcept> = {
  A: concept('Alert', coding(SNOMED, '248234008', 'Mentally alert')),
  C: concept('New confusion', coding(SNOMED, '130987000', 'Acute confusion')),
  V: concept('Responds to voice', coding(SNOMED, '300202002', 'Responds to voice')),
  P: concept('Responds to pain', coding(SNOMED, '450847001', 'Responds to pain')),
  U: concept('Unresponsive', coding(SNOMED, '422768004', 'Unresponsive')),
};

/**
 * Air or oxygen: a code-only observation, as the NHS NEWS2 inspired-oxygen guidance and the
 * CareConnect-InspiredOxygen-1 value set do it. 722742002 is in docs/clinical/reference.md; 371825009 "Patient on
 * oxygen" is the other member of that value set (docs/clinical/reference.md is silent on it).
 */
export const BREATHING_ROOM_AIR = concept('Breathing room air', coding(SNOMED, '722742002', 'Breathing room air'));
export const PATIENT_ON_OXYGEN = concept('Supplemental oxygen', coding(SNOMED, '371825009', 'Patient on oxygen'));

/** NEWS2 total (docs/clinical/reference.md) and the UK Core sub-score codes. */
export const NEWS2_TOTAL = concept('NEWS2 total score', coding(SNOMED, '1104051000000101', 'Royal College of Physicians NEWS2 (National Early Warning Score 2) total score'));
export const NEWS2_SUBSCORES = {
  respirationRate: concept('NEWS2 respiration rate score', coding(SNOMED, '1104301000000104')),
  spo2Scale1: concept('NEWS2 SpO2 scale 1 score', coding(SNOMED, '1104311000000102')),
  spo2Scale2: concept('NEWS2 SpO2 scale 2 score', coding(SNOMED, '1104321000000108')),
  airOrOxygen: concept('NEWS2 air or oxygen score', coding(SNOMED, '1104331000000105')),
  systolic: concept('NEWS2 systolic blood pressure score', coding(SNOMED, '1104341000000101')),
  pulse: concept('NEWS2 pulse score', coding(SNOMED, '1104351000000103')),
  consciousness: concept('NEWS2 consciousness score', coding(SNOMED, '1104361000000100')),
  temperatureC: concept('NEWS2 temperature score', coding(SNOMED, '1104371000000107')),
} as const;

// ---------------------------------------------------------------------------------------------
// Other observations
// ---------------------------------------------------------------------------------------------

export const CAPILLARY_BLOOD_GLUCOSE = concept(
  'Capillary blood glucose',
  coding(LOINC, '14743-9', 'Glucose [Moles/volume] in Capillary blood by Glucometer'),
  coding(SNOMED, '997671000000106', 'Blood glucose level'),
);
/** No code in docs/clinical/reference.md and none we can vouch for (a urine ketone code would be wrong): text only. */
export const BLOOD_KETONES = concept('Blood ketones (capillary)');
export const RESTORE2_SOFT_SIGNS = concept('RESTORE2 soft signs');
export const URINARY_SYMPTOMS_SCREEN = concept('Urinary symptoms screen (suspected UTI, 65 and over)');
export const FLUID_INTAKE = concept('Oral fluid intake');
export const CELLULITIS_CHECK = concept('Cellulitis check (marked area)');
export const CARE_NOTE = concept('Care note');

/** Inhaled oxygen flow rate (LOINC 3151-8, as in the NEWS2 guidance and US Core pulse oximetry). */
export const OXYGEN_FLOW_RATE = concept('Oxygen flow rate', coding(LOINC, '3151-8', 'Inhaled oxygen flow rate'));

// ---------------------------------------------------------------------------------------------
// Quantities (UCUM)
// ---------------------------------------------------------------------------------------------

export const ucum = (value: number, unit: string, code: string): Quantity => ({ value, unit, system: UCUM, code });

export const Units = {
  perMinute: (value: number, what: 'beats' | 'breaths') => ucum(value, `${what}/minute`, '/min'),
  percent: (value: number) => ucum(value, '%', '%'),
  mmHg: (value: number) => ucum(value, 'mmHg', 'mm[Hg]'),
  celsius: (value: number) => ucum(value, '°C', 'Cel'),
  mmolPerL: (value: number) => ucum(value, 'mmol/L', 'mmol/L'),
  millilitres: (value: number) => ucum(value, 'mL', 'mL'),
  litresPerMinute: (value: number) => ucum(value, 'L/min', 'L/min'),
  score: (value: number) => ucum(value, 'score', '{score}'),
};

/**
 * An insulin dose. Never Event (docs/clinical/reference.md section 2): the human-readable unit is always the
 * word "units", never "U" or "IU". UCUM's `[iU]` appears only as the machine code, for systems that
 * convert units; anything shown to a person reads `unit`.
 */
export const insulinDose = (value: number): Quantity => ({ value, unit: 'units', system: UCUM, code: '[iU]' });

export const SUBCUTANEOUS_ROUTE = concept('Subcutaneous', coding(SNOMED, '34206005', 'Subcutaneous route'));

// ---------------------------------------------------------------------------------------------
// Data absent
// ---------------------------------------------------------------------------------------------

export const dataAbsent = (code: 'unknown' | 'not-performed', text: string): CodeableConcept => ({
  coding: [coding(DATA_ABSENT_REASON, code, code === 'unknown' ? 'Unknown' : 'Not Performed')],
  text,
});
