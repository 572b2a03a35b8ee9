import type { EscalationRaisedData, EscalationSentToTierData } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import { DELEGATION_SYSTEM_ACTOR } from '../application/commands';
import { DelegationCommandRefused } from '../application/errors';
import { nameBasedId, streamOfKind } from '../application/streams';
import type { ReactionContext } from './context';

/** The rule id of the incident a tier that reached nobody becomes. */
export const NOBODY_ON_CALL_RULE_ID = 'escalation.nobody-available';

/** The incident raised for a tier of an escalation that reached nobody: named from the escalation and the tier. */
export const gapIncidentId = (escalationId: string, tier: number): string => nameBasedId(`escalation-gap|${escalationId}|${tier}`);

/**
 * A tier of an escalation reached nobody (nobody on call): the escalation has already gone on to
 * the next tier in the same decision; the gap itself is an incident escalation, so whoever runs
 * the rota hears of it. A gap in an incident about a gap raises no further incident.
 */
export const reactToUnreachedTier = async (ctx: ReactionContext, event: RecordedEvent): Promise<void> => {
  const sent = event.data as EscalationSentToTierData;
  if (!sent.nobodyAvailable) return;
  const escalationId = streamOfKind(event.stream, 'escalation')?.escalationId;
  if (escalationId === undefined) return;
  const raised = (await ctx.store.readStream(event.stream)).find((e) => e.type === 'EscalationRaised')?.data as EscalationRaisedData | undefined;
  if (!raised || raised.ruleId === NOBODY_ON_CALL_RULE_ID) return;
  const ruleset = ctx.commands.frameworks.ruleset(raised.frameworkId);
  const tierTitle = ruleset?.escalation.tiers[sent.tier]?.title ?? sent.tierId;
  const next = ruleset?.escalation.tiers[sent.tier + 1]?.title;
  const incidentId = gapIncidentId(escalationId, sent.tier);
  try {
    await ctx.commands.escalation(
      {
        type: 'RaiseEscalation',
        idempotencyKey: `reaction:${event.id}:gap`,
        occurredAt: event.metadata.occurredAt,
        escalationId: incidentId,
        patientId: raised.patientId,
        frameworkId: raised.frameworkId,
        ...(raised.delegationId ? { delegationId: raised.delegationId } : {}),
        ruleId: NOBODY_ON_CALL_RULE_ID,
        urgency: 'urgent',
        incident: true,
        triggeringEntryIds: raised.triggeringEntryIds,
        sbard: {
          situation: `Nobody was available at ${tierTitle} for escalation ${escalationId} (rule ${raised.ruleId}, ${raised.urgency}).`,
          background: 'The on-call rota named nobody on call at that time for the organisations caring for this person.',
          assessment: `The escalation went on at once${next ? ` to ${next}` : ''}; the person may still need the review it asked for.`,
          recommendation: 'Check the person has been seen, and fill the gap in the on-call rota.',
          decision: 'Incident review: who should have been on call, and is the rota right now?',
        },
      },
      DELEGATION_SYSTEM_ACTOR,
      { causationId: event.id, correlationId: event.metadata.correlationId },
      { before: event.position },
    );
  } catch (error) {
    if (error instanceof DelegationCommandRefused && error.status === 409) return;
    throw error;
  }
};
