import {
  CORRECTABLE_ENTRY_TYPES,
  evolveVisit,
  NO_VISIT,
  VISIT_EVENT_TYPES,
  visitDeadlines,
  type StoredVisitEvent,
  type VisitFacts,
  type CarePromptIssuedData,
  type EscalationRaisedData,
  type EscalationSentToTierData,
  type PromptEvent,
} from '@tandem/contracts';
import type { RecordedEvent, SqlDriver, SqlQueryable } from '@tandem/event-store';
import type { Projection } from '@tandem/projections';
import type { FrameworkCatalogue } from '../application/frameworks';
import { competencyStreamId, delegationStreamId, doseEscalationId, escalationStreamId, medicinesStreamOf, promptStreamId, streamKind, streamOfKind } from '../application/streams';
import type { Framework, Ruleset } from '../frameworks';
import {
  evolveCompetence,
  evolveDelegation,
  evolveEscalation,
  initialCompetenceState,
  initialDelegationState,
  initialEscalationState,
  isDelegationActive,
  timedFromStored,
  type CompetenceMachineEvent,
  type CompetenceState,
  type DelegationMachineEvent,
  type DelegationState,
  type EscalationMachineEvent,
  type EscalationState,
} from '../machines';
import { evolvePrompt, initialPromptState, type PromptState } from '../prompts';
import { DOSE_RULE_IDS } from '../frameworks/medicines';
import { doseDeadlines, doseOfOutcome, evolveOrders, nextScheduledDose, monitoringDue, type CareStreamEvent, type OrdersState } from '../rules';
import { schedulerSchemaSql } from '../scheduler/scheduler';
import { competenceTimerOf, delegationTimerOf, doseTimer, doseTimerStream, escalationTimerOf, monitoringTimer, promptTimerOf, visitTimer, type Timer } from '../scheduler/timers';
import { delegationTables, delegationViewsSql, type Recipient } from './read-model';

const { careEntries, competences, delegations, escalations, prompts, streamStates, timers } = delegationTables;

/**
 * The delegation read model as a projection (Emmett's shape): for each competency, delegation,
 * escalation and prompt stream, a pure `evolve` folds the stream's state one event at a time (the
 * machine's own evolve, so a row means what the write model means), and the rows, and the
 * stream's timer, are what that state says. The state is kept beside the rows
 * (delegation_stream_states), so an event is applied without reading its stream again, and the
 * projection needs nothing but the events: the runner rebuilds it from position 0 like the FHIR
 * projection. Care entries move a person's repeating-check deadlines.
 *
 * It decides nothing and appends nothing: the reactions (reactions/reactor.ts) do.
 */

/** A machine's snapshot as stored: its state and context, without the framework (looked up again by id). */
interface StoredMachine {
  readonly value: string;
  readonly context: Record<string, unknown>;
}

export type StreamState =
  | { readonly kind: 'competency'; readonly frameworkId: string; readonly machine: StoredMachine }
  | { readonly kind: 'delegation'; readonly frameworkId: string; readonly machine: StoredMachine; readonly proposedAt: string; readonly activatedAt?: string }
  | {
      readonly kind: 'escalation';
      readonly frameworkId: string;
      readonly machine: StoredMachine;
      readonly raised: EscalationRaisedData;
      readonly raisedAt: string;
      readonly sent?: EscalationSentToTierData;
      readonly recipients: readonly Recipient[];
      readonly resolvedPosition?: number;
    }
  | { readonly kind: 'prompt'; readonly prompt: PromptState }
  /** A visit (the record's stream): only its deadlines are shown, as the scheduler's timers. */
  | { readonly kind: 'visit'; readonly visit: VisitFacts }
  /**
   * A person's medication orders (the record's stream), and for each order how far its scheduled
   * doses are settled: `cursor` is the last dose with an outcome recorded or a prompt (or an
   * escalation) about it, from the order's recording; `ahead`, doses after it already settled (an
   * outcome recorded early). The order's timer is the next dose after the cursor.
   */
  | { readonly kind: 'medicines'; readonly patientId: string; readonly orders: OrdersState; readonly cursors: Readonly<Record<string, string>>; readonly ahead: Readonly<Record<string, readonly string[]>> };

type MedicinesState = Extract<StreamState, { kind: 'medicines' }>;

