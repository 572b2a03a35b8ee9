import {
  ACVPU_VOCABULARY,
  AmendEntrySchema,
  COMPONENT_VOCABULARY,
  entryResourceId,
  MEAL_RELATION_COMPONENT_TEXT,
  MEAL_RELATION_VOCABULARY,
  observationKindsOf,
  SNOMED,
  UCUM,
  UNIT_VOCABULARY,
  type VocabularyConcept,
  type VocabularyUnit,
  CONFIRMED_NOT_DUPLICATE_NOTE,
  correctionNote,
  doseFlagNote,
  MarkEntryEnteredInErrorSchema,
  parseEntryResourceId,
  removedMemberNote,
  VITAL_SIGN_MEMBER_FIELDS,
  VITAL_SIGN_MEMBERS,
  type EntryMemberSuffix,
  type VitalSignMember,
  NHS_NUMBER_SYSTEM,
  parseCommand,
  RecordBloodGlucoseSchema,
  RecordInsulinAdministeredSchema,
  RecordInsulinWithheldSchema,
  RecordVitalSignsSchema,
  RegisterPatientSchema,
  UpdatePatientDetailsSchema,
  ACCEPTED_PATIENT_PROFILES,
  NHS_NUMBER_VERIFICATION_EXTENSION,
  NHS_NUMBER_VERIFICATION_SYSTEM,
} from '@tandem/contracts';
import { FHIR_ACCESS } from '@tandem/auth';
import type { Request } from 'express';
import { PatientNotFound, type CareRecord } from '../application/care-record';
import type { CareEntry } from '../domain';
import { FhirError } from './operation-outcome';
import { appointmentWrites } from './appointment-writes';
import { encounterWrites } from './encounter-writes';
import { MEDICINE_WRITABLE_TYPES, medicineWrites } from './medicine-writes';
import {
  accepted,
  badValue,
  codingsOf,
  CONFIRMED_NOT_DUPLICATE_EXTENSION,
  COMMON_ELEMENTS,
  effectiveOf,
  El,
  FieldMap,
  firstEventId,
  isObject,
  keyOf,
  newNoteOf,
  notSupported,
  only,
  preconditionRequired,
  required,
  resourceOf,
  SERVER_TIME,
  sha256,
  staleVersion,
  statusOf,
  structure,
  subjectOf,
  translated,
  type Json,
  updateAccess,
  type WriteAuthoriser,
} from './reading';
import { type BundleEntryWrite, type BundleWriteResult, type FhirWrites } from './routes';

/**
 * FHIR create and update, translated into the same commands the JSON API sends: the FHIR edge
 * only maps elements to command fields (and command fields back to FHIRPath for errors). Every
 * clinical rule stays in the domain. Nothing is stored unless the whole command is accepted.
 *
 * Mapping notes:
 * - A POSTed Observation records one entry. A single vital sign (pulse, respiration rate, SpO2,
 *   temperature, blood pressure, ACVPU, air or oxygen) becomes a RecordVitalSigns with just that
 *   measurement; the projection shows it as a panel `<entryId>` with the member `<entryId>-<suffix>`
 *   (suffixes and codes from the contracts' two-way FHIR vocabulary, fhir-vocabulary.ts, which the projection writes with), and the member's id is returned.
 * - MedicationAdministration.device is a list of Device references in R4: `device[0].display`
 *   "pen" (or "insulin pen"), or no device at all, means an insulin pen; anything else is refused.
 * - An update amends the entry (AmendEntry) with the resource's new values; the reason is the note
 *   the update adds (one the server did not write: the vocabulary's note texts, from the entry's
 *   own corrections and flags). It is built from the entry as its stream holds it, never from the
 *   read model, and If-Match (required) is the command's expectedVersion, decided on the stream. Updating one member of a vital signs panel keeps the entry's other members.
 *   `status: entered-in-error` on an entry marks the entry; on a member it takes that measurement
 *   out of the entry (the whole entry when it was the only one).
 */

export const WRITABLE_TYPES = ['Patient', 'Observation', 'MedicationAdministration', 'Appointment', 'Encounter', ...MEDICINE_WRITABLE_TYPES] as const;
/** The types whose update refuses (428) one without If-Match (preconditionRequired below and in medicine-writes.ts): the clinical entries. */
export const IF_MATCH_REQUIRED_TYPES = ['Observation', 'MedicationAdministration', ...MEDICINE_WRITABLE_TYPES] as const;

export { CONFIRMED_NOT_DUPLICATE_EXTENSION, type WriteAuthoriser } from './reading';

const ODS_ORGANISATION_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

// ---------------------------------------------------------------------------------------------
// Reading an untrusted JSON body, element by element, with its FHIRPath
// ---------------------------------------------------------------------------------------------

const PATIENT_ELEMENTS = new Set([...COMMON_ELEMENTS, 'identifier', 'active', 'name', 'telecom', 'gender', 'birthDate', 'address', 'generalPractitioner']);
/** Besides the recorded elements, those the projection writes (derived or server-set) are accepted back and ignored. */
const OBSERVATION_ELEMENTS = new Set([
  ...COMMON_ELEMENTS,
  'status',
  'category',
  'code',
  'subject',
  'effectiveDateTime',
  'issued',
  'performer',
  'valueQuantity',
  'valueCodeableConcept',
  'component',
  'note',
  'hasMember',
  'derivedFrom',
  'interpretation',
  'dataAbsentReason',
]);
const MEDICATION_ADMINISTRATION_ELEMENTS = new Set([
  ...COMMON_ELEMENTS,
  'status',
  'statusReason',
  'medicationCodeableConcept',
  'subject',
  'effectiveDateTime',
  'performer',
  'supportingInformation',
  'device',
  'dosage',
  'note',
]);

// ---------------------------------------------------------------------------------------------
// Observations
// ---------------------------------------------------------------------------------------------

type VitalKind = 'pulse' | 'resp' | 'spo2' | 'temp' | 'bp' | 'acvpu' | 'air';
type ObservationKind = VitalKind | 'glucose' | 'panel' | 'news2';

/**
 * What a code means here: the contracts' two-way vocabulary (the codes the projection writes, and
 * the aliases other systems send, e.g. SpO2 59408-5), read inbound. "Patient on oxygen" is an
 * air-or-oxygen Observation like "breathing room air"; ketones have no code to send.
 */
const kindsOfCodings = (codings: readonly { system: string | undefined; code: string | undefined }[]): Set<ObservationKind> =>
  new Set([...observationKindsOf(codings)].flatMap((kind): ObservationKind[] => (kind === 'oxygen' ? ['air'] : kind === 'ketones' ? [] : [kind])));

const VITAL_KINDS: readonly VitalKind[] = ['pulse', 'resp', 'spo2', 'temp', 'bp', 'acvpu', 'air'];
const isVitalKind = (kind: string | undefined): kind is VitalKind => (VITAL_KINDS as readonly string[]).includes(kind ?? '');

const SUPPORTED_CODES_TEXT =
  'LOINC 8867-4 (heart rate), 9279-1 (respiratory rate), 2708-6 or 59408-5 (SpO2), 8310-5 (body temperature), 85354-9 or 55284-4 (blood pressure panel with 8480-6 and 8462-4), 85353-1 (vital signs panel, in a transaction Bundle with its members), 14743-9 (capillary blood glucose); SNOMED CT 1104441000000107 (ACVPU), 722742002 (breathing room air), 371825009 (on oxygen)';

const hasCode = (concept: El, system: string, code: string): boolean => codingsOf(concept).some((c) => c.system === system && c.code === code);

const kindOf = (resource: El): ObservationKind => {
  const code = resource.get('code');
  if (!code.present) throw required(code.path, `${code.path} is required`);
  const kinds = kindsOfCodings(codingsOf(code));
  if (kinds.size === 0) throw badValue(code.path, `This server records Observations coded ${SUPPORTED_CODES_TEXT}`);
  if (kinds.size > 1) throw badValue(code.path, `${code.path} holds codes for different measurements (${[...kinds].join(', ')})`);
  return [...kinds][0]!;
};

