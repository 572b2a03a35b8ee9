import {
  DOSE_UNIT_UCUM,
  MAX_DOSES_UNIT,
  MEDICATION_ROUTE_VOCABULARY,
  orderChangeNote,
  SNOMED,
  TIME_CRITICAL_EXTENSION,
  type AllergyRecordedData,
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
import type { AllergyIntolerance, CodeableConcept, Condition, Dosage, MedicationRequest, Quantity } from 'fhir/r4';
import type { IndexedResource } from '../writer';
import { coding, concept, UCUM, written } from './codes';
import { actorRef, compact, dataOf, fhirDateTime, patientRef, practitionerRef, withoutMeta, type FhirHandlers, type FhirReadKeys } from './common';

/**
 * The medicines stream as FHIR: MedicationRequest (an order: each change and the stop a new
 * version), AllergyIntolerance and Condition. The product is coded as recorded (dm+d, or Tandem's
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
export const medicationOrderReads: FhirReadKeys = { MedicationOrderChanged: orderRead, MedicationOrderStopped: orderRead };

const allergyIntolerance = (event: RecordedEvent, d: AllergyRecordedData): AllergyIntolerance & { id: string } =>
  compact({
    resourceType: 'AllergyIntolerance' as const,
    id: event.id,
    clinicalStatus: { coding: [coding('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', 'active', 'Active')] },
    verificationStatus: { coding: [coding('http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', 'confirmed', 'Confirmed')] },
    category: [d.category],
    criticality: d.criticality,
    code: concept(d.substance.display, coding(d.substance.system, d.substance.code, d.substance.display)),
    patient: patientRef(d.patientId),
    recordedDate: fhirDateTime(event.metadata.occurredAt),
    recorder: actorRef(event),
    reaction: d.reaction ? [{ manifestation: [{ text: d.reaction }] }] : undefined,
  });

const condition = (event: RecordedEvent, d: ConditionRecordedData): Condition & { id: string } =>
  compact({
    resourceType: 'Condition' as const,
    id: event.id,
    clinicalStatus: { coding: [coding('http://terminology.hl7.org/CodeSystem/condition-clinical', d.clinicalStatus)] },
    category: [{ coding: [coding('http://terminology.hl7.org/CodeSystem/condition-category', 'problem-list-item', 'Problem List Item')] }],
    code: concept(d.code.display, coding(SNOMED, d.code.code, d.code.display)),
    subject: patientRef(d.patientId),
    onsetDateTime: d.onset,
    recordedDate: fhirDateTime(event.metadata.occurredAt),
    recorder: actorRef(event),
    note: d.note ? [{ text: d.note }] : undefined,
  });

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
    const resource = allergyIntolerance(event, d);
    return [{ resource, patientId: d.patientId, tokens: [...tokenKeys('clinical-status', undefined, 'active'), ...tokenKeys('code', d.substance.system, d.substance.code)], effective: resource.recordedDate! }];
  },

  ConditionRecorded: async (event) => {
    const d = dataOf<ConditionRecordedData>(event);
    const resource = condition(event, d);
    return [{ resource, patientId: d.patientId, tokens: [...tokenKeys('clinical-status', undefined, d.clinicalStatus), ...tokenKeys('code', SNOMED, d.code.code)], effective: resource.recordedDate! }];
  },
};