/** A dose of an order settled (an outcome, a prompt, an escalation): the cursor moves over it and every settled dose after it. */
export const settleDose = (state: MedicinesState, orderId: string, scheduledAt: string): MedicinesState => {
  const order = state.orders[orderId];
  const cursor = state.cursors[orderId];
  if (!order || cursor === undefined || Date.parse(scheduledAt) <= Date.parse(cursor)) return state;
  let ahead = [...(state.ahead[orderId] ?? []), scheduledAt];
  let moved = cursor;
  for (let next = nextScheduledDose(order, moved); next && ahead.includes(next.scheduledAt); next = nextScheduledDose(order, moved)) moved = next.scheduledAt;
  ahead = ahead.filter((at) => Date.parse(at) > Date.parse(moved));
  return { ...state, cursors: { ...state.cursors, [orderId]: moved }, ahead: { ...state.ahead, [orderId]: ahead } };
};

const evolveMedicines = (state: MedicinesState | undefined, event: RecordedEvent, patientId: string): MedicinesState => {
  const before: MedicinesState = state ?? { kind: 'medicines', patientId, orders: {}, cursors: {}, ahead: {} };
  const orders = evolveOrders(before.orders, event);
  // Doses are checked from when the order reached the record: one due before it was known is nobody's to have given.
  const cursors = event.type === 'MedicationOrdered' ? { ...before.cursors, [event.id]: event.metadata.occurredAt } : before.cursors;
  return { ...before, orders, cursors };
};

const store = (snapshot: { value: unknown; context: object }): StoredMachine => {
  const { framework: _framework, ...context } = snapshot.context as Record<string, unknown>;
  return { value: String(snapshot.value), context };
};
/** The stored snapshot as the machine takes it: its evolve resolves the state from value and context. */
const restore = <State>(machine: StoredMachine, framework: Ruleset): State => ({ value: machine.value, context: { ...machine.context, framework } }) as unknown as State;

const dataOf = <T>(event: RecordedEvent): T => event.data as T;

const frameworkOfCompetency = (frameworks: FrameworkCatalogue, stream: string): Framework | undefined => {
  const frameworkId = streamOfKind(stream, 'competency')?.frameworkId;
  return frameworkId === undefined ? undefined : frameworks.get(frameworkId);
};

/** The framework a competency stream is for: its first event names it (else its name does). */
const competenceFramework = (frameworks: FrameworkCatalogue, event: RecordedEvent): Framework | undefined => {
  const named = (event.data as { frameworkId?: unknown }).frameworkId;
  return typeof named === 'string' ? frameworks.get(named) : frameworkOfCompetency(frameworks, event.stream);
};

/**
 * One event applied to its stream's state: pure. Undefined while the stream is not one this read
 * model shows (a framework this deployment does not know).
 */
