import { mintToken, type MintClaims } from '@tandem/auth';
import type { DelegationService } from '@tandem/delegation';
import type { createRecordService } from '@tandem/record';
import type { Bundle, Communication, Parameters, Subscription } from 'fhir/r4';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem } from '../src';
import { DEMO, seedDemoData, seedDemoRotas } from '../src/demo/demo-data';
import { ESCALATION_TOPIC } from '../src/subscriptions/topics';

/**
 * Issue 14: a receiver keeps receiving while Tandem is killed with SIGKILL and started again. Tandem
 * runs as its own process (`src/main.ts`, as `npm start` runs it); the receiver holds the first
 * notification unanswered and Tandem is killed while it waits, so that notification was never
 * accepted: after the restart it comes again, numbered 1, and everything after it follows in order,
 * each number once, as many as the escalation has events.
 */

/** Holds the first request unanswered when told to; accepts (200) and keeps the rest. */
class Receiver {
  readonly inbox: Bundle[] = [];
  /** The backport's handshakes (a new rest-hook endpoint is sent one before it is active), apart from the notifications. */
  readonly handshakes: Bundle[] = [];
  hold = false;
  held: ServerResponse[] = [];
  private server!: Server;
  async start() {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (this.hold) return void this.held.push(res);
        const bundle = JSON.parse(body) as Bundle;
        const handshake = (bundle.entry?.[0]?.resource as Parameters | undefined)?.parameter?.some((p) => p.name === 'type' && p.valueCode === 'handshake') === true;
        (handshake ? this.handshakes : this.inbox).push(bundle);
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
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const param = (bundle: Bundle, name: string) => (bundle.entry![0]!.resource as Parameters).parameter!.find((p) => p.name === name);
const numberOf = (bundle: Bundle) => Number(param(bundle, 'events-since-subscription-start')!.valueString);

const until = async (ready: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 1800; i++) {
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
};

describe('FHIR Subscriptions: Tandem killed with SIGKILL while a notification is on its way', () => {
  let dataDir: string;
  let child: ChildProcess | undefined;
  let url = '';
  let patientIds: string[];
  const receiver = new Receiver();
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const amira = () => token({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId });
  const gp = () => token({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration });
  const sarah = () => token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
  const env = () => ({ ...process.env, PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', LOG_LEVEL: 'info', TANDEM_DIGEST_INTERVAL_SECONDS: '0' });

  /** Tandem as its own process; resolves with its URL once it listens. */
  const spawnTandem = () =>
    new Promise<void>((resolve, reject) => {
      // One process, not the tsx CLI: the CLI runs the script in a grandchild that SIGKILL would miss.
      const process_ = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'src', 'main.ts')], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      child = process_;
      let out = '';
      process_.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const port = /"port":(\d+).*Tandem is listening/.exec(out)?.[1];
        if (port && !url) {
          url = `http://127.0.0.1:${port}`;
          resolve();
        }
      });
      process_.once('exit', (code) => reject(new Error(`Tandem exited (${code}) before listening: ${out.slice(-2000)}`)));
    });
  const exited = (p: ChildProcess) => new Promise<void>((resolve) => (p.exitCode !== null || p.signalCode !== null ? resolve() : p.once('exit', () => resolve())));

  const call = async (method: string, path: string, bearer: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': path.startsWith('/fhir') ? 'application/fhir+json' : 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> };
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-subscriptions-kill-'));
    await receiver.start();
    // The record and the GP's subscription, made in this process; then Tandem runs as its own.
    const tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', TANDEM_DIGEST_INTERVAL_SECONDS: '0' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    ({ patientIds } = await seedDemoData(record.care, { patients: 1, days: 1, now: new Date() }));
    await seedDemoRotas((tandem.services.find((s) => s.name === 'delegation') as DelegationService).commands);
    await tandem.stop();
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    await receiver.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the notification held when Tandem was killed comes again after the restart, numbered 1, and every change follows once, in order', async () => {
    await spawnTandem();
    const subscription: Subscription = {
      resourceType: 'Subscription',
      status: 'requested',
      reason: 'Escalations for my patient',
      criteria: ESCALATION_TOPIC,
      _criteria: { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria', valueString: `Communication?patient=Patient/${patientIds[0]}` }] },
      channel: { type: 'rest-hook', endpoint: receiver.url, payload: 'application/fhir+json', _payload: { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content', valueCode: 'full-resource' }] } },
    };
    const created = await call('POST', '/fhir/Subscription', await gp(), subscription);
    expect(created.status).toBe(201);
    const subscriptionId = String(created.body.id);
    // It shakes hands first (Backport IG 1.1.0): the notification held below is the first event's, not the handshake.
    await until(async () => (await call('GET', `/fhir/Subscription/${subscriptionId}`, await gp())).body.status === 'active', 'the handshake to make the subscription active');
    expect(receiver.handshakes).toHaveLength(1);

    receiver.hold = true;
    const glucose = await call('POST', `/api/patients/${patientIds[0]}/blood-glucose`, await amira(), { idempotencyKey: 'kill-glucose', occurredAt: new Date(Date.now() - 60_000).toISOString(), glucoseMmolL: 3.2 });
    expect(glucose.status).toBe(201);
    await until(() => receiver.held.length > 0, 'the first notification to be on its way');

    const killed = child!;
    killed.kill('SIGKILL');
    await exited(killed);
    for (const res of receiver.held.splice(0)) res.destroy();
    receiver.hold = false;
    expect(receiver.inbox).toEqual([]);

    url = '';
    await spawnTandem();
    await until(() => receiver.inbox.length > 0, 'the notification to come again after the restart');
    const escalationId = (receiver.inbox[0]!.entry![1]!.resource as Communication).id!;
    // Sarah acknowledges and resolves it: the last change is the resolution
    const escalations = `/api/escalations/${escalationId}`;
    await until(async () => (await call('POST', `${escalations}/acknowledgement`, await sarah(), { idempotencyKey: 'kill-ack' })).status === 201, 'the acknowledgement');
    expect((await call('POST', `${escalations}/resolution`, await sarah(), { idempotencyKey: 'kill-resolve', outcome: 'Rechecked 6.0 mmol/L' })).status).toBe(201);
    await until(() => receiver.inbox.some((b) => (b.entry![1]!.resource as Communication | undefined)?.status === 'completed'), 'the resolution to be notified');

    // Tandem stops; the log says how many changes there were and how many the subscription counted
    const stopped = child!;
    stopped.kill('SIGTERM');
    await exited(stopped);
    const tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', TANDEM_DIGEST_INTERVAL_SECONDS: '0', TANDEM_SERVICES: 'record' }), pino({ level: 'silent' }));
    try {
      const changes = (await tandem.storage.store.readStream(`escalation-${escalationId}`)).length;
      const counted = (await tandem.storage.store.readStream(`subscription-${subscriptionId}`)).filter((e) => e.type === 'SubscriptionNotified').length;
      expect(receiver.inbox.map(numberOf)).toEqual(Array.from({ length: changes }, (_, i) => i + 1));
      expect(counted).toBe(changes);
      expect(receiver.inbox.every((b) => (b.entry![1]!.resource as Communication).id === escalationId)).toBe(true);
    } finally {
      await tandem.stop();
    }
  }, 180_000);
});
