import type { Urgency } from '@tandem/contracts';
import { insulinAdministration, resolveFramework, type Framework } from '../../src/frameworks';
import { escalationTimer, isEscalationOpen } from '../../src/machines';
import { amira, drShah, FakeClock, insulin, key, MR_JONES, nadia, owen, scheduler, unregisteredNurse, uti } from '../fixtures';
import { escalationCommand, escalationStream } from '../stories';

const sbard = {
  situation: 'Blood glucose 3.4 mmol/L at 17:45',
  background: 'Insulin delegated to Amira',
  assessment: 'Hypoglycaemia',
  recommendation: 'Review the evening dose',
  decision: 'Urgent clinical review',
};

const raised = (urgency: Urgency, framework: Framework = insulin, clock = new FakeClock('2025-03-06T17:45:00Z')) => {
  const stream = escalationStream(framework);
  const decision = stream.run(scheduler, {
    type: 'RaiseEscalation',
    idempotencyKey: key(),
    occurredAt: clock.now(),
    escalationId: 'e1',
    patientId: MR_JONES,
    frameworkId: framework.id,
    ruleId: 'insulin.hypo',
    urgency,
    sbard,
    triggeringEntryIds: [],
  });
  return { stream, clock, decision, say: (actor = nadia, command: Parameters<typeof escalationCommand>[2]) => stream.run(actor, escalationCommand(clock, 'e1', command)) };
};

describe('deadlines by urgency are framework settings', () => {
  it.each([
    ['urgent', 'accountable-district-nurse', '2025-03-06T18:15:00.000Z'],
    ['routine', 'accountable-district-nurse', '2025-03-07T01:45:00.000Z'],
    ['emergency', 'care-worker', null],
  ] as const)('%s: first to %s, due %s', (urgency, recipient, dueAt) => {
    const { stream } = raised(urgency);
    expect(stream.last('EscalationSentToTier')).toMatchObject({ recipient, dueAt });
    expect(isEscalationOpen(stream.state)).toBe(true);
  });

  it('an organisation that answers urgent escalations in 15 minutes sets it, and only that changes', () => {
    const fast = resolveFramework(insulinAdministration, {
      organisationId: 'leeds-community',
      frameworkId: 'insulin-administration',
      settings: { 'escalation.urgent-deadline-minutes': 15 },
    });
    const { stream } = raised('urgent', fast);
    expect(stream.last('EscalationSentToTier').dueAt).toBe('2025-03-06T18:00:00.000Z');
    expect(fast.settings['escalation.urgent-deadline-minutes']).toMatchObject({ value: 15, default: 30, overridden: true, status: 'LOCAL' });
  });

  it('a tier may set its own deadline (data): here the on-call tier has an hour', () => {
    const tiers = insulin.escalation.tiers.map((t, i) => (i === 1 ? { ...t, deadlineMinutes: { urgent: 60, routine: 600 } } : t));
    const framework = { ...insulin, escalation: { ...insulin.escalation, tiers } };
    const { stream, clock } = raised('urgent', framework);
    const timer = escalationTimer(stream.state)!;
    expect(timer.dueAt).toBe('2025-03-06T18:15:00.000Z');
    clock.set(timer.dueAt);
    stream.ok(scheduler, timer.command);
    expect(stream.last('EscalationSentToTier')).toMatchObject({ tier: 1, dueAt: '2025-03-06T19:15:00.000Z' });
  });
});