interface UnitRule {
  readonly ucum: string;
  readonly units: readonly string[];
}
/** The units accepted inbound: the vocabulary's, so what the projection writes is always accepted back. */
const unitRule = (u: VocabularyUnit): UnitRule => ({ ucum: u.ucum, units: u.accepted });
const PER_MINUTE = unitRule(UNIT_VOCABULARY.beatsPerMinute);
const PERCENT = unitRule(UNIT_VOCABULARY.percent);
const CELSIUS = unitRule(UNIT_VOCABULARY.celsius);
const MM_HG = unitRule(UNIT_VOCABULARY.mmHg);
const MMOL_PER_L = unitRule(UNIT_VOCABULARY.mmolPerL);
const LITRES_PER_MINUTE = unitRule(UNIT_VOCABULARY.litresPerMinute);

/**
 * A Quantity's value, once its unit is known to be the one the command means: a temperature in
 * Fahrenheit or a glucose in mg/dL is refused, never read as Celsius or mmol/L.
 */
const quantity = (el: El, rule: UnitRule, field: string, fields: FieldMap): unknown => {
  if (!el.present) throw required(el.path, `${el.path} is required (in ${rule.ucum})`);
  const code = el.get('code').string();
  const system = el.get('system').string();
  const unit = el.get('unit').string();
  if (code === undefined && unit === undefined) throw badValue(`${el.path}.code`, `${el.path} must give its unit (UCUM ${rule.ucum})`);
  if (code !== undefined) {
    if (system !== undefined && system !== UCUM) throw badValue(`${el.path}.system`, `${el.path}.system must be ${UCUM}`);
    if (code !== rule.ucum) throw badValue(`${el.path}.code`, `${el.path}.code must be UCUM ${rule.ucum} (got ${code})`);
  }
  if (unit !== undefined && !rule.units.includes(unit)) throw badValue(`${el.path}.unit`, `${el.path}.unit must be ${rule.units.join(' or ')} (got ${unit})`);
  fields.set(field, `${el.path}.value`);
  return el.get('value').raw();
};

/** SNOMED CT answer code -> ACVPU letter, from the vocabulary. */
const ACVPU_ANSWERS: Readonly<Record<string, 'A' | 'C' | 'V' | 'P' | 'U'>> = Object.fromEntries(
  (Object.entries(ACVPU_VOCABULARY) as ['A' | 'C' | 'V' | 'P' | 'U', VocabularyConcept][]).flatMap(([letter, v]) => v.codings.map((c) => [c.code, letter])),
);

const SYSTOLIC = COMPONENT_VOCABULARY.systolic.codings;
const DIASTOLIC = COMPONENT_VOCABULARY.diastolic.codings;
const OXYGEN_FLOW = COMPONENT_VOCABULARY.oxygenFlow.codings;
const isOneOf = (concept: El, codes: readonly { system: string; code: string }[]) => codes.some((c) => hasCode(concept, c.system, c.code));

/** The RecordVitalSigns fields one vital signs Observation holds. */
const vitalFields = (obs: El, kind: VitalKind, fields: FieldMap): Json => {
  switch (kind) {
    case 'pulse':
      return { pulse: quantity(obs.get('valueQuantity'), PER_MINUTE, 'pulse', fields) };
    case 'resp':
      return { respirationRate: quantity(obs.get('valueQuantity'), PER_MINUTE, 'respirationRate', fields) };
    case 'spo2':
      return { spo2: quantity(obs.get('valueQuantity'), PERCENT, 'spo2', fields) };
    case 'temp':
      return { temperatureC: quantity(obs.get('valueQuantity'), CELSIUS, 'temperatureC', fields) };
    case 'bp': {
      const result: Json = {};
      for (const component of obs.get('component').list()) {
        const code = component.get('code');
        const field = isOneOf(code, SYSTOLIC) ? 'systolic' : isOneOf(code, DIASTOLIC) ? 'diastolic' : undefined;
        if (!field) throw badValue(`${component.path}.code`, 'A blood pressure panel holds only systolic (LOINC 8480-6) and diastolic (LOINC 8462-4)');
        if (component.get('dataAbsentReason').present && !component.get('valueQuantity').present) continue;
        result[field] = quantity(component.get('valueQuantity'), MM_HG, field, fields);
      }
      if (result.systolic === undefined && result.diastolic === undefined) {
        throw required(`${obs.path}.component`, 'A blood pressure panel needs a systolic (LOINC 8480-6) or diastolic (LOINC 8462-4) component');
      }
      return result;
    }
    case 'acvpu': {
      const answer = obs.get('valueCodeableConcept');
      if (!answer.present) throw required(answer.path, `${answer.path} is required: the ACVPU answer`);
      const letters = [...new Set(codingsOf(answer).flatMap((c) => (c.system === SNOMED && c.code && ACVPU_ANSWERS[c.code] ? [ACVPU_ANSWERS[c.code]] : [])))];
      if (letters.length !== 1) {
        throw badValue(answer.path, 'The ACVPU answer must be one SNOMED CT code: 248234008 alert, 130987000 new confusion, 300202002 voice, 450847001 pain, 422768004 unresponsive');
      }
      fields.set('consciousness', answer.path);
      return { consciousness: letters[0] };
    }
    case 'air': {
      const onOxygen = observationKindsOf(codingsOf(obs.get('code'))).has('oxygen');
      fields.set('airOrOxygen', `${obs.path}.code`);
      const result: Json = { airOrOxygen: onOxygen ? 'oxygen' : 'air' };
      for (const component of obs.get('component').list()) {
        if (!isOneOf(component.get('code'), OXYGEN_FLOW)) throw badValue(`${component.path}.code`, 'Only the oxygen flow rate (LOINC 3151-8) is recorded with air or oxygen');
        result.oxygenFlowLPerMin = quantity(component.get('valueQuantity'), LITRES_PER_MINUTE, 'oxygenFlowLPerMin', fields);
      }
      return result;
    }
  }
};

/** "Relation to meal" text -> the command's value: the texts the projection writes, and the values themselves. */
const MEAL_RELATIONS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(MEAL_RELATION_VOCABULARY).flatMap(([value, v]) => v.accepted.map((text) => [text, value])),
);

const glucoseFields = (obs: El, fields: FieldMap): Json => {
  const result: Json = { glucoseMmolL: quantity(obs.get('valueQuantity'), MMOL_PER_L, 'glucoseMmolL', fields) };
  for (const component of obs.get('component').list()) {
    if (component.get('code').get('text').string()?.trim().toLowerCase() !== MEAL_RELATION_COMPONENT_TEXT.toLowerCase()) {
      throw badValue(`${component.path}.code`, 'A capillary blood glucose holds only the "Relation to meal" component');
    }
    const text = component.get('valueCodeableConcept').get('text').string()?.trim().toLowerCase() ?? '';
    fields.set('relationToMeal', `${component.path}.valueCodeableConcept`);
    result.relationToMeal = MEAL_RELATIONS[text] ?? text;
  }
  return result;
};

const ketonesFields = (obs: El, fields: FieldMap): Json => ({ ketonesMmolL: quantity(obs.get('valueQuantity'), MMOL_PER_L, 'ketonesMmolL', fields) });

// ---------------------------------------------------------------------------------------------
// Medication administration (insulin)
// ---------------------------------------------------------------------------------------------

const SITES: Readonly<Record<string, string>> = { abdomen: 'abdomen', thigh: 'thigh', buttock: 'buttock', 'upper-arm': 'upper-arm', 'upper arm': 'upper-arm' };

