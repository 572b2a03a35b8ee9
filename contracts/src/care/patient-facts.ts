import type { Baseline, PatientEvent } from './people';

/**
 * The facts of a person's `patient-<id>` stream that more than one service decides on: whether
 * they are registered, who cares for them (their team, their registered GP, who registered them)
 * and their usual self (baseline). The access policy, escalation recipients and the rules' baseline
 * read them; one pure fold here, so every service that reads the patient stream agrees on who is in
 * the team (the record's own fuller state, demographics and versions, is the record's).
 */
export interface PatientTeamMember {
  readonly practitionerId: string;
  readonly teamRole: Extract<PatientEvent, { type: 'CareTeamMemberAdded' }>['data']['teamRole'];
}

export type PatientStreamFacts =
  | { readonly registered: false }
  | {
      readonly registered: true;
      readonly patientId: string;
      readonly registeredGp?: string;
      /** Who registered the person (the registration's actor): they set up a new person's team. */
      readonly registeredBy?: string;
      readonly baseline: Baseline;
      readonly careTeam: readonly PatientTeamMember[];
    };

/** A patient event as stored: its actor, when known, says who registered the person. */
export type PatientEventWithActor = PatientEvent & { readonly metadata?: { readonly actor?: { readonly id: string } } };

/** The team after one event: a membership is a practitioner in a team role; removing it removes only that role. */
export const careTeamAfter = (team: readonly PatientTeamMember[], event: PatientEvent): readonly PatientTeamMember[] => {
  if (event.type === 'CareTeamMemberAdded') return [...team, { practitionerId: event.data.practitionerId, teamRole: event.data.teamRole }];
  if (event.type === 'CareTeamMemberRemoved') return team.filter((m) => !(m.practitionerId === event.data.practitionerId && m.teamRole === event.data.teamRole));
  return team;
};

export const evolvePatientFacts = (state: PatientStreamFacts, event: PatientEventWithActor): PatientStreamFacts => {
  if (event.type === 'PatientRegistered') {
    if (state.registered) return state;
    const registeredBy = event.metadata?.actor?.id;
    const { patientId, registeredGp, baseline } = event.data;
    return { registered: true, patientId, baseline, careTeam: [], ...(registeredGp !== undefined ? { registeredGp } : {}), ...(registeredBy !== undefined ? { registeredBy } : {}) };
  }
  if (!state.registered) return state;
  switch (event.type) {
    case 'PatientDetailsUpdated':
      // Only the registered GP of the details matters here; what is left out stays as it was.
      return event.data.registeredGp !== undefined ? { ...state, registeredGp: event.data.registeredGp } : state;
    case 'PatientBaselineSet':
      return { ...state, baseline: event.data.baseline };
    case 'CareTeamMemberAdded':
    case 'CareTeamMemberRemoved':
      return { ...state, careTeam: careTeamAfter(state.careTeam, event) };
    default:
      return state;
  }
};

export const patientFactsFrom = (events: readonly PatientEventWithActor[]): PatientStreamFacts => events.reduce(evolvePatientFacts, { registered: false } as PatientStreamFacts);
