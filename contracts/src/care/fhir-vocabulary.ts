import type { DoseFlag, EntryCorrection } from './current-entries';
import type { DoseUnit, MedicationRoute } from './medication-orders';
import type { NHS_NUMBER_VERIFICATION_STATUSES } from './people';

type NhsNumberVerificationStatus = (typeof NHS_NUMBER_VERIFICATION_STATUSES)[number];

// ---------------------------------------------------------------------------------------------
// The FHIR vocabulary of the care record, in one two-way table: the codes, units and ids the
// projection writes (outbound) and the FHIR write path reads (inbound). A code or unit added here
// is written and accepted alike; one accepted only inbound (an alias another system sends) is
// marked so. Every code is in docs/clinical/reference.md section 7 or justified where it is given.
// ---------------------------------------------------------------------------------------------

export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const UCUM = 'http://unitsofmeasure.org';
/** FHIR's administrative gender (Patient.gender), the system of the Patient `gender` search token. */
export const ADMINISTRATIVE_GENDER = 'http://hl7.org/fhir/administrative-gender';

export interface VocabularyCoding {
  readonly system: string;
  readonly code: string;
  readonly display?: string;
  /** Accepted when sent, never written (another system's code for the same thing). */
  readonly inboundOnly?: true;
}

export interface VocabularyConcept {
  readonly text: string;
  readonly codings: readonly VocabularyCoding[];
}

/** What an Observation's code means here. */
export type ObservationKind = 'pulse' | 'resp' | 'spo2' | 'temp' | 'bp' | 'acvpu' | 'air' | 'oxygen' | 'glucose' | 'ketones' | 'panel' | 'news2';

const concept = (text: string, ...codings: VocabularyCoding[]): VocabularyConcept => ({ text, codings });

/** The Observation codes, by kind: LOINC with the UK Core SNOMED CT codes. */
export const OBSERVATION_VOCABULARY: Readonly<Record<ObservationKind, VocabularyConcept>> = {
  panel: concept('Vital signs', { system: LOINC, code: '85353-1', display: 'Vital signs, weight, height, head circumference, oxygen saturation and BMI panel' }),
  bp: concept(
    'Blood pressure',
    { system: LOINC, code: '85354-9', display: 'Blood pressure panel with all children optional' },
    { system: SNOMED, code: '75367002', display: 'Blood pressure' },
    // "Blood pressure systolic and diastolic": the older panel code some systems still send.
    { system: LOINC, code: '55284-4', inboundOnly: true },
  ),
  pulse: concept('Pulse rate', { system: LOINC, code: '8867-4', display: 'Heart rate' }, { system: SNOMED, code: '364075005', display: 'Heart rate' }),
  resp: concept('Respiration rate', { system: LOINC, code: '9279-1', display: 'Respiratory rate' }, { system: SNOMED, code: '86290005', display: 'Respiratory rate' }),
  spo2: concept(
    'SpO2',
    { system: LOINC, code: '2708-6', display: 'Oxygen saturation in Arterial blood' },
    { system: SNOMED, code: '431314004', display: 'Peripheral oxygen saturation' },
    // Pulse oximetry (peripheral SpO2): what most bedside devices and GP systems send for the same measurement.
    { system: LOINC, code: '59408-5', inboundOnly: true },
  ),
  temp: concept('Body temperature', { system: LOINC, code: '8310-5', display: 'Body temperature' }, { system: SNOMED, code: '276885007', display: 'Core body temperature' }),
  acvpu: concept('ACVPU (level of consciousness)', { system: SNOMED, code: '1104441000000107', display: 'ACVPU (Alert New-confusion Voice Pain Unresponsive) scale score' }),
  /**
   * Air or oxygen: a code-only observation, as the NHS NEWS2 inspired-oxygen guidance and the
   * CareConnect-InspiredOxygen-1 value set do it. 722742002 is in docs/clinical/reference.md;
   * 371825009 "Patient on oxygen" is the other member of that value set.
   */
  air: concept('Breathing room air', { system: SNOMED, code: '722742002', display: 'Breathing room air' }),
  oxygen: concept('Supplemental oxygen', { system: SNOMED, code: '371825009', display: 'Patient on oxygen' }),
  glucose: concept(
    'Capillary blood glucose',
    { system: LOINC, code: '14743-9', display: 'Glucose [Moles/volume] in Capillary blood by Glucometer' },
    { system: SNOMED, code: '997671000000106', display: 'Blood glucose level' },
  ),
  /** No code in docs/clinical/reference.md and none we can vouch for (a urine ketone code would be wrong): text only. */
  ketones: concept('Blood ketones (capillary)'),
  news2: concept('NEWS2 total score', { system: SNOMED, code: '1104051000000101', display: 'Royal College of Physicians NEWS2 (National Early Warning Score 2) total score' }),
};

