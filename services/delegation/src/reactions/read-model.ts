import type { CarePromptIssuedData, EscalationRaisedData, EscalationSentToTierData, Instruction } from '@tandem/contracts';
import type { SqlQueryable } from '@tandem/event-store';
import type { Loaded } from '../application/commands';
import { competencyStreamId, delegationStreamId, escalationStreamId, promptStreamId } from '../application/streams';
import type { Ruleset } from '../frameworks';
import type { CompetenceState, DelegationState, EscalationState } from '../machines';
import type { PromptState } from '../prompts';
import { competenceTimerOf, delegationTimerOf, escalationTimerOf, promptTimerOf, type Timer } from '../scheduler/timers';

/**
 * The delegation service's read model, kept from the log by its own subscription: one row per
 * competence, delegation, escalation and prompt (each the state its stream's events rebuild), and
 * the timers the scheduler fires. A row is written only by an event later than the one it holds,
 * so replaying, or a reaction indexing its own append early, changes nothing.
 */
export const delegationSchemaSql = `
create table if not exists delegation_checkpoints (
  name text primary key,
  position bigint not null,
  updated_at timestamptz not null default now()
);
create table if not exists delegation_competences (
  stream text primary key,
  care_worker_id text not null,
  framework_id text not null,
  status text not null,
  valid_until timestamptz,
  signed_off_by text,
  position bigint not null
);
create index if not exists delegation_competences_worker on delegation_competences (care_worker_id, framework_id);
create table if not exists delegation_delegations (
  delegation_id text primary key,
  patient_id text not null,
  framework_id text not null,
  activity_id text not null,
  care_worker_id text not null,
  delegated_by text not null,
  status text not null,
  person_agreed boolean not null,
  instruction jsonb not null,
  review_due_at timestamptz,
  reason text,
  proposed_at timestamptz not null,
  position bigint not null
);
create index if not exists delegation_delegations_patient on delegation_delegations (patient_id);
create index if not exists delegation_delegations_worker on delegation_delegations (care_worker_id, framework_id);
create table if not exists delegation_escalations (
  escalation_id text primary key,
  patient_id text not null,
  framework_id text not null,
  delegation_id text,
  rule_id text not null,
  urgency text not null,
  status text not null,
  open boolean not null,
  incident boolean not null,
  tier int not null,
  tier_id text,
  recipient text,
  due_at timestamptz,
  advice text,
  informed jsonb not null default '[]',
  sbard jsonb not null,
  raised_at timestamptz not null,
  acknowledged_by text,
  outcome text,
  position bigint not null
);
create index if not exists delegation_escalations_patient on delegation_escalations (patient_id, open);
-- Everyone the escalation has reached or informed, by name, at any tier so far: their open list.
alter table delegation_escalations add column if not exists recipients jsonb not null default '[]';
create table if not exists delegation_prompts (
  prompt_id text primary key,
  patient_id text not null,
  framework_id text not null,
  delegation_id text,
  rule_id text not null,
  care_worker_id text not null,
  title text not null,
  steps jsonb not null,
  withhold_activity_id text,
  recheck jsonb,
  recheck_status text not null,
  acknowledged_by text,
  escalation_id text,
  issued_at timestamptz not null,
  position bigint not null
);
create index if not exists delegation_prompts_patient on delegation_prompts (patient_id, recheck_status);
create index if not exists delegation_prompts_worker on delegation_prompts (care_worker_id);
create table if not exists delegation_timers (
  timer_id text primary key,
  stream text not null,
  kind text not null,
  due_at timestamptz not null,
  command jsonb not null,
  scheduled_position bigint not null,
  fired_at timestamptz,
  outcome text
);
create index if not exists delegation_timers_due on delegation_timers (due_at) where fired_at is null;
create index if not exists delegation_timers_stream on delegation_timers (stream);
`;

const upsert = (table: string, key: string, columns: readonly string[]) => {
  const list = [key, ...columns];
  return `insert into ${table} (${list.join(', ')}) values (${list.map((_, i) => `$${i + 1}`).join(', ')})
    on conflict (${key}) do update set ${columns.map((c) => `${c} = excluded.${c}`).join(', ')}
    where ${table}.position < excluded.position
    returning 1 as written`;
};