export const evolveStreamState = (frameworks: FrameworkCatalogue, state: StreamState | undefined, event: RecordedEvent): StreamState | undefined => {
  switch (streamKind(event.stream)) {
    case 'competency': {
      const framework = state?.kind === 'competency' ? frameworks.get(state.frameworkId) : competenceFramework(frameworks, event);
      if (!framework) return state;
      const before = state?.kind === 'competency' ? restore<CompetenceState>(state.machine, framework) : initialCompetenceState(framework);
      return { kind: 'competency', frameworkId: framework.id, machine: store(evolveCompetence(before, timedFromStored<CompetenceMachineEvent>(event))) };
    }
    case 'delegation': {
      const frameworkId = state?.kind === 'delegation' ? state.frameworkId : event.type === 'DelegationProposed' ? String(dataOf<{ frameworkId: string }>(event).frameworkId) : undefined;
      const framework = frameworkId === undefined ? undefined : frameworks.get(frameworkId);
      if (!framework) return state;
      const before = state?.kind === 'delegation' ? restore<DelegationState>(state.machine, framework) : initialDelegationState(framework);
      const machine = store(evolveDelegation(before, timedFromStored<DelegationMachineEvent>(event)));
      const proposedAt = state?.kind === 'delegation' ? state.proposedAt : event.metadata.occurredAt;
      const activatedAt = event.type === 'DelegationActivated' ? event.metadata.occurredAt : state?.kind === 'delegation' ? state.activatedAt : undefined;
      return { kind: 'delegation', frameworkId: framework.id, machine, proposedAt, ...(activatedAt ? { activatedAt } : {}) };
    }
    case 'escalation': {
      if (state?.kind !== 'escalation' && event.type !== 'EscalationRaised') return state;
      const raised = state?.kind === 'escalation' ? state.raised : dataOf<EscalationRaisedData>(event);
      const ruleset = frameworks.ruleset(String(raised.frameworkId));
      if (!ruleset) return state;
      const before = state?.kind === 'escalation' ? restore<EscalationState>(state.machine, ruleset) : initialEscalationState(ruleset);
      const machine = store(evolveEscalation(before, timedFromStored<EscalationMachineEvent>(event)));
      const sent = event.type === 'EscalationSentToTier' ? dataOf<EscalationSentToTierData>(event) : state?.kind === 'escalation' ? state.sent : undefined;
      const reached =
        event.type === 'EscalationSentToTier' && sent ? [...(sent.recipients ?? []), ...(sent.informedRecipients ?? [])].map((r) => ({ practitionerId: r.practitionerId, reason: r.reason, tier: sent.tier })) : [];
      return {
        kind: 'escalation',
        frameworkId: ruleset.id,
        machine,
        raised,
        raisedAt: state?.kind === 'escalation' ? state.raisedAt : event.metadata.occurredAt,
        ...(sent ? { sent } : {}),
        recipients: [...(state?.kind === 'escalation' ? state.recipients : []), ...reached],
        ...(machine.value === 'resolved' ? { resolvedPosition: state?.kind === 'escalation' && state.resolvedPosition !== undefined ? state.resolvedPosition : event.position } : {}),
      };
    }
    case 'prompt':
      return { kind: 'prompt', prompt: evolvePrompt(state?.kind === 'prompt' ? state.prompt : initialPromptState, timedFromStored<PromptEvent>(event) as never) };
    case 'medicines': {
      const patientId = streamOfKind(event.stream, 'medicines')?.patientId;
      if (patientId === undefined) return state;
      return evolveMedicines(state?.kind === 'medicines' ? state : undefined, event, patientId);
    }
    case 'visit':
      if (!VISIT_EVENT_TYPES.has(event.type)) return state;
      return { kind: 'visit', visit: evolveVisit(state?.kind === 'visit' ? state.visit : NO_VISIT, event as unknown as StoredVisitEvent) };
    default:
      return state;
  }
};

/** What a stream's state shows: its row (or none yet) and the timer the scheduler must hold for it. */
export type StreamView =
  | { readonly table: typeof competences; readonly row: Parameters<typeof competences.upsert>[1] }
  | { readonly table: typeof delegations; readonly row: Parameters<typeof delegations.upsert>[1] }
  | { readonly table: typeof escalations; readonly row: Parameters<typeof escalations.upsert>[1] }
  | { readonly table: typeof prompts; readonly row: Parameters<typeof prompts.upsert>[1] };

