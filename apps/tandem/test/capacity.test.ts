import { mintToken, type MintClaims } from '@tandem/auth';
import type { Actor, CompetenceCommand } from '@tandem/contracts';
import { ManualClock, type DelegationService } from '@tandem/delegation';
import { expectValidFhir } from '@tandem/fhir-validation';
import type { createProjectionsService } from '@tandem/projections';
import type { createRecordService } from '@tandem/record';
import Client from 'fhir-kit-client';
import type { Bundle, MeasureReport, PractitionerRole } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';

/**
 * Issue 15, capacity (docs/decisions/0037-capacity-and-outcomes.md), on a real embedded Tandem
 * with the test clock: "a discharge team's call to the capacity API shows which care workers can
 * take on delegated insulin this week". Hazards H117 (a care worker whose competence is suspended
 * offered as able to take on insulin) and H118 (one offered beyond her competence's expiry).
 *
 * The week 2026-W49: Monday 30 November to Sunday 6 December (England: UTC). Kindly Care at Home's
 * three care workers, each signed off for insulin by Sarah Okafor (district nurse):
 *   Amira: competent for a year; 35 hours a week; on annual leave Friday (24 hours);
 *          visits Monday 08:00-09:00 (checked in 08:00, out 08:54) and Tuesday 08:00-09:00 (person 0).
 *   Tom:   20 hours a week; his competence is suspended on Monday; a visit Wednesday 08:00-08:30
 *          (person 1) and one on Friday cancelled.
 *   Grace: 35 hours a week; her competence runs out on Thursday 3 December at 00:00; visits Monday
 *          12:00-13:00 (person 0) and Thursday 12:00-13:00 (person 1).
 * By hand:
 *   people supported 2; visits planned 5 (the cancelled one not counted); hours planned
 *   1 + 1 + 0.5 + 1 + 1 = 4.5; delivered 54 minutes = 0.9; available 35 - 35/7 (Amira's Friday)
 *   + 20 + 35 = 85; staff 3, 1 absent for 24 hours.
 *   Able to take on insulin: Amira, free 30 - 2 = 28 hours, all week; Grace for Monday to
 *   Wednesday only: 35 x 3/7 = 15 hours, less Monday's visit = 14 free (Thursday's visit is after
 *   her competence ends). Tom is not listed.
 */

const AGENCY = DEMO.careAgency.organisationId;
const WEEK = '2026-W49';
const INSULIN = 'insulin-administration';
const [AMIRA, TOM, GRACE] = DEMO.careWorkers.map((w) => w.practitionerId) as [string, string, string];
const GRACE_EXPIRES = '2026-12-03T00:00:00.000Z';

