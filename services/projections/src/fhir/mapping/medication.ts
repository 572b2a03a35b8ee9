import { CONFIRMED_NOT_DUPLICATE_NOTE, correctionNote, doseFlagNote, INSULIN_PRODUCT_SYSTEM, type CurrentEntry, type DoseInsideMinimumIntervalFlaggedData, type Replacement } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import type { Annotation, Extension, MedicationAdministration, MedicationAdministrationDosage, Reference } from 'fhir/r4';
import { tokenKeys } from '@tandem/fhir-read-model';
import type { EntryChange, ProjectedEntry } from '../entries';
import type { IndexedResource } from '../writer';
import { insulinDose, SUBCUTANEOUS_ROUTE } from './codes';
import { compact, fhirDateTime, lateEntryExtension, noteBy, patientRef, practitionerRef, type FhirHandlers } from './common';

export const MEDICATION_ENTRY_TYPES = ['InsulinAdministered', 'InsulinWithheld'] as const;
export type MedicationEntryType = (typeof MEDICATION_ENTRY_TYPES)[number];
export const isMedicationEntryType = (type: string): type is MedicationEntryType => (MEDICATION_ENTRY_TYPES as readonly string[]).includes(type);

type MedicationAdministrationWithId = MedicationAdministration & { id: string };
type Administered = Extract<Replacement, { type: 'InsulinAdministered' }>['data'];
type Withheld = Extract<Replacement, { type: 'InsulinWithheld' }>['data'];
type MedicationEntry = { type: 'InsulinAdministered'; data: Administered } | { type: 'InsulinWithheld'; data: Withheld };

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
  const base = {
    resourceType: 'MedicationAdministration' as const,
    id: ctx.id,
    extension: ctx.extension?.length ? ctx.extension : undefined,
    // Coded when the record knows the product (docs/decisions/0013-coded-insulin.md); the words as recorded otherwise.
    medicationCodeableConcept: entry.data.productCode
      ? { coding: [{ system: INSULIN_PRODUCT_SYSTEM, code: entry.data.productCode, display: entry.data.product }], text: entry.data.product }
      : { text: entry.data.product },
    subject: patientRef(ctx.patientId),
    effectiveDateTime: ctx.effective,
    performer: [{ actor: ctx.performer }],
    supportingInformation: ctx.supportingInformation?.length ? ctx.supportingInformation : undefined,
  };
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
};
