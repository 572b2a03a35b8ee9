import { DMD_SYSTEM, type MedicationOrderDetails } from '@tandem/contracts';
import { doseEscalationId, dosePromptId, escalationStreamId, promptStreamId } from '../../src/application/streams';
import { worklistFor } from '../../src/application/worklist';
import { amira, Harness, sarah } from './harness';

/**
 * Issue 13: a scheduled dose left with no outcome is noticed. Given a person's medication orders
 * (the record's medicines stream) and bedside outcomes (the care stream), when the clock passes a
 * dose's time plus its tolerance (LOCAL: 60 minutes, 30 for a time-critical medicine), then the
 * care worker is prompted; still nothing after the further interval (60, 15 time-critical), the
 * nursing team gets one escalation. An outcome recorded in time stops both; a stopped order fires
 * nothing; all of it once, across restarts. 3 March 2025 is GMT: England's times are UTC's.
 */

const CO_CARELDOPA: MedicationOrderDetails = {
  product: { system: DMD_SYSTEM, code: '41963311000001103', display: 'Co-careldopa 25mg/100mg tablets' },
  dose: { value: 1, unit: 'tablet' },
  route: 'oral',
  timing: { kind: 'scheduled', times: ['08:00', '12:00'] },
  start: '2025-03-03T00:00:00Z',
  timeCritical: true,
  prescriberId: sarah.id,
};
const PARACETAMOL: MedicationOrderDetails = {
  product: { system: DMD_SYSTEM, code: '42109611000001109', display: 'Paracetamol 500mg tablets' },
  dose: { value: 2, unit: 'tablet' },
  route: 'oral',
  timing: { kind: 'scheduled', times: ['08:00', '18:00'] },
  start: '2025-03-03T00:00:00Z',
  timeCritical: false,
  prescriberId: sarah.id,
};

