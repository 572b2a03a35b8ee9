import { hypoProtocolSteps, type Actor, type EscalationRaisedData, type EscalationSentToTierData } from '@tandem/contracts';
import { escalationStreamId, reactionEscalationId } from '../../src/application/streams';
import { gapIncidentId, NOBODY_ON_CALL_RULE_ID } from '../../src/reactions/gaps';
import { news2 } from '../fixtures';
import { amira, Harness, NORTH_TEAM, ola, sarah } from './harness';

/**
 * Deterioration is escalated for every person whose record Tandem holds, with or without a
 * delegation (the whole-record rules), once per finding, and every tier reaches named people: the
 * person's nursing team, the organisation's on-call rota, the care worker at the bedside. When
 * nobody is on call the next tier is told at once and the gap is an incident escalation.
 *
 * Given Mr Jones, with Sarah's nursing team on his care team and Ola on call on the team's rota.
 */
describe('whole-record escalation: for everyone, to named people', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await Harness.create('2025-03-03T10:00:00Z');
  });
  afterEach(() => h.close());

  const sentTiers = async (escalationId: string) =>
    (await h.eventsOf(escalationStreamId(escalationId))).filter((e) => e.type === 'EscalationSentToTier').map((e) => e.data as EscalationSentToTierData);

  // NEWS2 as the record scores it (RCP 2017): resp 28 is 3, SpO2 88 on scale 1 is 3, air 0, BP 88 is 3,
  // pulse 135 is 3, V is 3, 39.5 C is 2: 17, high.
  const SEPTIC_NEWS2 = news2(17, { subScores: { respirationRate: 3, spo2: 3, airOrOxygen: 0, systolic: 3, pulse: 3, consciousness: 3, temperatureC: 2 } });
  const septicVitals = (by: Actor = amira) =>
    h.given.entry(
      'VitalSignsRecorded',
      {
        patientId: h.patientId,
        respirationRate: 28,
        spo2: 88,
        airOrOxygen: 'air',
        systolic: 88,
        diastolic: 50,
        pulse: 135,
        consciousness: 'V',
        temperatureC: 39.5,
        spo2Scale: 1,
        news2: SEPTIC_NEWS2,
      },
      by,
      'RecordVitalSigns',
    );

  it('with no delegation, resp 28, SpO2 88 on air, BP 88/50, pulse 135, V, 39.5 C: one emergency escalation, 999 advice to Amira, the nursing team informed by name', async () => {
    const vitals = await septicVitals();
    await h.settle();

    const open = await h.core.views.escalations({ patientId: h.patientId, open: true });
    // NEWS2 17, a 3 in one parameter and the sepsis red flags are one deterioration: one escalation naming them all
    expect(open.map((e) => [e.frameworkId, e.ruleId, e.urgency])).toEqual([['whole-record', 'news2.high', 'emergency']]);
    const escalationId = reactionEscalationId(vitals.eventIds[0]!, 'news2.high');
    expect(open[0]!.escalationId).toBe(escalationId);
    expect(open[0]!.sbard.assessment).toContain('Sepsis red flag');
    expect(open[0]!.sbard.background).toContain('No activity is delegated for this person');

    const [sent] = await sentTiers(escalationId);
    expect(sent).toMatchObject({
      tier: 2,
      tierId: 'nhs-111-999-advice',
      advice: expect.stringContaining('Call 999 now') as string,
      recipients: [{ practitionerId: amira.id, reason: 'recorded the entry' }],
      informedRecipients: [{ practitionerId: sarah.id, reason: 'nursing team' }],
    });
    // everyone it reached sees it in their open list
    for (const who of [amira, sarah]) expect((await h.core.views.escalations({ open: true, recipientId: who.id })).map((e) => e.escalationId)).toEqual([escalationId]);
  });

  it('nobody acknowledges the 999 advice for three hours (the service was down): Amira is reminded once, now, not six times, and again 30 minutes later', async () => {
    const vitals = await septicVitals();
    await h.settle();
    const escalationId = reactionEscalationId(vitals.eventIds[0]!, 'news2.high');
    const firedAt = h.advance(180);
    await h.core.scheduler.runDue();
    await h.settle();
    const tiers = await sentTiers(escalationId);
    expect(tiers.map((t) => [t.tier, t.reminder, t.recipients])).toEqual([
      [2, undefined, [{ practitionerId: amira.id, reason: 'recorded the entry' }]],
      [2, 1, [{ practitionerId: amira.id, reason: 'recorded the entry' }]],
    ]);
    // the nursing team is told again with it
    expect(tiers[1]!.informedRecipients).toEqual([{ practitionerId: sarah.id, reason: 'nursing team' }]);
    expect((await h.eventsOf(escalationStreamId(escalationId))).at(-1)!.metadata.occurredAt).toBe(firedAt);
    h.advance(30);
    await h.core.scheduler.runDue();
    await h.settle();
    expect((await sentTiers(escalationId)).map((t) => t.reminder)).toEqual([undefined, 1, 2]);
  });

  it('the same emergency sent by a virtual ward’s system: nobody may be at the bedside, so it starts with the nursing team, who must acknowledge by a deadline, and goes on to on call', async () => {
    const virtualWard: Actor = { id: 'system-virtual-ward', role: 'system' };
    const vitals = await septicVitals(virtualWard);
    await h.settle();
    const escalationId = reactionEscalationId(vitals.eventIds[0]!, 'news2.high');
    const raised = (await h.eventsOf(escalationStreamId(escalationId)))[0]!.data as EscalationRaisedData;
    expect(raised).toMatchObject({ urgency: 'emergency', recordedAwayFromBedside: true });
    expect(raised.sbard.decision).toContain('make sure someone is with the person and 999 is called');
    expect(await sentTiers(escalationId)).toEqual([
      expect.objectContaining({
        tier: 0,
        recipients: [{ practitionerId: sarah.id, reason: 'nursing team' }],
        dueAt: '2025-03-03T10:30:00.000Z',
        advice: expect.stringContaining('a care worker may not be with the person') as string,
      }),
    ]);
    h.advance(30);
    await h.core.scheduler.runDue();
    await h.settle();
    expect((await sentTiers(escalationId)).map((t) => [t.tier, t.recipients])).toEqual([
      [0, [{ practitionerId: sarah.id, reason: 'nursing team' }]],
      [1, [{ practitionerId: ola.id, reason: `on call (${NORTH_TEAM} rota)` }]],
    ]);
  });

  it('with no delegation, a glucose of 3.2 mmol/L: an urgent escalation to the nursing team by name, and the hypo protocol for the care worker', async () => {
    const low = await h.glucose(3.2);
    await h.settle();
    const escalationId = reactionEscalationId(low.eventIds[0]!, 'hypoglycaemia.below-4');
    const raised = (await h.eventsOf(escalationStreamId(escalationId)))[0]!.data as EscalationRaisedData;
    expect(raised).toMatchObject({ frameworkId: 'whole-record', ruleId: 'hypoglycaemia.below-4', urgency: 'urgent', incident: false });
    expect(await sentTiers(escalationId)).toEqual([
      expect.objectContaining({ tier: 0, recipients: [{ practitionerId: sarah.id, reason: 'nursing team' }], dueAt: '2025-03-03T10:30:00.000Z' }),
    ]);
    const prompts = await h.core.views.prompts({ careWorkerId: amira.id, open: true });
    expect(prompts.map((p) => [p.ruleId, p.recheck?.dueAt])).toEqual([['hypoglycaemia.below-4', '2025-03-03T10:15:00.000Z']]);
    // one wording of the protocol (contracts), the same as the bedside answer's, longer-acting carbohydrate included
    expect(prompts[0]!.steps).toEqual(hypoProtocolSteps(15));
  });

  it('under an insulin delegation the same low glucose and the same NEWS2 are escalated once each (the framework’s own rule), never twice', async () => {
    await h.trainAndSignOff(amira);
    await h.delegateInsulin('jones-evening-insulin');
    await h.settle();
    await h.glucose(3.4);
    await septicVitals();
    await h.settle();
    const open = await h.core.views.escalations({ patientId: h.patientId, open: true });
    expect(open.map((e) => [e.frameworkId, e.ruleId]).sort()).toEqual([
      ['insulin-administration', 'insulin.hypo'],
      ['insulin-administration', 'news2.high'],
    ]);
    // the delegating nurse is who the framework's escalation names
    expect(open.find((e) => e.ruleId === 'insulin.hypo')!.recipients).toEqual([{ practitionerId: sarah.id, reason: 'delegating nurse', tier: 0 }]);
    // the framework's prompt is the same protocol, with its withhold step first
    const [prompt] = await h.core.views.prompts({ careWorkerId: amira.id, open: true });
    expect(prompt!.steps).toEqual(['Do not give insulin now: the nurse will advise on this dose.', ...hypoProtocolSteps(15)]);
  });

  it('not acknowledged in 30 minutes: tier 2 names whoever is on call on the nursing team’s rota, and they see it in their open list', async () => {
    const low = await h.glucose(3.2);
    await h.settle();
    const escalationId = reactionEscalationId(low.eventIds[0]!, 'hypoglycaemia.below-4');
    h.advance(30);
    await h.core.scheduler.runDue();
    await h.settle();
    const tiers = await sentTiers(escalationId);
    expect(tiers.map((t) => [t.tier, t.recipients])).toEqual([
      [0, [{ practitionerId: sarah.id, reason: 'nursing team' }]],
      [1, [{ practitionerId: ola.id, reason: `on call (${NORTH_TEAM} rota)` }]],
    ]);
    expect((await h.core.views.escalations({ open: true, recipientId: ola.id })).map((e) => [e.escalationId, e.tier])).toEqual([[escalationId, 1]]);
  });

  it('nobody on call: the tier above is told at once, and the gap is an incident escalation', async () => {
    await h.setRota(NORTH_TEAM, []);
    const low = await h.glucose(3.2);
    await h.settle();
    const escalationId = reactionEscalationId(low.eventIds[0]!, 'hypoglycaemia.below-4');
    h.advance(30);
    await h.core.scheduler.runDue();
    await h.settle();

    const events = await h.eventsOf(escalationStreamId(escalationId));
    expect(events.map((e) => e.type)).toEqual(['EscalationRaised', 'EscalationSentToTier', 'EscalationReEscalated', 'EscalationSentToTier', 'EscalationReEscalated', 'EscalationSentToTier']);
    const tiers = await sentTiers(escalationId);
    expect(tiers[1]).toMatchObject({ tier: 1, recipients: [], nobodyAvailable: true });
    // at the same moment: the care worker at the bedside is told to call NHS 111 (or 999)
    expect(tiers[2]).toMatchObject({ tier: 2, recipients: [{ practitionerId: amira.id, reason: 'recorded the entry' }], dueAt: null });
    expect(events[5]!.metadata.occurredAt).toBe(events[3]!.metadata.occurredAt);

    const incident = await h.core.views.escalation(gapIncidentId(escalationId, 1));
    expect(incident).toMatchObject({ ruleId: NOBODY_ON_CALL_RULE_ID, incident: true, urgency: 'urgent', open: true, tier: 0 });
    expect(incident!.recipients).toEqual([{ practitionerId: sarah.id, reason: 'nursing team', tier: 0 }]);
    expect(incident!.sbard.situation).toContain('Nobody was available at On-call nurse or GP');
  });
});
