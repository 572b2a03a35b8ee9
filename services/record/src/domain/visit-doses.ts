import { englandMinutesOfDay, INSULIN_PRODUCT_SYSTEM, isInsulinProduct, type PlannedVisit } from '@tandem/contracts';
import { insulinProductKey, type CareState } from './care-state';
import { outcomeOfScheduledDose } from './mar';
import type { MedicationOrderState } from './medicines';
import { INSULIN_TIME_WINDOW_MINUTES } from './context';
import { dateInEngland, instantOf } from './time';
import type { ScheduledDoseInVisit } from './visits';

/**
 * The scheduled medicines due in a visit, while insulin is the only medicine with a schedule
 * (a delegation's instruction: product, dose in units, times of day in England). The medicines
 * administration record (issue 13, the MAR) supplies the same answer for every prescribed
 * medicine through `ScheduledDosesOfVisit`; this is the insulin case of it. Pure.
 */

export interface InsulinSchedule {
  readonly delegationId: string;
  readonly product: string;
  readonly doseUnits: number;
  /** Times of day in England, "HH:MM". */
  readonly times: readonly string[];
}

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The instants in the visit's planned period at which an instructed time of day falls. */
export const instructedTimesInVisit = (visit: Pick<PlannedVisit, 'plannedStart' | 'plannedEnd'>, times: readonly string[]): { time: string; dueAt: string }[] => {
  const start = instantOf(visit.plannedStart);
  const duration = (instantOf(visit.plannedEnd) - start) / 60_000;
  const startMinutes = englandMinutesOfDay(Date.parse(visit.plannedStart));
  return times.flatMap((time) => {
    const offset = (minutesOf(time) - startMinutes + 24 * 60) % (24 * 60);
    // Whole minutes: the seconds of the planned start are not part of a time of day.
    const dueAt = new Date(start - (start % 60_000) + offset * 60_000).toISOString();
    return offset <= duration ? [{ time, dueAt }] : [];
  });
};

/**
 * Each instructed insulin time in the visit, with its outcome: a dose of that product given or
 * withheld (not entered in error) within INSULIN_TIME_WINDOW_MINUTES of it, else none.
 */
export const insulinDosesDueInVisit = (
  visit: Pick<PlannedVisit, 'plannedStart' | 'plannedEnd'>,
  schedules: readonly InsulinSchedule[],
  care: CareState,
  windowMinutes = INSULIN_TIME_WINDOW_MINUTES,
): ScheduledDoseInVisit[] =>
  schedules.flatMap((schedule) => {
    const key = insulinProductKey(schedule.product);
    const recorded = Object.values(care.entries).filter(
      (e) => !e.enteredInError && (e.type === 'InsulinAdministered' || e.type === 'InsulinWithheld') && insulinProductKey(e.data.product, e.data.productCode) === key,
    );
    return instructedTimesInVisit(visit, schedule.times).map(({ time, dueAt }) => {
      const outcome = recorded.find((e) => Math.abs(instantOf(e.occurredAt) - instantOf(dueAt)) <= windowMinutes * 60_000);
      return {
        doseId: `${schedule.delegationId}@${dueAt}`,
        description: `${schedule.doseUnits} units of ${schedule.product} at ${time}`,
        dueAt,
        ...(outcome ? { outcome: outcome.type === 'InsulinAdministered' ? 'given' : 'withheld' } : {}),
      };
    });
  });

/**
 * Each scheduled time of the person's active orders in the visit, with its outcome: the MAR entry
 * for that order, that time and that day in England (`outcomeOfScheduledDose`, the MAR's own
 * one-outcome-per-dose rule), else none. An insulin order whose product a delegation's instruction already schedules is left to
 * `insulinDosesDueInVisit` (`delegatedInsulin`), so no dose is counted twice. Pure.
 */
export const orderedDosesDueInVisit = (
  visit: Pick<PlannedVisit, 'plannedStart' | 'plannedEnd'>,
  orders: readonly MedicationOrderState[],
  care: CareState,
  delegatedInsulin: ReadonlySet<string> = new Set(),
): ScheduledDoseInVisit[] =>
  orders.flatMap((order) => {
    const { details } = order;
    if (order.status !== 'active' || details.timing.kind !== 'scheduled') return [];
    const insulinKey = isInsulinProduct(details.product) ? insulinProductKey(details.product.display, details.product.system === INSULIN_PRODUCT_SYSTEM ? details.product.code : undefined) : undefined;
    if (insulinKey !== undefined && delegatedInsulin.has(insulinKey)) return [];
    // Insulin is given through its own commands (pen, units, glucose): its outcome is an insulin entry, as for a delegation.
    if (insulinKey !== undefined) {
      return insulinDosesDueInVisit(visit, [{ delegationId: order.id, product: details.product.display, doseUnits: details.dose.value, times: details.timing.times }], care).filter(
        (d) => instantOf(d.dueAt) >= instantOf(details.start) && (details.stop === undefined || instantOf(d.dueAt) < instantOf(details.stop)),
      );
    }
    const start = instantOf(details.start);
    const stop = details.stop === undefined ? Infinity : instantOf(details.stop);
    return instructedTimesInVisit(visit, details.timing.times).flatMap(({ time, dueAt }) => {
      const due = instantOf(dueAt);
      if (due < start || due >= stop) return [];
      const outcome = outcomeOfScheduledDose(care, order.id, time, dateInEngland(new Date(dueAt)));
      return [
        {
          doseId: `${order.id}@${dueAt}`,
          description: `${details.dose.value} ${details.dose.unit} of ${details.product.display} at ${time}`,
          dueAt,
          ...(outcome ? { outcome: outcome.data.outcome } : {}),
        },
      ];
    });
  });
