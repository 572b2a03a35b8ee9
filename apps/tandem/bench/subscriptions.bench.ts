/**
 * `npm run bench:subscriptions`: 1,000 active FHIR Subscriptions (rest-hook, id-only, the topic
 * "any new entry in a person's record", each filtered to one person) while entries are recorded at
 * 500 a second, on the embedded default (PGlite) in this process. Measured: each notification's
 * latency from the append (the moment the record's command returned) to its arrival at the
 * receiver, p50/p95/p99/max, and whether every notification arrived (by its entry id).
 *
 * Reference point, measured in the same run against the same receiver: a bare HTTP POST round trip
 * of a notification-sized body at the same rate (what the network and the receiver cost, with no
 * log, no access decision, no checkpoint).
 *
 * Environment: BENCH_SUBSCRIPTIONS (1000), BENCH_PATIENTS (1000; the subscriptions are shared out
 * among them), BENCH_RATE (entries a second, 500), BENCH_SECONDS (10).
 */
import { mintToken } from '@tandem/auth';
import type { createRecordService } from '@tandem/record';
import type { Actor } from '@tandem/contracts';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import type { SubscriptionService } from '../src/subscriptions/service';
import { NEW_ENTRY_TOPIC } from '../src/subscriptions/topics';

const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 1000);
const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 1000);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';

const percentile = (sorted: readonly number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(1).padStart(8);
  return `n=${String(sorted.length).padStart(6)}  p50 ${f(percentile(sorted, 50))} ms  p95 ${f(percentile(sorted, 95))} ms  p99 ${f(percentile(sorted, 99))} ms  max ${f(sorted.at(-1) ?? NaN)} ms`;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The receiver: when each notification arrived, by the entry it was about (the focus id). */
const arrivals = new Map<string, number[]>();
/** Handshakes answered (each new rest-hook subscription sends one before it is active): counted apart from the notifications. */
let handshakes = 0;
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = performance.now();
    const body = Buffer.concat(chunks).toString('utf8');
    if (body.includes('"valueCode":"handshake"')) {
      handshakes += 1;
      return void res.end();
    }
    // The focus is the second entry's fullUrl: .../Observation/<entry id>; a reference POST carries "probe".
    const focus = /"fullUrl":"[^"]*\/(?:Observation|MedicationAdministration)\/([^"]+)"/.exec(body)?.[1] ?? 'probe';
    const list = arrivals.get(focus) ?? [];
    list.push(at);
    arrivals.set(focus, list);
    res.end();
  });
});

/** Runs `once` `RATE` times a second for `SECONDS`, without waiting for one before starting the next (an open load). */
const atRate = async (once: (i: number) => Promise<void>) => {
  const started = performance.now();
  const total = RATE * SECONDS;
  const running: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    running.push(once(i));
  }
  await Promise.all(running);
  return (performance.now() - started) / 1000;
};

