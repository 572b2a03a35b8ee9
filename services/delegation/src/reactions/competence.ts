import type { CompetenceReinstatedData, CompetenceStatus, DelegationCommand, RecordedMetadata, RegisteredProfessional } from '@tandem/contracts';
import type { EventStore, RecordedEvent } from '@tandem/event-store';
import { DELEGATION_SYSTEM_ACTOR, type DelegationCommands } from '../application/commands';
import { DelegationCommandRefused } from '../application/errors';
import { competencyStreamId, delegationStreamId, streamOfKind } from '../application/streams';
import {
  competenceSnapshotOf,
  decideDelegation,
  isBefore,
  isCompetenceCurrent,
  replayCompetence,
  replayDelegation,
  timedFromStored,
  type CompetenceMachineEvent,
  type DelegationMachineEvent,
} from '../machines';
import type { DelegationViews } from './read-model';
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

/** The framework a competency stream is for (its name says). */
const frameworkOfStream = (ctx: Pick<ReactionContext, 'commands'>, stream: string): string => {
  const frameworkId = streamOfKind(stream, 'competency')?.frameworkId;
  const framework = frameworkId === undefined ? undefined : ctx.commands.frameworks.get(frameworkId);
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
  const delegationId = streamOfKind(event.stream, 'delegation')?.delegationId;
  const loaded = delegationId === undefined ? undefined : await ctx.commands.loadDelegation(delegationId, event.revision);
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

// ---------------------------------------------------------------------------------------------
// Reinstatement: the delegations a suspension suspended are restored
// ---------------------------------------------------------------------------------------------

/** A delegation the reinstatement could not restore, and why (it needs a nurse to reactivate it). */
export interface DelegationToReactivate {
  readonly delegationId: string;
  readonly patientId: string;
  readonly reason: string;
}

/** What reinstating a competence does to the delegations its suspension suspended. */
export interface RestorationPlan {
  /** Restored at once by the service (RestoreDelegationAfterCompetence), each with its command. */
  readonly restore: readonly { readonly delegationId: string; readonly patientId: string; readonly command: Extract<DelegationCommand, { type: 'RestoreDelegationAfterCompetence' }> }[];
  /** Suspended by that suspension but not restorable now: a nurse must review and reactivate them. */
  readonly needReactivating: readonly DelegationToReactivate[];
}

/**
 * Which delegations a CompetenceReinstated restores, decided from the delegation streams up to
 * this reinstatement's own restoring (so the reaction and the reinstatement's answer agree,
 * whichever runs first): the
 * delegations of this care worker under this framework that are suspended, and whose latest
 * suspension was caused by the CompetenceSuspended this reinstatement lifts (its causation id).
 * A delegation suspended for another reason (a nurse's decision, an earlier lapse) is not touched.
 * Each is restored with its review date unchanged; one whose review fell due meanwhile, or that
 * the machine would not reactivate, is listed with the reason instead. The read model only names
 * the candidates; every decision is taken on their streams.
 */
export const restorationsFor = async (
  deps: { readonly store: EventStore; readonly commands: DelegationCommands; readonly views: DelegationViews },
  reinstated: RecordedEvent,
): Promise<RestorationPlan> => {
  if (reinstated.type !== 'CompetenceReinstated') return { restore: [], needReactivating: [] };
  const framework = deps.commands.framework(frameworkOfStream(deps, reinstated.stream));
  const competencyEvents = (await deps.store.readStream(reinstated.stream)).filter((e) => e.revision <= reinstated.revision);
  const suspension = [...competencyEvents].reverse().find((e) => e.type === 'CompetenceSuspended');
  const competence = replayCompetence(framework, competencyEvents.map((e) => timedFromStored<CompetenceMachineEvent>(e)));
  const snapshot = competenceSnapshotOf(competence);
  const careWorkerId = competence.context.careWorker?.practitionerId;
  if (!suspension || !snapshot || !careWorkerId) return { restore: [], needReactivating: [] };
  const reinstatedBy = (reinstated.data as CompetenceReinstatedData).by as RegisteredProfessional;
  const at = reinstated.metadata.occurredAt;

  const restore: RestorationPlan['restore'][number][] = [];
  const needReactivating: DelegationToReactivate[] = [];
  for (const candidate of await deps.views.delegationsForCareWorker(careWorkerId, framework.id)) {
    // The stream up to this reinstatement's own restoring (if it ran already): the plan is the same before and after.
    const stored = await deps.store.readStream(delegationStreamId(candidate.delegationId));
    const restoredAt = stored.findIndex((e) => e.metadata.causationId === reinstated.id);
    const events = restoredAt === -1 ? stored : stored.slice(0, restoredAt);
    const state = replayDelegation(framework, events.map((e) => timedFromStored<DelegationMachineEvent>(e)));
    if (state.value !== 'suspended') continue;
    const lastSuspension = [...events].reverse().find((e) => e.type === 'DelegationSuspended');
    if (lastSuspension?.metadata.causationId !== suspension.id) continue;
    const { delegationId, patientId, reviewDueAt } = state.context;
    if (!delegationId || !patientId) continue;
    if (!reviewDueAt || !isBefore(at, reviewDueAt)) {
      needReactivating.push({
        delegationId,
        patientId,
        reason: `Its review fell due at ${reviewDueAt ?? 'an unknown time'} while it was suspended: review it, then activate it again`,
      });
      continue;
    }
    const command = {
      type: 'RestoreDelegationAfterCompetence' as const,
      delegationId,
      reinstatedBy,
      competence: snapshot,
      reviewDueAt,
      idempotencyKey: `reaction:${reinstated.id}:restore:${delegationId}`,
      occurredAt: at,
    };
    const decision = decideDelegation(state, command, { actor: DELEGATION_SYSTEM_ACTOR });
    if (decision.ok) restore.push({ delegationId, patientId, command });
    else needReactivating.push({ delegationId, patientId, reason: `It cannot be restored as it stands (${decision.refusal.reason}): activate it again` });
  }
  return { restore, needReactivating };
};

/**
 * A competence was reinstated: every delegation its suspension suspended is active again (the
 * plan above), in the name of the professional who reinstated it. What cannot be restored stays
 * suspended and is named in the reinstatement's answer.
 */
export const reactToReinstatement = async (ctx: ReactionContext, event: RecordedEvent): Promise<void> => {
  if (event.type !== 'CompetenceReinstated') return;
  const plan = await restorationsFor(ctx, event);
  const metadata: RecordedMetadata = event.metadata;
  for (const { command } of plan.restore) {
    try {
      await ctx.commands.delegation(command, DELEGATION_SYSTEM_ACTOR, { causationId: event.id, correlationId: metadata.correlationId });
    } catch (error) {
      // Withdrawn or ended in the meantime: nothing left to restore.
      if (!(error instanceof DelegationCommandRefused)) throw error;
    }
  }
};
