import { mintToken, type MintClaims } from '@tandem/auth';
import { auditStreamFor, type AccessRecordedData } from '@tandem/contracts';
import { ManualClock, reactionEscalationId, type DelegationService } from '@tandem/delegation';
import type { createRecordService } from '@tandem/record';
import type { Bundle, Parameters, Subscription } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { WebSocket } from 'ws';
import { expectValidFhir } from '@tandem/fhir-validation';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData, seedDemoRotas } from '../src/demo/demo-data';
import { seedDemoInsulinDelegation } from '../src/demo/insulin-delegation';
import type { SubscriptionService } from '../src/subscriptions/service';
import { DELEGATION_TOPIC, ESCALATION_TOPIC, NEW_ENTRY_TOPIC } from '../src/subscriptions/topics';

/**
 * Issue 14, the rest of Subscriptions, on a real embedded Tandem: the websocket channel (a real `ws`
 * client binds with the token `$get-ws-binding-token` gives, is handshaken, and is told of an
 * escalation over the socket, within the owner's access and in the access trail; it binds again
 * after a disconnection and gets what happened meanwhile, in order), and the topics "any new entry
 * in a person's record" and "a delegation changed", each told to a real HTTP receiver.
 */

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';

/** The backport's handshake: the status alone, of type handshake (a new rest-hook endpoint is sent one before it is active). */
const isHandshake = (bundle: Bundle) => (bundle.entry?.[0]?.resource as Parameters | undefined)?.parameter?.some((p) => p.name === 'type' && p.valueCode === 'handshake') === true;

