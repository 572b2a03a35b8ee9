import { FHIR_ACCESS } from '@tandem/auth';
import {
  ChangeAllergySchema,
  ChangeConditionSchema,
  ChangeMedicationOrderSchema,
  correctionNote,
  MarkAllergyEnteredInErrorSchema,
  MarkConditionEnteredInErrorSchema,
  DOSE_UNIT_UCUM,
  DOSE_UNITS,
  MAX_DOSES_UNIT,
  MEDICATION_ROUTE_VOCABULARY,
  orderChangeNote,
  parseCommand,
  medicinesCommandSchemas,
  PrescribeMedicationSchema,
  StopMedicationOrderSchema,
  TIME_CRITICAL_EXTENSION,
  UCUM,
  type DoseUnit,
  type MedicationRoute,
} from '@tandem/contracts';
import type { Request } from 'express';
import type { z } from 'zod';
import { PatientNotFound, type CareRecord } from '../application/care-record';
import { commandDigest } from '@tandem/commands';
import {
  allergyOf,
  conditionOf,
  isUnchangedAllergy,
  isUnchangedCondition,
  isUnchangedOrder,
  orderOf as orderIn,
  type AllergyState,
  type ConditionState,
  type MedicationOrderState,
  type MedicinesState,
} from '../domain/medicines';
import { FhirError } from './operation-outcome';
import {
  accepted,
  badValue,
  codingsOf,
  COMMON_ELEMENTS,
  El,
  FieldMap,
  firstEventId,
  keyOf,
  mustBeActor,
  newNoteOf,
  notSupported,
  only,
  practitionerOf,
  preconditionRequired,
  refused,
  required,
  resourceOf,
  SERVER_TIME,
  staleVersion,
  statusOf,
  structure,
  subjectOf,
  translated,
  updateAccess,
  type Json,
  type WriteAuthoriser,
} from './reading';

/**
 * FHIR create and update of what a person is prescribed and must not be given (issue 13): a GP's
 * system sends a MedicationRequest, AllergyIntolerance or Condition, and it becomes the command the
 * JSON API sends (PrescribeMedication, ChangeMedicationOrder, StopMedicationOrder, RecordAllergy,
 * RecordCondition; an allergy's or condition's update ChangeAllergy, ChangeCondition or their
 * entered-in-error commands, ADR 0031, H97, H98), so every rule (an insulin dosed in units, an allergy that stops a dose) holds
 * whichever way it comes. Each element is read as the projection writes it (mapping/medication-orders.ts,
 * from the contracts' vocabulary), so a resource read from Tandem and sent back is understood; an
 * element the record would not keep is refused naming it, and a dose or timing that cannot be read
 * exactly is refused, never guessed (H88). The choices are in docs/decisions/0028-fhir-medicine-writes.md.
 */

export const MEDICINE_WRITABLE_TYPES = ['MedicationRequest', 'AllergyIntolerance', 'Condition'] as const;

const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
const ALLERGY_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';
const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';

/** `recorder` is written by the projection (whoever recorded it) and accepted back; the other elements are recorded. */
const MEDICATION_REQUEST_ELEMENTS = new Set([...COMMON_ELEMENTS, 'status', 'statusReason', 'intent', 'medicationCodeableConcept', 'subject', 'authoredOn', 'requester', 'recorder', 'dosageInstruction', 'note', 'substitution']);
/** `text` is derived from the rest by the projection: accepted back, never read (the dose is read from its elements only). */
const DOSAGE_ELEMENTS = new Set(['text', 'patientInstruction', 'route', 'doseAndRate', 'timing', 'asNeededBoolean', 'asNeededCodeableConcept', 'maxDosePerPeriod']);
const REPEAT_ELEMENTS = new Set(['boundsPeriod', 'timeOfDay', 'frequency', 'period', 'periodUnit']);
const ALLERGY_ELEMENTS = new Set([...COMMON_ELEMENTS, 'clinicalStatus', 'verificationStatus', 'category', 'criticality', 'code', 'patient', 'recordedDate', 'recorder', 'reaction']);
const CONDITION_ELEMENTS = new Set([...COMMON_ELEMENTS, 'clinicalStatus', 'verificationStatus', 'category', 'code', 'subject', 'onsetDateTime', 'recordedDate', 'recorder', 'note']);
/** An update adds the reason for the change as a note (an allergy's only notes), and a condition may say when it ended. */
const ALLERGY_UPDATE_ELEMENTS = new Set([...ALLERGY_ELEMENTS, 'note']);
const CONDITION_UPDATE_ELEMENTS = new Set([...CONDITION_ELEMENTS, 'abatementDateTime']);

/** An order ends one way here, a stop; the status another system sends says why, in the stop's reason. */
const STOP_STATUSES: Readonly<Record<string, string | undefined>> = { stopped: undefined, completed: 'Completed', cancelled: 'Cancelled', 'entered-in-error': 'Entered in error' };

/** Minutes in a Timing period unit: the minimum interval is read exactly, or not at all. */
const MINUTES_PER: Readonly<Record<string, number>> = { min: 1, h: 60, d: 24 * 60 };
/** Hours in the period a PRN's maximum is counted over (UCUM code or its word). */
const HOURS_PER: Readonly<Record<string, number>> = { h: 1, hour: 1, hours: 1, d: 24, day: 24, days: 24 };

const DOSE_UNIT_OF_UCUM: Readonly<Record<string, DoseUnit>> = Object.fromEntries(Object.entries(DOSE_UNIT_UCUM).map(([unit, code]) => [code, unit as DoseUnit]));

/** Extensions the record understands (by URL); any other would be dropped, so it is refused. */
const extensionsOf = (resource: El, understood: readonly string[]): El[] => {
  const extensions = resource.get('extension').list();
  for (const extension of extensions) {
    const url = extension.get('url').string();
    if (url === undefined || !understood.includes(url)) throw notSupported(extension.path, `The extension ${url ?? '(without url)'} is not recorded by this server: nothing was stored`);
  }
  return extensions;
};