describe('a scheduled dose left with no outcome: prompted, then escalated, once', () => {
  let h: Harness;
  let levodopa: string;
  let paracetamol: string;

  const dosePrompts = async (orderId: string, scheduledAt: string) => h.eventsOf(promptStreamId(dosePromptId(orderId, scheduledAt, amira.id)));
  const doseEscalation = async (orderId: string, scheduledAt: string) => h.eventsOf(escalationStreamId(doseEscalationId(orderId, scheduledAt)));
  const outcome = (orderId: string, order: MedicationOrderDetails, scheduledTime: string, what: 'given' | 'refused') =>
    h.given.entry(
      'MedicineDoseRecorded',
      {
        patientId: h.patientId,
        orderId,
        outcome: what,
        scheduledTime,
        ...(what === 'given' ? { dose: order.dose } : { reason: 'Mr Jones said he did not want it now' }),
        product: order.product,
        prn: false,
        timeCritical: order.timeCritical,
      },
      amira,
      'RecordMedicineDose',
    );
  const firedDoses = async () => (await h.core.scheduler.runDue()).filter((f) => f.kind === 'dose');
  /** The dose-overdue prompts on Amira's worklist today, as her app reads them. */
  const amirasDosePrompts = async () =>
    (await worklistFor({ careWorkerId: amira.id, date: h.now().slice(0, 10), now: h.clock.now(), views: h.core.views, store: h.store, frameworks: h.core.commands.frameworks })).prompts.filter((p) => p.ruleId === 'medicine.dose-overdue');

  beforeAll(async () => {
    h = await Harness.create('2025-03-03T06:00:00Z');
    // Amira gives Mr Jones's insulin: an active delegation makes her one of his care workers.
    await h.trainAndSignOff(amira);
    await h.delegateInsulin('jones-evening-insulin');
    h.clock.set('2025-03-03T07:00:00Z');
    levodopa = (await h.given.medicines('MedicationOrdered', { patientId: h.patientId, ...CO_CARELDOPA }, sarah, 'PrescribeMedication')).eventIds[0]!;
    paracetamol = (await h.given.medicines('MedicationOrdered', { patientId: h.patientId, ...PARACETAMOL }, sarah, 'PrescribeMedication')).eventIds[0]!;
    await h.settle();
  });
  afterAll(() => h.close());

  it('holds a timer for each order\'s next dose: the time-critical one at its time plus 30 minutes, the other plus 60', async () => {
    const timers = await h.readModels.query<{ stream: string; due_at: string | Date }>("select stream, due_at from delegation_timers where kind = 'dose' order by due_at");
    expect(timers.map((t) => [t.stream, new Date(t.due_at).toISOString()])).toEqual([
      [`dose-${levodopa}`, '2025-03-03T08:30:00.000Z'],
      [`dose-${paracetamol}`, '2025-03-03T09:00:00.000Z'],
    ]);
  });

  it('fires nothing before a dose is overdue', async () => {
    h.clock.set('2025-03-03T08:29:59Z');
    expect(await firedDoses()).toEqual([]);
  });

  it('the time-critical 08:00 dose with no outcome at 08:30 prompts the care worker: what, and when it was due', async () => {
    h.clock.set('2025-03-03T08:30:00Z');
    const fired = await firedDoses();
    expect(fired.map((f) => f.outcome)).toEqual([`CarePromptIssued to ${amira.id}`]);
    const [issued] = await dosePrompts(levodopa, '2025-03-03T08:00:00.000Z');
    expect(issued!.data).toMatchObject({
      ruleId: 'medicine.dose-overdue',
      careWorkerId: amira.id,
      title: expect.stringMatching(/^Dose overdue: Co-careldopa 25mg\/100mg tablets, 1 tablet oral, due 08:00 .*\(time-critical\)$/),
      dose: { orderId: levodopa, scheduledTime: '08:00', escalateAt: '2025-03-03T08:45:00.000Z', timeCritical: true },
    });
    // Nobody is told yet: the escalation waits for the further interval.
    expect(await doseEscalation(levodopa, '2025-03-03T08:00:00.000Z')).toEqual([]);
  });

  it('her worklist shows the prompt with the dose it is about (the order, its time, time-critical), for her app to link to the dose', async () => {
    await h.settle();
    expect(await amirasDosePrompts()).toEqual([
      expect.objectContaining({
        careWorkerId: amira.id,
        dose: expect.objectContaining({ orderId: levodopa, scheduledTime: '08:00', scheduledAt: '2025-03-03T08:00:00.000Z', timeCritical: true, product: 'Co-careldopa 25mg/100mg tablets', dose: { value: 1, unit: 'tablet' } }),
      }),
    ]);
  });

  it('an outcome recorded in time stops both: the paracetamol given at 08:40 is neither prompted at 09:00 nor escalated', async () => {
    h.clock.set('2025-03-03T08:40:00Z');
    await outcome(paracetamol, PARACETAMOL, '08:00', 'given');
    await h.settle();
    h.clock.set('2025-03-03T10:30:00Z');
    const fired = await firedDoses();
    expect(fired.some((f) => f.stream === `dose-${paracetamol}`)).toBe(false);
    expect(await dosePrompts(paracetamol, '2025-03-03T08:00:00.000Z')).toEqual([]);
    expect(await doseEscalation(paracetamol, '2025-03-03T08:00:00.000Z')).toEqual([]);
  });

  it('still no outcome 15 minutes after the prompt: the time-critical dose is escalated to the nursing team, urgent, once', async () => {
    // The 10:30 run above passed 08:45: the escalation was raised then.
    const events = await doseEscalation(levodopa, '2025-03-03T08:00:00.000Z');
    expect(events.map((e) => e.type)).toEqual(['EscalationRaised', 'EscalationSentToTier']);
    expect(events[0]!.data).toMatchObject({ frameworkId: 'medicines', ruleId: 'medicine.dose-overdue', urgency: 'urgent', patientId: h.patientId });
    // What dose and how late it was when the nursing team was told (the run at 10:30 found it due since 08:45).
    expect((events[0]!.data as { sbard: { situation: string } }).sbard.situation).toMatch(/^Dose with no outcome 2 hours 30 minutes after it was due: Co-careldopa 25mg\/100mg tablets, 1 tablet oral, due 08:00/);
    expect(events[1]!.data).toMatchObject({ tier: 0, recipients: expect.arrayContaining([expect.objectContaining({ practitionerId: sarah.id })]) });
    expect(await firedDoses()).toEqual([]);
  });

  it('across a restart: the 18:00 paracetamol left unrecorded is prompted at 19:00 and escalated (routine) at 20:00, each once', async () => {
    // The 12:00 co-careldopa has its outcome (refused, in time): it fires nothing.
    h.clock.set('2025-03-03T12:10:00Z');
    await outcome(levodopa, CO_CARELDOPA, '12:00', 'refused');
    await h.settle();
    await h.restart();
    h.clock.set('2025-03-03T19:00:00Z');
    expect((await firedDoses()).map((f) => [f.stream, f.outcome])).toEqual([[`dose-${paracetamol}`, `CarePromptIssued to ${amira.id}`]]);
    await h.restart();
    expect(await firedDoses()).toEqual([]);
    h.clock.set('2025-03-03T20:00:00Z');
    const fired = await firedDoses();
    expect(fired.map((f) => f.stream)).toEqual([promptStreamId(dosePromptId(paracetamol, '2025-03-03T18:00:00.000Z', amira.id))]);
    const events = await doseEscalation(paracetamol, '2025-03-03T18:00:00.000Z');
    expect(events[0]!.data).toMatchObject({ ruleId: 'medicine.dose-overdue', urgency: 'routine' });
    expect(await doseEscalation(levodopa, '2025-03-03T12:00:00.000Z')).toEqual([]);
    await h.restart();
    expect(await firedDoses()).toEqual([]);
    expect((await doseEscalation(paracetamol, '2025-03-03T18:00:00.000Z')).filter((e) => e.type === 'EscalationRaised')).toHaveLength(1);
  });

  it('a stopped order fires nothing; the next day\'s time-critical dose is prompted, and its outcome recorded after the prompt stops the escalation', async () => {
    h.clock.set('2025-03-03T21:00:00Z');
    await h.given.medicines('MedicationOrderStopped', { patientId: h.patientId, orderId: paracetamol, reason: 'Pain resolved: stopped by the nurse' }, sarah, 'StopMedicationOrder');
    await h.settle();
    h.clock.set('2025-03-04T08:30:00Z');
    expect((await firedDoses()).map((f) => [f.stream, f.dueAt])).toEqual([[`dose-${levodopa}`, '2025-03-04T08:30:00.000Z']]);
    await h.settle();
    expect((await amirasDosePrompts()).map((p) => p.dose?.scheduledAt)).toContain('2025-03-04T08:00:00.000Z');
    h.clock.set('2025-03-04T08:40:00Z');
    await outcome(levodopa, CO_CARELDOPA, '08:00', 'given');
    await h.settle();
    // The outcome is what the prompt asked for: it is no longer on her worklist, acknowledged or not.
    expect((await amirasDosePrompts()).map((p) => p.dose?.scheduledAt)).not.toContain('2025-03-04T08:00:00.000Z');
    h.clock.set('2025-03-04T10:00:00Z');
    const fired = await firedDoses();
    expect(fired.map((f) => f.outcome)).toEqual([expect.stringMatching(/^not needed: an outcome was recorded/)]);
    expect(await doseEscalation(levodopa, '2025-03-04T08:00:00.000Z')).toEqual([]);
    expect(await dosePrompts(paracetamol, '2025-03-04T08:00:00.000Z')).toEqual([]);
    expect(await doseEscalation(paracetamol, '2025-03-04T08:00:00.000Z')).toEqual([]);
  });

  it('the read model rebuilt from the log holds the same next timers and fires nothing already fired', async () => {
    await h.replayFromScratch();
    await h.settle();
    const timers = await h.readModels.query<{ stream: string; due_at: string | Date }>("select stream, due_at from delegation_timers where kind = 'dose' and stream like 'dose-%'");
    expect(timers.map((t) => [t.stream, new Date(t.due_at).toISOString()])).toEqual([[`dose-${levodopa}`, '2025-03-04T12:30:00.000Z']]);
    expect(await firedDoses()).toEqual([]);
  });
});