describe('capacity: a discharge team sees which care workers can take on delegated insulin this week', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientIds: string[];
  let amiraValidUntil: string;
  const clock = new ManualClock('2026-11-30T06:00:00Z');
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const dischargeTeam = () => token({ role: 'system', user: 'leeds-general-discharge-team' });
  const manager = () => token({ role: 'registered-manager', user: DEMO.manager.practitionerId, org: AGENCY });
  const helen: Actor = { id: DEMO.manager.practitionerId, role: 'registered-manager', organisation: AGENCY };
  const sarah: Actor = { id: DEMO.nurse.practitionerId, role: 'district-nurse', registration: DEMO.nurse.registration, organisation: DEMO.nursingTeam.organisationId };
  let n = 0;
  const key = () => `capacity-test-${++n}`;
  const now = () => clock.now().toISOString();

  const record = () => (tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>).care;
  const delegation = () => tandem.services.find((s) => s.name === 'delegation') as DelegationService;
  const runner = () => (tandem.services.find((s) => s.name === 'projections') as ReturnType<typeof createProjectionsService>).runner;
  const caughtUp = async () => {
    await delegation().processor.settle(60_000);
    expect(await runner().waitFor(await tandem.storage.store.headPosition(), 30_000)).toBe(true);
  };
  const request = async (path: string, bearer: string, init: { method?: string; body?: unknown } = {}) => {
    const response = await fetch(`${tandem.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${bearer}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
      ...(init.body ? { body: JSON.stringify(init.body) } : {}),
    });
    return { status: response.status, type: response.headers.get('content-type') ?? '', body: (await response.json()) as Record<string, unknown> };
  };

  /** Trains, observes and signs off a care worker for insulin, as the nurse does. */
  const signOff = async (careWorkerId: string, validUntil?: string) => {
    const competence = (command: Record<string, unknown>) => delegation().commands.competence({ idempotencyKey: key(), occurredAt: now(), careWorkerId, frameworkId: INSULIN, ...command } as CompetenceCommand, sarah);
    await delegation().commands.competence({ type: 'StartTraining', idempotencyKey: key(), occurredAt: now(), careWorker: { practitionerId: careWorkerId, role: 'care-worker' }, frameworkId: INSULIN }, sarah);
    const framework = (await request(`/api/frameworks/${INSULIN}`, await token({ role: 'district-nurse', user: sarah.id, org: sarah.organisation!, registration: DEMO.nurse.registration }))).body as { competence: { trainingModules: { id: string }[]; supervisedPractices: number } };
    for (const module of framework.competence.trainingModules) await competence({ type: 'CompleteTrainingModule', moduleId: module.id });
    for (let i = 0; i < framework.competence.supervisedPractices; i++) await competence({ type: 'RecordSupervisedPractice', outcome: 'satisfactory' });
    await competence({ type: 'SignOffCompetence', careWorkerConsent: true, ...(validUntil ? { validUntil } : {}) });
  };

  const plan = (visitId: string, patientId: string, careWorkerId: string, start: string, end: string) =>
    record().visits.plan({ idempotencyKey: key(), occurredAt: now(), patientId, visitId, providerOrganisationId: AGENCY, plannedStart: start, plannedEnd: end, careWorkerIds: [careWorkerId], tasks: [{ taskId: 'care', description: 'Personal care' }] }, helen);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-capacity-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }), { clock });
    ({ patientIds } = await seedDemoData(record(), { patients: 2, days: 0, now: clock.now() }));
    const [p0, p1] = patientIds as [string, string];

    await signOff(AMIRA);
    await signOff(TOM);
    await signOff(GRACE, GRACE_EXPIRES);
    await delegation().commands.competence({ type: 'SuspendCompetence', idempotencyKey: key(), occurredAt: now(), careWorkerId: TOM, frameworkId: INSULIN, reason: 'Gave a dose without checking the glucose first' }, sarah);

    // Contracted hours and the absence through the API, as the agency's manager records them.
    const bearer = await manager();
    for (const [id, hoursPerWeek] of [[AMIRA, 35], [TOM, 20], [GRACE, 35]] as const) {
      const set = await request(`/api/practitioners/${id}/contracted-hours`, bearer, { method: 'POST', body: { idempotencyKey: key(), occurredAt: now(), organisationId: AGENCY, hoursPerWeek } });
      expect(set.status).toBe(201);
    }
    const leave = await request(`/api/practitioners/${AMIRA}/absences`, bearer, {
      method: 'POST',
      body: { idempotencyKey: key(), occurredAt: now(), organisationId: AGENCY, absenceId: 'amira-leave-1', from: '2026-12-04T00:00:00Z', to: '2026-12-05T00:00:00Z', kind: 'annual-leave' },
    });
    expect(leave.status).toBe(201);

    await plan('a1', p0, AMIRA, '2026-11-30T08:00:00Z', '2026-11-30T09:00:00Z');
    await plan('a2', p0, AMIRA, '2026-12-01T08:00:00Z', '2026-12-01T09:00:00Z');
    await plan('t1', p1, TOM, '2026-12-02T08:00:00Z', '2026-12-02T08:30:00Z');
    await plan('t2', p1, TOM, '2026-12-04T08:00:00Z', '2026-12-04T09:00:00Z');
    await record().visits.cancel({ idempotencyKey: key(), occurredAt: now(), patientId: p1, visitId: 't2', reason: 'Tom is in hospital this week' }, helen);
    await plan('g1', p0, GRACE, '2026-11-30T12:00:00Z', '2026-11-30T13:00:00Z');
    await plan('g2', p1, GRACE, '2026-12-03T12:00:00Z', '2026-12-03T13:00:00Z');

    const amira: Actor = { id: AMIRA, role: 'care-worker', organisation: AGENCY };
    clock.set('2026-11-30T08:00:00Z');
    await record().visits.checkIn({ idempotencyKey: key(), occurredAt: now(), patientId: p0, visitId: 'a1' }, amira);
    clock.set('2026-11-30T08:54:00Z');
    await record().visits.checkOut({ idempotencyKey: key(), occurredAt: now(), patientId: p0, visitId: 'a1', tasks: [{ taskId: 'care', outcome: 'done' }] }, amira);
    await caughtUp();
    const passport = (await request(`/api/competences/${AMIRA}`, bearer)).body as { competences: { frameworkId: string; validUntil: string }[] };
    amiraValidUntil = new Date(passport.competences.find((c) => c.frameworkId === INSULIN)!.validUntil).toISOString();
  }, 180_000);

  afterAll(async () => {
    await tandem?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const HAND_COUNT = {
    peopleSupported: 2,
    visitsPlanned: 5,
    hoursPlanned: 4.5,
    hoursDelivered: 0.9,
    hoursAvailable: 85,
    staff: 3,
    staffAbsent: 1,
    absenceHours: 24,
    staffWithoutContractedHours: 0,
  };
  const insulinCareWorkers = () => [
    { practitionerId: AMIRA, competentUntil: amiraValidUntil, availableFrom: '2026-11-30T00:00:00.000Z', availableUntil: '2026-12-07T00:00:00.000Z', days: ['2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04', '2026-12-05', '2026-12-06'], freeHours: 28 },
    { practitionerId: GRACE, competentUntil: GRACE_EXPIRES, availableFrom: '2026-11-30T00:00:00.000Z', availableUntil: GRACE_EXPIRES, days: ['2026-11-30', '2026-12-01', '2026-12-02'], freeHours: 14 },
  ];

  it("JSON: the week's figures as counted by hand, and insulin offered by Amira all week and Grace until her competence ends, never Tom (suspended)", async () => {
    const { status, body } = await request(`/api/capacity?organisation=${AGENCY}&week=${WEEK}`, await dischargeTeam());
    expect(status).toBe(200);
    expect(body).toMatchObject({ organisation: AGENCY, week: WEEK, from: '2026-11-30T00:00:00.000Z', to: '2026-12-07T00:00:00.000Z', ...HAND_COUNT });
    expect(body.delegated).toEqual([{ frameworkId: INSULIN, careWorkers: insulinCareWorkers() }]);
    // Minimal disclosure: the care workers by id, never by name.
    for (const name of DEMO.careWorkers.flatMap((w) => [...w.name.given, w.name.family])) expect(JSON.stringify(body)).not.toContain(name);
  });

  it('FHIR $capacity, read with fhir-kit-client: a summary MeasureReport of the figures and a PractitionerRole per care worker able to take on insulin, valid R4', async () => {
    const kit = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: await dischargeTeam() });
    const bundle = (await kit.operation({ name: 'capacity', resourceType: 'Organization', id: AGENCY, method: 'GET', input: { week: WEEK, framework: INSULIN } })) as Bundle;
    expectValidFhir(bundle);
    const [report, ...roles] = (bundle.entry ?? []).map((e) => e.resource!) as [MeasureReport, ...PractitionerRole[]];
    expect(report).toMatchObject({ resourceType: 'MeasureReport', type: 'summary', reporter: { reference: `Organization/${AGENCY}` }, period: { start: '2026-11-30T00:00:00.000Z', end: '2026-12-07T00:00:00.000Z' } });
    const figures = Object.fromEntries((report.group ?? []).map((g) => [g.code?.coding?.[0]?.code, g.measureScore?.value]));
    expect(figures).toEqual(HAND_COUNT);
    expect(roles.map((r) => ({ practitioner: r.practitioner?.reference, code: r.code?.[0]?.coding?.[0]?.code, end: r.period?.end, days: r.availableTime?.[0]?.daysOfWeek, free: r.extension?.[0]?.valueQuantity?.value }))).toEqual([
      { practitioner: `Practitioner/${AMIRA}`, code: INSULIN, end: '2026-12-07T00:00:00.000Z', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], free: 28 },
      { practitioner: `Practitioner/${GRACE}`, code: INSULIN, end: GRACE_EXPIRES, days: ['mon', 'tue', 'wed'], free: 14 },
    ]);
    expect(roles.every((r) => r.practitioner?.display === undefined)).toBe(true);
  });

  it('the week after: Grace is no longer offered (her competence ended), Amira has her full 35 hours free', async () => {
    const { body } = await request(`/api/capacity?organisation=${AGENCY}&week=2026-W50&framework=${INSULIN}`, await dischargeTeam());
    expect(body.delegated).toEqual([{ frameworkId: INSULIN, careWorkers: [expect.objectContaining({ practitionerId: AMIRA, freeHours: 35 })] }]);
    expect(body).toMatchObject({ peopleSupported: 0, hoursAvailable: 90 });
  });

  it('who may ask: the agency manager her own service; a care worker, or a manager of another service, is refused (403); bad input names the field', async () => {
    expect((await request(`/api/capacity?organisation=${AGENCY}&week=${WEEK}`, await manager())).status).toBe(200);
    const careWorker = await request(`/api/capacity?organisation=${AGENCY}&week=${WEEK}`, await token({ role: 'care-worker', user: AMIRA, org: AGENCY }));
    expect(careWorker.status).toBe(403);
    const otherManager = await request(`/api/capacity?organisation=${AGENCY}&week=${WEEK}`, await token({ role: 'registered-manager', user: 'rm-other', org: 'org-other-agency' }));
    expect(otherManager.status).toBe(403);
    const bad = await request(`/api/capacity?organisation=${AGENCY}&week=2026-49&colour=red`, await dischargeTeam());
    expect(bad.status).toBe(400);
    expect(bad.type).toContain('application/problem+json');
    expect((bad.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['colour', 'week']);
    const fhirBad = await request(`/fhir/Organization/${AGENCY}/$capacity`, await dischargeTeam());
    expect(fhirBad.status).toBe(400);
    expect(fhirBad.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ expression: ['week'] }] });
    const noToken = await fetch(`${tandem.url}/api/capacity?organisation=${AGENCY}&week=${WEEK}`);
    expect(noToken.status).toBe(401);
  });

  it('contracted hours and absences: only for a practitioner of the manager\'s own organisation, and bad input names the field, nothing stored', async () => {
    const other = await request(`/api/practitioners/${AMIRA}/contracted-hours`, await token({ role: 'registered-manager', user: 'rm-other', org: 'org-other-agency' }), {
      method: 'POST',
      body: { idempotencyKey: key(), occurredAt: now(), organisationId: 'org-other-agency', hoursPerWeek: 10 },
    });
    expect(other.status).toBe(422);
    expect(other.body.errors).toEqual([{ field: 'organisationId', message: `${AMIRA} is not of org-other-agency` }]);
    const absence = { idempotencyKey: key(), occurredAt: now(), organisationId: AGENCY, absenceId: 'x', from: '2026-12-05T00:00:00Z', to: '2026-12-06T00:00:00Z', kind: 'sickness' };
    for (const [change, field] of [[{ to: '2026-12-04T00:00:00Z' }, 'to'], [{ kind: 'holiday' }, 'kind']] as const) {
      const bad = await request(`/api/practitioners/${AMIRA}/absences`, await manager(), { method: 'POST', body: { ...absence, ...change } });
      expect(bad.status).toBe(400);
      expect((bad.body.errors as { field: string }[]).map((e) => e.field)).toEqual([field]);
    }
    const { body } = await request(`/api/capacity?organisation=${AGENCY}&week=${WEEK}`, await dischargeTeam());
    expect(body).toMatchObject(HAND_COUNT);
  });

  it('after POST /admin/projections/rebuild the same figures and the same care workers, from the events alone', async () => {
    const rebuilt = await fetch(`${tandem.url}/admin/projections/rebuild`, { method: 'POST', headers: { authorization: `Bearer ${await token({ role: 'system', user: 'tandem-ops' })}` } });
    expect(rebuilt.status).toBe(200);
    const { body } = await request(`/api/capacity?organisation=${AGENCY}&week=${WEEK}`, await dischargeTeam());
    expect(body).toMatchObject(HAND_COUNT);
    expect(body.delegated).toEqual([{ frameworkId: INSULIN, careWorkers: insulinCareWorkers() }]);
  });
});
