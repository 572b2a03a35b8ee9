import type { EventStore, SqlQueryable } from '@tandem/event-store';
import type { DelegationCommands } from '../application/commands';
import { careStreamOf } from '../application/streams';
import { isDelegationActive } from '../machines';
import { monitoringDue } from '../rules';
import { monitoringTimer, type Timer } from '../scheduler/timers';
import { careStreamEvent } from './context';

/** When the delegation became active (its latest activation), if it is active. */
export const activeSince = async (commands: DelegationCommands, delegationId: string): Promise<{ since: string; framework: ReturnType<DelegationCommands['framework']>; patientId: string } | undefined> => {
  const loaded = await commands.loadDelegation(delegationId);
  if (!loaded || !isDelegationActive(loaded.state) || !loaded.state.context.patientId) return undefined;
  const activated = [...loaded.events].reverse().find((e) => e.type === 'DelegationActivated');
  return activated ? { since: activated.metadata.occurredAt, framework: loaded.framework, patientId: loaded.state.context.patientId } : undefined;
};

/**
 * The timers of a delegation's repeating checks (the framework's `every` monitoring), each due when
 * the check would be missed: the last such entry since activation (or the activation), plus the
 * interval and its grace. None while the delegation is not active.
 */
export const monitoringTimersOf = async (commands: DelegationCommands, store: EventStore, delegationId: string): Promise<Timer[]> => {
  const active = await activeSince(commands, delegationId);
  if (!active || !active.framework.monitoring.some((m) => m.schedule.kind === 'every')) return [];
  const events = (await store.readStream(careStreamOf(active.patientId))).map(careStreamEvent);
  return monitoringDue(active.framework, events, active.since).map((due) => monitoringTimer(delegationId, due.monitoringId, due.missedAt));
};

/** Replaces the delegation's unfired check timers with these (a fired one is never scheduled again). */
export const scheduleMonitoringTimers = async (tx: SqlQueryable, delegationId: string, timers: readonly Timer[], position: number): Promise<void> => {
  await tx.query(`delete from delegation_timers where kind = 'monitoring' and command->>'delegationId' = $1 and fired_at is null and not (timer_id = any($2::text[]))`, [
    delegationId,
    timers.map((t) => t.timerId),
  ]);
  for (const timer of timers) {
    await tx.query(
      `insert into delegation_timers (timer_id, stream, kind, due_at, command, scheduled_position) values ($1, $2, $3, $4, $5, $6)
       on conflict (timer_id) do nothing`,
      [timer.timerId, timer.stream, timer.fire.kind, timer.dueAt, JSON.stringify(timer.fire.command), position],
    );
  }
};
