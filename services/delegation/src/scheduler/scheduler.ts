import { IdempotencyKeyReused } from '@tandem/commands';
import type { CompetenceCommand, DelegationCommand, EscalationCommand, RecheckDue } from '@tandem/contracts';
import type { EventStore, SqlDriver } from '@tandem/event-store';
import type { Logger } from 'pino';
import { DELEGATION_SYSTEM_ACTOR, type CommandResult, type DelegationCommands } from '../application/commands';
import type { Clock } from '../application/clock';
import { DelegationCommandRefused } from '../application/errors';
import { doseAsItStands } from '../application/dose-prompts';
import { careStreamOf, doseEscalationId, dosePromptId, escalationStreamId, nameBasedId, promptStreamId } from '../application/streams';
import { MEDICINES_RULESET_ID } from '../frameworks/medicines';
import { careWorkersForDose } from './dose-recipients';
import { isEscalationReminder } from '../machines';
import { carePromptOf } from '../prompts';
import { ACTIVE_STATUSES, careStreamEvent } from '../reactions/context';
import { activeSince } from '../reactions/monitoring';
import { DelegationViews } from '../reactions/read-model';
import { doseDeadlines, doseOverdueEscalation, doseOverduePrompt, missedMonitoring, missedRecheck, raiseEscalationCommand } from '../rules';
import type { CheckDose, CheckMonitoring, CheckVisit, TimerCommand } from './timers';
import type { VisitDeadlines } from './visits';

export interface FiredTimer {
  readonly timerId: string;
  readonly stream: string;
  readonly kind: string;
  readonly dueAt: string;
  /** What firing it did: the event types appended, `replayed` (already fired before a restart), or why the command was refused. */
  readonly outcome: string;
}

interface TimerRow {
  readonly timer_id: string;
  readonly stream: string;
  readonly kind: TimerCommand['kind'];
  readonly due_at: string | Date;
  readonly command: TimerCommand['command'];
}

const BATCH = 50;
const MAX_ROUNDS = 100;

/**
 * What the scheduler has fired, and what firing did: the memory that makes a timer fire once.
 * Not a view: the timers themselves are (delegation_timers, kept by the projection from the
 * deadlines in the events), and a rebuild makes them again, while this table keeps them fired.
 */
export const schedulerSchemaSql = `
create table if not exists delegation_timer_firings (
  timer_id text primary key,
  stream text not null,
  kind text not null,
  due_at timestamptz not null,
  fired_at timestamptz not null,
  outcome text not null
);`;