const COMPETENCE_SQL = upsert('delegation_competences', 'stream', ['care_worker_id', 'framework_id', 'status', 'valid_until', 'signed_off_by', 'position']);
const DELEGATION_SQL = upsert('delegation_delegations', 'delegation_id', [
  'patient_id',
  'framework_id',
  'activity_id',
  'care_worker_id',
  'delegated_by',
  'status',
  'person_agreed',
  'instruction',
  'review_due_at',
  'reason',
  'proposed_at',
  'position',
]);
const ESCALATION_SQL = upsert('delegation_escalations', 'escalation_id', [
  'patient_id',
  'framework_id',
  'delegation_id',
  'rule_id',
  'urgency',
  'status',
  'open',
  'incident',
  'tier',
  'tier_id',
  'recipient',
  'due_at',
  'advice',
  'informed',
  'sbard',
  'raised_at',
  'acknowledged_by',
  'outcome',
  'recipients',
  'position',
]);
const PROMPT_SQL = upsert('delegation_prompts', 'prompt_id', [
  'patient_id',
  'framework_id',
  'delegation_id',
  'rule_id',
  'care_worker_id',
  'title',
  'steps',
  'withhold_activity_id',
  'recheck',
  'recheck_status',
  'acknowledged_by',
  'escalation_id',
  'issued_at',
  'position',
]);

/** Replaces the stream's unfired timer: the one its state holds now, or none. A fired timer is never scheduled again. */
const scheduleTimer = async (tx: SqlQueryable, stream: string, timer: Timer | undefined, position: number): Promise<void> => {
  await tx.query('delete from delegation_timers where stream = $1 and fired_at is null and timer_id <> $2', [stream, timer?.timerId ?? '']);
  if (!timer) return;
  await tx.query(
    `insert into delegation_timers (timer_id, stream, kind, due_at, command, scheduled_position) values ($1, $2, $3, $4, $5, $6)
     on conflict (timer_id) do nothing`,
    [timer.timerId, stream, timer.fire.kind, timer.dueAt, JSON.stringify(timer.fire.command), position],
  );
};

const written = (rows: unknown[]): boolean => rows.length > 0;

export const indexCompetence = async (tx: SqlQueryable, state: CompetenceState, position: number): Promise<void> => {
  const { careWorker, framework, validUntil, signedOffBy } = state.context;
  if (!careWorker) return;
  const stream = competencyStreamId(careWorker.practitionerId, framework.id);
  const rows = await tx.query(COMPETENCE_SQL, [stream, careWorker.practitionerId, framework.id, String(state.value), validUntil ?? null, signedOffBy ?? null, position]);
  if (written(rows)) await scheduleTimer(tx, stream, competenceTimerOf(stream, state), position);
};

export const indexDelegation = async (tx: SqlQueryable, loaded: Loaded<DelegationState>, position: number): Promise<void> => {
  const { context } = loaded.state;
  if (!context.delegationId || !context.patientId || !context.careWorker || !context.delegatedBy) return;
  const proposedAt = loaded.events.find((e) => e.type === 'DelegationProposed')!.metadata.occurredAt;
  const stream = delegationStreamId(context.delegationId);
  const rows = await tx.query(DELEGATION_SQL, [
    context.delegationId,
    context.patientId,
    context.framework.id,
    context.activityId,
    context.careWorker.practitionerId,
    context.delegatedBy.practitionerId,
    String(loaded.state.value),
    context.personAgreed,
    JSON.stringify(context.instruction),
    context.reviewDueAt ?? null,
    context.reason ?? null,
    proposedAt,
    position,
  ]);
  if (written(rows)) await scheduleTimer(tx, stream, delegationTimerOf(stream, loaded.state), position);
};

