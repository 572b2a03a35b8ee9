import type { CareTeamMemberAddedData, OrganisationRegisteredData, PatientDetailsUpdatedData, PatientRegisteredData, PractitionerRegisteredData } from '@tandem/contracts';
import type { SqlQueryable } from '@tandem/event-store';
import type { Projection } from '@tandem/projections';
import type { CaseloadGroup } from './groups';

/**
 * The Groups' read model (docs/decisions/0038-groups-and-handshake.md): one Group per organisation
 * registered, whose members are the people it is responsible for: someone of the organisation is
 * on their care team, or their registered GP is of it (a practice's registered patients). Kept as
 * the facts they are made of (who is of which organisation, who is on whose team, who is whose GP),
 * so a membership follows every change of any of them; the members are a join at read time.
 * Rebuilt from the log alone, like every read model (it is one of the projections the runner feeds).
 */
export const GROUPS_SCHEMA_SQL = `
create table if not exists group_organisations (
  organisation_id text primary key,
  name text not null,
  type text not null
);
create table if not exists group_practitioners (
  practitioner_id text primary key,
  organisation_id text not null
);
create table if not exists group_care_teams (
  patient_id text not null,
  practitioner_id text not null,
  team_role text not null,
  primary key (patient_id, practitioner_id, team_role)
);
create table if not exists group_registered_gps (
  patient_id text primary key,
  practitioner_id text not null
);
create index if not exists group_practitioners_by_organisation on group_practitioners (organisation_id)`;

export const GROUPS_PROJECTION_NAME = 'groups';

const setRegisteredGp = (tx: SqlQueryable, patientId: string, practitionerId: string) =>
  tx.query(`insert into group_registered_gps (patient_id, practitioner_id) values ($1, $2) on conflict (patient_id) do update set practitioner_id = excluded.practitioner_id`, [patientId, practitionerId]);

export const groupsProjection: Projection = {
  name: GROUPS_PROJECTION_NAME,
  schemaSql: GROUPS_SCHEMA_SQL,
  // Every statement is an upsert or a delete of the fact itself: replaying an event changes nothing.
  async apply(events, tx) {
    for (const event of events) {
      switch (event.type) {
        case 'OrganisationRegistered': {
          const o = event.data as OrganisationRegisteredData;
          await tx.query(`insert into group_organisations (organisation_id, name, type) values ($1, $2, $3) on conflict (organisation_id) do update set name = excluded.name, type = excluded.type`, [o.organisationId, o.name, o.type]);
          break;
        }
        case 'PractitionerRegistered': {
          const p = event.data as PractitionerRegisteredData;
          await tx.query(`insert into group_practitioners (practitioner_id, organisation_id) values ($1, $2) on conflict (practitioner_id) do update set organisation_id = excluded.organisation_id`, [p.practitionerId, p.organisationId]);
          break;
        }
        case 'PatientRegistered': {
          const p = event.data as PatientRegisteredData;
          if (p.registeredGp !== undefined) await setRegisteredGp(tx, p.patientId, p.registeredGp);
          break;
        }
        case 'PatientDetailsUpdated': {
          // Only the registered GP matters here; a change that leaves it out leaves it as it was (as the patient's facts do).
          const p = event.data as PatientDetailsUpdatedData;
          if (p.registeredGp !== undefined) await setRegisteredGp(tx, p.patientId, p.registeredGp);
          break;
        }
        case 'CareTeamMemberAdded': {
          const m = event.data as CareTeamMemberAddedData;
          await tx.query(`insert into group_care_teams (patient_id, practitioner_id, team_role) values ($1, $2, $3) on conflict do nothing`, [m.patientId, m.practitionerId, m.teamRole]);
          break;
        }
        case 'CareTeamMemberRemoved': {
          const m = event.data as CareTeamMemberAddedData;
          await tx.query(`delete from group_care_teams where patient_id = $1 and practitioner_id = $2 and team_role = $3`, [m.patientId, m.practitionerId, m.teamRole]);
          break;
        }
        default:
          break;
      }
    }
  },
};

/** The Groups as the read model holds them (its views: a rebuild switches them whole). */
export class GroupReader {
  constructor(private readonly db: SqlQueryable) {}

  /** Every organisation's Group, or the one asked, by id. */
  async groups(organisationId?: string): Promise<CaseloadGroup[]> {
    const rows = await this.db.query<{ organisation_id: string; name: string; type: string }>(
      `select organisation_id, name, type from group_organisations ${organisationId === undefined ? '' : 'where organisation_id = $1'} order by organisation_id`,
      organisationId === undefined ? [] : [organisationId],
    );
    return rows.map((r) => ({ organisationId: r.organisation_id, name: r.name, type: r.type }));
  }

  /** The people the organisation is responsible for (ids, ascending): on their team, or their registered GP. */
  async members(organisationId: string): Promise<string[]> {
    const rows = await this.db.query<{ patient_id: string }>(
      `select t.patient_id from group_care_teams t join group_practitioners p using (practitioner_id) where p.organisation_id = $1
       union
       select g.patient_id from group_registered_gps g join group_practitioners p using (practitioner_id) where p.organisation_id = $1
       order by 1`,
      [organisationId],
    );
    return rows.map((r) => r.patient_id);
  }
}