export const viewOf = (frameworks: FrameworkCatalogue, stream: string, state: StreamState, position: number): { view?: StreamView; timer?: Timer; doseTimers?: Map<string, Timer | undefined> } => {
  switch (state.kind) {
    case 'competency': {
      const framework = frameworks.get(state.frameworkId)!;
      const snapshot = restore<CompetenceState>(state.machine, framework);
      const { careWorker, validUntil, signedOffBy } = snapshot.context;
      if (!careWorker) return {};
      const key = competencyStreamId(careWorker.practitionerId, framework.id);
      const row = { stream: key, careWorkerId: careWorker.practitionerId, frameworkId: framework.id, status: state.machine.value, position, ...(validUntil ? { validUntil } : {}), ...(signedOffBy ? { signedOffBy } : {}) };
      const timer = competenceTimerOf(key, snapshot);
      return { view: { table: competences, row }, ...(timer ? { timer } : {}) };
    }
    case 'delegation': {
      const snapshot = restore<DelegationState>(state.machine, frameworks.get(state.frameworkId)!);
      const { context } = snapshot;
      if (!context.delegationId || !context.patientId || !context.careWorker || !context.delegatedBy || !context.activityId) return {};
      const row = {
        delegationId: context.delegationId,
        patientId: context.patientId,
        frameworkId: state.frameworkId,
        activityId: context.activityId,
        careWorkerId: context.careWorker.practitionerId,
        delegatedBy: context.delegatedBy.practitionerId,
        status: state.machine.value,
        personAgreed: context.personAgreed,
        instruction: context.instruction!,
        ...(context.reviewDueAt ? { reviewDueAt: context.reviewDueAt } : {}),
        ...(context.reason ? { reason: context.reason } : {}),
        proposedAt: state.proposedAt,
        position,
      };
      const timer = delegationTimerOf(delegationStreamId(context.delegationId), snapshot);
      return { view: { table: delegations, row }, ...(timer ? { timer } : {}) };
    }
    case 'escalation': {
      const snapshot = restore<EscalationState>(state.machine, frameworks.ruleset(state.frameworkId)!);
      const { context } = snapshot;
      const { raised, sent } = state;
      if (!context.escalationId) return {};
      const status = state.machine.value;
      const row = {
        escalationId: context.escalationId,
        patientId: raised.patientId,
        frameworkId: raised.frameworkId,
        ...(raised.delegationId ? { delegationId: raised.delegationId } : {}),
        ruleId: raised.ruleId,
        urgency: raised.urgency,
        status,
        open: status !== 'resolved',
        incident: raised.incident,
        tier: context.tier,
        ...(sent?.tierId ? { tierId: sent.tierId } : {}),
        ...(sent?.recipient ? { recipient: sent.recipient } : {}),
        ...(sent?.dueAt ? { dueAt: sent.dueAt } : {}),
        ...(sent?.advice ? { advice: sent.advice } : {}),
        informed: [...(sent?.informed ?? [])],
        sbard: raised.sbard,
        raisedAt: state.raisedAt,
        ...(context.acknowledgedBy ? { acknowledgedBy: context.acknowledgedBy.practitionerId } : {}),
        ...(context.outcome ? { outcome: context.outcome } : {}),
        recipients: [...state.recipients],
        ...(state.resolvedPosition !== undefined ? { resolvedPosition: state.resolvedPosition } : {}),
        position,
      };
      const timer = escalationTimerOf(escalationStreamId(context.escalationId), snapshot);
      return { view: { table: escalations, row }, ...(timer ? { timer } : {}) };
    }
    case 'prompt': {
      const { prompt: promptState } = state;
      const prompt: CarePromptIssuedData | undefined = promptState.prompt;
      if (!prompt || !promptState.issuedAt) return {};
      const row = {
        promptId: prompt.promptId,
        patientId: prompt.patientId,
        frameworkId: prompt.frameworkId,
        ...(prompt.delegationId ? { delegationId: prompt.delegationId } : {}),
        ruleId: prompt.ruleId,
        careWorkerId: prompt.careWorkerId,
        title: prompt.title,
        steps: [...prompt.steps],
        ...(prompt.withholdActivityId ? { withholdActivityId: prompt.withholdActivityId } : {}),
        ...(prompt.recheck ? { recheck: prompt.recheck } : {}),
        recheckStatus: promptState.recheck,
        ...(promptState.acknowledgedBy ? { acknowledgedBy: promptState.acknowledgedBy.practitionerId } : {}),
        ...(prompt.escalationId ? { escalationId: prompt.escalationId } : {}),
        issuedAt: promptState.issuedAt,
        position,
      };
      const timer = promptTimerOf(promptStreamId(prompt.promptId), promptState) ?? doseEscalationTimer(promptStreamId(prompt.promptId), prompt);
      return { view: { table: prompts, row }, ...(timer ? { timer } : {}) };
    }
    case 'visit': {
      // The earliest deadline not yet noticed: once the record notices it, the visit's next event brings the next.
      const timer = state.visit.planned ? visitTimer(stream, state.visit.visitId, visitDeadlines(state.visit)[0]) : undefined;
      return timer ? { timer } : {};
    }
    case 'medicines': {
      // Each order's next unsettled dose, at its time plus its tolerance; none for a stopped or PRN order.
      const doseTimers = new Map<string, Timer | undefined>();
      for (const order of Object.values(state.orders)) {
        const cursor = state.cursors[order.orderId];
        const next = cursor === undefined ? undefined : nextScheduledDose(order, cursor);
        const timerStream = doseTimerStream(order.orderId);
        const dueAt = next && doseDeadlines(frameworks.medicines, order.details.timeCritical, next.scheduledAt).overdueAt;
        doseTimers.set(timerStream, next && dueAt ? doseTimer(timerStream, { stage: 'overdue', patientId: state.patientId, orderId: order.orderId, ...next, dueAt }) : undefined);
      }
      return { doseTimers };
    }
  }
};

