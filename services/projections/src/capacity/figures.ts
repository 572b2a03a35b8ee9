/**
 * A home-care provider's capacity in one week (issue 15; docs/decisions/0037), pure: the facts the
 * capacity projection keeps (its care workers, their contracted hours and absences, its visits, the
 * care workers' competences) in, the figures out. Nothing here reads a clock or a database.
 *
 * Hours are staff hours: a visit of two care workers for an hour is two hours planned (and
 * delivered), as hours available are each care worker's own. A care worker's hours available in
 * a stretch of the week are her contracted hours a week times the share of the week the stretch
 * is, less the time she is absent in it; her free hours are those less the hours she is planned
 * on visits in it (never below 0).
 */

export interface StaffFact {
  readonly practitionerId: string;
  /** Undefined when no contracted hours are recorded: her hours available are then not known (null), never 0. */
  readonly hoursPerWeek?: number;
}

export interface AbsenceFact {
  readonly practitionerId: string;
  readonly from: string;
  readonly to: string;
}

export interface VisitFact {
  readonly visitId: string;
  readonly patientId: string;
  readonly plannedStart: string;
  readonly plannedEnd: string;
  readonly careWorkerIds: readonly string[];
  readonly checkedInAt?: string;
  readonly checkedOutAt?: string;
}

export type CompetenceStatus = 'in-training' | 'current' | 'lapsed' | 'suspended' | 'revoked';

export interface CompetenceFact {
  readonly careWorkerId: string;
  readonly frameworkId: string;
  readonly status: CompetenceStatus;
  readonly validUntil?: string;
}

export interface CapacityFacts {
  /** The organisation's care workers (registered with it in the care-worker role). */
  readonly staff: readonly StaffFact[];
  readonly absences: readonly AbsenceFact[];
  /** The organisation's visits planned to start in the week, not cancelled. */
  readonly visits: readonly VisitFact[];
  readonly competences: readonly CompetenceFact[];
}

export interface Week {
  readonly start: string;
  readonly end: string;
  /** Its seven England dates, Monday first. */
  readonly dates: readonly string[];
}

export interface DelegatedCareWorker {
  readonly practitionerId: string;
  /** When her competence runs out (its validUntil); within the week when it expires mid-week. */
  readonly competentUntil: string;
  /** The part of the week she is competent for: the week's start to its end or her competence's, whichever is first. */
  readonly availableFrom: string;
  readonly availableUntil: string;
  /** The England dates of the week she is competent on (any part of the day). */
  readonly days: readonly string[];
  /** Free hours in that part of the week; null when her contracted hours are not recorded. */
  readonly freeHours: number | null;
}

export interface DelegatedCapacity {
  readonly frameworkId: string;
  readonly careWorkers: readonly DelegatedCareWorker[];
}

export interface CapacityFigures {
  readonly peopleSupported: number;
  readonly visitsPlanned: number;
  readonly hoursPlanned: number;
  readonly hoursDelivered: number;
  /** The care workers' hours available in the week, over those with contracted hours recorded. */
  readonly hoursAvailable: number;
  readonly staff: number;
  /** Care workers absent for any part of the week. */
  readonly staffAbsent: number;
  readonly absenceHours: number;
  /** Care workers with no contracted hours recorded: hoursAvailable leaves them out (it is a floor). */
  readonly staffWithoutContractedHours: number;
  readonly delegated: readonly DelegatedCapacity[];
}

const HOUR = 3_600_000;
const ms = (instant: string): number => Date.parse(instant);
const hours = (milliseconds: number): number => Math.round((milliseconds / HOUR) * 10) / 10;
const overlap = (aFrom: number, aTo: number, bFrom: number, bTo: number): number => Math.max(0, Math.min(aTo, bTo) - Math.max(aFrom, bFrom));