/** A rest-hook receiver that keeps every notification (the handshakes apart). */
class Receiver {
  readonly inbox: Bundle[] = [];
  readonly handshakes: Bundle[] = [];
  private server!: Server;
  async start() {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const bundle = JSON.parse(body) as Bundle;
        (isHandshake(bundle) ? this.handshakes : this.inbox).push(bundle);
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }
  get url() {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/notify`;
  }
  stop() {
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A websocket client as a receiving system runs it: every text message kept, parsed; how it closed. */
class SocketClient {
  readonly messages: Record<string, unknown>[] = [];
  closed: { code: number; reason: string } | undefined;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.messages.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>));
    ws.on('close', (code: number, reason: Buffer) => (this.closed = { code, reason: reason.toString() }));
  }
  static open(url: string): Promise<SocketClient> {
    const ws = new WebSocket(url);
    const client = new SocketClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }
  get bundles(): Bundle[] {
    return this.messages.filter((m) => m.resourceType === 'Bundle') as unknown as Bundle[];
  }
  close() {
    this.ws.close();
    return until(() => this.closed !== undefined, 'the socket to close');
  }
}

const statusOf = (bundle: Bundle) => bundle.entry![0]!.resource as Parameters;
const param = (p: Parameters, name: string) => p.parameter!.find((x) => x.name === name);
const typeOf = (bundle: Bundle) => param(statusOf(bundle), 'type')!.valueCode;
const numberOf = (bundle: Bundle) => Number(param(statusOf(bundle), 'events-since-subscription-start')!.valueString);
const focusOf = (bundle: Bundle) => param(statusOf(bundle), 'notification-event')!.part!.find((p) => p.name === 'focus')!.valueReference!.reference!;
const notifications = (bundles: readonly Bundle[]) => bundles.filter((b) => typeOf(b) === 'event-notification');

/** Polls until `ready` holds; a generous overall limit, never a timed assertion. */
const until = async (ready: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 1200; i++) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
};

const subscription = (topic: string, channel: { type: 'rest-hook'; endpoint: string } | { type: 'websocket' }, o: { patientId?: string; criteria?: string; payload?: 'id-only' | 'full-resource' } = {}): Subscription => ({
  resourceType: 'Subscription',
  meta: { profile: [`${BACKPORT}/backport-subscription`] },
  status: 'requested',
  reason: 'Integration test',
  criteria: topic,
  ...(o.criteria || o.patientId ? { _criteria: { extension: [{ url: `${BACKPORT}/backport-filter-criteria`, valueString: o.criteria ?? `patient=Patient/${o.patientId}` }] } } : {}),
  channel: { ...channel, payload: 'application/fhir+json', _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: o.payload ?? 'id-only' }] } },
});

describe('FHIR Subscriptions: the websocket channel and the new-entry and delegation topics', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientIds: string[];
  const clock = new ManualClock('2025-11-20T20:30:00Z');
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const careWorker = (n = 0) => token({ role: 'care-worker', user: DEMO.careWorkers[n % DEMO.careWorkers.length]!.practitionerId, org: DEMO.careAgency.organisationId });
  const gp = () => token({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration });
  const sarah = () => token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
  const stranger = () => token({ role: 'district-nurse', user: 'nurse-zoe-adams', org: 'org-south-district-nursing', registration: { system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '99Z9999Z' } });
  const delegation = () => tandem.services.find((s) => s.name === 'delegation') as DelegationService;
  const subscriptions = () => tandem.services.find((s) => s.name === 'subscriptions') as SubscriptionService;
  const settled = () => until(async () => subscriptions().delivery.caughtUp(await tandem.storage.store.headPosition()), 'delivery to catch up with the log');

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
    return { eventId: (glucose.body.eventIds as string[])[0]!, escalationId: reactionEscalationId((glucose.body.eventIds as string[])[0]!, 'hypoglycaemia.below-4') };
  };
  const changesOf = async (escalationId: string) => (await tandem.storage.store.readStream(`escalation-${escalationId}`)).length;
  /** A binding token for the owner's subscription(s): its Parameters as a map. */
  const bindingToken = async (bearer: string, path: string) => {
    const answer = await call('POST', path, bearer);
    expect(answer.status).toBe(200);
    const parameters = answer.body as unknown as Parameters;
    expectValidFhir(parameters);
    const value = (name: string) => parameters.parameter!.filter((p) => p.name === name);
    return { token: value('token')[0]!.valueString!, url: value('websocket-url')[0]!.valueUrl!, expiration: value('expiration')[0]!.valueDateTime!, subscriptions: value('subscription').map((p) => p.valueString) };
  };
  const bind = async (bearer: string, path: string) => {
    const { token: t, url } = await bindingToken(bearer, path);
    const client = await SocketClient.open(url);
    client.ws.send(`bind-with-token ${t}`);
    return client;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-subscription-channels-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }), { clock, subscriptionRetry: { firstMs: 20, maxMs: 100, errorAfter: 3 } });
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    ({ patientIds } = await seedDemoData(record.care, { patients: 2, days: 1, now: clock.now() }));
    await seedDemoRotas(delegation().commands);
    await delegation().processor.settle(60_000);
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let gpSocketSubscription = '';
  let firstEscalation = '';

  it('a GP system subscribes over websocket, binds with a token from $get-ws-binding-token, is handshaken, and is told of a low glucose over the socket; a stranger is told nothing', async () => {
    const created = await call('POST', '/fhir/Subscription', await gp(), subscription(ESCALATION_TOPIC, { type: 'websocket' }, { patientId: patientIds[0]! }));
    expect(created.status).toBe(201);
    const resource = created.body as unknown as Subscription;
    expect(resource.channel).toMatchObject({ type: 'websocket' });
    expectValidFhir(resource);
    gpSocketSubscription = resource.id!;
    // A nurse of another team, subscribed over websocket to every escalation she may see.
    expect((await call('POST', '/fhir/Subscription', await stranger(), subscription(ESCALATION_TOPIC, { type: 'websocket' }))).status).toBe(201);

    const given = await bindingToken(await gp(), `/fhir/Subscription/${gpSocketSubscription}/$get-ws-binding-token`);
    expect(given.subscriptions).toEqual([`Subscription/${gpSocketSubscription}`]);
    expect(given.url).toBe(`${tandem.url.replace('http:', 'ws:')}/fhir/Subscription/$websocket`);
    expect(Date.parse(given.expiration)).toBeGreaterThan(Date.now());

    const gpSocket = await SocketClient.open(given.url);
    gpSocket.ws.send(`bind-with-token ${given.token}`);
    await until(() => gpSocket.bundles.length >= 1, 'the handshake');
    const [handshake] = gpSocket.bundles;
    expectValidFhir(handshake!);
    expect(typeOf(handshake!)).toBe('handshake');
    expect(numberOf(handshake!)).toBe(0);
    expect(param(statusOf(handshake!), 'subscription')!.valueReference!.reference).toMatch(new RegExp(`/Subscription/${gpSocketSubscription}$`));
    const strangerSocket = await bind(await stranger(), '/fhir/Subscription/$get-ws-binding-token');
    await until(() => strangerSocket.bundles.length >= 1, "the stranger's handshake");

    ({ escalationId: firstEscalation } = await lowGlucose('channels-glucose-1'));
    const changes = await changesOf(firstEscalation);
    await until(() => notifications(gpSocket.bundles).length >= changes, 'the notifications over the socket');
    await settled();
    const told = notifications(gpSocket.bundles);
    for (const bundle of told) expectValidFhir(bundle);
    expect(told.map(numberOf)).toEqual(Array.from({ length: changes }, (_, i) => i + 1));
    expect(told.every((b) => focusOf(b).endsWith(`/Communication/${firstEscalation}`))).toBe(true);
    // the stranger's socket has its handshake and nothing about Mr Jones
    expect(notifications(strangerSocket.bundles)).toEqual([]);
    expect(JSON.stringify(strangerSocket.messages)).not.toContain(patientIds[0]!);

    // each notification over the socket is in the access trail, as a read by the GP naming the person
    await tandem.accessTrail.flush();
    const trail = (await tandem.storage.store.readStream(auditStreamFor(new Date()))).map((e) => e.data as AccessRecordedData);
    const notified = trail.filter((r) => r.method === 'NOTIFY' && r.path === `/fhir/Subscription/${gpSocketSubscription}/$notification`);
    expect(notified).toHaveLength(changes);
    expect(notified[0]).toMatchObject({ agent: { id: DEMO.gp.practitionerId }, patientIds: [patientIds[0]], actions: ['fhir.read'], outcome: 'success', source: { userAgent: 'Tandem websocket delivery' } });
    await Promise.all([gpSocket.close(), strangerSocket.close()]);
  }, 120_000);

  it('a socket that binds again after a disconnection is handshaken with the count, then given what happened meanwhile, in order, with nothing sent twice', async () => {
    const before = await changesOf(firstEscalation);
    // While no socket is bound, Sarah acknowledges the escalation: the GP system is not listening.
    expect((await call('POST', `/api/escalations/${firstEscalation}/acknowledgement`, await sarah(), { idempotencyKey: 'channels-ack' })).status).toBe(201);
    await delegation().processor.settle(60_000);
    const after = await changesOf(firstEscalation);
    expect(after).toBeGreaterThan(before);
    const socket = await bind(await gp(), '/fhir/Subscription/$get-ws-binding-token');
    await until(() => notifications(socket.bundles).length >= after - before, 'what happened meanwhile');
    await settled();
    expect(typeOf(socket.bundles[0]!)).toBe('handshake');
    expect(numberOf(socket.bundles[0]!)).toBe(before);
    expect(notifications(socket.bundles).map(numberOf)).toEqual(Array.from({ length: after - before }, (_, i) => before + i + 1));
    await socket.close();
  }, 120_000);

  it('a binding token is the owner’s, for websocket subscriptions only, and used once; a socket that sends anything else is told what it takes', async () => {
    // someone else's subscription is not found; a rest-hook one cannot be bound; no token at all is a 401
    expect((await call('GET', `/fhir/Subscription/${gpSocketSubscription}/$get-ws-binding-token`, await sarah())).status).toBe(404);
    const restHook = await call('POST', '/fhir/Subscription', await gp(), subscription(ESCALATION_TOPIC, { type: 'rest-hook', endpoint: 'https://gp.example.nhs.uk/notify' }, { patientId: patientIds[0]! }));
    const refused = await call('GET', `/fhir/Subscription/${String(restHook.body.id)}/$get-ws-binding-token`, await gp());
    expect(refused).toMatchObject({ status: 400, body: { issue: [{ expression: ['id'] }] } });
    expect((await call('DELETE', `/fhir/Subscription/${String(restHook.body.id)}`, await gp())).status).toBe(204);
    expect((await fetch(`${tandem.url}/fhir/Subscription/$get-ws-binding-token`, { method: 'POST' })).status).toBe(401);
    // a websocket subscription is not made with an endpoint
    const withEndpoint = await call('POST', '/fhir/Subscription', await gp(), { ...subscription(ESCALATION_TOPIC, { type: 'websocket' }), channel: { type: 'websocket', endpoint: 'wss://gp.example.nhs.uk/ws' } });
    expect(withEndpoint).toMatchObject({ status: 400, body: { issue: [{ expression: ['Subscription.channel.endpoint'] }] } });

    const { token: t, url } = await bindingToken(await gp(), `/fhir/Subscription/${gpSocketSubscription}/$get-ws-binding-token`);
    const first = await SocketClient.open(url);
    first.ws.send('hello');
    await until(() => first.messages.length >= 1, 'the answer to a message it does not take');
    expect(first.messages[0]).toMatchObject({ resourceType: 'OperationOutcome' });
    expect(first.closed).toBeUndefined();
    first.ws.send(`bind-with-token ${t}`);
    await until(() => first.bundles.length >= 1, 'the handshake');
    // the same token again: refused, and the socket closed (policy violation)
    const second = await SocketClient.open(url);
    second.ws.send(`bind-with-token ${t}`);
    await until(() => second.closed !== undefined, 'the socket with a used token to be closed');
    expect(second.closed!.code).toBe(1008);
    expect(second.messages).toEqual([expect.objectContaining({ resourceType: 'OperationOutcome' })]);
    expect(second.bundles).toEqual([]);
    await first.close();
  }, 120_000);

  it('a websocket subscription with a heartbeat period is sent heartbeats on its socket, with its count', async () => {
    const withHeartbeat = subscription(ESCALATION_TOPIC, { type: 'websocket' }, { patientId: patientIds[1]! });
    withHeartbeat.channel = { ...withHeartbeat.channel, extension: [{ url: `${BACKPORT}/backport-heartbeat-period`, valueUnsignedInt: 1 }] };
    const created = await call('POST', '/fhir/Subscription', await sarah(), withHeartbeat);
    expect(created.status).toBe(201);
    const socket = await bind(await sarah(), `/fhir/Subscription/${String(created.body.id)}/$get-ws-binding-token`);
    await until(() => socket.bundles.some((b) => typeOf(b) === 'heartbeat'), 'a heartbeat on the socket');
    const heartbeat = socket.bundles.find((b) => typeOf(b) === 'heartbeat')!;
    expectValidFhir(heartbeat);
    expect(typeOf(socket.bundles[0]!)).toBe('handshake');
    expect(numberOf(heartbeat)).toBe(0);
    expect((await call('DELETE', `/fhir/Subscription/${String(created.body.id)}`, await sarah())).status).toBe(204);
    await socket.close();
  }, 120_000);

  it('"any new entry in a person\'s record": her nurse\'s system is told of each entry recorded for her, with its Observation, and nothing about anyone else', async () => {
    const receiver = await new Receiver().start();
    try {
      const created = await call('POST', '/fhir/Subscription', await sarah(), subscription(NEW_ENTRY_TOPIC, { type: 'rest-hook', endpoint: receiver.url }, { patientId: patientIds[1]!, payload: 'full-resource' }));
      expect(created.status).toBe(201);
      expect((created.body as unknown as Subscription)._criteria?.extension?.[0]?.valueString).toBe(`patient=Patient/${patientIds[1]}`);
      // narrowed to insulin doses: no observation is sent to it
      const doses = await new Receiver().start();
      const onlyDoses = await call('POST', '/fhir/Subscription', await sarah(), subscription(NEW_ENTRY_TOPIC, { type: 'rest-hook', endpoint: doses.url }, { criteria: `MedicationAdministration?patient=Patient/${patientIds[1]}` }));
      expect(onlyDoses.status).toBe(201);

      const at = new Date(clock.now().getTime() - 30_000).toISOString();
      const glucose = await lowGlucose('channels-entry-glucose', patientIds[1]);
      const vitals = await call('POST', `/api/patients/${patientIds[1]}/vital-signs`, await careWorker(1), { idempotencyKey: 'channels-entry-vitals', occurredAt: at, respirationRate: 16, spo2: 97, airOrOxygen: 'air', systolic: 125, diastolic: 80, pulse: 72, consciousness: 'A', temperatureC: 37.0 });
      expect(vitals.status).toBe(201);
      // an entry for someone else is not hers
      await lowGlucose('channels-entry-other', patientIds[0]);
      await delegation().processor.settle(60_000);
      await until(() => receiver.inbox.length >= 2, 'both entries');
      await settled();
      expect(receiver.inbox.map(numberOf)).toEqual([1, 2]);
      expect(receiver.inbox.map(focusOf)).toEqual([expect.stringMatching(new RegExp(`/Observation/${glucose.eventId}$`)), expect.stringMatching(new RegExp(`/Observation/${(vitals.body.eventIds as string[])[0]}$`))]);
      expect(receiver.inbox[0]!.entry![1]!.resource).toMatchObject({ resourceType: 'Observation', id: glucose.eventId, valueQuantity: { value: 3.2 } });
      for (const bundle of receiver.inbox) expectValidFhir(bundle);
      expect(doses.inbox).toEqual([]);
      await doses.stop();
    } finally {
      await receiver.stop();
    }
  }, 120_000);

  it('"a delegation changed": the GP system is told of each step of the insulin delegation for his patient, with its Task; a stranger is told nothing', async () => {
    const receiver = await new Receiver().start();
    const strangers = await new Receiver().start();
    try {
      expect((await call('POST', '/fhir/Subscription', await gp(), subscription(DELEGATION_TOPIC, { type: 'rest-hook', endpoint: receiver.url }, { criteria: `Task?patient=Patient/${patientIds[0]}`, payload: 'full-resource' }))).status).toBe(201);
      expect((await call('POST', '/fhir/Subscription', await stranger(), subscription(DELEGATION_TOPIC, { type: 'rest-hook', endpoint: strangers.url }))).status).toBe(201);
      const before = await tandem.storage.store.headPosition();
      await seedDemoInsulinDelegation(delegation().commands, { patientId: patientIds[0]!, now: clock.now() });
      await delegation().processor.settle(60_000);
      const steps = (await tandem.storage.store.readAll({})).filter((e) => e.position > before && e.stream.startsWith('delegation-'));
      expect(steps.length).toBeGreaterThan(1);
      await until(() => receiver.inbox.length >= steps.length, 'every step of the delegation');
      await settled();
      expect(receiver.inbox.map(numberOf)).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
      expect(receiver.inbox.map(focusOf)).toEqual(steps.map((e) => expect.stringMatching(new RegExp(`/Task/${e.stream.slice('delegation-'.length)}$`))));
      // the first is the proposal (a new Task), the rest changes of it
      expect(receiver.inbox[0]!.entry![1]).toMatchObject({ request: { method: 'POST' } });
      expect(receiver.inbox.at(-1)!.entry![1]).toMatchObject({ request: { method: 'PUT' }, resource: { resourceType: 'Task' } });
      for (const bundle of receiver.inbox) expectValidFhir(bundle);
      expect(strangers.inbox).toEqual([]);
    } finally {
      await Promise.all([receiver.stop(), strangers.stop()]);
    }
  }, 120_000);

  it('/fhir/metadata names every topic (backport capabilitystatement-subscriptiontopic-canonical), the websocket channel and the operations served', async () => {
    const metadata = (await (await fetch(`${tandem.url}/fhir/metadata`)).json()) as { rest: { resource: { type: string; extension?: { url: string; valueCanonical?: string }[]; operation?: { name: string; definition: string }[]; documentation?: string }[]; operation?: { name: string; definition: string }[] }[] };
    const declared = metadata.rest[0]!.resource.find((r) => r.type === 'Subscription')!;
    const topics = declared.extension!.filter((e) => e.url === `${BACKPORT}/capabilitystatement-subscriptiontopic-canonical`).map((e) => e.valueCanonical);
    expect(topics).toEqual(expect.arrayContaining([ESCALATION_TOPIC, NEW_ENTRY_TOPIC, DELEGATION_TOPIC]));
    expect(declared.operation!.map((o) => o.name).sort()).toEqual(['events', 'get-ws-binding-token', 'status']);
    expect(declared.documentation).toContain('websocket');
    // Bulk Data: system level and Patient level, as served
    expect(metadata.rest[0]!.operation).toEqual(expect.arrayContaining([{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' }]));
    const patient = metadata.rest[0]!.resource.find((r) => r.type === 'Patient')!;
    expect(patient.operation).toEqual(expect.arrayContaining([{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export' }]));
    expectValidFhir(metadata as never);
  });
});