export const indexEscalation = async (tx: SqlQueryable, loaded: Loaded<EscalationState, Ruleset>, position: number): Promise<void> => {
  const { context } = loaded.state;
  const raisedEvent = loaded.events.find((e) => e.type === 'EscalationRaised');
  if (!context.escalationId || !raisedEvent) return;
  const raised = raisedEvent.data as EscalationRaisedData;
  const sends = loaded.events.filter((e) => e.type === 'EscalationSentToTier').map((e) => e.data as EscalationSentToTierData);
  const sent = sends[sends.length - 1];
  const recipients = sends.flatMap((d) => [...(d.recipients ?? []), ...(d.informedRecipients ?? [])].map((r) => ({ practitionerId: r.practitionerId, reason: r.reason, tier: d.tier })));
  const status = String(loaded.state.value);
  const stream = escalationStreamId(context.escalationId);
  const rows = await tx.query(ESCALATION_SQL, [
    context.escalationId,
    raised.patientId,
    raised.frameworkId,
    raised.delegationId ?? null,
    raised.ruleId,
    raised.urgency,
    status,
    status !== 'resolved',
    raised.incident,
    context.tier,
    sent?.tierId ?? null,
    sent?.recipient ?? null,
    sent?.dueAt ?? null,
    sent?.advice ?? null,
    JSON.stringify(sent?.informed ?? []),
    JSON.stringify(raised.sbard),
    raisedEvent.metadata.occurredAt,
    context.acknowledgedBy?.practitionerId ?? null,
    context.outcome ?? null,
    JSON.stringify(recipients),
    position,
  ]);
  if (written(rows)) await scheduleTimer(tx, stream, escalationTimerOf(stream, loaded.state), position);
};

export const indexPrompt = async (tx: SqlQueryable, state: PromptState, position: number): Promise<void> => {
  const prompt = state.prompt;
  if (!prompt || !state.issuedAt) return;
  const stream = promptStreamId(prompt.promptId);
  const rows = await tx.query(PROMPT_SQL, [
    prompt.promptId,
    prompt.patientId,
    prompt.frameworkId,
    prompt.delegationId ?? null,
    prompt.ruleId,
    prompt.careWorkerId,
    prompt.title,
    JSON.stringify(prompt.steps),
    prompt.withholdActivityId ?? null,
    prompt.recheck ? JSON.stringify(prompt.recheck) : null,
    state.recheck,
    state.acknowledgedBy?.practitionerId ?? null,
    prompt.escalationId ?? null,
    state.issuedAt,
    position,
  ]);
  if (written(rows)) await scheduleTimer(tx, stream, promptTimerOf(stream, state), position);
};

// ---------------------------------------------------------------------------------------------
// Rows as the API and the reactions read them
// ---------------------------------------------------------------------------------------------

const iso = (value: unknown): string | undefined => (value === null || value === undefined ? undefined : new Date(value as string).toISOString());

export interface DelegationRow {
  readonly delegationId: string;
  readonly patientId: string;
  readonly frameworkId: string;
  readonly activityId: string;
  readonly careWorkerId: string;
  readonly delegatedBy: string;
  readonly status: string;
  readonly personAgreed: boolean;
  readonly instruction: Instruction;
  readonly reviewDueAt?: string;
  readonly reason?: string;
  readonly proposedAt: string;
  readonly position: number;
}

export const delegationRow = (r: Record<string, unknown>): DelegationRow => ({
  delegationId: String(r.delegation_id),
  patientId: String(r.patient_id),
  frameworkId: String(r.framework_id),
  activityId: String(r.activity_id),
  careWorkerId: String(r.care_worker_id),
  delegatedBy: String(r.delegated_by),
  status: String(r.status),
  personAgreed: Boolean(r.person_agreed),
  instruction: r.instruction as Instruction,
  ...(iso(r.review_due_at) ? { reviewDueAt: iso(r.review_due_at)! } : {}),
  ...(r.reason ? { reason: String(r.reason) } : {}),
  proposedAt: iso(r.proposed_at)!,
  position: Number(r.position),
});

export interface EscalationRow {
  readonly escalationId: string;
  readonly patientId: string;
  readonly frameworkId: string;
  readonly delegationId?: string;
  readonly ruleId: string;
  readonly urgency: string;
  readonly status: string;
  readonly open: boolean;
  readonly incident: boolean;
  /** The framework's tier index (0 is the first), as the events and commands count it. */
  readonly tier: number;
  /** The tier as people count it (1 is the first): the number the FHIR Communication and its notes show. */
  readonly tierNumber: number;
  readonly tierId?: string;
  readonly recipient?: string;
  readonly dueAt?: string;
  readonly advice?: string;
  readonly informed: string[];
  readonly sbard: EscalationRaisedData['sbard'];
  readonly raisedAt: string;
  readonly acknowledgedBy?: string;
  readonly outcome?: string;
  /** Everyone it has reached or informed, by name, with the tier (0 is the first) that reached them. */
  readonly recipients: { practitionerId: string; reason: string; tier: number }[];
  readonly position: number;
}