/** The kinds an inbound coding may mean (one coding, one kind; text-only kinds are never matched). */
export const observationKindsOf = (codings: readonly { system?: string | undefined; code?: string | undefined }[]): Set<ObservationKind> =>
  new Set(
    codings.flatMap((c) =>
      (Object.entries(OBSERVATION_VOCABULARY) as [ObservationKind, VocabularyConcept][]).filter(([, v]) => v.codings.some((k) => k.system === c.system && k.code === c.code)).map(([kind]) => kind),
    ),
  );

/** Components of a blood pressure panel and of air or oxygen. */
export const COMPONENT_VOCABULARY = {
  systolic: concept('Systolic blood pressure', { system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }, { system: SNOMED, code: '72313002', display: 'Systolic arterial pressure' }),
  diastolic: concept('Diastolic blood pressure', { system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }, { system: SNOMED, code: '1091811000000102', display: 'Diastolic arterial pressure' }),
  /** Inhaled oxygen flow rate (LOINC 3151-8, as in the NEWS2 guidance and US Core pulse oximetry). */
  oxygenFlow: concept('Oxygen flow rate', { system: LOINC, code: '3151-8', display: 'Inhaled oxygen flow rate' }),
} as const;

/** The ACVPU answers (docs/clinical/reference.md). */
export const ACVPU_VOCABULARY: Readonly<Record<'A' | 'C' | 'V' | 'P' | 'U', VocabularyConcept>> = {
  A: concept('Alert', { system: SNOMED, code: '248234008', display: 'Mentally alert' }),
  C: concept('New confusion', { system: SNOMED, code: '130987000', display: 'Acute confusion' }),
  V: concept('Responds to voice', { system: SNOMED, code: '300202002', display: 'Responds to voice' }),
  P: concept('Responds to pain', { system: SNOMED, code: '450847001', display: 'Responds to pain' }),
  U: concept('Unresponsive', { system: SNOMED, code: '422768004', display: 'Unresponsive' }),
};

/** A unit: its UCUM code, what the projection writes as `unit`, and every `unit` text accepted inbound. */
export interface VocabularyUnit {
  readonly ucum: string;
  readonly unit: string;
  readonly accepted: readonly string[];
}
const PER_MINUTE = ['/min', 'beats/minute', 'breaths/minute', 'beats/min', 'breaths/min', '/minute', 'per minute'];
/** The `unit` texts written are UK Core's (its vital-signs profiles fix them: docs/decisions/0035); the earlier short forms stay accepted. */
export const UNIT_VOCABULARY = {
  beatsPerMinute: { ucum: '/min', unit: 'per minute', accepted: PER_MINUTE },
  breathsPerMinute: { ucum: '/min', unit: 'per minute', accepted: PER_MINUTE },
  percent: { ucum: '%', unit: 'percent', accepted: ['%', 'percent'] },
  celsius: { ucum: 'Cel', unit: 'degree Celsius', accepted: ['Cel', '°C', 'degree Celsius'] },
  mmHg: { ucum: 'mm[Hg]', unit: 'millimeter of mercury', accepted: ['mm[Hg]', 'mmHg', 'millimeter of mercury'] },
  mmolPerL: { ucum: 'mmol/L', unit: 'millimoles per litre', accepted: ['mmol/L', 'mmol/l', 'millimoles per litre'] },
  litresPerMinute: { ucum: 'L/min', unit: 'L/min', accepted: ['L/min', 'l/min'] },
  millilitres: { ucum: 'mL', unit: 'mL', accepted: ['mL', 'ml'] },
  // UK Core's early warning score profile fixes the UCUM code {ScoreOf}; {score}, written before, stays accepted.
  score: { ucum: '{ScoreOf}', unit: 'score', accepted: ['score', '{score}', '{ScoreOf}'] },
} as const satisfies Readonly<Record<string, VocabularyUnit>>;

/** "Relation to meal": the text the projection writes for each value, and the texts accepted back. */
export const MEAL_RELATION_VOCABULARY = {
  fasting: { text: 'Fasting', accepted: ['fasting'] },
  'before-meal': { text: 'Before a meal', accepted: ['before a meal', 'before-meal'] },
  'after-meal': { text: 'After a meal', accepted: ['after a meal', 'after-meal'] },
  bedtime: { text: 'At bedtime', accepted: ['at bedtime', 'bedtime'] },
  other: { text: 'Other', accepted: ['other'] },
} as const;
export const MEAL_RELATION_COMPONENT_TEXT = 'Relation to meal';

// ---------------------------------------------------------------------------------------------
// UK Core (docs/decisions/0035): the profiles' canonical base, and the Patient's NHS number status.
// ---------------------------------------------------------------------------------------------

