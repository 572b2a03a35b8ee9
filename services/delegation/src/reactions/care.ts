import { CORRECTABLE_ENTRY_TYPES, type Baseline, type PatientEvent, type Urgency } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import { patientFactsFrom as patientStateFrom } from '@tandem/contracts';
import { DELEGATION_SYSTEM_ACTOR, type CommandTrace } from '../application/commands';
import { DelegationCommandRefused } from '../application/errors';
import { instructionText } from '../application/instruction';
import { careStreamOf, competencyStreamId, delegationStreamId, patientStreamOf, reactionEscalationId, reactionPromptId, streamOfKind } from '../application/streams';
import type { Framework, RuleSource } from '../frameworks';
import { isCompetenceCurrent, replayCompetence, replayDelegation, timedFromStored, type CompetenceMachineEvent, type DelegationMachineEvent } from '../machines';
import { evaluateEntry, moreUrgent, raiseEscalationCommand } from '../rules';
import { ACTIVE_STATUSES, careStreamEvent, type ReactionContext } from './context';
import type { DelegationRow } from './read-model';

/** How much of a person's record the rules read (they look back a few entries at most). */
const HISTORY = 500;
const ENTRY_TYPES: ReadonlySet<string> = new Set<string>([...CORRECTABLE_ENTRY_TYPES, 'EntryAmended']);

export const isCareEntryEvent = (event: RecordedEvent): boolean => ENTRY_TYPES.has(event.type) && streamOfKind(event.stream, 'care') !== undefined;

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

const wholeRecordBackground = (delegations: readonly DelegationRow[]): string =>
  delegations.length === 0
    ? 'No activity is delegated for this person: the whole-record rules (NEWS2, RESTORE2, sepsis red flags, hypoglycaemia) apply to everyone.'
    : `Delegated for this person: ${delegations.map((d) => `${d.activityId} to ${d.careWorkerId} by ${d.delegatedBy} (${d.status})`).join('; ')}.`;

/**
 * The person's delegations as they stood before the entry: the read model names them (and may
 * already be further on: a replay), each one's stream says what it was then.
 */
const delegationsAsTheyStood = async (ctx: ReactionContext, patientId: string, position: number): Promise<DelegationRow[]> => {
  const rows: DelegationRow[] = [];
  for (const row of await ctx.views.delegationsForPatient(patientId)) {
    const framework = ctx.commands.frameworks.get(row.frameworkId);
    const events = await before(ctx, delegationStreamId(row.delegationId), position);
    if (!framework || events.length === 0) continue;
    const { value, context } = replayDelegation(framework, events.map((e) => timedFromStored<DelegationMachineEvent>(e)));
    rows.push({ ...row, status: String(value), ...(context.instruction ? { instruction: context.instruction } : {}) });
  }
  return rows;
};

interface Evaluated {
  readonly ruleset: RuleSource;
  readonly relevant: DelegationRow | undefined;
  readonly authority?: { activeDelegation: boolean; currentCompetence: boolean };
  readonly background?: string;
}

/**
 * A person's care record gained an entry: evaluate the rules of every framework the person is
 * under (a delegation has been proposed for them under it), then the whole-record rules (NEWS2,
 * RESTORE2, sepsis red flags, hypoglycaemia) that apply to everyone whose record Tandem holds,
 * against the record so far, and raise what they ask for. Nothing is refused here: the entry is
 * already recorded.
 *
 * - One escalation per finding: a rule one ruleset found (a framework spreading the NEWS2 rules)
 *   is not raised again by the next, nor a whole-record rule a framework rule `covers`
 *   (insulin.hypo and hypoglycaemia.below-4); and once an entry's deterioration is raised, a
 *   later ruleset raises another for it only when it finds it more urgent.
 * - A recheck a prompt was waiting for is recorded on the prompt (its timer is cancelled).
 * - Escalations are raised on `escalation-<id>` streams named from the entry's event id and the
 *   rule (reactionEscalationId), so replaying the log raises nothing twice; a rule with an
 *   escalation still open for the person is not raised again. Who each tier reaches is decided
 *   from the streams as they stood before the entry.
 * - Prompts (the hypo protocol, with its recheck timer) go to whoever recorded the entry.
 * - An activity recorded by someone without an active delegation and a current competence is an
 *   incident escalation (the rules' withoutDelegation condition), never a refusal.
 */
