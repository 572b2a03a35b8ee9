import { evolveVisit, NO_VISIT, PlanVisitSchema, visitDeadlines, visitEventDefinitions, EventRegistry, CheckOutVisitSchema, visitFactsFrom, type Actor, type StoredVisitEvent, type VisitEvent, type VisitFacts } from '@tandem/contracts';
import { specification } from './given';
import { issuesOf } from './fixtures';
import { cancelVisit, checkInVisit, checkOutVisit, noticeVisitDeadline, planVisit, rescheduleVisit, type ScheduledDoseInVisit } from '../../src/domain/visits';

const registry = new EventRegistry([...visitEventDefinitions]);
const valid = (event: { type: string; data?: unknown }) => {
  const encoded = registry.encode(event.type, event.data);
  if (!encoded.ok) throw new Error(`${event.type} breaks its contract: ${JSON.stringify(encoded.issues)}`);
};
const { given } = specification<VisitFacts, StoredVisitEvent>(evolveVisit, NO_VISIT, valid);

const PATIENT = '2b0f6a4e-3c1d-4e5f-8a9b-0c1d2e3f4a5b';
const DAY = '2026-12-03';
const at = (hhmm: string) => `${DAY}T${hhmm}:00Z`;
const NOW = new Date(at('20:00'));
const AMIRA: Actor = { id: 'cw-amira', role: 'care-worker' };
const BEN: Actor = { id: 'cw-ben', role: 'care-worker' };
const MANAGER: Actor = { id: 'manager-1', role: 'registered-manager' };
let n = 0;
const key = () => `k-${++n}`;

const stored = (event: VisitEvent, occurredAt = at('07:00')): StoredVisitEvent => ({ ...event, metadata: { occurredAt } }) as StoredVisitEvent;
const TASKS = [
  { taskId: 'wash', description: 'Help with washing and dressing' },
  { taskId: 'insulin', description: 'Insulin (delegated)', delegationId: 'd-insulin-1' },
];
const plannedEvent = (changes: Record<string, unknown> = {}) =>
  stored({
    type: 'VisitPlanned',
    data: { patientId: PATIENT, visitId: 'v-1', providerOrganisationId: 'org-kindly', plannedStart: at('08:00'), plannedEnd: at('08:45'), careWorkerIds: ['cw-amira'], tasks: TASKS, lateToleranceMinutes: 30, ...changes },
  } as VisitEvent);
const checkedIn = (time = '08:05') => stored({ type: 'VisitCheckedIn', data: { visitId: 'v-1', careWorkerId: 'cw-amira' } }, at(time));

const plan = (changes: Record<string, unknown> = {}) =>
  PlanVisitSchema.parse({
    idempotencyKey: key(),
    patientId: PATIENT,
    occurredAt: at('07:00'),
    visitId: 'v-1',
    providerOrganisationId: 'org-kindly',
    plannedStart: at('08:00'),
    plannedEnd: at('08:45'),
    careWorkerIds: ['cw-amira'],
    tasks: TASKS,
    ...changes,
  });
const planCtx = { now: NOW, actor: MANAGER, defaultLateToleranceMinutes: 30 };
const visitCmd = (changes: Record<string, unknown> = {}) => ({ idempotencyKey: key(), patientId: PATIENT, occurredAt: at('08:05'), visitId: 'v-1', ...changes });
const outcomes = [
  { taskId: 'wash', outcome: 'done' as const },
  { taskId: 'insulin', outcome: 'done' as const },
];
const dose = (outcome?: string): ScheduledDoseInVisit => ({ doseId: 'd-insulin-1@2026-12-03T08:00:00.000Z', description: '8 units of Humulin I KwikPen at 08:00', dueAt: '2026-12-03T08:00:00.000Z', ...(outcome ? { outcome } : {}) });

