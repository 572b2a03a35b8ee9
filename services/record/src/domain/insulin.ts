import { INSULIN_UNIT, type CareRecordEvent, type RecordInsulinAdministered, type RecordInsulinWithheld } from '@tandem/contracts';
import { insulinDosesOf, type CareState, type InsulinDoseRef } from './care-state';
import { compact } from './compact';
import { DEFAULT_INSULIN_MINIMUM_INTERVAL_MINUTES, type CareContext } from './context';
import { NeedsConfirmation } from './errors';
import { assertNotInFuture, minutesBetween } from './time';

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
  assertNotInFuture(cmd.occurredAt, context.now);
  const minimumIntervalMinutes = context.insulinMinimumIntervalMinutes ?? DEFAULT_INSULIN_MINIMUM_INTERVAL_MINUTES;
  const other = nearestDose(state, cmd.product, cmd.occurredAt);
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
        product: cmd.product,
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
              product: cmd.product,
              previousDoseEntryId: other.entryId,
              previousDoseOccurredAt: other.occurredAt,
              minutesApart,
              minimumIntervalMinutes,
            },
          },
        ]
      : []),
  ];
};

/** Records a planned dose not given, and why (a reason is always required). */
export const recordInsulinWithheld = (cmd: RecordInsulinWithheld, _state: CareState, context: CareContext): CareRecordEvent[] => {
  assertNotInFuture(cmd.occurredAt, context.now);
  return [
    {
      type: 'InsulinWithheld',
      data: { patientId: cmd.patientId, product: cmd.product, plannedDose: { value: cmd.plannedDose.value, unit: INSULIN_UNIT }, reason: cmd.reason },
    },
  ];
};