export const reactToCareEntry = async (ctx: ReactionContext, event: RecordedEvent): Promise<void> => {
  const patientId = streamOfKind(event.stream, 'care')?.patientId;
  if (patientId === undefined) return;
  // Which delegations the person has comes from the read model (no stream lists them by person),
  // what each was at the entry from its stream; a delegation proposed in the same instant as the
  // entry may be missed, the whole-record rules never are.
  const delegations = await delegationsAsTheyStood(ctx, patientId, event.position);
  const trace: CommandTrace = { causationId: event.id, correlationId: event.metadata.correlationId };
  const now = () => ctx.clock.now().toISOString();
  const entry = careStreamEvent(event);
  const recorder = event.metadata.actor;

  const earlier = (await ctx.store.readStream(careStreamOf(patientId))).filter((e) => e.revision < event.revision);
  const earlierIds = new Set(earlier.map((e) => e.id));

  // A recheck the person was waiting for: any later entry of the kind the prompt asked for. Only a
  // prompt about an earlier entry: the read model may already hold prompts a replay has not reached.
  const recordedType = event.type === 'EntryAmended' ? (event.data as { replacement: { type: string } }).replacement.type : event.type;
  for (const prompt of await ctx.views.pendingRechecks(patientId)) {
    if (prompt.recheck?.entry !== recordedType || prompt.recheck.afterEntryId === event.id || !earlierIds.has(prompt.recheck.afterEntryId)) continue;
    await unlessAlreadyDone(
      ctx.commands.prompt({ type: 'RecordRecheck', promptId: prompt.promptId, entryId: event.id, idempotencyKey: `reaction:${event.id}:recheck:${prompt.promptId}`, occurredAt: now() }, DELEGATION_SYSTEM_ACTOR, trace),
    );
  }

  const history = earlier.slice(-HISTORY).map(careStreamEvent);
  const baseline = await baselineOf(ctx, patientId, event.position);
  const open = new Set(await ctx.views.openEscalationRuleIds(patientId, event.position));
  const prompted = new Set<string>();
  /** Rules already found for this entry by an earlier ruleset, and the whole-record rules they stand for. */
  const covered = new Set<string>();
  /** The urgency of the deterioration an earlier ruleset raised for this entry: a later one raises only a more urgent finding. */
  let deterioration: Urgency | undefined;

  const evaluations: Evaluated[] = [];
  for (const frameworkId of [...new Set(delegations.map((d) => d.frameworkId))]) {
    const framework = ctx.commands.frameworks.get(frameworkId);
    if (!framework) continue;
    const under = delegations.filter((d) => d.frameworkId === frameworkId);
    const recordersOwn = under.find((d) => d.careWorkerId === recorder.id && ACTIVE_STATUSES.includes(d.status));
    const relevant = recordersOwn ?? under.find((d) => ACTIVE_STATUSES.includes(d.status)) ?? under[under.length - 1];
    const competence = replayCompetence(framework, (await before(ctx, competencyStreamId(recorder.id, frameworkId), event.position)).map((e) => timedFromStored<CompetenceMachineEvent>(e)));
    const background = backgroundOf(framework, relevant);
    evaluations.push({
      ruleset: framework,
      relevant,
      authority: { activeDelegation: recordersOwn !== undefined, currentCompetence: isCompetenceCurrent(competence, entry.occurredAt) },
      ...(background ? { background } : {}),
    });
  }
  // Last, so a framework's own version of a finding (with its delegation and prompts) goes first.
  const active = delegations.filter((d) => ACTIVE_STATUSES.includes(d.status));
  evaluations.push({
    ruleset: ctx.commands.frameworks.wholeRecord,
    relevant: active.find((d) => d.careWorkerId === recorder.id) ?? active[0],
    background: wholeRecordBackground(delegations),
  });

  for (const { ruleset, relevant, authority, background } of evaluations) {
    const outcome = evaluateEntry(ruleset, {
      event: entry,
      history,
      ...(baseline ? { baseline } : {}),
      ...(authority ? { authority } : {}),
      ...(background ? { background } : {}),
      openEscalationRuleIds: [...open, ...covered],
    });
    const skipped = new Set(covered);
    for (const fired of outcome.fired) {
      covered.add(fired.ruleId);
      for (const also of ruleset.rules.find((r) => r.id === fired.ruleId)?.covers ?? []) covered.add(also);
    }

    const raised = new Map<string, string>();
    for (const escalation of outcome.escalations) {
      if (open.has(escalation.ruleId) || skipped.has(escalation.ruleId)) continue;
      const isDeterioration = !escalation.incident && !escalation.ruleId.startsWith('monitoring.');
      if (isDeterioration && deterioration !== undefined && !moreUrgent(escalation.urgency, deterioration)) continue;
      if (isDeterioration) deterioration = escalation.urgency;
      const escalationId = reactionEscalationId(event.id, escalation.ruleId);
      const command = raiseEscalationCommand(escalation, {
        escalationId,
        patientId,
        occurredAt: now(),
        idempotencyKey: `reaction:${event.id}:escalation:${escalation.ruleId}`,
        ...(relevant ? { delegationId: relevant.delegationId } : {}),
      });
      await unlessAlreadyDone(ctx.commands.escalation(command, DELEGATION_SYSTEM_ACTOR, trace, { before: event.position }));
      open.add(escalation.ruleId);
      raised.set(escalation.ruleId, escalationId);
    }

    for (const prompt of outcome.prompts) {
      if (prompted.has(prompt.ruleId) || skipped.has(prompt.ruleId)) continue;
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
              frameworkId: ruleset.id,
              frameworkVersion: ruleset.version,
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
    }
  }
};
