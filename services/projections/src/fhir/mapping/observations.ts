import {
  correctionNote,
  ENTRY_MEMBER_SUFFIXES,
  entryResourceId,
  MEAL_RELATION_COMPONENT_TEXT,
  MEAL_RELATION_VOCABULARY,
  VITAL_SIGN_MEMBERS,
  type EntryMemberSuffix,
  removedMemberNote,
  type CorrectableEntryType,
  type News2Parameter,
  type News2Result,
  type Replacement,
  type SoftSignsRecordedData,
  type UrinarySymptomsScreenedData,
} from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import type { Annotation, CodeableConcept, Extension, Observation, ObservationComponent, Reference } from 'fhir/r4';
import { tokenKeys } from '@tandem/fhir-read-model';
import type { EntryChange, ProjectedEntry } from '../entries';
import type { IndexedResource } from '../writer';
import {
  ACVPU,
  ACVPU_ANSWERS,
  BLOOD_KETONES,
  BLOOD_PRESSURE_PANEL,
  BODY_TEMPERATURE,
  BREATHING_ROOM_AIR,
  CAPILLARY_BLOOD_GLUCOSE,
  CARE_NOTE,
  category,
  CELLULITIS_CHECK,
  dataAbsent,
  DIASTOLIC,
  FLUID_INTAKE,
  HEART_RATE,
  NEWS2_SUBSCORES,
  NEWS2_TOTAL,
  OXYGEN_FLOW_RATE,
  OXYGEN_SATURATION,
  PATIENT_ON_OXYGEN,
  RESPIRATORY_RATE,
  RESTORE2_SOFT_SIGNS,
  SYSTOLIC,
  Units,
  URINARY_SYMPTOMS_SCREEN,
  VITAL_SIGNS_PANEL,
  type ObservationCategoryCode,
} from './codes';
import { compact, fhirDateTime, lateEntryExtension, noteBy, patientRef, practitionerRef, type FhirHandlers } from './common';

/** The correctable entries recorded as Observations (the rest are MedicationAdministrations). */
export const OBSERVATION_ENTRY_TYPES = [
  'VitalSignsRecorded',
  'BloodGlucoseRecorded',
  'SoftSignsRecorded',
  'UrinarySymptomsScreened',
  'FluidIntakeRecorded',
  'CellulitisChecked',
  'NoteWritten',
] as const satisfies readonly CorrectableEntryType[];
export type ObservationEntryType = (typeof OBSERVATION_ENTRY_TYPES)[number];

export const isObservationEntryType = (type: string): type is ObservationEntryType => (OBSERVATION_ENTRY_TYPES as readonly string[]).includes(type);

/** An entry's details: what an original event holds, without the patient id (as a replacement holds it). */
type EntryDetails = { [T in ObservationEntryType]: { type: T; data: Extract<Replacement, { type: T }>['data'] } }[ObservationEntryType];

type ObservationWithId = Observation & { id: string };

/** What every Observation of one entry shares: who, when, status, and the trail of corrections. */
interface EntryContext {
  readonly entryId: string;
  readonly patientId: string;
  readonly effective: string;
  readonly issued: string;
  readonly status: 'final' | 'amended' | 'entered-in-error';
  readonly performer: Reference[];
  readonly extension?: Extension[];
  readonly note?: Annotation[];
}

/** Member ids of a vital signs entry (`<entryId>-<suffix>`): the contracts' vocabulary, which the FHIR write path reads back. */
export { VITAL_SIGN_MEMBERS };
type MemberSuffix = EntryMemberSuffix;

/** The ids an entry's Observations may have: the entry's own first, then its members'. */
export const entryObservationIds = (entryId: string): string[] => [entryResourceId(entryId), ...ENTRY_MEMBER_SUFFIXES.map((suffix) => entryResourceId(entryId, suffix))];

const observation = (
  ctx: EntryContext,
  suffix: MemberSuffix | undefined,
  categories: readonly ObservationCategoryCode[],
  code: CodeableConcept,
  rest: Partial<Observation>,
): ObservationWithId =>
  compact({
    resourceType: 'Observation' as const,
    id: entryResourceId(ctx.entryId, suffix),
    extension: ctx.extension?.length ? ctx.extension : undefined,
    status: ctx.status,
    category: categories.length ? categories.map(category) : undefined,
    code,
    subject: patientRef(ctx.patientId),
    effectiveDateTime: ctx.effective,
    issued: ctx.issued,
    performer: ctx.performer,
    ...rest,
    note: ctx.note?.length ? ctx.note : undefined,
  });