describe('the last tier is chased until someone acknowledges', () => {
  it('an emergency (straight to the last tier) with nobody acknowledging: told again every 30 minutes, the nurse told again with it, until the care worker acknowledges', () => {
    const { stream, clock, say } = raised('emergency');
    const timer = escalationTimer(stream.state)!;
    expect(timer.dueAt).toBe('2025-03-06T18:15:00.000Z');
    // not before it is due
    expect(stream.run(scheduler, { ...timer.command, occurredAt: '2025-03-06T18:00:00.000Z' })).toMatchObject({ ok: false, refusal: { code: 'escalation.not-yet-due' } });
    clock.set(timer.dueAt);
    stream.ok(scheduler, timer.command);
    expect(stream.last('EscalationSentToTier')).toMatchObject({ tier: 2, recipient: 'care-worker', dueAt: null, reminder: 1, informed: ['accountable-district-nurse'] });
    const second = escalationTimer(stream.state)!;
    expect(second.dueAt).toBe('2025-03-06T18:45:00.000Z');
    clock.set(second.dueAt);
    stream.ok(scheduler, second.command);
    expect(stream.last('EscalationSentToTier')).toMatchObject({ tier: 2, reminder: 2 });
    expect(say(amira, { type: 'AcknowledgeEscalation', note: '999 called' }).ok).toBe(true);
    expect(escalationTimer(stream.state)).toBeUndefined();
  });

  it('an urgent escalation reaching the last tier is chased there too', () => {
    const { stream, clock } = raised('urgent');
    for (const dueAt of ['2025-03-06T18:15:00.000Z', '2025-03-06T18:45:00.000Z']) {
      const timer = escalationTimer(stream.state)!;
      expect(timer.dueAt).toBe(dueAt);
      clock.set(timer.dueAt);
      stream.ok(scheduler, timer.command);
    }
    expect(stream.last('EscalationSentToTier')).toMatchObject({ tier: 2, dueAt: null });
    expect(stream.last('EscalationSentToTier').reminder).toBeUndefined();
    expect(escalationTimer(stream.state)!.dueAt).toBe('2025-03-06T19:15:00.000Z');
  });
});

describe('acknowledging and resolving', () => {
  it('at the nurse\'s tier, a care worker cannot acknowledge', () => {
    const { say } = raised('urgent');
    expect(say(amira, { type: 'AcknowledgeEscalation' })).toMatchObject({ ok: false, refusal: { code: 'escalation.acknowledger', field: 'actor.role' } });
  });

  it('is acknowledged before it is resolved, and resolved by a registered professional with an outcome', () => {
    const { say, stream } = raised('urgent');
    expect(say(nadia, { type: 'ResolveEscalation', outcome: 'Seen' })).toMatchObject({ ok: false, refusal: { code: 'escalation.not-allowed-in-state' } });
    say(nadia, { type: 'AcknowledgeEscalation', note: 'On my way' });
    expect(say(unregisteredNurse, { type: 'ResolveEscalation', outcome: 'Seen' })).toMatchObject({ ok: false, refusal: { code: 'escalation.resolver.registration-required' } });
    expect(say(owen, { type: 'ResolveEscalation', outcome: 'Seen; dose reduced to 6 units' }).ok).toBe(true);
    expect(stream.state.value).toBe('resolved');
    expect(isEscalationOpen(stream.state)).toBe(false);
    expect(say(owen, { type: 'AcknowledgeEscalation' })).toMatchObject({ ok: false, refusal: { code: 'escalation.not-allowed-in-state' } });
  });

  it('a GP may acknowledge at the on-call tier', () => {
    const { stream, clock, say } = raised('urgent');
    clock.set(escalationTimer(stream.state)!.dueAt);
    stream.ok(scheduler, escalationTimer(stream.state)!.command);
    expect(say(drShah, { type: 'AcknowledgeEscalation' }).ok).toBe(true);
    expect(stream.last('EscalationAcknowledged')).toMatchObject({ tier: 1, by: { practitionerId: 'dr-shah', role: 'gp' } });
  });
});

it('is raised under the framework it belongs to', () => {
  const stream = escalationStream(uti);
  expect(
    stream.run(scheduler, {
      type: 'RaiseEscalation',
      idempotencyKey: key(),
      occurredAt: '2025-03-06T17:45:00Z',
      escalationId: 'e1',
      patientId: MR_JONES,
      frameworkId: insulin.id,
      ruleId: 'insulin.hypo',
      urgency: 'urgent',
      sbard,
      triggeringEntryIds: [],
    }),
  ).toMatchObject({ ok: false, refusal: { code: 'escalation.wrong-framework', field: 'frameworkId' } });
});
