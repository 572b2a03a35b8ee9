import { DMD_SYSTEM, streamName, type Actor, type EscalationSentToTierData } from '@tandem/contracts';
import { nameBasedId } from '@tandem/delegation';
import { CareRecord } from '@tandem/record';
import { amira, CARE_AGENCY, Harness, key, sarah, tom } from '../../../services/delegation/test/application/harness';

/**
 * The record's visits and the delegation service's scheduler composed, as apps/tandem composes them
 * (delegation's own tests run without the record: it imports nothing from it), on the delegation
 * test harness with the record's VisitBook as its port. Late and missed visits (issue 13): the scheduler notices a visit not checked in beyond its
 * tolerance, and one whose planned end passed with no check-in, once each, across restarts, and
 * escalates each to the registered manager of the provider (docs/decisions/0025-visits.md).
 */
const maya: Actor = { id: 'manager-maya', role: 'registered-manager', organisation: CARE_AGENCY };
const DAY = '2025-03-03';
const at = (hhmm: string) => `${DAY}T${hhmm}:00.000Z`;

let care: CareRecord;
/** The harness with the record's visits as the scheduler's port (the last one made is `care`). */
const harness = (start: string) =>
  Harness.create(start, { visits: (store, clock) => (care = new CareRecord(store, () => clock.now(), { idSecret: 'visit-deadlines-test-id-secret-0123456789' })).visits });

