import type { CarePromptIssuedData, EscalationRaisedData, Instruction } from '@tandem/contracts';
import type { SqlQueryable } from '@tandem/event-store';
import type { TimerCommand } from '../scheduler/timers';
import { col, defineTable, type RowOf } from './table';

/**
 * The delegation service's read model: one row per competence, delegation, escalation and prompt,
 * the timers the scheduler fires, and what the rows are folded from. Every table here is a
 * projection (reactions/projection.ts): kept by the projection runner from the log alone, in the
 * runner's generation schema, and rebuilt with every other read model by `npm run
 * projections:rebuild`. Nothing else writes them. What the scheduler has fired is not a view (it
 * is the memory that makes a timer fire once, across restarts and rebuilds): that is
 * `delegation_timer_firings`, kept by the scheduler (scheduler/scheduler.ts).
 */

const competences = defineTable(
  'delegation_competences',
  'stream',
  {
    stream: col.text(),
    careWorkerId: col.text(),
    frameworkId: col.text(),
    status: col.text(),
    validUntil: col.optional(col.instant()),
    signedOffBy: col.optional(col.text()),
    position: col.bigint(),
  },
  [['careWorkerId', 'frameworkId']],
);

const delegations = defineTable(
  'delegation_delegations',
  'delegationId',
  {
    delegationId: col.text(),
    patientId: col.text(),
    frameworkId: col.text(),
    activityId: col.text(),
    careWorkerId: col.text(),
    delegatedBy: col.text(),
    status: col.text(),
    personAgreed: col.bool(),
    instruction: col.json<Instruction>(),
    reviewDueAt: col.optional(col.instant()),
    reason: col.optional(col.text()),
    proposedAt: col.instant(),
    position: col.bigint(),
  },
  [['patientId'], ['careWorkerId', 'frameworkId'], ['delegatedBy']],
);

export type Recipient = { practitionerId: string; reason: string; tier: number };

const escalations = defineTable(
  'delegation_escalations',
  'escalationId',
  {
    escalationId: col.text(),
    patientId: col.text(),
    frameworkId: col.text(),
    delegationId: col.optional(col.text()),
    ruleId: col.text(),
    urgency: col.text(),
    status: col.text(),
    open: col.bool(),
    incident: col.bool(),
    /** The framework's tier index (0 is the first), as the events and commands count it. */
    tier: col.int(),
    tierId: col.optional(col.text()),
    recipient: col.optional(col.text()),
    dueAt: col.optional(col.instant()),
    advice: col.optional(col.text()),
    informed: col.json<string[]>(),
    sbard: col.json<EscalationRaisedData['sbard']>(),
    raisedAt: col.instant(),
    acknowledgedBy: col.optional(col.text()),
    outcome: col.optional(col.text()),
    /** Everyone it has reached or informed, by name, with the tier (0 is the first) that reached them: their open list. */
    recipients: col.json<Recipient[]>(),
    /** Where in the log it was resolved: open as a reaction replaying an earlier entry sees it. */
    resolvedPosition: col.optional(col.bigint()),
    position: col.bigint(),
  },
  [['patientId', 'open']],
);

const prompts = defineTable(
  'delegation_prompts',
  'promptId',
  {
    promptId: col.text(),
    patientId: col.text(),
    frameworkId: col.text(),
    delegationId: col.optional(col.text()),
    ruleId: col.text(),
    careWorkerId: col.text(),
    title: col.text(),
    steps: col.json<string[]>(),
    withholdActivityId: col.optional(col.text()),
    recheck: col.optional(col.json<NonNullable<CarePromptIssuedData['recheck']>>()),
    recheckStatus: col.text(),
    acknowledgedBy: col.optional(col.text()),
    escalationId: col.optional(col.text()),
    issuedAt: col.instant(),
    position: col.bigint(),
  },
  [['patientId', 'recheckStatus'], ['careWorkerId']],
);

