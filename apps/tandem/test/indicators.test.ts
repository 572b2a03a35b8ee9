import { mintToken, type MintClaims } from '@tandem/auth';
import type { Actor } from '@tandem/contracts';
import { ManualClock, nameBasedId, reactionEscalationId, type DelegationService } from '@tandem/delegation';
import { expectValidFhir } from '@tandem/fhir-validation';
import type { createProjectionsService } from '@tandem/projections';
import type { createRecordService } from '@tandem/record';
import Client from 'fhir-kit-client';
import type { Bundle, CapabilityStatement, Measure, MeasureReport } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData, seedDemoRotas } from '../src/demo/demo-data';

/**
 * Issue 15, the indicators' first slice, on a real embedded Tandem with the test clock: a fixed
 * month of care made through the real commands, whose every figure is counted by hand below.
 * Hazard H100: an indicator that undercounts missed care misleads an inspector; this hand-counted
 * scenario is its control (docs/decisions/0032-care-quality-indicators.md).
 *
 * The scenario, in England (December: UTC). Kindly Care at Home provides every visit; each person's
 * care team is the nurse (North Leeds District Nursing), the GP (Riverside Surgery) and a care
 * worker of Kindly Care, so every item counts for Kindly Care.
 *
 * 1 December, visits planned by Helen Clarke (the agency's registered manager):
 *   person 0 (Amira): v1 08:00-08:30 attended in full; v2 12:00-12:30 out at 12:15 (short); v3 17:00-17:30 missed
 *   person 1 (Tom):   v4 08:00-08:45 in 08:05, out 08:45 (40 of 45 minutes: within the 5-minute tolerance); v5 12:00-12:30 missed; v6 17:00-17:30 in full
 *   person 2 (Grace): v7 09:00-09:30 in full; v8 13:00-13:30 in full; v9 18:00-18:30 cancelled (not counted)
 *   -> 8 visits planned, 2 missed; 6 completed, 1 short.
 * Escalations, as Tandem raises them: v5 missed (raised 12:30, acknowledged by Helen 12:40: 10
 *   minutes, in time); a low glucose for person 2 (raised 14:00, urgent, deadline 14:30;
 *   acknowledged by Sarah at 14:45: 45 minutes, late); its recheck, never recorded (raised 14:30, not
 *   acknowledged); v3 missed (raised 17:30, acknowledged 17:50: 20 minutes, in time); and on
 *   2 December the three doses still without an outcome past their tolerance, each escalated to the
 *   nursing team when the scheduler found them (co-careldopa 12:00, paracetamol 12:00 and 18:00),
 *   none acknowledged.
 *   -> 7 raised, 2 acknowledged in time; median minutes to acknowledge (10, 20, 45) 20.
 * Vital signs: 4 sets, the last without a temperature -> 3 of 4 complete.
 * Notes: 6, two of them typed up late (they happened on 20 November) -> with 4 vital signs, 1 glucose
 *   and 9 dose outcomes, 20 entries, 2 late (a seventh note, written in the wrong person's record and
 *   marked entered in error, counts for nothing).
 * 2 December, scheduled doses for person 2 (amoxicillin 08:00 14:00 20:00; co-careldopa, time-critical,
 *   08:00 12:00 16:00 20:00) and person 1 (paracetamol 08:00 12:00 18:00); tolerance 60 minutes,
 *   30 for a time-critical medicine (the medicines ruleset's):
 *   amoxicillin given 08:10, 14:30, 20:50 (all on time); co-careldopa 08:05, 12:40 (late), 16:20, 20:00;
 *   paracetamol 08:00, 12:00 never recorded by anyone (the scheduler finds it overdue and, with
 *   nobody on a visit to prompt, escalates it: that is how it is counted), 18:00 given 19:30 (late)
 *   -> 10 due, 7 on time, 2 late, 1 missed; time-critical: 4 due, 3 on time.
 */

const DMD = 'https://dmd.nhs.uk';
const AMOXICILLIN = { system: DMD, code: '39732411000001106', display: 'Amoxicillin 500mg capsules' };
const PARACETAMOL = { system: DMD, code: '42109611000001109', display: 'Paracetamol 500mg tablets' };
const CO_CARELDOPA = { system: DMD, code: '39109211000001108', display: 'Co-careldopa 25mg/100mg tablets' };
const AGENCY = DEMO.careAgency.organisationId;
const MONTH = '2026-12';