describe('late and missed visits reach the provider’s registered manager, once each, across restarts', () => {
  let h: Harness;

  const plan = (visitId: string, start: string, end: string, careWorkerIds = [amira.id]) =>
    care.visits.plan(
      {
        idempotencyKey: key('visit'),
        occurredAt: h.now(),
        patientId: h.patientId,
        visitId,
        providerOrganisationId: CARE_AGENCY,
        plannedStart: at(start),
        plannedEnd: at(end),
        careWorkerIds,
        tasks: [{ taskId: 'breakfast', description: 'Breakfast and a drink' }],
      },
      maya,
    );
  const escalationOf = (visitId: string, kind: 'late' | 'missed', dueAt: string) => streamName.escalation(nameBasedId(`visit|${kind}|${visitId}|${dueAt}`));
  const types = async (stream: string) => (await h.eventsOf(stream)).map((e) => e.type);

  beforeAll(async () => {
    h = await harness(`${DAY}T07:00:00Z`);
    await care.registerOrganisation({ idempotencyKey: key('org'), occurredAt: h.now(), organisationId: CARE_AGENCY, name: 'Kindly Care', type: 'care-agency' }, maya);
    await h.registerPractitioner(maya, CARE_AGENCY);
    // The agency's rota names its registered manager (how the recipients find her: docs/clinical/escalation-recipients.md).
    await h.setRota(CARE_AGENCY, [], maya.id);
    await plan('v-morning', '08:00', '08:45');
    await h.settle();
  });
  afterAll(() => h.close());

  it('fires nothing before the planned start plus the tolerance (30 minutes)', async () => {
    h.clock.set(at('08:29'));
    expect(await h.core.scheduler.runDue()).toEqual([]);
  });

  it('after a restart, at 08:30 the visit not checked in is late: noticed on the visit and escalated to Maya, once', async () => {
    await h.restart();
    h.clock.set(at('08:30'));
    const fired = await h.core.scheduler.runDue();
    expect(fired.map((f) => [f.kind, f.dueAt])).toEqual([['visit', at('08:30')]]);
    expect(await types(streamName.visit('v-morning'))).toEqual(['VisitPlanned', 'VisitLateNoticed']);
    const escalation = await h.eventsOf(escalationOf('v-morning', 'late', at('08:30')));
    expect(escalation.map((e) => e.type)).toEqual(['EscalationRaised', 'EscalationSentToTier']);
    expect(escalation[0]!.data).toMatchObject({ frameworkId: 'care-visits', ruleId: 'visit.late', urgency: 'urgent', visitId: 'v-morning', patientId: h.patientId });
    expect((escalation[0]!.data as { sbard: { situation: string } }).sbard.situation).toContain('Visit late');
    expect(escalation[1]!.data as EscalationSentToTierData).toMatchObject({ tier: 0, recipient: 'registered-manager-of-provider', recipients: [{ practitionerId: maya.id }] });
    await h.settle();
    expect(await h.core.scheduler.runDue()).toEqual([]);
  });

  it('after another restart, at 08:45 with still no check-in the visit is missed: noticed and escalated once, an incident', async () => {
    await h.restart();
    h.clock.set(at('08:45'));
    const fired = await h.core.scheduler.runDue();
    expect(fired.map((f) => [f.kind, f.dueAt])).toEqual([['visit', at('08:45')]]);
    expect(await types(streamName.visit('v-morning'))).toEqual(['VisitPlanned', 'VisitLateNoticed', 'VisitMissed']);
    const escalation = await h.eventsOf(escalationOf('v-morning', 'missed', at('08:45')));
    expect(escalation[0]!.data).toMatchObject({ ruleId: 'visit.missed', incident: true });
    expect(escalation[1]!.data).toMatchObject({ recipients: [{ practitionerId: maya.id }] });
    await h.settle();
    h.clock.set(at('08:50'));
    expect((await h.core.scheduler.runDue()).filter((f) => f.kind === 'visit')).toEqual([]);
  });

  it('Maya acknowledges the missed visit at the first tier', async () => {
    const escalationId = nameBasedId(`visit|missed|v-morning|${at('08:45')}`);
    const acknowledged = await h.core.commands.escalation({ type: 'AcknowledgeEscalation', escalationId, idempotencyKey: key(), occurredAt: h.now(), note: 'Tom is on his way' }, maya);
    expect(acknowledged.eventTypes).toEqual(['EscalationAcknowledged']);
  });

  it('a care worker who checks in late has the lateness recorded, and nothing is escalated', async () => {
    await plan('v-lunch', '12:00', '13:00', [tom.id]);
    await h.settle();
    h.clock.set(at('12:40'));
    const checkIn = await care.visits.checkIn({ idempotencyKey: key(), occurredAt: h.now(), patientId: h.patientId, visitId: 'v-lunch' }, tom);
    expect(checkIn.eventTypes).toEqual(['VisitCheckedIn']);
    expect((await h.eventsOf(streamName.visit('v-lunch'))).at(-1)!.data).toMatchObject({ careWorkerId: tom.id, lateByMinutes: 40 });
    await h.settle();
    h.clock.set(at('13:30'));
    expect((await h.core.scheduler.runDue()).filter((f) => f.stream === streamName.visit('v-lunch'))).toEqual([]);
    expect(await h.readModels.query('select * from delegation_timers where stream = $1', [streamName.visit('v-lunch')])).toEqual([]);
  });

  it('a crash right after the visit was noticed missed: the reactions, restarted from their checkpoint, still escalate it, once', async () => {
    await plan('v-tea', '16:00', '16:30');
    await h.settle();
    // The scheduler noticed the miss on the visit, then the process died before anything reacted to it.
    await h.core.scheduler.stop();
    await h.core.processor.stop();
    h.clock.set(at('16:30'));
    const noticed = await care.visits.noticeDeadline({ visitId: 'v-tea', kind: 'missed', dueAt: at('16:30') }, { id: 'tandem-delegation', role: 'system' });
    expect(noticed.eventTypes).toEqual(['VisitMissed']);
    expect(await h.eventsOf(escalationOf('v-tea', 'missed', at('16:30')))).toEqual([]);
    await h.restart();
    await h.settle();
    expect(await types(escalationOf('v-tea', 'missed', at('16:30')))).toEqual(['EscalationRaised', 'EscalationSentToTier']);
    // The notice took the visit's deadline away: nothing is left to fire, and nothing is noticed twice.
    expect((await h.core.scheduler.runDue()).filter((f) => f.stream === streamName.visit('v-tea'))).toEqual([]);
    expect(await types(streamName.visit('v-tea'))).toEqual(['VisitPlanned', 'VisitMissed']);
    expect(await types(escalationOf('v-tea', 'missed', at('16:30')))).toEqual(['EscalationRaised', 'EscalationSentToTier']);
  });

  it('a cancelled visit is never late or missed', async () => {
    await plan('v-supper', '19:00', '19:30');
    await care.visits.cancel({ idempotencyKey: key(), occurredAt: h.now(), patientId: h.patientId, visitId: 'v-supper', reason: 'Family visiting and giving supper' }, maya);
    await h.settle();
    h.clock.set(at('20:00'));
    expect((await h.core.scheduler.runDue()).filter((f) => f.stream === streamName.visit('v-supper'))).toEqual([]);
    expect(await types(streamName.visit('v-supper'))).toEqual(['VisitPlanned', 'VisitCancelled']);
  });
});

