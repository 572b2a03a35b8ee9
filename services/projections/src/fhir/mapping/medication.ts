import { CONFIRMED_NOT_DUPLICATE_NOTE, correctionNote, doseFlagNote, FIRST_ENTRY_VERSION, nextEntryVersion, INSULIN_PRODUCT_SYSTEM, type DoseInsideMinimumIntervalFlaggedData, type InsulinAdministeredData, type InsulinWithheldData, type DoseOutsideInstructionFlaggedData, type Replacement, type UnknownInsulinProductFlaggedData } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import type { Annotation, Extension, MedicationAdministration, MedicationAdministrationDosage, Reference } from 'fhir/r4';
import { tokenKeys } from '@tandem/fhir-read-model';
import type { FhirReads, IndexedResource } from '../writer';
import { insulinDose, SUBCUTANEOUS_ROUTE } from './codes';
import { actorRef, compact, dataOf, fhirDateTime, lateEntryExtensions, noteFrom, patientRef, withoutMeta, type FhirHandlers } from './common';

export const MEDICATION_ENTRY_TYPES = ['InsulinAdministered', 'InsulinWithheld'] as const;
export type MedicationEntryType = (typeof MEDICATION_ENTRY_TYPES)[number];
export const isMedicationEntryType = (type: string): type is MedicationEntryType => (MEDICATION_ENTRY_TYPES as readonly string[]).includes(type);

type MedicationAdministrationWithId = MedicationAdministration & { id: string };
type Administered = Extract<Replacement, { type: 'InsulinAdministered' }>['data'];
type Withheld = Extract<Replacement, { type: 'InsulinWithheld' }>['data'];
type MedicationEntry = { type: 'InsulinAdministered'; data: Administered } | { type: 'InsulinWithheld'; data: Withheld };

/**
 * A hidden index key (never a search parameter) naming the event that first recorded a dose by its
 * stream and revision. DoseInsideMinimumIntervalFlagged is appended right after its dose, in the
 * same append, and names it only by that position: `revision - 1` in the same stream.
 */
const SOURCE_KEY = 'source-event';
const sourceKey = (stream: string, revision: number): string => `${SOURCE_KEY}|${stream}|${revision}`;

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

/** The search columns of a MedicationAdministration; `hidden` carries the source-event key forward. */
export const indexMedicationAdministration = (ma: MedicationAdministrationWithId, patientId: string, hidden: readonly string[]): IndexedResource => ({
  resource: ma,
  patientId,
  tokens: [...tokenKeys('status', undefined, ma.status), ...hidden],
  ...(ma.effectiveDateTime ? { effective: ma.effectiveDateTime } : {}),
});

const hiddenKeys = (tokens: readonly string[]): string[] => tokens.filter((t) => t.startsWith(`${SOURCE_KEY}|`));

/**
 * A dose as the read model holds it, and the version the next change of it makes: the contracts'
 * nextEntryVersion (a correction or a flag is a version of the entry in the write model too), so
 * the versionId an If-Match names is the entry's version.
 */
const readDose = async (reads: FhirReads, id: string) => {
  const [current] = await reads.current<MedicationAdministration>('MedicationAdministration', [id]);
  return (
    current && {
      resource: withoutMeta(current.resource) as MedicationAdministrationWithId,
      hidden: hiddenKeys(current.tokens),
      versionId: nextEntryVersion(Number(current.resource.meta?.versionId ?? FIRST_ENTRY_VERSION)),
    }
  );
};

const recorded = (event: RecordedEvent, entry: MedicationEntry, patientId: string, confirmedNotDuplicate = false): IndexedResource[] => {
  const ctx: DoseContext = {
    id: event.id,
    patientId,
    effective: fhirDateTime(event.metadata.occurredAt),
    performer: actorRef(event),
    extension: lateEntryExtensions(event),
    ...(confirmedNotDuplicate ? { note: [noteFrom(event, CONFIRMED_NOT_DUPLICATE_NOTE)] } : {}),
  };
  return [{ ...indexMedicationAdministration(medicationAdministration(ctx, entry), patientId, [sourceKey(event.stream, event.revision)]), versionId: FIRST_ENTRY_VERSION }];
};

/**
 * MedicationAdministration has no "amended" status: the replacement's values with the same status
 * kind, and a note giving the reason. Earlier notes (a minimum-interval flag) are kept.
 */