const component = (code: CodeableConcept, value: Partial<ObservationComponent>): ObservationComponent => ({ code, ...value });
const yesNo = (text: string, value: boolean): ObservationComponent => component({ text }, { valueBoolean: value });

// ---------------------------------------------------------------------------------------------
// Vital signs and NEWS2
// ---------------------------------------------------------------------------------------------

const PARAMETER_TEXT: Record<News2Parameter, string> = {
  respirationRate: 'respiration rate',
  spo2: 'SpO2',
  airOrOxygen: 'air or oxygen',
  systolic: 'systolic blood pressure',
  pulse: 'pulse',
  consciousness: 'consciousness (ACVPU)',
  temperatureC: 'temperature',
};

const RISK_TEXT = {
  low: 'low clinical risk',
  'low-medium': 'low-medium clinical risk (a score of 3 in one parameter): urgent clinical review',
  medium: 'medium clinical risk: urgent response',
  high: 'high clinical risk: emergency response',
} as const;

/** NEWS2 incomplete: no value at all (never a low score), and what is missing, in words. */
const news2Interpretation = (news2: News2Result): string => {
  if (news2.total !== null && news2.risk !== 'incomplete') return `NEWS2 ${news2.total}: ${RISK_TEXT[news2.risk]}`;
  const missing = news2.missing.map((p) => PARAMETER_TEXT[p]).join(', ');
  return news2.riskAtLeast === 'low'
    ? `NEWS2 incomplete (missing ${missing}): not a score; do not read it as low, the missing parameters could raise it`
    : `NEWS2 incomplete (missing ${missing}): not a score; the recorded parameters already reach ${RISK_TEXT[news2.riskAtLeast]}, and the missing ones could raise it`;
};

const news2Observation = (ctx: EntryContext, v: Extract<EntryDetails, { type: 'VitalSignsRecorded' }>['data'], measured: Reference[]): ObservationWithId => {
  const { news2 } = v;
  const sub = news2.subScores;
  const subScore = (code: CodeableConcept, score: number | null): ObservationComponent =>
    // UK Core's early warning score profile has each sub-score a Quantity in {ScoreOf}.
    score === null ? component(code, { dataAbsentReason: dataAbsent('unknown', 'Not scored: the measurement was not recorded') }) : component(code, { valueQuantity: Units.score(score) });
  const complete = news2.total !== null && news2.missing.length === 0;
  return observation(ctx, 'news2', ['survey'], NEWS2_TOTAL, {
    ...(complete
      ? { valueQuantity: Units.score(news2.total as number) }
      : { dataAbsentReason: dataAbsent('unknown', `NEWS2 incomplete: missing ${news2.missing.map((p) => PARAMETER_TEXT[p]).join(', ')}`) }),
    interpretation: [{ text: news2Interpretation(news2) }],
    component: [
      subScore(NEWS2_SUBSCORES.respirationRate, sub.respirationRate),
      subScore(v.spo2Scale === 2 ? NEWS2_SUBSCORES.spo2Scale2 : NEWS2_SUBSCORES.spo2Scale1, sub.spo2),
      subScore(NEWS2_SUBSCORES.airOrOxygen, sub.airOrOxygen),
      subScore(NEWS2_SUBSCORES.systolic, sub.systolic),
      subScore(NEWS2_SUBSCORES.pulse, sub.pulse),
      subScore(NEWS2_SUBSCORES.consciousness, sub.consciousness),
      subScore(NEWS2_SUBSCORES.temperatureC, sub.temperatureC),
    ],
    ...(measured.length ? { derivedFrom: measured } : {}),
  });
};