/** The one coding a concept is recorded by (system, code, display; the display from text when the coding has none). */
const oneCoding = (concept: El, fields: FieldMap, field: string): Json => {
  only(concept, new Set(['coding', 'text']));
  const codings = concept.get('coding').list();
  if (codings.length === 0) throw required(`${concept.path}.coding`, `${concept.path}.coding is required: the coded concept`);
  if (codings.length > 1) throw notSupported(`${concept.path}.coding[1]`, `One coding is recorded here (${concept.path}.coding[0]); a second would be dropped: nothing was stored`);
  const coding = only(codings[0]!, new Set(['system', 'code', 'display', 'version', 'userSelected']));
  fields.set(field, coding.path).set(`${field}.system`, `${coding.path}.system`).set(`${field}.code`, `${coding.path}.code`).set(`${field}.display`, `${coding.path}.display`);
  return { system: coding.get('system').raw(), code: coding.get('code').raw(), display: coding.get('display').string() ?? concept.get('text').string() };
};

/** The code of a status CodeableConcept in its code system (clinicalStatus, verificationStatus). */
const statusCode = (concept: El, system: string): string | undefined => {
  if (!concept.present) return undefined;
  const codes = codingsOf(concept).filter((c) => c.system === system).map((c) => c.code);
  if (codes.length !== 1) throw badValue(`${concept.path}.coding`, `${concept.path} must hold one coding of ${system}`);
  return codes[0];
};

/** A date-time as the record compares them: the same instant as `current` is `current`, as it was written. */
const sameInstantAs = (value: unknown, current: string | undefined): unknown =>
  typeof value === 'string' && current !== undefined && Date.parse(value) === Date.parse(current) ? current : value;

// ---------------------------------------------------------------------------------------------
// MedicationRequest: the order
// ---------------------------------------------------------------------------------------------

const productOf = (mr: El, fields: FieldMap): Json => {
  const medication = mr.get('medicationCodeableConcept');
  if (!medication.present) throw required(medication.path, `${medication.path} is required: the product, coded in dm+d (https://dmd.nhs.uk)`);
  return oneCoding(medication, fields, 'product');
};

/** The dose: one doseQuantity in a unit the record writes in full ("units", "microgram"); a range or a dose in text only is refused. */
const doseOf = (dosage: El, fields: FieldMap): Json => {
  const doseAndRate = dosage.get('doseAndRate').list();
  if (doseAndRate.length === 0) {
    throw required(`${dosage.path}.doseAndRate`, `The dose is required as ${dosage.path}.doseAndRate[0].doseQuantity (a value and its unit): a dose in text only is not read`);
  }
  if (doseAndRate.length > 1) throw notSupported(`${dosage.path}.doseAndRate[1]`, 'One dose per order: nothing was stored');
  const entry = doseAndRate[0]!;
  if (entry.get('doseRange').present) {
    throw notSupported(`${entry.path}.doseRange`, 'A dose range ("1 to 2 tablets") leaves the dose to whoever gives it: send the one dose to give (doseQuantity). Nothing was stored');
  }
  only(entry, new Set(['doseQuantity']));
  const quantity = only(entry.get('doseQuantity'), new Set(['value', 'unit', 'system', 'code']));
  if (!quantity.present) throw required(quantity.path, `${quantity.path} is required: the dose's value and unit`);
  fields.set('dose', quantity.path).set('dose.value', `${quantity.path}.value`).set('dose.unit', `${quantity.path}.unit`);
  const system = quantity.get('system').string();
  const code = quantity.get('code').string();
  const word = quantity.get('unit').string()?.trim().toLowerCase();
  if (system !== undefined && system !== UCUM) throw badValue(`${quantity.path}.system`, `A dose's unit is its word (${DOSE_UNITS.join(', ')}) with, where it has one, its UCUM code (${UCUM})`);
  if (code !== undefined) {
    const coded = DOSE_UNIT_OF_UCUM[code];
    if (coded === undefined) throw badValue(`${quantity.path}.code`, `UCUM ${code} is not a dose unit this record uses (${Object.entries(DOSE_UNIT_UCUM).map(([u, c]) => `${c} for ${u}`).join(', ')})`);
    if (word !== undefined && word !== coded) throw badValue(`${quantity.path}.code`, `${quantity.path} says ${word} in unit but UCUM ${code} (${coded}) in code: which was meant cannot be told`);
    return { value: quantity.get('value').raw(), unit: coded };
  }
  return { value: quantity.get('value').raw(), unit: word };
};

/** The route by its coding (subcutaneous, 34206005) or its text; a coding this record does not know is taken by its text alone. */
const routeOf = (dosage: El, fields: FieldMap): MedicationRoute | undefined => {
  const route = only(dosage.get('route'), new Set(['coding', 'text']));
  fields.set('route', route.path);
  if (!route.present) return undefined;
  const entries = Object.entries(MEDICATION_ROUTE_VOCABULARY) as [MedicationRoute, (typeof MEDICATION_ROUTE_VOCABULARY)[MedicationRoute]][];
  const codings = codingsOf(route);
  const text = route.get('text').string()?.trim().toLowerCase();
  const byCode = entries.filter(([, v]) => v.codings.some((k) => codings.some((c) => c.system === k.system && c.code === k.code))).map(([r]) => r);
  const byText = entries.filter(([r, v]) => text === v.text.toLowerCase() || text === r).map(([r]) => r);
  const meant = [...new Set([...byCode, ...byText])];
  const names = entries.map(([, v]) => v.text).join(', ');
  if (meant.length > 1) throw badValue(route.path, `${route.path} names two routes (${meant.join(' and ')}): which was meant cannot be told`);
  if (meant.length === 0) throw badValue(route.path, `${route.path} must be one of ${names} (as text), or SNOMED CT 34206005 (subcutaneous)`);
  return meant[0];
};

