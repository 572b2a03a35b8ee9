import { escalationTimer } from '../../src/machines';
import { evaluateEntry, missedMonitoring } from '../../src/rules';
import { amira, cellulitis, cellulitisCheck, FakeClock, MR_OKAFOR, nadia, scheduler, vitals } from '../fixtures';
import { delegateAndActivate, delegationStream, delegationCommand, raise, trainAndSignOff } from '../stories';

/**
 * Mr Okafor has cellulitis of the left leg, Eron class I. Nadia marks the border and delegates a
 * daily check to Amira. On day 2 the redness has spread beyond the line and his temperature is
 * 38.1 C: urgent. Nobody answers: the nurse, then the on-call nurse or GP, then NHS 111 / 999
 * advice to Amira.
 */
describe('a spreading cellulitis in Mr Okafor', () => {
  const clock = new FakeClock('2025-09-01T08:00:00Z');
  const competence = trainAndSignOff(clock, amira, cellulitis, nadia);
  const eligibility = { eronClass: 1, borderMarked: true };
  const delegation = delegateAndActivate(clock, {
    delegationId: 'okafor-cellulitis',
    framework: cellulitis,
    patientId: MR_OKAFOR,
    careWorker: amira,
    nurse: nadia,
    competence,
    instruction: { kind: 'general', plan: 'Daily at 09:00: check the marked area on the left shin, temperature, pain; keep the leg raised.', times: ['09:00'] },
    eligibility,
  });
  const activatedAt = clock.now();

  it('only Eron class I is delegated', () => {
    const stream = delegationStream(cellulitis);
    const refusal = stream.refused(
      nadia,
      delegationCommand(clock, 'okafor-2', {
        type: 'ProposeDelegation',
        patientId: MR_OKAFOR,
        frameworkId: cellulitis.id,
        activityId: 'cellulitis-check',
        careWorker: { practitionerId: 'amira', role: 'care-worker' },
        instruction: { kind: 'general', plan: 'Daily check' },
        eligibility: { ...eligibility, eronClass: 2 },
      }),
    );
    expect(refusal).toMatchObject({ code: 'delegation.person-not-eligible', field: 'eligibility.eronClass' });
    expect(refusal.reason).toContain('classes II to IV need clinician management');
    expect(delegation.state.value).toBe('active');
  });

  const day1 = cellulitisCheck(MR_OKAFOR, clock.at('09:00'), { temperatureC: 37.2 });

  it('day 1: within the line, 37.2 C: nothing to escalate', () => {
    expect(evaluateEntry(cellulitis, { event: day1, history: [] }).escalations).toEqual([]);
  });

  it('day 2: beyond the line and 38.1 C: urgent; not acknowledged, it climbs every tier to 999 advice for Amira', () => {
    clock.advance({ days: 1 });
    const day2 = cellulitisCheck(MR_OKAFOR, clock.now(), { beyondLine: true, temperatureC: 38.1 });
    const outcome = evaluateEntry(cellulitis, { event: day2, history: [day1] });
    expect(outcome.fired.map((f) => f.ruleId)).toEqual(['cellulitis.beyond-marked-line', 'cellulitis.fever']);
    expect(outcome.escalations.map((e) => [e.ruleId, e.urgency])).toEqual([['cellulitis.beyond-marked-line', 'urgent']]);
    expect(outcome.escalations[0]!.sbard.assessment).toBe('redness beyond marked line. Also: Temperature 38.1 C or more: temperature 38.1 C (38.1 C or more).');

    const { stream } = raise(clock, cellulitis, outcome.escalations[0]!, MR_OKAFOR, 'esc-okafor', 'okafor-cellulitis');
    const tiers: unknown[] = [stream.last('EscalationSentToTier')];
    for (let fired = 0; fired < 2; fired++) {
      const timer = escalationTimer(stream.state)!;
      clock.set(timer.dueAt);
      expect(stream.ok(scheduler, timer.command)).toEqual(['EscalationReEscalated', 'EscalationSentToTier']);
      tiers.push(stream.last('EscalationSentToTier'));
    }
    expect(tiers).toEqual([
      { tier: 0, tierId: 'accountable-district-nurse', recipient: 'accountable-district-nurse', dueAt: '2025-09-04T09:30:00.000Z', informed: [] },
      { tier: 1, tierId: 'on-call-nurse-or-gp', recipient: 'on-call-nurse-or-gp', dueAt: '2025-09-04T10:00:00.000Z', informed: [] },
      {
        tier: 2,
        tierId: 'nhs-111-999-advice',
        recipient: 'care-worker',
        dueAt: null,
        informed: [],
        advice: expect.stringContaining('Call NHS 111 now'),
      },
    ]);
    expect(stream.events.map((e) => e.type)).toEqual([
      'EscalationRaised',
      'EscalationSentToTier',
      'EscalationReEscalated',
      'EscalationSentToTier',
      'EscalationReEscalated',
      'EscalationSentToTier',
    ]);
    // at the last tier it is chased: told again in 30 minutes unless Amira acknowledges
    expect(escalationTimer(stream.state)!.command.idempotencyKey).toBe('escalation-esc-okafor:reminder:2:1');
  });

  it('a NEWS2 rising from 1 to 3 is urgent; sepsis red flags are an emergency', () => {
    const before = vitals(MR_OKAFOR, '2025-09-04T09:00:00Z', 1);
    const rising = evaluateEntry(cellulitis, { event: vitals(MR_OKAFOR, '2025-09-04T15:00:00Z', 3), history: [before] });
    expect(rising.escalations.map((e) => [e.ruleId, e.urgency])).toEqual([['cellulitis.news2-rising', 'urgent']]);
    expect(rising.escalations[0]!.triggeringEntryIds).toEqual([before.id, expect.any(String)]);

    const septic = evaluateEntry(cellulitis, { event: vitals(MR_OKAFOR, '2025-09-04T16:00:00Z', 6, { pulse: 134 }), history: [before] });
    expect(septic.escalations.map((e) => [e.ruleId, e.urgency])).toEqual([['sepsis.red-flag', 'emergency']]);
  });

  it('a daily check not recorded by 24 hours plus the grace is escalated as missed (urgent in this framework)', () => {
    // day 1's check was at 09:00 on 3 September; vital signs were never recorded since activation at 08:00
    const missed = missedMonitoring(cellulitis, { events: [day1], since: activatedAt, now: '2025-09-04T11:00:00Z' });
    expect(missed.map((e) => [e.ruleId, e.urgency])).toEqual([
      ['monitoring.cellulitis-daily-check.missed', 'urgent'],
      ['monitoring.vital-signs.missed', 'routine'],
    ]);
    expect(missed[0]!.sbard.assessment).toBe('no cellulitis checked entry since 2025-09-03T09:00:00.000Z; it was due at 2025-09-04T09:00:00.000Z.');
    const justBefore = missedMonitoring(cellulitis, { events: [day1], since: activatedAt, now: '2025-09-04T10:59:00Z' });
    expect(justBefore.map((e) => e.ruleId)).toEqual(['monitoring.vital-signs.missed']);
  });
});
