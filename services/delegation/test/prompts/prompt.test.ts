import type { CarePromptIssuedData, PromptCommand, PromptEvent } from '@tandem/contracts';
import { specification } from '@tandem/commands';
import type { Timed } from '../../src/machines/decider';
import { decidePrompt, evolvePrompt, initialPromptState, isPromptOpen, promptTimer, recheckEscalationIdOf, type PromptState } from '../../src/prompts';
import { amira, ben, eventId, MR_JONES, nadia } from '../fixtures';

const afterEntryId = eventId();
const issued: CarePromptIssuedData = {
  promptId: 'prompt-1',
  patientId: MR_JONES,
  frameworkId: 'insulin-administration',
  frameworkVersion: 1,
  ruleId: 'insulin.hypo',
  promptKey: 'hypo-protocol',
  title: 'Hypoglycaemia: blood glucose below 4.0 mmol/L',
  steps: ['Do not give insulin now: the nurse will advise on this dose.', 'Recheck blood glucose in 15 minutes and record it.'],
  careWorkerId: amira.id,
  triggeringEntryId: afterEntryId,
  withholdActivityId: 'insulin-administration',
  recheck: { entry: 'BloodGlucoseRecorded', observation: 'glucose', afterEntryId, dueAt: '2025-03-03T18:00:00.000Z' },
};

const run = (state: PromptState, command: PromptCommand, actor = amira) => {
  const decision = decidePrompt(state, command, { actor });
  if (!decision.ok) return { state, decision };
  return { state: decision.events.reduce((s, e) => evolvePrompt(s, { ...e, occurredAt: command.occurredAt } as Timed<PromptEvent>), state), decision };
};
const base = { promptId: 'prompt-1', idempotencyKey: 'k', occurredAt: '2025-03-03T17:46:00Z' };

/** The hypo protocol prompt: issued once, acknowledged once, its recheck recorded or missed at its dueAt (the scheduler's timer). */
describe('a prompt to the care worker', () => {
  const open = run(initialPromptState, { ...base, type: 'IssueCarePrompt', prompt: issued }).state;

  it('is open with a recheck timer until both the acknowledgement and the recheck are in', () => {
    expect(isPromptOpen(open)).toBe(true);
    expect(promptTimer(open)).toMatchObject({ dueAt: '2025-03-03T18:00:00.000Z', command: { type: 'RecheckDue', escalationId: recheckEscalationIdOf('prompt-1') } });
    const acknowledged = run(open, { ...base, type: 'AcknowledgeCarePrompt' }).state;
    expect(isPromptOpen(acknowledged)).toBe(true);
    const rechecked = run(acknowledged, { ...base, type: 'RecordRecheck', entryId: eventId() }).state;
    expect(isPromptOpen(rechecked)).toBe(false);
    expect(promptTimer(rechecked)).toBeUndefined();
  });

  it('refuses, with a reason, what its state does not allow', () => {
    expect(run(open, { ...base, type: 'IssueCarePrompt', prompt: issued }).decision).toMatchObject({ ok: false, refusal: { code: 'prompt.not-allowed-in-state' } });
    expect(run(open, { ...base, type: 'AcknowledgeCarePrompt' }, ben).decision).toMatchObject({ ok: false, refusal: { code: 'prompt.not-the-care-worker', field: 'actor' } });
    expect(run(open, { ...base, type: 'AcknowledgeCarePrompt' }, nadia).decision.ok).toBe(true);
    expect(run(open, { ...base, type: 'RecordRecheck', entryId: afterEntryId }).decision).toMatchObject({ ok: false, refusal: { code: 'prompt.same-entry', field: 'entryId' } });
    expect(run(open, { ...base, type: 'RecheckDue', escalationId: 'e', occurredAt: '2025-03-03T17:59:00Z' }).decision).toMatchObject({ ok: false, refusal: { code: 'prompt.not-yet-due' } });
    expect(run(initialPromptState, { ...base, type: 'AcknowledgeCarePrompt' }).decision).toMatchObject({ ok: false, refusal: { code: 'prompt.not-allowed-in-state' } });
  });

  it('records a missed recheck at its dueAt, once', () => {
    const missed = run(open, { ...base, type: 'RecheckDue', escalationId: 'recheck-prompt-1', occurredAt: '2025-03-03T18:00:00Z' });
    expect(missed.decision).toMatchObject({ ok: true, events: [{ type: 'RecheckMissed', data: { dueAt: '2025-03-03T18:00:00.000Z', escalationId: 'recheck-prompt-1' } }] });
    expect(missed.state.recheck).toBe('missed');
    expect(run(missed.state, { ...base, type: 'RecheckDue', escalationId: 'recheck-prompt-1', occurredAt: '2025-03-03T18:01:00Z' }).decision.ok).toBe(false);
  });
});

/** The same decider specified with the given / when / then every service's tests share (@tandem/commands). */
describe('a prompt, given its events', () => {
  const { given } = specification<PromptState, Timed<PromptEvent>>(evolvePrompt, initialPromptState);
  const wasIssued = { type: 'CarePromptIssued', data: issued, occurredAt: '2025-03-03T17:45:00Z' } as Timed<PromptEvent>;
  const decide = (command: PromptCommand, actor = amira) => (state: PromptState) => decidePrompt(state, command, { actor });

  it('given it was issued, when the care worker acknowledges it, then CarePromptAcknowledged', () =>
    given(wasIssued).when(decide({ ...base, type: 'AcknowledgeCarePrompt' })).then(['CarePromptAcknowledged']));

  it('given it was issued, when another care worker acknowledges it, then refused naming the actor', () =>
    given(wasIssued).when(decide({ ...base, type: 'AcknowledgeCarePrompt' }, ben)).thenRefused('prompt.not-the-care-worker', 'actor'));

  it('given nothing, when acknowledged, then refused: there is no prompt to acknowledge', () =>
    given().when(decide({ ...base, type: 'AcknowledgeCarePrompt' })).thenRefused('prompt.not-allowed-in-state'));
});