/** Time absent within [from, to), overlapping absences counted once. */
const absentWithin = (absences: readonly AbsenceFact[], from: number, to: number): number => {
  const spans = absences.map((a) => [Math.max(from, ms(a.from)), Math.min(to, ms(a.to))] as const).filter(([f, t]) => t > f).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let reach = -Infinity;
  for (const [f, t] of spans) {
    const start = Math.max(f, reach);
    if (t > start) total += t - start;
    reach = Math.max(reach, t);
  }
  return total;
};

export const capacityOfWeek = (facts: CapacityFacts, week: Week): CapacityFigures => {
  const weekFrom = ms(week.start);
  const weekTo = ms(week.end);
  const weekLength = weekTo - weekFrom;
  const staffIds = new Set(facts.staff.map((s) => s.practitionerId));
  const absencesOf = (id: string) => facts.absences.filter((a) => a.practitionerId === id);

  /** Her hours available in [from, to): contracted hours pro rata, less absence; undefined without contracted hours. */
  const availableMs = (staff: StaffFact, from: number, to: number): number | undefined =>
    staff.hoursPerWeek === undefined ? undefined : Math.max(0, staff.hoursPerWeek * HOUR * ((to - from - absentWithin(absencesOf(staff.practitionerId), from, to)) / weekLength));
  const plannedMs = (id: string, from: number, to: number): number =>
    facts.visits.filter((v) => v.careWorkerIds.includes(id)).reduce((sum, v) => sum + overlap(ms(v.plannedStart), ms(v.plannedEnd), from, to), 0);

  const delegated = new Map<string, DelegatedCareWorker[]>();
  for (const c of facts.competences) {
    if (c.status !== 'current' || c.validUntil === undefined || !staffIds.has(c.careWorkerId)) continue;
    const until = Math.min(weekTo, ms(c.validUntil));
    if (until <= weekFrom) continue;
    const staff = facts.staff.find((s) => s.practitionerId === c.careWorkerId)!;
    const available = availableMs(staff, weekFrom, until);
    const worker: DelegatedCareWorker = {
      practitionerId: c.careWorkerId,
      competentUntil: new Date(ms(c.validUntil)).toISOString(),
      availableFrom: new Date(weekFrom).toISOString(),
      availableUntil: new Date(until).toISOString(),
      // A day counts when she is competent for any part of it: its start (England midnight) is before her competence ends.
      days: week.dates.filter((_, i) => weekFrom + i * 86_400_000 < until),
      freeHours: available === undefined ? null : hours(Math.max(0, available - plannedMs(c.careWorkerId, weekFrom, until))),
    };
    delegated.set(c.frameworkId, [...(delegated.get(c.frameworkId) ?? []), worker]);
  }

  const staffAvailable = facts.staff.map((s) => availableMs(s, weekFrom, weekTo));
  return {
    peopleSupported: new Set(facts.visits.map((v) => v.patientId)).size,
    visitsPlanned: facts.visits.length,
    hoursPlanned: hours(facts.visits.reduce((sum, v) => sum + (ms(v.plannedEnd) - ms(v.plannedStart)) * v.careWorkerIds.length, 0)),
    hoursDelivered: hours(
      facts.visits.reduce((sum, v) => (v.checkedInAt && v.checkedOutAt ? sum + Math.max(0, ms(v.checkedOutAt) - ms(v.checkedInAt)) * v.careWorkerIds.length : sum), 0),
    ),
    hoursAvailable: hours(staffAvailable.reduce<number>((sum, a) => sum + (a ?? 0), 0)),
    staff: facts.staff.length,
    staffAbsent: facts.staff.filter((s) => absentWithin(absencesOf(s.practitionerId), weekFrom, weekTo) > 0).length,
    absenceHours: hours(facts.staff.reduce((sum, s) => sum + absentWithin(absencesOf(s.practitionerId), weekFrom, weekTo), 0)),
    staffWithoutContractedHours: staffAvailable.filter((a) => a === undefined).length,
    delegated: [...delegated.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([frameworkId, careWorkers]) => ({ frameworkId, careWorkers: careWorkers.sort((a, b) => a.practitionerId.localeCompare(b.practitionerId)) })),
  };
};
