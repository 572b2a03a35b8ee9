import {
  englandMinutesOfDay,
  INSULIN_PRODUCT_SYSTEM,
  INSULIN_PRODUCTS,
  INSULIN_UNIT,
  insulinProductOf,
  type CareRecordEvent,
  type InsulinProduct,
  type RecordInsulinAdministered,
  type RecordInsulinWithheld,
} from '@tandem/contracts';
import { insulinDosesOf, type CareState, type InsulinDoseRef } from './care-state';
import { compact } from './compact';
import { DEFAULT_INSULIN_MINIMUM_INTERVAL_MINUTES, INSULIN_TIME_WINDOW_MINUTES, type CareContext, type InsulinInstructionToCheck } from './context';
import { DomainRuleBroken, NeedsConfirmation } from './errors';
import { orderFor } from './mar';
import { assertBedsideTime, minutesBetween } from './time';

/**
 * The medication order a dose of insulin names (orderId): an active order for this same insulin
 * (by code). Insulin keeps its own commands (pen, units, site, duplicates, the instruction); the
 * order links the dose to the MAR and the MedicationRequest (docs/decisions/0023).
 */
const assertInsulinOrder = (orderId: string | undefined, known: InsulinProduct | undefined, occurredAt: string, context: CareContext): void => {
  if (orderId === undefined) return;
  const order = orderFor(orderId, occurredAt, context);
  const ordered = order.details.product.system === INSULIN_PRODUCT_SYSTEM ? insulinProductOf(order.details.product.code) : insulinProductOf(order.details.product.display);
  if (!ordered) throw new DomainRuleBroken('insulin.order-not-insulin', 'orderId', `medication order ${orderId} is for ${order.details.product.display}, not an insulin`);
  if (ordered.code !== known?.code) {
    throw new DomainRuleBroken('insulin.order-product', 'product', `medication order ${orderId} is for ${ordered.name}, not ${known?.name ?? 'this product'}: check the pen and the chart`);
  }
};

/**
 * The product as the record knows it. One it does not know ("Humalog?? maybe") is never taken
 * as free text silently: nothing could check it for a duplicate, an interval or the instruction,
 * so the person is asked to confirm; confirmed, it is recorded (a fact is never refused) and
 * flagged, and the flag is an incident for the delegating nurse.
 */
const productOf = (product: string, confirmedUnknownProduct: boolean | undefined): InsulinProduct | undefined => {
  const known = insulinProductOf(product);
  if (known || confirmedUnknownProduct === true) return known;
  throw new NeedsConfirmation(
    'insulin.unknown-product',
    'product',
    `"${product}" is not an insulin this record knows. Check the pen and the Insulin Passport and name the product exactly ` +
      `(${INSULIN_PRODUCTS.map((p) => p.name).join(', ')}), or its code. If it really was this product, send it again with ` +
      'confirmedUnknownProduct true: it is recorded, flagged and the delegating nurse is told',
  );
};

/** The flag that goes with a confirmed unknown product: appended right after its entry, in the same append. */
const unknownProductFlag = (patientId: string, product: string): CareRecordEvent => ({
  type: 'UnknownInsulinProductFlagged',
  data: { patientId, product },
});

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** How far a bedside time is from the nearest instructed time, round the clock. */
const minutesFromInstructedTimes = (occurredAt: string, times: readonly string[]): number => {
  const at = englandMinutesOfDay(Date.parse(occurredAt));
  return Math.min(...times.map((t) => {
    const d = Math.abs(at - minutesOf(t));
    return Math.min(d, 24 * 60 - d);
  }));
};

type Difference = { field: 'product' | 'dose.value' | 'occurredAt'; instructed: string; given: string };

/** Where a dose differs from the delegation's instruction: product (by code), dose, time. */
export const differencesFromInstruction = (
  dose: { product: string; productCode?: string | undefined; doseUnits: number; occurredAt: string },
  instruction: InsulinInstructionToCheck,
  windowMinutes = INSULIN_TIME_WINDOW_MINUTES,
): Difference[] => {
  const instructedCode = insulinProductOf(instruction.product)?.code;
  const sameProduct = dose.productCode !== undefined && instructedCode !== undefined ? dose.productCode === instructedCode : false;
  const differences: Difference[] = [];
  if (!sameProduct) differences.push({ field: 'product', instructed: instruction.product, given: dose.product });
  if (dose.doseUnits !== instruction.doseUnits) differences.push({ field: 'dose.value', instructed: `${instruction.doseUnits} units`, given: `${dose.doseUnits} units` });
  if (minutesFromInstructedTimes(dose.occurredAt, instruction.times) > windowMinutes) {
    differences.push({ field: 'occurredAt', instructed: `${instruction.times.join(', ')} (within ${windowMinutes} minutes)`, given: dose.occurredAt });
  }
  return differences;
};

