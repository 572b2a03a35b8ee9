import { streamOfKind, type CarePromptIssuedData, type CareTeamMemberAddedData, type EntryMarkedEnteredInErrorData, type EscalationRaisedData, type PractitionerRegisteredData } from '@tandem/contracts';
import type { RecordedEvent, SqlQueryable } from '@tandem/event-store';
import type { Projection } from '../projection';
import { CONTEXT_EVENT_TYPES, delegatedDose, delegatedDoseOf, doseKey, type DelegationItem, ENTRY_INDICATORS, doseOfEscalation, evolveItem, isCareEntry, itemKeysOf, orderKeyOfDose, overdueDose, rowsOfEntry, rowsOfItem, type IndicatorRow, type OrderItem, type QualityContext, type QualityItem } from './fold';

/**
 * The quality indicators' read model (issue 15; docs/decisions/0032): one row per item, indicator
 * and organisation (`quality_indicator_items`), with the day it counts for and whether it is in
 * the numerator; a day's or a month's figure is a sum over these rows at read time, and the
 * drill-down is the rows themselves. Items that change over several events (a visit, an
 * escalation, a scheduled dose) keep their folded state in `quality_item_states`; who is on whose
 * care team, and which organisation each practitioner is of, in two small tables, so an item is
 * attributed to the organisations caring for the person when it happened. Rebuilt from the log
 * alone, like every read model.
 */
export const QUALITY_SCHEMA_SQL = `
create table if not exists quality_item_states (
  item_key text primary key,
  state jsonb not null
);
create table if not exists quality_practitioners (
  practitioner_id text primary key,
  organisation_id text not null
);
create table if not exists quality_care_teams (
  patient_id text not null,
  practitioner_id text not null,
  team_role text not null,
  primary key (patient_id, practitioner_id, team_role)
);
create table if not exists quality_indicator_items (
  indicator text not null,
  item_id text not null,
  organisation_id text not null,
  patient_id text not null,
  day date not null,
  in_numerator boolean not null,
  minutes integer,
  what text not null,
  at timestamptz not null,
  recorded_by text not null,
  primary key (indicator, item_id, organisation_id)
);
create index if not exists quality_indicator_items_by_org_day on quality_indicator_items (organisation_id, indicator, day);
create index if not exists quality_indicator_items_by_patient_day on quality_indicator_items (patient_id, indicator, day)`;

/** Where an item nobody's organisation can be named for is counted (a person with no care team yet). */
export const UNATTRIBUTED = 'unattributed';

const careTeamOrganisations = async (tx: SqlQueryable, patientId: string): Promise<string[]> => {
  const rows = await tx.query<{ organisation_id: string }>(
    `select distinct p.organisation_id from quality_care_teams t join quality_practitioners p using (practitioner_id) where t.patient_id = $1 order by 1`,
    [patientId],
  );
  return rows.map((r) => r.organisation_id);
};

const applyContext = async (tx: SqlQueryable, event: RecordedEvent): Promise<void> => {
  if (event.type === 'PractitionerRegistered') {
    const p = event.data as PractitionerRegisteredData;
    await tx.query(`insert into quality_practitioners (practitioner_id, organisation_id) values ($1, $2) on conflict (practitioner_id) do update set organisation_id = excluded.organisation_id`, [p.practitionerId, p.organisationId]);
    return;
  }
  const m = event.data as CareTeamMemberAddedData;
  if (event.type === 'CareTeamMemberAdded') {
    await tx.query(`insert into quality_care_teams (patient_id, practitioner_id, team_role) values ($1, $2, $3) on conflict do nothing`, [m.patientId, m.practitionerId, m.teamRole]);
  } else {
    await tx.query(`delete from quality_care_teams where patient_id = $1 and practitioner_id = $2 and team_role = $3`, [m.patientId, m.practitionerId, m.teamRole]);
  }
};

const replaceRows = async (tx: SqlQueryable, itemId: string, indicators: readonly string[], rows: readonly IndicatorRow[]): Promise<void> => {
  if (indicators.length > 0) await tx.query(`delete from quality_indicator_items where item_id = $1 and indicator = any($2::text[])`, [itemId, indicators]);
  for (const row of rows) {
    const organisations = row.organisations.length > 0 ? row.organisations : [UNATTRIBUTED];
    for (const organisation of organisations) {
      await tx.query(
        `insert into quality_indicator_items (indicator, item_id, organisation_id, patient_id, day, in_numerator, minutes, what, at, recorded_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         on conflict (indicator, item_id, organisation_id) do update set patient_id = excluded.patient_id, day = excluded.day, in_numerator = excluded.in_numerator,
           minutes = excluded.minutes, what = excluded.what, at = excluded.at, recorded_by = excluded.recorded_by`,
        [row.indicator, row.itemId, organisation, row.patientId, row.day, row.inNumerator, row.minutes ?? null, row.what, row.at, row.recordedBy],
      );
    }
  }
};

/** The indicators an item kind can count for: its rows are replaced whole when it changes. */
const INDICATORS_OF_KIND: Readonly<Record<QualityItem['kind'], readonly string[]>> = {
  visit: ['missed-visits', 'short-visits'],
  escalation: ['escalations-acknowledged-in-time'],
  dose: ['scheduled-doses-on-time', 'time-critical-doses-on-time'],
  order: [],
  delegation: [],
};