describe('planning a visit (the registered manager or the rostering system)', () => {
  it('given no visit, when planned, then VisitPlanned with the LOCAL tolerance when none is given', () => {
    given().when((s) => planVisit(plan(), s, planCtx)).then((events) => {
      expect(events.map((e) => e.type)).toEqual(['VisitPlanned']);
      expect(events[0]!.data).toMatchObject({ lateToleranceMinutes: 30, careWorkerIds: ['cw-amira'] });
    });
  });

  it('given a planned visit, when the same roster is sent again, then nothing is recorded', () => {
    given(plannedEvent()).when((s) => planVisit(plan(), s, planCtx)).then([]);
  });

  it('given a planned visit, when the roster moves it and changes the care worker, then VisitRescheduled and VisitReplanned', () => {
    given(plannedEvent())
      .when((s) => planVisit(plan({ plannedStart: at('09:00'), plannedEnd: at('09:45'), careWorkerIds: ['cw-ben'] }), s, planCtx))
      .then(['VisitRescheduled', 'VisitReplanned']);
  });

  it('given a visit checked in, when the roster changes it, then refused naming visitId', () => {
    given(plannedEvent(), checkedIn()).when((s) => planVisit(plan({ careWorkerIds: ['cw-ben'] }), s, planCtx)).thenRefused('visit.already-started', 'visitId');
  });

  it('given a visit of one provider, when another provider plans the same id, then refused naming providerOrganisationId', () => {
    given(plannedEvent()).when((s) => planVisit(plan({ providerOrganisationId: 'org-other' }), s, planCtx)).thenRefused('visit.other-provider', 'providerOrganisationId');
  });

  it('refuses an end before the start, and a visit with no care worker, naming the field', () => {
    expect(issuesOf(PlanVisitSchema, { ...plan(), plannedEnd: at('07:00') })).toEqual([{ path: 'plannedEnd', message: 'must be after plannedStart' }]);
    expect(issuesOf(PlanVisitSchema, { ...plan(), careWorkerIds: [] })).toEqual([{ path: 'careWorkerIds', message: 'must name at least one care worker' }]);
    expect(issuesOf(PlanVisitSchema, { ...plan(), plannedStart: 'tomorrow' }).map((i) => i.path)).toEqual(['plannedStart']);
  });

  it('given a planned visit, when rescheduled and then cancelled, then each is an event; a second cancel records nothing', () => {
    given(plannedEvent()).when((s) => rescheduleVisit({ ...visitCmd(), plannedStart: at('10:00'), plannedEnd: at('10:30'), reason: 'hospital appointment' }, s, { now: NOW, actor: MANAGER })).then(['VisitRescheduled']);
    given(plannedEvent()).when((s) => cancelVisit({ ...visitCmd(), reason: 'in hospital' }, s, { now: NOW, actor: MANAGER })).then(['VisitCancelled']);
    given(plannedEvent(), stored({ type: 'VisitCancelled', data: { visitId: 'v-1', reason: 'in hospital' } })).when((s) => cancelVisit({ ...visitCmd(), reason: 'in hospital' }, s, { now: NOW, actor: MANAGER })).then([]);
  });
});

describe('check-in (only the care worker assigned; location never required)', () => {
  it('given a planned visit, when the assigned care worker checks in on time without a location, then VisitCheckedIn with no lateness', () => {
    given(plannedEvent()).when((s) => checkInVisit(visitCmd(), s, { now: NOW, actor: AMIRA })).then((events) => {
      expect(events).toEqual([{ type: 'VisitCheckedIn', data: { visitId: 'v-1', careWorkerId: 'cw-amira' } }]);
    });
  });

  it('given a planned visit, when she checks in 50 minutes after the planned start (tolerance 30), then the lateness is recorded', () => {
    given(plannedEvent()).when((s) => checkInVisit(visitCmd({ occurredAt: at('08:50'), location: { latitude: 53.8, longitude: -1.55, accuracyMetres: 12 } }), s, { now: NOW, actor: AMIRA })).then((events) => {
      expect(events[0]!.data).toEqual({ visitId: 'v-1', careWorkerId: 'cw-amira', lateByMinutes: 50, location: { latitude: 53.8, longitude: -1.55, accuracyMetres: 12 } });
    });
  });

  it('given a visit assigned to Amira, when Ben checks in, then refused naming actor.id', () => {
    given(plannedEvent()).when((s) => checkInVisit(visitCmd(), s, { now: NOW, actor: BEN })).thenRefused('visit.not-assigned', 'actor.id');
  });

  it('given a cancelled visit, when checked in, then refused; given none, refused naming visitId', () => {
    given(plannedEvent(), stored({ type: 'VisitCancelled', data: { visitId: 'v-1', reason: 'in hospital' } })).when((s) => checkInVisit(visitCmd(), s, { now: NOW, actor: AMIRA })).thenRefused('visit.cancelled', 'visitId');
    given().when((s) => checkInVisit(visitCmd(), s, { now: NOW, actor: AMIRA })).thenRefused('visit.unknown', 'visitId');
  });

  it('given a visit for another person, when checked in for this one, then refused naming patientId', () => {
    given(plannedEvent({ patientId: '9b0f6a4e-3c1d-4e5f-8a9b-0c1d2e3f4a5b' })).when((s) => checkInVisit(visitCmd(), s, { now: NOW, actor: AMIRA })).thenRefused('visit.for-another-person', 'patientId');
  });

  it('refuses a check-in time in the future, and a latitude of 200, naming the field', () => {
    given(plannedEvent()).when((s) => checkInVisit(visitCmd({ occurredAt: at('23:00') }), s, { now: NOW, actor: AMIRA })).thenRefused('time.in-future', 'occurredAt');
    expect(issuesOf(CheckOutVisitSchema, { ...visitCmd(), tasks: [], location: { latitude: 200, longitude: 0 } })).toEqual([{ path: 'location.latitude', message: 'latitude must be between -90 and 90' }]);
  });
});