export const escalationRow = (r: Record<string, unknown>): EscalationRow => ({
  escalationId: String(r.escalation_id),
  patientId: String(r.patient_id),
  frameworkId: String(r.framework_id),
  ...(r.delegation_id ? { delegationId: String(r.delegation_id) } : {}),
  ruleId: String(r.rule_id),
  urgency: String(r.urgency),
  status: String(r.status),
  open: Boolean(r.open),
  incident: Boolean(r.incident),
  tier: Number(r.tier),
  tierNumber: Number(r.tier) + 1,
  ...(r.tier_id ? { tierId: String(r.tier_id) } : {}),
  ...(r.recipient ? { recipient: String(r.recipient) } : {}),
  ...(iso(r.due_at) ? { dueAt: iso(r.due_at)! } : {}),
  ...(r.advice ? { advice: String(r.advice) } : {}),
  informed: (r.informed as string[]) ?? [],
  sbard: r.sbard as EscalationRaisedData['sbard'],
  raisedAt: iso(r.raised_at)!,
  ...(r.acknowledged_by ? { acknowledgedBy: String(r.acknowledged_by) } : {}),
  ...(r.outcome ? { outcome: String(r.outcome) } : {}),
  recipients: (r.recipients as EscalationRow['recipients']) ?? [],
  position: Number(r.position),
});

export interface PromptRow {
  readonly promptId: string;
  readonly patientId: string;
  readonly frameworkId: string;
  readonly delegationId?: string;
  readonly ruleId: string;
  readonly careWorkerId: string;
  readonly title: string;
  readonly steps: string[];
  readonly withholdActivityId?: string;
  readonly recheck?: CarePromptIssuedData['recheck'];
  readonly recheckStatus: string;
  readonly acknowledgedBy?: string;
  readonly escalationId?: string;
  readonly issuedAt: string;
  readonly position: number;
}

export const promptRow = (r: Record<string, unknown>): PromptRow => ({
  promptId: String(r.prompt_id),
  patientId: String(r.patient_id),
  frameworkId: String(r.framework_id),
  ...(r.delegation_id ? { delegationId: String(r.delegation_id) } : {}),
  ruleId: String(r.rule_id),
  careWorkerId: String(r.care_worker_id),
  title: String(r.title),
  steps: r.steps as string[],
  ...(r.withhold_activity_id ? { withholdActivityId: String(r.withhold_activity_id) } : {}),
  ...(r.recheck ? { recheck: r.recheck as CarePromptIssuedData['recheck'] } : {}),
  recheckStatus: String(r.recheck_status),
  ...(r.acknowledged_by ? { acknowledgedBy: String(r.acknowledged_by) } : {}),
  ...(r.escalation_id ? { escalationId: String(r.escalation_id) } : {}),
  issuedAt: iso(r.issued_at)!,
  position: Number(r.position),
});

export interface CompetenceRow {
  readonly careWorkerId: string;
  readonly frameworkId: string;
  readonly status: string;
  readonly validUntil?: string;
  readonly signedOffBy?: string;
  readonly position: number;
}

export const competenceRow = (r: Record<string, unknown>): CompetenceRow => ({
  careWorkerId: String(r.care_worker_id),
  frameworkId: String(r.framework_id),
  status: String(r.status),
  ...(iso(r.valid_until) ? { validUntil: iso(r.valid_until)! } : {}),
  ...(r.signed_off_by ? { signedOffBy: String(r.signed_off_by) } : {}),
  position: Number(r.position),
});

/** Queries over the read model (the API's lists, the reactions' lookups). */
export class DelegationViews {
  constructor(private readonly db: SqlQueryable) {}

  async delegationsForPatient(patientId: string): Promise<DelegationRow[]> {
    const rows = await this.db.query<Record<string, unknown>>('select * from delegation_delegations where patient_id = $1 order by proposed_at, delegation_id', [patientId]);
    return rows.map(delegationRow);
  }

  async delegationsForCareWorker(careWorkerId: string, frameworkId?: string): Promise<DelegationRow[]> {
    const rows = frameworkId
      ? await this.db.query<Record<string, unknown>>('select * from delegation_delegations where care_worker_id = $1 and framework_id = $2 order by proposed_at', [careWorkerId, frameworkId])
      : await this.db.query<Record<string, unknown>>('select * from delegation_delegations where care_worker_id = $1 order by proposed_at', [careWorkerId]);
    return rows.map(delegationRow);
  }