export const amendMedicationEntry = async (
  reads: FhirReads,
  event: RecordedEvent,
  patientId: string,
  entryId: string,
  reason: string,
  replacement: Extract<Replacement, { type: MedicationEntryType }>,
): Promise<IndexedResource[]> => {
  const current = await readDose(reads, entryId);
  if (!current || current.resource.status === 'entered-in-error') return [];
  const { resource } = current;
  const ctx: DoseContext = {
    id: entryId,
    patientId,
    effective: replacement.occurredAt ? fhirDateTime(replacement.occurredAt) : (resource.effectiveDateTime ?? fhirDateTime(event.metadata.occurredAt)),
    performer: resource.performer?.[0]?.actor ?? actorRef(event),
    ...(resource.extension ? { extension: resource.extension } : {}),
    note: [...(resource.note ?? []), noteFrom(event, correctionNote({ kind: 'amended', reason }))],
    ...(resource.supportingInformation ? { supportingInformation: resource.supportingInformation } : {}),
  };
  const entry = { type: replacement.type, data: replacement.data } as MedicationEntry;
  return [{ ...indexMedicationAdministration(medicationAdministration(ctx, entry), patientId, current.hidden), versionId: current.versionId }];
};

export const markMedicationEntryInError = async (reads: FhirReads, event: RecordedEvent, patientId: string, entryId: string, reason: string): Promise<IndexedResource[]> => {
  const current = await readDose(reads, entryId);
  if (!current || current.resource.status === 'entered-in-error') return [];
  const { resource } = current;
  const marked: MedicationAdministrationWithId = {
    ...resource,
    status: 'entered-in-error',
    note: [...(resource.note ?? []), noteFrom(event, correctionNote({ kind: 'entered-in-error', reason }))],
  };
  return [{ ...indexMedicationAdministration(marked, patientId, current.hidden), versionId: current.versionId }];
};

export const medicationHandlers: FhirHandlers = {
  InsulinAdministered: async (event) => {
    const { patientId, confirmedNotDuplicate, ...data } = dataOf<InsulinAdministeredData>(event);
    return recorded(event, { type: 'InsulinAdministered', data }, patientId, confirmedNotDuplicate === true);
  },

  InsulinWithheld: async (event) => {
    const { patientId, ...data } = dataOf<InsulinWithheldData>(event);
    return recorded(event, { type: 'InsulinWithheld', data }, patientId);
  },

  /** A confirmed dose inside the minimum interval: a note on that dose (a new version), for the delegating nurse. */
  DoseInsideMinimumIntervalFlagged: async (event, reads) => {
    const d = dataOf<DoseInsideMinimumIntervalFlaggedData>(event);
    const id = await reads.findByToken('MedicationAdministration', d.patientId, sourceKey(event.stream, event.revision - 1));
    if (!id) return [];
    const current = await readDose(reads, id);
    if (!current) return [];
    const { resource } = current;
    const previous = `MedicationAdministration/${d.previousDoseEntryId}`;
    const text = doseFlagNote({ type: 'DoseInsideMinimumIntervalFlagged', data: d });
    const flagged: MedicationAdministrationWithId = {
      ...resource,
      note: [...(resource.note ?? []), noteFrom(event, text)],
      supportingInformation: [...(resource.supportingInformation ?? []).filter((r) => r.reference !== previous), { reference: previous, display: 'The other dose, inside the minimum interval' }],
    };
    return [{ ...indexMedicationAdministration(flagged, d.patientId, current.hidden), versionId: current.versionId }];
  },

  /** A confirmed dose that differs from its delegation's instruction: a note on that dose (a new version), for the nurse. */
  DoseOutsideInstructionFlagged: async (event, reads) => {
    const d = dataOf<DoseOutsideInstructionFlaggedData>(event);
    let id: string | undefined;
    // Right after its dose, or after the other flags appended with it.
    for (let back = 1; back <= 3 && !id; back++) id = await reads.findByToken('MedicationAdministration', d.patientId, sourceKey(event.stream, event.revision - back));
    if (!id) return [];
    const current = await readDose(reads, id);
    if (!current) return [];
    const text = doseFlagNote({ type: 'DoseOutsideInstructionFlagged', data: d });
    return [{ ...indexMedicationAdministration({ ...current.resource, note: [...(current.resource.note ?? []), noteFrom(event, text)] }, d.patientId, current.hidden), versionId: current.versionId }];
  },

  /** A confirmed dose of a product the record does not know: a note on that dose (a new version), an incident for the nurse. */
  UnknownInsulinProductFlagged: async (event, reads) => {
    const d = dataOf<UnknownInsulinProductFlaggedData>(event);
    // Right after its dose, or after the dose's minimum-interval flag when there is one too.
    const id =
      (await reads.findByToken('MedicationAdministration', d.patientId, sourceKey(event.stream, event.revision - 1))) ??
      (await reads.findByToken('MedicationAdministration', d.patientId, sourceKey(event.stream, event.revision - 2)));
    if (!id) return [];
    const current = await readDose(reads, id);
    if (!current) return [];
    const text = doseFlagNote({ type: 'UnknownInsulinProductFlagged', data: d });
    return [{ ...indexMedicationAdministration({ ...current.resource, note: [...(current.resource.note ?? []), noteFrom(event, text)] }, d.patientId, current.hidden), versionId: current.versionId }];
  },
};