/** A dose-overdue prompt's deadline: at its escalateAt the nursing team is told, unless an outcome is recorded by then. */
const doseEscalationTimer = (stream: string, prompt: CarePromptIssuedData): Timer | undefined =>
  prompt.dose &&
  doseTimer(stream, { stage: 'escalate', patientId: prompt.patientId, orderId: prompt.dose.orderId, scheduledTime: prompt.dose.scheduledTime, scheduledAt: prompt.dose.scheduledAt, dueAt: prompt.dose.escalateAt });

// ---------------------------------------------------------------------------------------------
// Care entries: what a person's repeating checks are counted from
// ---------------------------------------------------------------------------------------------

const ENTRY_TYPES: ReadonlySet<string> = new Set<string>(CORRECTABLE_ENTRY_TYPES);

/**
 * A care-stream event as the entries table takes it: a new entry; an amendment (its new type and
 * bedside time); or an entry entered in error (no longer counted). Undefined for anything else.
 */
export const entryChange = (event: RecordedEvent): { entryId: string; type?: string; occurredAt?: string; current: boolean } | undefined => {
  if (ENTRY_TYPES.has(event.type)) return { entryId: event.id, type: event.type, occurredAt: event.metadata.occurredAt, current: true };
  if (event.type === 'EntryAmended') {
    const { entryId, replacement } = event.data as { entryId: string; replacement: { type: string; occurredAt?: string } };
    return { entryId, type: replacement.type, ...(replacement.occurredAt ? { occurredAt: replacement.occurredAt } : {}), current: true };
  }
  if (event.type === 'EntryMarkedEnteredInError') return { entryId: (event.data as { entryId: string }).entryId, current: false };
  return undefined;
};

const careEntryRows = careEntries;

const applyEntry = async (tx: SqlQueryable, patientId: string, event: RecordedEvent): Promise<boolean> => {
  const change = entryChange(event);
  if (!change) return false;
  const [existing] = await careEntryRows.select(tx, 'entry_id = $1', [change.entryId]);
  if (existing && existing.position >= event.position) return false;
  // A correction of an entry this table does not hold (not a care entry of this person) changes nothing.
  if (!existing && event.type !== change.type) return false;
  await careEntryRows.upsert(tx, {
    entryId: change.entryId,
    patientId,
    type: change.type ?? existing!.type,
    occurredAt: change.occurredAt ?? existing?.occurredAt ?? event.metadata.occurredAt,
    current: change.current,
    position: event.position,
  });
  return true;
};

/** Replaces a delegation's repeating-check timers with those its state and the person's entries give now (none while it is not active). */
const scheduleMonitoring = async (tx: SqlQueryable, frameworks: FrameworkCatalogue, delegationId: string, state: StreamState | undefined, position: number): Promise<void> => {
  let due: Timer[] = [];
  if (state?.kind === 'delegation' && state.activatedAt) {
    const framework = frameworks.get(state.frameworkId);
    const snapshot = framework && restore<DelegationState>(state.machine, framework);
    const patientId = snapshot?.context.patientId;
    if (framework && snapshot && patientId && isDelegationActive(snapshot) && framework.monitoring.some((m) => m.schedule.kind === 'every')) {
      const entries = await careEntryRows.select(tx, 'patient_id = $1 and current and occurred_at >= $2', [patientId, state.activatedAt], 'occurred_at, position');
      const events = entries.map((e) => ({ id: e.entryId, type: e.type, occurredAt: e.occurredAt, data: {} }) as unknown as CareStreamEvent);
      due = monitoringDue(framework, events, state.activatedAt).map((d) => monitoringTimer(delegationId, d.monitoringId, d.missedAt));
    }
  }
  await tx.query(`delete from ${timers.name} where kind = 'monitoring' and command->>'delegationId' = $1 and not (timer_id = any($2::text[]))`, [delegationId, due.map((t) => t.timerId)]);
  for (const timer of due) await upsertTimer(tx, timer, position);
};