/** `dosage.site.text` as the projection writes it ("Upper arm, left") or as the command names it. */
const siteOf = (site: El, fields: FieldMap): Json => {
  const text = site.get('text').string();
  fields.set('site', site.path).set('side', site.path);
  if (text === undefined) return {};
  const [where = '', side] = text.split(',').map((s) => s.trim().toLowerCase());
  return { site: SITES[where] ?? where, ...(side ? { side } : {}) };
};

/** R4 has a list of Device references; the pen may also be named in `dosage.method` (as the projection writes it). */
const deviceOf = (ma: El, fields: FieldMap): string => {
  const device = ma.get('device').first();
  const method = ma.get('dosage').get('method');
  const named = device.present ? device.get('display').string() : method.get('text').string();
  fields.set('device', device.present ? `${device.path}.display` : `${method.path}.text`);
  if (named === undefined) {
    if (device.present) throw badValue(`${device.path}.display`, 'Name the device: insulin is given by pen');
    return 'pen';
  }
  return /^(insulin )?pen$/i.test(named.trim()) ? 'pen' : named;
};

const doseOf = (dose: El, field: string, fields: FieldMap): Json => {
  if (!dose.present) throw required(dose.path, `${dose.path} is required: the dose in units`);
  fields.set(field, dose.path).set(`${field}.value`, `${dose.path}.value`).set(`${field}.unit`, `${dose.path}.unit`);
  return { value: dose.get('value').raw(), unit: dose.get('unit').raw() };
};

type MedicationEntry = { type: 'InsulinAdministered' | 'InsulinWithheld'; data: Json; confirmedNotDuplicate: boolean };

const medicationEntryOf = (ma: El, status: string, fields: FieldMap): MedicationEntry => {
  const medication = ma.get('medicationCodeableConcept');
  if (!medication.present) throw required(medication.path, `${medication.path} is required: the insulin product as written on the person's instruction`);
  const product = medication.get('text').string() ?? medication.get('coding').first().get('display').string();
  fields.set('product', medication.path);
  const dosage = ma.get('dosage');
  if (!dosage.present) throw required(dosage.path, `${dosage.path} is required`);
  if (status === 'completed') {
    const confirmed = ma
      .get('extension')
      .list()
      .some((e) => e.get('url').string() === CONFIRMED_NOT_DUPLICATE_EXTENSION && e.get('valueBoolean').raw() === true);
    fields.set('confirmedNotDuplicate', `${ma.path}.extension`);
    return {
      type: 'InsulinAdministered',
      data: { product, device: deviceOf(ma, fields), dose: doseOf(dosage.get('dose'), 'dose', fields), ...siteOf(dosage.get('site'), fields) },
      confirmedNotDuplicate: confirmed,
    };
  }
  if (status === 'not-done') {
    const reason = ma.get('statusReason').first();
    fields.set('reason', ma.get('statusReason').path);
    return {
      type: 'InsulinWithheld',
      data: { product, plannedDose: doseOf(dosage.get('dose'), 'plannedDose', fields), reason: reason.get('text').string() ?? reason.get('coding').first().get('display').string() },
      confirmedNotDuplicate: false,
    };
  }
  throw badValue(`${ma.path}.status`, `${ma.path}.status must be completed (insulin given) or not-done (withheld, with statusReason)`);
};

// ---------------------------------------------------------------------------------------------
// Patient
// ---------------------------------------------------------------------------------------------

const patientDetailsOf = (patient: El, fields: FieldMap): Json => {
  const details: Json = {};
  const names = patient.get('name').list();
  const name = names.find((n) => n.get('use').string() === 'official') ?? names[0];
  if (name) {
    const prefix = name.get('prefix').list().map((p) => p.string());
    details.name = { given: name.get('given').list().map((g) => g.string()), family: name.get('family').raw(), ...(prefix.length ? { prefix: prefix.join(' ') } : {}) };
    fields.set('name', name.path).set('name.given', `${name.path}.given`).set('name.family', `${name.path}.family`).set('name.prefix', `${name.path}.prefix`);
  }
  if (patient.get('birthDate').present) details.birthDate = patient.get('birthDate').raw();
  if (patient.get('gender').present) details.gender = patient.get('gender').raw();
  fields.set('birthDate', `${patient.path}.birthDate`).set('gender', `${patient.path}.gender`);
  const addresses = patient.get('address').list();
  // One home address is kept: a second would be dropped without a word, so it is refused.
  if (addresses.length > 1) throw notSupported(addresses[1]!.path, 'One address (the home address) is recorded here: send the home address only');
  const address = addresses[0];
  if (address?.present) {
    const kept = new Set(['line', 'city', 'district', 'postalCode', 'use', 'country']);
    for (const key of Object.keys(address.raw() as Json)) {
      if (!kept.has(key.replace(/^_/, ''))) throw notSupported(`${address.path}.${key}`, `${address.path}.${key} is not recorded by this server: nothing was stored`);
    }
    const use = address.get('use').string();
    if (use !== undefined && use !== 'home') throw notSupported(`${address.path}.use`, 'The address recorded here is the home address (use home)');
    const country = address.get('country').string();
    if (country !== undefined && !['GB', 'GBR', 'UK', 'United Kingdom', 'England'].includes(country)) throw notSupported(`${address.path}.country`, 'Addresses here are in the United Kingdom (a UK postcode)');
    const city = address.get('city').raw();
    const district = address.get('district').raw();
    details.address = { lines: address.get('line').list().map((l) => l.raw()), ...(city !== undefined ? { city } : {}), ...(district !== undefined ? { district } : {}), postcode: address.get('postalCode').raw() };
    fields
      .set('address', address.path)
      .set('address.lines', `${address.path}.line`)
      .set('address.city', `${address.path}.city`)
      .set('address.district', `${address.path}.district`)
      .set('address.postcode', `${address.path}.postalCode`);
  }
  const telecom = patient.get('telecom').list();
  if (telecom.length > 0) {
    details.telecom = telecom.map((contact, i) => {
      only(contact, CONTACT_POINT_ELEMENTS);
      fields.set(`telecom.${i}`, contact.path).set(`telecom.${i}.system`, `${contact.path}.system`).set(`telecom.${i}.value`, `${contact.path}.value`).set(`telecom.${i}.use`, `${contact.path}.use`);
      const system = contact.get('system').raw();
      // Fax, pager, sms, url and other: not a way this record reaches a person, so refused rather than kept unread.
      if (system !== undefined && system !== 'phone' && system !== 'email') throw notSupported(`${contact.path}.system`, `${contact.path}.system: a phone number or an email address is recorded here (got ${JSON.stringify(system)}): nothing was stored`);
      const use = contact.get('use').raw();
      return { system, value: contact.get('value').raw(), ...(use !== undefined ? { use } : {}) };
    });
    fields.set('telecom', `${patient.path}.telecom`);
  }
  const verification = nhsNumberVerificationOf(patient, fields);
  if (verification !== undefined) details.nhsNumberVerificationStatus = verification;
  profilesOf(patient);
  const active = patient.get('active').raw();
  if (active !== undefined && active !== true) throw notSupported(`${patient.path}.active`, 'A person is never made inactive through FHIR here');
  const gps = patient.get('generalPractitioner');
  fields.set('gpPractice', gps.path).set('registeredGp', gps.path);
  for (const gp of gps.list()) {
    const reference = gp.get('reference').string();
    const identifier = gp.get('identifier');
    if (identifier.get('system').string() === ODS_ORGANISATION_SYSTEM) {
      details.gpPractice = { odsCode: identifier.get('value').raw(), name: gp.get('display').raw() };
      fields.set('gpPractice', gp.path).set('gpPractice.odsCode', `${identifier.path}.value`).set('gpPractice.name', `${gp.path}.display`);
    } else if (reference?.startsWith('Practitioner/')) {
      details.registeredGp = reference.slice('Practitioner/'.length);
      fields.set('registeredGp', `${gp.path}.reference`);
    } else {
      throw badValue(gp.path, `The GP practice must carry its ODS code (identifier system ${ODS_ORGANISATION_SYSTEM}) and its name (display)`);
    }
  }
  return details;
};

