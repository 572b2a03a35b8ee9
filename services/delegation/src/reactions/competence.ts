import type { CompetenceStatus, RecordedMetadata } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import { DELEGATION_SYSTEM_ACTOR } from '../application/commands';
import { DelegationCommandRefused } from '../application/errors';
import { competencyStreamId, delegationStreamId } from '../application/streams';
import { isCompetenceCurrent, replayCompetence, timedFromStored, type CompetenceMachineEvent } from '../machines';
import { ACTIVE_STATUSES, type ReactionContext } from './context';

const CHANGES: Readonly<Record<string, 'lapsed' | 'suspended' | 'revoked'>> = {
  CompetenceLapsed: 'lapsed',
  CompetenceSuspended: 'suspended',
  CompetenceRevoked: 'revoked',
};

const changeFor = (status: CompetenceStatus): 'lapsed' | 'suspended' | 'revoked' => (status === 'lapsed' || status === 'revoked' ? status : 'suspended');

const suspend = async (ctx: ReactionContext, delegationId: string, change: 'lapsed' | 'suspended' | 'revoked', event: RecordedEvent, reason?: string) => {
  const metadata: RecordedMetadata = event.metadata;
  try {
    await ctx.commands.delegation(
      {
        type: 'SuspendDelegationForCompetence',
        delegationId,
        change,
        ...(reason ? { reason } : {}),
        idempotencyKey: `reaction:${event.id}:suspend:${delegationId}`,
        occurredAt: ctx.clock.now().toISOString(),
      },
      DELEGATION_SYSTEM_ACTOR,
      { causationId: event.id, correlationId: metadata.correlationId },
    );
  } catch (error) {
    // Already suspended, withdrawn or ended in the meantime: nothing left to do.
    if (!(error instanceof DelegationCommandRefused && error.status === 409)) throw error;
  }
  await ctx.indexNow(delegationStreamId(delegationId));
};

/**
 * A competence lapsed, was suspended or was revoked: every delegation that depends on it (this
 * care worker, this framework, active or due for review) is suspended at once, each with the
 * reason. The care worker's worklist stops offering the activity from that moment.
 */
export const reactToCompetenceChange = async (ctx: ReactionContext, event: RecordedEvent): Promise<void> => {
  const change = CHANGES[event.type];
  if (!change) return;
  const state = replayCompetence(
    ctx.commands.framework(frameworkOfStream(ctx, event.stream)),
    (await ctx.store.readStream(event.stream)).filter((e) => e.revision <= event.revision).map((e) => timedFromStored<CompetenceMachineEvent>(e)),
  );
  const careWorkerId = state.context.careWorker?.practitionerId;
  if (!careWorkerId) return;
  for (const delegation of await ctx.views.delegationsForCareWorker(careWorkerId, state.context.framework.id)) {
    if (ACTIVE_STATUSES.includes(delegation.status)) await suspend(ctx, delegation.delegationId, change, event, state.context.reason);
  }
};

/** The framework a competency stream is for: its name ends with the framework's id. */
const frameworkOfStream = (ctx: ReactionContext, stream: string): string => {
  const framework = ctx.commands.frameworks.all().find((f) => stream.endsWith(`-${f.id}`));
  if (!framework) throw new Error(`${stream} is not the competence of a known framework`);
  return framework.id;
};

/**
 * A delegation was activated with the competence its activator read. Checked again against the
 * competency stream as it stood before the activation was stored: a competence suspended in
 * between suspends the delegation at once.
 */
export const reactToActivation = async (ctx: ReactionContext, event: RecordedEvent): Promise<void> => {
  if (event.type !== 'DelegationActivated') return;
  const loaded = await ctx.commands.loadDelegation(event.stream.slice('delegation-'.length), event.revision);
  const careWorkerId = loaded?.state.context.careWorker?.practitionerId;
  if (!loaded || !careWorkerId) return;
  const framework = loaded.framework;
  const events = (await ctx.store.readStream(competencyStreamId(careWorkerId, framework.id))).filter((e) => e.position < event.position);
  const competence = replayCompetence(framework, events.map((e) => timedFromStored<CompetenceMachineEvent>(e)));
  if (isCompetenceCurrent(competence, event.metadata.occurredAt)) return;
  if (loaded.state.value !== 'active') return;
  const status = competence.value as CompetenceStatus;
  await suspend(ctx, loaded.state.context.delegationId!, changeFor(status), event, `The care worker's competence was ${status} when the delegation was activated`);
};
