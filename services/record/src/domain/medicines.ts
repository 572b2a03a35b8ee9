import {
  FIRST_ENTRY_VERSION,
  isInsulinProduct,
  nextEntryVersion,
  type AllergyDetails,
  type AllergyRecordedData,
  type ChangeAllergy,
  type ChangeCondition,
  type ChangeMedicationOrder,
  type ConditionDetails,
  type ConditionRecordedData,
  type MarkAllergyEnteredInError,
  type MarkConditionEnteredInError,
  type MedicationOrderDetails,
  type MedicinesStreamEvent,
  type PrescribeMedication,
  type RecordAllergy,
  type RecordCondition,
  type StopMedicationOrder,
} from '@tandem/contracts';
import { commandDigest } from '@tandem/commands';
import { compact } from './compact';
import { DomainRuleBroken, StaleEntryVersion } from './errors';
import { assertNotInFuture, instantOf } from './time';

/**
 * A person's medicines stream (`medicines-<patientId>`): what is prescribed (medication orders, each
 * named by the event id that first recorded it, versioned by each change), the allergies that stop
 * a dose, and conditions. Pure: the edge passes the clock and who is asking.
 */

export interface MedicationOrderState {
  readonly id: string;
  /** FIRST_ENTRY_VERSION when prescribed; nextEntryVersion at each change or stop (MedicationRequest versionId). */
  readonly version: number;
  readonly details: MedicationOrderDetails;
  readonly status: 'active' | 'stopped';
  /** When it was stopped (the stop's bedside time) and why. */
  readonly stopped?: { readonly at: string; readonly reason: string };
  /** Why each change was made, oldest first (its MedicationRequest carries them as notes). */
  readonly changeReasons: readonly string[];
}

/** What every allergy and condition keeps besides what it says: its id, its version, why it changed, and whether it was entered in error. */
interface Versioned {
  /** The event id of its AllergyRecorded or ConditionRecorded (its FHIR id). */
  readonly id: string;
  /** FIRST_ENTRY_VERSION when recorded; nextEntryVersion at each change (its FHIR versionId). */
  readonly version: number;
  /** Why each change was made, oldest first (its resource carries them as notes). */
  readonly changeReasons: readonly string[];
  /** Withdrawn: it should never have been recorded. It stays in the stream and its history. */
  readonly enteredInError?: { readonly at: string; readonly reason: string };
}

/** An allergy as it stands: recorded active and confirmed, then as each change left it. */
export type AllergyState = AllergyRecordedData & Pick<AllergyDetails, 'clinicalStatus' | 'verificationStatus'> & Versioned;
export type ConditionState = ConditionRecordedData & Pick<ConditionDetails, 'abatement'> & Versioned;

export interface MedicinesState {
  readonly orders: Readonly<Record<string, MedicationOrderState>>;
  readonly allergies: readonly AllergyState[];
  readonly conditions: readonly ConditionState[];
}

export const initialMedicinesState: MedicinesState = { orders: {}, allergies: [], conditions: [] };

export type StoredMedicinesEvent = MedicinesStreamEvent & { readonly id: string; readonly metadata: { readonly occurredAt: string } };

export interface MedicinesContext {
  readonly now: Date;
  /** Who records the command: the prescriber unless another system names one. */
  readonly actorId: string;
}

const own = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);

export const orderOf = (state: MedicinesState, orderId: string): MedicationOrderState | undefined => own(state.orders, orderId);

/** The list with one of its items at its next version (the others as they were); an id not held changes nothing. */
const changed = <T extends Versioned>(items: readonly T[], id: string, change: (item: T) => T): readonly T[] =>
  items.map((item) => (item.id === id ? { ...change(item), version: nextEntryVersion(item.version) } : item));

export const allergyOf = (state: MedicinesState, allergyId: string): AllergyState | undefined => state.allergies.find((a) => a.id === allergyId);
export const conditionOf = (state: MedicinesState, conditionId: string): ConditionState | undefined => state.conditions.find((c) => c.id === conditionId);