export const UK_CORE_PROFILE_BASE = 'https://fhir.hl7.org.uk/StructureDefinition/';
export const UK_CORE_PATIENT_PROFILE = `${UK_CORE_PROFILE_BASE}UKCore-Patient`;
/** The profiles a POSTed or PUT Patient may claim: UK Core's or base R4's (the server declares its own, UK Core's, on what it stores). */
export const ACCEPTED_PATIENT_PROFILES: readonly string[] = [UK_CORE_PATIENT_PROFILE, 'http://hl7.org/fhir/StructureDefinition/Patient'];

export const NHS_NUMBER_VERIFICATION_EXTENSION = `${UK_CORE_PROFILE_BASE}Extension-UKCore-NHSNumberVerificationStatus`;
export const NHS_NUMBER_VERIFICATION_SYSTEM = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland';
/** England's NHS number verification statuses, as the code system displays them. */
export const NHS_NUMBER_VERIFICATION_DISPLAY: Readonly<Record<NhsNumberVerificationStatus, string>> = {
  '01': 'Number present and verified',
  '02': 'Number present but not traced',
  '03': 'Trace required',
  '04': 'Trace attempted - No match or multiple match found',
  '05': 'Trace needs to be resolved - (NHS number or patient detail conflict)',
  '06': 'Trace in progress',
  '07': 'Number not present and trace not required',
  '08': 'Trace postponed (baby under six weeks old)',
};

// ---------------------------------------------------------------------------------------------
// Medication orders (MedicationRequest): the route, the dose's unit and Tandem's time-critical flag.
// ---------------------------------------------------------------------------------------------

/**
 * The routes as written: only subcutaneous is coded (34206005, docs/clinical/reference.md); the
 * others carry their text, since SNOMED CT route codes are UNVERIFIED here (an honest text beats a
 * wrong code). Inbound, a route is read by that code or by this text (any case).
 */
export const MEDICATION_ROUTE_VOCABULARY: Readonly<Record<MedicationRoute, VocabularyConcept>> = {
  oral: concept('Oral'),
  subcutaneous: concept('Subcutaneous', { system: SNOMED, code: '34206005', display: 'Subcutaneous route' }),
  intramuscular: concept('Intramuscular'),
  topical: concept('Topical'),
  transdermal: concept('Transdermal'),
  inhaled: concept('Inhaled'),
  sublingual: concept('Sublingual'),
  buccal: concept('Buccal'),
  rectal: concept('Rectal'),
  eye: concept('Eye'),
  ear: concept('Ear'),
  nasal: concept('Nasal'),
};

/**
 * The UCUM code of a dose unit that has one; a count (tablets, puffs, patches) is its word only.
 * The `unit` shown is always the word in full ("units", never "U" or "IU"), whatever the code.
 */
export const DOSE_UNIT_UCUM: Readonly<Partial<Record<DoseUnit, string>>> = { units: '[iU]', mg: 'mg', microgram: 'ug', g: 'g', ml: 'mL' };

/** Tandem's extension on a MedicationRequest: a time-critical medicine (insulin, Parkinson's): a late dose is noticed sooner. */
export const TIME_CRITICAL_EXTENSION = 'https://tandem.nhs.example/fhir/StructureDefinition/time-critical-medicine';

/** A PRN order's most doses in 24 hours (MedicationRequest.dosageInstruction.maxDosePerPeriod): the numerator's unit. */
export const MAX_DOSES_UNIT = 'doses';

/** The note each change of an order, an allergy or a condition writes on its resource (so the write path knows it as the server's). */
export const orderChangeNote = (reason: string): string => `Changed: ${reason}`;

// ---------------------------------------------------------------------------------------------
// Resource ids: an entry's own resource is `<entryId>`; its other Observations `<entryId>-<suffix>`.
// ---------------------------------------------------------------------------------------------

/** The members of a vital signs entry, by suffix, and the RecordVitalSigns fields each holds (NEWS2 is derived: none). */
export const VITAL_SIGN_MEMBER_FIELDS = {
  resp: ['respirationRate'],
  spo2: ['spo2'],
  air: ['airOrOxygen', 'oxygenFlowLPerMin'],
  bp: ['systolic', 'diastolic'],
  pulse: ['pulse'],
  acvpu: ['consciousness'],
  temp: ['temperatureC'],
  news2: [],
} as const;
export type VitalSignMember = keyof typeof VITAL_SIGN_MEMBER_FIELDS;
/** The members in the order the projection writes them. */
export const VITAL_SIGN_MEMBERS = Object.keys(VITAL_SIGN_MEMBER_FIELDS) as VitalSignMember[];
/** Every suffix an entry's other Observations may have. */
export const ENTRY_MEMBER_SUFFIXES = [...VITAL_SIGN_MEMBERS, 'ketones'] as const;
export type EntryMemberSuffix = (typeof ENTRY_MEMBER_SUFFIXES)[number];

