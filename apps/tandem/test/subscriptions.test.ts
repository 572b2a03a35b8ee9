import { mintToken, type MintClaims } from '@tandem/auth';
import { auditStreamFor, type AccessRecordedData } from '@tandem/contracts';
import { ManualClock, reactionEscalationId, type DelegationService } from '@tandem/delegation';
import type { createRecordService } from '@tandem/record';
import type { Bundle, Parameters, Subscription } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { expectValidFhir } from '@tandem/fhir-validation';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData, seedDemoRotas } from '../src/demo/demo-data';
import type { SubscriptionService } from '../src/subscriptions/service';
import { ESCALATION_TOPIC, NEWS2_TOPIC } from '../src/subscriptions/topics';

/**
 * Issue 14, Subscriptions, over HTTP on a real embedded Tandem and real receivers (node:http):
 * Dr Shah's GP system subscribes to escalations about Mr Jones; a care worker records a glucose of
 * 3.2 mmol/L; the receiver is told, numbered from 1; Tandem stops and starts again on the same data
 * directory and the next escalation carries on the numbering with nothing lost or sent twice; a nurse
 * of another team, subscribed to everything, is told nothing about him; an endpoint that fails is
 * retried, marked error, and resumes when it answers again.
 */

/** The backport's handshake: the status alone, of type handshake (a new rest-hook endpoint is sent one before it is active). */
const isHandshake = (bundle: Bundle) => (bundle.entry?.[0]?.resource as Parameters | undefined)?.parameter?.some((p) => p.name === 'type' && p.valueCode === 'handshake') === true;

/**
 * A rest-hook receiver: keeps every notification, and the handshakes apart; answers `status` (200 unless
 * told otherwise); while `hold` is set, leaves requests unanswered (in `held`) until `release`.
 */