/**
 * Whether an allergy stops a dose of what it matches (the MAR's `mar.allergy`): every allergy does
 * but one entered in error, refuted, or no longer active. An unconfirmed one still does: to a care
 * worker a suspected allergy is an allergy (H97).
 */
export const allergyStopsADose = (allergy: AllergyState): boolean =>
  allergy.enteredInError === undefined && allergy.verificationStatus !== 'refuted' && allergy.clinicalStatus === 'active';

export const evolveMedicines = (state: MedicinesState, event: StoredMedicinesEvent): MedicinesState => {
  switch (event.type) {
    case 'MedicationOrdered': {
      if (own(state.orders, event.id)) return state;
      const { patientId: _patientId, ...details } = event.data;
      return { ...state, orders: { ...state.orders, [event.id]: { id: event.id, version: FIRST_ENTRY_VERSION, details, status: 'active', changeReasons: [] } } };
    }
    case 'MedicationOrderChanged': {
      const order = own(state.orders, event.data.orderId);
      if (!order) return state;
      return { ...state, orders: { ...state.orders, [order.id]: { ...order, version: nextEntryVersion(order.version), details: event.data.order, changeReasons: [...order.changeReasons, event.data.reason] } } };
    }
    case 'MedicationOrderStopped': {
      const order = own(state.orders, event.data.orderId);
      if (!order) return state;
      return {
        ...state,
        orders: { ...state.orders, [order.id]: { ...order, version: nextEntryVersion(order.version), status: 'stopped', stopped: { at: event.metadata.occurredAt, reason: event.data.reason } } },
      };
    }
    case 'AllergyRecorded':
      if (state.allergies.some((a) => a.id === event.id)) return state;
      return { ...state, allergies: [...state.allergies, { ...event.data, clinicalStatus: 'active', verificationStatus: 'confirmed', id: event.id, version: FIRST_ENTRY_VERSION, changeReasons: [] }] };
    case 'AllergyChanged':
      return {
        ...state,
        allergies: changed(state.allergies, event.data.allergyId, (a) => ({ ...a, ...event.data.allergy, reaction: event.data.allergy.reaction, changeReasons: [...a.changeReasons, event.data.reason] })),
      };
    case 'AllergyEnteredInError':
      return { ...state, allergies: changed(state.allergies, event.data.allergyId, (a) => ({ ...a, enteredInError: { at: event.metadata.occurredAt, reason: event.data.reason } })) };
    case 'ConditionRecorded':
      if (state.conditions.some((c) => c.id === event.id)) return state;
      return { ...state, conditions: [...state.conditions, { ...event.data, id: event.id, version: FIRST_ENTRY_VERSION, changeReasons: [] }] };
    case 'ConditionChanged': {
      const { onset, abatement, note } = event.data.condition;
      return {
        ...state,
        conditions: changed(state.conditions, event.data.conditionId, (c) => ({ ...c, ...event.data.condition, onset, abatement, note, changeReasons: [...c.changeReasons, event.data.reason] })),
      };
    }
    case 'ConditionEnteredInError':
      return { ...state, conditions: changed(state.conditions, event.data.conditionId, (c) => ({ ...c, enteredInError: { at: event.metadata.occurredAt, reason: event.data.reason } })) };
    default:
      return state;
  }
};

export const medicinesStateFrom = (events: readonly StoredMedicinesEvent[]): MedicinesState => events.reduce(evolveMedicines, initialMedicinesState);

type OrderInput = Pick<PrescribeMedication, 'product' | 'dose' | 'route' | 'timing' | 'start' | 'stop' | 'timeCritical' | 'instructions' | 'prescriberId'>;

/**
 * The order as stored, after the rules every order keeps: it stops after it starts; an insulin is
 * dosed in "units" only, under the skin, and is always time-critical (whatever was sent: a late
 * insulin dose is a known cause of harm).
 */
