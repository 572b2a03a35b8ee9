import {
  ADMINISTRATIVE_GENDER,
  NHS_NUMBER_VERIFICATION_DISPLAY,
  NHS_NUMBER_VERIFICATION_EXTENSION,
  NHS_NUMBER_VERIFICATION_SYSTEM,
  type Baseline,
  type PatientBaselineSetData,
  type PatientDetailsUpdatedData,
  type PatientRegisteredData,
} from '@tandem/contracts';
import type { Address, ContactPoint, Extension, Identifier, Patient, Reference } from 'fhir/r4';
import type { RecordedEvent } from '@tandem/event-store';
import type { IndexedResource } from '../writer';
import { refKey, stringKeys, tokenKeys } from '@tandem/fhir-read-model';
import { BASELINE_EXTENSION, NHS_NUMBER_SYSTEM, ODS_ORGANISATION_SYSTEM, Units } from './codes';
import { dataOf, humanName, humanNameText, practitionerRef, withoutMeta, type FhirHandlers, type FhirReadKeys } from './common';

type GpPractice = PatientRegisteredData['gpPractice'];

/** The GP practice by ODS code: `Organization/<ods>` plus the ODS identifier and the practice name. */
const practiceRef = (practice: GpPractice): Reference => ({
  reference: `Organization/${practice.odsCode}`,
  identifier: { system: ODS_ORGANISATION_SYSTEM, value: practice.odsCode },
  display: practice.name,
});

const generalPractitioner = (practice: Reference | undefined, gp: Reference | undefined): Reference[] | undefined => {
  const refs = [practice, gp].filter((r): r is Reference => r !== undefined);
  return refs.length ? refs : undefined;
};

const isOrganizationRef = (r: Reference) => r.reference?.startsWith('Organization/') ?? false;
const isPractitionerRef = (r: Reference) => r.reference?.startsWith('Practitioner/') ?? false;

const address = (a: NonNullable<PatientRegisteredData['address']>): Address => ({
  use: 'home',
  line: [...a.lines],
  ...(a.city !== undefined ? { city: a.city } : {}),
  ...(a.district !== undefined ? { district: a.district } : {}),
  postalCode: a.postcode,
});

type VerificationStatus = NonNullable<PatientRegisteredData['nhsNumberVerificationStatus']>;

/** The NHS number, with its verification status (UK Core's extension) when the record holds one. */
const nhsNumberIdentifier = (nhsNumber: string, status: VerificationStatus | undefined): Identifier => ({
  ...(status
    ? { extension: [{ url: NHS_NUMBER_VERIFICATION_EXTENSION, valueCodeableConcept: { coding: [{ system: NHS_NUMBER_VERIFICATION_SYSTEM, code: status, display: NHS_NUMBER_VERIFICATION_DISPLAY[status] }] } }] }
    : {}),
  system: NHS_NUMBER_SYSTEM,
  value: nhsNumber,
});

const telecomOf = (telecom: NonNullable<PatientRegisteredData['telecom']>): ContactPoint[] => telecom.map((c) => ({ system: c.system, value: c.value, ...(c.use ? { use: c.use } : {}) }));

/**
 * The person's usual self, agreed with the clinical team (SpO2 scale, usual temperature, baseline
 * NEWS2), so a GP reading the record sees which SpO2 scale the scores use and who prescribed it.
 */
const baselineExtension = (baseline: Baseline): Extension => {
  const parts: Extension[] = [{ url: 'spo2Scale', valueInteger: baseline.spo2Scale }];
  if (baseline.spo2Scale2PrescribedBy) {
    const { practitionerId, registration } = baseline.spo2Scale2PrescribedBy;
    parts.push({ url: 'spo2Scale2PrescribedBy', valueReference: { ...practitionerRef(practitionerId), identifier: { ...registration } } });
  }
  if (baseline.usualTemperatureC !== undefined) parts.push({ url: 'usualTemperature', valueQuantity: Units.celsius(baseline.usualTemperatureC) });
  if (baseline.news2Baseline !== undefined) parts.push({ url: 'news2Baseline', valueInteger: baseline.news2Baseline });
  return { url: BASELINE_EXTENSION, extension: parts };
};