const vitalSigns = (ctx: EntryContext, v: Extract<EntryDetails, { type: 'VitalSignsRecorded' }>['data']): ObservationWithId[] => {
  const vital = (suffix: MemberSuffix, code: CodeableConcept, rest: Partial<Observation>) => observation(ctx, suffix, ['vital-signs'], code, rest);
  // Air or oxygen is a code-only finding (UK Core's InspiredOxygen, as its NEWS2 example writes it), not a
  // vital-signs measurement: under the vital-signs category it broke vs-2 (a value or a dataAbsentReason).
  const inspired = (code: CodeableConcept, rest: Partial<Observation>) => observation(ctx, 'air', [], code, rest);
  const members: ObservationWithId[] = [];
  if (v.respirationRate !== undefined) members.push(vital('resp', RESPIRATORY_RATE, { valueQuantity: Units.perMinute(v.respirationRate, 'breaths') }));
  if (v.spo2 !== undefined) members.push(vital('spo2', OXYGEN_SATURATION, { valueQuantity: Units.percent(v.spo2) }));
  if (v.airOrOxygen === 'air') members.push(inspired(BREATHING_ROOM_AIR, {}));
  if (v.airOrOxygen === 'oxygen') {
    members.push(
      inspired(PATIENT_ON_OXYGEN, v.oxygenFlowLPerMin !== undefined ? { component: [component(OXYGEN_FLOW_RATE, { valueQuantity: Units.litresPerMinute(v.oxygenFlowLPerMin) })] } : {}),
    );
  }
  if (v.systolic !== undefined || v.diastolic !== undefined) {
    const part = (code: CodeableConcept, value: number | undefined) =>
      component(code, value === undefined ? { dataAbsentReason: dataAbsent('not-performed', 'Not recorded') } : { valueQuantity: Units.mmHg(value) });
    members.push(vital('bp', BLOOD_PRESSURE_PANEL, { component: [part(SYSTOLIC, v.systolic), part(DIASTOLIC, v.diastolic)] }));
  }
  if (v.pulse !== undefined) members.push(vital('pulse', HEART_RATE, { valueQuantity: Units.perMinute(v.pulse, 'beats') }));
  if (v.consciousness !== undefined) members.push(vital('acvpu', ACVPU, { valueCodeableConcept: ACVPU_ANSWERS[v.consciousness] }));
  if (v.temperatureC !== undefined) members.push(vital('temp', BODY_TEMPERATURE, { valueQuantity: Units.celsius(v.temperatureC) }));
  const measured = members.map((m) => ({ reference: `Observation/${m.id}` }));
  const news2 = news2Observation(ctx, v, measured);
  const panel = observation(ctx, undefined, ['vital-signs'], VITAL_SIGNS_PANEL, { hasMember: [...measured, { reference: `Observation/${news2.id}` }] });
  return [panel, ...members, news2];
};

// ---------------------------------------------------------------------------------------------
// Glucose, RESTORE2 soft signs, urinary screen, fluids, cellulitis, notes
// ---------------------------------------------------------------------------------------------


const bloodGlucose = (ctx: EntryContext, g: Extract<EntryDetails, { type: 'BloodGlucoseRecorded' }>['data']): ObservationWithId[] => {
  const meal = g.relationToMeal ? [component({ text: MEAL_RELATION_COMPONENT_TEXT }, { valueCodeableConcept: { text: MEAL_RELATION_VOCABULARY[g.relationToMeal].text } })] : undefined;
  // `exam`, not `laboratory`: R4's laboratory category is analysis of a specimen sent to a laboratory; a
  // capillary reading on the carer's meter is a direct observation with a simple instrument (docs/decisions/0035).
  const glucose = observation(ctx, undefined, ['exam'], CAPILLARY_BLOOD_GLUCOSE, {
    valueQuantity: Units.mmolPerL(g.glucoseMmolL),
    ...(meal ? { component: meal } : {}),
  });
  if (g.ketonesMmolL === undefined) return [glucose];
  return [glucose, observation(ctx, 'ketones', ['exam'], BLOOD_KETONES, { valueQuantity: Units.mmolPerL(g.ketonesMmolL), derivedFrom: [{ reference: `Observation/${glucose.id}` }] })];
};

const SOFT_SIGN_TEXT: Record<keyof SoftSignsRecordedData['softSigns'], string> = {
  newConfusion: 'new confusion',
  reducedEatingOrDrinking: 'reduced eating or drinking',
  breathlessness: 'breathlessness',
  unsteadiness: 'unsteadiness',
  distress: 'distress',
  withdrawal: 'withdrawal',
  tiredness: 'tiredness',
};
const EMERGENCY_SIGN_TEXT: Record<keyof SoftSignsRecordedData['emergencySigns'], string> = {
  chestPain: 'chest pain',
  strokeSigns: 'signs of stroke',
  prolongedSeizure: 'prolonged seizure',
  unresponsive: 'unresponsive',
};

