import { delegationEventDefinitions, EventRegistry, type Actor, type CarePromptIssuedData, type PromptCommand, type PromptEvent, type StaffMember } from '@tandem/contracts';
import { isBefore, refuse, type Decision, type Timed } from '../machines/decider';
import { asStaff } from '../machines/people';
import type { CarePrompt } from '../rules/evaluate';

/**
 * A prompt to the care worker (stream prompt-<promptId>): issued by a rule (the hypo protocol),
 * acknowledged by the care worker, its recheck recorded or missed. Two independent things are
 * tracked (the acknowledgement and the recheck), so this is a plain decide / evolve rather than a
 * state machine: neither depends on the other, and neither has a path back.
 */

export type RecheckStatus = 'none' | 'pending' | 'recorded' | 'missed';

export interface PromptState {
  readonly prompt?: CarePromptIssuedData;
  readonly issuedAt?: string;
  readonly acknowledgedBy?: StaffMember;
  readonly acknowledgedAt?: string;
  readonly recheck: RecheckStatus;
  readonly recheckEntryId?: string;
  readonly recheckEscalationId?: string;
}

export const initialPromptState: PromptState = { recheck: 'none' };

export const evolvePrompt = (state: PromptState, event: Timed<PromptEvent>): PromptState => {
  switch (event.type) {
    case 'CarePromptIssued':
      return { ...state, prompt: event.data, issuedAt: event.occurredAt, recheck: event.data.recheck ? 'pending' : 'none' };
    case 'CarePromptAcknowledged':
      return { ...state, acknowledgedBy: event.data.by, acknowledgedAt: event.occurredAt };
    case 'RecheckRecorded':
      return { ...state, recheck: 'recorded', recheckEntryId: event.data.entryId };
    case 'RecheckMissed':
      return { ...state, recheck: 'missed', recheckEscalationId: event.data.escalationId };
  }
};

export const replayPrompt = (events: readonly Timed<PromptEvent>[]): PromptState => events.reduce(evolvePrompt, initialPromptState);

/** Open: issued, and either not yet acknowledged or its recheck still pending. */
export const isPromptOpen = (state: PromptState): boolean => state.prompt !== undefined && (state.acknowledgedBy === undefined || state.recheck === 'pending');

const registry = new EventRegistry([...delegationEventDefinitions]);
const ACKNOWLEDGING_CLINICIANS: readonly string[] = ['district-nurse', 'gp'];

const checked = (events: PromptEvent[]): Decision<PromptEvent> => {
  for (const event of events) {
    const encoded = registry.encode(event.type, event.data);
    if (!encoded.ok) {
      const issue = encoded.issues[0]!;
      return { ok: false, refusal: refuse('prompt.invalid', issue.path, `${event.type}: ${issue.path} ${issue.message}`) };
    }
  }
  return { ok: true, events };
};

/** Decides a prompt command: the events to append, or a refusal naming the field. */
export const decidePrompt = (state: PromptState, command: PromptCommand, { actor }: { actor: Actor }): Decision<PromptEvent> => {
  const { prompt } = state;
  if (command.type === 'IssueCarePrompt') {
    if (prompt) return { ok: false, refusal: refuse('prompt.not-allowed-in-state', 'promptId', `prompt ${command.promptId} was already issued`) };
    if (command.prompt.promptId !== command.promptId) return { ok: false, refusal: refuse('prompt.wrong-stream', 'prompt.promptId', `this is prompt ${command.promptId}`) };
    return checked([{ type: 'CarePromptIssued', data: command.prompt }]);
  }
  if (!prompt) return { ok: false, refusal: refuse('prompt.not-allowed-in-state', 'promptId', `no prompt ${command.promptId} was issued`) };
  if (prompt.promptId !== command.promptId) return { ok: false, refusal: refuse('prompt.wrong-stream', 'promptId', `this is prompt ${prompt.promptId}`) };
  switch (command.type) {
    case 'AcknowledgeCarePrompt':
      if (state.acknowledgedBy) {
        return { ok: false, refusal: refuse('prompt.not-allowed-in-state', 'promptId', `the prompt was already acknowledged by ${state.acknowledgedBy.practitionerId}`) };
      }
      if (actor.id !== prompt.careWorkerId && !ACKNOWLEDGING_CLINICIANS.includes(actor.role)) {
        return { ok: false, refusal: refuse('prompt.not-the-care-worker', 'actor', `only the care worker prompted (${prompt.careWorkerId}) or a nurse or GP may acknowledge it`) };
      }
      return checked([{ type: 'CarePromptAcknowledged', data: { by: asStaff(actor) } }]);
    case 'RecordRecheck':
      if (state.recheck !== 'pending') return { ok: false, refusal: refuse('prompt.not-allowed-in-state', 'entryId', `no recheck is pending (it is ${state.recheck})`) };
      if (command.entryId === prompt.recheck?.afterEntryId) return { ok: false, refusal: refuse('prompt.same-entry', 'entryId', 'the recheck is a later entry than the one that started the prompt') };
      return checked([{ type: 'RecheckRecorded', data: { entryId: command.entryId } }]);
    case 'RecheckDue': {
      const recheck = prompt.recheck;
      if (state.recheck !== 'pending' || !recheck) return { ok: false, refusal: refuse('prompt.not-allowed-in-state', 'promptId', `no recheck is pending (it is ${state.recheck})`) };
      if (isBefore(command.occurredAt, recheck.dueAt)) return { ok: false, refusal: refuse('prompt.not-yet-due', 'occurredAt', `the recheck is due at ${recheck.dueAt}`) };
      return checked([{ type: 'RecheckMissed', data: { dueAt: recheck.dueAt, escalationId: command.escalationId } }]);
    }
  }
};

/** The prompt as the rules wrote it (for missedRecheck). */
export const carePromptOf = (data: CarePromptIssuedData): CarePrompt => ({
  ruleId: data.ruleId,
  ...(data.promptKey ? { promptId: data.promptKey } : {}),
  title: data.title,
  steps: data.steps,
  ...(data.withholdActivityId ? { withholdActivityId: data.withholdActivityId } : {}),
  ...(data.recheck
    ? { recheck: { entry: data.recheck.entry, ...(data.recheck.observation ? { observation: data.recheck.observation as never } : {}), afterEntryId: data.recheck.afterEntryId, dueAt: data.recheck.dueAt } }
    : {}),
});

/** The timer the scheduler must hold for this stream: the recheck's dueAt while it is pending. */
export const promptTimer = (state: PromptState): { dueAt: string; command: PromptCommand } | undefined => {
  const { prompt } = state;
  if (!prompt?.recheck || state.recheck !== 'pending') return undefined;
  return {
    dueAt: prompt.recheck.dueAt,
    command: {
      type: 'RecheckDue',
      idempotencyKey: `prompt-${prompt.promptId}:recheck-due:${prompt.recheck.dueAt}`,
      occurredAt: prompt.recheck.dueAt,
      promptId: prompt.promptId,
      escalationId: recheckEscalationIdOf(prompt.promptId),
    },
  };
};

/** The escalation a missed recheck raises: one per prompt, named from it (a retry raises nothing twice). */
export const recheckEscalationIdOf = (promptId: string): string => `recheck-${promptId}`;
