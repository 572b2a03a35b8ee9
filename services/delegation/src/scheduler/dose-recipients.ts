import type { SqlQueryable } from '@tandem/event-store';
import type { VisitFacts } from '@tandem/contracts';
import { delegationTables } from '../reactions/read-model';

/** How far either side of a dose's time a planned visit counts as the one it is given in. */
const VISIT_WINDOW_MS = 2 * 60 * 60_000;

/**
 * Who is prompted about a person's overdue dose: the care workers planned on a visit (not
 * cancelled) around the dose's time, else those with an active delegation for the person. Who to
 * tell is read from the delegation read model (as an escalation's recipients are); whether the
 * dose is overdue never is (the scheduler decides that from the care stream).
 */
export const careWorkersForDose = async (db: SqlQueryable, patientId: string, scheduledAt: string, activeStatuses: readonly string[]): Promise<string[]> => {
  const at = Date.parse(scheduledAt);
  const visits = await delegationTables.streamStates.select(db, "kind = 'visit' and state->'visit'->>'patientId' = $1", [patientId]);
  const onVisit = visits
    .map((row) => (row.state as { visit: VisitFacts }).visit)
    .filter((v): v is Extract<VisitFacts, { planned: true }> => v.planned && v.status !== 'cancelled')
    .filter((v) => Date.parse(v.plannedStart) - VISIT_WINDOW_MS <= at && at <= Date.parse(v.plannedEnd) + VISIT_WINDOW_MS)
    .flatMap((v) => v.careWorkerIds);
  if (onVisit.length > 0) return [...new Set(onVisit)].sort();
  const delegated = await delegationTables.delegations.select(db, 'patient_id = $1', [patientId]);
  return [...new Set(delegated.filter((d) => activeStatuses.includes(d.status)).map((d) => d.careWorkerId))].sort();
};
