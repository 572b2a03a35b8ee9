import { mintToken } from '@tandem/auth';
import Client from 'fhir-kit-client';
import type { Appointment, Bundle, CapabilityStatement, Encounter } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { createRecordService } from '@tandem/record';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { expectValidFhir } from '@tandem/fhir-validation';

/**
 * A person's visits over HTTP (issue 13): the registered manager plans a visit and a rostering
 * system sends a day of them (JSON); the care worker assigned checks in and out; a GP reads the
 * visit as FHIR Appointment and Encounter with a real FHIR client (fhir-kit-client).
 */
describe('visits: planned by the manager, attended by the care worker, read by the GP as FHIR', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientIds: string[];
  let tokens: { manager: string; amira: string; tom: string; gp: string };
  let kit: InstanceType<typeof Client>;
  const MANAGER = 'manager-maya-wood';
  const hoursFromNow = (h: number) => new Date(Math.floor(Date.now() / 60_000) * 60_000 + h * 3_600_000).toISOString();
  const start = hoursFromNow(-1);
  const end = hoursFromNow(1);

  const post = async (path: string, body: unknown, token: string) => {
    const response = await fetch(`${tandem.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    return { status: response.status, position: Number(response.headers.get('x-tandem-position') ?? 0), body: (await response.json()) as Record<string, unknown> & { errors?: { field: string }[]; code?: string } };
  };
  const fresh = async (position: number) => fetch(`${tandem.url}/fhir/metadata`).then(() => kit.search({ resourceType: 'Appointment', searchParams: { _count: '1' }, options: { headers: { 'x-tandem-min-position': String(position) } } }));
  let n = 0;
  const key = () => `visits-test-${++n}`;
  const visit = (patientId: string, visitId: string, careWorkerIds: string[]) => ({
    idempotencyKey: key(),
    occurredAt: new Date().toISOString(),
    visitId,
    providerOrganisationId: DEMO.careAgency.organisationId,
    plannedStart: start,
    plannedEnd: end,
    careWorkerIds,
    tasks: [
      { taskId: 'wash', description: 'Help with washing and dressing' },
      { taskId: 'breakfast', description: 'Breakfast and a drink' },
    ],
    patientId,
  });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-visits-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    ({ patientIds } = await seedDemoData(record.care, { patients: 2, days: 1, now: new Date() }));
    await record.care.registerPractitioner(
      { idempotencyKey: 'visits-test-manager', occurredAt: new Date().toISOString(), practitionerId: MANAGER, name: { given: ['Maya'], family: 'Wood' }, role: 'registered-manager', organisationId: DEMO.careAgency.organisationId },
      { id: 'tandem-admin', role: 'system' },
    );
    const org = DEMO.careAgency.organisationId;
    tokens = {
      manager: await mintToken({ role: 'registered-manager', user: MANAGER, org }, { dataDir }),
      // The demo's first person is cared for by Amira, the second by Tom.
      amira: await mintToken({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org }, { dataDir }),
      tom: await mintToken({ role: 'care-worker', user: DEMO.careWorkers[1]!.practitionerId, org }, { dataDir }),
      gp: await mintToken({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration }, { dataDir }),
    };
    kit = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: tokens.gp });
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the manager plans a visit (201); an end before the start is refused naming plannedEnd and nothing is stored', async () => {
    const patientId = patientIds[0]!;
    const bad = await post(`/api/patients/${patientId}/visits`, { ...visit(patientId, 'v-bad', [DEMO.careWorkers[0]!.practitionerId]), plannedEnd: hoursFromNow(-2) }, tokens.manager);
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ field: 'plannedEnd', message: 'must be after plannedStart' }]);
    const planned = await post(`/api/patients/${patientId}/visits`, visit(patientId, 'v-morning-1', [DEMO.careWorkers[0]!.practitionerId]), tokens.manager);
    expect(planned.status).toBe(201);
    expect(planned.body.eventTypes).toEqual(['VisitPlanned']);
    await fresh(planned.position);
    const appointments = (await kit.search({ resourceType: 'Appointment', searchParams: { patient: `Patient/${patientId}` } })) as Bundle;
    expect(appointments.entry?.map((e) => e.resource?.id)).toEqual(['v-morning-1']);
  });

  it('a care worker may not plan visits; the GP may not either (403)', async () => {
    const patientId = patientIds[0]!;
    expect((await post(`/api/patients/${patientId}/visits`, visit(patientId, 'v-x', [DEMO.careWorkers[0]!.practitionerId]), tokens.amira)).status).toBe(403);
    expect((await post(`/api/patients/${patientId}/visits`, visit(patientId, 'v-x', [DEMO.careWorkers[0]!.practitionerId]), tokens.gp)).status).toBe(403);
  });

  it('a rostering import plans each visit on its own, reports one for a person not registered, and sent again changes nothing', async () => {
    const unknown = '00000000-0000-4000-8000-000000000099';
    const day = {
      idempotencyKey: 'roster-day-1',
      occurredAt: new Date().toISOString(),
      providerOrganisationId: DEMO.careAgency.organisationId,
      visits: [
        (({ idempotencyKey: _k, occurredAt: _o, ...v }) => v)(visit(patientIds[1]!, 'v-roster-tom', [DEMO.careWorkers[1]!.practitionerId])),
        (({ idempotencyKey: _k, occurredAt: _o, ...v }) => v)(visit(unknown, 'v-roster-nobody', [DEMO.careWorkers[1]!.practitionerId])),
      ],
    };
    const first = await post('/api/visits/imports', day, tokens.manager);
    expect(first.status).toBe(200);
    expect((first.body.visits as { visitId: string; outcome: string }[]).map((v) => [v.visitId, v.outcome])).toEqual([
      ['v-roster-tom', 'planned'],
      ['v-roster-nobody', 'refused'],
    ]);
    const again = await post('/api/visits/imports', { ...day, idempotencyKey: 'roster-day-1-resent' }, tokens.manager);
    expect((again.body.visits as { outcome: string }[]).map((v) => v.outcome)).toEqual(['unchanged', 'refused']);
  });

  it('only a care worker of the person checks in: Tom is refused (403); Amira checks in (no location needed) and the GP reads the Encounter', async () => {
    const patientId = patientIds[0]!;
    const body = { idempotencyKey: key(), occurredAt: new Date().toISOString() };
    const wrong = await post(`/api/patients/${patientId}/visits/v-morning-1/check-in`, body, tokens.tom);
    // Tom is not on this person's team: the policy refuses him before the visit's own rule (visit.not-assigned, in the decider's specification) is asked.
    expect(wrong.status).toBe(403);
    const checkedIn = await post(`/api/patients/${patientId}/visits/v-morning-1/check-in`, { idempotencyKey: key(), occurredAt: new Date().toISOString() }, tokens.amira);
    expect(checkedIn.status).toBe(201);
    // An hour after the planned start (tolerance 30 minutes): the lateness is recorded.
    await fresh(checkedIn.position);
    const encounter = (await kit.read({ resourceType: 'Encounter', id: 'v-morning-1' })) as Encounter;
    expectValidFhir(encounter as never);
    expect(encounter).toMatchObject({ status: 'in-progress', class: { code: 'HH' }, subject: { reference: `Patient/${patientId}` }, appointment: [{ reference: 'Appointment/v-morning-1' }], serviceProvider: { reference: `Organization/${DEMO.careAgency.organisationId}` } });
    expect(encounter.extension?.[0]?.valueDuration?.value).toBeGreaterThanOrEqual(59);
  });

  it('the check-out names a task left without an outcome; with every task answered the visit closes and the Appointment is fulfilled', async () => {
    const patientId = patientIds[0]!;
    const missing = await post(`/api/patients/${patientId}/visits/v-morning-1/check-out`, { idempotencyKey: key(), occurredAt: new Date().toISOString(), tasks: [{ taskId: 'wash', outcome: 'done' }] }, tokens.amira);
    expect(missing.status).toBe(422);
    expect(missing.body).toMatchObject({ code: 'visit.task-without-outcome', errors: [{ field: 'tasks' }] });
    const noReason = await post(`/api/patients/${patientId}/visits/v-morning-1/check-out`, { idempotencyKey: key(), occurredAt: new Date().toISOString(), tasks: [{ taskId: 'wash', outcome: 'done' }, { taskId: 'breakfast', outcome: 'not-done' }] }, tokens.amira);
    expect(noReason.status).toBe(400);
    expect(noReason.body.errors).toEqual([{ field: 'tasks.1.reason', message: 'is required when a task is not done: say why' }]);
    const closed = await post(
      `/api/patients/${patientId}/visits/v-morning-1/check-out`,
      { idempotencyKey: key(), occurredAt: new Date().toISOString(), tasks: [{ taskId: 'wash', outcome: 'done' }, { taskId: 'breakfast', outcome: 'not-done', reason: 'Had breakfast with her daughter' }] },
      tokens.amira,
    );
    expect(closed.status).toBe(201);
    await fresh(closed.position);
    const appointment = (await kit.read({ resourceType: 'Appointment', id: 'v-morning-1' })) as Appointment;
    expectValidFhir(appointment as never);
    expect(appointment).toMatchObject({ status: 'fulfilled', start, end, participant: expect.arrayContaining([expect.objectContaining({ actor: { reference: `Patient/${patientId}` } })]) });
    expect(appointment.meta?.versionId).toBe('3');
    const encounter = (await kit.read({ resourceType: 'Encounter', id: 'v-morning-1' })) as Encounter;
    expect(encounter.status).toBe('finished');
    expect(encounter.period?.end).toBeDefined();
    const history = (await kit.history({ resourceType: 'Appointment', id: 'v-morning-1' })) as Bundle;
    expect(history.entry?.map((e) => (e.resource as Appointment).status)).toEqual(['fulfilled', 'arrived', 'booked']);
    const first = (await kit.vread({ resourceType: 'Appointment', id: 'v-morning-1', version: '1' })) as Appointment;
    expect(first.status).toBe('booked');
  });

  it('the GP searches Appointment and Encounter by patient, date and status, and finds them in $everything and the CapabilityStatement', async () => {
    const patientId = patientIds[0]!;
    const byDate = (await kit.search({ resourceType: 'Appointment', searchParams: { patient: `Patient/${patientId}`, date: `ge${hoursFromNow(-2)}`, status: 'fulfilled' } })) as Bundle;
    expect(byDate.entry?.map((e) => e.resource?.id)).toEqual(['v-morning-1']);
    const none = (await kit.search({ resourceType: 'Appointment', searchParams: { patient: `Patient/${patientId}`, date: `ge${hoursFromNow(1)}` } })) as Bundle;
    expect(none.entry ?? []).toEqual([]);
    const encounters = (await kit.search({ resourceType: 'Encounter', searchParams: { patient: `Patient/${patientId}`, status: 'finished' } })) as Bundle;
    expect(encounters.entry?.map((e) => e.resource?.id)).toEqual(['v-morning-1']);
    const everything = (await kit.operation({ name: '$everything', resourceType: 'Patient', id: patientId, method: 'GET', input: { _type: 'Appointment,Encounter' } })) as Bundle;
    expect(everything.entry?.filter((e) => e.search?.mode === 'match').map((e) => `${e.resource?.resourceType}/${e.resource?.id}`).sort()).toEqual([`Appointment/v-morning-1`, `Encounter/v-morning-1`]);
    const capability = (await kit.capabilityStatement()) as CapabilityStatement;
    const types = capability.rest![0]!.resource!;
    for (const type of ['Appointment', 'Encounter']) {
      const resource = types.find((r) => r.type === type)!;
      expect(resource.searchParam?.map((p) => p.name)).toEqual(expect.arrayContaining(['patient', 'date', 'status']));
    }
  });

  it('a rostering system sends an Appointment (create), moves it (update, version 2) and cancels it, through the same commands; a bad one names the element', async () => {
    const manager = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: tokens.manager });
    const patientId = patientIds[1]!;
    const appointment: Appointment = {
      resourceType: 'Appointment',
      status: 'booked',
      start: hoursFromNow(3),
      end: hoursFromNow(4),
      participant: [
        { actor: { reference: `Patient/${patientId}` }, status: 'accepted' },
        { actor: { reference: `Practitioner/${DEMO.careWorkers[1]!.practitionerId}` }, status: 'accepted' },
      ],
      supportingInformation: [{ reference: `Organization/${DEMO.careAgency.organisationId}` }],
      extension: [{ url: 'https://tandem.nhs.example/fhir/StructureDefinition/visit-tasks', extension: [{ url: 'task', valueString: 'Tea and a sandwich' }] }],
    };
    const created = (await manager.create({ resourceType: 'Appointment', body: appointment as never })) as Appointment;
    expect(created).toMatchObject({ resourceType: 'Appointment', status: 'booked', description: 'Home care visit: Tea and a sandwich' });
    expectValidFhir(created as never);
    const moved = (await manager.update({ resourceType: 'Appointment', id: created.id!, body: { ...appointment, id: created.id, start: hoursFromNow(5), end: hoursFromNow(6) } as never })) as Appointment;
    expect(moved).toMatchObject({ start: hoursFromNow(5), meta: { versionId: '2' } });
    const cancelled = (await manager.update({ resourceType: 'Appointment', id: created.id!, body: { ...appointment, id: created.id, start: hoursFromNow(5), end: hoursFromNow(6), status: 'cancelled', cancelationReason: { text: 'In hospital' } } as never })) as Appointment;
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelationReason: { text: 'In hospital' }, meta: { versionId: '3' } });

    const noStart = await fetch(`${tandem.url}/fhir/Appointment`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${tokens.manager}` }, body: JSON.stringify({ ...appointment, start: undefined }) });
    expect(noStart.status).toBe(422);
    expect(((await noStart.json()) as { issue: { expression: string[] }[] }).issue[0]!.expression).toEqual(['Appointment.start']);
    const noPerson = await fetch(`${tandem.url}/fhir/Appointment`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${tokens.manager}` }, body: JSON.stringify({ ...appointment, participant: appointment.participant.slice(1) }) });
    expect(noPerson.status).toBe(400);
    expect(((await noPerson.json()) as { issue: { expression: string[] }[] }).issue[0]!.expression).toEqual(['Appointment.participant']);
  });
});