/**
 * "A visit cannot be closed while a scheduled medicine has no outcome, unless she says why": the
 * check-out asks the record's scheduled doses due in the visit (here the insulin case, the only
 * scheduled medicine before the MAR: the delegation's instruction, 8 units at 18:00).
 */
describe('the evening visit cannot close while the 18:00 insulin has no outcome, unless she says why', () => {
  let h: Harness;
  const DELEGATION = 'jones-evening-insulin';
  const out = (extra: Record<string, unknown> = {}) =>
    care.visits.checkOut({ idempotencyKey: key(), occurredAt: h.now(), patientId: h.patientId, visitId: 'v-evening', tasks: [{ taskId: 'insulin', outcome: 'done' }], ...extra }, amira);

  beforeAll(async () => {
    h = await harness('2025-03-03T09:00:00Z');
    await care.registerOrganisation({ idempotencyKey: key('org'), occurredAt: h.now(), organisationId: CARE_AGENCY, name: 'Kindly Care', type: 'care-agency' }, maya);
    await h.trainAndSignOff(amira);
    await h.delegateInsulin(DELEGATION);
    h.clock.set(at('17:00'));
    await care.visits.plan(
      {
        idempotencyKey: key('visit'),
        occurredAt: h.now(),
        patientId: h.patientId,
        visitId: 'v-evening',
        providerOrganisationId: CARE_AGENCY,
        plannedStart: at('17:45'),
        plannedEnd: at('18:30'),
        careWorkerIds: [amira.id],
        tasks: [{ taskId: 'insulin', description: 'Evening insulin', delegationId: DELEGATION }],
      },
      maya,
    );
    h.clock.set(at('17:50'));
    await care.visits.checkIn({ idempotencyKey: key(), occurredAt: h.now(), patientId: h.patientId, visitId: 'v-evening' }, amira);
  });
  afterAll(() => h.close());

  it('with no dose recorded, the check-out is refused naming unrecordedDosesReason and the dose', async () => {
    h.clock.set(at('18:10'));
    await expect(out()).rejects.toMatchObject({ code: 'visit.dose-without-outcome', field: 'unrecordedDosesReason', message: expect.stringContaining('8 units of Humulin I KwikPen at 18:00') });
    expect((await h.eventsOf(streamName.visit('v-evening'))).map((e) => e.type)).toEqual(['VisitPlanned', 'VisitCheckedIn']);
  });

  it('once the dose is given, the visit closes with nothing left unrecorded', async () => {
    await h.insulin();
    h.clock.set(at('18:15'));
    const closed = await out();
    expect(closed.eventTypes).toEqual(['VisitCheckedOut']);
    expect((await h.eventsOf(streamName.visit('v-evening'))).at(-1)!.data).not.toHaveProperty('unrecordedDoses');
  });
});

