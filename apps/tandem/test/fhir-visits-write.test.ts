import { mintToken } from '@tandem/auth';
import { expectValidFhir } from '@tandem/fhir-validation';
import Client from 'fhir-kit-client';
import type { Appointment, CapabilityStatement, Encounter, Extension, OperationOutcome } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { createRecordService } from '@tandem/record';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { recordChangesSince } from './record-changes';

/**
 * Issue 13, against the running server: a provider's visit-monitoring app, signed in as the care
 * worker, sends the visit as a FHIR Encounter. POST (in progress) is her check-in, exactly as the
 * app's; PUT finished is her check-out, refused while a scheduled medicine due in the visit has no
 * outcome (H99) unless she says why. What the record cannot keep is refused naming the element.
 */

const TASK_OUTCOME = 'https://tandem.nhs.example/fhir/StructureDefinition/visit-task-outcome';
const UNRECORDED_DOSES_REASON = 'https://tandem.nhs.example/fhir/StructureDefinition/visit-unrecorded-doses-reason';
const HOME_HEALTH = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HH', display: 'home health' };
const AMLODIPINE = { system: 'https://dmd.nhs.uk', code: '319283006', display: 'Amlodipine 5mg tablets' };

type Outcome = OperationOutcome & { issue: { expression?: string[]; code: string; diagnostics?: string }[] };