/**
 * One loop fires every due timer as a command, exactly once. A timer is a row of the read model
 * (kept from the log by the delegation projection: every deadline is a `dueAt` in an event), so a
 * restart between scheduling and firing loses nothing: the row is still there, unfired, and fires
 * when the loop next runs. Each command carries the timer's deterministic idempotency key, so a
 * restart between firing and recording it fired appends nothing twice. Time is the injected clock.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<FiredTimer[]> = Promise.resolve([]);
  private stopped = true;

  constructor(
    private readonly deps: {
      db: SqlDriver;
      store: EventStore;
      commands: DelegationCommands;
      clock: Clock;
      /** Waits until the read model holds a position (new timers a firing scheduled). */
      settle?: (position: number) => Promise<unknown>;
      logger?: Logger;
      /** How often the loop looks for due timers (ms); 0: only when runDue is called. */
      intervalMs?: number;
      /** The record's visits, where this process has them: a visit's deadline is noticed there before it is escalated. */
      visits?: VisitDeadlines;
    },
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running.catch(() => undefined);
  }

  /** Looks for due timers now (and again soon): called when the read model has moved on (a timer may have been scheduled). */
  poke(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), 0);
    this.timer.unref?.();
  }

  private schedule(): void {
    const interval = this.deps.intervalMs ?? 1000;
    if (this.stopped || interval <= 0) return;
    this.timer = setTimeout(() => this.tick(), interval);
    this.timer.unref?.();
  }

  private tick(): void {
    this.runDue()
      .catch((error: unknown) => this.deps.logger?.error({ err: error }, 'scheduler tick failed'))
      .finally(() => this.schedule());
  }

  /**
   * Fires every timer due at the clock's time, in dueAt order, each once; waits for the read model
   * to hold what they appended and fires again what that made due (a tier's deadline passed while
   * the service was down, then the next). Runs are serialised.
   */
  runDue(): Promise<FiredTimer[]> {
    const run = this.running.catch(() => []).then(() => this.fireDue());
    this.running = run;
    return run;
  }

  private async fireDue(): Promise<FiredTimer[]> {
    const fired: FiredTimer[] = [];
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const now = this.deps.clock.now();
      const due = await this.deps.db.query<TimerRow>(
        `select t.timer_id, t.stream, t.kind, t.due_at, t.command from delegation_timers t
          where t.due_at <= $1 and not exists (select 1 from delegation_timer_firings f where f.timer_id = t.timer_id)
          order by t.due_at, t.timer_id limit $2`,
        [now.toISOString(), BATCH],
      );
      if (due.length === 0) break;
      let last = -1;
      let progressed = false;
      for (const row of due) {
        const result = await this.fire(row);
        if (!result) continue;
        progressed = true;
        // A replay stored nothing new: there is nothing for the read model to catch up on.
        if (!result.outcome.startsWith('replayed')) last = Math.max(last, result.position);
        await this.deps.db.query(
          `insert into delegation_timer_firings (timer_id, stream, kind, due_at, fired_at, outcome) values ($1, $2, $3, $4, $5, $6)
           on conflict (timer_id) do nothing`,
          [row.timer_id, row.stream, row.kind, new Date(row.due_at).toISOString(), this.deps.clock.now().toISOString(), result.outcome],
        );
        fired.push({ timerId: row.timer_id, stream: row.stream, kind: row.kind, dueAt: new Date(row.due_at).toISOString(), outcome: result.outcome });
      }
      if (!progressed) break;
      if (last >= 0 && this.deps.settle) await this.deps.settle(last);
    }
    return fired;
  }

  /** Fires one timer; undefined when it failed for a reason worth retrying (left unfired). */
  private async fire(row: TimerRow): Promise<{ outcome: string; position: number } | undefined> {
    const { commands } = this.deps;
    const trace = {};
    const describe = (result: CommandResult) => ({ outcome: result.replayed ? 'replayed' : result.eventTypes.join(', ') || 'nothing to do', position: result.position });
    try {
      switch (row.kind) {
        case 'competence':
          return describe(await commands.competence(row.command as CompetenceCommand, DELEGATION_SYSTEM_ACTOR, trace));
        case 'delegation':
          return describe(await commands.delegation(row.command as DelegationCommand, DELEGATION_SYSTEM_ACTOR, trace));
        case 'escalation': {
          const command = row.command as EscalationCommand;
          const timed = isEscalationReminder(command) ? { ...command, occurredAt: this.deps.clock.now().toISOString() } : command;
          return describe(await commands.escalation(timed, DELEGATION_SYSTEM_ACTOR, trace));
        }
        case 'prompt':
          return await this.fireRecheck(row.command as RecheckDue & { type: 'RecheckDue' });
        case 'monitoring':
          return await this.fireMonitoring(row.command as CheckMonitoring);
        case 'visit':
          return await this.fireVisit(row.command as CheckVisit);
        case 'dose':
          return await this.fireDose(row.command as CheckDose);
      }
    } catch (error) {
      if (error instanceof DelegationCommandRefused) return { outcome: `refused: ${error.refusal.code}: ${error.refusal.reason}`, position: -1 };
      // a reminder fired before a crash and fired again at another time: it was sent once already
      if (error instanceof IdempotencyKeyReused) return { outcome: 'replayed', position: -1 };
      this.deps.logger?.error({ err: error, timer: row.timer_id }, 'timer failed; it will be tried again');
      return undefined;
    }
  }

  /**
   * A repeating check (the daily cellulitis check, the fluid chart) is due: if it was not recorded
   * since the last one (or the activation), an escalation is raised, named from the delegation, the
   * check and its dueAt (a retry raises nothing twice).
   */
  private async fireMonitoring(command: CheckMonitoring): Promise<{ outcome: string; position: number }> {
    const { commands, store, clock, db } = this.deps;
    const active = await activeSince(commands, command.delegationId);
    if (!active) return { outcome: 'not needed: the delegation is not active', position: -1 };
    const events = (await store.readStream(careStreamOf(active.patientId))).map(careStreamEvent);
    const open = (await new DelegationViews(db).escalations({ patientId: active.patientId, open: true })).map((e) => e.ruleId);
    const ruleId = `monitoring.${command.monitoringId}.missed`;
    const missed = missedMonitoring(active.framework, { events, since: active.since, now: clock.now().toISOString(), openEscalationRuleIds: open }).find((m) => m.ruleId === ruleId);
    if (!missed) return { outcome: open.includes(ruleId) ? 'not needed: already escalated' : 'not needed: recorded in time', position: -1 };
    const escalationId = nameBasedId(`monitoring|${command.delegationId}|${command.monitoringId}|${command.occurredAt}`);
    const raised = await commands.escalation(
      raiseEscalationCommand(missed, {
        escalationId,
        patientId: active.patientId,
        occurredAt: clock.now().toISOString(),
        idempotencyKey: `${command.idempotencyKey}:escalation`,
        delegationId: command.delegationId,
      }),
      DELEGATION_SYSTEM_ACTOR,
    );
    return { outcome: raised.replayed ? 'replayed' : `${raised.eventTypes.join(', ')} on ${escalationStreamId(escalationId)}`, position: raised.position };
  }

  /**
   * A visit's deadline came (late: its planned start plus tolerance; missed: its planned end), with
   * no check-in: the record notices it on the visit, once (keyed by the deadline; nothing when the
   * visit was checked in, cancelled or moved). The escalation to the provider's registered manager
   * is the reaction to that notice (reactions/visits.ts): a crash after the notice still escalates
   * it, from the reactions' checkpoint.
   */
  private async fireVisit(command: CheckVisit): Promise<{ outcome: string; position: number } | undefined> {
    const { visits } = this.deps;
    if (!visits) {
      this.deps.logger?.warn({ visitId: command.visitId }, 'a visit deadline is due but this scheduler has no record of visits: left for one that has');
      return undefined;
    }
    const noticed = await visits.noticeDeadline({ visitId: command.visitId, kind: command.deadline, dueAt: command.dueAt }, DELEGATION_SYSTEM_ACTOR);
    if (noticed.eventTypes.length === 0) return { outcome: `not needed: ${noticed.why ?? 'nothing to notice'}`, position: -1 };
    return { outcome: noticed.replayed ? 'replayed' : `${noticed.eventTypes.join(', ')} on visit-${command.visitId}`, position: noticed.position };
  }

  /**
   * A scheduled dose's deadline came. Decided from the write model: the order from the person's
   * medicines stream (stopped, or changed so that the dose is no longer on the chart: nothing), the
   * outcome from the care stream (recorded, even late: nothing). Overdue: each care worker of the
   * person (on a visit around the dose, or with an active delegation) is prompted, each prompt
   * carrying when the nursing team is told; with nobody to prompt, the nursing team is told at
   * once. Escalate: still no outcome, one escalation, named from the order and the dose.
   */
  private async fireDose(command: CheckDose): Promise<{ outcome: string; position: number }> {
    const { commands, store, clock, db } = this.deps;
    const dose = { scheduledTime: command.scheduledTime, scheduledAt: command.scheduledAt };
    const { order, outcome } = await doseAsItStands(store, command.patientId, command.orderId, dose);
    if (!order) return { outcome: 'not needed: the order is stopped or no longer asks for this dose', position: -1 };
    if (outcome) return { outcome: `not needed: an outcome was recorded (entry ${outcome.id})`, position: -1 };
    const now = clock.now().toISOString();
    const ruleset = commands.ruleset(MEDICINES_RULESET_ID)!;
    const careWorkers = await careWorkersForDose(db, command.patientId, command.scheduledAt, ACTIVE_STATUSES);
    if (command.stage === 'overdue' && careWorkers.length > 0) {
      const { escalateAt } = doseDeadlines(ruleset, order.details.timeCritical, command.scheduledAt);
      const prompt = doseOverduePrompt(order, dose);
      let position = -1;
      const issued: string[] = [];
      for (const careWorkerId of careWorkers) {
        const promptId = dosePromptId(command.orderId, command.scheduledAt, careWorkerId);
        const result = await commands.prompt(
          {
            type: 'IssueCarePrompt',
            promptId,
            idempotencyKey: `${command.idempotencyKey}:prompt:${careWorkerId}`,
            occurredAt: now,
            prompt: {
              promptId,
              patientId: command.patientId,
              frameworkId: ruleset.id,
              frameworkVersion: ruleset.version,
              ...prompt,
              careWorkerId,
              triggeringEntryId: command.orderId,
              dose: { orderId: command.orderId, scheduledTime: command.scheduledTime, scheduledAt: command.scheduledAt, escalateAt, timeCritical: order.details.timeCritical },
            },
          },
          DELEGATION_SYSTEM_ACTOR,
        );
        position = Math.max(position, result.position);
        issued.push(result.replayed ? `replayed for ${careWorkerId}` : `${result.eventTypes.join(', ')} to ${careWorkerId}`);
      }
      return { outcome: issued.join('; '), position };
    }
    const escalationId = doseEscalationId(command.orderId, command.scheduledAt);
    const raised = await commands.escalation(
      raiseEscalationCommand(doseOverdueEscalation(ruleset, order, dose, command.stage === 'escalate' ? careWorkers : [], now), {
        escalationId,
        patientId: command.patientId,
        occurredAt: now,
        idempotencyKey: `dose-escalation:${command.orderId}:${command.scheduledAt}`,
      }),
      DELEGATION_SYSTEM_ACTOR,
    );
    return { outcome: raised.replayed ? 'replayed' : `${raised.eventTypes.join(', ')} on ${escalationStreamId(escalationId)}`, position: raised.position };
  }

  /**
   * A recheck the hypo protocol asked for is due: if no such entry has been recorded since, an
   * escalation is raised (urgent, as the rule that asked for it) and the prompt records the miss.
   */
  private async fireRecheck(command: RecheckDue & { type: 'RecheckDue' }): Promise<{ outcome: string; position: number }> {
    const { commands, store, clock } = this.deps;
    const loaded = await commands.loadPrompt(command.promptId);
    const prompt = loaded?.state.prompt;
    if (!loaded || !prompt || loaded.state.recheck !== 'pending') return { outcome: `not needed: the recheck is ${loaded?.state.recheck ?? 'unknown'}`, position: -1 };
    const framework = commands.ruleset(prompt.frameworkId);
    const events = (await store.readStream(careStreamOf(prompt.patientId))).map(careStreamEvent);
    const now = clock.now().toISOString();
    const escalation = missedRecheck(framework, carePromptOf(prompt), { events, now });
    // Recorded after all: the reaction to that entry records it on the prompt.
    if (!escalation) return { outcome: 'not needed: a recheck was recorded', position: -1 };
    const trace = { causationId: loaded.events[0]!.id, correlationId: loaded.events[0]!.metadata.correlationId };
    const raised = await commands.escalation(
      raiseEscalationCommand(escalation, {
        escalationId: command.escalationId,
        patientId: prompt.patientId,
        occurredAt: now,
        idempotencyKey: `${command.idempotencyKey}:escalation`,
        ...(prompt.delegationId ? { delegationId: prompt.delegationId } : {}),
      }),
      DELEGATION_SYSTEM_ACTOR,
      trace,
    );
    const missed = await commands.prompt(command, DELEGATION_SYSTEM_ACTOR, trace);
    return { outcome: `${raised.eventTypes.join(', ')} on ${escalationStreamId(command.escalationId)}; ${missed.eventTypes.join(', ')} on ${promptStreamId(command.promptId)}`, position: Math.max(raised.position, missed.position) };
  }
}
