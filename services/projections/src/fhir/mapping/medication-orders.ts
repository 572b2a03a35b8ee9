import {
  correctionNote,
  DOSE_UNIT_UCUM,
  MAX_DOSES_UNIT,
  MEDICATION_ROUTE_VOCABULARY,
  orderChangeNote,
  SNOMED,
  TIME_CRITICAL_EXTENSION,
  type AllergyChangedData,
  type AllergyDetails,
  type AllergyRecordedData,
  type ConditionChangedData,
  type ConditionDetails,
  type ConditionRecordedData,
  type MedicationOrderChangedData,
  type MedicationOrderDetails,
  type MedicationOrderedData,
  type MedicationOrderStoppedData,
  type MedicationProduct,
  type MedicationRoute,
  type MedicineDose,
} from '@tandem/contracts';
import { tokenKeys } from '@tandem/fhir-read-model';
import type { RecordedEvent } from '@tandem/event-store';
import type { AllergyIntolerance, Annotation, CodeableConcept, Condition, Dosage, MedicationRequest, Quantity, Reference } from 'fhir/r4';
import type { IndexedResource } from '../writer';
import { coding, concept, UCUM, written } from './codes';
import { actorRef, compact, dataOf, fhirDateTime, noteFrom, patientRef, practitionerRef, withoutMeta, type FhirHandlers, type FhirReadKeys } from './common';

/**
 * The medicines stream as FHIR: MedicationRequest (an order: each change and the stop a new
 * version), AllergyIntolerance and Condition (each change, and the withdrawal of one entered in
 * error, a new version with a note saying why: ADR 0031). The product is coded as recorded (dm+d, or Tandem's
 * insulin code); a route is coded only where the code is in docs/clinical (subcutaneous), the
 * others carry their text (the SNOMED CT route codes are UNVERIFIED here: an honest text beats a
 * wrong code).
 */

/** Tandem's extension: a time-critical medicine (insulin, Parkinson's), from the contracts' vocabulary. */
export { TIME_CRITICAL_EXTENSION };

export const routeConcept = (route: MedicationRoute): CodeableConcept => written(MEDICATION_ROUTE_VOCABULARY[route]);

export const doseQuantity = (dose: MedicineDose): Quantity => {
  const code = DOSE_UNIT_UCUM[dose.unit];
  // "units" is always written in full (never U or IU), whatever the UCUM code underneath.
  return code ? { value: dose.value, unit: dose.unit, system: UCUM, code } : { value: dose.value, unit: dose.unit };
};

export const productConcept = (product: MedicationProduct): CodeableConcept => concept(product.display, coding(product.system, product.code, product.display));

const doseText = (d: MedicationOrderDetails): string => {
  const amount = `${d.dose.value} ${d.dose.unit}`;
  const route = MEDICATION_ROUTE_VOCABULARY[d.route].text.toLowerCase();
  const when =
    d.timing.kind === 'scheduled'
      ? `at ${d.timing.times.join(', ')}`
      : `when required for ${d.timing.indication}, at least ${d.timing.minimumIntervalMinutes} minutes apart, at most ${d.timing.maxDosesIn24Hours} doses in 24 hours`;
  return `${amount} ${route} ${when}${d.instructions ? `. ${d.instructions}` : ''}`;
};

const dosage = (d: MedicationOrderDetails): Dosage =>
  compact({
    text: doseText(d),
    patientInstruction: d.instructions,
    route: routeConcept(d.route),
    doseAndRate: [{ doseQuantity: doseQuantity(d.dose) }],
    timing: {
      repeat: compact({
        boundsPeriod: compact({ start: fhirDateTime(d.start), end: d.stop ? fhirDateTime(d.stop) : undefined }),
        ...(d.timing.kind === 'scheduled'
          ? { timeOfDay: d.timing.times.map((t) => `${t}:00`) }
          : { frequency: 1, period: d.timing.minimumIntervalMinutes, periodUnit: 'min' as const }),
      }),
    },
    ...(d.timing.kind === 'prn'
      ? {
          asNeededCodeableConcept: { text: d.timing.indication },
          maxDosePerPeriod: { numerator: { value: d.timing.maxDosesIn24Hours, unit: MAX_DOSES_UNIT }, denominator: { value: 24, unit: 'hours', system: UCUM, code: 'h' } },
        }
      : {}),
  });