/** The details a POSTed Patient may carry, compared with the record's when the person is already registered. */
const PATIENT_DETAILS = ['name', 'birthDate', 'gender', 'address', 'gpPractice', 'registeredGp', 'telecom', 'nhsNumberVerificationStatus'] as const;

/** A ContactPoint's elements kept (rank and period are not: refused, naming them). */
const CONTACT_POINT_ELEMENTS = new Set(['system', 'value', 'use']);

/**
 * The NHS number's verification status (UK Core's extension on the NHS number identifier): its
 * England code, stored and returned. Any other extension on the identifier would be dropped, so it
 * is refused, naming it.
 */
const nhsNumberVerificationOf = (patient: El, fields: FieldMap): unknown => {
  const identifier = patient
    .get('identifier')
    .list()
    .find((i) => i.get('system').string() === NHS_NUMBER_SYSTEM);
  if (!identifier) return undefined;
  let status: unknown;
  for (const extension of identifier.get('extension').list()) {
    const url = extension.get('url').string();
    if (url !== NHS_NUMBER_VERIFICATION_EXTENSION) throw notSupported(`${extension.path}`, `The extension ${url ?? '(without url)'} on the NHS number is not recorded by this server: nothing was stored`);
    only(extension, new Set(['url', 'valueCodeableConcept']));
    const codings = extension.get('valueCodeableConcept').get('coding').list();
    const coding = codings.find((c) => c.get('system').string() === NHS_NUMBER_VERIFICATION_SYSTEM);
    if (!coding) throw badValue(`${extension.path}.valueCodeableConcept`, `The verification status must be coded in ${NHS_NUMBER_VERIFICATION_SYSTEM} (01 to 08): nothing was stored`);
    fields.set('nhsNumberVerificationStatus', `${coding.path}.code`);
    status = coding.get('code').raw();
  }
  return status;
};

/** `meta.profile`: UK Core Patient or base R4 Patient is accepted (what is stored declares the server's own, UK Core's); another is refused, naming it. */
const profilesOf = (patient: El): void => {
  for (const profile of patient.get('meta').get('profile').list()) {
    const url = profile.string();
    if (url === undefined || !ACCEPTED_PATIENT_PROFILES.includes(url)) {
      throw notSupported(profile.path, `The profile ${JSON.stringify(profile.raw())} is not one this server conforms to (${ACCEPTED_PATIENT_PROFILES.join(' or ')}): nothing was stored`);
    }
  }
};

const nhsNumberOf = (patient: El, fields: FieldMap): El | undefined => {
  const identifier = patient
    .get('identifier')
    .list()
    .find((i) => i.get('system').string() === NHS_NUMBER_SYSTEM);
  if (identifier) fields.set('nhsNumber', `${identifier.path}.value`);
  return identifier?.get('value');
};

// ---------------------------------------------------------------------------------------------
// Commands and errors
// ---------------------------------------------------------------------------------------------

export interface FhirWritesOptions {
  /** The clock for a correction's or a registration's own time (the record service's clock). */
  readonly now?: () => Date;
}