/** HH:MM:SS -> the order's HH:MM; a time with seconds would be moved, so it is refused. */
const timeOfDay = (el: El, index: number, fields: FieldMap): unknown => {
  const value = el.string();
  fields.set(`timing.times.${index}`, el.path);
  const match = /^(\d{2}:\d{2})(?::(\d{2}))?$/.exec(value ?? '');
  if (!match) return value;
  if (match[2] !== undefined && match[2] !== '00') throw badValue(el.path, `${el.path} is a time of day to the minute (HH:MM:00)`);
  return match[1];
};

const wholeNumber = (el: El): number | undefined => (typeof el.value === 'number' && Number.isInteger(el.value) ? el.value : undefined);

/**
 * When to give it, as the projection writes it: scheduled times in timing.repeat.timeOfDay; a PRN
 * as asNeededCodeableConcept (what for), timing.repeat once per period (the minimum interval) and
 * maxDosePerPeriod over 24 hours. A frequency without times ("twice a day") is not a time the
 * care worker can keep, and "up to four times a day" is no minimum interval: both are refused.
 */
const timingOf = (dosage: El, fields: FieldMap): Json => {
  const timing = only(dosage.get('timing'), new Set(['repeat']));
  if (!timing.present) {
    throw required(timing.path, `${timing.path} is required: timing.repeat.timeOfDay for scheduled times, or asNeeded with timing.repeat.period (the minimum interval) and maxDosePerPeriod`);
  }
  const repeat = only(timing.get('repeat'), REPEAT_ELEMENTS);
  if (!repeat.present) throw required(repeat.path, `${repeat.path} is required: when to give it`);
  const bounds = only(repeat.get('boundsPeriod'), new Set(['start', 'end']));
  fields.set('timing', timing.path).set('start', `${bounds.path}.start`).set('stop', `${bounds.path}.end`);
  const asNeededBoolean = dosage.get('asNeededBoolean');
  const asNeeded = only(dosage.get('asNeededCodeableConcept'), new Set(['coding', 'text']));
  if (asNeededBoolean.present && asNeeded.present) throw structure(asNeeded.path, `${dosage.path} holds asNeeded once: asNeededBoolean or asNeededCodeableConcept`);
  const frequency = repeat.get('frequency');
  const period = repeat.get('period');
  const periodUnit = repeat.get('periodUnit');
  const times = repeat.get('timeOfDay').list();
  const range = { start: bounds.get('start').raw(), stop: bounds.get('end').raw() };

  if (asNeededBoolean.raw() === true || asNeeded.present) {
    const indication = asNeeded.get('text').string() ?? asNeeded.get('coding').first().get('display').string();
    fields.set('timing.indication', asNeeded.present ? asNeeded.path : asNeededBoolean.path);
    if (indication === undefined) throw required(`${dosage.path}.asNeededCodeableConcept`, `A when-required medicine says what it is for: ${dosage.path}.asNeededCodeableConcept.text`);
    if (times.length > 0) throw badValue(`${repeat.path}.timeOfDay`, 'A when-required (PRN) medicine has no scheduled times: send it as its own scheduled order');
    if (!period.present) throw required(`${repeat.path}.period`, `The minimum interval between doses is required: ${repeat.path}.frequency 1, period and periodUnit (min, h or d)`);
    if (frequency.present && frequency.raw() !== 1) {
      throw badValue(`${repeat.path}.frequency`, `The minimum interval is once per period (frequency 1, e.g. period 4, periodUnit h); "up to N times" is ${dosage.path}.maxDosePerPeriod`);
    }
    const perUnit = MINUTES_PER[periodUnit.string() ?? ''];
    if (perUnit === undefined) throw badValue(`${repeat.path}.periodUnit`, `${repeat.path}.periodUnit must be min, h or d`);
    fields.set('timing.minimumIntervalMinutes', `${repeat.path}.period`);
    const minutes = typeof period.value === 'number' ? period.value * perUnit : period.raw();
    const max = only(dosage.get('maxDosePerPeriod'), new Set(['numerator', 'denominator']));
    if (!max.present) throw required(max.path, `The most doses in 24 hours is required: ${max.path} (numerator the doses, denominator 24 h)`);
    const numerator = only(max.get('numerator'), new Set(['value', 'unit']));
    const numeratorUnit = numerator.get('unit').string();
    if (numeratorUnit !== undefined && !['dose', MAX_DOSES_UNIT].includes(numeratorUnit)) {
      throw badValue(`${numerator.path}.unit`, `${max.path} counts doses (unit ${MAX_DOSES_UNIT}), not ${numeratorUnit}: the number of doses cannot be told from an amount`);
    }
    const denominator = only(max.get('denominator'), new Set(['value', 'unit', 'system', 'code']));
    const hours = HOURS_PER[denominator.get('code').string() ?? denominator.get('unit').string() ?? ''];
    if (hours === undefined || typeof denominator.get('value').value !== 'number' || (denominator.get('value').value as number) * hours !== 24) {
      throw badValue(`${denominator.path}`, `${max.path} is counted over 24 hours here (denominator 24 h or 1 d)`);
    }
    fields.set('timing.maxDosesIn24Hours', `${numerator.path}.value`);
    return { ...range, timing: { kind: 'prn', indication, minimumIntervalMinutes: minutes, maxDosesIn24Hours: numerator.get('value').raw() } };
  }

  if (asNeededBoolean.present && asNeededBoolean.raw() !== false) throw structure(asNeededBoolean.path, `${asNeededBoolean.path} must be true or false`);
  if (dosage.get('maxDosePerPeriod').present) throw notSupported(`${dosage.path}.maxDosePerPeriod`, 'A most-doses-per-period belongs to a when-required (PRN) medicine: nothing was stored');
  fields.set('timing.times', `${repeat.path}.timeOfDay`);
  if (times.length === 0) {
    throw required(`${repeat.path}.timeOfDay`, `A scheduled medicine needs its times of day (${repeat.path}.timeOfDay): a frequency alone ("twice a day") is not a time the care worker can keep`);
  }
  // A frequency restating the times (twice a day with two times) says nothing more; any other would contradict them.
  if (frequency.present || period.present || periodUnit.present) {
    if (wholeNumber(frequency) !== times.length || period.raw() !== 1 || periodUnit.raw() !== 'd') {
      throw badValue(`${repeat.path}.frequency`, `A scheduled order is given at its times of day: frequency, period and periodUnit may only restate them (${times.length} per 1 d)`);
    }
  }
  return { ...range, timing: { kind: 'scheduled', times: times.map((t, i) => timeOfDay(t, i, fields)) } };
};

