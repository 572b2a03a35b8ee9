import type { EscalationRecipient, OnCallRotaSetData, Weekday } from '@tandem/contracts';
import { WEEKDAYS } from '@tandem/contracts';

/**
 * Who an escalation tier reaches, by name (docs/clinical/escalation-recipients.md). Pure: the
 * edge reads the person's care team and GP from their patient stream, the delegation, the members'
 * practitioner records and the organisations' on-call rotas (streams as they stood when it was
 * sent), and these decide.
 *
 * - accountable-district-nurse: the delegating nurse when the escalation comes with a delegation;
 *   otherwise the person's nursing team (district nurses on their care team), then their
 *   registered GP, then the registered manager of the care service: the first of these who exists.
 * - on-call-nurse-or-gp: whoever is on call now on the rotas of the nursing team's organisations
 *   and the GP's practice.
 * - care-worker: the care worker who recorded the entry, else the delegation's care worker, else
 *   the care workers on the person's care team; the registered manager when there are none.
 *
 * Nobody found is an answer too: the decider sends the escalation to the next tier at once, and
 * the gap becomes an incident escalation.
 */

export interface TeamMember {
  readonly practitionerId: string;
  readonly teamRole: string;
  /** From the member's practitioner record, when registered. */
  readonly role?: string;
  readonly organisationId?: string;
}

export interface RecipientDirectory {
  readonly careTeam: readonly TeamMember[];
  readonly registeredGp?: string;
  readonly registeredGpOrganisationId?: string;
  readonly delegation?: { readonly delegatedBy: string; readonly careWorkerId: string };
  /** Who recorded the entry that raised it. */
  readonly recordedBy?: { readonly id: string; readonly role: string };
  /** The on-call rota of each organisation concerned, by organisation id. */
  readonly rotas: Readonly<Record<string, OnCallRotaSetData>>;
  /** The care provider whose visit a late or missed visit escalation is about (its rota is among `rotas`). */
  readonly visitProvider?: string;
}

export type ResolveRecipients = (recipient: string, at: string) => EscalationRecipient[];

const NURSING_TEAM_ROLES = ['district-nurse', 'accountable-clinician'];

const isNurse = (m: TeamMember): boolean => m.role === 'district-nurse' || (m.role === undefined && NURSING_TEAM_ROLES.includes(m.teamRole));

/** Each person once, at their first mention. */
export const distinctRecipients = (recipients: readonly EscalationRecipient[]): EscalationRecipient[] => {
  const seen = new Set<string>();
  return recipients.filter((r) => !seen.has(r.practitionerId) && seen.add(r.practitionerId));
};

export const nursingTeamOf = (d: RecipientDirectory): EscalationRecipient[] =>
  distinctRecipients(d.careTeam.filter(isNurse).map((m) => ({ practitionerId: m.practitionerId, reason: 'nursing team' })));

export const registeredManagersOf = (d: RecipientDirectory): EscalationRecipient[] => {
  const onTeam = d.careTeam.filter((m) => m.teamRole === 'registered-manager' || m.role === 'registered-manager');
  if (onTeam.length) return distinctRecipients(onTeam.map((m) => ({ practitionerId: m.practitionerId, reason: 'registered manager of the care service' })));
  const services = new Set(d.careTeam.filter((m) => m.teamRole === 'care-worker' && m.organisationId).map((m) => m.organisationId!));
  return distinctRecipients(
    [...services].flatMap((org) => {
      const manager = d.rotas[org]?.registeredManager;
      return manager ? [{ practitionerId: manager, reason: `registered manager of the care service (${org})` }] : [];
    }),
  );
};