/** FHIR create and update for the record service, through the care record's commands. */
export const fhirWrites = (care: CareRecord, authorise: WriteAuthoriser, options: FhirWritesOptions = {}): FhirWrites => {
  const now = options.now ?? (() => new Date());
  // A planned visit (issue 13): its own reading of the resource, through the visits' commands.
  const appointments = appointmentWrites(care.visits, authorise, now);
  // The visit as it happened: the care worker's check-in and check-out, through the visits' commands.
  const encounters = encounterWrites(care.visits, authorise);
  // What a person is prescribed and must not be given (issue 13): through the medicines stream's commands.
  const medicines = medicineWrites(care, authorise, now);

  // --- create ---------------------------------------------------------------------------------

  const createPatient = async (body: unknown, req: Request, entryKey?: string) => {
    const actor = await authorise(req, FHIR_ACCESS.create('Patient'), 'nobody');
    const patient = resourceOf('Patient', body, PATIENT_ELEMENTS);
    const fields = new FieldMap('Patient');
    const nhsNumber = nhsNumberOf(patient, fields);
    if (!nhsNumber?.present) throw required(`Patient.identifier`, `The person's NHS number is required (identifier system ${NHS_NUMBER_SYSTEM})`);
    const cmd = accepted(
      parseCommand(RegisterPatientSchema, {
        idempotencyKey: keyOf(req, 'POST:Patient', body, entryKey),
        occurredAt: now().toISOString(),
        nhsNumber: nhsNumber.raw(),
        ...patientDetailsOf(patient, fields),
      }),
      fields,
    );
    const result = await translated(fields, () => care.registerPatient(cmd, actor, SERVER_TIME));
    // `created` is false for someone else's registration: the route decides what the answer may show.
    if (result.created) return { id: result.patientId, position: result.position, created: !result.replayed };
    // Already registered: details sent that differ from the record's would be dropped by a 200, so
    // they are named (shown only once the route has decided the caller may know the person).
    const registered = await care.patient(result.patientId);
    const conflicting = PATIENT_DETAILS.filter((key) => cmd[key] !== undefined && JSON.stringify(cmd[key]) !== JSON.stringify(registered[key])).map((key) => ({
      code: 'conflict' as const,
      expression: fields.resolve(key),
      diagnostics: `Patient/${result.patientId} is already registered with this NHS number and another ${key === 'gpPractice' || key === 'registeredGp' ? 'GP' : key === 'nhsNumberVerificationStatus' ? 'NHS number verification status' : key}: nothing was stored; read it and PUT the change with If-Match`,
    }));
    return { id: result.patientId, position: result.position, created: false, foundExisting: true, ...(conflicting.length > 0 ? { conflicting } : {}) };
  };

  const createObservation = async (body: unknown, req: Request, entryKey?: string) => {
    const obs = resourceOf('Observation', body, OBSERVATION_ELEMENTS);
    const fields = new FieldMap('Observation').set('patientId', 'Observation.subject').set('occurredAt', 'Observation.effectiveDateTime');
    const status = statusOf(obs);
    const patientId = subjectOf(obs);
    const actor = await authorise(req, FHIR_ACCESS.create('Observation'), { patientId });
    const occurredAt = effectiveOf(obs);
    const kind = kindOf(obs);
    if (status !== 'final') throw badValue('Observation.status', 'A new Observation is recorded as final');
    if (obs.get('note').present) throw notSupported('Observation.note', 'A note is recorded as its own entry, not with a measurement: nothing was stored');
    const base = { idempotencyKey: keyOf(req, 'POST:Observation', body, entryKey), patientId, occurredAt };
    if (isVitalKind(kind)) {
      const cmd = accepted(parseCommand(RecordVitalSignsSchema, { ...base, ...vitalFields(obs, kind, fields) }), fields);
      const result = await translated(fields, () => care.recordCare('RecordVitalSigns', cmd, actor));
      return { id: entryResourceId(firstEventId(result), kind), position: result.position, created: !result.replayed };
    }
    if (kind === 'glucose') {
      const cmd = accepted(parseCommand(RecordBloodGlucoseSchema, { ...base, ...glucoseFields(obs, fields) }), fields);
      const result = await translated(fields, () => care.recordCare('RecordBloodGlucose', cmd, actor));
      return { id: firstEventId(result), position: result.position, created: !result.replayed };
    }
    throw badValue(
      'Observation.code',
      kind === 'news2' ? 'NEWS2 is computed from the vital signs: record the measurements' : 'A vital signs panel is recorded with its members: POST a transaction Bundle to /fhir holding the panel and the Observations its hasMember names',
    );
  };

  const createMedicationAdministration = async (body: unknown, req: Request, entryKey?: string) => {
    const ma = resourceOf('MedicationAdministration', body, MEDICATION_ADMINISTRATION_ELEMENTS);
    const fields = new FieldMap('MedicationAdministration').set('patientId', 'MedicationAdministration.subject').set('occurredAt', 'MedicationAdministration.effectiveDateTime');
    const status = statusOf(ma);
    const patientId = subjectOf(ma);
    const actor = await authorise(req, FHIR_ACCESS.create('MedicationAdministration'), { patientId });
    const occurredAt = effectiveOf(ma);
    const entry = medicationEntryOf(ma, status, fields);
    const base = { idempotencyKey: keyOf(req, 'POST:MedicationAdministration', body, entryKey), patientId, occurredAt };
    const result =
      entry.type === 'InsulinAdministered'
        ? await (async () => {
            const cmd = accepted(parseCommand(RecordInsulinAdministeredSchema, { ...base, ...entry.data, ...(entry.confirmedNotDuplicate ? { confirmedNotDuplicate: true } : {}) }), fields);
            return translated(fields, () => care.recordCare('RecordInsulinAdministered', cmd, actor));
          })()
        : await (async () => {
            const cmd = accepted(parseCommand(RecordInsulinWithheldSchema, { ...base, ...entry.data }), fields);
            return translated(fields, () => care.recordCare('RecordInsulinWithheld', cmd, actor));
          })();
    return { id: firstEventId(result), position: result.position, created: !result.replayed };
  };

  // --- update ---------------------------------------------------------------------------------
  //
  // Every update is decided on the write model, never on a read model: the entry (or the person)
  // comes from their stream as the decider folds it, the If-Match version is part of the command,
  // and the decider refuses it when the stream holds another version (H49: a correction made on
  // a stale copy is never applied, however far the projection lags).

  const { authoriseUpdate, unknownEntry } = updateAccess(authorise);

  /**
   * The entry as the person's stream holds it. One their record does not hold (not recorded, or
   * someone else's) is decided as about no one known, as a read of it is (routes.ts allowedRead):
   * 403 to anyone bound by a relationship, so an id tells a stranger nothing; 404 to the others.
   */
  const entryFor = async (type: string, id: string, patientId: string, entryId: string, req: Request): Promise<CareEntry> => {
    const entry = await care.careEntry(patientId, entryId).catch((error: unknown) => {
      if (error instanceof PatientNotFound) return undefined;
      throw error;
    });
    return entry ?? unknownEntry(type, id, req);
  };

  const correctionReason = (resource: El, entry: CareEntry): string => {
    const reason = newNoteOf(resource, serverNotesOf(entry));
    if (reason === undefined) {
      throw new FhirError(422, [{ code: 'required', diagnostics: `A correction must say why it is made: add a note (${resource.path}.note) with the reason`, expression: `${resource.path}.note` }]);
    }
    return reason;
  };

  const updateObservation = async (id: string, body: unknown, ifMatch: number | undefined, req: Request, entryKey?: string) => {
    const obs = resourceOf('Observation', body, OBSERVATION_ELEMENTS);
    if (obs.get('id').raw() !== id) throw new FhirError(400, [{ code: 'invalid', diagnostics: `Observation.id must be ${id}, as in the URL`, expression: 'Observation.id' }]);
    if (ifMatch === undefined) throw preconditionRequired('Observation', id);
    const status = statusOf(obs);
    const patientId = subjectOf(obs);
    const actor = await authoriseUpdate('Observation', id, { patientId }, req);
    const parsed = parseEntryResourceId(id);
    if (!parsed) return unknownEntry('Observation', id, req);
    const { entryId, suffix: member } = parsed;
    const entry = await entryFor('Observation', id, patientId, entryId, req);
    const currentKind = observationKindOf(entry, member);
    if (currentKind === undefined) return unknownEntry('Observation', id, req);
    if (entry.version !== ifMatch) throw staleVersion('Observation', id, entry.version, ifMatch);
    const reason = correctionReason(obs, entry);
    const fields = new FieldMap('Observation')
      .set('patientId', 'Observation.subject')
      .set('entryId', 'Observation.id')
      .set('expectedVersion', 'If-Match')
      .set('reason', 'Observation.note')
      .set('replacement.type', 'Observation.code')
      .set('replacement.occurredAt', 'Observation.effectiveDateTime');
    const base = { idempotencyKey: keyOf(req, `PUT:Observation/${id}@${ifMatch}`, body, entryKey), patientId, occurredAt: now().toISOString(), entryId, reason, expectedVersion: ifMatch };

    const markInError = async () => {
      const cmd = accepted(parseCommand(MarkEntryEnteredInErrorSchema, base), fields);
      return translated(fields, () => care.recordCare('MarkEntryEnteredInError', cmd, actor, SERVER_TIME));
    };
    const amend = async (type: 'VitalSignsRecorded' | 'BloodGlucoseRecorded', data: Json, memberFields: FieldMap, time: { occurredAt?: string }) => {
      fields.nest('replacement.data', memberFields);
      const cmd = accepted(parseCommand(AmendEntrySchema, { ...base, replacement: { type, data, ...time } }), fields);
      return translated(fields, () => care.recordCare('AmendEntry', cmd, actor, SERVER_TIME));
    };

    if (status === 'entered-in-error') {
      // A member taken out of its entry: the entry is amended without it (the whole entry when it was the only one).
      if (isVitalKind(member)) {
        const rest = vitalsOf(entry, member);
        const result = Object.keys(rest).length > 0 ? await amend('VitalSignsRecorded', rest, new FieldMap('Observation'), {}) : await markInError();
        return { position: result.position };
      }
      if (member === 'ketones') {
        const result = await amend('BloodGlucoseRecorded', glucoseOf(entry, 'glucose'), new FieldMap('Observation'), {});
        return { position: result.position };
      }
      if (member !== undefined) throw notSupported('Observation.status', `Observation/${id} is derived from its entry: mark Observation/${entryId} entered in error`);
      return { position: (await markInError()).position };
    }

    if (!['final', 'amended', 'corrected'].includes(status)) throw badValue('Observation.status', 'An updated Observation is final, amended or corrected (or entered-in-error)');
    const time = correctedTime(effectiveOf(obs), entry.occurredAt);
    const memberFields = new FieldMap('Observation');
    if (isVitalKind(currentKind)) {
      if (kindOf(obs) !== currentKind) throw badValue('Observation.code', `Observation/${id} records ${currentKind}: its code cannot change`);
      const data = { ...vitalsOf(entry, currentKind), ...vitalFields(obs, currentKind, memberFields) };
      return { position: (await amend('VitalSignsRecorded', data, memberFields, time)).position };
    }
    if (currentKind === 'glucose') {
      if (kindOf(obs) !== 'glucose') throw badValue('Observation.code', `Observation/${id} records capillary blood glucose: its code cannot change`);
      const data = { ...glucoseFields(obs, memberFields), ...glucoseOf(entry, 'ketones') };
      return { position: (await amend('BloodGlucoseRecorded', data, memberFields, time)).position };
    }
    if (currentKind === 'ketones') {
      const data = { ...glucoseOf(entry, 'glucose'), ...ketonesFields(obs, memberFields) };
      return { position: (await amend('BloodGlucoseRecorded', data, memberFields, time)).position };
    }
    if (currentKind === 'news2') throw notSupported('Observation', 'NEWS2 is computed from the vital signs: amend the measurements');
    if (currentKind === 'panel') throw notSupported('Observation', 'A vital signs panel holds no values: update its members');
    throw notSupported('Observation', `Observation/${id} can be marked entered in error through FHIR; amend it through the JSON API`);
  };

  const updateMedicationAdministration = async (id: string, body: unknown, ifMatch: number | undefined, req: Request, entryKey?: string) => {
    const ma = resourceOf('MedicationAdministration', body, MEDICATION_ADMINISTRATION_ELEMENTS);
    if (ma.get('id').raw() !== id) {
      throw new FhirError(400, [{ code: 'invalid', diagnostics: `MedicationAdministration.id must be ${id}, as in the URL`, expression: 'MedicationAdministration.id' }]);
    }
    if (ifMatch === undefined) throw preconditionRequired('MedicationAdministration', id);
    const status = statusOf(ma);
    const patientId = subjectOf(ma);
    const actor = await authoriseUpdate('MedicationAdministration', id, { patientId }, req);
    const entry = await entryFor('MedicationAdministration', id, patientId, id, req);
    if (entry.type !== 'InsulinAdministered' && entry.type !== 'InsulinWithheld') return unknownEntry('MedicationAdministration', id, req);
    if (entry.version !== ifMatch) throw staleVersion('MedicationAdministration', id, entry.version, ifMatch);
    const reason = correctionReason(ma, entry);
    const fields = new FieldMap('MedicationAdministration')
      .set('patientId', 'MedicationAdministration.subject')
      .set('entryId', 'MedicationAdministration.id')
      .set('expectedVersion', 'If-Match')
      .set('reason', 'MedicationAdministration.note')
      .set('replacement.type', 'MedicationAdministration.status')
      .set('replacement.occurredAt', 'MedicationAdministration.effectiveDateTime');
    const base = {
      idempotencyKey: keyOf(req, `PUT:MedicationAdministration/${id}@${ifMatch}`, body, entryKey),
      patientId,
      occurredAt: now().toISOString(),
      entryId: id,
      reason,
      expectedVersion: ifMatch,
    };
    if (status === 'entered-in-error') {
      const cmd = accepted(parseCommand(MarkEntryEnteredInErrorSchema, base), fields);
      return { position: (await translated(fields, () => care.recordCare('MarkEntryEnteredInError', cmd, actor, SERVER_TIME))).position };
    }
    const entryFields = new FieldMap('MedicationAdministration');
    const replacement = medicationEntryOf(ma, status, entryFields);
    fields.nest('replacement.data', entryFields);
    const time = correctedTime(effectiveOf(ma), entry.occurredAt);
    const cmd = accepted(parseCommand(AmendEntrySchema, { ...base, replacement: { type: replacement.type, data: replacement.data, ...time } }), fields);
    return { position: (await translated(fields, () => care.recordCare('AmendEntry', cmd, actor, SERVER_TIME))).position };
  };

  const updatePatient = async (id: string, body: unknown, ifMatch: number | undefined, req: Request, entryKey?: string) => {
    const patient = resourceOf('Patient', body, PATIENT_ELEMENTS);
    if (patient.get('id').raw() !== id) throw new FhirError(400, [{ code: 'invalid', diagnostics: `Patient.id must be ${id}, as in the URL`, expression: 'Patient.id' }]);
    // A Patient's id comes from the NHS number: decided before the read, so a 404 tells a stranger nothing.
    const actor = await authorise(req, FHIR_ACCESS.update('Patient'), { patientId: id });
    const current = await care.patient(id).catch((error: unknown) => {
      throw error instanceof PatientNotFound ? FhirError.notFound('Patient', id) : error;
    });
    if (ifMatch !== undefined && ifMatch !== current.version) throw staleVersion('Patient', id, current.version, ifMatch);
    const fields = new FieldMap('Patient').set('patientId', 'Patient.id').set('expectedVersion', 'If-Match');
    const nhsNumber = nhsNumberOf(patient, fields)?.raw();
    if (nhsNumber !== undefined && nhsNumber !== current.nhsNumber) {
      throw new FhirError(422, [{ code: 'business-rule', diagnostics: "A person's NHS number never changes", expression: fields.resolve('nhsNumber') }]);
    }
    const cmd = accepted(
      parseCommand(UpdatePatientDetailsSchema, {
        idempotencyKey: keyOf(req, `PUT:Patient/${id}@${ifMatch ?? '*'}`, body, entryKey),
        patientId: id,
        occurredAt: now().toISOString(),
        ...(ifMatch === undefined ? {} : { expectedVersion: ifMatch }),
        ...patientDetailsOf(patient, fields),
      }),
      fields,
    );
    return { position: (await translated(fields, () => care.updatePatientDetails(cmd, actor, SERVER_TIME))).position };
  };

  const create = async (type: string, body: unknown, req: Request, entryKey?: string) => {
    switch (type) {
      case 'Patient':
        return createPatient(body, req, entryKey);
      case 'Observation':
        return createObservation(body, req, entryKey);
      case 'MedicationAdministration':
        return createMedicationAdministration(body, req, entryKey);
      case 'Appointment':
        return appointments.create(body, req, entryKey);
      case 'Encounter':
        return encounters.create(body, req, entryKey);
      case 'MedicationRequest':
      case 'AllergyIntolerance':
      case 'Condition':
        return medicines.create(type, body, req, entryKey);
      default:
        throw new FhirError(405, [{ code: 'not-supported', diagnostics: `${type} cannot be created through FHIR here` }]);
    }
  };

  const update = async (type: string, id: string, body: unknown, ifMatch: number | undefined, req: Request, entryKey?: string) => {
    switch (type) {
      case 'Patient':
        return updatePatient(id, body, ifMatch, req, entryKey);
      case 'Observation':
        return updateObservation(id, body, ifMatch, req, entryKey);
      case 'MedicationAdministration':
        return updateMedicationAdministration(id, body, ifMatch, req, entryKey);
      case 'Appointment':
        return appointments.update(id, body, ifMatch, req, entryKey);
      case 'Encounter':
        return encounters.update(id, body, ifMatch, req, entryKey);
      case 'MedicationRequest':
      case 'AllergyIntolerance':
      case 'Condition':
        return medicines.update(type, id, body, ifMatch, req, entryKey);
      default:
        throw new FhirError(405, [{ code: 'not-supported', diagnostics: `${type} cannot be updated through FHIR here` }]);
    }
  };

  // --- transaction and batch Bundles ------------------------------------------------------------

  /**
   * A vital signs panel (LOINC 85353-1) and the members its hasMember names: ONE RecordVitalSigns,
   * so the entry holds every measurement and its NEWS2 is scored on all of them (five single POSTs
   * make five entries, each with an incomplete NEWS2). Each member is read exactly as a single
   * POSTed Observation is; errors name the member's element in the Bundle.
   */
  const createPanel = async (panel: BundleItem, members: readonly BundleItem[], req: Request, entryKey: string | undefined): Promise<UnitResult> => {
    const obs = resourceOf('Observation', panel.resource, OBSERVATION_ELEMENTS, panel.path);
    const fields = new FieldMap(panel.path).set('patientId', `${panel.path}.subject`).set('occurredAt', `${panel.path}.effectiveDateTime`);
    const status = statusOf(obs);
    const patientId = subjectOf(obs);
    const actor = await authorise(req, FHIR_ACCESS.create('Observation'), { patientId });
    const occurredAt = effectiveOf(obs);
    if (status !== 'final') throw badValue(`${panel.path}.status`, 'A new Observation is recorded as final');
    if (obs.get('note').present) throw notSupported(`${panel.path}.note`, 'A note is recorded as its own entry, not with a measurement: nothing was stored');
    for (const element of ['valueQuantity', 'valueCodeableConcept', 'component', 'derivedFrom']) {
      if (obs.get(element).present) throw notSupported(`${panel.path}.${element}`, `A vital signs panel holds its measurements in its members, not in ${element}: nothing was stored`);
    }
    let data: Json = {};
    const kinds = new Map<VitalKind, BundleItem>();
    const memberKinds: VitalKind[] = [];
    for (const member of members) {
      const el = resourceOf('Observation', member.resource, OBSERVATION_ELEMENTS, member.path);
      const memberStatus = statusOf(el);
      if (memberStatus !== 'final') throw badValue(`${member.path}.status`, 'A new Observation is recorded as final');
      if (subjectOf(el) !== patientId) throw badValue(`${member.path}.subject`, `A member of the panel must be about the panel's person (Patient/${patientId})`);
      const memberTime = effectiveOf(el);
      if (Date.parse(memberTime) !== Date.parse(occurredAt)) {
        throw badValue(`${member.path}.effectiveDateTime`, `A member of the panel is recorded at the panel's time (${occurredAt}): send a measurement taken at another time in its own entry`);
      }
      if (el.get('note').present) throw notSupported(`${member.path}.note`, 'A note is recorded as its own entry, not with a measurement: nothing was stored');
      const kind = kindOf(el);
      if (!isVitalKind(kind)) throw badValue(`${member.path}.code`, `A vital signs panel's members are vital signs (${SUPPORTED_CODES_TEXT})`);
      const earlier = kinds.get(kind);
      if (earlier) throw badValue(`${member.path}.code`, `The panel already holds this measurement (${kind}) in ${earlier.path}: one value per measurement`);
      kinds.set(kind, member);
      memberKinds.push(kind);
      data = { ...data, ...vitalFields(el, kind, fields) };
    }
    const key = entryKey ?? `fhir:POST:Observation-panel:${sha256({ panel: panel.resource, members: members.map((m) => m.resource) })}`;
    const cmd = accepted(parseCommand(RecordVitalSignsSchema, { idempotencyKey: key, patientId, occurredAt, ...data }), fields);
    const result = await translated(fields, () => care.recordCare('RecordVitalSigns', cmd, actor));
    const entryId = firstEventId(result);
    const created = !result.replayed;
    return [
      { index: panel.index, status: created ? 201 : 200, type: 'Observation', id: entryId, position: result.position, created },
      ...members.map((m, i) => ({ index: m.index, status: created ? 201 : 200, type: 'Observation', id: entryResourceId(entryId, memberKinds[i]!), position: result.position, created })),
    ];
  };

  const runSingle = async (item: BundleItem, req: Request, entryKey: string | undefined): Promise<UnitResult> => {
    try {
      if (item.method === 'POST') {
        const result = await create(item.type, item.resource, req, entryKey);
        return [{ index: item.index, status: result.created === false ? 200 : 201, type: item.type, ...result }];
      }
      const result = await update(item.type, item.id!, item.resource, item.ifMatch, req, entryKey);
      return [{ index: item.index, status: 200, type: item.type, id: item.id!, position: result.position, created: false }];
    } catch (error) {
      throw error instanceof FhirError ? rerooted(error, item.type, item.path) : error;
    }
  };

  const bundle = async (body: unknown, req: Request): Promise<BundleWriteResult> => {
    const { type, items, units } = unitsOf(body);
    const header = req.get('idempotency-key');
    if (type === 'transaction' && units.length > 1) {
      const second = units[1]!;
      throw new FhirError(422, [
        {
          code: 'not-supported',
          diagnostics:
            'A transaction here records one entry of the care record (a vital signs panel with its members, or one resource), so that it is all or nothing: send the other entries in their own transactions, or as a batch',
          expression: `Bundle.entry[${second.kind === 'panel' ? second.panel.index : second.item.index}]`,
        },
      ]);
    }
    const run = (unit: Unit): Promise<UnitResult> => {
      const first = unit.kind === 'panel' ? unit.panel.index : unit.item.index;
      // The client's key names the whole request: a transaction is one command; a batch entry is its own.
      const entryKey = header === undefined ? undefined : type === 'transaction' ? header : `${header}:entry[${first}]`;
      return unit.kind === 'panel' ? createPanel(unit.panel, unit.members, req, entryKey) : runSingle(unit.item, req, entryKey);
    };
    const results: BundleEntryWrite[] = [];
    for (const unit of units) {
      if (type === 'transaction') {
        results.push(...(await run(unit)));
        continue;
      }
      try {
        results.push(...(await run(unit)));
      } catch (error) {
        if (!(error instanceof FhirError)) throw error;
        const indices = unit.kind === 'panel' ? [unit.panel.index, ...unit.members.map((m) => m.index)] : [unit.item.index];
        for (const index of indices) results.push({ index, status: error.status, issues: error.issues });
      }
    }
    // Entries that never became a unit (malformed in a batch) carry their own refusal.
    for (const item of items) if (item.refusal) results.push({ index: item.index, status: item.refusal.status, issues: item.refusal.issues });
    return { type, entries: results.sort((a, b) => a.index - b.index) };
  };

  return {
    writableTypes: WRITABLE_TYPES,
    ifMatchRequired: IF_MATCH_REQUIRED_TYPES,
    create: (type, body, req) => create(type, body, req),
    update: (type, id, body, ifMatch, req) => update(type, id, body, ifMatch, req),
    bundle,
  };
};