const upsertTimer = (tx: SqlQueryable, timer: Timer, position: number) =>
  timers.upsert(tx, { timerId: timer.timerId, stream: timer.stream, kind: timer.fire.kind, dueAt: timer.dueAt, command: timer.fire.command, scheduledPosition: position });

// ---------------------------------------------------------------------------------------------
// The projection the runner runs
// ---------------------------------------------------------------------------------------------

const SHOWN: ReadonlySet<string> = new Set(['competency', 'delegation', 'escalation', 'prompt', 'visit', 'medicines']);

/**
 * What settles a person's scheduled dose, from another stream: an outcome recorded on the care
 * stream (or an amendment's), a dose-overdue prompt issued about it, or its escalation raised when
 * nobody could be prompted. The patient and a function of the orders giving the doses settled.
 */
const dosesSettledBy = (event: RecordedEvent): { patientId: string; settled: (state: MedicinesState) => { orderId: string; scheduledAt: string }[] } | undefined => {
  const kind = streamKind(event.stream);
  if (kind === 'care') {
    const patientId = streamOfKind(event.stream, 'care')!.patientId;
    // An amendment settles a dose only when it moves the entry's time (its original settled the one it was for): read at the
    // amendment's own time, it could settle today's dose for yesterday's.
    const replacement = event.type === 'EntryAmended' ? (event.data as { replacement: { type: string; data: unknown; occurredAt?: string } }).replacement : undefined;
    if (replacement && replacement.occurredAt === undefined) return undefined;
    const entry = replacement ? { type: replacement.type, data: replacement.data, occurredAt: replacement.occurredAt! } : { type: event.type, data: event.data, occurredAt: event.metadata.occurredAt };
    const orderId = (entry.data as { orderId?: unknown } | undefined)?.orderId;
    if (typeof orderId !== 'string') return undefined;
    return {
      patientId,
      settled: (state) => {
        const order = state.orders[orderId];
        const dose = order && doseOfOutcome(order, entry);
        return dose ? [{ orderId, scheduledAt: dose.scheduledAt }] : [];
      },
    };
  }
  if (kind === 'prompt' && event.type === 'CarePromptIssued') {
    const prompt = dataOf<CarePromptIssuedData>(event);
    const { dose } = prompt;
    return dose ? { patientId: prompt.patientId, settled: () => [{ orderId: dose.orderId, scheduledAt: dose.scheduledAt }] } : undefined;
  }
  if (kind === 'escalation' && event.type === 'EscalationRaised' && dataOf<EscalationRaisedData>(event).ruleId === DOSE_RULE_IDS.overdue) {
    const escalationId = streamOfKind(event.stream, 'escalation')?.escalationId;
    return {
      patientId: dataOf<EscalationRaisedData>(event).patientId,
      settled: (state) =>
        Object.values(state.orders).flatMap((order) => {
          const cursor = state.cursors[order.orderId];
          const next = cursor === undefined ? undefined : nextScheduledDose(order, cursor);
          return next && doseEscalationId(order.orderId, next.scheduledAt) === escalationId ? [{ orderId: order.orderId, scheduledAt: next.scheduledAt }] : [];
        }),
    };
  }
  return undefined;
};

/**
 * Applies a batch: each stream's state is read once, folded through the batch's events, and
 * written once with its row and timer; then the repeating checks of every delegation whose state
 * or person's entries changed are scheduled again. Idempotent: an event at or before the position
 * a stream's state holds is skipped.
 */
