import { CONFIRMED_NOT_DUPLICATE_NOTE, correctionNote, doseFlagNote, INSULIN_PRODUCT_SYSTEM, type CurrentEntry, type DoseInsideMinimumIntervalFlaggedData, type Replacement } from '@tandem/contracts';
import type { DoseOutcome } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import { doseQuantity } from './medication-orders';
import type { Annotation, Extension, MedicationAdministration, MedicationAdministrationDosage, Reference } from 'fhir/r4';
import { tokenKeys } from '@tandem/fhir-read-model';
import type { EntryChange, ProjectedEntry } from '../entries';
import type { IndexedResource } from '../writer';
import { insulinDose, SUBCUTANEOUS_ROUTE } from './codes';
import { compact, fhirDateTime, lateEntryExtension, noteBy, patientRef, practitionerRef, type FhirHandlers } from './common';

export const MEDICATION_ENTRY_TYPES = ['InsulinAdministered', 'InsulinWithheld', 'MedicineDoseRecorded'] as const;
export type MedicationEntryType = (typeof MEDICATION_ENTRY_TYPES)[number];
export const isMedicationEntryType = (type: string): type is MedicationEntryType => (MEDICATION_ENTRY_TYPES as readonly string[]).includes(type);

type MedicationAdministrationWithId = MedicationAdministration & { id: string };
type Administered = Extract<Replacement, { type: 'InsulinAdministered' }>['data'];
type Withheld = Extract<Replacement, { type: 'InsulinWithheld' }>['data'];
type DoseOutcomeData = Extract<Replacement, { type: 'MedicineDoseRecorded' }>['data'];
type MedicationEntry = { type: 'InsulinAdministered'; data: Administered } | { type: 'InsulinWithheld'; data: Withheld } | { type: 'MedicineDoseRecorded'; data: DoseOutcomeData };

/** Tandem's dose outcomes (the MAR), as MedicationAdministration.statusReason for every outcome. */
export const DOSE_OUTCOME_SYSTEM = 'https://tandem.nhs.example/fhir/CodeSystem/dose-outcome';
const OUTCOME: Record<DoseOutcome, { status: 'completed' | 'not-done'; display: string }> = {
  given: { status: 'completed', display: 'Given' },
  'self-administered': { status: 'completed', display: 'Self-administered' },
  'already-taken': { status: 'completed', display: 'Already taken before the visit' },
  refused: { status: 'not-done', display: 'Refused' },
  'not-given': { status: 'not-done', display: 'Not given' },
  missed: { status: 'not-done', display: 'Missed' },
};

/** The notes a dose's confirmations leave, for the nurse reading the MAR. */
const doseOutcomeNotes = (d: DoseOutcomeData): string[] => [
  ...(d.confirmedDespiteAllergy ? ['Given despite a recorded allergy (confirmed by the person giving it): escalated to the nurse'] : []),
  ...(d.confirmedOverDailyMaximum ? ['Above the prescribed maximum in 24 hours (confirmed by the person giving it)'] : []),
  ...(d.confirmedInsideMinimumInterval ? ['Inside the prescribed minimum interval (confirmed by the person giving it)'] : []),
  ...(d.confirmedOutsideSchedule ? [`Outside the prescribed times (${d.scheduledTime ?? 'no time'}; confirmed by the person giving it)`] : []),
  ...(d.outcome === 'already-taken' ? ['Taken before the visit: the time is when it was recorded'] : []),
];