// ---------------------------------------------------------------------------------------------
// Bundles: entries, panels and their members
// ---------------------------------------------------------------------------------------------

interface BundleItem {
  readonly index: number;
  /** `Bundle.entry[i].resource`: where errors about this entry's resource point. */
  readonly path: string;
  readonly fullUrl: string | undefined;
  readonly method: 'POST' | 'PUT';
  readonly type: string;
  readonly id?: string;
  readonly ifMatch?: number;
  readonly resource: unknown;
  /** A batch entry refused before it could be run (a transaction throws instead). */
  readonly refusal?: FhirError;
}

type Unit = { kind: 'single'; item: BundleItem } | { kind: 'panel'; panel: BundleItem; members: BundleItem[] };
type UnitResult = BundleEntryWrite[];


/** Issues about `Observation.x` become issues about `Bundle.entry[i].resource.x`. */
const rerooted = (error: FhirError, type: string, path: string): FhirError =>
  new FhirError(
    error.status,
    error.issues.map((issue) =>
      issue.expression === type || issue.expression?.startsWith(`${type}.`) || issue.expression?.startsWith(`${type}[`)
        ? { ...issue, expression: `${path}${issue.expression.slice(type.length)}` }
        : issue,
    ),
    error.reason,
  );

const isPanel = (item: BundleItem): boolean =>
  item.method === 'POST' &&
  item.type === 'Observation' &&
  isObject(item.resource) &&
  new El(item.resource, item.path)
    .get('code')
    .get('coding')
    .list()
    .some((c) => isObject(c.value) && kindsOfCodings([{ system: c.get('system').string(), code: c.get('code').string() }]).has('panel'));