class Receiver {
  readonly inbox: Bundle[] = [];
  readonly handshakes: Bundle[] = [];
  attempts = 0;
  status = 200;
  hold = false;
  readonly held: { bundle: Bundle; res: ServerResponse }[] = [];
  private server!: Server;
  async start() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        this.attempts += 1;
        const bundle = JSON.parse(body) as Bundle;
        if (this.hold) return void this.held.push({ bundle, res });
        this.answer(bundle, res);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }
  private answer(bundle: Bundle, res: ServerResponse) {
    if (this.status < 300) (isHandshake(bundle) ? this.handshakes : this.inbox).push(bundle);
    res.statusCode = this.status;
    res.end();
  }
  /** Answers what was held (with `status`) and stops holding. */
  release() {
    this.hold = false;
    for (const { bundle, res } of this.held.splice(0)) this.answer(bundle, res);
  }
  get url() {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/notify`;
  }
  stop() {
    for (const { res } of this.held.splice(0)) res.destroy();
    this.server.closeAllConnections();
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const statusOf = (bundle: Bundle) => bundle.entry![0]!.resource as Parameters;
const param = (p: Parameters, name: string) => p.parameter!.find((x) => x.name === name);
const numberOf = (bundle: Bundle) => Number(param(statusOf(bundle), 'events-since-subscription-start')!.valueString);
const focusOf = (bundle: Bundle) => param(statusOf(bundle), 'notification-event')!.part!.find((p) => p.name === 'focus')!.valueReference!.reference!;

/** Polls until `ready` holds; a generous overall limit, never a timed assertion. */
const until = async (ready: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 1200; i++) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
};

const subscription = (endpoint: string, patientId?: string, payload: 'id-only' | 'full-resource' = 'id-only'): Subscription => ({
  resourceType: 'Subscription',
  meta: { profile: ['http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription'] },
  status: 'requested',
  reason: 'Escalations for my patients',
  criteria: ESCALATION_TOPIC,
  ...(patientId ? { _criteria: { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria', valueString: `Communication?patient=Patient/${patientId}` }] } } : {}),
  channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json', _payload: { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content', valueCode: payload }] } },
});

describe('FHIR Subscriptions: an escalation is notified to a GP system over rest-hook, in order, across a restart, within access', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientIds: string[];
  const clock = new ManualClock('2025-11-20T20:30:00Z');
  const gpSystem = new Receiver();
  const sarahsSystem = new Receiver();
  const strangersSystem = new Receiver();
  const failing = new Receiver();
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  /** The care worker of the demo's n-th person (the demo assigns them in turn): Amira for the first. */
  const careWorker = (n = 0) => token({ role: 'care-worker', user: DEMO.careWorkers[n % DEMO.careWorkers.length]!.practitionerId, org: DEMO.careAgency.organisationId });
  const amira = () => careWorker(0);
  const gp = () => token({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration });
  const sarah = () => token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
  const stranger = () => token({ role: 'district-nurse', user: 'nurse-zoe-adams', org: 'org-south-district-nursing', registration: { system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '99Z9999Z' } });
  const start = () => startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }), { clock, subscriptionRetry: { firstMs: 20, maxMs: 100, errorAfter: 3 } });
  const delegation = () => tandem.services.find((s) => s.name === 'delegation') as DelegationService;
  const subscriptions = () => tandem.services.find((s) => s.name === 'subscriptions') as SubscriptionService;

  const call = async (method: string, path: string, bearer: string, body?: unknown) => {
    const response = await fetch(`${tandem.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': path.startsWith('/fhir') ? 'application/fhir+json' : 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  };
  const lowGlucose = async (key: string, patientId = patientIds[0]!) => {
    const at = new Date(clock.now().getTime() - 60_000).toISOString();
    const glucose = await call('POST', `/api/patients/${patientId}/blood-glucose`, await careWorker(patientIds.indexOf(patientId)), { idempotencyKey: key, occurredAt: at, glucoseMmolL: 3.2 });
    expect(glucose.status).toBe(201);
    await delegation().processor.settle(60_000);
    return reactionEscalationId((glucose.body.eventIds as string[])[0]!, 'hypoglycaemia.below-4');
  };
  /** Sarah acknowledges and resolves an escalation: two changes, each notified. */
  const acknowledgeAndResolve = async (escalationId: string, key: string) => {
    expect((await call('POST', `/api/escalations/${escalationId}/acknowledgement`, await sarah(), { idempotencyKey: `${key}-ack` })).status).toBe(201);
    expect((await call('POST', `/api/escalations/${escalationId}/resolution`, await sarah(), { idempotencyKey: `${key}-resolve`, outcome: 'Glucose rechecked 6.1 mmol/L after a snack; GP informed' })).status).toBe(201);
    await delegation().processor.settle(60_000);
  };
  /** Every event in the escalation's stream is one notification (raised, sent to a tier, ...). */
  const changesOf = async (escalationId: string) => (await tandem.storage.store.readStream(`escalation-${escalationId}`)).length;
  const settled = () => until(async () => subscriptions().delivery.caughtUp(await tandem.storage.store.headPosition()), 'delivery to catch up with the log');

  let gpSubscriptionId = '';
  let firstEscalation = '';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-subscriptions-'));
    await Promise.all([gpSystem.start(), sarahsSystem.start(), strangersSystem.start(), failing.start()]);
    tandem = await start();
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    ({ patientIds } = await seedDemoData(record.care, { patients: 2, days: 1, now: clock.now() }));
    await seedDemoRotas(delegation().commands);
    await delegation().processor.settle(60_000);
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    await Promise.all([gpSystem.stop(), sarahsSystem.stop(), strangersSystem.stop(), failing.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a GP subscribes to escalations about his patient; the Subscription is stored, read back and listed as his, and a bad one is refused naming the element', async () => {
    const created = await call('POST', '/fhir/Subscription', await gp(), subscription(gpSystem.url, patientIds[0]));
    expect(created.status).toBe(201);
    const resource = created.body as unknown as Subscription;
    gpSubscriptionId = resource.id!;
    // requested until the endpoint has accepted the handshake (Backport IG 1.1.0), then active
    expect(resource).toMatchObject({ status: 'requested', criteria: ESCALATION_TOPIC, channel: { type: 'rest-hook', endpoint: gpSystem.url } });
    expectValidFhir(resource);
    await until(async () => (await call('GET', `/fhir/Subscription/${gpSubscriptionId}`, await gp())).body.status === 'active', 'the handshake to make it active');
    expect(gpSystem.handshakes).toHaveLength(1);
    expectValidFhir(gpSystem.handshakes[0]!);
    expect(param(statusOf(gpSystem.handshakes[0]!), 'status')!.valueCode).toBe('requested');
    expect(numberOf(gpSystem.handshakes[0]!)).toBe(0);
    expect(gpSystem.handshakes[0]!.entry).toHaveLength(1);
    const listed = (await call('GET', '/fhir/Subscription', await gp())).body as unknown as Bundle;
    expect(listed.entry?.map((e) => e.resource?.id)).toEqual([gpSubscriptionId]);
    // another user neither sees nor lists it
    expect((await call('GET', `/fhir/Subscription/${gpSubscriptionId}`, await sarah())).status).toBe(404);
    // the stream is the truth
    expect((await tandem.storage.store.readStream(`subscription-${gpSubscriptionId}`)).map((e) => e.type)).toEqual(['SubscriptionRequested', 'SubscriptionActivated']);

    const bad = await call('POST', '/fhir/Subscription', await gp(), { ...subscription('ftp://elsewhere.example/x', patientIds[0]), criteria: 'https://example.org/not-a-topic' });
    expect(bad.status).toBe(400);
    const expressions = (bad.body.issue as { expression: string[] }[]).flatMap((i) => i.expression);
    expect(expressions).toEqual(expect.arrayContaining(['Subscription.criteria', 'Subscription.channel.endpoint']));
    // no token: 401; a body that is not JSON: 400 naming the resource; neither stores anything
    const anonymous = await fetch(`${tandem.url}/fhir/Subscription`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(subscription(gpSystem.url, patientIds[0])) });
    expect(anonymous.status).toBe(401);
    const notJson = await fetch(`${tandem.url}/fhir/Subscription`, { method: 'POST', headers: { authorization: `Bearer ${await gp()}`, 'content-type': 'application/fhir+json' }, body: '{"resourceType": "Subscr' });
    expect({ status: notJson.status, body: await notJson.json() }).toMatchObject({ status: 400, body: { resourceType: 'OperationOutcome', issue: [{ expression: ['Subscription'] }] } });
    // an integration launched for Mr Jones (a virtual ward's system) subscribes too, and deletes its subscription
    const virtualWard = await token({ role: 'system', user: 'virtual-ward', patient: patientIds[0]! });
    const ward = await call('POST', '/fhir/Subscription', virtualWard, subscription(gpSystem.url, patientIds[0]));
    expect(ward.status).toBe(201);
    expect((await call('DELETE', `/fhir/Subscription/${String(ward.body.id)}`, virtualWard)).status).toBe(204);
    // a care worker may not subscribe, nor anyone to a person outside their care
    expect((await call('POST', '/fhir/Subscription', await amira(), subscription(gpSystem.url, patientIds[0]))).status).toBe(403);
    expect((await call('POST', '/fhir/Subscription', await stranger(), subscription(strangersSystem.url, patientIds[0]))).status).toBe(403);
  });

  it('/fhir/metadata declares Subscription with what is served (create, read, search, delete, $status, $events) and both topics', async () => {
    const metadata = (await (await fetch(`${tandem.url}/fhir/metadata`)).json()) as { rest: { resource: { type: string; interaction: { code: string }[]; operation?: { name: string }[]; documentation?: string }[] }[] };
    const declared = metadata.rest[0]!.resource.find((r) => r.type === 'Subscription');
    expect(declared?.interaction.map((i) => i.code).sort()).toEqual(['create', 'delete', 'read', 'search-type']);
    expect(declared?.operation?.map((o) => o.name).sort()).toEqual(['events', 'get-ws-binding-token', 'status']);
    expect(declared?.documentation).toContain(ESCALATION_TOPIC);
    // each declared interaction answers (create, read and search are exercised above; delete here on a fresh one)
    const made = await call('POST', '/fhir/Subscription', await gp(), subscription(gpSystem.url, patientIds[0]));
    const id = (made.body as { id: string }).id;
    expect((await call('GET', `/fhir/Subscription/${id}/$status`, await gp())).status).toBe(200);
    expect((await call('GET', `/fhir/Subscription/${id}/$events`, await gp())).status).toBe(200);
    expect([200, 204]).toContain((await fetch(`${tandem.url}/fhir/Subscription/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${await gp()}` } })).status);
  });

  it('a care worker records glucose 3.2 mmol/L: the GP system is notified with a valid R4 notification Bundle numbered 1 about the escalation', async () => {
    // A nurse of another team subscribes to everything she may see; Sarah, Mr Jones's nurse, too (the test can fail).
    expect((await call('POST', '/fhir/Subscription', await stranger(), subscription(strangersSystem.url))).status).toBe(201);
    expect((await call('POST', '/fhir/Subscription', await sarah(), subscription(sarahsSystem.url, undefined, 'full-resource'))).status).toBe(201);

    firstEscalation = await lowGlucose('subscriptions-glucose-1');
    const changes = await changesOf(firstEscalation);
    await until(() => gpSystem.inbox.length >= changes, 'the GP system to be notified');
    await settled();

    const [first] = gpSystem.inbox;
    expectValidFhir(first!);
    expect(first!.type).toBe('history');
    expect(statusOf(first!).meta?.profile).toEqual(['http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4']);
    expect(param(statusOf(first!), 'topic')!.valueCanonical).toBe(ESCALATION_TOPIC);
    expect(param(statusOf(first!), 'type')!.valueCode).toBe('event-notification');
    expect(numberOf(first!)).toBe(1);
    expect(focusOf(first!)).toMatch(new RegExp(`/Communication/${firstEscalation}$`));
    // id-only: the focus is named, not sent
    expect(first!.entry![1]).toMatchObject({ request: { method: 'POST' } });
    expect(first!.entry![1]!.resource).toBeUndefined();
    expect(gpSystem.inbox.map(numberOf)).toEqual(Array.from({ length: changes }, (_, i) => i + 1));

    // full-resource: Sarah's system gets the Communication itself
    expect(sarahsSystem.inbox.length).toBe(changes);
    expect(sarahsSystem.inbox[0]!.entry![1]!.resource).toMatchObject({ resourceType: 'Communication', id: firstEscalation });
    // the stranger is told nothing about Mr Jones, not even a count
    expect(strangersSystem.inbox).toEqual([]);
    expect(JSON.stringify(strangersSystem.inbox)).not.toContain(patientIds[0]!);

    // each notification is in the access trail, as a read by the subscription's owner naming the person
    const written = await tandem.accessTrail.flush();
    const trail = (await tandem.storage.store.readStream(auditStreamFor(new Date()))).map((e) => e.data as AccessRecordedData);
    const notified = trail.filter((r) => r.method === 'NOTIFY' && r.path === `/fhir/Subscription/${gpSubscriptionId}/$notification`);
    expect(notified).toHaveLength(changes);
    expect(notified[0]).toMatchObject({ agent: { id: DEMO.gp.practitionerId }, patientIds: [patientIds[0]], actions: ['fhir.read'], outcome: 'success', interaction: 'operation' });
    // and an auditor finds them as AuditEvents about Mr Jones
    const auditor = await token({ role: 'auditor', user: 'auditor-subscriptions' });
    const audit = await fetch(`${tandem.url}/fhir/AuditEvent?patient=Patient/${patientIds[0]}&_count=200`, { headers: { authorization: `Bearer ${auditor}`, 'x-tandem-min-position': String(written) } });
    expect(audit.status).toBe(200);
    expect(await audit.text()).toContain(`NOTIFY /fhir/Subscription/${gpSubscriptionId}/$notification`);
  }, 120_000);

  it('after Tandem stops and starts again on the same data directory, the next escalation carries on the numbering: nothing lost, nothing sent twice', async () => {
    const before = gpSystem.inbox.length;
    expect(before).toBe(await changesOf(firstEscalation));
    await tandem.stop();
    tandem = await start();
    // the first escalation is acknowledged and resolved (changed twice), then another low glucose raises a second one
    await acknowledgeAndResolve(firstEscalation, 'subscriptions-first');
    const second = await lowGlucose('subscriptions-glucose-2');
    expect(second).not.toBe(firstEscalation);
    const total = (await changesOf(firstEscalation)) + (await changesOf(second));
    expect(total).toBeGreaterThan(before + 2);
    await until(() => gpSystem.inbox.length >= total, 'the GP system to be notified after the restart');
    await settled();
    expect(gpSystem.inbox.map(numberOf)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const after = gpSystem.inbox.slice(before).map(focusOf);
    expect(after.slice(0, 2).every((f) => f.endsWith(`/Communication/${firstEscalation}`))).toBe(true);
    expect(after.slice(2).every((f) => f.endsWith(`/Communication/${second}`))).toBe(true);
    expect(gpSystem.inbox[before + 2]!.entry![1]).toMatchObject({ request: { method: 'POST' } });
    // $status says how many were sent, so a receiver can see a gap
    const status = (await call('GET', `/fhir/Subscription/${gpSubscriptionId}/$status`, await gp())).body as unknown as Bundle;
    expect(param(status.entry![0]!.resource as Parameters, 'events-since-subscription-start')!.valueString).toBe(String(total));
    expect(strangersSystem.inbox).toEqual([]);
    // and $events gives a receiver that saw a gap what it missed, by number
    const replay = (await call('GET', `/fhir/Subscription/${gpSubscriptionId}/$events?eventsSinceNumber=2&eventsUntilNumber=3`, await gp())).body as unknown as Bundle;
    expectValidFhir(replay);
    const replayed = (replay.entry![0]!.resource as Parameters).parameter!.filter((p) => p.name === 'notification-event');
    expect(replayed.map((p) => p.part!.find((x) => x.name === 'event-number')!.valueString)).toEqual(['2', '3']);
    expect(replayed.map((p) => p.part!.find((x) => x.name === 'focus')!.valueReference!.reference)).toEqual(gpSystem.inbox.slice(1, 3).map(focusOf));
    expect((await call('GET', `/fhir/Subscription/${gpSubscriptionId}/$events?eventsSinceNumber=two`, await gp())).body).toMatchObject({ issue: [{ expression: ['eventsSinceNumber'] }] });
  }, 120_000);

  it('an endpoint that keeps failing is retried, marked error, and resumes (numbered from 1) when it answers again; a deleted subscription is sent nothing more', async () => {
    const created = await call('POST', '/fhir/Subscription', await gp(), subscription(failing.url, patientIds[1]));
    const id = (created.body as unknown as Subscription).id!;
    // it shakes hands, then the endpoint starts failing
    await until(async () => (await call('GET', `/fhir/Subscription/${id}`, await gp())).body.status === 'active', 'the handshake');
    failing.status = 503;
    const handshakeAttempts = failing.attempts;
    const escalation = await lowGlucose('subscriptions-glucose-3', patientIds[1]);
    await until(async () => (await call('GET', `/fhir/Subscription/${id}`, await gp())).body.status === 'error', 'the subscription to be marked error');
    expect(failing.attempts - handshakeAttempts).toBeGreaterThanOrEqual(3);
    expect(failing.inbox).toEqual([]);
    const types = async () => (await tandem.storage.store.readStream(`subscription-${id}`)).map((e) => e.type);
    expect(await types()).toEqual(['SubscriptionRequested', 'SubscriptionActivated', 'SubscriptionErrored']);

    failing.status = 200;
    const changes = await changesOf(escalation);
    await until(() => failing.inbox.length >= changes, 'the endpoint to be notified once it answers');
    await settled();
    expect((await call('GET', `/fhir/Subscription/${id}`, await gp())).body.status).toBe('active');
    expect(failing.inbox.map(numberOf)).toEqual(Array.from({ length: changes }, (_, i) => i + 1));
    expect((await types()).slice(0, 5)).toEqual(['SubscriptionRequested', 'SubscriptionActivated', 'SubscriptionErrored', 'SubscriptionResumed', 'SubscriptionNotified']);

    // deleted: nothing more is sent to it, while Sarah's system (everything she may see) is told of the change
    expect((await call('DELETE', `/fhir/Subscription/${id}`, await gp())).status).toBe(204);
    expect((await call('GET', `/fhir/Subscription/${id}`, await gp())).body.status).toBe('off');
    const sarahHad = sarahsSystem.inbox.length;
    await acknowledgeAndResolve(escalation, 'subscriptions-third');
    await until(() => sarahsSystem.inbox.length >= sarahHad + 2, "Sarah's system to be told of the change");
    await settled();
    expect(failing.inbox.length).toBe(changes);
  }, 120_000);

  it('the handshake: a new rest-hook subscription is requested until its endpoint answers it (honestly so in $status), error while it is refused, then active; what happened meanwhile is all sent, numbered from 1', async () => {
    const receiver = await new Receiver().start();
    try {
      const statusNow = async (id: string) => param(((await call('GET', `/fhir/Subscription/${id}/$status`, await gp())).body as unknown as Bundle).entry![0]!.resource as Parameters, 'status')!.valueCode;
      // an endpoint that has not answered the handshake yet: requested, and nothing else is sent to it
      receiver.hold = true;
      const created = await call('POST', '/fhir/Subscription', await gp(), subscription(receiver.url, patientIds[1]));
      expect(created.status).toBe(201);
      const id = String(created.body.id);
      await until(() => receiver.held.length > 0, 'the handshake to be on its way');
      // the escalation is raised and its changes reach the subscription's queue while it waits
      const escalation = await lowGlucose('subscriptions-handshake-held', patientIds[1]);
      const head = await tandem.storage.store.headPosition();
      await until(() => subscriptions().delivery.status().position >= head, 'delivery to have read the escalation');
      expect(await statusNow(id)).toBe('requested');
      expect((await call('GET', `/fhir/Subscription/${id}`, await gp())).body.status).toBe('requested');
      expect(receiver.held.map(({ bundle }) => param(statusOf(bundle), 'type')!.valueCode)).toEqual(['handshake']);

      // it refuses: error, naming the handshake, and it is tried again
      receiver.status = 503;
      receiver.release();
      await until(async () => (await statusNow(id)) === 'error', 'the refused handshake to show as error');
      expect((await call('GET', `/fhir/Subscription/${id}`, await gp())).body.error).toContain('handshake');
      const refused = receiver.attempts;
      await until(() => receiver.attempts > refused, 'the handshake to be tried again');
      expect(receiver.inbox).toEqual([]);

      // it answers: active, and every change of the escalation recorded meanwhile follows, numbered from 1
      receiver.status = 200;
      const changes = await changesOf(escalation);
      await until(() => receiver.inbox.length >= changes, 'what happened before the handshake to be sent');
      await settled();
      expect(await statusNow(id)).toBe('active');
      expect(receiver.handshakes).toHaveLength(1);
      expect(receiver.inbox.map(numberOf)).toEqual(Array.from({ length: changes }, (_, i) => i + 1));
      expect(receiver.inbox.every((b) => focusOf(b).endsWith(`/Communication/${escalation}`))).toBe(true);
      expect((await tandem.storage.store.readStream(`subscription-${id}`)).map((e) => e.type).slice(0, 4)).toEqual(['SubscriptionRequested', 'SubscriptionErrored', 'SubscriptionActivated', 'SubscriptionNotified']);
      expect((await call('DELETE', `/fhir/Subscription/${id}`, await gp())).status).toBe(204);
      // closed, so the next low glucose for her raises an escalation of its own
      await acknowledgeAndResolve(escalation, 'subscriptions-handshake');
    } finally {
      await receiver.stop();
    }
  }, 120_000);

  it("the GP's access is decided at each event: once Mr Jones is no longer his patient, what happens next is not sent to him (it still is to his nurse)", async () => {
    const second = (await tandem.storage.store.readAll({})).find((e) => e.type === 'EscalationRaised' && (e.data as { patientId: string }).patientId === patientIds[0] && e.stream !== `escalation-${firstEscalation}`)!;
    const secondId = second.stream.slice('escalation-'.length);
    const gpHad = gpSystem.inbox.length;
    const sarahHad = sarahsSystem.inbox.length;
    // He hands over: another GP is registered for Mr Jones and he leaves the care team.
    const occurredAt = new Date(clock.now().getTime() - 10_000).toISOString();
    expect((await call('POST', `/api/patients/${patientIds[0]}/details`, await sarah(), { idempotencyKey: 'subscriptions-new-gp', occurredAt, registeredGp: 'gp-other' })).status).toBe(201);
    const leaves = { idempotencyKey: 'subscriptions-gp-leaves', occurredAt, practitionerId: DEMO.gp.practitionerId, teamRole: 'gp' };
    expect((await call('POST', `/api/patients/${patientIds[0]}/care-team/removals`, await sarah(), leaves)).status).toBe(201);
    await acknowledgeAndResolve(secondId, 'subscriptions-second');
    await until(() => sarahsSystem.inbox.length >= sarahHad + 2, "Sarah's system to be told");
    await settled();
    expect(gpSystem.inbox.length).toBe(gpHad);
    // and his subscription's count has not moved, so no gap hints at what he may not see
    const status = (await call('GET', `/fhir/Subscription/${gpSubscriptionId}/$status`, await gp())).body as unknown as Bundle;
    expect(param(status.entry![0]!.resource as Parameters, 'events-since-subscription-start')!.valueString).toBe(String(gpHad));
    // nor does $events give him again what he was told of Mr Jones while he was his GP
    const replay = (await call('GET', `/fhir/Subscription/${gpSubscriptionId}/$events`, await gp())).body as unknown as Bundle;
    expect((replay.entry![0]!.resource as Parameters).parameter!.filter((p) => p.name === 'notification-event')).toEqual([]);
  }, 120_000);

  it('the NEWS2 topic: a NEWS2 at or above the threshold is notified with its Observation, an incomplete one whose known part reaches it too, a lower one not', async () => {
    const news2 = (threshold: number): Subscription => ({
      ...subscription(sarahsSystem.url, patientIds[1], 'full-resource'),
      criteria: NEWS2_TOPIC,
      _criteria: { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria', valueString: `Observation?patient=Patient/${patientIds[1]}&news2=ge${threshold}` }] },
    });
    const receiver = await new Receiver().start();
    try {
      const created = await call('POST', '/fhir/Subscription', await sarah(), { ...news2(5), channel: { ...news2(5).channel, endpoint: receiver.url } });
      expect(created.status).toBe(201);
      const at = new Date(clock.now().getTime() - 30_000).toISOString();
      const vitals = async (key: string, values: Record<string, unknown>) => {
        const answer = await call('POST', `/api/patients/${patientIds[1]}/vital-signs`, await careWorker(1), { idempotencyKey: key, occurredAt: at, ...values });
        expect(answer.status).toBe(201);
        return (answer.body.eventIds as string[])[0]!;
      };
      const normal = { respirationRate: 16, spo2: 97, airOrOxygen: 'air', systolic: 125, diastolic: 80, pulse: 72, consciousness: 'A', temperatureC: 37.0 };
      const low = await vitals('subscriptions-news2-0', normal);
      // respiration 25 (3) and pulse 115 (2): NEWS2 5
      const five = await vitals('subscriptions-news2-5', { ...normal, respirationRate: 25, pulse: 115 });
      // the same without a temperature: incomplete, but the known part is already 5
      const incomplete = await vitals('subscriptions-news2-incomplete', { ...normal, respirationRate: 25, pulse: 115, temperatureC: undefined });
      await delegation().processor.settle(60_000);
      await until(() => receiver.inbox.length >= 2, 'the NEWS2 notifications');
      await settled();
      expect(receiver.inbox.map(focusOf)).toEqual([expect.stringMatching(new RegExp(`/Observation/${five}-news2$`)), expect.stringMatching(new RegExp(`/Observation/${incomplete}-news2$`))]);
      expect(receiver.inbox.map(focusOf).join()).not.toContain(low);
      expect(receiver.inbox[0]!.entry![1]!.resource).toMatchObject({ resourceType: 'Observation', id: `${five}-news2`, valueQuantity: { value: 5 } });
      for (const bundle of receiver.inbox) expectValidFhir(bundle);
    } finally {
      await receiver.stop();
    }
  }, 120_000);

  it('a heartbeat (backport-heartbeat-period) tells a receiver with nothing to hear that the subscription is alive, with its count', async () => {
    const receiver = await new Receiver().start();
    try {
      const withHeartbeat = subscription(receiver.url, patientIds[1]);
      withHeartbeat.channel = { ...withHeartbeat.channel, extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-heartbeat-period', valueUnsignedInt: 1 }] };
      const created = await call('POST', '/fhir/Subscription', await sarah(), withHeartbeat);
      expect(created.status).toBe(201);
      expect((created.body as unknown as Subscription).channel.extension).toEqual(withHeartbeat.channel.extension);
      await until(() => receiver.inbox.length > 0, 'a heartbeat');
      const [heartbeat] = receiver.inbox;
      expectValidFhir(heartbeat!);
      expect(param(statusOf(heartbeat!), 'type')!.valueCode).toBe('heartbeat');
      expect(numberOf(heartbeat!)).toBe(0);
      expect(heartbeat!.entry).toHaveLength(1);
      expect((await call('DELETE', `/fhir/Subscription/${String(created.body.id)}`, await sarah())).status).toBe(204);
    } finally {
      await receiver.stop();
    }
  }, 120_000);

  it('access is decided at the position of each event, not when it is sent: what happened while he was her GP reaches him late, what happened after does not', async () => {
    const receiver = await new Receiver().start();
    try {
      receiver.status = 503;
      const created = await call('POST', '/fhir/Subscription', await gp(), subscription(receiver.url, patientIds[1]));
      expect(created.status).toBe(201);
      const id = String(created.body.id);
      const escalation = await lowGlucose('subscriptions-glucose-late', patientIds[1]);
      await until(async () => (await call('GET', `/fhir/Subscription/${id}`, await gp())).body.status === 'error', 'the subscription to be in error');
      const whileHerGp = await changesOf(escalation);

      // He hands over while his endpoint is down; then the escalation is acknowledged and resolved.
      const occurredAt = new Date(clock.now().getTime() - 5_000).toISOString();
      expect((await call('POST', `/api/patients/${patientIds[1]}/details`, await sarah(), { idempotencyKey: 'subscriptions-late-new-gp', occurredAt, registeredGp: 'gp-other' })).status).toBe(201);
      const leaves = { idempotencyKey: 'subscriptions-late-gp-leaves', occurredAt, practitionerId: DEMO.gp.practitionerId, teamRole: 'gp' };
      expect((await call('POST', `/api/patients/${patientIds[1]}/care-team/removals`, await sarah(), leaves)).status).toBe(201);
      await acknowledgeAndResolve(escalation, 'subscriptions-late');
      expect(await changesOf(escalation)).toBe(whileHerGp + 2);

      receiver.status = 200;
      await until(() => receiver.inbox.length >= whileHerGp, 'the endpoint to be told once it answers');
      await settled();
      expect(receiver.inbox.map(numberOf)).toEqual(Array.from({ length: whileHerGp }, (_, i) => i + 1));
      expect(receiver.inbox.every((b) => focusOf(b).endsWith(`/Communication/${escalation}`))).toBe(true);
    } finally {
      await receiver.stop();
    }
  }, 120_000);
});
