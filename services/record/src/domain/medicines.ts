import {
  FIRST_ENTRY_VERSION,
  isInsulinProduct,
  nextEntryVersion,
  type AllergyRecordedData,
  type ChangeMedicationOrder,
  type ConditionRecordedData,
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

export type AllergyState = AllergyRecordedData & { readonly id: string };
export type ConditionState = ConditionRecordedData & { readonly id: string };

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
      return { ...state, allergies: [...state.allergies, { ...event.data, id: event.id }] };
    case 'ConditionRecorded':
      return { ...state, conditions: [...state.conditions, { ...event.data, id: event.id }] };
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

export const medicinesDecisions = {
  PrescribeMedication: prescribeMedication,
  ChangeMedicationOrder: changeMedicationOrder,
  StopMedicationOrder: stopMedicationOrder,
  RecordAllergy: recordAllergy,
  RecordCondition: recordCondition,
} as const;