const doseOutcomeAdministration = (base: Omit<MedicationAdministrationWithId, 'status'>, ctx: DoseContext, d: DoseOutcomeData): MedicationAdministrationWithId => {
  const outcome = OUTCOME[d.outcome];
  const flagged = doseOutcomeNotes(d).map((text) => ({ authorReference: ctx.performer, time: ctx.effective, text }));
  const note = [...flagged, ...(ctx.note ?? [])];
  const allergies = (d.allergyIds ?? []).map((id) => ({ reference: `AllergyIntolerance/${id}`, display: 'The allergy it was given despite' }));
  const supporting = [...(base.supportingInformation ?? []), ...allergies];
  return compact({
    ...base,
    medicationCodeableConcept: { coding: [{ system: d.product.system, code: d.product.code, display: d.product.display }], text: d.product.display },
    status: outcome.status,
    statusReason: [{ coding: [{ system: DOSE_OUTCOME_SYSTEM, code: d.outcome, display: outcome.display }], text: d.reason ? `${outcome.display}: ${d.reason}` : outcome.display }],
    reasonCode: d.prnReason ? [{ text: d.prnReason }] : undefined,
    supportingInformation: supporting.length ? supporting : undefined,
    dosage: d.dose ? { text: `${d.dose.value} ${d.dose.unit}${d.scheduledTime ? ` (the ${d.scheduledTime} dose)` : d.prn ? ' (PRN)' : ''}`, dose: doseQuantity(d.dose) } : undefined,
    note: note.length ? note : undefined,
  });
};

interface DoseContext {
  readonly id: string;
  readonly patientId: string;
  readonly effective: string;
  readonly performer: Reference;
  readonly extension?: Extension[];
  readonly note?: Annotation[];
  readonly supportingInformation?: Reference[];
}

const SITE_TEXT: Record<Administered['site'], string> = { abdomen: 'Abdomen', thigh: 'Thigh', buttock: 'Buttock', 'upper-arm': 'Upper arm' };

/** Dose in "units" (never U or IU), by pen, subcutaneously. */
const administeredDosage = (d: Administered): MedicationAdministrationDosage => {
  const site = d.side ? `${SITE_TEXT[d.site]}, ${d.side}` : SITE_TEXT[d.site];
  return {
    text: `${d.dose.value} units by insulin pen, subcutaneous, ${site.toLowerCase()}`,
    site: { text: site },
    route: SUBCUTANEOUS_ROUTE,
    method: { text: 'Insulin pen' },
    dose: insulinDose(d.dose.value),
  };
};

const medicationAdministration = (ctx: DoseContext, entry: MedicationEntry): MedicationAdministrationWithId => {
  const orderId = 'orderId' in entry.data ? entry.data.orderId : undefined;
  const base = {
    resourceType: 'MedicationAdministration' as const,
    id: ctx.id,
    extension: ctx.extension?.length ? ctx.extension : undefined,
    // Coded when the record knows the product (docs/decisions/0013-coded-insulin.md); the words as recorded otherwise.
    medicationCodeableConcept:
      entry.type === 'MedicineDoseRecorded'
        ? { text: entry.data.product.display }
        : entry.data.productCode
          ? { coding: [{ system: INSULIN_PRODUCT_SYSTEM, code: entry.data.productCode, display: entry.data.product }], text: entry.data.product }
          : { text: entry.data.product },
    subject: patientRef(ctx.patientId),
    effectiveDateTime: ctx.effective,
    performer: [{ actor: ctx.performer }],
    supportingInformation: ctx.supportingInformation?.length ? ctx.supportingInformation : undefined,
    // The order the dose was given for (insulin linked by orderId; every MAR outcome has one).
    request: orderId ? { reference: `MedicationRequest/${orderId}` } : undefined,
  };
  if (entry.type === 'MedicineDoseRecorded') return doseOutcomeAdministration(base, ctx, entry.data);
  if (entry.type === 'InsulinAdministered') {
    return compact({ ...base, status: 'completed' as const, dosage: administeredDosage(entry.data), note: ctx.note?.length ? ctx.note : undefined });
  }
  return compact({
    ...base,
    status: 'not-done' as const,
    statusReason: [{ text: entry.data.reason }],
    dosage: { text: `Planned dose ${entry.data.plannedDose.value} units: not given`, route: SUBCUTANEOUS_ROUTE, dose: insulinDose(entry.data.plannedDose.value) },
    note: ctx.note?.length ? ctx.note : undefined,
  });
};

/** The search columns of a MedicationAdministration. */
export const indexMedicationAdministration = (ma: MedicationAdministrationWithId, patientId: string): IndexedResource => ({
  resource: ma,
  patientId,
  tokens: tokenKeys('status', undefined, ma.status),
  ...(ma.effectiveDateTime ? { effective: ma.effectiveDateTime } : {}),
});

type MedicationCurrentEntry = Extract<CurrentEntry, { type: MedicationEntryType }>;