/** The deadline each stream's state holds now (and each active delegation's repeating checks): what the scheduler fires. */
const timers = defineTable(
  'delegation_timers',
  'timerId',
  {
    timerId: col.text(),
    stream: col.text(),
    kind: col.text(),
    dueAt: col.instant(),
    command: col.json<TimerCommand['command']>(),
    scheduledPosition: col.bigint(),
  },
  [['dueAt'], ['stream']],
);

/** What each stream's rows are folded from (the machine's state and what the rows add to it), so an event is applied without replaying its stream. */
const streamStateColumns = defineTable('delegation_stream_states', 'stream', {
  stream: col.text(),
  kind: col.text(),
  state: col.json<unknown>(),
  position: col.bigint(),
});
/**
 * An overdue dose's care workers are those on the person's visits around it (scheduler/dose-recipients.ts):
 * found by the person, not by reading every visit of the service (10,000 people have 40,000 a day).
 */
const streamStates = {
  ...streamStateColumns,
  ddl: `${streamStateColumns.ddl};\ncreate index if not exists delegation_stream_states_visit_patient on delegation_stream_states ((state->'visit'->>'patientId')) where kind = 'visit'`,
};

/** Each person's care entries as they stand (amended, or gone when entered in error): when a repeating check is next due. */
const careEntries = defineTable(
  'delegation_care_entries',
  'entryId',
  {
    entryId: col.text(),
    patientId: col.text(),
    type: col.text(),
    occurredAt: col.instant(),
    /** False once entered in error (kept, so replaying the entry does not count it again). */
    current: col.bool(),
    position: col.bigint(),
  },
  [['patientId', 'occurredAt']],
);

/** The projection's tables, each defined once. */
export const delegationTables = { competences, delegations, escalations, prompts, timers, streamStates, careEntries } as const;

/** The projection's tables, for the runner to create in each generation. */
export const delegationViewsSql = Object.values(delegationTables).map((t) => t.ddl).join(';\n');

// ---------------------------------------------------------------------------------------------
// Rows as the API and the reactions read them
// ---------------------------------------------------------------------------------------------

export type DelegationRow = RowOf<typeof delegations.columns>;
export type EscalationRow = Omit<RowOf<typeof escalations.columns>, 'resolvedPosition'> & {
  /** The tier as people count it (1 is the first): the number the FHIR Communication and its notes show. */
  readonly tierNumber: number;
};
export type PromptRow = RowOf<typeof prompts.columns>;
export type CompetenceRow = Omit<RowOf<typeof competences.columns>, 'stream'>;

const escalationRow = ({ resolvedPosition: _resolved, ...row }: RowOf<typeof escalations.columns>): EscalationRow => ({ ...row, tierNumber: row.tier + 1 });
const competenceRow = ({ stream: _stream, ...row }: RowOf<typeof competences.columns>): CompetenceRow => row;

export interface TimerRow {
  readonly timerId: string;
  readonly stream: string;
  readonly kind: string;
  readonly dueAt: string;
  readonly firedAt?: string;
  readonly outcome?: string;
}

/** Queries over the read model (the API's lists, the reactions' lookups). */
export class DelegationViews {
  constructor(private readonly db: SqlQueryable) {}

  delegationsForPatient(patientId: string): Promise<DelegationRow[]> {
    return delegations.select(this.db, 'patient_id = $1', [patientId], 'proposed_at, delegation_id');
  }

  delegationsForCareWorker(careWorkerId: string, frameworkId?: string): Promise<DelegationRow[]> {
    return frameworkId
      ? delegations.select(this.db, 'care_worker_id = $1 and framework_id = $2', [careWorkerId, frameworkId], 'proposed_at')
      : delegations.select(this.db, 'care_worker_id = $1', [careWorkerId], 'proposed_at');
  }

  delegationsBy(delegatedBy: string): Promise<DelegationRow[]> {
    return delegations.select(this.db, 'delegated_by = $1', [delegatedBy], 'proposed_at');
  }

