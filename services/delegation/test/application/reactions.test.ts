import { escalationStreamId, promptStreamId, reactionEscalationId, reactionPromptId } from '../../src/application/streams';
import { DelegationCommandRefused } from '../../src/application/errors';
import { amira, Harness, key, sarah, tom } from './harness';

/**
 * The reactions, on a real store: a care entry evaluated against the person's frameworks raises
 * escalations and prompts once (a replay raises nothing twice), insulin recorded without authority
 * is recorded and raises an incident, and a lapsed or revoked competence suspends every delegation
 * that depends on it at once.
 */
describe('reactions to the care record', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.create('2025-03-03T09:00:00Z');
    await h.trainAndSignOff(amira);
    await h.delegateInsulin('jones-evening-insulin');
    await h.settle();
  });
  afterAll(() => h.close());

  it('a glucose of 3.4 mmol/L raises the hypo protocol prompt for Amira (with a recheck timer) and an urgent escalation to the nurse', async () => {
    h.clock.set('2025-03-03T17:45:00Z');
    const low = await h.glucose(3.4);
    await h.settle();
    const lowEntryId = low.eventIds[0]!;

    const escalationId = reactionEscalationId(lowEntryId, 'insulin.hypo');
    const escalation = await h.eventsOf(escalationStreamId(escalationId));
    expect(escalation.map((e) => e.type)).toEqual(['EscalationRaised', 'EscalationSentToTier']);
    expect(escalation[0]!.data).toMatchObject({ ruleId: 'insulin.hypo', urgency: 'urgent', delegationId: 'jones-evening-insulin', triggeringEntryIds: [lowEntryId], incident: false });
    expect(escalation[0]!.metadata).toMatchObject({ actor: { id: 'tandem-delegation', role: 'system' }, causationId: lowEntryId });
    expect(escalation[1]!.data).toMatchObject({ tier: 0, recipient: 'accountable-district-nurse', dueAt: '2025-03-03T18:15:00.000Z' });

    const [prompt] = await h.core.views.prompts({ careWorkerId: amira.id, open: true });
    expect(prompt).toMatchObject({
      promptId: reactionPromptId(lowEntryId, 'insulin.hypo'),
      ruleId: 'insulin.hypo',
      withholdActivityId: 'insulin-administration',
      recheckStatus: 'pending',
      escalationId,
      recheck: { entry: 'BloodGlucoseRecorded', dueAt: '2025-03-03T18:00:00.000Z' },
    });
    const timers = await h.core.views.timers({ pending: true });
    expect(timers.map((t) => [t.kind, t.dueAt])).toEqual(
      expect.arrayContaining([
        ['prompt', '2025-03-03T18:00:00.000Z'],
        ['escalation', '2025-03-03T18:15:00.000Z'],
      ]),
    );
  });

  it('a second low reading while the escalation is open prompts again but raises no second escalation', async () => {
    h.clock.set('2025-03-03T17:55:00Z');
    const again = await h.glucose(3.6);
    await h.settle();
    expect(await h.eventsOf(escalationStreamId(reactionEscalationId(again.eventIds[0]!, 'insulin.hypo')))).toEqual([]);
    const prompts = await h.core.views.prompts({ careWorkerId: amira.id });
    expect(prompts).toHaveLength(2);
    // the first prompt's recheck was recorded by this reading
    expect(prompts[0]!.recheckStatus).toBe('recorded');
    expect(prompts[1]!.recheckStatus).toBe('pending');
  });

  it('replaying the whole log from scratch raises nothing twice', async () => {
    const before = await h.store.headPosition();
    await h.replayFromScratch();
    await h.settle();
    expect(await h.store.headPosition()).toBe(before);
    expect(await h.core.views.escalations({ patientId: h.patientId })).toHaveLength(1);
    expect(await h.core.views.prompts({ careWorkerId: amira.id })).toHaveLength(2);
  });

  it('insulin recorded by Tom, who holds no delegation and no competence, is recorded (never refused) and raises an incident escalation', async () => {
    h.clock.set('2025-03-03T18:30:00Z');
    await h.glucose(7.2, tom);
    const given = await h.insulin(tom);
    expect(given.eventTypes).toContain('InsulinAdministered');
    await h.settle();
    const incident = await h.eventsOf(escalationStreamId(reactionEscalationId(given.eventIds[0]!, 'insulin.outside-delegation')));
    expect(incident[0]?.data).toMatchObject({ ruleId: 'insulin.outside-delegation', incident: true, urgency: 'urgent' });
    expect((incident[0]!.data as { sbard: { assessment: string } }).sbard.assessment).toContain('cw-tom (care-worker) without an active delegation or a current competence');
  });

  it('Amira giving the dose under her active delegation raises no incident', async () => {
    h.clock.set('2025-03-03T20:40:00Z');
    await h.glucose(6.9);
    const given = await h.insulin();
    await h.settle();
    expect(await h.eventsOf(escalationStreamId(reactionEscalationId(given.eventIds[0]!, 'insulin.outside-delegation')))).toEqual([]);
  });

  it('a prompt is acknowledged once, by the care worker prompted (or a nurse), never twice', async () => {
    const [prompt] = await h.core.views.prompts({ careWorkerId: amira.id });
    await expect(h.core.commands.prompt({ type: 'AcknowledgeCarePrompt', promptId: prompt!.promptId, idempotencyKey: key(), occurredAt: h.now() }, tom)).rejects.toMatchObject({
      status: 422,
      refusal: { code: 'prompt.not-the-care-worker', field: 'actor' },
    });
    await h.core.commands.prompt({ type: 'AcknowledgeCarePrompt', promptId: prompt!.promptId, idempotencyKey: key(), occurredAt: h.now() }, amira);
    const twice = h.core.commands.prompt({ type: 'AcknowledgeCarePrompt', promptId: prompt!.promptId, idempotencyKey: key(), occurredAt: h.now() }, amira);
    await expect(twice).rejects.toBeInstanceOf(DelegationCommandRefused);
    await expect(twice).rejects.toMatchObject({ status: 409 });
    expect((await h.eventsOf(promptStreamId(prompt!.promptId))).map((e) => e.type)).toEqual(['CarePromptIssued', 'RecheckRecorded', 'CarePromptAcknowledged']);
  });

  it('a revoked competence suspends every delegation that depends on it, at once', async () => {
    const { commands } = h.core;
    await h.delegateInsulin('jones-morning-insulin');
    await h.settle();
    expect((await h.core.views.delegationsForCareWorker(amira.id)).map((d) => d.status)).toEqual(['active', 'active']);
    await commands.competence({ type: 'RevokeCompetence', careWorkerId: amira.id, frameworkId: 'insulin-administration', reason: 'Two doses given late without telling the nurse', idempotencyKey: key(), occurredAt: h.now() }, sarah);
    await h.settle();
    const delegations = await h.core.views.delegationsForCareWorker(amira.id);
    expect(delegations.map((d) => [d.delegationId, d.status, d.reason])).toEqual([
      ['jones-evening-insulin', 'suspended', 'Two doses given late without telling the nurse'],
      ['jones-morning-insulin', 'suspended', 'Two doses given late without telling the nurse'],
    ]);
    const suspended = (await h.eventsOf('delegation-jones-evening-insulin')).find((e) => e.type === 'DelegationSuspended')!;
    expect(suspended.data).toMatchObject({ cause: 'competence-revoked', by: { practitionerId: 'tandem-delegation', role: 'system' } });
  });

  it('activation is refused while the competence is not current (422, naming the field)', async () => {
    const { commands } = h.core;
    await expect(commands.activate({ delegationId: 'jones-evening-insulin', idempotencyKey: key(), occurredAt: h.now() }, sarah)).rejects.toMatchObject({
      status: 422,
      refusal: { code: 'delegation.competence-not-current', field: 'competence.status' },
    });
  });

  it('replayed from scratch after the revocation, the past is judged as it stood: no incident for the doses Amira gave while competent', async () => {
    // What is due fires first (the scheduler's, not the replay's, to append).
    await h.core.scheduler.runDue();
    await h.settle();
    const before = await h.store.headPosition();
    const escalations = (await h.core.views.escalations({ patientId: h.patientId })).length;
    await h.replayFromScratch();
    await h.settle();
    expect(await h.store.headPosition()).toBe(before);
    expect(await h.core.views.escalations({ patientId: h.patientId })).toHaveLength(escalations);
  });
});