const main = async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/notify`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-bench-subscriptions-'));
  const tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', TANDEM_RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'silent' }), pino({ level: 'silent' }));
  try {
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    const subscriptions = tandem.services.find((s) => s.name === 'subscriptions') as SubscriptionService;
    let t = performance.now();
    const { patientIds } = await seedDemoData(record.care, { patients: PATIENTS, days: 0, now: new Date() });
    console.log(`seeded ${patientIds.length} people in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    // Sarah, the demo's district nurse, is in every demo person's care team: each subscription is hers, for one person.
    const sarah = await mintToken({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration }, { dataDir });
    t = performance.now();
    for (let i = 0; i < SUBSCRIPTIONS; i++) {
      const patientId = patientIds[i % patientIds.length]!;
      const response = await fetch(`${tandem.url}/fhir/Subscription`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sarah}`, 'content-type': 'application/fhir+json' },
        body: JSON.stringify({
          resourceType: 'Subscription',
          status: 'requested',
          reason: 'bench',
          criteria: NEW_ENTRY_TOPIC,
          _criteria: { extension: [{ url: `${BACKPORT}/backport-filter-criteria`, valueString: `patient=Patient/${patientId}` }] },
          channel: { type: 'rest-hook', endpoint: receiverUrl, payload: 'application/fhir+json', _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: 'id-only' }] } },
        }),
      });
      if (response.status !== 201) throw new Error(`subscription ${i}: ${response.status} ${await response.text()}`);
    }
    const perPatient = SUBSCRIPTIONS / patientIds.length;
    for (;;) {
      // Every subscription has its worker and has shaken hands (each is active): the load starts from there.
      if (subscriptions.delivery.status().active >= SUBSCRIPTIONS && handshakes >= SUBSCRIPTIONS) break;
      await sleep(50);
    }
    console.log(`${SUBSCRIPTIONS} subscriptions active in ${((performance.now() - t) / 1000).toFixed(1)} s (${perPatient} per person)`);

    // Reference: a bare POST round trip to the same receiver, notification-sized, at the same rate.
    const probeBody = JSON.stringify({ resourceType: 'Bundle', type: 'history', padding: 'x'.repeat(1400) });
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 64 });
    const probes: number[] = [];
    const probeSeconds = await atRate(
      () =>
        new Promise<void>((resolve, reject) => {
          const started = performance.now();
          const req = request(receiverUrl, { method: 'POST', agent, headers: { 'content-type': 'application/fhir+json' } }, (res) => {
            res.resume();
            res.on('end', () => {
              probes.push(performance.now() - started);
              resolve();
            });
          });
          req.on('error', reject);
          req.end(probeBody);
        }),
    );

    // The load: RATE entries a second (blood glucose 6.2 mmol/L: nothing to escalate), each person in turn.
    const appended = new Map<string, number>();
    const worker = (p: number): Actor => ({ id: DEMO.careWorkers[p % DEMO.careWorkers.length]!.practitionerId, role: 'care-worker', organisation: DEMO.careAgency.organisationId });
    const failures: string[] = [];
    const loadSeconds = await atRate(async (i) => {
      const p = i % patientIds.length;
      try {
        const result = await record.care.recordCare('RecordBloodGlucose', { idempotencyKey: `bench-${i}`, occurredAt: new Date(Date.now() - 60_000).toISOString(), patientId: patientIds[p]!, glucoseMmolL: 6.2 }, worker(p));
        appended.set(result.entryId ?? result.eventIds[0]!, performance.now());
      } catch (error) {
        failures.push((error as Error).message);
      }
    });
    const expected = appended.size * perPatient;
    const drainStarted = performance.now();
    const received = () => [...appended.keys()].reduce((n, id) => n + Math.min(perPatient, arrivals.get(id)?.length ?? 0), 0);
    while (received() < expected && performance.now() - drainStarted < 300_000) await sleep(100);
    const latencies = [...appended].flatMap(([id, at]) => (arrivals.get(id) ?? []).map((arrived) => arrived - at));

    console.log(`\nmachine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`entries: ${appended.size} recorded in ${loadSeconds.toFixed(1)} s = ${(appended.size / loadSeconds).toFixed(0)}/s (aim ${RATE}/s)${failures.length ? `, ${failures.length} failed: ${failures[0]}` : ''}`);
    console.log(`notifications: ${received()} of ${expected} arrived (${expected - received()} missing), the last ${((performance.now() - drainStarted) / 1000).toFixed(1)} s after the load ended`);
    console.log(`reference  bare POST round trip, ${(probes.length / probeSeconds).toFixed(0)}/s  ${summary(probes)}`);
    console.log(`tandem     append -> notification      ${summary(latencies)}`);
    const p99 = percentile([...latencies].sort((a, b) => a - b), 99);
    console.log(`aim: p99 under 1000 ms: ${p99 < 1000 ? 'met' : 'missed'} (${p99.toFixed(0)} ms)`);
    agent.destroy();
  } finally {
    await tandem.stop();
    receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