describe('care-quality indicators equal the hand count of a fixed month, before and after a rebuild', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientIds: string[];
  const clock = new ManualClock('2026-12-01T07:00:00Z');
  const at = (day: '01' | '02', hhmm: string) => `2026-12-${day}T${hhmm}:00.000Z`;
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const auditor = () => token({ role: 'auditor', user: 'cqc-inspector-ivy' });
  const manager = () => token({ role: 'registered-manager', user: DEMO.manager.practitionerId, org: AGENCY });
  const careWorker = () => token({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: AGENCY });
  const helen: Actor = { id: DEMO.manager.practitionerId, role: 'registered-manager', organisation: AGENCY };
  const sarah: Actor = { id: DEMO.nurse.practitionerId, role: 'district-nurse', registration: DEMO.nurse.registration, organisation: DEMO.nursingTeam.organisationId };
  const workers: Actor[] = DEMO.careWorkers.map((w) => ({ id: w.practitionerId, role: 'care-worker', organisation: AGENCY }));
  let n = 0;
  const key = () => `indicators-test-${++n}`;

  const record = () => (tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>).care;
  const delegation = () => tandem.services.find((s) => s.name === 'delegation') as DelegationService;
  const runner = () => (tandem.services.find((s) => s.name === 'projections') as ReturnType<typeof createProjectionsService>).runner;
  /** Moves the clock, lets the scheduler fire what fell due and the reactions settle. */
  const moveTo = async (instant: string) => {
    clock.set(instant);
    await delegation().scheduler.runDue();
    await delegation().processor.settle(60_000);
  };
  /** The read models hold everything recorded so far. */
  const caughtUp = async () => {
    await delegation().processor.settle(60_000);
    expect(await runner().waitFor(await tandem.storage.store.headPosition(), 30_000)).toBe(true);
  };
  const get = async (path: string, bearer: string) => {
    const response = await fetch(`${tandem.url}${path}`, { headers: { authorization: `Bearer ${bearer}` } });
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: (await response.json()) as Record<string, unknown> };
  };
  type Figure = { id: string; numerator: number; denominator: number; value: number | null; medianMinutesToAcknowledge?: number | null; entries: string };
  const figures = async (bearer: string, query = `organisation=${AGENCY}&period=${MONTH}`) => {
    const answer = await get(`/api/indicators?${query}`, bearer);
    expect(answer.status).toBe(200);
    return Object.fromEntries((answer.body.indicators as Figure[]).map((f) => [f.id, f]));
  };
  const counts = (all: Record<string, Figure>) => Object.fromEntries(Object.entries(all).map(([id, f]) => [id, [f.numerator, f.denominator]]));

  /** Every figure of the month, counted by hand from the scenario above. */
  const HAND_COUNT = {
    'missed-visits': [2, 8],
    'short-visits': [1, 6],
    'scheduled-doses-on-time': [7, 10],
    'time-critical-doses-on-time': [3, 4],
    'news2-sets-complete': [3, 4],
    'escalations-acknowledged-in-time': [2, 7],
    'late-entries': [2, 20],
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-indicators-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }), { clock });
    ({ patientIds } = await seedDemoData(record(), { patients: 3, days: 0, now: clock.now() }));
    await seedDemoRotas(delegation().commands);
    // The agency's rota names its registered manager: a late or missed visit reaches Helen first.
    await delegation().commands.setOnCallRota({ idempotencyKey: key(), occurredAt: clock.now().toISOString(), organisationId: AGENCY, shifts: [], registeredManager: helen.id }, helen);
    const care = record();
    const now = () => clock.now().toISOString();
    const [p0, p1, p2] = patientIds as [string, string, string];
    const [amira, tom, grace] = workers as [Actor, Actor, Actor];

    // --- 1 December: visits -------------------------------------------------------------------
    const visits: [string, string, string, string, Actor][] = [
      ['v1', p0, '08:00', '08:30', amira],
      ['v2', p0, '12:00', '12:30', amira],
      ['v3', p0, '17:00', '17:30', amira],
      ['v4', p1, '08:00', '08:45', tom],
      ['v5', p1, '12:00', '12:30', tom],
      ['v6', p1, '17:00', '17:30', tom],
      ['v7', p2, '09:00', '09:30', grace],
      ['v8', p2, '13:00', '13:30', grace],
      ['v9', p2, '18:00', '18:30', grace],
    ];
    for (const [visitId, patientId, start, end, worker] of visits) {
      await care.visits.plan(
        { idempotencyKey: key(), occurredAt: now(), patientId, visitId, providerOrganisationId: AGENCY, plannedStart: at('01', start), plannedEnd: at('01', end), careWorkerIds: [worker.id], tasks: [{ taskId: 'care', description: 'Personal care' }] },
        helen,
      );
    }
    await care.visits.cancel({ idempotencyKey: key(), occurredAt: now(), patientId: p2, visitId: 'v9', reason: 'Family visiting and giving supper' }, helen);
    await caughtUp();

    const checkIn = (visitId: string, patientId: string, worker: Actor) => care.visits.checkIn({ idempotencyKey: key(), occurredAt: now(), patientId, visitId }, worker);
    const checkOut = (visitId: string, patientId: string, worker: Actor) => care.visits.checkOut({ idempotencyKey: key(), occurredAt: now(), patientId, visitId, tasks: [{ taskId: 'care', outcome: 'done' }] }, worker);
    const vitals = (patientId: string, worker: Actor, withTemperature = true) =>
      care.recordCare('RecordVitalSigns', { idempotencyKey: key(), occurredAt: now(), patientId, respirationRate: 16, spo2: 97, airOrOxygen: 'air', systolic: 128, diastolic: 76, pulse: 72, consciousness: 'A', ...(withTemperature ? { temperatureC: 36.8 } : {}) }, worker);
    const note = (patientId: string, worker: Actor, text: string, occurredAt = now()) =>
      care.recordCare('WriteNote', { idempotencyKey: key(), occurredAt, patientId, text, ...(occurredAt === now() ? {} : { confirmedLate: true }) }, worker);

    /** 1 December, in order: at each time the scheduler first fires what fell due (a missed visit, a passed deadline), then the step is taken. */
    let low: Awaited<ReturnType<typeof care.recordCare>> | undefined;
    let wrong: Awaited<ReturnType<typeof care.recordCare>> | undefined;
    /** The clock moves on and the scheduler looks; nobody does anything. */
    const nothing = () => Promise.resolve();
    const firstOfDecember: [string, () => Promise<unknown>][] = [
      ['08:00', () => checkIn('v1', p0, amira)],
      ['08:05', () => checkIn('v4', p1, tom)],
      ['08:10', () => vitals(p0, amira)],
      ['08:20', () => vitals(p1, tom)],
      ['08:30', () => checkOut('v1', p0, amira)],
      ['08:45', () => checkOut('v4', p1, tom)],
      ['09:00', () => checkIn('v7', p2, grace)],
      ['09:10', () => vitals(p2, grace)],
      ['09:10', () => note(p2, grace, 'Settled morning, ate well')],
      ['09:30', () => checkOut('v7', p2, grace)],
      // Typed up late: two visits' notes from 20 November, found on paper.
      ['10:00', () => note(p0, amira, 'Paper record typed up: visit went well', '2026-11-20T09:00:00.000Z')],
      ['10:00', () => note(p0, amira, 'Paper record typed up: evening visit, no concerns', '2026-11-20T18:00:00.000Z')],
      // Written to the wrong person, then marked entered in error: it counts for nothing.
      ['10:05', async () => { wrong = await note(p0, amira, 'Took Mrs Smith to the shops'); }],
      ['10:06', () => care.recordCare('MarkEntryEnteredInError', { idempotencyKey: key(), occurredAt: now(), patientId: p0, entryId: wrong!.entryId!, reason: 'Written in the wrong person\'s record' }, amira)],
      ['12:00', () => checkIn('v2', p0, amira)],
      ['12:15', () => checkOut('v2', p0, amira)],
      ['12:15', () => note(p0, amira, 'Had to leave early: called to another visit')],
      // v5's planned end passes with nobody there: missed, escalated to Helen.
      ['12:30', nothing],
      ['12:40', () => delegation().commands.escalation({ type: 'AcknowledgeEscalation', escalationId: nameBasedId(`visit|missed|v5|${at('01', '12:30')}`), idempotencyKey: key(), occurredAt: now(), note: 'Sending Grace' }, helen)],
      ['13:00', () => checkIn('v8', p2, grace)],
      ['13:10', () => vitals(p2, grace, false)],
      ['13:30', () => checkOut('v8', p2, grace)],
      ['13:30', () => note(p2, grace, 'Lunch visit: ate half, drinking well')],
      ['14:00', async () => { low = await care.recordCare('RecordBloodGlucose', { idempotencyKey: key(), occurredAt: now(), patientId: p2, glucoseMmolL: 3.2 }, grace); }],
      // the first tier's deadline passes: re-escalated
      ['14:30', nothing],
      ['14:45', () => delegation().commands.escalation({ type: 'AcknowledgeEscalation', escalationId: reactionEscalationId(low!.eventIds[0]!, 'hypoglycaemia.below-4'), idempotencyKey: key(), occurredAt: now(), note: 'On my way' }, sarah)],
      ['17:00', () => checkIn('v6', p1, tom)],
      ['17:00', () => note(p1, tom, 'Evening visit, all well')],
      ['17:30', () => checkOut('v6', p1, tom)],
      // v3 missed at 17:30 (the scheduler fires on its next look)
      ['17:31', nothing],
      ['17:50', () => delegation().commands.escalation({ type: 'AcknowledgeEscalation', escalationId: nameBasedId(`visit|missed|v3|${at('01', '17:30')}`), idempotencyKey: key(), occurredAt: now(), note: 'Tom is going back' }, helen)],
    ];
    for (const [time, step] of firstOfDecember) {
      await moveTo(at('01', time));
      await step();
      // What the step starts (the low glucose's escalation) happens at its time, before the clock moves on.
      await delegation().processor.settle(60_000);
    }

    // --- 2 December: scheduled doses --------------------------------------------------------------
    await moveTo(at('02', '07:00'));
    const prescribe = async (patientId: string, product: typeof AMOXICILLIN, unit: string, times: string[], timeCritical: boolean) =>
      (await care.recordMedicines('PrescribeMedication', { idempotencyKey: key(), occurredAt: now(), patientId, product, dose: { value: 1, unit }, route: 'oral', timing: { kind: 'scheduled', times }, start: now(), timeCritical } as never, sarah)).id!;
    const amoxicillin = await prescribe(p2, AMOXICILLIN, 'capsule', ['08:00', '14:00', '20:00'], false);
    const coCareldopa = await prescribe(p2, CO_CARELDOPA, 'tablet', ['08:00', '12:00', '16:00', '20:00'], true);
    const paracetamol = await prescribe(p1, PARACETAMOL, 'tablet', ['08:00', '12:00', '18:00'], false);
    const doses: [string, string, string, string, string, Actor, string][] = [
      // [given at, patient, order, scheduled time, outcome, who, unit]; paracetamol's 12:00 never recorded
      ['08:00', p1, paracetamol, '08:00', 'given', tom, 'tablet'],
      ['08:05', p2, coCareldopa, '08:00', 'given', grace, 'tablet'],
      ['08:10', p2, amoxicillin, '08:00', 'given', grace, 'capsule'],
      ['12:40', p2, coCareldopa, '12:00', 'given', grace, 'tablet'],
      ['14:30', p2, amoxicillin, '14:00', 'given', grace, 'capsule'],
      ['16:20', p2, coCareldopa, '16:00', 'given', grace, 'tablet'],
      ['19:30', p1, paracetamol, '18:00', 'given', tom, 'tablet'],
      ['20:00', p2, coCareldopa, '20:00', 'given', grace, 'tablet'],
      ['20:50', p2, amoxicillin, '20:00', 'given', grace, 'capsule'],
    ];
    for (const [givenAt, patientId, orderId, scheduledTime, outcome, worker, unit] of doses) {
      await moveTo(at('02', givenAt));
      await care.recordCare('RecordMedicineDose', { idempotencyKey: key(), occurredAt: now(), patientId, orderId, scheduledTime, outcome, dose: { value: 1, unit } } as never, worker);
    }
    await caughtUp();
  }, 300_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("the auditor reads Kindly Care's month: every figure equals the hand count, with the median minutes to acknowledge", async () => {
    const month = await figures(await auditor());
    expect(counts(month)).toEqual(HAND_COUNT);
    expect(month['missed-visits']!.value).toBe(2 / 8);
    expect(month['escalations-acknowledged-in-time']!.medianMinutesToAcknowledge).toBe(20);
  });

  it('a day is its own figures: on 2 December only the doses were due (nothing else counted is "no data", not 100%)', async () => {
    const day = await figures(await auditor(), `organisation=${AGENCY}&period=2026-12-02`);
    expect(counts(day)['scheduled-doses-on-time']).toEqual([7, 10]);
    expect(day['missed-visits']).toMatchObject({ numerator: 0, denominator: 0, value: null });
  });

  it('the drill-down of "2 missed visits" lists exactly v3 and v5, each with who planned it', async () => {
    const month = await figures(await auditor());
    const drill = await get(`${month['missed-visits']!.entries}&counted=numerator`, await auditor());
    expect(drill.status).toBe(200);
    const entries = drill.body.entries as { itemId: string; recordedBy: string; patientId: string; at: string }[];
    expect(entries.map((e) => [e.itemId, e.patientId, e.recordedBy, e.at])).toEqual([
      ['v5', patientIds[1], DEMO.manager.practitionerId, at('01', '12:00')],
      ['v3', patientIds[0], DEMO.manager.practitionerId, at('01', '17:00')],
    ]);
    // and the short visit is v2, 15 minutes of 30, checked out by Amira
    const short = await get(`/api/indicators/short-visits/entries?organisation=${AGENCY}&period=${MONTH}&counted=numerator`, await auditor());
    expect((short.body.entries as { itemId: string; minutes: number; recordedBy: string }[]).map((e) => [e.itemId, e.minutes, e.recordedBy])).toEqual([['v2', 15, DEMO.careWorkers[0]!.practitionerId]]);
  });

  it('the dose nobody recorded is in the drill-down of doses due, with no outcome, on its day', async () => {
    const due = await get(`/api/indicators/scheduled-doses-on-time/entries?organisation=${AGENCY}&period=2026-12-02`, await auditor());
    const entries = due.body.entries as { at: string; inNumerator: boolean; what: string; patientId: string }[];
    expect(entries).toHaveLength(10);
    expect(entries.filter((e) => e.what.endsWith('no outcome recorded'))).toEqual([expect.objectContaining({ at: at('02', '12:00'), inNumerator: false, patientId: patientIds[1] })]);
  });

  it('bad input names the field and reads nothing; an unknown indicator is 404', async () => {
    const noPeriod = await get(`/api/indicators?organisation=${AGENCY}`, await auditor());
    expect(noPeriod.status).toBe(400);
    expect(noPeriod.type).toContain('application/problem+json');
    expect(noPeriod.body.errors).toEqual([expect.objectContaining({ field: 'period' })]);
    const badMonth = await get(`/api/indicators?organisation=${AGENCY}&period=2026-13`, await auditor());
    expect(badMonth.body.errors).toEqual([expect.objectContaining({ field: 'period' })]);
    expect((await get(`/api/indicators/nonsense/entries?organisation=${AGENCY}&period=${MONTH}`, await auditor())).status).toBe(404);
    // Hostile input: a repeated or bracketed parameter is not a period; SQL in an organisation is only a name nobody has.
    expect((await get(`/api/indicators?organisation=${AGENCY}&period[]=${MONTH}`, await auditor())).body.errors).toEqual([expect.objectContaining({ field: 'period' })]);
    expect((await get(`/api/indicators?organisation=${AGENCY}&organisation=Y12345&period=${MONTH}`, await auditor())).body.errors).toEqual([expect.objectContaining({ field: 'organisation' })]);
    const injected = await get(`/api/indicators?organisation=${encodeURIComponent("x' or '1'='1")}&period=${MONTH}`, await auditor());
    expect(injected.status).toBe(200);
    expect((injected.body.indicators as Figure[]).every((f) => f.denominator === 0)).toBe(true);
    expect((await get(`/api/indicators/missed-visits/entries?organisation=${AGENCY}&period=${MONTH}&counted=all`, await auditor())).body.errors).toEqual([expect.objectContaining({ field: 'counted' })]);
    const fhirBad = await get('/fhir/MeasureReport?reporter=Organization/org-kindly-care&period=December', await auditor());
    expect(fhirBad.status).toBe(400);
    expect(fhirBad.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ expression: ['period'] }] });
  });

  it('the registered manager reads her own service (the same figures) but not another organisation; a care worker is refused (403)', async () => {
    expect(counts(await figures(await manager()))).toEqual(HAND_COUNT);
    expect((await get(`/api/indicators?organisation=${DEMO.gpPractice.organisationId}&period=${MONTH}`, await manager())).status).toBe(403);
    expect((await get(`/api/indicators?organisation=${AGENCY}&period=${MONTH}`, await careWorker())).status).toBe(403);
    expect((await get(`/fhir/MeasureReport?reporter=Organization/${AGENCY}&period=${MONTH}`, await careWorker())).status).toBe(403);
    expect((await get(`/api/indicators?organisation=${AGENCY}&period=${MONTH}`, 'not-a-token')).status).toBe(401);
    // Her person's individual reports are her own service's items for them; another organisation's are refused.
    const hers = await get(`/fhir/MeasureReport?subject=Patient/${patientIds[0]}&period=${MONTH}`, await manager());
    expect(hers.status).toBe(200);
    const reports = (hers.body as unknown as Bundle<MeasureReport>).entry!.map((e) => e.resource!);
    expect(reports.every((r) => r.type === 'individual' && r.reporter?.reference === `Organization/${AGENCY}`)).toBe(true);
    expect((await get(`/fhir/MeasureReport?subject=Patient/${patientIds[0]}&reporter=Organization/${DEMO.nursingTeam.organisationId}&period=${MONTH}`, await manager())).status).toBe(403);
  });

  it('FHIR: a Measure per indicator, and summary and individual MeasureReports read with fhir-kit-client, valid R4, in the CapabilityStatement', async () => {
    const kit = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: await auditor() });
    const measures = (await kit.search({ resourceType: 'Measure' })) as Bundle<Measure>;
    expect(measures.entry?.map((e) => e.resource?.id)).toEqual(Object.keys(HAND_COUNT));
    for (const entry of measures.entry ?? []) expectValidFhir(entry.resource!);
    const summary = (await kit.search({ resourceType: 'MeasureReport', searchParams: { reporter: `Organization/${AGENCY}`, period: MONTH } })) as Bundle<MeasureReport>;
    expectValidFhir(summary);
    const countOf = (report: MeasureReport, code: string) => report.group?.[0]?.population?.find((p) => p.code?.coding?.[0]?.code === code)?.count;
    const reported = Object.fromEntries((summary.entry ?? []).map((e) => [e.resource!.measure.split('/').pop(), [countOf(e.resource!, 'numerator'), countOf(e.resource!, 'denominator')]]));
    expect(reported).toEqual(HAND_COUNT);
    expect(summary.entry?.every((e) => e.resource?.type === 'summary' && e.resource.period.start === '2026-12-01' && e.resource.period.end === '2026-12-31')).toBe(true);
    // Amira's person (person 0): v1, v2, v3, of which v3 missed
    const individual = (await kit.search({ resourceType: 'MeasureReport', searchParams: { subject: `Patient/${patientIds[0]}`, period: MONTH } })) as Bundle<MeasureReport>;
    expectValidFhir(individual);
    const missed = individual.entry?.find((e) => e.resource?.measure.endsWith('/missed-visits'))?.resource;
    expect(missed).toMatchObject({ type: 'individual', subject: { reference: `Patient/${patientIds[0]}` } });
    expect([countOf(missed!, 'numerator'), countOf(missed!, 'denominator')]).toEqual([1, 3]);
    const capability = (await kit.capabilityStatement()) as CapabilityStatement;
    const types = capability.rest?.[0]?.resource?.map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['Measure', 'MeasureReport']));
  });

  it('after POST /admin/projections/rebuild the same figures, from the events alone', async () => {
    const rebuilt = await fetch(`${tandem.url}/admin/projections/rebuild`, { method: 'POST', headers: { authorization: `Bearer ${await token({ role: 'system', user: 'tandem-ops' })}` } });
    expect(rebuilt.status).toBe(200);
    expect(counts(await figures(await auditor()))).toEqual(HAND_COUNT);
    expect((await figures(await auditor()))['escalations-acknowledged-in-time']!.medianMinutesToAcknowledge).toBe(20);
  });
});