type MedicationRequestWithId = MedicationRequest & { id: string };

const medicationRequest = (id: string, patientId: string, d: MedicationOrderDetails, authoredOn: string, recorder: MedicationRequest['recorder']): MedicationRequestWithId =>
  compact({
    resourceType: 'MedicationRequest' as const,
    id,
    extension: d.timeCritical ? [{ url: TIME_CRITICAL_EXTENSION, valueBoolean: true }] : undefined,
    status: 'active' as const,
    intent: 'order' as const,
    medicationCodeableConcept: productConcept(d.product),
    subject: patientRef(patientId),
    authoredOn,
    requester: practitionerRef(d.prescriberId),
    recorder,
    dosageInstruction: [dosage(d)],
    // UK Core asks every MedicationRequest for `substitution`. The order names the product to give and
    // records no permission to swap it (an insulin's brand must not change unnoticed): none is given.
    substitution: { allowedBoolean: false, reason: { text: 'The order names the product to give; the record holds no permission to substitute it' } },
  });

const indexRequest = (mr: MedicationRequestWithId, patientId: string): IndexedResource => ({
  resource: mr,
  patientId,
  tokens: [...tokenKeys('status', undefined, mr.status), ...mr.medicationCodeableConcept!.coding!.flatMap((c) => tokenKeys('code', c.system, c.code!))],
  ...(mr.authoredOn ? { effective: mr.authoredOn } : {}),
});

const currentRequest = async (reads: Parameters<FhirHandlers[string]>[1], id: string): Promise<MedicationRequestWithId | undefined> => {
  const [current] = await reads.current<MedicationRequest>('MedicationRequest', [id]);
  return current ? (withoutMeta(current.resource) as MedicationRequestWithId) : undefined;
};

const orderRead = (event: RecordedEvent) => [{ type: 'MedicationRequest' as const, id: dataOf<{ orderId: string }>(event).orderId }];
const allergyRead = (event: RecordedEvent) => [{ type: 'AllergyIntolerance' as const, id: dataOf<{ allergyId: string }>(event).allergyId }];
const conditionRead = (event: RecordedEvent) => [{ type: 'Condition' as const, id: dataOf<{ conditionId: string }>(event).conditionId }];
export const medicationOrderReads: FhirReadKeys = {
  MedicationOrderChanged: orderRead,
  MedicationOrderStopped: orderRead,
  AllergyChanged: allergyRead,
  AllergyEnteredInError: allergyRead,
  ConditionChanged: conditionRead,
  ConditionEnteredInError: conditionRead,
};

const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
const ALLERGY_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';
const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
/** The displays of the status codes, as the code systems give them. */
const STATUS_DISPLAY: Readonly<Record<string, string>> = {
  active: 'Active',
  inactive: 'Inactive',
  resolved: 'Resolved',
  recurrence: 'Recurrence',
  relapse: 'Relapse',
  remission: 'Remission',
  confirmed: 'Confirmed',
  unconfirmed: 'Unconfirmed',
  refuted: 'Refuted',
  'entered-in-error': 'Entered in Error',
};
const statusConcept = (system: string, code: string): CodeableConcept => ({ coding: [coding(system, code, STATUS_DISPLAY[code])] });

/** What every version of an allergy or condition keeps from the first: its id, person, when and by whom it was recorded. */
interface RecordedAs {
  readonly id: string;
  readonly patientId: string;
  readonly recordedDate: string;
  readonly recorder: Reference | undefined;
}

const recordedAs = (event: RecordedEvent, patientId: string): RecordedAs => ({ id: event.id, patientId, recordedDate: fhirDateTime(event.metadata.occurredAt), recorder: actorRef(event) });
const recordedFrom = (current: { id?: string; recordedDate?: string; recorder?: Reference }, patientId: string, event: RecordedEvent): RecordedAs => ({
  id: current.id!,
  patientId,
  recordedDate: current.recordedDate ?? fhirDateTime(event.metadata.occurredAt),
  recorder: current.recorder,
});