const weekdayAndMinutes = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** England's weekday and minutes past midnight at an instant. */
const localTime = (at: string): { day: number; minutes: number } => {
  const parts = Object.fromEntries(weekdayAndMinutes.formatToParts(new Date(at)).map((p) => [p.type, p.value]));
  const day = WEEKDAYS.indexOf(String(parts.weekday).toLowerCase().slice(0, 3) as Weekday);
  return { day, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
};

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Who is on call on a rota at an instant. A shift belongs to the day it starts on; one that ends at or before it starts runs past midnight. */
export const onCallAt = (rota: OnCallRotaSetData, at: string): string[] => {
  const { day, minutes } = localTime(at);
  const yesterday = (day + 6) % 7;
  return rota.shifts
    .filter((shift) => {
      const days = (shift.days ?? WEEKDAYS).map((d) => WEEKDAYS.indexOf(d));
      const from = minutesOf(shift.from);
      const until = minutesOf(shift.until);
      if (until > from) return days.includes(day) && minutes >= from && minutes < until;
      // past midnight (or 24 hours when equal): the part today from `from`, and yesterday's shift until `until`
      return (days.includes(day) && minutes >= from) || (days.includes(yesterday) && minutes < until);
    })
    .map((shift) => shift.practitionerId);
};

const onCallOf = (d: RecipientDirectory, at: string): EscalationRecipient[] => {
  const organisations = [
    ...new Set([...d.careTeam.filter(isNurse).flatMap((m) => (m.organisationId ? [m.organisationId] : [])), ...(d.registeredGpOrganisationId ? [d.registeredGpOrganisationId] : [])]),
  ];
  return distinctRecipients(organisations.flatMap((org) => (d.rotas[org] ? onCallAt(d.rotas[org], at).map((practitionerId) => ({ practitionerId, reason: `on call (${org} rota)` })) : [])));
};

/**
 * The registered manager of the provider whose visit it is: the person's team members who manage
 * that provider (a registered manager of it on the care team), else the manager its rota names;
 * without a provider, or nobody found for it, the registered managers of the person's care services.
 */
export const providerManagersOf = (d: RecipientDirectory): EscalationRecipient[] => {
  const provider = d.visitProvider;
  if (provider) {
    const onTeam = d.careTeam.filter((m) => (m.teamRole === 'registered-manager' || m.role === 'registered-manager') && m.organisationId === provider);
    if (onTeam.length) return distinctRecipients(onTeam.map((m) => ({ practitionerId: m.practitionerId, reason: `registered manager of the provider (${provider})` })));
    const manager = d.rotas[provider]?.registeredManager;
    if (manager) return [{ practitionerId: manager, reason: `registered manager of the provider (${provider} rota)` }];
  }
  return registeredManagersOf(d);
};

/** The named people one tier's recipient (a tier's `recipient` or an emergency's `inform`) stands for, at an instant. */
export const resolveRecipients =
  (d: RecipientDirectory): ResolveRecipients =>
  (recipient, at) => {
    switch (recipient) {
      case 'accountable-district-nurse': {
        if (d.delegation) return [{ practitionerId: d.delegation.delegatedBy, reason: 'delegating nurse' }];
        const team = nursingTeamOf(d);
        if (team.length) return team;
        if (d.registeredGp) return [{ practitionerId: d.registeredGp, reason: 'registered GP (no nursing team)' }];
        return registeredManagersOf(d);
      }
      case 'on-call-nurse-or-gp':
        return onCallOf(d, at);
      case 'registered-manager-of-provider':
        return providerManagersOf(d);
      case 'care-worker': {
        if (d.recordedBy?.role === 'care-worker') return [{ practitionerId: d.recordedBy.id, reason: 'recorded the entry' }];
        if (d.delegation) return [{ practitionerId: d.delegation.careWorkerId, reason: 'delegated care worker' }];
        const workers = distinctRecipients(d.careTeam.filter((m) => m.teamRole === 'care-worker').map((m) => ({ practitionerId: m.practitionerId, reason: 'care worker on the care team' })));
        return workers.length ? workers : registeredManagersOf(d);
      }
      default:
        return [];
    }
  };