/** What the order says: the fields of PrescribeMedication and ChangeMedicationOrder alike. */
const orderFieldsOf = (mr: El, fields: FieldMap): Json => {
  const dosages = mr.get('dosageInstruction').list();
  if (dosages.length === 0) throw required('MedicationRequest.dosageInstruction', 'MedicationRequest.dosageInstruction is required: the dose, route and timing');
  if (dosages.length > 1) throw notSupported('MedicationRequest.dosageInstruction[1]', 'One dosage instruction per order (a dose that changes is an order per step): nothing was stored');
  const dosage = only(dosages[0]!, DOSAGE_ELEMENTS);
  // The server writes "no substitution" on every order (UK Core asks for the element); a client may send it back, never allow one.
  const substitution = mr.get('substitution');
  if (substitution.present && substitution.get('allowedBoolean').raw() !== false) throw notSupported(`${substitution.path}.allowedBoolean`, 'An order here names the product to give: substitution is never allowed (allowedBoolean false): nothing was stored');
  const timeCritical = extensionsOf(mr, [TIME_CRITICAL_EXTENSION]).find((e) => e.get('url').string() === TIME_CRITICAL_EXTENSION);
  fields.set('timeCritical', timeCritical ? `${timeCritical.path}.valueBoolean` : 'MedicationRequest.extension').set('instructions', `${dosage.path}.patientInstruction`);
  const { start, stop, timing } = timingOf(dosage, fields);
  // Without a start of its own, an order starts when it was written.
  if (start === undefined) fields.set('start', 'MedicationRequest.authoredOn');
  return {
    product: productOf(mr, fields),
    dose: doseOf(dosage, fields),
    route: routeOf(dosage, fields),
    timing,
    start: start ?? mr.get('authoredOn').raw(),
    ...(stop !== undefined ? { stop } : {}),
    ...(timeCritical ? { timeCritical: timeCritical.get('valueBoolean').raw() } : {}),
    ...(dosage.get('patientInstruction').present ? { instructions: dosage.get('patientInstruction').raw() } : {}),
  };
};

const intentOf = (mr: El): void => {
  const intent = mr.get('intent');
  if (!intent.present) throw required(intent.path, `${intent.path} is required (order)`);
  if (intent.raw() !== 'order') throw badValue(intent.path, `A MedicationRequest here is an order (intent order): a proposal or plan is not on the chart`);
};

const orderFieldMap = (): FieldMap =>
  new FieldMap('MedicationRequest')
    .set('patientId', 'MedicationRequest.subject')
    .set('occurredAt', 'MedicationRequest.authoredOn')
    .set('orderId', 'MedicationRequest.id')
    .set('expectedVersion', 'If-Match')
    .set('prescriberId', 'MedicationRequest.requester');

// ---------------------------------------------------------------------------------------------
// AllergyIntolerance and Condition
// ---------------------------------------------------------------------------------------------

/** What an allergy says besides where it stands: its substance, category, criticality and reaction. */
const allergyFieldsOf = (allergy: El, fields: FieldMap): Json => {
  extensionsOf(allergy, []);
  const categories = allergy.get('category').list();
  if (categories.length > 1) throw notSupported('AllergyIntolerance.category[1]', 'One category is recorded: nothing was stored');
  fields.set('category', categories[0]?.path ?? 'AllergyIntolerance.category').set('criticality', 'AllergyIntolerance.criticality').set('reaction', 'AllergyIntolerance.reaction');
  const code = allergy.get('code');
  if (!code.present) throw required(code.path, `${code.path} is required: the substance, coded in dm+d or SNOMED CT`);
  const reactions = allergy
    .get('reaction')
    .list()
    .map((reaction) =>
      only(reaction, new Set(['manifestation']))
        .get('manifestation')
        .list()
        .map((m) => only(m, new Set(['coding', 'text'])).get('text').string() ?? m.get('coding').first().get('display').string())
        .filter((text): text is string => text !== undefined)
        .join(', '),
    )
    .filter((text) => text !== '');
  return {
    substance: oneCoding(code, fields, 'substance'),
    category: categories[0]?.raw(),
    criticality: allergy.get('criticality').raw(),
    ...(reactions.length > 0 ? { reaction: reactions.join('; ') } : {}),
  };
};

/** A new allergy is recorded active and confirmed: sent otherwise, it would be shown as it is not. */
const newAllergyFieldsOf = (allergy: El, fields: FieldMap): Json => {
  const clinical = statusCode(allergy.get('clinicalStatus'), ALLERGY_CLINICAL);
  if (clinical !== undefined && clinical !== 'active') throw badValue('AllergyIntolerance.clinicalStatus', 'A new allergy is recorded here as active: one no longer active is not sent (a change of one recorded is a PUT)');
  const verification = statusCode(allergy.get('verificationStatus'), ALLERGY_VERIFICATION);
  if (verification !== undefined && verification !== 'confirmed') {
    throw badValue('AllergyIntolerance.verificationStatus', `A new allergy is recorded here as confirmed; this record cannot create one ${verification}, and would show it as confirmed (an allergy recorded can be changed to unconfirmed or refuted by a PUT)`);
  }
  return allergyFieldsOf(allergy, fields);
};