  async delegation(delegationId: string): Promise<DelegationRow | undefined> {
    const [row] = await delegations.select(this.db, 'delegation_id = $1', [delegationId]);
    return row;
  }

  async escalations(filter: { patientId?: string; open?: boolean; delegatedBy?: string; recipientId?: string } = {}): Promise<EscalationRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.recipientId) where.push(`recipients @> $${params.push(JSON.stringify([{ practitionerId: filter.recipientId }]))}::jsonb`);
    if (filter.patientId) where.push(`patient_id = $${params.push(filter.patientId)}`);
    if (filter.open !== undefined) where.push(`open = $${params.push(filter.open)}`);
    if (filter.delegatedBy) where.push(`patient_id in (select patient_id from ${delegations.name} where delegated_by = $${params.push(filter.delegatedBy)})`);
    return (await escalations.select(this.db, where.join(' and '), params, 'raised_at, escalation_id')).map(escalationRow);
  }

  async escalation(escalationId: string): Promise<EscalationRow | undefined> {
    const [row] = await escalations.select(this.db, 'escalation_id = $1', [escalationId]);
    return row && escalationRow(row);
  }

  /** The rules with an escalation open for the person; with `asOf`, also those resolved only after that position. */
  async openEscalationRuleIds(patientId: string, asOf?: number): Promise<string[]> {
    const rows = await this.db.query<{ rule_id: string }>(
      `select distinct rule_id from ${escalations.name} where patient_id = $1 and (open${asOf === undefined ? '' : ' or resolved_position > $2'})`,
      asOf === undefined ? [patientId] : [patientId, asOf],
    );
    return rows.map((r) => r.rule_id);
  }

  prompts(filter: { careWorkerId?: string; patientId?: string; open?: boolean }): Promise<PromptRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.careWorkerId) where.push(`care_worker_id = $${params.push(filter.careWorkerId)}`);
    if (filter.patientId) where.push(`patient_id = $${params.push(filter.patientId)}`);
    // Open: not yet acknowledged, or its re-check still due; closed is the rest (never "all" for false).
    if (filter.open !== undefined) where.push(`${filter.open ? '' : 'not '}(acknowledged_by is null or recheck_status is not distinct from 'pending')`);
    return prompts.select(this.db, where.join(' and '), params, 'issued_at, prompt_id');
  }

  async prompt(promptId: string): Promise<PromptRow | undefined> {
    const [row] = await prompts.select(this.db, 'prompt_id = $1', [promptId]);
    return row;
  }

  pendingRechecks(patientId: string): Promise<PromptRow[]> {
    return prompts.select(this.db, "patient_id = $1 and recheck_status = 'pending'", [patientId], 'issued_at');
  }

  async competences(careWorkerId: string): Promise<CompetenceRow[]> {
    return (await competences.select(this.db, 'care_worker_id = $1', [careWorkerId], 'framework_id')).map(competenceRow);
  }

  /**
   * The timers: each stream's current deadline (unfired, or fired and still the state's), and
   * every timer fired. `pending`: only those not fired yet.
   */
  async timers(filter: { pending?: boolean } = {}): Promise<TimerRow[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `select t.timer_id, t.stream, t.kind, t.due_at, null::timestamptz as fired_at, null as outcome from ${timers.name} t
         where not exists (select 1 from delegation_timer_firings f where f.timer_id = t.timer_id)
       ${filter.pending ? '' : 'union all select timer_id, stream, kind, due_at, fired_at, outcome from delegation_timer_firings'}
       order by due_at, timer_id`,
    );
    const iso = (value: unknown) => new Date(value as string).toISOString();
    return rows.map((r) => ({
      timerId: String(r.timer_id),
      stream: String(r.stream),
      kind: String(r.kind),
      dueAt: iso(r.due_at),
      ...(r.fired_at ? { firedAt: iso(r.fired_at) } : {}),
      ...(r.outcome ? { outcome: String(r.outcome) } : {}),
    }));
  }
}