const softSigns = (ctx: EntryContext, s: Extract<EntryDetails, { type: 'SoftSignsRecorded' }>['data']): ObservationWithId[] => [
  observation(ctx, undefined, ['survey'], RESTORE2_SOFT_SIGNS, {
    component: [
      ...Object.entries(SOFT_SIGN_TEXT).map(([key, text]) => yesNo(`Soft sign: ${text}`, s.softSigns[key as keyof typeof SOFT_SIGN_TEXT])),
      ...Object.entries(EMERGENCY_SIGN_TEXT).map(([key, text]) => yesNo(`Emergency sign: ${text}`, s.emergencySigns[key as keyof typeof EMERGENCY_SIGN_TEXT])),
    ],
  }),
];

const UTI_SIGN_TEXT: Record<keyof UrinarySymptomsScreenedData['signs'], string> = {
  newDysuria: 'new dysuria',
  temperatureRaised: "temperature 1.5 °C above the person's normal",
  newFrequencyOrUrgency: 'new frequency or urgency',
  newIncontinence: 'new incontinence',
  newOrWorseDelirium: 'new or worse delirium or confusion',
  newSuprapubicPain: 'new suprapubic pain',
  visibleHaematuria: 'visible haematuria',
};
const SEPSIS_SIGN_TEXT: Record<keyof UrinarySymptomsScreenedData['sepsisSigns'], string> = {
  kidneyPain: 'kidney pain',
  newMyalgia: 'new myalgia',
  nauseaOrVomiting: 'nausea or vomiting',
  rigors: 'rigors',
};

const urinaryScreen = (ctx: EntryContext, u: Extract<EntryDetails, { type: 'UrinarySymptomsScreened' }>['data']): ObservationWithId[] => [
  observation(ctx, undefined, ['survey'], URINARY_SYMPTOMS_SCREEN, {
    component: [
      ...Object.entries(UTI_SIGN_TEXT).map(([key, text]) => yesNo(`UTI sign: ${text}`, u.signs[key as keyof typeof UTI_SIGN_TEXT])),
      ...Object.entries(SEPSIS_SIGN_TEXT).map(([key, text]) => yesNo(`Sepsis or pyelonephritis sign: ${text}`, u.sepsisSigns[key as keyof typeof SEPSIS_SIGN_TEXT])),
      yesNo('Urinary catheter in place', u.catheter.inPlace),
      ...(u.catheter.insertedOn ? [component({ text: 'Urinary catheter inserted on' }, { valueDateTime: u.catheter.insertedOn })] : []),
    ],
  }),
];

const fluidIntake = (ctx: EntryContext, f: Extract<EntryDetails, { type: 'FluidIntakeRecorded' }>['data']): ObservationWithId[] => [
  observation(ctx, undefined, ['survey'], FLUID_INTAKE, {
    valueQuantity: Units.millilitres(f.volumeMl),
    component: [component({ text: 'Drink' }, { valueString: f.drink })],
  }),
];

const cellulitisCheck = (ctx: EntryContext, c: Extract<EntryDetails, { type: 'CellulitisChecked' }>['data']): ObservationWithId[] => [
  observation(ctx, undefined, ['exam'], CELLULITIS_CHECK, {
    component: [
      yesNo('Marked line drawn around the redness', c.markedLineDrawn),
      yesNo('Redness beyond the marked line', c.rednessBeyondMarkedLine),
      component({ text: 'Pain score (0 to 10)' }, { valueInteger: c.pain }),
      ...(c.temperatureC !== undefined ? [component(BODY_TEMPERATURE, { valueQuantity: Units.celsius(c.temperatureC) })] : []),
      ...(c.limbElevated !== undefined ? [yesNo('Limb elevated', c.limbElevated)] : []),
      yesNo('Skin tone limits the assessment of redness', c.skinToneLimitsAssessment),
    ],
  }),
];

const careNote = (ctx: EntryContext, n: Extract<EntryDetails, { type: 'NoteWritten' }>['data']): ObservationWithId[] => [
  observation(ctx, undefined, ['survey'], CARE_NOTE, { valueString: n.text }),
];

