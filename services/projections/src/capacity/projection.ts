import { streamOfKind, type CompetenceReinstatedData, type CompetenceSignedOffData, type ContractedHoursSetData, type PractitionerRegisteredData, type StaffAbsenceRecordedData, type VisitPlannedData, type VisitReplannedData, type VisitRescheduledData } from '@tandem/contracts';
import type { RecordedEvent, SqlQueryable } from '@tandem/event-store';
import type { Projection } from '../projection';
import type { CompetenceStatus } from './figures';

/**
 * The capacity read model (issue 15; docs/decisions/0037): the facts a provider's capacity in any
 * week is computed from at read time (./figures.ts): its care workers and their contracted hours,
 * their absences, its visits, and each care worker's competence per framework. Kept current as
 * events arrive and rebuilt from the log alone like every read model; every write is an upsert by
 * the event's own key, so replaying an event changes nothing.
 */
export const CAPACITY_SCHEMA_SQL = `
create table if not exists capacity_staff (
  practitioner_id text primary key,
  organisation_id text not null,
  role text not null,
  hours_per_week numeric
);
create table if not exists capacity_absences (
  absence_id text not null,
  practitioner_id text not null,
  starts timestamptz not null,
  ends timestamptz not null,
  kind text not null,
  primary key (practitioner_id, absence_id)
);
create table if not exists capacity_visits (
  visit_id text primary key,
  patient_id text not null,
  organisation_id text not null,
  planned_start timestamptz not null,
  planned_end timestamptz not null,
  care_worker_ids text[] not null,
  cancelled boolean not null default false,
  checked_in_at timestamptz,
  checked_out_at timestamptz
);
create index if not exists capacity_visits_by_org_start on capacity_visits (organisation_id, planned_start);
create table if not exists capacity_competences (
  care_worker_id text not null,
  framework_id text not null,
  status text not null,
  valid_until timestamptz,
  primary key (care_worker_id, framework_id)
)`;

/** A competence's status after each event of its stream (the passport's own states, as the delegation service names them). */
const COMPETENCE_STATUS: Readonly<Record<string, CompetenceStatus>> = {
  TrainingStarted: 'in-training',
  TrainingModuleCompleted: 'in-training',
  TrainingCompleted: 'in-training',
  SupervisedPracticeRecorded: 'in-training',
  ReadyForAssessment: 'in-training',
  CompetenceAssessmentNotPassed: 'in-training',
  CompetenceSignedOff: 'current',
  CompetenceReinstated: 'current',
  CompetenceLapsed: 'lapsed',
  CompetenceSuspended: 'suspended',
  CompetenceRevoked: 'revoked',
};

const applyOne = async (tx: SqlQueryable, event: RecordedEvent): Promise<void> => {
  const competence = streamOfKind(event.stream, 'competency');
  if (competence) {
    const status = COMPETENCE_STATUS[event.type];
    if (!status) return;
    const validUntil = event.type === 'CompetenceSignedOff' || event.type === 'CompetenceReinstated' ? (event.data as CompetenceSignedOffData | CompetenceReinstatedData).validUntil : null;
    await tx.query(
      `insert into capacity_competences (care_worker_id, framework_id, status, valid_until) values ($1, $2, $3, $4)
       on conflict (care_worker_id, framework_id) do update set status = excluded.status, valid_until = coalesce(excluded.valid_until, capacity_competences.valid_until)`,
      [competence.careWorkerId, competence.frameworkId, status, validUntil],
    );
    return;
  }
  const visit = streamOfKind(event.stream, 'visit');
  if (visit) {
    switch (event.type) {
      case 'VisitPlanned': {
        const v = event.data as VisitPlannedData;
        await tx.query(
          `insert into capacity_visits (visit_id, patient_id, organisation_id, planned_start, planned_end, care_worker_ids) values ($1, $2, $3, $4, $5, $6)
           on conflict (visit_id) do update set patient_id = excluded.patient_id, organisation_id = excluded.organisation_id, planned_start = excluded.planned_start, planned_end = excluded.planned_end, care_worker_ids = excluded.care_worker_ids`,
          [v.visitId, v.patientId, v.providerOrganisationId, v.plannedStart, v.plannedEnd, v.careWorkerIds],
        );
        return;
      }
      case 'VisitRescheduled': {
        const v = event.data as VisitRescheduledData;
        await tx.query(`update capacity_visits set planned_start = $2, planned_end = $3 where visit_id = $1`, [visit.visitId, v.plannedStart, v.plannedEnd]);
        return;
      }
      case 'VisitReplanned': {
        const v = event.data as VisitReplannedData;
        if (v.careWorkerIds) await tx.query(`update capacity_visits set care_worker_ids = $2 where visit_id = $1`, [visit.visitId, v.careWorkerIds]);
        return;
      }
      case 'VisitCancelled':
        await tx.query(`update capacity_visits set cancelled = true where visit_id = $1`, [visit.visitId]);
        return;
      case 'VisitCheckedIn':
        // The first arrival is when the care began (a second care worker checking in later does not move it).
        await tx.query(`update capacity_visits set checked_in_at = coalesce(checked_in_at, $2) where visit_id = $1`, [visit.visitId, event.metadata.occurredAt]);
        return;
      case 'VisitCheckedOut':
        await tx.query(`update capacity_visits set checked_out_at = $2 where visit_id = $1`, [visit.visitId, event.metadata.occurredAt]);
        return;
      default:
        return;
    }
  }
  switch (event.type) {
    case 'PractitionerRegistered': {
      const p = event.data as PractitionerRegisteredData;
      await tx.query(
        `insert into capacity_staff (practitioner_id, organisation_id, role) values ($1, $2, $3) on conflict (practitioner_id) do update set organisation_id = excluded.organisation_id, role = excluded.role`,
        [p.practitionerId, p.organisationId, p.role],
      );
      return;
    }
    case 'ContractedHoursSet': {
      const c = event.data as ContractedHoursSetData;
      await tx.query(`update capacity_staff set hours_per_week = $2 where practitioner_id = $1`, [c.practitionerId, c.hoursPerWeek]);
      return;
    }
    case 'StaffAbsenceRecorded': {
      const a = event.data as StaffAbsenceRecordedData;
      await tx.query(
        `insert into capacity_absences (absence_id, practitioner_id, starts, ends, kind) values ($1, $2, $3, $4, $5) on conflict (practitioner_id, absence_id) do nothing`,
        [a.absenceId, a.practitionerId, a.from, a.to, a.kind],
      );
      return;
    }
    default:
      return;
  }
};

export const capacityProjection: Projection = {
  name: 'capacity',
  schemaSql: CAPACITY_SCHEMA_SQL,
  apply: async (events, tx) => {
    for (const event of events) await applyOne(tx, event);
  },
};