export const entryResourceId = (entryId: string, suffix?: EntryMemberSuffix): string => (suffix ? `${entryId}-${suffix}` : entryId);

const ENTRY_RESOURCE_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:-([a-z0-9]+))?$/;
/** An entry resource's id read back: the entry, and the member suffix when it is one of ours; undefined otherwise. */
export const parseEntryResourceId = (id: string): { entryId: string; suffix?: EntryMemberSuffix } | undefined => {
  const match = ENTRY_RESOURCE_ID.exec(id);
  if (!match) return undefined;
  const suffix = match[2];
  if (suffix === undefined) return { entryId: match[1]! };
  return (ENTRY_MEMBER_SUFFIXES as readonly string[]).includes(suffix) ? { entryId: match[1]!, suffix: suffix as EntryMemberSuffix } : undefined;
};

// ---------------------------------------------------------------------------------------------
// The notes the projection writes on an entry's resources: the write path knows them as the
// server's, so the note a client adds (a correction's reason) is the one not among them.
// ---------------------------------------------------------------------------------------------

export const CONFIRMED_NOT_DUPLICATE_NOTE = 'The person giving it confirmed this is not a dose already recorded.';

export const correctionNote = (correction: Pick<EntryCorrection, 'kind' | 'reason'>): string =>
  correction.kind === 'amended' ? `Amended: ${correction.reason}` : `Entered in error: ${correction.reason}`;

/** On a member an amendment took out (a measurement no longer in the entry). */
export const removedMemberNote = (reason: string): string => `Removed by an amendment of the entry: ${reason}`;

export const doseFlagNote = (flag: DoseFlag): string => {
  switch (flag.type) {
    case 'DoseInsideMinimumIntervalFlagged': {
      const d = flag.data;
      return (
        `Confirmed as a separate dose, given inside the minimum interval: ${Math.round(d.minutesApart)} minutes from the dose of ${d.product} ` +
        `recorded at ${d.previousDoseOccurredAt} (minimum interval ${d.minimumIntervalMinutes} minutes). Flagged for the delegating nurse.`
      );
    }
    case 'DoseOutsideInstructionFlagged': {
      const d = flag.data;
      return `Given differently from the instruction of delegation ${d.delegationId}, confirmed by the person giving it: ${d.differences.map((x) => `${x.field} ${x.given} where the instruction says ${x.instructed}`).join('; ')}. Flagged for the delegating nurse.`;
    }
    case 'UnknownInsulinProductFlagged':
      return `Recorded as "${flag.data.product}", an insulin this record does not know, after the person confirmed it: not checked for a duplicate, the minimum interval or the instruction. Flagged as an incident for the delegating nurse.`;
  }
};

/** The quality indicators as FHIR Measure and MeasureReport (issue 15; docs/decisions/0032): the canonical base and the code systems they use. */
export const MEASURE_CANONICAL_BASE = 'https://tandem.nhs.example/fhir/Measure';
export const MEASURE_SCORING_SYSTEM = 'http://terminology.hl7.org/CodeSystem/measure-scoring';
export const MEASURE_POPULATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/measure-population';
export const MEASURE_IMPROVEMENT_SYSTEM = 'http://terminology.hl7.org/CodeSystem/measure-improvement-notation';
/** The second figure of the escalations indicator (a group of its own in the MeasureReport). */
export const MEDIAN_MINUTES_TO_ACKNOWLEDGE_CODE = { system: 'https://tandem.nhs.example/fhir/CodeSystem/quality-figures', code: 'median-minutes-to-acknowledge', display: 'Median minutes to acknowledge' } as const;

// --- capacity (issue 15; docs/decisions/0037) -------------------------------------------------
/** The Measure a provider's weekly capacity report is of (MeasureReport.measure), and the codes of its figures (each a group). */
export const CAPACITY_MEASURE = 'https://tandem.nhs.example/fhir/Measure/home-care-capacity';
export const CAPACITY_FIGURE_SYSTEM = 'https://tandem.nhs.example/fhir/CodeSystem/capacity-figures';
/** The delegated activity a PractitionerRole offers (the delegation framework's id, e.g. insulin-administration). */
export const DELEGATED_ACTIVITY_SYSTEM = 'https://tandem.nhs.example/fhir/CodeSystem/delegation-framework';
/** A care worker's free hours in the part of the week she is offered for (PractitionerRole extension, valueQuantity in hours). */
export const FREE_HOURS_EXTENSION = 'https://tandem.nhs.example/fhir/StructureDefinition/free-hours-this-week';
