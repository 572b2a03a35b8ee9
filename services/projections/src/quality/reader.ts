import { daysOfPeriod, INDICATORS, type IndicatorDefinition, type IndicatorId } from '@tandem/contracts';
import type { SqlQueryable } from '@tandem/event-store';

/** Whose figures: an organisation's (summary), a person's (individual), or both narrowed together. */
export interface IndicatorScope {
  readonly organisationId?: string;
  readonly patientId?: string;
}

export interface IndicatorFigure {
  readonly indicator: IndicatorDefinition;
  readonly numerator: number;
  readonly denominator: number;
  /** numerator / denominator; null when nothing was counted (no visits is not "no missed visits"). */
  readonly value: number | null;
  /** The escalations indicator's second figure: the median minutes to acknowledge, over those acknowledged. */
  readonly medianMinutesToAcknowledge?: number | null;
}

export interface IndicatorEntry {
  readonly itemId: string;
  readonly patientId: string;
  readonly organisationIds: readonly string[];
  readonly day: string;
  readonly inNumerator: boolean;
  readonly minutes: number | null;
  readonly what: string;
  readonly at: string;
  readonly recordedBy: string;
}

const where = (scope: IndicatorScope, from: string, to: string): { sql: string; params: unknown[] } => {
  const params: unknown[] = [from, to];
  const clauses = ['day between $1::date and $2::date'];
  if (scope.organisationId !== undefined) clauses.push(`organisation_id = $${params.push(scope.organisationId)}`);
  if (scope.patientId !== undefined) clauses.push(`patient_id = $${params.push(scope.patientId)}`);
  return { sql: clauses.join(' and '), params };
};

/** The quality indicators' reads: a period's figures are sums of its days' rows, each item counted once. */
export class IndicatorReader {
  constructor(private readonly db: SqlQueryable) {}

  /** Each indicator's figures, summed in the database over the period's days, each item once (an item counts for every organisation caring for the person). */
  async figures(scope: IndicatorScope, period: string): Promise<IndicatorFigure[]> {
    const { from, to } = daysOfPeriod(period);
    const w = where(scope, from, to);
    const rows = await this.db.query<{ indicator: string; numerator: string | number; denominator: string | number; median: string | number | null }>(
      `select indicator, count(*) filter (where in_numerator) as numerator, count(*) as denominator,
              percentile_cont(0.5) within group (order by minutes) as median
         from (select indicator, item_id, bool_or(in_numerator) as in_numerator, min(minutes) as minutes
                 from quality_indicator_items where ${w.sql} group by indicator, item_id) as items
        group by indicator`,
      w.params,
    );
    const byId = new Map(rows.map((r) => [r.indicator, r]));
    return INDICATORS.map((indicator) => {
      const row = byId.get(indicator.id);
      const numerator = Number(row?.numerator ?? 0);
      const denominator = Number(row?.denominator ?? 0);
      return {
        indicator,
        numerator,
        denominator,
        value: denominator === 0 ? null : numerator / denominator,
        ...(indicator.id === 'escalations-acknowledged-in-time' ? { medianMinutesToAcknowledge: row?.median === null || row?.median === undefined ? null : Number(row.median) } : {}),
      };
    });
  }

  /** The items behind a figure: every item counted (or only those in the numerator), oldest first. */
  async entries(indicator: IndicatorId, scope: IndicatorScope, period: string, only?: 'numerator'): Promise<IndicatorEntry[]> {
    const { from, to } = daysOfPeriod(period);
    const w = where(scope, from, to);
    const rows = await this.db.query<{ item_id: string; patient_id: string; organisation_ids: string[]; day: string; in_numerator: boolean; minutes: number | null; what: string; at: string | Date; recorded_by: string }>(
      `select item_id, patient_id, array_agg(organisation_id order by organisation_id) as organisation_ids, to_char(min(day), 'YYYY-MM-DD') as day,
              bool_or(in_numerator) as in_numerator, min(minutes) as minutes, min(what) as what, min(at) as at, min(recorded_by) as recorded_by
         from quality_indicator_items where ${w.sql} and indicator = $${w.params.length + 1}
        group by item_id, patient_id ${only === 'numerator' ? 'having bool_or(in_numerator)' : ''} order by min(at), item_id`,
      [...w.params, indicator],
    );
    return rows.map((r) => ({
      itemId: r.item_id,
      patientId: r.patient_id,
      organisationIds: r.organisation_ids,
      day: r.day,
      inNumerator: r.in_numerator,
      minutes: r.minutes === null ? null : Number(r.minutes),
      what: r.what,
      at: new Date(r.at).toISOString(),
      recordedBy: r.recorded_by,
    }));
  }
}
