import { visitFactsFrom, type StoredVisitEvent, type VisitLateNoticedData, type VisitMissedData } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import { DELEGATION_SYSTEM_ACTOR } from '../application/commands';
import { nameBasedId, streamOfKind } from '../application/streams';
import { CARE_VISITS_RULESET_ID } from '../frameworks/care-visits';
import { raiseEscalationCommand } from '../rules';
import { visitEscalation } from '../rules/visits';
import type { ReactionContext } from './context';

/** A late or missed visit's escalation: named from the visit and the deadline, so it is raised once however often it is reacted to. */
export const visitEscalationId = (visitId: string, kind: 'late' | 'missed', dueAt: string): string => nameBasedId(`visit|${kind}|${visitId}|${dueAt}`);

/**
 * The record noticed a visit late (VisitLateNoticed) or missed (VisitMissed): it is escalated to
 * the registered manager of the provider (then the nursing team), with the visit as it stood when
 * noticed and its recipients as they stood then. Its tiers' deadlines run from the visit's deadline
 * (the notice's bedside time), as a rule's do from its entry: a miss noticed after downtime moves on at once.
 */
export const reactToVisitDeadline = async (ctx: ReactionContext, event: RecordedEvent): Promise<void> => {
  const visitId = streamOfKind(event.stream, 'visit')?.visitId;
  if (visitId === undefined) return;
  const visit = visitFactsFrom((await ctx.store.readStream(event.stream)).filter((e) => e.position <= event.position) as unknown as StoredVisitEvent[]);
  if (!visit.planned) return;
  const kind = event.type === 'VisitLateNoticed' ? 'late' : 'missed';
  const dueAt = kind === 'late' ? (event.data as VisitLateNoticedData).dueAt : (event.data as VisitMissedData).plannedEnd;
  const ruleset = ctx.commands.ruleset(CARE_VISITS_RULESET_ID);
  const command = raiseEscalationCommand(visitEscalation(ruleset, visit, kind), {
    escalationId: visitEscalationId(visitId, kind, dueAt),
    patientId: visit.patientId,
    occurredAt: event.metadata.occurredAt,
    idempotencyKey: `reaction:${event.id}:visit`,
  });
  await ctx.commands.escalation({ ...command, visitId }, DELEGATION_SYSTEM_ACTOR, { causationId: event.id, correlationId: event.metadata.correlationId }, { before: event.position });
};