/** A date-time written as the day it fell on (the record keeps the day a condition began or ended). */
const dayOf = (value: unknown): unknown => (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? value.slice(0, 10) : value);

/** What a condition says besides its verification status and its note: its code, clinical status, onset. */
const conditionCoreOf = (condition: El, fields: FieldMap): Json => {
  extensionsOf(condition, []);
  fields.set('clinicalStatus', 'Condition.clinicalStatus').set('onset', 'Condition.onsetDateTime').set('note', 'Condition.note').set('abatement', 'Condition.abatementDateTime');
  for (const category of condition.get('category').list()) {
    if (!codingsOf(category).some((c) => c.system === CONDITION_CATEGORY && c.code === 'problem-list-item')) {
      throw badValue(category.path, `A condition is recorded on the person's problem list (${CONDITION_CATEGORY} problem-list-item)`);
    }
  }
  const code = condition.get('code');
  if (!code.present) throw required(code.path, `${code.path} is required: the condition, coded in SNOMED CT`);
  const onset = dayOf(condition.get('onsetDateTime').raw());
  return {
    code: oneCoding(code, fields, 'code'),
    clinicalStatus: statusCode(condition.get('clinicalStatus'), CONDITION_CLINICAL),
    ...(onset !== undefined ? { onset } : {}),
  };
};

/** A new condition: confirmed, on the problem list, with at most one note (its own). */
const conditionFieldsOf = (condition: El, fields: FieldMap): Json => {
  const verification = statusCode(condition.get('verificationStatus'), CONDITION_VERIFICATION);
  if (verification !== undefined && verification !== 'confirmed') {
    throw badValue('Condition.verificationStatus', `A condition is recorded here as confirmed; this record cannot yet hold one ${verification}, and would show it as confirmed`);
  }
  const core = conditionCoreOf(condition, fields);
  const notes = condition.get('note').list();
  if (notes.length > 1) throw notSupported('Condition.note[1]', 'One note is recorded with a condition: nothing was stored');
  const note = notes[0] && only(notes[0], new Set(['text']));
  return { ...core, ...(note ? { note: note.get('text').raw() } : {}) };
};

/** How an allergy and a condition are read: their elements, the element naming the person, their fields. */
const RECORDED = {
  AllergyIntolerance: { elements: ALLERGY_ELEMENTS, person: 'patient', fieldsOf: newAllergyFieldsOf },
  Condition: { elements: CONDITION_ELEMENTS, person: 'subject', fieldsOf: conditionFieldsOf },
} as const;

// ---------------------------------------------------------------------------------------------
// Create and update
// ---------------------------------------------------------------------------------------------