  async delegationsBy(delegatedBy: string): Promise<DelegationRow[]> {
    const rows = await this.db.query<Record<string, unknown>>('select * from delegation_delegations where delegated_by = $1 order by proposed_at', [delegatedBy]);
    return rows.map(delegationRow);
  }

  async delegation(delegationId: string): Promise<DelegationRow | undefined> {
    const [row] = await this.db.query<Record<string, unknown>>('select * from delegation_delegations where delegation_id = $1', [delegationId]);
    return row && delegationRow(row);
  }

  async escalations(filter: { patientId?: string; open?: boolean; delegatedBy?: string; recipientId?: string } = {}): Promise<EscalationRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.recipientId) where.push(`e.recipients @> $${params.push(JSON.stringify([{ practitionerId: filter.recipientId }]))}::jsonb`);
    if (filter.patientId) where.push(`e.patient_id = $${params.push(filter.patientId)}`);
    if (filter.open !== undefined) where.push(`e.open = $${params.push(filter.open)}`);
    if (filter.delegatedBy) {
      where.push(`(e.patient_id in (select patient_id from delegation_delegations where delegated_by = $${params.push(filter.delegatedBy)}))`);
    }
    const rows = await this.db.query<Record<string, unknown>>(
      `select e.* from delegation_escalations e ${where.length ? `where ${where.join(' and ')}` : ''} order by e.raised_at, e.escalation_id`,
      params,
    );
    return rows.map(escalationRow);
  }

  async escalation(escalationId: string): Promise<EscalationRow | undefined> {
    const [row] = await this.db.query<Record<string, unknown>>('select * from delegation_escalations where escalation_id = $1', [escalationId]);
    return row && escalationRow(row);
  }

  async openEscalationRuleIds(patientId: string): Promise<string[]> {
    const rows = await this.db.query<{ rule_id: string }>('select distinct rule_id from delegation_escalations where patient_id = $1 and open', [patientId]);
    return rows.map((r) => r.rule_id);
  }

  async prompts(filter: { careWorkerId?: string; patientId?: string; open?: boolean }): Promise<PromptRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.careWorkerId) where.push(`care_worker_id = $${params.push(filter.careWorkerId)}`);
    if (filter.patientId) where.push(`patient_id = $${params.push(filter.patientId)}`);
    if (filter.open) where.push(`(acknowledged_by is null or recheck_status = 'pending')`);
    const rows = await this.db.query<Record<string, unknown>>(`select * from delegation_prompts ${where.length ? `where ${where.join(' and ')}` : ''} order by issued_at, prompt_id`, params);
    return rows.map(promptRow);
  }

  async prompt(promptId: string): Promise<PromptRow | undefined> {
    const [row] = await this.db.query<Record<string, unknown>>('select * from delegation_prompts where prompt_id = $1', [promptId]);
    return row && promptRow(row);
  }

  async pendingRechecks(patientId: string): Promise<PromptRow[]> {
    const rows = await this.db.query<Record<string, unknown>>("select * from delegation_prompts where patient_id = $1 and recheck_status = 'pending' order by issued_at", [patientId]);
    return rows.map(promptRow);
  }

  async competences(careWorkerId: string): Promise<CompetenceRow[]> {
    const rows = await this.db.query<Record<string, unknown>>('select * from delegation_competences where care_worker_id = $1 order by framework_id', [careWorkerId]);
    return rows.map(competenceRow);
  }

  async timers(filter: { pending?: boolean } = {}): Promise<{ timerId: string; stream: string; kind: string; dueAt: string; firedAt?: string; outcome?: string }[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `select * from delegation_timers ${filter.pending ? 'where fired_at is null' : ''} order by due_at, timer_id`,
    );
    return rows.map((r) => ({
      timerId: String(r.timer_id),
      stream: String(r.stream),
      kind: String(r.kind),
      dueAt: iso(r.due_at)!,
      ...(r.fired_at ? { firedAt: iso(r.fired_at)! } : {}),
      ...(r.outcome ? { outcome: String(r.outcome) } : {}),
    }));
  }
}
