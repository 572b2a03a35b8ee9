import { CORRECTABLE_ENTRY_TYPES, type Baseline, type PatientEvent } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import { patientStateFrom } from '@tandem/record';
import { DELEGATION_SYSTEM_ACTOR, type CommandTrace } from '../application/commands';
import { DelegationCommandRefused } from '../application/errors';
import { instructionText } from '../application/instruction';
import { careStreamOf, competencyStreamId, escalationStreamId, patientStreamOf, promptStreamId, reactionEscalationId, reactionPromptId } from '../application/streams';
import type { Framework } from '../frameworks';
import { isCompetenceCurrent, replayCompetence, timedFromStored, type CompetenceMachineEvent } from '../machines';
import { evaluateEntry, raiseEscalationCommand } from '../rules';
import { ACTIVE_STATUSES, careStreamEvent, type ReactionContext } from './context';
import type { DelegationRow } from './read-model';

/** How much of a person's record the rules read (they look back a few entries at most). */
const HISTORY = 500;
const ENTRY_TYPES: ReadonlySet<string> = new Set<string>([...CORRECTABLE_ENTRY_TYPES, 'EntryAmended']);

export const isCareEntryEvent = (event: RecordedEvent): boolean => event.stream.startsWith('care-') && ENTRY_TYPES.has(event.type);

/** Streams as they stood before the entry: a replay of the log decides exactly as the first run did. */
const before = async (ctx: ReactionContext, stream: string, position: number) => (await ctx.store.readStream(stream)).filter((e) => e.position < position);

const baselineOf = async (ctx: ReactionContext, patientId: string, position: number): Promise<Baseline | undefined> => {
  const patient = patientStateFrom((await before(ctx, patientStreamOf(patientId), position)) as unknown as PatientEvent[]);
  return patient.registered ? patient.baseline : undefined;
};

const backgroundOf = (framework: Framework, delegation: DelegationRow | undefined): string | undefined => {
  if (!delegation) return undefined;
  const activity = framework.activities.find((a) => a.id === delegation.activityId)?.title ?? delegation.activityId;
  return `${activity}: delegated to ${delegation.careWorkerId} by ${delegation.delegatedBy} (delegation ${delegation.delegationId}, ${delegation.status}). Instruction: ${instructionText(delegation.instruction)}.`;
};

/** A retried reaction whose append is already stored, or a second framework asking for the same prompt, is not an error. */
const unlessAlreadyDone = async (work: Promise<unknown>): Promise<void> => {
  try {
    await work;
  } catch (error) {
    if (error instanceof DelegationCommandRefused && error.status === 409) return;
    throw error;
  }
};

/**
 * A person's care record gained an entry: evaluate the rules of every framework the person is
 * under (a delegation has been proposed for them under it) against the record so far, and raise
 * what they ask for. Nothing is refused here: the entry is already recorded.
 *
 * - A recheck a prompt was waiting for is recorded on the prompt (its timer is cancelled).
 * - Escalations are raised on `escalation-<id>` streams named from the entry's event id and the
 *   rule, so replaying the log raises nothing twice; a rule with an escalation still open for the
 *   person is not raised again.
 * - Prompts (the hypo protocol, with its recheck timer) go to whoever recorded the entry.
 * - An activity recorded by someone without an active delegation and a current competence is an
 *   incident escalation (the rules' withoutDelegation condition), never a refusal.
 */