const withBaseline = <P extends Patient>(patient: P, baseline: Baseline): P => ({
  ...patient,
  extension: [...(patient.extension ?? []).filter((e) => e.url !== BASELINE_EXTENSION), baselineExtension(baseline)],
});

/** The search columns of a Patient, from its body. */
export const indexPatient = (patient: Patient & { id: string }): IndexedResource => ({
  resource: patient,
  patientId: patient.id,
  tokens: [
    ...(patient.identifier ?? []).flatMap((i) => (i.value ? tokenKeys('identifier', i.system, i.value) : [])),
    ...(patient.gender ? tokenKeys('gender', ADMINISTRATIVE_GENDER, patient.gender) : []),
  ],
  refs: (patient.generalPractitioner ?? []).flatMap((r) => (r.reference ? [refKey('general-practitioner', r.reference)] : [])),
  nameText: humanNameText(patient.name),
  strings: [
    ...new Set([
      ...(patient.name ?? []).flatMap((n) => [...stringKeys('family', n.family), ...(n.given ?? []).flatMap((g) => stringKeys('given', g))]),
      ...(patient.address ?? []).flatMap((a) => stringKeys('address-postalcode', a.postalCode)),
    ]),
  ],
  ...(patient.birthDate ? { birthdate: patient.birthDate } : {}),
});

const patientOf = (event: RecordedEvent) => [{ type: 'Patient' as const, id: dataOf<{ patientId: string }>(event).patientId }];
export const patientReads: FhirReadKeys = { PatientDetailsUpdated: patientOf, PatientBaselineSet: patientOf };

export const patientHandlers: FhirHandlers = {
  PatientRegistered: async (event) => {
    const d = dataOf<PatientRegisteredData>(event);
    const patient: Patient & { id: string } = {
      resourceType: 'Patient',
      id: d.patientId,
      identifier: [nhsNumberIdentifier(d.nhsNumber, d.nhsNumberVerificationStatus)],
      active: true,
      name: [humanName(d.name)],
      ...(d.telecom ? { telecom: telecomOf(d.telecom) } : {}),
      ...(d.gender ? { gender: d.gender } : {}),
      birthDate: d.birthDate,
      ...(d.address ? { address: [address(d.address)] } : {}),
      generalPractitioner: generalPractitioner(practiceRef(d.gpPractice), d.registeredGp ? practitionerRef(d.registeredGp) : undefined),
    };
    return [indexPatient(withBaseline(patient, d.baseline))];
  },

  /** Fields left out stay as they were; the NHS number never changes. */
  PatientDetailsUpdated: async (event, reads) => {
    const d = dataOf<PatientDetailsUpdatedData>(event);
    const [found] = await reads.current<Patient>('Patient', [d.patientId]);
    if (!found) return [];
    const current = found.resource;
    const previous = current.generalPractitioner ?? [];
    const practice = d.gpPractice ? practiceRef(d.gpPractice) : previous.find(isOrganizationRef);
    const gp = d.registeredGp ? practitionerRef(d.registeredGp) : previous.find(isPractitionerRef);
    const patient: Patient & { id: string } = {
      ...withoutMeta(current),
      id: d.patientId,
      ...(d.name ? { name: [humanName(d.name)] } : {}),
      ...(d.birthDate ? { birthDate: d.birthDate } : {}),
      ...(d.gender ? { gender: d.gender } : {}),
      ...(d.address ? { address: [address(d.address)] } : {}),
      ...(d.telecom ? { telecom: telecomOf(d.telecom) } : {}),
      ...(d.nhsNumberVerificationStatus
        ? { identifier: (current.identifier ?? []).map((i) => (i.system === NHS_NUMBER_SYSTEM && i.value ? nhsNumberIdentifier(i.value, d.nhsNumberVerificationStatus) : i)) }
        : {}),
      generalPractitioner: generalPractitioner(practice, gp),
    };
    return [indexPatient(patient)];
  },

  PatientBaselineSet: async (event, reads) => {
    const d = dataOf<PatientBaselineSetData>(event);
    const [current] = await reads.current<Patient>('Patient', [d.patientId]);
    if (!current) return [];
    return [indexPatient({ ...withBaseline(withoutMeta(current.resource), d.baseline), id: d.patientId })];
  },
};
