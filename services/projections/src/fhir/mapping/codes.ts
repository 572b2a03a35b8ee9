import type { CodeableConcept, Coding, Quantity } from 'fhir/r4';
import {
  ACVPU_VOCABULARY,
  COMPONENT_VOCABULARY,
  LOINC,
  MEDICATION_ROUTE_VOCABULARY,
  NHS_NUMBER_SYSTEM,
  OBSERVATION_VOCABULARY,
  SNOMED,
  UCUM,
  UNIT_VOCABULARY,
  type VocabularyConcept,
  type VocabularyUnit,
} from '@tandem/contracts';

/**
 * Code systems and codes the FHIR projection writes. The care record's codes and units come from
 * the contracts' two-way table (fhir-vocabulary.ts), which the FHIR write path reads too, so what
 * is written and what is accepted back cannot drift apart. Every other code here is either in
 * docs/clinical/reference.md section 7 or justified where it is defined; where no code is
 * certain, a resource carries `code.text` only (an honest text beats a wrong code).
 */

export { LOINC, SNOMED, UCUM };
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const DATA_ABSENT_REASON = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
export { NHS_NUMBER_SYSTEM };
export const ODS_ORGANISATION_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

/** Tandem's own extensions. */
export const LATE_ENTRY_EXTENSION = 'https://tandem.nhs.example/fhir/StructureDefinition/late-entry';
export const BASELINE_EXTENSION = 'https://tandem.nhs.example/fhir/StructureDefinition/patient-baseline';
/** A visit's planned tasks (Appointment) and how late the care worker arrived (Encounter): issue 13. */
export { VISIT_ENCOUNTER_CLASS, VISIT_LATE_EXTENSION, VISIT_TASK_OUTCOME_EXTENSION, VISIT_TASKS_EXTENSION, VISIT_UNRECORDED_DOSES_REASON_EXTENSION } from '@tandem/contracts';

/** Who a Tandem user is (the token's `sub`) and their role, as AuditEvent and Provenance name them. */
export const USER_ID = 'https://tandem.nhs.example/Id/user';
export const USER_ROLE = 'https://tandem.nhs.example/fhir/CodeSystem/user-role';

/** NMC Code 10.1: an entry written more than this long after the event is marked late. */
export const LATE_ENTRY_MINUTES = 60;

export const coding = (system: string, code: string, display?: string): Coding => (display ? { system, code, display } : { system, code });

export const concept = (text: string, ...codings: Coding[]): CodeableConcept => (codings.length ? { coding: codings, text } : { text });

/** A concept of the vocabulary as written: its codings (not those only accepted inbound) and its text. */
export const written = (v: VocabularyConcept): CodeableConcept => concept(v.text, ...v.codings.filter((c) => !c.inboundOnly).map((c) => coding(c.system, c.code, c.display)));

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

export const VITAL_SIGNS_PANEL = written(OBSERVATION_VOCABULARY.panel);
export const BLOOD_PRESSURE_PANEL = written(OBSERVATION_VOCABULARY.bp);
export const SYSTOLIC = written(COMPONENT_VOCABULARY.systolic);
export const DIASTOLIC = written(COMPONENT_VOCABULARY.diastolic);
export const HEART_RATE = written(OBSERVATION_VOCABULARY.pulse);
export const RESPIRATORY_RATE = written(OBSERVATION_VOCABULARY.resp);
export const OXYGEN_SATURATION = written(OBSERVATION_VOCABULARY.spo2);
export const BODY_TEMPERATURE = written(OBSERVATION_VOCABULARY.temp);

/** ACVPU (docs/clinical/reference.md): the question and its five answers. */
export const ACVPU = written(OBSERVATION_VOCABULARY.acvpu);
export const ACVPU_ANSWERS: Record<'A' | 'C' | 'V' | 'P' | 'U', CodeableConcept> = {
  A: written(ACVPU_VOCABULARY.A),
  C: written(ACVPU_VOCABULARY.C),
  V: written(ACVPU_VOCABULARY.V),
  P: written(ACVPU_VOCABULARY.P),
  U: written(ACVPU_VOCABULARY.U),
};

/** Air or oxygen: a code-only observation (the vocabulary says why these codes). */
export const BREATHING_ROOM_AIR = written(OBSERVATION_VOCABULARY.air);
export const PATIENT_ON_OXYGEN = written(OBSERVATION_VOCABULARY.oxygen);

/** NEWS2 total (docs/clinical/reference.md) and the UK Core sub-score codes. */
export const NEWS2_TOTAL = written(OBSERVATION_VOCABULARY.news2);
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

export const CAPILLARY_BLOOD_GLUCOSE = written(OBSERVATION_VOCABULARY.glucose);
export const BLOOD_KETONES = written(OBSERVATION_VOCABULARY.ketones);
export const RESTORE2_SOFT_SIGNS = concept('RESTORE2 soft signs');
export const URINARY_SYMPTOMS_SCREEN = concept('Urinary symptoms screen (suspected UTI, 65 and over)');
export const FLUID_INTAKE = concept('Oral fluid intake');
export const CELLULITIS_CHECK = concept('Cellulitis check (marked area)');
export const CARE_NOTE = concept('Care note');

export const OXYGEN_FLOW_RATE = written(COMPONENT_VOCABULARY.oxygenFlow);

// ---------------------------------------------------------------------------------------------
// Quantities (UCUM)
// ---------------------------------------------------------------------------------------------

export const ucum = (value: number, unit: string, code: string): Quantity => ({ value, unit, system: UCUM, code });
const quantityIn = (u: VocabularyUnit) => (value: number) => ucum(value, u.unit, u.ucum);

export const Units = {
  perMinute: (value: number, what: 'beats' | 'breaths') => quantityIn(what === 'beats' ? UNIT_VOCABULARY.beatsPerMinute : UNIT_VOCABULARY.breathsPerMinute)(value),
  percent: quantityIn(UNIT_VOCABULARY.percent),
  mmHg: quantityIn(UNIT_VOCABULARY.mmHg),
  celsius: quantityIn(UNIT_VOCABULARY.celsius),
  mmolPerL: quantityIn(UNIT_VOCABULARY.mmolPerL),
  millilitres: quantityIn(UNIT_VOCABULARY.millilitres),
  litresPerMinute: quantityIn(UNIT_VOCABULARY.litresPerMinute),
  score: quantityIn(UNIT_VOCABULARY.score),
};

/**
 * An insulin dose. Never Event (docs/clinical/reference.md section 2): the human-readable unit is always the
 * word "units", never "U" or "IU". UCUM's `[iU]` appears only as the machine code, for systems that
 * convert units; anything shown to a person reads `unit`.
 */
export const insulinDose = (value: number): Quantity => ({ value, unit: 'units', system: UCUM, code: '[iU]' });

export const SUBCUTANEOUS_ROUTE = written(MEDICATION_ROUTE_VOCABULARY.subcutaneous);

// ---------------------------------------------------------------------------------------------
// Data absent
// ---------------------------------------------------------------------------------------------

export const dataAbsent = (code: 'unknown' | 'not-performed', text: string): CodeableConcept => ({
  coding: [coding(DATA_ABSENT_REASON, code, code === 'unknown' ? 'Unknown' : 'Not Performed')],
  text,
});