/** The person an event is about, where the event says so itself. */
const patientOf = (event: RecordedEvent): string | undefined => {
  const stream = streamOfKind(event.stream, 'care') ?? streamOfKind(event.stream, 'medicines');
  if (stream) return stream.patientId;
  if (event.type === 'EscalationRaised' || event.type === 'CarePromptIssued') return (event.data as EscalationRaisedData | CarePromptIssuedData).patientId;
  return undefined;
};

/** A jsonb column as the driver gives it (parsed, or its text). */
const parsed = (state: QualityItem | string): QualityItem => (typeof state === 'string' ? (JSON.parse(state) as QualityItem) : state);

export const QUALITY_PROJECTION_NAME = 'quality-indicators';

/** The projection; `context` brings England's calendar and the medicines ruleset's tolerance (the composition root passes the delegation service's). */
export const qualityProjection = (context: QualityContext): Projection => ({
  name: QUALITY_PROJECTION_NAME,
  schemaSql: QUALITY_SCHEMA_SQL,
  async apply(events, tx) {
    const load = async (key: string): Promise<QualityItem | undefined> => {
      const [row] = await tx.query<{ state: QualityItem | string }>('select state from quality_item_states where item_key = $1', [key]);
      return row ? parsed(row.state) : undefined;
    };
    /** Keeps the item's new state and replaces its rows (nothing when it did not change). */
    const save = async (key: string, before: QualityItem | undefined, after: QualityItem | undefined): Promise<void> => {
      if (after === undefined || after === before) return;
      await tx.query(`insert into quality_item_states (item_key, state) values ($1, $2) on conflict (item_key) do update set state = excluded.state`, [key, JSON.stringify(after)]);
      await replaceRows(tx, key.slice(key.indexOf(':') + 1), INDICATORS_OF_KIND[after.kind], rowsOfItem(after, context));
    };
    // Each person's care-team organisations, read once per batch until a care team or a practitioner changes.
    const teams = new Map<string, string[]>();
    for (const event of events) {
      if (CONTEXT_EVENT_TYPES.has(event.type)) {
        await applyContext(tx, event);
        teams.clear();
      }
      let patientId = patientOf(event);
      const organisations = async (): Promise<string[]> => {
        if (!patientId) return [];
        const known = teams.get(patientId) ?? (await careTeamOrganisations(tx, patientId));
        teams.set(patientId, known);
        return known;
      };
      for (const key of itemKeysOf(event, context)) {
        const before = await load(key);
        const orderKey = orderKeyOfDose(key);
        const order = orderKey ? ((await load(orderKey)) as OrderItem | undefined) : undefined;
        const after = evolveItem(key, before, event, { patientId: patientId ?? '', careTeamOrganisations: await organisations(), ...(order ? { order } : {}) });
        // A check-out names no person: its visit does, for the doses it closed without.
        if (after?.kind === 'visit') patientId = after.visit.patientId;
        await save(key, before, after);
      }
      // An overdue dose escalated with nobody to prompt: the dose is due even if nobody ever records it (H100).
      if (event.type === 'EscalationRaised' && patientId) {
        const orders = await tx.query<{ state: QualityItem | string }>(`select state from quality_item_states where item_key like 'order:%' and state->>'patientId' = $1`, [patientId]);
        const found = doseOfEscalation((event.data as EscalationRaisedData).escalationId, event.metadata.occurredAt, orders.map((o) => parsed(o.state) as OrderItem), context);
        if (found) {
          const key = `dose:${doseKey(found.order.orderId, found.scheduledAt)}`;
          const before = await load(key);
          const input = { patientId, careTeamOrganisations: await organisations(), order: found.order, dueAt: found.scheduledAt, scheduledTime: found.scheduledTime, timeCritical: found.order.timeCritical };
          await save(key, before, overdueDose(before?.kind === 'dose' ? before : undefined, key.slice(5), input));
        }
      }
      // Insulin given or withheld under a delegation: the outcome of its scheduled (time-critical) dose.
      if ((event.type === 'InsulinAdministered' || event.type === 'InsulinWithheld') && patientId && context.insulin) {
        const delegations = await tx.query<{ state: QualityItem | string }>(`select state from quality_item_states where item_key like 'delegation:%' and state->>'patientId' = $1`, [patientId]);
        const found = delegatedDoseOf(event, delegations.map((d) => parsed(d.state) as DelegationItem), context);
        if (found) {
          const key = `dose:${doseKey(found.delegation.delegationId, found.dueAt)}`;
          const before = await load(key);
          await save(key, before, delegatedDose(before?.kind === 'dose' ? before : undefined, event, found, await organisations()));
        }
      }
      if (event.type === 'EntryMarkedEnteredInError') {
        const { entryId } = event.data as EntryMarkedEnteredInErrorData;
        // An entry recorded in error counts for nothing; a dose whose outcome it was is due again, with none.
        await replaceRows(tx, entryId, ENTRY_INDICATORS, []);
        const [dose] = await tx.query<{ item_key: string; state: QualityItem | string }>(`select item_key, state from quality_item_states where item_key like 'dose:%' and state->'outcome'->>'entryId' = $1`, [entryId]);
        if (dose) {
          const before = parsed(dose.state);
          await save(dose.item_key, before, evolveItem(dose.item_key, before, event, { patientId: patientId ?? '', careTeamOrganisations: await organisations() }));
        }
      }
      if (!isCareEntry(event)) continue;
      const entryRows = rowsOfEntry(event, await organisations(), context);
      await replaceRows(tx, event.id, [...new Set(entryRows.map((r) => r.indicator))], entryRows);
    }
  },
});