/** Every Observation of one entry, the entry's own (id = entry id) first. */
const entryObservations = (ctx: EntryContext, entry: EntryDetails): ObservationWithId[] => {
  switch (entry.type) {
    case 'VitalSignsRecorded':
      return vitalSigns(ctx, entry.data);
    case 'BloodGlucoseRecorded':
      return bloodGlucose(ctx, entry.data);
    case 'SoftSignsRecorded':
      return softSigns(ctx, entry.data);
    case 'UrinarySymptomsScreened':
      return urinaryScreen(ctx, entry.data);
    case 'FluidIntakeRecorded':
      return fluidIntake(ctx, entry.data);
    case 'CellulitisChecked':
      return cellulitisCheck(ctx, entry.data);
    case 'NoteWritten':
      return careNote(ctx, entry.data);
  }
};

// ---------------------------------------------------------------------------------------------
// Index and handlers
// ---------------------------------------------------------------------------------------------

const categoryKeys = (concepts: readonly CodeableConcept[] | undefined, param: string): string[] =>
  (concepts ?? []).flatMap((c) => (c.coding ?? []).flatMap((k) => (k.code ? tokenKeys(param, k.system, k.code) : [])));

/** The search columns of an Observation, from its body. */
export const indexObservation = (obs: ObservationWithId, patientId: string): IndexedResource => ({
  resource: obs,
  patientId,
  tokens: [...new Set([...categoryKeys([obs.code], 'code'), ...categoryKeys(obs.category, 'category'), ...tokenKeys('status', undefined, obs.status)])],
  ...(obs.effectiveDateTime ? { effective: obs.effectiveDateTime } : {}),
});

/**
 * Every Observation of an entry as it stands, from the current entry alone (the contracts' one
 * function made it from the events): who first recorded it and when, its current values and
 * bedside time, its status, and one note per correction, oldest first. Issued is when its current
 * values were written: the last amendment's time, or the first recording's.
 */
export const observationsOf = ({ entry, original }: ProjectedEntry): ObservationWithId[] => {
  const { patientId, ...data } = entry.data as { patientId: string } & Record<string, unknown>;
  const lastAmended = [...entry.corrections].reverse().find((c) => c.kind === 'amended');
  const issuedAt = lastAmended?.recordedAt ?? entry.recordedAt;
  const ctx: EntryContext = {
    entryId: entry.id,
    patientId,
    effective: fhirDateTime(entry.occurredAt),
    issued: fhirDateTime(issuedAt ?? entry.occurredAt),
    status: entry.status,
    performer: entry.recordedBy ? [practitionerRef(entry.recordedBy.id)] : [],
    ...(original.late ? { extension: [lateEntryExtension()] } : {}),
    note: entry.corrections.map((c) => noteBy(c.recordedBy, c.recordedAt, correctionNote({ kind: c.kind, reason: c.reason }))),
  };
  return entryObservations(ctx, { type: entry.type, data } as EntryDetails);
};

/**
 * The Observations an event wrote of an entry, all at the entry's version: the entry as it now
 * stands; and, after an amendment, each member the entry held before and holds no longer (a
 * measurement taken out) marked entered in error with the reason, its values kept.
 */
export const observationChange = ({ event, before, after }: EntryChange): IndexedResource[] => {
  const { patientId } = after.entry.data;
  const now = observationsOf(after);
  const kept = new Set(now.map((o) => o.id));
  const correction = after.entry.corrections[after.entry.corrections.length - 1];
  const removed =
    before && after.entry.status === 'amended' && correction?.eventId === event.id
      ? observationsOf(before)
          .filter((o) => !kept.has(o.id))
          .map((o) => ({ ...o, status: 'entered-in-error' as const, note: [...(o.note ?? []), noteBy(correction.recordedBy, correction.recordedAt, removedMemberNote(correction.reason))] }))
      : [];
  return [...now, ...removed].map((o) => ({ ...indexObservation(o, patientId), versionId: after.entry.version }));
};

/** An original entry, a correction of one, or a flag on one: rendered from what the event made of it. */
const entryHandler = async (_event: RecordedEvent, _reads: unknown, change?: EntryChange): Promise<IndexedResource[]> => (change ? observationChange(change) : []);

export const observationHandlers: FhirHandlers = Object.fromEntries(OBSERVATION_ENTRY_TYPES.map((type) => [type, entryHandler]));