describe('a visit closed with the dose left unrecorded names it, with her reason', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness('2025-03-03T09:00:00Z');
    await care.registerOrganisation({ idempotencyKey: key('org'), occurredAt: h.now(), organisationId: CARE_AGENCY, name: 'Kindly Care', type: 'care-agency' }, maya);
    await h.trainAndSignOff(amira);
    await h.delegateInsulin('jones-insulin-2');
    h.clock.set(at('17:40'));
    const v = { idempotencyKey: key(), occurredAt: h.now(), patientId: h.patientId, visitId: 'v-2' };
    await care.visits.plan({ ...v, providerOrganisationId: CARE_AGENCY, plannedStart: at('17:45'), plannedEnd: at('18:30'), careWorkerIds: [amira.id], tasks: [{ taskId: 'insulin', description: 'Evening insulin', delegationId: 'jones-insulin-2' }] }, maya);
    await care.visits.checkIn({ ...v, idempotencyKey: key() }, amira);
  });
  afterAll(() => h.close());

  it('closes with the dose named and the reason kept', async () => {
    h.clock.set(at('18:20'));
    const reason = 'Pen not in the house; the nurse was told by phone';
    const closed = await care.visits.checkOut(
      { idempotencyKey: key(), occurredAt: h.now(), patientId: h.patientId, visitId: 'v-2', tasks: [{ taskId: 'insulin', outcome: 'not-done', reason: 'No pen' }], unrecordedDosesReason: reason },
      amira,
    );
    expect(closed.eventTypes).toEqual(['VisitCheckedOut']);
    expect((await h.eventsOf(streamName.visit('v-2'))).at(-1)!.data).toMatchObject({
      unrecordedDoses: [{ doseId: 'jones-insulin-2@2025-03-03T18:00:00.000Z', description: '8 units of Humulin I KwikPen at 18:00', dueAt: '2025-03-03T18:00:00.000Z' }],
      unrecordedDosesReason: reason,
    });
  });
});

describe('the evening visit cannot close while a prescribed tablet due at 18:00 has no outcome (the MAR), unless she says why', () => {
  let h: Harness;
  let orderId: string;
  const out = (extra: Record<string, unknown> = {}) =>
    care.visits.checkOut({ idempotencyKey: key(), occurredAt: h.now(), patientId: h.patientId, visitId: 'v-tablet', tasks: [{ taskId: 'tea', outcome: 'done' }], ...extra }, amira);

  beforeAll(async () => {
    h = await harness('2025-03-03T09:00:00Z');
    await care.registerOrganisation({ idempotencyKey: key('org'), occurredAt: h.now(), organisationId: CARE_AGENCY, name: 'Kindly Care', type: 'care-agency' }, maya);
    const prescribed = await care.recordMedicines(
      'PrescribeMedication',
      {
        idempotencyKey: key('order'),
        occurredAt: h.now(),
        patientId: h.patientId,
        product: { system: DMD_SYSTEM, code: '42206511000001102', display: 'Amlodipine 5mg tablets' },
        dose: { value: 1, unit: 'tablet' },
        route: 'oral',
        timing: { kind: 'scheduled', times: ['18:00'] },
        start: h.now(),
      },
      sarah,
    );
    orderId = prescribed.id!;
    h.clock.set(at('17:40'));
    const v = { idempotencyKey: key(), occurredAt: h.now(), patientId: h.patientId, visitId: 'v-tablet' };
    await care.visits.plan({ ...v, providerOrganisationId: CARE_AGENCY, plannedStart: at('17:45'), plannedEnd: at('18:30'), careWorkerIds: [amira.id], tasks: [{ taskId: 'tea', description: 'Tea and his tablets' }] }, maya);
    await care.visits.checkIn({ ...v, idempotencyKey: key() }, amira);
  });
  afterAll(() => h.close());

  it('refuses the check-out naming unrecordedDosesReason and the tablet, in its own unit', async () => {
    h.clock.set(at('18:10'));
    await expect(out()).rejects.toMatchObject({ field: 'unrecordedDosesReason', message: expect.stringContaining('1 tablet of Amlodipine 5mg tablets at 18:00') });
  });

  it('closes once the dose has an outcome (he refused it)', async () => {
    await care.recordCare('RecordMedicineDose', { idempotencyKey: key('dose'), occurredAt: h.now(), patientId: h.patientId, orderId, outcome: 'refused', scheduledTime: '18:00', reason: 'He said he had taken it with his daughter' }, amira);
    h.clock.set(at('18:15'));
    expect((await out()).eventTypes).toEqual(['VisitCheckedOut']);
  });
});
