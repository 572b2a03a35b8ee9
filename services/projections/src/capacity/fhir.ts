import { CAPACITY_FIGURE_SYSTEM, CAPACITY_MEASURE, DELEGATED_ACTIVITY_SYSTEM, FREE_HOURS_EXTENSION, UCUM } from '@tandem/contracts';
import type { Bundle, BundleEntry, FhirResource, MeasureReport, PractitionerRole } from 'fhir/r4';
import { createHash } from 'node:crypto';
import type { CapacityFigures, DelegatedCareWorker } from './figures';

const idOf = (...parts: string[]): string => createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 40);
const DAY_CODES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** The figures a capacity report holds, in the order Capacity Tracker asks them, each one group. */
const FIGURES: readonly { code: keyof Omit<CapacityFigures, 'delegated'>; display: string; hours: boolean }[] = [
  { code: 'peopleSupported', display: 'People supported (with a visit planned in the week)', hours: false },
  { code: 'visitsPlanned', display: 'Visits planned', hours: false },
  { code: 'hoursPlanned', display: 'Care hours planned (staff hours)', hours: true },
  { code: 'hoursDelivered', display: 'Care hours delivered (checked in to checked out, staff hours)', hours: true },
  { code: 'hoursAvailable', display: 'Staff hours available (contracted, less absence)', hours: true },
  { code: 'staff', display: 'Care workers employed', hours: false },
  { code: 'staffAbsent', display: 'Care workers absent in the week', hours: false },
  { code: 'absenceHours', display: 'Hours of absence', hours: true },
  { code: 'staffWithoutContractedHours', display: 'Care workers with no contracted hours recorded', hours: false },
];

/** The organisation's figures as a summary MeasureReport for the week (each figure a group with its code and measureScore). */
export const capacityReportOf = (organisationId: string, week: string, window: { start: string; end: string }, figures: CapacityFigures): MeasureReport => ({
  resourceType: 'MeasureReport',
  id: idOf('capacity', organisationId, week),
  status: 'complete',
  type: 'summary',
  measure: CAPACITY_MEASURE,
  reporter: { reference: `Organization/${organisationId}` },
  period: { start: window.start, end: window.end },
  group: FIGURES.map((f) => ({
    code: { coding: [{ system: CAPACITY_FIGURE_SYSTEM, code: f.code, display: f.display }] },
    measureScore: f.hours ? { value: figures[f.code], unit: 'h', system: UCUM, code: 'h' } : { value: figures[f.code] },
  })),
});

/**
 * A care worker able to take on a delegated activity this week, as the discharge team needs her:
 * which activity (code), for which part of the week (period, to her competence's end), on which
 * days (availableTime), with how many free hours (extension). Her name is not disclosed: the
 * Practitioner reference is enough for the provider to know whom the hospital means.
 */
export const delegatedRoleOf = (organisationId: string, frameworkId: string, worker: DelegatedCareWorker): PractitionerRole => ({
  resourceType: 'PractitionerRole',
  id: idOf('delegated', organisationId, frameworkId, worker.practitionerId, worker.availableFrom),
  ...(worker.freeHours !== null ? { extension: [{ url: FREE_HOURS_EXTENSION, valueQuantity: { value: worker.freeHours, unit: 'h', system: UCUM, code: 'h' } }] } : {}),
  active: true,
  period: { start: worker.availableFrom, end: worker.availableUntil },
  practitioner: { reference: `Practitioner/${worker.practitionerId}` },
  organization: { reference: `Organization/${organisationId}` },
  code: [{ coding: [{ system: DELEGATED_ACTIVITY_SYSTEM, code: frameworkId }] }],
  availableTime: [{ daysOfWeek: worker.days.map((d) => DAY_CODES[(new Date(`${d}T00:00:00Z`).getUTCDay() + 6) % 7]!), allDay: true }],
});

/** The whole answer of `$capacity`: the report first, then every care worker able to take on each delegated activity. */
export const capacityBundleOf = (base: string, organisationId: string, week: string, window: { start: string; end: string }, figures: CapacityFigures, frameworkId?: string): Bundle => {
  const report = capacityReportOf(organisationId, week, window, figures);
  const roles = figures.delegated.filter((d) => frameworkId === undefined || d.frameworkId === frameworkId).flatMap((d) => d.careWorkers.map((w) => delegatedRoleOf(organisationId, d.frameworkId, w)));
  const entry = (resource: FhirResource): BundleEntry => ({ fullUrl: `${base}/${resource.resourceType}/${resource.id ?? ''}`, resource });
  return { resourceType: 'Bundle', type: 'collection', timestamp: new Date().toISOString(), entry: [entry(report), ...roles.map(entry)] };
};