const orderDetails = (input: OrderInput, context: MedicinesContext): MedicationOrderDetails => {
  if (input.stop !== undefined && instantOf(input.stop) <= instantOf(input.start)) {
    throw new DomainRuleBroken('medication.stop-before-start', 'stop', `stop (${input.stop}) must be after start (${input.start})`);
  }
  const insulin = isInsulinProduct(input.product);
  if (insulin && input.dose.unit !== 'units') {
    throw new DomainRuleBroken('medication.insulin-unit', 'dose.unit', 'an insulin dose is written in "units" (the word in full: "U" and "IU" are never used)');
  }
  if (insulin && input.route !== 'subcutaneous') {
    throw new DomainRuleBroken('medication.insulin-route', 'route', 'insulin given at home by pen is subcutaneous');
  }
  return compact({
    product: input.product,
    dose: input.dose,
    route: input.route,
    timing: input.timing,
    start: input.start,
    stop: input.stop,
    timeCritical: insulin || input.timeCritical === true,
    instructions: input.instructions,
    prescriberId: input.prescriberId ?? context.actorId,
  });
};

const activeOrder = (state: MedicinesState, orderId: string): MedicationOrderState => {
  const order = orderOf(state, orderId);
  if (!order) throw new DomainRuleBroken('medication.unknown-order', 'orderId', `there is no medication order ${orderId} for this person`);
  if (order.status === 'stopped') {
    throw new DomainRuleBroken('medication.order-stopped', 'orderId', `medication order ${orderId} (${order.details.product.display}) was stopped at ${order.stopped!.at}: prescribe it again instead`);
  }
  return order;
};

export const prescribeMedication = (cmd: PrescribeMedication, _state: MedicinesState, context: MedicinesContext): MedicinesStreamEvent[] => {
  assertNotInFuture(cmd.occurredAt, context.now);
  return [{ type: 'MedicationOrdered', data: { patientId: cmd.patientId, ...orderDetails(cmd, context) } }];
};

/** A change is the whole order again, as a new version; the product cannot change (that is another order). */
export const changeMedicationOrder = (cmd: ChangeMedicationOrder, state: MedicinesState, context: MedicinesContext): MedicinesStreamEvent[] => {
  assertNotInFuture(cmd.occurredAt, context.now);
  const order = activeOrder(state, cmd.orderId);
  if (cmd.expectedVersion !== undefined && cmd.expectedVersion !== order.version) throw new StaleEntryVersion(`MedicationRequest/${order.id}`, cmd.expectedVersion, order.version);
  if (cmd.product.system !== order.details.product.system || cmd.product.code !== order.details.product.code) {
    throw new DomainRuleBroken(
      'medication.product-change',
      'product',
      `order ${order.id} is for ${order.details.product.display}: to give another product, stop this order and prescribe the other one`,
    );
  }
  // Left out, the prescriber of the change is whoever changes it (not the original prescriber).
  return [{ type: 'MedicationOrderChanged', data: { patientId: cmd.patientId, orderId: order.id, reason: cmd.reason, order: orderDetails(cmd, context) } }];
};

/**
 * Whether a change would leave the order exactly as it is (the same details once the rules every
 * order keeps are applied): another system sending back the order it read, unchanged, changes nothing.
 */
export const isUnchangedOrder = (input: OrderInput, order: MedicationOrderState, context: MedicinesContext): boolean =>
  // The digest commands are compared by: keys in order, so equal orders compare equal however they were written.
  commandDigest(orderDetails(input, context)) === commandDigest(order.details);

export const stopMedicationOrder = (cmd: StopMedicationOrder, state: MedicinesState, context: MedicinesContext): MedicinesStreamEvent[] => {
  assertNotInFuture(cmd.occurredAt, context.now);
  const order = activeOrder(state, cmd.orderId);
  if (cmd.expectedVersion !== undefined && cmd.expectedVersion !== order.version) throw new StaleEntryVersion(`MedicationRequest/${order.id}`, cmd.expectedVersion, order.version);
  return [{ type: 'MedicationOrderStopped', data: { patientId: cmd.patientId, orderId: order.id, reason: cmd.reason } }];
};