describe('a visit-monitoring app sends the visit as a FHIR Encounter: the check-in and check-out, through the same commands', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let record: ReturnType<typeof createRecordService>;
  let patientId: string;
  const tokens = { manager: '', amira: '', tom: '', gp: '' };
  let gpKit: InstanceType<typeof Client>;
  let position = 0;
  const MANAGER = 'manager-maya-wood';
  const AMIRA = DEMO.careWorkers[0]!.practitionerId;
  const minutes = (m: number) => new Date(Math.floor(Date.now() / 60_000) * 60_000 + m * 60_000).toISOString();
  /** The time of day in England a scheduled dose is written in (HH:MM). */
  const timeInEngland = (iso: string) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));

  const api = async (path: string, body: unknown, token: string) => {
    const response = await fetch(`${tandem.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    const json = (await response.json()) as { position?: number; id?: string };
    if (typeof json.position === 'number') position = Math.max(position, json.position);
    return { status: response.status, body: json };
  };
  const fhir = async <T = Outcome>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, token = tokens.amira) => {
    const response = await fetch(`${tandem.url}/fhir/${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'x-tandem-min-position': String(position), ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    position = Math.max(position, Number(response.headers.get('x-tandem-position') ?? 0));
    return { status: response.status, body: (await response.json()) as T };
  };
  const expressions = (outcome: Outcome) => outcome.issue.flatMap((i) => i.expression ?? []);
  /** Sends a write that must be refused; proves the record took nothing from it. */
  const refusedWithNothingStored = async (send: () => Promise<{ status: number; body: Outcome }>) => {
    const head = await tandem.storage.store.headPosition();
    const reply = await send();
    expect(reply.body.resourceType).toBe('OperationOutcome');
    expect(await recordChangesSince(tandem.storage.store, head)).toEqual([]);
    return reply;
  };

  const plan = (visitId: string, start: string, end: string) =>
    api(
      `/api/patients/${patientId}/visits`,
      {
        idempotencyKey: `plan-${visitId}`,
        occurredAt: minutes(-120),
        visitId,
        providerOrganisationId: DEMO.careAgency.organisationId,
        plannedStart: start,
        plannedEnd: end,
        careWorkerIds: [AMIRA],
        tasks: [
          { taskId: 'wash', description: 'Help with washing and dressing' },
          { taskId: 'lunch', description: 'Lunch and a drink' },
        ],
      },
      tokens.manager,
    );

  const arrival = minutes(-5);
  /** The amlodipine's scheduled time: this minute, in England, when the test began. */
  const doseTime = timeInEngland(minutes(0));
  const checkIn = (visitId: string, over: Partial<Encounter> = {}): Encounter => ({
    resourceType: 'Encounter',
    status: 'in-progress',
    class: HOME_HEALTH,
    subject: { reference: `Patient/${patientId}` },
    participant: [{ individual: { reference: `Practitioner/${AMIRA}` } }],
    appointment: [{ reference: `Appointment/${visitId}` }],
    period: { start: arrival },
    ...over,
  });
  const taskOutcome = (task: string, outcome: 'done' | 'not-done', reason?: string): Extension => ({
    url: TASK_OUTCOME,
    extension: [{ url: 'task', valueString: task }, { url: 'outcome', valueCode: outcome }, ...(reason ? [{ url: 'reason', valueString: reason }] : [])],
  });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-fhir-visits-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
    record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    patientId = (await seedDemoData(record.care, { patients: 1, days: 1, now: new Date() })).patientIds[0]!;
    await record.care.registerPractitioner(
      { idempotencyKey: 'fhir-visits-manager', occurredAt: new Date().toISOString(), practitionerId: MANAGER, name: { given: ['Maya'], family: 'Wood' }, role: 'registered-manager', organisationId: DEMO.careAgency.organisationId },
      { id: 'tandem-admin', role: 'system' },
    );
    const org = DEMO.careAgency.organisationId;
    tokens.manager = await mintToken({ role: 'registered-manager', user: MANAGER, org }, { dataDir });
    // The demo's first person is cared for by Amira; Tom cares for someone else.
    tokens.amira = await mintToken({ role: 'care-worker', user: AMIRA, org }, { dataDir });
    tokens.tom = await mintToken({ role: 'care-worker', user: DEMO.careWorkers[1]!.practitionerId, org }, { dataDir });
    tokens.gp = await mintToken({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration }, { dataDir });
    gpKit = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: tokens.gp });

    expect((await plan('v-now', minutes(-30), minutes(60))).status).toBe(201);
    expect((await plan('v-later', minutes(180), minutes(240))).status).toBe(201);
    // The GP prescribes amlodipine at this minute: a scheduled dose due in the visit under way.
    const prescribed = await api(
      `/api/patients/${patientId}/medication-orders`,
      { idempotencyKey: 'fhir-visits-amlodipine', occurredAt: minutes(-120), product: AMLODIPINE, dose: { value: 1, unit: 'tablet' }, route: 'oral', timing: { kind: 'scheduled', times: [doseTime] }, start: minutes(-120) },
      tokens.gp,
    );
    expect(prescribed.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the care worker’s app sends the Encounter (POST, in progress): it is her check-in, the visit reads as arrived, the Encounter as sent, valid R4; the same request again is the same check-in', async () => {
    const sent = checkIn('v-now', {
      contained: [{ resourceType: 'Location', id: 'phone', position: { latitude: 53.4808, longitude: -2.2426 } }],
      location: [{ location: { reference: '#phone' } }],
    });
    const created = await fhir<Encounter>('POST', 'Encounter', sent);
    expect(created.status).toBe(201);
    expectValidFhir(created.body as never);
    expect(created.body).toMatchObject({ id: 'v-now', status: 'in-progress', class: { code: 'HH' }, subject: { reference: `Patient/${patientId}` }, appointment: [{ reference: 'Appointment/v-now' }], meta: { versionId: '1' } });
    expect(Date.parse(created.body.period!.start!)).toBe(Date.parse(arrival));
    expect(created.body.participant).toEqual([expect.objectContaining({ individual: { reference: `Practitioner/${AMIRA}` } })]);

    const appointment = (await gpKit.read({ resourceType: 'Appointment', id: 'v-now', options: { headers: { 'x-tandem-min-position': String(position) } } })) as Appointment;
    expect(appointment.status).toBe('arrived');
    const visit = await record.care.visits.visit('v-now');
    expect(visit.planned && visit.checkedIn).toMatchObject({ careWorkerId: AMIRA, location: { latitude: 53.4808, longitude: -2.2426 } });

    const again = await fhir<Encounter>('POST', 'Encounter', sent);
    expect({ status: again.status, id: again.body.id }).toEqual({ status: 200, id: 'v-now' });
    // Sent back as read, nothing changes.
    const asRead = await fhir<Encounter>('PUT', 'Encounter/v-now', created.body, { 'if-match': 'W/"1"' });
    expect({ status: asRead.status, version: asRead.body.meta?.versionId, status_: asRead.body.status }).toEqual({ status: 200, version: '1', status_: 'in-progress' });
  });

  it.each([
    ['a new Encounter already finished', () => checkIn('v-later', { status: 'finished' }), 'Encounter.status'],
    ['no class', () => checkIn('v-later', { class: undefined as never }), 'Encounter.class'],
    ['a class other than home health', () => checkIn('v-later', { class: { system: HOME_HEALTH.system, code: 'AMB' } }), 'Encounter.class'],
    ['no appointment', () => checkIn('v-later', { appointment: undefined }), 'Encounter.appointment'],
    ['a visit that was never planned', () => checkIn('v-never'), 'Encounter.appointment[0].reference'],
    ['another care worker as the participant', () => checkIn('v-later', { participant: [{ individual: { reference: `Practitioner/${DEMO.careWorkers[1]!.practitionerId}` } }] }), 'Encounter.participant[0].individual.reference'],
    ['no arrival time', () => checkIn('v-later', { period: {} }), 'Encounter.period.start'],
    ['an arrival in the future', () => checkIn('v-later', { period: { start: minutes(30) } }), 'Encounter.period.start'],
    ['a location that is not the phone’s (a Location elsewhere)', () => checkIn('v-later', { location: [{ location: { reference: 'Location/office' } }] }), 'Encounter.location[0].location.reference'],
    ['a latitude off the globe', () => checkIn('v-later', { contained: [{ resourceType: 'Location', id: 'phone', position: { latitude: 123, longitude: 0 } }], location: [{ location: { reference: '#phone' } }] }), 'Encounter.contained[0].position.latitude'],
    ['an extension it does not know', () => checkIn('v-later', { extension: [{ url: 'https://example.org/gps-trace', valueString: 'x' }] }), 'Encounter.extension[0]'],
    ['an element it would drop (reasonCode)', () => checkIn('v-later', { reasonCode: [{ text: 'Morning call' }] }), 'Encounter.reasonCode'],
  ])('%s is refused with an OperationOutcome naming the element, and nothing is stored', async (_what, body, expression) => {
    const reply = await refusedWithNothingStored(() => fhir('POST', 'Encounter', body()));
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.status).toBeLessThan(500);
    expect(expressions(reply.body)).toEqual([expression]);
  });

  it('a care worker not caring for the person may not send their Encounter (403), and nothing is stored', async () => {
    const reply = await refusedWithNothingStored(() => fhir('POST', 'Encounter', checkIn('v-later', { participant: undefined }), {}, tokens.tom));
    expect({ status: reply.status, code: reply.body.issue[0]!.code }).toEqual({ status: 403, code: 'forbidden' });
  });

  it('finished while a scheduled medicine due in the visit has no outcome: 422 naming the dose and where the reason goes, and nothing is stored; with her reason the visit closes', async () => {
    const current = (await fhir<Encounter>('GET', 'Encounter/v-now')).body;
    const departure = minutes(0);
    const tasks = [taskOutcome('wash', 'done'), taskOutcome('lunch', 'not-done', 'Her daughter had made lunch')];
    const finished = (over: Partial<Encounter> = {}): Encounter => ({ ...current, status: 'finished', period: { ...current.period, end: departure }, extension: [...(current.extension ?? []), ...tasks], ...over });

    const oneTask = await refusedWithNothingStored(() => fhir('PUT', 'Encounter/v-now', finished({ extension: [taskOutcome('wash', 'done')] })));
    expect({ status: oneTask.status, at: expressions(oneTask.body) }).toEqual({ status: 422, at: ['Encounter.extension'] });
    const noEnd = await refusedWithNothingStored(() => fhir('PUT', 'Encounter/v-now', finished({ period: { start: current.period!.start } })));
    expect({ status: noEnd.status, at: expressions(noEnd.body) }).toEqual({ status: 400, at: ['Encounter.period.end'] });

    const doseMissing = await refusedWithNothingStored(() => fhir('PUT', 'Encounter/v-now', finished()));
    expect({ status: doseMissing.status, at: expressions(doseMissing.body) }).toEqual({ status: 422, at: [`Encounter.extension('${UNRECORDED_DOSES_REASON}')`] });
    expect(doseMissing.body.issue[0]!.diagnostics).toContain(`1 tablet of Amlodipine 5mg tablets at ${doseTime}`);

    const why = 'She was asleep; the evening visit will give it';
    const closed = await fhir<Encounter>('PUT', 'Encounter/v-now', finished({ extension: [...(current.extension ?? []), ...tasks, { url: UNRECORDED_DOSES_REASON, valueString: why }] }), { 'if-match': 'W/"1"' });
    expect(closed.status).toBe(200);
    expectValidFhir(closed.body as never);
    expect(closed.body).toMatchObject({ status: 'finished', meta: { versionId: '2' } });
    expect(Date.parse(closed.body.period!.end!)).toBe(Date.parse(departure));
    expect(closed.body.extension).toEqual(expect.arrayContaining([...tasks, { url: UNRECORDED_DOSES_REASON, valueString: why }]));
    const appointment = (await gpKit.read({ resourceType: 'Appointment', id: 'v-now', options: { headers: { 'x-tandem-min-position': String(position) } } })) as Appointment;
    expect(appointment.status).toBe('fulfilled');
    const visit = await record.care.visits.visit('v-now');
    expect(visit.planned && visit.checkedOut).toMatchObject({ unrecordedDosesReason: why, unrecordedDoses: [expect.objectContaining({ description: expect.stringContaining('Amlodipine 5mg tablets') })] });

    // Sent back as read, nothing changes; on a stale version, it is refused.
    const asRead = await fhir<Encounter>('PUT', 'Encounter/v-now', closed.body, { 'if-match': 'W/"2"' });
    expect({ status: asRead.status, version: asRead.body.meta?.versionId }).toEqual({ status: 200, version: '2' });
    const stale = await refusedWithNothingStored(() => fhir('PUT', 'Encounter/v-now', closed.body, { 'if-match': 'W/"1"' }));
    expect({ status: stale.status, at: expressions(stale.body) }).toEqual({ status: 412, at: ['If-Match'] });
    const reopened = await refusedWithNothingStored(() => fhir('PUT', 'Encounter/v-now', { ...closed.body, status: 'in-progress', period: { start: closed.body.period!.start }, extension: undefined }));
    expect({ status: reopened.status, at: expressions(reopened.body) }).toEqual({ status: 422, at: ['Encounter.status'] });
  });

  it('an Encounter for a visit not yet checked in cannot be updated (404), and nothing is stored', async () => {
    const reply = await refusedWithNothingStored(() => fhir('PUT', 'Encounter/v-later', { ...checkIn('v-later'), id: 'v-later', status: 'finished', period: { start: arrival, end: minutes(0) } }));
    expect(reply.status).toBe(404);
  });

  it('the CapabilityStatement says create and update for Encounter and Appointment', async () => {
    const metadata = (await gpKit.capabilityStatement()) as CapabilityStatement;
    const interactions = (type: string) => metadata.rest![0]!.resource!.find((r) => r.type === type)!.interaction!.map((i) => i.code);
    for (const type of ['Encounter', 'Appointment']) expect(interactions(type)).toEqual(expect.arrayContaining(['create', 'update']));
  });
});
