import { competenceSnapshotOf, competenceTimer, delegationTimer, isCompetenceCurrent, isDelegationActive, replayCompetence } from '../../src/machines';
import { evaluateEntry } from '../../src/rules';
import { amira, FakeClock, glucose, insulin, insulinGiven, MR_JONES, nadia, scheduler } from '../fixtures';
import { competenceCommand, delegateAndActivate, delegationCommand, EVENING_INSULIN, raise, trainAndSignOff } from '../stories';

/**
 * Amira's insulin competence is not reassessed within the year. At its validUntil the scheduler's
 * EXPIRE lapses it, and the delegation that depends on it is suspended at once. Amira gives the
 * evening dose anyway: it is recorded (never refused) and an incident goes to the nurse.
 */
describe('a competence that lapses suspends the delegation at once', () => {
  const clock = new FakeClock('2025-03-03T09:00:00Z');
  const competence = trainAndSignOff(clock, amira, insulin, nadia);
  const delegation = delegateAndActivate(clock, {
    delegationId: 'jones-evening-insulin',
    framework: insulin,
    patientId: MR_JONES,
    careWorker: amira,
    nurse: nadia,
    competence,
    instruction: EVENING_INSULIN,
    eligibility: { ageYears: 78, diabetesStable: true, insulinDevice: 'pen' },
  });

  it('the delegation is reviewed when its review falls due, and stays active', () => {
    const review = delegationTimer(delegation.state)!;
    expect(review.dueAt).toBe('2025-06-04T09:00:00.000Z'); // 90 days (LOCAL default)
    clock.set(review.dueAt);
    expect(delegation.ok(scheduler, review.command)).toEqual(['ReviewDue']);
    expect(delegation.state.value).toBe('reviewDue');
    clock.advance({ days: 2 });
    expect(delegation.ok(nadia, delegationCommand(clock, 'jones-evening-insulin', { type: 'ReviewDelegation', notes: 'Glucose well controlled; no hypos.' }))).toEqual([
      'DelegationReviewed',
    ]);
    expect(delegation.state.value).toBe('active');
  });

  it('EXPIRE before validUntil is refused; at validUntil the competence lapses', () => {
    const timer = competenceTimer(competence.state)!;
    expect(timer.dueAt).toBe('2026-03-06T09:00:00.000Z');
    clock.set('2026-03-06T08:59:00Z');
    expect(competence.refused(scheduler, { ...timer.command, occurredAt: clock.now() })).toMatchObject({ code: 'competence.not-yet-expired' });
    clock.set(timer.dueAt);
    expect(competence.ok(scheduler, timer.command)).toEqual(['CompetenceLapsed']);
    expect(competence.state.value).toBe('lapsed');
    expect(isCompetenceCurrent(competence.state, clock.now())).toBe(false);
    expect(competenceTimer(competence.state)).toBeUndefined();
  });

  it('COMPETENCE_LAPSED suspends the active delegation at once, with the cause', () => {
    expect(
      delegation.ok(scheduler, delegationCommand(clock, 'jones-evening-insulin', { type: 'SuspendDelegationForCompetence', change: 'lapsed' })),
    ).toEqual(['DelegationSuspended']);
    expect(delegation.state.value).toBe('suspended');
    expect(isDelegationActive(delegation.state)).toBe(false);
    expect(delegation.last('DelegationSuspended')).toEqual({
      by: { practitionerId: 'scheduler', role: 'system' },
      cause: 'competence-lapsed',
      reason: "The care worker's competence for Insulin administration by pen was not reassessed in time (lapsed)",
    });
    // a second relay of the same change finds it already suspended
    const again = delegation.refused(scheduler, delegationCommand(clock, 'jones-evening-insulin', { type: 'SuspendDelegationForCompetence', change: 'lapsed' }));
    expect(again).toMatchObject({ code: 'delegation.not-allowed-in-state', field: 'delegationId' });
    expect(again.reason).toContain('the delegation is suspended');
  });

  it('Amira gives the 18:00 dose anyway: it is recorded, and an incident escalation goes to the nurse', () => {
    clock.at('17:50');
    const check = glucose(MR_JONES, 7.2, clock.now());
    const dose = insulinGiven(MR_JONES, clock.at('18:00'));
    const outcome = evaluateEntry(insulin, { event: dose, history: [check], authority: { activeDelegation: false, currentCompetence: false } });
    expect(outcome.escalations.map((e) => [e.ruleId, e.urgency, e.incident])).toEqual([['insulin.outside-delegation', 'urgent', true]]);
    expect(outcome.escalations[0]!.sbard.assessment).toContain('without an active delegation or a current competence');
    const { stream } = raise(clock, insulin, outcome.escalations[0]!, MR_JONES, 'esc-jones-incident');
    expect(stream.last('EscalationRaised')).toMatchObject({ incident: true, triggeringEntryIds: [dose.id] });
  });

  it('the delegation cannot be reactivated on a lapsed competence; after reassessment it can', () => {
    clock.advance({ days: 1 });
    const reactivate = () => delegationCommand(clock, 'jones-evening-insulin', { type: 'ActivateDelegation', competence: competenceSnapshotOf(competence.state)! });
    expect(delegation.refused(nadia, reactivate())).toMatchObject({ code: 'delegation.competence-not-current', field: 'competence.status' });

    competence.ok(nadia, competenceCommand(clock, amira, insulin, { type: 'SignOffCompetence', careWorkerConsent: true }));
    expect(competence.state.value).toBe('signedOff');
    expect(delegation.ok(nadia, reactivate())).toEqual(['DelegationActivated']);
    expect(delegation.state.value).toBe('active');
  });

  it('replaying the competency stream gives the same state (the stream is the record)', () => {
    expect(replayCompetence(insulin, competence.events).value).toBe(competence.state.value);
    expect(replayCompetence(insulin, competence.events).context.validUntil).toBe(competence.state.context.validUntil);
  });
});
