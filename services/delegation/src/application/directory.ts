import { patientFactsFrom, streamName, type OnCallRotaSetData, type PatientEvent, type PractitionerRegisteredData, type VisitPlannedData } from '@tandem/contracts';
import type { EventStore, RecordedEvent } from '@tandem/event-store';
import type { RecipientDirectory, TeamMember } from '../rules/recipients';
import { careStreamOf, delegationStreamId, onCallRotaStreamId, patientStreamOf, practitionerStreamOf } from './streams';

/**
 * What decides who an escalation reaches, read from the streams (never a read model): the
 * person's care team and registered GP from `patient-<id>`, the members' organisations and roles
 * from their practitioner records, the delegation's nurse and care worker, who recorded the
 * entry, and the on-call rotas of the organisations concerned. With `before`, each stream as it
 * stood before that position (a reaction decides as the first run did).
 */
export const loadRecipientDirectory = async (
  store: EventStore,
  about: { readonly patientId: string; readonly delegationId?: string; readonly triggeringEntryIds?: readonly string[]; readonly before?: number; readonly visitId?: string },
): Promise<RecipientDirectory> => {
  const read = async (stream: string): Promise<RecordedEvent[]> => {
    const events = await store.readStream(stream);
    return about.before === undefined ? events : events.filter((e) => e.position < about.before!);
  };
  const practitioner = async (id: string): Promise<PractitionerRegisteredData | undefined> =>
    (await read(practitionerStreamOf(id))).find((e) => e.type === 'PractitionerRegistered')?.data as PractitionerRegisteredData | undefined;

  const patient = patientFactsFrom((await read(patientStreamOf(about.patientId))) as unknown as PatientEvent[]);
  const team = patient.registered ? patient.careTeam : [];
  const careTeam: TeamMember[] = await Promise.all(
    team.map(async (m) => {
      const p = await practitioner(m.practitionerId);
      return { practitionerId: m.practitionerId, teamRole: m.teamRole, ...(p ? { role: p.role, organisationId: p.organisationId } : {}) };
    }),
  );
  const registeredGp = patient.registered ? patient.registeredGp : undefined;
  const gpOrganisation = registeredGp ? (await practitioner(registeredGp))?.organisationId : undefined;

  let delegation: RecipientDirectory['delegation'];
  if (about.delegationId) {
    const proposed = (await read(delegationStreamId(about.delegationId))).find((e) => e.type === 'DelegationProposed')?.data as
      | { delegatedBy: { practitionerId: string }; careWorker: { practitionerId: string } }
      | undefined;
    if (proposed) delegation = { delegatedBy: proposed.delegatedBy.practitionerId, careWorkerId: proposed.careWorker.practitionerId };
  }

  let recordedBy: RecipientDirectory['recordedBy'];
  const entryIds = new Set(about.triggeringEntryIds ?? []);
  if (entryIds.size) {
    // The entries themselves, whenever `before` is: the entry that raised it is at that position.
    const entries = (await store.readStream(careStreamOf(about.patientId))).filter((e) => entryIds.has(e.id));
    const actor = entries[entries.length - 1]?.metadata.actor;
    if (actor) recordedBy = { id: actor.id, role: actor.role };
  }

  // A visit's provider: its registered manager is told first of a late or missed visit.
  const planned = about.visitId ? (await read(streamName.visit(about.visitId))).find((e) => e.type === 'VisitPlanned') : undefined;
  const visitProvider = planned ? (planned.data as VisitPlannedData).providerOrganisationId : undefined;

  const organisations = new Set([...careTeam.flatMap((m) => (m.organisationId ? [m.organisationId] : [])), ...(gpOrganisation ? [gpOrganisation] : []), ...(visitProvider ? [visitProvider] : [])]);
  const rotas: Record<string, OnCallRotaSetData> = {};
  for (const organisationId of organisations) {
    const events = await read(onCallRotaStreamId(organisationId));
    const last = [...events].reverse().find((e) => e.type === 'OnCallRotaSet');
    if (last) rotas[organisationId] = last.data as OnCallRotaSetData;
  }

  return {
    careTeam,
    ...(registeredGp ? { registeredGp } : {}),
    ...(gpOrganisation ? { registeredGpOrganisationId: gpOrganisation } : {}),
    ...(delegation ? { delegation } : {}),
    ...(recordedBy ? { recordedBy } : {}),
    ...(visitProvider ? { visitProvider } : {}),
    rotas,
  };
};