describe('check-out: every task has an outcome, and a scheduled medicine left without one needs her reason', () => {
  const out = (changes: Record<string, unknown> = {}) => CheckOutVisitSchema.parse({ ...visitCmd({ occurredAt: at('08:40') }), tasks: outcomes, ...changes });

  it('given a visit checked in and the dose given, when she checks out with every task done, then VisitCheckedOut', () => {
    given(plannedEvent(), checkedIn()).when((s) => checkOutVisit(out(), s, { now: NOW, actor: AMIRA, dosesDue: [dose('given')] })).then(['VisitCheckedOut']);
  });

  it('given a visit checked in, when a task is left out, then refused naming tasks and the task', () => {
    given(plannedEvent(), checkedIn()).when((s) => checkOutVisit(out({ tasks: [outcomes[0]] }), s, { now: NOW, actor: AMIRA, dosesDue: [] })).thenRefused('visit.task-without-outcome', 'tasks');
  });

  it('refuses a task not done without a reason, naming tasks.0.reason', () => {
    expect(issuesOf(CheckOutVisitSchema, { ...visitCmd(), tasks: [{ taskId: 'wash', outcome: 'not-done' }] })).toEqual([{ path: 'tasks.0.reason', message: 'is required when a task is not done: say why' }]);
  });

  it('given the insulin dose due at 08:00 has no outcome, when she checks out without a reason, then refused naming unrecordedDosesReason', () => {
    given(plannedEvent(), checkedIn()).when((s) => checkOutVisit(out(), s, { now: NOW, actor: AMIRA, dosesDue: [dose()] })).thenRefused('visit.dose-without-outcome', 'unrecordedDosesReason');
  });

  it('given the dose has no outcome, when she says why, then the visit closes naming the dose and her reason', () => {
    given(plannedEvent(), checkedIn())
      .when((s) => checkOutVisit(out({ unrecordedDosesReason: 'Pen not in the house; nurse told by phone' }), s, { now: NOW, actor: AMIRA, dosesDue: [dose()] }))
      .then((events) => {
        expect(events[0]!.data).toMatchObject({ unrecordedDoses: [{ doseId: dose().doseId, description: dose().description, dueAt: dose().dueAt }], unrecordedDosesReason: 'Pen not in the house; nurse told by phone' });
      });
  });

  it('given a visit not checked in, or already closed, when checked out, then refused naming visitId', () => {
    given(plannedEvent()).when((s) => checkOutVisit(out(), s, { now: NOW, actor: AMIRA, dosesDue: [] })).thenRefused('visit.not-checked-in', 'visitId');
    given(plannedEvent(), checkedIn(), stored({ type: 'VisitCheckedOut', data: { visitId: 'v-1', careWorkerId: 'cw-amira', tasks: outcomes } }, at('08:40')))
      .when((s) => checkOutVisit(out(), s, { now: NOW, actor: AMIRA, dosesDue: [] }))
      .thenRefused('visit.already-checked-out', 'visitId');
  });

  it('given a check-in at 08:05, when the check-out says 07:50, then refused naming occurredAt; a task not planned names tasks.i.taskId', () => {
    given(plannedEvent(), checkedIn()).when((s) => checkOutVisit(out({ occurredAt: at('07:50') }), s, { now: NOW, actor: AMIRA, dosesDue: [] })).thenRefused('visit.out-before-in', 'occurredAt');
    given(plannedEvent(), checkedIn())
      .when((s) => checkOutVisit(out({ tasks: [...outcomes, { taskId: 'hoover', outcome: 'done' }] }), s, { now: NOW, actor: AMIRA, dosesDue: [] }))
      .thenRefused('visit.unknown-task', 'tasks.2.taskId');
  });
});