export const medicineWrites = (care: CareRecord, authorise: WriteAuthoriser, now: () => Date) => {
  const { authoriseUpdate, unknownEntry } = updateAccess(authorise);

  /** The bedside time: the resource's own (authoredOn, recordedDate), or the server's clock, then left out of the command's digest. */
  const timeOf = (el: El): { occurredAt: unknown; options: typeof SERVER_TIME | Record<string, never> } =>
    el.present ? { occurredAt: el.raw(), options: {} } : { occurredAt: now().toISOString(), options: SERVER_TIME };

  const createOrder = async (body: unknown, req: Request, entryKey?: string) => {
    const mr = resourceOf('MedicationRequest', body, MEDICATION_REQUEST_ELEMENTS);
    const fields = orderFieldMap();
    const patientId = subjectOf(mr);
    const actor = await authorise(req, FHIR_ACCESS.create('MedicationRequest'), { patientId });
    if (statusOf(mr) !== 'active') throw badValue('MedicationRequest.status', 'A new order is active (status active)');
    intentOf(mr);
    for (const element of ['note', 'statusReason']) {
      if (mr.get(element).present) throw notSupported(`MedicationRequest.${element}`, `A new order records no ${element}: how to give it is dosageInstruction[0].patientInstruction. Nothing was stored`);
    }
    mustBeActor(mr.get('requester'), actor, 'prescriber (requester)');
    const order = orderFieldsOf(mr, fields);
    const { occurredAt, options } = timeOf(mr.get('authoredOn'));
    const cmd = accepted(parseCommand(PrescribeMedicationSchema, { idempotencyKey: keyOf(req, 'POST:MedicationRequest', body, entryKey), patientId, occurredAt, ...order }), fields);
    const result = await translated(fields, () => care.recordMedicines('PrescribeMedication', cmd, actor, options));
    return { id: firstEventId(result), position: result.position, created: !result.replayed };
  };

  /** The order as the person's medicines stream holds it (never a read model); one not held is refused as about no one known. */
  const currentOrder = async (id: string, patientId: string, req: Request): Promise<MedicationOrderState> => {
    const medicines = await care.medicines(patientId).catch((error: unknown) => {
      if (error instanceof PatientNotFound) return undefined;
      throw error;
    });
    return (medicines && orderIn(medicines, id)) ?? unknownEntry('MedicationRequest', id, req);
  };

  /**
   * An update is a change (status active: the whole order again, its reason the note the update
   * adds), or a stop (stopped, completed, cancelled, entered-in-error: the reason its statusReason).
   * If-Match is required and is the command's expectedVersion, decided on the stream. The order sent
   * back as it was read changes nothing; a change is prescribed by whoever makes it.
   */
  const updateOrder = async (id: string, body: unknown, ifMatch: number | undefined, req: Request, entryKey?: string) => {
    const mr = resourceOf('MedicationRequest', body, MEDICATION_REQUEST_ELEMENTS);
    if (mr.get('id').raw() !== id) throw new FhirError(400, [{ code: 'invalid', diagnostics: `MedicationRequest.id must be ${id}, as in the URL`, expression: 'MedicationRequest.id' }]);
    if (ifMatch === undefined) throw preconditionRequired('MedicationRequest', id);
    const patientId = subjectOf(mr);
    const actor = await authoriseUpdate('MedicationRequest', id, { patientId }, req);
    const order = await currentOrder(id, patientId, req);
    if (order.version !== ifMatch) throw staleVersion('MedicationRequest', id, order.version, ifMatch);
    const status = statusOf(mr);
    intentOf(mr);
    const fields = orderFieldMap().set('reason', 'MedicationRequest.note');
    const base = { idempotencyKey: keyOf(req, `PUT:MedicationRequest/${id}@${ifMatch}`, body, entryKey), patientId, occurredAt: now().toISOString(), orderId: id, expectedVersion: ifMatch };
    // Nothing recorded: nothing for a read to wait for.
    const noChange = { position: 0 };

    if (Object.hasOwn(STOP_STATUSES, status)) {
      const statusReason = only(mr.get('statusReason'), new Set(['coding', 'text']));
      const why = statusReason.get('text').string() ?? statusReason.get('coding').first().get('display').string();
      if (why === undefined) throw required('MedicationRequest.statusReason', 'A stop says why: MedicationRequest.statusReason.text');
      const label = STOP_STATUSES[status];
      const reason = label && !why.startsWith(`${label}: `) ? `${label}: ${why}` : why;
      if (order.status === 'stopped') {
        // The stopped order sent back as read; another reason would be dropped, so it is refused.
        if (reason === order.stopped?.reason) return noChange;
        throw new FhirError(422, [{ code: 'business-rule', diagnostics: `MedicationRequest/${id} is already stopped (${order.stopped?.reason ?? ''}): nothing was stored`, expression: 'MedicationRequest.statusReason' }]);
      }
      fields.set('reason', 'MedicationRequest.statusReason');
      const cmd = accepted(parseCommand(StopMedicationOrderSchema, { ...base, reason }), fields);
      return { position: (await translated(fields, () => care.recordMedicines('StopMedicationOrder', cmd, actor, SERVER_TIME))).position };
    }
    if (status !== 'active') throw badValue('MedicationRequest.status', 'An order is changed (status active) or stopped (stopped, completed, cancelled or entered-in-error, with statusReason)');
    if (order.status === 'stopped') throw new FhirError(422, [{ code: 'business-rule', diagnostics: `MedicationRequest/${id} was stopped (${order.stopped?.reason ?? ''}): prescribe it again (POST) instead`, expression: 'MedicationRequest.status' }]);
    if (mr.get('statusReason').present) throw notSupported('MedicationRequest.statusReason', 'An active order records no statusReason: the reason for a change is the note it adds. Nothing was stored');
    const sent = orderFieldsOf(mr, fields);
    const input = { ...sent, start: sameInstantAs(sent.start, order.details.start), ...(sent.stop !== undefined ? { stop: sameInstantAs(sent.stop, order.details.stop) } : {}) };
    // The order as sent, read as a prescription of it would be, against the order as it stands.
    const asSent = parseCommand(PrescribeMedicationSchema, { idempotencyKey: base.idempotencyKey, patientId, occurredAt: base.occurredAt, ...input, prescriberId: practitionerOf(mr.get('requester')) ?? actor.id });
    if (asSent.ok && isUnchangedOrder(asSent.value, order, { now: now(), actorId: actor.id })) return noChange;
    mustBeActor(mr.get('requester'), actor, 'prescriber of a change (requester)');
    const reason = newNoteOf(mr, new Set(order.changeReasons.map(orderChangeNote)));
    if (reason === undefined) throw new FhirError(422, [{ code: 'required', diagnostics: 'A change says why: add a note (MedicationRequest.note) with the reason', expression: 'MedicationRequest.note' }]);
    const cmd = accepted(parseCommand(ChangeMedicationOrderSchema, { ...base, reason, ...input }), fields);
    return { position: (await translated(fields, () => care.recordMedicines('ChangeMedicationOrder', cmd, actor, SERVER_TIME))).position };
  };

  /** An allergy or a condition: recorded as it is sent, by whoever sends it. */
  const createRecorded = async <Name extends 'RecordAllergy' | 'RecordCondition'>(name: Name, type: 'AllergyIntolerance' | 'Condition', body: unknown, req: Request, entryKey?: string) => {
    const { elements, person, fieldsOf } = RECORDED[type];
    const resource = resourceOf(type, body, elements);
    const fields = new FieldMap(type).set('patientId', `${type}.${person}`).set('occurredAt', `${type}.recordedDate`);
    const patientId = subjectOf(resource, person);
    const actor = await authorise(req, FHIR_ACCESS.create(type), { patientId });
    mustBeActor(resource.get('recorder'), actor, 'recorder');
    const data = fieldsOf(resource, fields);
    const { occurredAt, options } = timeOf(resource.get('recordedDate'));
    const cmd = accepted(parseCommand(medicinesCommandSchemas[name], { idempotencyKey: keyOf(req, `POST:${type}`, body, entryKey), patientId, occurredAt, ...data }), fields);
    const result = await translated(fields, () => care.recordMedicines(name, cmd as z.output<(typeof medicinesCommandSchemas)[Name]>, actor, options));
    return { id: firstEventId(result), position: result.position, created: !result.replayed };
  };

  const create = (type: (typeof MEDICINE_WRITABLE_TYPES)[number], body: unknown, req: Request, entryKey?: string) =>
    type === 'MedicationRequest' ? createOrder(body, req, entryKey) : createRecorded(type === 'AllergyIntolerance' ? 'RecordAllergy' : 'RecordCondition', type, body, req, entryKey);

  /** The person's medicines as their stream holds them (never a read model); undefined for someone not registered. */
  const medicinesOf = (patientId: string): Promise<MedicinesState | undefined> =>
    care.medicines(patientId).catch((error: unknown) => {
      if (error instanceof PatientNotFound) return undefined;
      throw error;
    });

  /**
   * The reason an update gives: the one note it adds (a note not among those the resource already
   * carries). A second new note would be dropped, so it is refused naming it.
   */
  const reasonOf = (resource: El, type: string, known: ReadonlySet<string>): string | undefined => {
    const added = resource
      .get('note')
      .list()
      .filter((note) => {
        const text = only(note, new Set(['text', 'authorReference', 'time'])).get('text').string();
        return text !== undefined && text.trim() !== '' && !known.has(text);
      });
    if (added.length > 1) throw notSupported(added[1]!.path, `One note is added per change (${added[0]!.path}: the reason for it); another would be dropped: nothing was stored`);
    return added[0]?.get('text').string();
  };

  /** The first field in which what was sent differs from what is held: withdrawn as it stands, anything else would be dropped. */
  const firstDifference = (sent: Json, held: Json, keys: readonly string[]): string | undefined => keys.find((key) => commandDigest(sent[key] ?? null) !== commandDigest(held[key] ?? null));

  /** Ready to update: the id as in the URL, If-Match sent and current, the caller allowed for this person. */
  const updateOf = async <T extends AllergyState | ConditionState>(
    type: 'AllergyIntolerance' | 'Condition',
    id: string,
    resource: El,
    ifMatch: number | undefined,
    req: Request,
    find: (medicines: MedicinesState) => T | undefined,
  ) => {
    if (resource.get('id').raw() !== id) throw new FhirError(400, [{ code: 'invalid', diagnostics: `${type}.id must be ${id}, as in the URL`, expression: `${type}.id` }]);
    if (ifMatch === undefined) throw preconditionRequired(type, id);
    const patientId = subjectOf(resource, type === 'AllergyIntolerance' ? 'patient' : 'subject');
    const actor = await authoriseUpdate(type, id, { patientId }, req);
    const medicines = await medicinesOf(patientId);
    const held = (medicines && find(medicines)) ?? (await unknownEntry(type, id, req));
    if (held.version !== ifMatch) throw staleVersion(type, id, held.version, ifMatch);
    return { patientId, actor, held };
  };

  /**
   * The command, its reason the note the update adds: what else is wrong is named first (the
   * element it came from); then a change without a reason is refused naming the note it needs.
   */
  const withReason = <S extends z.ZodType>(schema: S, input: Json, reason: string | undefined, fields: FieldMap, type: string, doing: string): z.output<S> => {
    const parsed = parseCommand(schema, { ...input, reason });
    if (parsed.ok) return parsed.value as z.output<S>;
    const others = parsed.issues.filter((issue) => issue.path !== 'reason');
    if (reason !== undefined || others.length > 0) throw refused(reason === undefined ? others : parsed.issues, fields);
    throw new FhirError(422, [{ code: 'required', diagnostics: `${doing} says why: add a note (${type}.note) with the reason`, expression: `${type}.note` }]);
  };

  const alreadyWithdrawn = (type: string, held: AllergyState | ConditionState) =>
    new FhirError(422, [{ code: 'business-rule', diagnostics: `${type}/${held.id} was entered in error (${held.enteredInError!.reason}): it is not changed; record it again if it holds after all. Nothing was stored`, expression: `${type}.verificationStatus` }]);

  /**
   * An allergy changed (reaction, criticality, category, clinicalStatus, verificationStatus
   * confirmed, unconfirmed or refuted) is ChangeAllergy; verificationStatus entered-in-error is
   * MarkAllergyEnteredInError. The reason is the note the update adds. Sent back as read, nothing changes.
   */
  const updateAllergy = async (id: string, body: unknown, ifMatch: number | undefined, req: Request, entryKey?: string) => {
    const resource = resourceOf('AllergyIntolerance', body, ALLERGY_UPDATE_ELEMENTS);
    const { patientId, actor, held } = await updateOf('AllergyIntolerance', id, resource, ifMatch, req, (m) => allergyOf(m, id));
    const fields = new FieldMap('AllergyIntolerance')
      .set('patientId', 'AllergyIntolerance.patient')
      .set('allergyId', 'AllergyIntolerance.id')
      .set('expectedVersion', 'If-Match')
      .set('reason', 'AllergyIntolerance.note')
      .set('clinicalStatus', 'AllergyIntolerance.clinicalStatus')
      .set('verificationStatus', 'AllergyIntolerance.verificationStatus');
    const sent = allergyFieldsOf(resource, fields);
    const clinical = statusCode(resource.get('clinicalStatus'), ALLERGY_CLINICAL);
    const verification = statusCode(resource.get('verificationStatus'), ALLERGY_VERIFICATION);
    const known = new Set([...held.changeReasons.map(orderChangeNote), ...(held.enteredInError ? [correctionNote({ kind: 'entered-in-error', reason: held.enteredInError.reason })] : [])]);
    const reason = reasonOf(resource, 'AllergyIntolerance', known);
    const base = { idempotencyKey: keyOf(req, `PUT:AllergyIntolerance/${id}@${ifMatch}`, body, entryKey), patientId, occurredAt: now().toISOString(), allergyId: id, expectedVersion: ifMatch };
    const noChange = { position: 0 };

    if (verification === 'entered-in-error') {
      if (clinical !== undefined) throw badValue('AllergyIntolerance.clinicalStatus', 'An allergy entered in error has no clinical status (FHIR ait-2): leave clinicalStatus out');
      if (held.enteredInError) {
        if (reason === undefined) return noChange;
        throw alreadyWithdrawn('AllergyIntolerance', held);
      }
      const differs = firstDifference(sent, held as unknown as Json, ['substance', 'category', 'criticality', 'reaction']);
      if (differs) throw badValue(fields.resolve(differs), `An allergy entered in error is withdrawn as it stands: ${fields.resolve(differs)} differs from version ${held.version}, and would be dropped. Nothing was stored`);
      const cmd = withReason(MarkAllergyEnteredInErrorSchema, base, reason, fields, 'AllergyIntolerance', 'Withdrawing an allergy');
      return { position: (await translated(fields, () => care.recordMedicines('MarkAllergyEnteredInError', cmd, actor, SERVER_TIME))).position };
    }
    if (held.enteredInError) throw alreadyWithdrawn('AllergyIntolerance', held);
    if (clinical === undefined) throw required('AllergyIntolerance.clinicalStatus', 'AllergyIntolerance.clinicalStatus is required (active, inactive or resolved): FHIR ait-1');
    if (verification === undefined) throw required('AllergyIntolerance.verificationStatus', 'AllergyIntolerance.verificationStatus is required on an update (confirmed, unconfirmed, refuted or entered-in-error)');
    const change = { ...sent, clinicalStatus: clinical, verificationStatus: verification };
    if (isUnchangedAllergy(change as never, held)) {
      if (reason !== undefined) throw notSupported('AllergyIntolerance.note', 'A note is recorded as the reason for a change, and nothing else changed: nothing was stored');
      return noChange;
    }
    const cmd = withReason(ChangeAllergySchema, { ...base, ...change }, reason, fields, 'AllergyIntolerance', 'A change');
    return { position: (await translated(fields, () => care.recordMedicines('ChangeAllergy', cmd, actor, SERVER_TIME))).position };
  };

  /**
   * A condition changed (clinicalStatus, abatementDateTime, onset) is ChangeCondition;
   * verificationStatus entered-in-error is MarkConditionEnteredInError. Its own note stays as
   * recorded (a note is added, never rewritten here): the note an update adds is the reason.
   */
  const updateCondition = async (id: string, body: unknown, ifMatch: number | undefined, req: Request, entryKey?: string) => {
    const resource = resourceOf('Condition', body, CONDITION_UPDATE_ELEMENTS);
    const { patientId, actor, held } = await updateOf('Condition', id, resource, ifMatch, req, (m) => conditionOf(m, id));
    const fields = new FieldMap('Condition').set('patientId', 'Condition.subject').set('conditionId', 'Condition.id').set('expectedVersion', 'If-Match').set('reason', 'Condition.note');
    const sent = conditionCoreOf(resource, fields);
    const verification = statusCode(resource.get('verificationStatus'), CONDITION_VERIFICATION);
    if (verification !== undefined && verification !== 'confirmed' && verification !== 'entered-in-error') {
      throw badValue('Condition.verificationStatus', `A condition is held here confirmed, or withdrawn as entered-in-error; this record cannot yet hold one ${verification}, and would show it as confirmed`);
    }
    const known = new Set([...(held.note ? [held.note] : []), ...held.changeReasons.map(orderChangeNote), ...(held.enteredInError ? [correctionNote({ kind: 'entered-in-error', reason: held.enteredInError.reason })] : [])]);
    const reason = reasonOf(resource, 'Condition', known);
    const base = { idempotencyKey: keyOf(req, `PUT:Condition/${id}@${ifMatch}`, body, entryKey), patientId, occurredAt: now().toISOString(), conditionId: id, expectedVersion: ifMatch };
    const noChange = { position: 0 };
    const abatement = dayOf(resource.get('abatementDateTime').raw());

    if (verification === 'entered-in-error') {
      if (sent.clinicalStatus !== undefined) throw badValue('Condition.clinicalStatus', 'A condition entered in error has no clinical status (FHIR con-5): leave clinicalStatus out');
      if (held.enteredInError) {
        if (reason === undefined) return noChange;
        throw alreadyWithdrawn('Condition', held);
      }
      if (abatement !== undefined) throw badValue('Condition.abatementDateTime', 'A condition entered in error has no clinical status, so no end date (FHIR con-4, con-5): leave abatementDateTime out');
      const differs = firstDifference(sent, held as unknown as Json, ['code', 'onset']);
      if (differs) throw badValue(fields.resolve(differs), `A condition entered in error is withdrawn as it stands: ${fields.resolve(differs)} differs from version ${held.version}, and would be dropped. Nothing was stored`);
      const cmd = withReason(MarkConditionEnteredInErrorSchema, base, reason, fields, 'Condition', 'Withdrawing a condition');
      return { position: (await translated(fields, () => care.recordMedicines('MarkConditionEnteredInError', cmd, actor, SERVER_TIME))).position };
    }
    if (held.enteredInError) throw alreadyWithdrawn('Condition', held);
    if (sent.clinicalStatus === undefined) throw required('Condition.clinicalStatus', 'Condition.clinicalStatus is required (active, recurrence, relapse, inactive, remission or resolved): FHIR con-3');
    const change = { ...sent, ...(abatement !== undefined ? { abatement } : {}), ...(held.note !== undefined ? { note: held.note } : {}) };
    if (isUnchangedCondition(change as never, held)) {
      if (reason !== undefined) throw notSupported('Condition.note', 'A note is added as the reason for a change, and nothing else changed: nothing was stored');
      return noChange;
    }
    const cmd = withReason(ChangeConditionSchema, { ...base, ...change }, reason, fields, 'Condition', 'A change');
    return { position: (await translated(fields, () => care.recordMedicines('ChangeCondition', cmd, actor, SERVER_TIME))).position };
  };

  const update = async (type: (typeof MEDICINE_WRITABLE_TYPES)[number], id: string, body: unknown, ifMatch: number | undefined, req: Request, entryKey?: string) => {
    if (type === 'MedicationRequest') return updateOrder(id, body, ifMatch, req, entryKey);
    return type === 'AllergyIntolerance' ? updateAllergy(id, body, ifMatch, req, entryKey) : updateCondition(id, body, ifMatch, req, entryKey);
  };

  return { create, update };
};
