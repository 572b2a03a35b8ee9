import {
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
import { DEFAULT_INSULIN_MINIMUM_INTERVAL_MINUTES, type CareContext } from './context';
import { NeedsConfirmation } from './errors';
import { assertBedsideTime, minutesBetween } from './time';

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
  const product = known?.name ?? cmd.product;
  const minimumIntervalMinutes = context.insulinMinimumIntervalMinutes ?? DEFAULT_INSULIN_MINIMUM_INTERVAL_MINUTES;
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
  ];
};

/** Records a planned dose not given, and why (a reason is always required). */
export const recordInsulinWithheld = (cmd: RecordInsulinWithheld, _state: CareState, context: CareContext): CareRecordEvent[] => {
  assertBedsideTime(cmd, context.now);
  const known = productOf(cmd.product, cmd.confirmedUnknownProduct);
  return [
    {
      type: 'InsulinWithheld',
      data: compact({
        patientId: cmd.patientId,
        product: known?.name ?? cmd.product,
        productCode: known?.code,
        plannedDose: { value: cmd.plannedDose.value, unit: INSULIN_UNIT },
        reason: cmd.reason,
      }),
    },
    ...(known ? [] : [unknownProductFlag(cmd.patientId, cmd.product)]),
  ];
};