export const applyDelegationEvents = async (frameworks: FrameworkCatalogue, events: readonly RecordedEvent[], tx: SqlQueryable): Promise<void> => {
  const states = new Map<string, { state: StreamState | undefined; position: number; dirty: boolean }>();
  const patientsWithEntries = new Set<string>();
  const load = async (stream: string) => {
    let held = states.get(stream);
    if (!held) {
      const [row] = await streamStates.select(tx, 'stream = $1', [stream]);
      held = { state: row?.state as StreamState | undefined, position: row?.position ?? -1, dirty: false };
      states.set(stream, held);
    }
    return held;
  };

  for (const event of events) {
    const kind = streamKind(event.stream);
    const doses = dosesSettledBy(event);
    if (doses) {
      const held = await load(medicinesStreamOf(doses.patientId));
      if (held.state?.kind === 'medicines' && event.position > held.position) {
        const settled = doses.settled(held.state).reduce((state, dose) => settleDose(state, dose.orderId, dose.scheduledAt), held.state);
        if (settled !== held.state) states.set(medicinesStreamOf(doses.patientId), { state: settled, position: event.position, dirty: true });
      }
    }
    const care = kind === 'care' ? streamOfKind(event.stream, 'care') : undefined;
    if (care) {
      if (await applyEntry(tx, care.patientId, event)) patientsWithEntries.add(care.patientId);
      continue;
    }
    if (!SHOWN.has(kind)) continue;
    const held = await load(event.stream);
    if (event.position <= held.position) continue;
    const next = evolveStreamState(frameworks, held.state, event);
    if (next === undefined) continue;
    states.set(event.stream, { state: next, position: event.position, dirty: true });
  }

  const monitored = new Map<string, number>();
  for (const [stream, held] of states) {
    if (!held.dirty || !held.state) continue;
    await streamStates.upsert(tx, { stream, kind: held.state.kind, state: held.state, position: held.position });
    const { view, timer, doseTimers } = viewOf(frameworks, stream, held.state, held.position);
    if (view) await (view.table.upsert as (tx: SqlQueryable, row: unknown) => Promise<void>)(tx, view.row);
    for (const [timerStream, doseTimer] of doseTimers ?? []) {
      await tx.query(`delete from ${timers.name} where stream = $1 and timer_id <> $2`, [timerStream, doseTimer?.timerId ?? '']);
      if (doseTimer) await upsertTimer(tx, doseTimer, held.position);
    }
    if (doseTimers) continue;
    // The stream's one deadline is the one its state holds now (what was fired is the scheduler's to remember).
    await tx.query(`delete from ${timers.name} where stream = $1 and timer_id <> $2`, [stream, timer?.timerId ?? '']);
    if (timer) await upsertTimer(tx, timer, held.position);
    const delegation = held.state.kind === 'delegation' ? streamOfKind(stream, 'delegation') : undefined;
    if (delegation) monitored.set(delegation.delegationId, held.position);
  }
  // A check recorded (or corrected) moves the deadlines of the person's repeating checks.
  for (const patientId of patientsWithEntries) {
    for (const delegation of await delegations.select(tx, 'patient_id = $1', [patientId])) {
      if (!monitored.has(delegation.delegationId)) monitored.set(delegation.delegationId, events[events.length - 1]!.position);
    }
  }
  for (const [delegationId, position] of monitored) {
    const held = await load(delegationStreamId(delegationId));
    await scheduleMonitoring(tx, frameworks, delegationId, held.state, position);
  }
};

/**
 * Before this projection, the delegation service kept these tables itself, in the base schema,
 * where the runner now puts its views. They are dropped (the runner fills their generation from
 * the log), keeping only what the scheduler had fired: that is remembered, not projected.
 */
const leaveOldLayout = async (db: SqlDriver): Promise<void> => {
  await db.migrate(schedulerSchemaSql);
  const names = Object.values(delegationTables).map((t) => t.name);
  const old = await db.query<{ table_name: string }>(
    "select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name = any($1::text[])",
    [names],
  );
  if (old.length === 0) return;
  await db.transaction(async (tx) => {
    if (old.some((t) => t.table_name === timers.name)) {
      await tx.query(
        `insert into delegation_timer_firings (timer_id, stream, kind, due_at, fired_at, outcome)
         select timer_id, stream, kind, due_at, fired_at, coalesce(outcome, 'fired') from ${timers.name} where fired_at is not null
         on conflict (timer_id) do nothing`,
      );
    }
    for (const { table_name } of old) await tx.query(`drop table ${table_name}`);
  });
};

/** The delegation read model as the projection runner runs it (with the FHIR projection, in one checkpoint). */
export const delegationProjection = (frameworks: FrameworkCatalogue): Projection => ({
  name: 'delegation',
  schemaSql: delegationViewsSql,
  apply: (events, tx) => applyDelegationEvents(frameworks, events, tx),
  prepare: leaveOldLayout,
});