describe('late and missed: the deadlines a visit gives the scheduler, each noticed once', () => {
  it('given a planned visit, then it is due late at start + tolerance and missed at its end', () => {
    expect(visitDeadlines(visitFactsFrom([plannedEvent()]))).toEqual([
      { kind: 'late', dueAt: '2026-12-03T08:30:00.000Z' },
      { kind: 'missed', dueAt: '2026-12-03T08:45:00.000Z' },
    ]);
  });

  it('given a visit checked in or cancelled, then it has no deadline', () => {
    expect(visitDeadlines(visitFactsFrom([plannedEvent(), checkedIn()]))).toEqual([]);
    expect(visitDeadlines(visitFactsFrom([plannedEvent(), stored({ type: 'VisitCancelled', data: { visitId: 'v-1', reason: 'in hospital' } })]))).toEqual([]);
  });

  it('given the late deadline passed, when noticed, then VisitLateNoticed; noticed again, nothing', () => {
    const late = { visitId: 'v-1', kind: 'late' as const, dueAt: '2026-12-03T08:30:00.000Z' };
    given(plannedEvent()).when((s) => noticeVisitDeadline(late, s).events).then(['VisitLateNoticed']);
    given(plannedEvent(), stored({ type: 'VisitLateNoticed', data: { visitId: 'v-1', dueAt: late.dueAt, plannedStart: at('08:00') } })).when((s) => noticeVisitDeadline(late, s).events).then([]);
    expect(visitDeadlines(visitFactsFrom([plannedEvent(), stored({ type: 'VisitLateNoticed', data: { visitId: 'v-1', dueAt: late.dueAt, plannedStart: at('08:00') } })]))).toEqual([{ kind: 'missed', dueAt: '2026-12-03T08:45:00.000Z' }]);
  });

  it('given a visit noticed late, then its version is still the Appointment version a client read (lateness changes nothing the Appointment shows), so its If-Match holds (H108)', () => {
    const noticed = stored({ type: 'VisitLateNoticed', data: { visitId: 'v-1', dueAt: '2026-12-03T08:30:00.000Z', plannedStart: at('08:00') } });
    const facts = visitFactsFrom([plannedEvent(), noticed]);
    expect(facts.planned && facts.version).toBe(1);
    // Every change the Appointment does show is a version of it.
    const moved = visitFactsFrom([plannedEvent(), noticed, stored({ type: 'VisitRescheduled', data: { visitId: 'v-1', plannedStart: at('10:00'), plannedEnd: at('10:30') } })]);
    expect(moved.planned && moved.version).toBe(2);
  });

  it('given the visit was checked in or moved before its deadline fired, when noticed, then nothing', () => {
    const missed = { visitId: 'v-1', kind: 'missed' as const, dueAt: '2026-12-03T08:45:00.000Z' };
    given(plannedEvent(), checkedIn('08:44')).when((s) => noticeVisitDeadline(missed, s).events).then([]);
    given(plannedEvent(), stored({ type: 'VisitRescheduled', data: { visitId: 'v-1', plannedStart: at('10:00'), plannedEnd: at('10:30') } })).when((s) => noticeVisitDeadline(missed, s).events).then([]);
    given(plannedEvent()).when((s) => noticeVisitDeadline(missed, s).events).then(['VisitMissed']);
  });
});