export const recordAllergy = (cmd: RecordAllergy, _state: MedicinesState, context: MedicinesContext): MedicinesStreamEvent[] => {
  assertNotInFuture(cmd.occurredAt, context.now);
  const { idempotencyKey: _key, occurredAt: _at, ...data } = cmd;
  return [{ type: 'AllergyRecorded', data: compact(data) }];
};

export const recordCondition = (cmd: RecordCondition, _state: MedicinesState, context: MedicinesContext): MedicinesStreamEvent[] => {
  assertNotInFuture(cmd.occurredAt, context.now);
  const { idempotencyKey: _key, occurredAt: _at, ...data } = cmd;
  return [{ type: 'ConditionRecorded', data: compact(data) }];
};

/** An allergy or condition a change names: held, and not entered in error; at the version the change was made against. */
const current = <T extends Versioned>(item: T | undefined, kind: 'allergy' | 'condition', id: string, expectedVersion: number | undefined): T => {
  const resource = kind === 'allergy' ? 'AllergyIntolerance' : 'Condition';
  if (!item) throw new DomainRuleBroken(`${kind}.unknown`, `${kind}Id`, `there is no ${kind} ${id} for this person`);
  if (expectedVersion !== undefined && expectedVersion !== item.version) throw new StaleEntryVersion(`${resource}/${item.id}`, expectedVersion, item.version);
  if (item.enteredInError) {
    throw new DomainRuleBroken(`${kind}.entered-in-error`, `${kind}Id`, `${kind} ${id} was entered in error (${item.enteredInError.reason}): it is not changed; record it again if it holds after all`);
  }
  return item;
};

const allergyDetailsOf = (a: AllergyDetails): AllergyDetails =>
  compact({ substance: a.substance, category: a.category, criticality: a.criticality, reaction: a.reaction, clinicalStatus: a.clinicalStatus, verificationStatus: a.verificationStatus });

/** Whether a change would leave the allergy as it stands (another system sending back what it read changes nothing). */
export const isUnchangedAllergy = (change: AllergyDetails, allergy: AllergyState): boolean => commandDigest(allergyDetailsOf(change)) === commandDigest(allergyDetailsOf(allergy));

/** Whether a withdrawal finds the allergy or condition already withdrawn (nothing more to record); otherwise it must be one held, at the version it was made against. */
const alreadyWithdrawn = <T extends Versioned>(item: T | undefined, kind: 'allergy' | 'condition', id: string, expectedVersion: number | undefined): boolean => {
  if (item?.enteredInError) return true;
  current(item, kind, id, expectedVersion);
  return false;
};

/**
 * An allergy changed (its reaction, criticality, category, clinical or verification status): the
 * whole allergy again, as its next version, with why. Its substance cannot change (that is another
 * allergy). A change that changes nothing records nothing.
 */
export const changeAllergy = (cmd: ChangeAllergy, state: MedicinesState, context: MedicinesContext): MedicinesStreamEvent[] => {
  assertNotInFuture(cmd.occurredAt, context.now);
  const allergy = current(allergyOf(state, cmd.allergyId), 'allergy', cmd.allergyId, cmd.expectedVersion);
  if (cmd.substance.system !== allergy.substance.system || cmd.substance.code !== allergy.substance.code) {
    throw new DomainRuleBroken('allergy.substance-change', 'substance', `allergy ${allergy.id} is to ${allergy.substance.display}: an allergy to another substance is recorded as its own allergy`);
  }
  if (isUnchangedAllergy(cmd, allergy)) return [];
  return [{ type: 'AllergyChanged', data: { patientId: cmd.patientId, allergyId: allergy.id, reason: cmd.reason, allergy: allergyDetailsOf(cmd) } }];
};