/** One entry's request, read as strictly as a single request is: what this server cannot do is refused, naming the element. */
const itemOf = (entry: El, index: number): BundleItem => {
  const path = `${entry.path}.resource`;
  if (!isObject(entry.value)) throw structure(entry.path, `${entry.path} must be a JSON object`);
  const request = entry.get('request');
  if (!request.present) throw required(request.path, `${request.path} is required: the method and url of this entry`);
  const method = request.get('method').string();
  const url = request.get('url').string();
  if (method !== 'POST' && method !== 'PUT') {
    throw new FhirError(405, [{ code: 'not-supported', diagnostics: `${request.path}.method ${method ?? '(none)'}: a Bundle here creates (POST) or updates (PUT) resources`, expression: `${request.path}.method` }]);
  }
  for (const conditional of ['ifNoneExist', 'ifNoneMatch', 'ifModifiedSince']) {
    if (request.get(conditional).present) throw notSupported(`${request.path}.${conditional}`, `${request.path}.${conditional} (a conditional interaction) is not supported here: nothing was stored`);
  }
  if (url === undefined) throw required(`${request.path}.url`, `${request.path}.url is required`);
  const [type = '', id, ...rest] = url.replace(/^\//, '').split('?')[0]!.split('/');
  if (url.includes('?')) throw notSupported(`${request.path}.url`, 'Conditional create or update (a url with a query) is not supported here: nothing was stored');
  if (!(WRITABLE_TYPES as readonly string[]).includes(type)) throw new FhirError(405, [{ code: 'not-supported', diagnostics: `${type || url} cannot be written through FHIR here; see /fhir/metadata`, expression: `${request.path}.url` }]);
  if (method === 'POST' ? id !== undefined : id === undefined || rest.length > 0) {
    throw structure(`${request.path}.url`, method === 'POST' ? `A POST entry's url is the resource type (${type})` : `A PUT entry's url is ${type}/<id>`);
  }
  const ifMatchRaw = request.get('ifMatch').string();
  const ifMatchParsed = ifMatchRaw === undefined ? undefined : /^(W\/)?"(\d+)"$/.exec(ifMatchRaw.trim());
  if (ifMatchRaw !== undefined && !ifMatchParsed) throw structure(`${request.path}.ifMatch`, `${request.path}.ifMatch must be an ETag like W/"3"`);
  const resource = entry.get('resource');
  if (!resource.present) throw required(path, `${path} is required`);
  return {
    index,
    path,
    fullUrl: entry.get('fullUrl').string(),
    method,
    type,
    ...(id !== undefined ? { id } : {}),
    ...(ifMatchParsed ? { ifMatch: Number(ifMatchParsed[2]) } : {}),
    resource: resource.value,
  };
};

/**
 * The Bundle's entries as units of work: each vital signs panel with the members its hasMember
 * names (by their fullUrl, `urn:uuid:...`, or as `Observation/<fullUrl id>`), and every other entry
 * on its own. In a transaction anything wrong is thrown; in a batch it is that entry's answer.
 */
const unitsOf = (body: unknown): { type: 'transaction' | 'batch'; items: BundleItem[]; units: Unit[] } => {
  if (!isObject(body) || body.resourceType !== 'Bundle') {
    throw new FhirError(400, [{ code: 'invalid', diagnostics: 'POST /fhir takes a Bundle of type transaction or batch', expression: 'Bundle.resourceType' }]);
  }
  const bundleEl = new El(body, 'Bundle');
  const type = bundleEl.get('type').string();
  if (type !== 'transaction' && type !== 'batch') {
    throw new FhirError(422, [{ code: 'not-supported', diagnostics: `Bundle.type must be transaction or batch (got ${JSON.stringify(type ?? null)})`, expression: 'Bundle.type' }]);
  }
  const items: BundleItem[] = bundleEl
    .get('entry')
    .list()
    .map((entry, index) => {
      try {
        return itemOf(entry, index);
      } catch (error) {
        if (type === 'transaction' || !(error instanceof FhirError)) throw error;
        return { index, path: `${entry.path}.resource`, fullUrl: undefined, method: 'POST', type: '', resource: undefined, refusal: error };
      }
    });
  const runnable = items.filter((i) => !i.refusal);
  const byFullUrl = new Map<string, BundleItem>();
  for (const item of runnable) {
    if (item.fullUrl === undefined) continue;
    if (byFullUrl.has(item.fullUrl)) throw structure(`Bundle.entry[${item.index}].fullUrl`, `Bundle.entry[${item.index}].fullUrl ${item.fullUrl} is used by another entry`);
    byFullUrl.set(item.fullUrl, item);
  }
  const memberOf = new Map<number, BundleItem>();
  const units: Unit[] = [];
  const panels: { panel: BundleItem; members: BundleItem[] }[] = [];
  for (const panel of runnable.filter(isPanel)) {
    const members: BundleItem[] = [];
    const hasMember = new El(panel.resource, panel.path).get('hasMember').list();
    if (hasMember.length === 0) throw required(`${panel.path}.hasMember`, 'A vital signs panel names its member Observations in hasMember (their fullUrl in this Bundle)');
    for (const ref of hasMember) {
      const reference = ref.get('reference').string();
      const member = reference === undefined ? undefined : (byFullUrl.get(reference) ?? [...byFullUrl.values()].find((i) => i.fullUrl !== undefined && reference === `Observation/${i.fullUrl.split(/[:/]/).pop()}`));
      if (!member || member === panel || member.method !== 'POST' || member.type !== 'Observation' || isPanel(member)) {
        throw badValue(`${ref.path}.reference`, `${ref.path}.reference must name a new member Observation in this Bundle by its fullUrl (urn:uuid:...)`);
      }
      const claimed = memberOf.get(member.index);
      if (claimed) throw badValue(`${ref.path}.reference`, `Bundle.entry[${member.index}] is already a member of the panel in Bundle.entry[${claimed.index}]`);
      memberOf.set(member.index, panel);
      members.push(member);
    }
    panels.push({ panel, members });
  }
  for (const item of runnable) {
    if (memberOf.has(item.index)) continue;
    const panel = panels.find((p) => p.panel === item);
    units.push(panel ? { kind: 'panel', ...panel } : { kind: 'single', item });
  }
  return { type, items, units };
};

/** A changed bedside time, for the replacement; left out when it is the same instant as the entry's. */
const correctedTime = (occurredAt: string, entryOccurredAt: string): { occurredAt?: string } =>
  Date.parse(entryOccurredAt) === Date.parse(occurredAt) ? {} : { occurredAt };

/** The notes the projection writes on an entry's resources (the vocabulary's texts, from the entry's own history). */
const serverNotesOf = (entry: CareEntry): Set<string> =>
  new Set([
    CONFIRMED_NOT_DUPLICATE_NOTE,
    ...entry.corrections.flatMap((c) => (c.kind === 'amended' ? [correctionNote(c), removedMemberNote(c.reason)] : [correctionNote(c)])),
    ...entry.flags.map(doseFlagNote),
  ]);

/** What the Observation `<entryId>[-<member>]` of this entry records now; undefined when the entry has no such Observation. */
const observationKindOf = (entry: CareEntry, member: EntryMemberSuffix | undefined): ObservationKind | 'ketones' | 'other' | undefined => {
  switch (entry.type) {
    case 'VitalSignsRecorded': {
      if (member === undefined) return 'panel';
      if (member === 'news2') return 'news2';
      if (member === 'ketones') return undefined;
      const data = entry.data as Json;
      return VITAL_SIGN_MEMBER_FIELDS[member].some((field) => data[field] !== undefined) ? member : undefined;
    }
    case 'BloodGlucoseRecorded':
      if (member === undefined) return 'glucose';
      return member === 'ketones' && entry.data.ketonesMmolL !== undefined ? 'ketones' : undefined;
    case 'InsulinAdministered':
    case 'InsulinWithheld':
      return undefined;
    default:
      return member === undefined ? 'other' : undefined;
  }
};

/** The measurements of a vital signs entry as its stream holds them, except one member's. */
const vitalsOf = (entry: CareEntry, except: VitalSignMember | undefined): Json => {
  const data = entry.data as Json;
  const result: Json = {};
  for (const member of VITAL_SIGN_MEMBERS) {
    if (member === except) continue;
    for (const field of VITAL_SIGN_MEMBER_FIELDS[member]) if (data[field] !== undefined) result[field] = data[field];
  }
  return result;
};

/** A glucose entry's reading or its ketones, as its stream holds them. */
const glucoseOf = (entry: CareEntry, part: 'glucose' | 'ketones'): Json => {
  if (entry.type !== 'BloodGlucoseRecorded') return {};
  const { glucoseMmolL, relationToMeal, ketonesMmolL } = entry.data;
  if (part === 'ketones') return ketonesMmolL === undefined ? {} : { ketonesMmolL };
  return relationToMeal === undefined ? { glucoseMmolL } : { glucoseMmolL, relationToMeal };
};
