import { escalationTimer } from '../../src/machines';
import { evaluateEntry, missedMonitoring, monitoringDue } from '../../src/rules';
import { ben, drShah, FakeClock, MRS_PATEL, nadia, scheduler, urinaryScreen, uti, vitals } from '../fixtures';
import { delegateAndActivate, escalationCommand, raise, trainAndSignOff } from '../stories';

/**
 * Mrs Patel, 84, may have a urinary tract infection. Nadia trains Ben on the UKHSA signs (no
 * dipsticks at 65 and over), observes two screens, signs him off, and delegates the daily screen,
 * vital signs and fluid chart; Mrs Patel's daughter agrees on her behalf. One sign: Ben is prompted
 * to think PINCH ME and encourage drinks. Two signs: urgent, to the nurse. Rigors: an emergency,
 * straight to 999 advice with the nurse informed.
 */
describe('a suspected UTI in Mrs Patel, 84, watched by Ben', () => {
  const clock = new FakeClock('2025-05-12T09:00:00Z');
  const competence = trainAndSignOff(clock, ben, uti, nadia);
  const delegation = delegateAndActivate(clock, {
    delegationId: 'patel-uti',
    framework: uti,
    patientId: MRS_PATEL,
    careWorker: ben,
    nurse: nadia,
    competence,
    instruction: { kind: 'general', plan: 'Screen urinary signs daily at 10:00, vital signs daily, fluid chart; encourage 6-8 cups a day.', times: ['10:00'] },
    eligibility: { ageYears: 84 },
  });
  const activatedAt = clock.now();

  it('two supervised screens (the LOCAL default for this framework) before sign-off', () => {
    expect(competence.events.filter((e) => e.type === 'SupervisedPracticeRecorded')).toHaveLength(2);
    expect(delegation.state.value).toBe('active');
  });

  it('day 1, one sign (new incontinence): no escalation; Ben is prompted to look for other causes and encourage drinks', () => {
    clock.at('10:00');
    const outcome = evaluateEntry(uti, { event: urinaryScreen(MRS_PATEL, clock.now(), { newIncontinence: true }), history: [] });
    expect(outcome.escalations).toEqual([]);
    expect(outcome.prompts.map((p) => p.promptId)).toEqual(['pinch-me']);
    expect(outcome.prompts[0]!.steps).toContain('Encourage drinks: aim for 6 cups a day, and record them on the fluid chart.');
    expect(outcome.prompts[0]!.steps).toContain('Count "temperature raised" only when 1.5 C above the person\'s normal twice within 12 hours.');
  });

  it('day 2, new frequency and worse delirium: two UKHSA signs, urgent to the nurse; Nadia acknowledges in time and resolves', () => {
    clock.advance({ days: 1 });
    const screen = urinaryScreen(MRS_PATEL, clock.now(), { newFrequencyOrUrgency: true, newOrWorseDelirium: true });
    const outcome = evaluateEntry(uti, { event: screen, history: [], background: 'Mrs Patel, 84, lives alone with daily visits.' });
    expect(outcome.escalations.map((e) => [e.ruleId, e.urgency])).toEqual([['uti.two-or-more-signs', 'urgent']]);
    expect(outcome.escalations[0]!.sbard.assessment).toBe('new frequency or urgency, new or worse delirium.');

    const { stream } = raise(clock, uti, outcome.escalations[0]!, MRS_PATEL, 'esc-patel-1', 'patel-uti');
    expect(stream.last('EscalationSentToTier')).toMatchObject({ tier: 0, dueAt: '2025-05-15T10:30:00.000Z' });
    clock.advance({ minutes: 12 });
    stream.ok(nadia, escalationCommand(clock, 'esc-patel-1', { type: 'AcknowledgeEscalation' }));
    // the deadline timer is gone: nothing to re-escalate
    expect(escalationTimer(stream.state)).toBeUndefined();
    expect(stream.refused(scheduler, escalationCommand(clock, 'esc-patel-1', { type: 'EscalationDeadlinePassed' })).code).toBe('escalation.not-allowed-in-state');
    stream.ok(drShah, escalationCommand(clock, 'esc-patel-1', { type: 'ResolveEscalation', outcome: 'GP visit today; clinical assessment, no dipstick.' }));
    expect(stream.state.value).toBe('resolved');
  });

  it('a care worker may acknowledge the 999 advice but only a registered professional resolves', () => {
    clock.advance({ hours: 5 });
    const screen = urinaryScreen(MRS_PATEL, clock.now(), { newDysuria: true }, { rigors: true });
    const outcome = evaluateEntry(uti, { event: screen, history: [] });
    // the most urgent rule raises the escalation; the others are named in its assessment
    expect(outcome.escalations.map((e) => [e.ruleId, e.urgency])).toEqual([['uti.sepsis-or-pyelonephritis', 'emergency']]);
    expect(outcome.escalations[0]!.sbard.assessment).toBe('rigors. Also: New dysuria: new dysuria.');

    const { stream, types } = raise(clock, uti, outcome.escalations[0]!, MRS_PATEL, 'esc-patel-2', 'patel-uti');
    expect(types).toEqual(['EscalationRaised', 'EscalationSentToTier']);
    expect(stream.last('EscalationSentToTier')).toEqual({
      tier: 2,
      tierId: 'nhs-111-999-advice',
      recipient: 'care-worker',
      dueAt: null,
      informed: ['accountable-district-nurse'],
      advice: 'Call 999 now. Stay with the person. The accountable nurse has been informed.',
    });
    // no tier beyond the last: it is told again in 30 minutes unless someone acknowledges, never before
    expect(escalationTimer(stream.state)).toMatchObject({ dueAt: '2025-05-15T15:42:00.000Z' });
    expect(stream.refused(scheduler, escalationCommand(clock, 'esc-patel-2', { type: 'EscalationDeadlinePassed' }))).toMatchObject({
      code: 'escalation.not-yet-due',
    });
    stream.ok(ben, escalationCommand(clock, 'esc-patel-2', { type: 'AcknowledgeEscalation', note: '999 called at 15:07' }));
    expect(stream.refused(ben, escalationCommand(clock, 'esc-patel-2', { type: 'ResolveEscalation', outcome: 'Ambulance came' }))).toMatchObject({
      code: 'escalation.resolver.role-not-allowed',
    });
    stream.ok(nadia, escalationCommand(clock, 'esc-patel-2', { type: 'ResolveEscalation', outcome: 'Admitted with pyelonephritis.' }));
  });

  it('NEWS2 applies in this framework too: 7 or more is an emergency', () => {
    const outcome = evaluateEntry(uti, { event: vitals(MRS_PATEL, clock.now(), 7), history: [] });
    expect(outcome.escalations.map((e) => [e.ruleId, e.urgency])).toEqual([['news2.high', 'emergency']]);
  });

  it('a daily screen not recorded by its deadline (plus the grace) is escalated as missed', () => {
    const screen = urinaryScreen(MRS_PATEL, '2025-05-20T10:00:00Z');
    const due = monitoringDue(uti, [screen], activatedAt).find((d) => d.monitoringId === 'urinary-symptom-screen')!;
    expect(due).toMatchObject({ lastRecordedAt: '2025-05-20T10:00:00Z', dueAt: '2025-05-21T10:00:00.000Z', missedAt: '2025-05-21T12:00:00.000Z' });
    const before = missedMonitoring(uti, { events: [screen], since: activatedAt, now: '2025-05-21T11:59:00Z' });
    expect(before.map((e) => e.ruleId)).not.toContain('monitoring.urinary-symptom-screen.missed');
    const after = missedMonitoring(uti, { events: [screen], since: activatedAt, now: '2025-05-21T12:00:00Z' });
    expect(after.map((e) => e.ruleId)).toContain('monitoring.urinary-symptom-screen.missed');
  });
});