/** An allergy withdrawn as entered in error: it no longer stops a dose. Already withdrawn: nothing more. */
export const markAllergyEnteredInError = (cmd: MarkAllergyEnteredInError, state: MedicinesState, context: MedicinesContext): MedicinesStreamEvent[] => {
  assertNotInFuture(cmd.occurredAt, context.now);
  if (alreadyWithdrawn(allergyOf(state, cmd.allergyId), 'allergy', cmd.allergyId, cmd.expectedVersion)) return [];
  return [{ type: 'AllergyEnteredInError', data: { patientId: cmd.patientId, allergyId: cmd.allergyId, reason: cmd.reason } }];
};

const ABATED_STATUSES: ReadonlySet<string> = new Set(['inactive', 'remission', 'resolved']);

const conditionDetailsOf = (c: ConditionDetails): ConditionDetails =>
  compact({ code: c.code, clinicalStatus: c.clinicalStatus, onset: c.onset, abatement: c.abatement, note: c.note });

export const isUnchangedCondition = (change: ConditionDetails, condition: ConditionState): boolean =>
  commandDigest(conditionDetailsOf(change)) === commandDigest(conditionDetailsOf(condition));

/**
 * A condition changed (its clinical status, the day it ended, its note): the whole condition again,
 * as its next version, with why. Its code cannot change; an end date belongs to a condition that
 * ended (inactive, in remission, resolved), on or after its onset and not in the future.
 */
export const changeCondition = (cmd: ChangeCondition, state: MedicinesState, context: MedicinesContext): MedicinesStreamEvent[] => {
  assertNotInFuture(cmd.occurredAt, context.now);
  const condition = current(conditionOf(state, cmd.conditionId), 'condition', cmd.conditionId, cmd.expectedVersion);
  if (cmd.code.code !== condition.code.code) {
    throw new DomainRuleBroken('condition.code-change', 'code', `condition ${condition.id} is ${condition.code.display}: another condition is recorded as its own`);
  }
  if (cmd.abatement !== undefined) {
    if (!ABATED_STATUSES.has(cmd.clinicalStatus)) {
      throw new DomainRuleBroken('condition.abated-but-active', 'abatement', `a condition that ended (abatement ${cmd.abatement}) is inactive, in remission or resolved, not ${cmd.clinicalStatus}`);
    }
    if (cmd.onset !== undefined && cmd.abatement < cmd.onset) throw new DomainRuleBroken('condition.abatement-before-onset', 'abatement', `abatement (${cmd.abatement}) must not be before onset (${cmd.onset})`);
    if (cmd.abatement > cmd.occurredAt.slice(0, 10)) throw new DomainRuleBroken('condition.abatement-in-future', 'abatement', `abatement (${cmd.abatement}) is after the change itself (${cmd.occurredAt})`);
  }
  if (isUnchangedCondition(cmd, condition)) return [];
  return [{ type: 'ConditionChanged', data: { patientId: cmd.patientId, conditionId: condition.id, reason: cmd.reason, condition: conditionDetailsOf(cmd) } }];
};

export const markConditionEnteredInError = (cmd: MarkConditionEnteredInError, state: MedicinesState, context: MedicinesContext): MedicinesStreamEvent[] => {
  assertNotInFuture(cmd.occurredAt, context.now);
  if (alreadyWithdrawn(conditionOf(state, cmd.conditionId), 'condition', cmd.conditionId, cmd.expectedVersion)) return [];
  return [{ type: 'ConditionEnteredInError', data: { patientId: cmd.patientId, conditionId: cmd.conditionId, reason: cmd.reason } }];
};

export const medicinesDecisions = {
  PrescribeMedication: prescribeMedication,
  ChangeMedicationOrder: changeMedicationOrder,
  StopMedicationOrder: stopMedicationOrder,
  RecordAllergy: recordAllergy,
  RecordCondition: recordCondition,
  ChangeAllergy: changeAllergy,
  MarkAllergyEnteredInError: markAllergyEnteredInError,
  ChangeCondition: changeCondition,
  MarkConditionEnteredInError: markConditionEnteredInError,
} as const;