/** The notes a change or a withdrawal wrote (each with its author and time), kept on every later version. */
const changeNotes = (notes: readonly Annotation[] | undefined): Annotation[] => (notes ?? []).filter((n) => n.authorReference !== undefined);

type AllergyWithId = AllergyIntolerance & { id: string };
type ConditionWithId = Condition & { id: string };

const allergyIntolerance = (as: RecordedAs, d: AllergyDetails, notes: readonly Annotation[]): AllergyWithId =>
  compact({
    resourceType: 'AllergyIntolerance' as const,
    id: as.id,
    clinicalStatus: statusConcept(ALLERGY_CLINICAL, d.clinicalStatus),
    verificationStatus: statusConcept(ALLERGY_VERIFICATION, d.verificationStatus),
    category: [d.category],
    criticality: d.criticality,
    code: concept(d.substance.display, coding(d.substance.system, d.substance.code, d.substance.display)),
    patient: patientRef(as.patientId),
    recordedDate: as.recordedDate,
    recorder: as.recorder,
    reaction: d.reaction ? [{ manifestation: [{ text: d.reaction }] }] : undefined,
    note: notes.length > 0 ? [...notes] : undefined,
  });

const indexAllergy = (resource: AllergyWithId, patientId: string): IndexedResource => ({
  resource,
  patientId,
  // Entered in error, it has no clinical status (FHIR ait-2): found by nothing but its id and person.
  tokens: [...(resource.clinicalStatus ? tokenKeys('clinical-status', undefined, resource.clinicalStatus.coding![0]!.code!) : []), ...resource.code!.coding!.flatMap((c) => tokenKeys('code', c.system, c.code!))],
  effective: resource.recordedDate!,
});

const condition = (as: RecordedAs, d: ConditionDetails, notes: readonly Annotation[]): ConditionWithId =>
  compact({
    resourceType: 'Condition' as const,
    id: as.id,
    clinicalStatus: statusConcept(CONDITION_CLINICAL, d.clinicalStatus),
    verificationStatus: statusConcept(CONDITION_VERIFICATION, 'confirmed'),
    category: [{ coding: [coding('http://terminology.hl7.org/CodeSystem/condition-category', 'problem-list-item', 'Problem List Item')] }],
    code: concept(d.code.display, coding(SNOMED, d.code.code, d.code.display)),
    subject: patientRef(as.patientId),
    onsetDateTime: d.onset,
    abatementDateTime: d.abatement,
    recordedDate: as.recordedDate,
    recorder: as.recorder,
    // The condition's own note first (written without an author), then the notes its changes wrote.
    note: d.note || notes.length > 0 ? [...(d.note ? [{ text: d.note }] : []), ...notes] : undefined,
  });

const indexCondition = (resource: ConditionWithId, patientId: string): IndexedResource => ({
  resource,
  patientId,
  tokens: [...(resource.clinicalStatus ? tokenKeys('clinical-status', undefined, resource.clinicalStatus.coding![0]!.code!) : []), ...tokenKeys('code', SNOMED, resource.code!.coding![0]!.code!)],
  effective: resource.recordedDate!,
});

const currentOf = async <R extends AllergyIntolerance | Condition>(reads: Parameters<FhirHandlers[string]>[1], type: R['resourceType'], id: string): Promise<(R & { id: string }) | undefined> => {
  const [current] = await reads.current<R>(type, [id]);
  return current ? (withoutMeta(current.resource) as R & { id: string }) : undefined;
};

/**
 * Entered in error: the version as it stood, its verification status entered-in-error and its
 * clinical status gone (FHIR ait-2, con-5), with it a condition's end date (con-4: an end date needs
 * an ended status; the version before keeps it), and the note saying why.
 */
const enteredInError = <R extends AllergyWithId | ConditionWithId>(current: R, event: RecordedEvent, reason: string): R => {
  const { clinicalStatus: _clinical, ...kept } = current;
  const { abatementDateTime: _ended, ...rest } = kept as unknown as ConditionWithId;
  const system = current.resourceType === 'AllergyIntolerance' ? ALLERGY_VERIFICATION : CONDITION_VERIFICATION;
  return { ...rest, verificationStatus: statusConcept(system, 'entered-in-error'), note: [...(current.note ?? []), noteFrom(event, correctionNote({ kind: 'entered-in-error', reason }))] } as R;
};

