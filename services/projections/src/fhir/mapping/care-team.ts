import type { CareTeamMemberAddedData, CareTeamMemberRemovedData } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import type { CareTeam, CareTeamParticipant } from 'fhir/r4';
import { refKey } from '@tandem/fhir-read-model';
import type { FhirReads, IndexedResource } from '../writer';
import { dataOf, fhirDateTime, patientRef, practitionerRef, withoutMeta, type FhirHandlers, type FhirReadKeys } from './common';

type TeamRole = CareTeamMemberAddedData['teamRole'];

const TEAM_ROLE_TEXT: Record<TeamRole, string> = {
  'accountable-clinician': 'Accountable clinician',
  'district-nurse': 'District nurse',
  gp: 'General practitioner',
  'care-worker': 'Care worker',
  'registered-manager': 'Registered manager',
};

/** One CareTeam per person; each member added or removed is a new version of it. */
export const careTeamId = (patientId: string): string => `careteam-${patientId}`;

const isMember = (p: CareTeamParticipant, practitionerId: string, teamRole: TeamRole) =>
  p.member?.reference === `Practitioner/${practitionerId}` && p.role?.some((r) => r.text === TEAM_ROLE_TEXT[teamRole]) === true;

export const indexCareTeam = (team: CareTeam & { id: string }, patientId: string): IndexedResource => ({
  resource: team,
  patientId,
  refs: [...new Set((team.participant ?? []).flatMap((p) => (p.member?.reference ? [refKey('participant', p.member.reference)] : [])))],
});

const currentTeam = async (reads: FhirReads, patientId: string): Promise<CareTeam & { id: string }> => {
  const [current] = await reads.current<CareTeam>('CareTeam', [careTeamId(patientId)]);
  return current
    ? { ...withoutMeta(current.resource), id: careTeamId(patientId) }
    : { resourceType: 'CareTeam', id: careTeamId(patientId), status: 'active', name: 'Care team', subject: patientRef(patientId), participant: [] };
};

const withParticipants = (team: CareTeam & { id: string }, participant: CareTeamParticipant[]): CareTeam & { id: string } => {
  const { participant: _old, ...rest } = team;
  return participant.length ? { ...rest, participant } : rest;
};

const teamOf = (event: RecordedEvent) => [{ type: 'CareTeam' as const, id: careTeamId(dataOf<{ patientId: string }>(event).patientId) }];
export const careTeamReads: FhirReadKeys = { CareTeamMemberAdded: teamOf, CareTeamMemberRemoved: teamOf };

export const careTeamHandlers: FhirHandlers = {
  CareTeamMemberAdded: async (event, reads) => {
    const d = dataOf<CareTeamMemberAddedData>(event);
    const team = await currentTeam(reads, d.patientId);
    const participants = team.participant ?? [];
    if (participants.some((p) => isMember(p, d.practitionerId, d.teamRole))) return [];
    const added: CareTeamParticipant = {
      role: [{ text: TEAM_ROLE_TEXT[d.teamRole] }],
      member: practitionerRef(d.practitionerId),
      period: { start: fhirDateTime(event.metadata.occurredAt) },
    };
    return [indexCareTeam(withParticipants(team, [...participants, added]), d.patientId)];
  },

  /** The member leaves the current version; earlier versions (history) still show them. */
  CareTeamMemberRemoved: async (event, reads) => {
    const d = dataOf<CareTeamMemberRemovedData>(event);
    const team = await currentTeam(reads, d.patientId);
    const participants = team.participant ?? [];
    const remaining = participants.filter((p) => !isMember(p, d.practitionerId, d.teamRole));
    if (remaining.length === participants.length) return [];
    return [indexCareTeam(withParticipants(team, remaining), d.patientId)];
  },
};
