import type { OnCallRotaSetData, SetOnCallRota } from '@tandem/contracts';
import type { Decision } from '../machines/decider';

const sameRota = (a: OnCallRotaSetData, b: OnCallRotaSetData): boolean => JSON.stringify(a) === JSON.stringify(b);

/** An organisation's on-call rota: a new one replaces the whole rota; the same rota again records nothing. */
export const decideOnCallRota = (current: OnCallRotaSetData | undefined, command: SetOnCallRota): Decision<{ type: 'OnCallRotaSet'; data: OnCallRotaSetData }> => {
  const data: OnCallRotaSetData = {
    organisationId: command.organisationId,
    shifts: command.shifts.map((s) => ({ practitionerId: s.practitionerId, ...(s.days ? { days: [...s.days] } : {}), from: s.from, until: s.until })),
    ...(command.registeredManager ? { registeredManager: command.registeredManager } : {}),
  };
  return { ok: true, events: current && sameRota(current, data) ? [] : [{ type: 'OnCallRotaSet', data }] };
};