export const reactToCareEntry = async (ctx: ReactionContext, event: RecordedEvent): Promise<void> => {
  const patientId = event.stream.slice('care-'.length);
  const delegations = await ctx.views.delegationsForPatient(patientId);
  if (delegations.length === 0) return;
  const trace: CommandTrace = { causationId: event.id, correlationId: event.metadata.correlationId };
  const now = () => ctx.clock.now().toISOString();
  const entry = careStreamEvent(event);
  const recorder = event.metadata.actor;

  // A recheck the person was waiting for: any later entry of the kind the prompt asked for.
  const recordedType = event.type === 'EntryAmended' ? (event.data as { replacement: { type: string } }).replacement.type : event.type;
  for (const prompt of await ctx.views.pendingRechecks(patientId)) {
    if (prompt.recheck?.entry !== recordedType || prompt.recheck.afterEntryId === event.id) continue;
    await unlessAlreadyDone(
      ctx.commands.prompt({ type: 'RecordRecheck', promptId: prompt.promptId, entryId: event.id, idempotencyKey: `reaction:${event.id}:recheck:${prompt.promptId}`, occurredAt: now() }, DELEGATION_SYSTEM_ACTOR, trace),
    );
    await ctx.indexNow(promptStreamId(prompt.promptId));
  }

  const history = (await ctx.store.readStream(careStreamOf(patientId))).filter((e) => e.revision < event.revision).slice(-HISTORY).map(careStreamEvent);
  const baseline = await baselineOf(ctx, patientId, event.position);
  const open = new Set(await ctx.views.openEscalationRuleIds(patientId));
  const prompted = new Set<string>();

  for (const frameworkId of [...new Set(delegations.map((d) => d.frameworkId))]) {
    const framework = ctx.commands.frameworks.get(frameworkId);
    if (!framework) continue;
    const under = delegations.filter((d) => d.frameworkId === frameworkId);
    const recordersOwn = under.find((d) => d.careWorkerId === recorder.id && ACTIVE_STATUSES.includes(d.status));
    const relevant = recordersOwn ?? under.find((d) => ACTIVE_STATUSES.includes(d.status)) ?? under[under.length - 1];
    const competence = replayCompetence(framework, (await before(ctx, competencyStreamId(recorder.id, frameworkId), event.position)).map((e) => timedFromStored<CompetenceMachineEvent>(e)));
    const outcome = evaluateEntry(framework, {
      event: entry,
      history,
      ...(baseline ? { baseline } : {}),
      authority: { activeDelegation: recordersOwn !== undefined, currentCompetence: isCompetenceCurrent(competence, entry.occurredAt) },
      ...(backgroundOf(framework, relevant) ? { background: backgroundOf(framework, relevant)! } : {}),
      openEscalationRuleIds: [...open],
    });

    const raised = new Map<string, string>();
    for (const escalation of outcome.escalations) {
      if (open.has(escalation.ruleId)) continue;
      const escalationId = reactionEscalationId(event.id, escalation.ruleId);
      const command = raiseEscalationCommand(escalation, {
        escalationId,
        patientId,
        occurredAt: now(),
        idempotencyKey: `reaction:${event.id}:escalation:${escalation.ruleId}`,
        ...(relevant ? { delegationId: relevant.delegationId } : {}),
      });
      await unlessAlreadyDone(ctx.commands.escalation(command, DELEGATION_SYSTEM_ACTOR, trace));
      await ctx.indexNow(escalationStreamId(escalationId));
      open.add(escalation.ruleId);
      raised.set(escalation.ruleId, escalationId);
    }

    for (const prompt of outcome.prompts) {
      if (prompted.has(prompt.ruleId)) continue;
      prompted.add(prompt.ruleId);
      const promptId = reactionPromptId(event.id, prompt.ruleId);
      const escalationId = raised.get(prompt.ruleId);
      await unlessAlreadyDone(
        ctx.commands.prompt(
          {
            type: 'IssueCarePrompt',
            promptId,
            idempotencyKey: `reaction:${event.id}:prompt:${prompt.ruleId}`,
            occurredAt: now(),
            prompt: {
              promptId,
              patientId,
              frameworkId: framework.id,
              frameworkVersion: framework.version,
              ...(relevant ? { delegationId: relevant.delegationId } : {}),
              ruleId: prompt.ruleId,
              ...(prompt.promptId ? { promptKey: prompt.promptId } : {}),
              title: prompt.title,
              steps: [...prompt.steps],
              careWorkerId: recorder.id,
              triggeringEntryId: prompt.recheck?.afterEntryId ?? (event.type === 'EntryAmended' ? (event.data as { entryId: string }).entryId : event.id),
              ...(prompt.withholdActivityId ? { withholdActivityId: prompt.withholdActivityId } : {}),
              ...(prompt.recheck ? { recheck: { ...prompt.recheck } } : {}),
              ...(escalationId ? { escalationId } : {}),
            },
          },
          DELEGATION_SYSTEM_ACTOR,
          trace,
        ),
      );
      await ctx.indexNow(promptStreamId(promptId));
    }
  }
};
