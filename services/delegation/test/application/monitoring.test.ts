import { amira, Harness, key, sarah } from './harness';

/**
 * Missed monitoring: a repeating check a framework asks for (cellulitis: the marked area daily)
 * not recorded by its deadline raises an escalation, fired by the scheduler at the dueAt the
 * entries and the activation give, once; a check recorded in time moves the deadline on.
 */
describe('missed monitoring', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.create('2025-03-03T09:00:00Z');
    await h.trainAndSignOff(amira, sarah, 'cellulitis-eron-1');
    const { commands } = h.core;
    const at = () => ({ idempotencyKey: key('cellulitis'), occurredAt: h.now(), delegationId: 'jones-leg-cellulitis' });
    await commands.delegation(
      {
        ...at(),
        type: 'ProposeDelegation',
        patientId: h.patientId,
        frameworkId: 'cellulitis-eron-1',
        activityId: 'cellulitis-check',
        careWorker: { practitionerId: amira.id, role: 'care-worker' },
        instruction: { kind: 'general', plan: 'Check the marked area on the left shin, temperature and pain, every morning; keep the leg raised.', times: ['09:30'] },
        eligibility: { eronClass: 1, borderMarked: true },
      },
      sarah,
    );
    await commands.delegation({ ...at(), type: 'AcceptDelegation' }, amira);
    await commands.delegation({ ...at(), type: 'RecordPersonAgreement', agreement: { agreedBy: 'person' } }, sarah);
    await commands.activate(at(), sarah);
    await h.settle();
  });
  afterAll(() => h.close());

  const checkTimers = async () => (await h.core.views.timers({ pending: true })).filter((t) => t.kind === 'monitoring');

  it('the daily check and daily vital signs are due a day after activation, plus the grace', async () => {
    const timers = await checkTimers();
    expect(timers.map((t) => t.stream).sort()).toEqual(['monitoring-jones-leg-cellulitis-cellulitis-daily-check', 'monitoring-jones-leg-cellulitis-vital-signs']);
    expect(new Set(timers.map((t) => t.dueAt)).size).toBe(1);
  });

  it('a check recorded in time moves its deadline on a day', async () => {
    const [before] = (await checkTimers()).filter((t) => t.stream.endsWith('daily-check'));
    h.clock.set('2025-03-04T08:30:00Z');
    await h.given.entry(
      'CellulitisChecked',
      { patientId: h.patientId, markedLineDrawn: true, rednessBeyondMarkedLine: false, pain: 3, temperatureC: 37.1, limbElevated: true, skinToneLimitsAssessment: false },
      amira,
      'CheckCellulitis',
    );
    await h.settle();
    const [after] = (await checkTimers()).filter((t) => t.stream.endsWith('daily-check'));
    expect(Date.parse(after!.dueAt) - Date.parse(before!.dueAt)).toBeGreaterThan(20 * 60 * 60_000);
  });

  it('nothing recorded by the deadline: the scheduler raises an escalation for each missed check, once', async () => {
    const due = (await checkTimers()).map((t) => t.dueAt).sort();
    h.clock.set(due[0]!);
    const fired = await h.core.scheduler.runDue();
    expect(fired.map((f) => f.outcome)).toEqual([expect.stringMatching(/^EscalationRaised, EscalationSentToTier on escalation-/)]);
    await h.settle();
    const escalations = await h.core.views.escalations({ patientId: h.patientId, open: true });
    expect(escalations.map((e) => [e.ruleId, e.urgency])).toEqual([['monitoring.vital-signs.missed', 'routine']]);
    h.clock.set(due[1]!);
    await h.core.scheduler.runDue();
    await h.settle();
    expect((await h.core.views.escalations({ patientId: h.patientId, open: true })).map((e) => e.ruleId).sort()).toEqual(['monitoring.cellulitis-daily-check.missed', 'monitoring.vital-signs.missed']);
    expect(await h.core.scheduler.runDue()).toEqual([]);
  });
});