/**
 * An allergy's or a condition's later versions, from the one the read model holds (nothing when it
 * holds none): a change is the whole resource again, recorded when and by whom it first was, with the
 * notes of the changes before and this one's; a withdrawal is the version as it stood, entered in error.
 */
const laterVersions = <R extends AllergyWithId | ConditionWithId, Details>(
  type: R['resourceType'],
  idOf: (data: { allergyId?: string; conditionId?: string }) => string,
  render: (as: RecordedAs, details: Details, notes: readonly Annotation[]) => R,
  index: (resource: R, patientId: string) => IndexedResource,
): Record<'changed' | 'enteredInError', FhirHandlers[string]> => {
  const from = async (event: RecordedEvent, reads: Parameters<FhirHandlers[string]>[1], next: (current: R, data: { patientId: string; reason: string }) => R) => {
    const d = dataOf<{ patientId: string; reason: string; allergyId?: string; conditionId?: string }>(event);
    const current = await currentOf<R>(reads, type, idOf(d));
    return current ? [index(next(current, d), d.patientId)] : [];
  };
  return {
    changed: (event, reads) =>
      from(event, reads, (current, d) => render(recordedFrom(current, d.patientId, event), detailsOf<Details>(event), [...changeNotes(current.note), noteFrom(event, orderChangeNote(d.reason))])),
    enteredInError: (event, reads) => from(event, reads, (current, d) => enteredInError(current, event, d.reason)),
  };
};

/** What a change event says the resource now is (AllergyChanged's `allergy`, ConditionChanged's `condition`). */
const detailsOf = <Details>(event: RecordedEvent): Details => {
  const d = dataOf<Partial<AllergyChangedData & ConditionChangedData>>(event);
  return (d.allergy ?? d.condition) as Details;
};

const allergyVersions = laterVersions<AllergyWithId, AllergyDetails>('AllergyIntolerance', (d) => d.allergyId!, allergyIntolerance, indexAllergy);
const conditionVersions = laterVersions<ConditionWithId, ConditionDetails>('Condition', (d) => d.conditionId!, condition, indexCondition);

export const medicationOrderHandlers: FhirHandlers = {
  MedicationOrdered: async (event) => {
    const { patientId, ...details } = dataOf<MedicationOrderedData>(event);
    return [indexRequest(medicationRequest(event.id, patientId, details, fhirDateTime(event.metadata.occurredAt), actorRef(event)), patientId)];
  },

  /** The order again, whole, as its next version; authoredOn stays the first prescription's. */
  MedicationOrderChanged: async (event, reads) => {
    const d = dataOf<MedicationOrderChangedData>(event);
    const current = await currentRequest(reads, d.orderId);
    if (!current) return [];
    const next = medicationRequest(d.orderId, d.patientId, d.order, current.authoredOn ?? fhirDateTime(event.metadata.occurredAt), actorRef(event));
    return [indexRequest({ ...next, note: [...(current.note ?? []), { authorReference: actorRef(event), time: fhirDateTime(event.metadata.recordedAt), text: orderChangeNote(d.reason) }] }, d.patientId)];
  },

  MedicationOrderStopped: async (event, reads) => {
    const d = dataOf<MedicationOrderStoppedData>(event);
    const current = await currentRequest(reads, d.orderId);
    if (!current) return [];
    return [indexRequest({ ...current, status: 'stopped', statusReason: { text: d.reason } }, d.patientId)];
  },

  AllergyRecorded: async (event) => {
    const d = dataOf<AllergyRecordedData>(event);
    return [indexAllergy(allergyIntolerance(recordedAs(event, d.patientId), { ...d, clinicalStatus: 'active', verificationStatus: 'confirmed' }, []), d.patientId)];
  },

  AllergyChanged: allergyVersions.changed,
  AllergyEnteredInError: allergyVersions.enteredInError,

  ConditionRecorded: async (event) => {
    const d = dataOf<ConditionRecordedData>(event);
    return [indexCondition(condition(recordedAs(event, d.patientId), d, []), d.patientId)];
  },

  ConditionChanged: conditionVersions.changed,
  ConditionEnteredInError: conditionVersions.enteredInError,
};
