import { escalationStreamId, promptStreamId, reactionEscalationId, reactionPromptId } from '../../src/application/streams';
import { recheckEscalationIdOf } from '../../src/prompts';
import { amira, Harness, key, sarah } from './harness';

/**
 * Timers with a fake clock: every deadline is a dueAt in an event, kept in the timers table, fired
 * once as a command when the clock reaches it, including after a restart between scheduling and
 * firing (and between firing and marking the timer fired).
 */
describe('the scheduler', () => {
  let h: Harness;
  let escalationId: string;
  let promptId: string;

  beforeAll(async () => {
    h = await Harness.create('2025-03-03T09:00:00Z');
    await h.trainAndSignOff(amira);
    await h.delegateInsulin('jones-evening-insulin');
    h.clock.set('2025-03-03T17:45:00Z');
    const low = await h.glucose(3.4);
    await h.settle();
    escalationId = reactionEscalationId(low.eventIds[0]!, 'insulin.hypo');
    promptId = reactionPromptId(low.eventIds[0]!, 'insulin.hypo');
  });
  afterAll(() => h.close());

  it('fires nothing before a timer is due', async () => {
    h.clock.set('2025-03-03T17:59:59Z');
    expect(await h.core.scheduler.runDue()).toEqual([]);
  });

  it('survives a restart between scheduling and firing: the recheck not done by 18:00 raises an escalation, once', async () => {
    await h.restart();
    h.clock.set('2025-03-03T18:00:00Z');
    const fired = await h.core.scheduler.runDue();
    expect(fired.map((f) => [f.kind, f.dueAt])).toEqual([['prompt', '2025-03-03T18:00:00.000Z']]);
    expect((await h.eventsOf(promptStreamId(promptId))).map((e) => e.type)).toEqual(['CarePromptIssued', 'RecheckMissed']);
    const missed = await h.eventsOf(escalationStreamId(recheckEscalationIdOf(promptId)));
    expect(missed[0]!.data).toMatchObject({ ruleId: 'insulin.hypo.recheck-missed', urgency: 'urgent', triggeringEntryIds: [expect.any(String)] });
    expect(await h.core.scheduler.runDue()).toEqual([]);
  });

  it('nobody acknowledges the hypo for 30 minutes: at 18:15 it goes to the on-call nurse or GP, exactly once', async () => {
    h.clock.set('2025-03-03T18:15:00Z');
    const fired = await h.core.scheduler.runDue();
    expect(fired.filter((f) => f.stream === escalationStreamId(escalationId)).map((f) => f.outcome)).toEqual(['EscalationReEscalated, EscalationSentToTier']);
    const events = await h.eventsOf(escalationStreamId(escalationId));
    expect(events.map((e) => e.type)).toEqual(['EscalationRaised', 'EscalationSentToTier', 'EscalationReEscalated', 'EscalationSentToTier']);
    expect(events[3]!.data).toMatchObject({ tier: 1, recipient: 'on-call-nurse-or-gp', dueAt: '2025-03-03T18:45:00.000Z' });
    expect(await h.core.scheduler.runDue()).toEqual([]);
  });

  it('a timer fired but not marked (a crash in between) fires again as a replay: nothing is stored twice', async () => {
    // Only this test fires timers (not the scheduler's own look when the read model moves on).
    await h.core.scheduler.stop();
    h.clock.set('2025-03-03T18:45:00Z');
    const [timer] = await h.readModels.query<{ timer_id: string; command: { type: 'EscalationDeadlinePassed'; escalationId: string; idempotencyKey: string; occurredAt: string } }>(
      "select t.timer_id, t.command from delegation_timers t where kind = 'escalation' and stream = $1 and not exists (select 1 from delegation_timer_firings f where f.timer_id = t.timer_id)",
      [escalationStreamId(escalationId)],
    );
    // the command was appended, then the process died before the firing was recorded (and before
    // the projection saw the new events)
    // (the missed recheck's own escalation is acknowledged first, so this timer is the only one due)
    await h.core.commands.escalation({ type: 'AcknowledgeEscalation', escalationId: recheckEscalationIdOf(promptId), idempotencyKey: key(), occurredAt: h.now() }, sarah);
    await h.settle();
    await h.core.processor.stop();
    await h.core.runner!.stop();
    await h.core.commands.escalation(timer!.command, { id: 'tandem-delegation', role: 'system' });
    const before = (await h.eventsOf(escalationStreamId(escalationId))).length;
    const fired = await h.core.scheduler.runDue();
    expect(fired.map((f) => [f.timerId, f.outcome])).toEqual([[timer!.timer_id, 'replayed']]);
    await h.restart();
    await h.settle();
    expect(await h.core.scheduler.runDue()).toEqual([]);
    // the last tier (NHS 111 / 999 advice to the care worker) has no deadline: no further timer
    expect((await h.eventsOf(escalationStreamId(escalationId))).length).toBe(before);
    expect((await h.eventsOf(escalationStreamId(escalationId))).at(-1)!.data).toMatchObject({ tier: 2, recipient: 'care-worker', dueAt: null });
  });

  it('an acknowledged escalation has no timer left; acknowledging at the last tier is open to the care worker', async () => {
    await h.core.commands.escalation({ type: 'AcknowledgeEscalation', escalationId, idempotencyKey: key(), occurredAt: h.now(), note: 'Called 111' }, amira);
    await h.settle();
    expect((await h.core.views.timers({ pending: true })).filter((t) => t.stream === escalationStreamId(escalationId))).toEqual([]);
    await h.core.commands.escalation({ type: 'ResolveEscalation', escalationId, idempotencyKey: key(), occurredAt: h.now(), outcome: 'Glucose 5.8 after treatment; dose reduced to 6 units' }, sarah);
    await h.settle();
    expect((await h.core.views.escalation(escalationId))!.open).toBe(false);
  });

  it("a competence lapses at its validUntil: the scheduler's EXPIRE fires and every dependent delegation is suspended", async () => {
    const [competence] = await h.core.views.competences(amira.id);
    expect(competence!.validUntil).toBe('2026-03-03T09:00:00.000Z');
    h.clock.set('2026-03-03T09:00:00Z');
    const fired = await h.core.scheduler.runDue();
    expect(fired.map((f) => [f.kind, f.outcome])).toEqual(expect.arrayContaining([['competence', 'CompetenceLapsed']]));
    await h.settle();
    expect((await h.core.views.competences(amira.id))[0]!.status).toBe('lapsed');
    const delegation = await h.core.views.delegation('jones-evening-insulin');
    expect(delegation).toMatchObject({ status: 'suspended' });
    const suspended = (await h.eventsOf('delegation-jones-evening-insulin')).find((e) => e.type === 'DelegationSuspended')!;
    expect(suspended.data).toMatchObject({ cause: 'competence-lapsed' });
  });
});