/** A flag's note and a correction's, in the order they made the entry's versions. */
const doseNotes = (entry: MedicationCurrentEntry): Annotation[] =>
  [
    ...entry.flags.map((f) => ({ version: f.version, note: noteBy(f.recordedBy, f.recordedAt, doseFlagNote({ type: f.type, data: f.data } as Parameters<typeof doseFlagNote>[0])) })),
    ...entry.corrections.map((c) => ({ version: c.version, note: noteBy(c.recordedBy, c.recordedAt, correctionNote({ kind: c.kind, reason: c.reason })) })),
    ...(entry.effects ?? []).map((e) => ({ version: e.version, note: noteBy(e.recordedBy, e.recordedAt, `Effect: ${e.effect}`) })),
  ]
    .sort((a, b) => a.version - b.version)
    .map((n) => n.note);

/** The other dose a minimum-interval flag names, once each. */
const otherDoses = (entry: MedicationCurrentEntry): Reference[] => {
  const ids = entry.flags.flatMap((f) => (f.type === 'DoseInsideMinimumIntervalFlagged' ? [(f.data as DoseInsideMinimumIntervalFlaggedData).previousDoseEntryId] : []));
  return [...new Set(ids)].map((id) => ({ reference: `MedicationAdministration/${id}`, display: 'The other dose, inside the minimum interval' }));
};

/**
 * A dose (or a dose withheld) as it stands, from the current entry alone (the contracts' one
 * function made it from the events): who first recorded it, its current values and time, and its
 * notes (confirmed not a duplicate, as first recorded; then each flag and correction in order).
 * MedicationAdministration has no "amended" status: an amended dose keeps its status kind.
 */
export const medicationAdministrationOf = ({ entry, original }: ProjectedEntry): MedicationAdministrationWithId => {
  const dose = entry as MedicationCurrentEntry;
  const { patientId, confirmedNotDuplicate: _confirmed, ...data } = dose.data as { patientId: string; confirmedNotDuplicate?: boolean } & Record<string, unknown>;
  const ctx: DoseContext = {
    id: dose.id,
    patientId,
    effective: fhirDateTime(dose.occurredAt),
    performer: practitionerRef(dose.recordedBy?.id ?? 'unknown'),
    ...(original.late ? { extension: [lateEntryExtension()] } : {}),
    note: [...(original.confirmedNotDuplicate ? [noteBy(dose.recordedBy, dose.recordedAt, CONFIRMED_NOT_DUPLICATE_NOTE)] : []), ...doseNotes(dose)],
    supportingInformation: otherDoses(dose),
  };
  const ma = medicationAdministration(ctx, { type: dose.type, data } as MedicationEntry);
  return dose.status === 'entered-in-error' ? { ...ma, status: 'entered-in-error' } : ma;
};

/** What an event made of a dose, at the entry's version. */
export const medicationChange = ({ after }: EntryChange): IndexedResource[] => [
  { ...indexMedicationAdministration(medicationAdministrationOf(after), after.entry.data.patientId), versionId: after.entry.version },
];

/** A dose recorded, withheld, flagged or corrected: rendered from what the event made of it. */
const doseHandler = async (_event: RecordedEvent, _reads: unknown, change?: EntryChange): Promise<IndexedResource[]> => (change ? medicationChange(change) : []);

export const medicationHandlers: FhirHandlers = {
  InsulinAdministered: doseHandler,
  InsulinWithheld: doseHandler,
  /** A confirmed dose inside the minimum interval: a note on that dose (a new version), for the delegating nurse. */
  DoseInsideMinimumIntervalFlagged: doseHandler,
  /** A confirmed dose that differs from its delegation's instruction: a note on that dose (a new version), for the nurse. */
  DoseOutsideInstructionFlagged: doseHandler,
  /** A confirmed dose of a product the record does not know: a note on that dose (a new version), an incident for the nurse. */
  UnknownInsulinProductFlagged: doseHandler,
  /** One MAR outcome: completed or not-done, with the outcome as statusReason, its order as request. */
  MedicineDoseRecorded: doseHandler,
  /** What a PRN dose did, later: a note on that dose (a new version). */
  PrnEffectRecorded: doseHandler,
};