/** The dose of the same product closest in bedside time (before or after: late entries count too). */
const nearestDose = (state: CareState, product: string, occurredAt: string): InsulinDoseRef | undefined =>
  insulinDosesOf(state, product).reduce<InsulinDoseRef | undefined>(
    (nearest, dose) => (!nearest || minutesBetween(dose.occurredAt, occurredAt) < minutesBetween(nearest.occurredAt, occurredAt) ? dose : nearest),
    undefined,
  );

/**
 * Records insulin given by pen, in "units". Possible duplicate: another dose of the same product
 * inside the minimum interval asks for confirmation first; once confirmed, the dose is recorded
 * (it really happened) and flagged for the delegating nurse.
 */
export const recordInsulinAdministered = (cmd: RecordInsulinAdministered, state: CareState, context: CareContext): CareRecordEvent[] => {
  assertBedsideTime(cmd, context.now);
  const known = productOf(cmd.product, cmd.confirmedUnknownProduct);
  assertInsulinOrder(cmd.orderId, known, cmd.occurredAt, context);
  const product = known?.name ?? cmd.product;
  const minimumIntervalMinutes = context.insulinMinimumIntervalMinutes ?? DEFAULT_INSULIN_MINIMUM_INTERVAL_MINUTES;
  const instruction = context.insulinInstruction;
  const differences = instruction ? differencesFromInstruction({ product, productCode: known?.code, doseUnits: cmd.dose.value, occurredAt: cmd.occurredAt }, instruction) : [];
  if (differences.length > 0 && cmd.confirmedAgainstInstruction !== true) {
    const first = differences[0]!;
    throw new NeedsConfirmation(
      'insulin.differs-from-instruction',
      first.field,
      `This dose differs from the instruction of delegation ${instruction!.delegationId}: ` +
        differences.map((d) => `${d.field} ${d.given} where the instruction says ${d.instructed}`).join('; ') +
        '. Check the instruction and the Insulin Passport; if this is what was given, send it again with confirmedAgainstInstruction true: it is recorded and the delegating nurse is told',
    );
  }
  // Compared by code: "humulin i kwikpen" and "Humulin I KwikPen" are one product, as is its code.
  const other = nearestDose(state, known?.code ?? cmd.product, cmd.occurredAt);
  const minutesApart = other ? minutesBetween(other.occurredAt, cmd.occurredAt) : undefined;
  const tooSoon = other !== undefined && minutesApart !== undefined && minutesApart < minimumIntervalMinutes;
  if (tooSoon && !cmd.confirmedNotDuplicate) {
    throw new NeedsConfirmation(
      'insulin.possible-duplicate',
      'occurredAt',
      `${other.dose.value} units of ${other.product} were recorded at ${other.occurredAt}, ${Math.round(minutesApart)} minutes from this dose ` +
        `(minimum interval ${minimumIntervalMinutes} minutes): confirm this is not the same dose recorded twice`,
    );
  }
  return [
    {
      type: 'InsulinAdministered',
      data: compact({
        patientId: cmd.patientId,
        product,
        productCode: known?.code,
        device: cmd.device,
        dose: { value: cmd.dose.value, unit: INSULIN_UNIT },
        site: cmd.site,
        side: cmd.side,
        confirmedNotDuplicate: cmd.confirmedNotDuplicate,
        // Only a confirmation that was needed is kept: the rules read these as the dose's signs.
        confirmedUnknownProduct: known ? undefined : true,
        confirmedAgainstInstruction: differences.length > 0 ? true : undefined,
        orderId: cmd.orderId,
      }),
    },
    ...(tooSoon
      ? [
          {
            type: 'DoseInsideMinimumIntervalFlagged' as const,
            data: {
              patientId: cmd.patientId,
              product,
              previousDoseEntryId: other.entryId,
              previousDoseOccurredAt: other.occurredAt,
              minutesApart,
              minimumIntervalMinutes,
            },
          },
        ]
      : []),
    ...(known ? [] : [unknownProductFlag(cmd.patientId, cmd.product)]),
    ...(differences.length > 0
      ? [{ type: 'DoseOutsideInstructionFlagged' as const, data: { patientId: cmd.patientId, delegationId: instruction!.delegationId, differences } }]
      : []),
  ];
};

/** Records a planned dose not given, and why (a reason is always required). */
export const recordInsulinWithheld = (cmd: RecordInsulinWithheld, _state: CareState, context: CareContext): CareRecordEvent[] => {
  assertBedsideTime(cmd, context.now);
  const known = productOf(cmd.product, cmd.confirmedUnknownProduct);
  assertInsulinOrder(cmd.orderId, known, cmd.occurredAt, context);
  return [
    {
      type: 'InsulinWithheld',
      data: compact({
        patientId: cmd.patientId,
        product: known?.name ?? cmd.product,
        productCode: known?.code,
        plannedDose: { value: cmd.plannedDose.value, unit: INSULIN_UNIT },
        reason: cmd.reason,
        orderId: cmd.orderId,
      }),
    },
    ...(known ? [] : [unknownProductFlag(cmd.patientId, cmd.product)]),
  ];
};
