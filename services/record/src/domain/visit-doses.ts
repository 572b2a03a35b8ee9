import { isInsulinProduct, type PlannedVisit } from '@tandem/contracts';
import type { MedicationOrderState } from './medicines';
import { insulinProductKey, type CareState } from './care-state';
import { INSULIN_TIME_WINDOW_MINUTES } from './context';
import { instantOf } from './time';
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

const localMinutes = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

const minutesOfDayInEngland = (at: string): number => {
  const parts = Object.fromEntries(localMinutes.formatToParts(new Date(at)).map((p) => [p.type, p.value]));
  return Number(parts.hour) * 60 + Number(parts.minute);
};

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The instants in the visit's planned period at which an instructed time of day falls. */
export const instructedTimesInVisit = (visit: Pick<PlannedVisit, 'plannedStart' | 'plannedEnd'>, times: readonly string[]): { time: string; dueAt: string }[] => {
  const start = instantOf(visit.plannedStart);
  const duration = (instantOf(visit.plannedEnd) - start) / 60_000;
  const startMinutes = minutesOfDayInEngland(visit.plannedStart);
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

const englandDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });

/**
 * Each scheduled time of a person's active, non-insulin medication orders that falls in the visit,
 * with the MAR outcome recorded for it (the dose of that order, that scheduled time, that day in
 * England, not entered in error), else none. Insulin is left to `insulinDosesDueInVisit`: its doses
 * are recorded against the delegation's instruction, and counting them twice would ask twice.
 */
export const medicineDosesDueInVisit = (
  visit: Pick<PlannedVisit, 'plannedStart' | 'plannedEnd'>,
  orders: readonly Pick<MedicationOrderState, 'id' | 'details' | 'status' | 'stopped'>[],
  care: CareState,
): ScheduledDoseInVisit[] =>
  orders.flatMap((order) => {
    const d = order.details;
    if (d.timing.kind !== 'scheduled' || isInsulinProduct(d.product)) return [];
    return instructedTimesInVisit(visit, d.timing.times).flatMap(({ time, dueAt }) => {
      const at = instantOf(dueAt);
      const stoppedAt = order.stopped ? instantOf(order.stopped.at) : d.stop ? instantOf(d.stop) : Infinity;
      if (at < instantOf(d.start) || at >= stoppedAt) return [];
      const day = englandDay.format(new Date(dueAt));
      const outcome = Object.values(care.entries).find(
        (e) => !e.enteredInError && e.type === 'MedicineDoseRecorded' && e.data.orderId === order.id && e.data.scheduledTime === time && englandDay.format(new Date(e.occurredAt)) === day,
      );
      return [
        {
          doseId: `${order.id}@${dueAt}`,
          description: `${d.dose.value} ${d.dose.unit} of ${d.product.display} at ${time}`,
          dueAt,
          ...(outcome?.type === 'MedicineDoseRecorded' ? { outcome: outcome.data.outcome } : {}),
        },
      ];
    });
  });
