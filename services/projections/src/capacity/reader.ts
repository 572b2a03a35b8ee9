import type { SqlQueryable } from '@tandem/event-store';
import { capacityOfWeek, type CapacityFacts, type CapacityFigures, type CompetenceStatus, type Week } from './figures';

/** The capacity read model's facts for one organisation and week, then its figures (./figures.ts). */
export class CapacityReader {
  constructor(private readonly db: SqlQueryable) {}

  async facts(organisationId: string, week: Week): Promise<CapacityFacts> {
    const staff = await this.db.query<{ practitioner_id: string; hours_per_week: string | number | null }>(
      `select practitioner_id, hours_per_week from capacity_staff where organisation_id = $1 and role = 'care-worker' order by practitioner_id`,
      [organisationId],
    );
    const ids = staff.map((s) => s.practitioner_id);
    const absences = await this.db.query<{ practitioner_id: string; starts: Date | string; ends: Date | string }>(
      `select practitioner_id, starts, ends from capacity_absences where practitioner_id = any($1::text[]) and starts < $3 and ends > $2`,
      [ids, week.start, week.end],
    );
    const visits = await this.db.query<{ visit_id: string; patient_id: string; planned_start: Date | string; planned_end: Date | string; care_worker_ids: string[]; checked_in_at: Date | string | null; checked_out_at: Date | string | null }>(
      `select visit_id, patient_id, planned_start, planned_end, care_worker_ids, checked_in_at, checked_out_at from capacity_visits
       where organisation_id = $1 and not cancelled and planned_start >= $2 and planned_start < $3 order by planned_start, visit_id`,
      [organisationId, week.start, week.end],
    );
    const competences = await this.db.query<{ care_worker_id: string; framework_id: string; status: CompetenceStatus; valid_until: Date | string | null }>(
      `select care_worker_id, framework_id, status, valid_until from capacity_competences where care_worker_id = any($1::text[])`,
      [ids],
    );
    const iso = (v: Date | string): string => new Date(v).toISOString();
    return {
      staff: staff.map((s) => ({ practitionerId: s.practitioner_id, ...(s.hours_per_week !== null ? { hoursPerWeek: Number(s.hours_per_week) } : {}) })),
      absences: absences.map((a) => ({ practitionerId: a.practitioner_id, from: iso(a.starts), to: iso(a.ends) })),
      visits: visits.map((v) => ({
        visitId: v.visit_id,
        patientId: v.patient_id,
        plannedStart: iso(v.planned_start),
        plannedEnd: iso(v.planned_end),
        careWorkerIds: v.care_worker_ids,
        ...(v.checked_in_at ? { checkedInAt: iso(v.checked_in_at) } : {}),
        ...(v.checked_out_at ? { checkedOutAt: iso(v.checked_out_at) } : {}),
      })),
      competences: competences.map((c) => ({ careWorkerId: c.care_worker_id, frameworkId: c.framework_id, status: c.status, ...(c.valid_until ? { validUntil: iso(c.valid_until) } : {}) })),
    };
  }

  async figures(organisationId: string, week: Week): Promise<CapacityFigures> {
    return capacityOfWeek(await this.facts(organisationId, week), week);
  }

  /** Whether the organisation is known to the read model (a care worker of it registered). */
  async knows(organisationId: string): Promise<boolean> {
    const rows = await this.db.query<{ n: number }>(`select 1 as n from capacity_staff where organisation_id = $1 limit 1`, [organisationId]);
    return rows.length > 0;
  }
}
