/**
 * `npm run bench:mar`: recording a dose outcome over HTTP (issue 13: "stays above 500 per second").
 * PEOPLE people (1,000 by default), each with one scheduled order at 12 times a day, so every request
 * is a different dose (a person's chart has one outcome per dose); each person's own care worker
 * records it through POST /api/patients/{id}/medicine-doses: nine in ten given (the order's dose), one
 * in ten refused with a reason, as a round of visits does. On the embedded default (PGlite) and on
 * PostgreSQL (the server mode), each Tandem a process of its own, as it is run.
 *
 * Reference point, in the same run and on the same machine: bare express parsing each JSON body
 * and answering 201 (the floor of any HTTP write here). The run fails unless every dose was answered
 * 201 and a sample reads back from the FHIR API as MedicationAdministration with the status sent.
 *
 * Environment: BENCH_PEOPLE, BENCH_DURATION (s per case), BENCH_TARGETS (express,pglite,postgres),
 * TANDEM_BENCH_POSTGRES_URL, BENCH_CPU_PROF=<dir>.
 */
import autocannon from 'autocannon';
import type { Actor } from '@tandem/contracts';
import type { createRecordService } from '@tandem/record';
import type { MedicationAdministration } from 'fhir/r4';
import { mkdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { DEMO_AMLODIPINE } from '../src/demo/medicines-visits';
import { cpuMicros, identityProvider, postgresDatabase, spawnReference, spawnTandem, stopChild, storeEnv, waitCaughtUp, type TandemTarget } from './bench-support';

const ADMIN_URL = process.env.TANDEM_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PEOPLE = Number(process.env.BENCH_PEOPLE ?? 1_000);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 8);
const TARGETS = (process.env.BENCH_TARGETS ?? 'express,pglite,postgres').split(',').map((t) => t.trim());
const CONCURRENCY = 16;
const AIM_PER_SECOND = 500;
const DB = 'tandem_bench_mar';
const WHERE = { pgliteDir: join(tmpdir(), 'tandem-bench-mar-pglite'), adminUrl: ADMIN_URL, database: DB };
const PORTS = { express: 18_971, pglite: 18_972, postgres: 18_973 } as const;
/** Twelve doses a day (the most an order may name): PEOPLE x 12 different doses to record. */
const TIMES = ['06:00', '07:00', '08:00', '09:00', '10:00', '12:00', '13:00', '14:00', '16:00', '18:00', '20:00', '22:00'];
const NURSE: Actor = { id: DEMO.nurse.practitionerId, role: 'district-nurse', organisation: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration };

interface Person {
  readonly patientId: string;
  readonly orderId: string;
  readonly careWorker: string;
}

/** The people and their orders, through the same commands the API runs; the care worker is the one the demo assigns. */
const seed = async (target: TandemTarget, authEnv: Record<string, string>): Promise<Person[]> => {
  const config = loadConfig({ PORT: '0', ...storeEnv(target, WHERE), TANDEM_SERVICES: 'record', TANDEM_DEMO_DATA: 'false', TANDEM_DIGEST_INTERVAL_SECONDS: '0', ...authEnv });
  const tandem = await startTandem(config, pino({ level: 'warn' }), { holder: 'npm run bench:mar' });
  try {
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    const started = Date.now();
    const now = new Date();
    const { patientIds } = await seedDemoData(record.care, { patients: PEOPLE, days: 0, now, onPatient: (done) => done % 100 === 0 && process.stdout.write(`\r  ${target}: registering ${done}/${PEOPLE} people`) });
    const start = new Date(now.getTime() - 7 * 86_400_000).toISOString();
    const people: Person[] = [];
    for (const [p, patientId] of patientIds.entries()) {
      const order = await record.care.recordMedicines(
        'PrescribeMedication',
        { idempotencyKey: `bench-mar-order-${p}`, occurredAt: now.toISOString(), patientId, product: DEMO_AMLODIPINE, dose: { value: 1, unit: 'tablet' }, route: 'oral', timing: { kind: 'scheduled', times: TIMES }, start },
        NURSE,
      );
      people.push({ patientId, orderId: order.id!, careWorker: DEMO.careWorkers[p % DEMO.careWorkers.length]!.practitionerId });
    }
    process.stdout.write(`\n  ${target}: ${PEOPLE} people and their orders in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    return people;
  } finally {
    await tandem.stop();
  }
};

interface Row {
  target: string;
  'req/s': number;
  'p50 ms': number;
  'p99 ms': number;
  'server CPU µs/req': number;
  answered: number;
  'not 201': number;
}

/**
 * autocannon against one server for `seconds`; the i-th request overall is `request(i)`, counted on
 * from `next` (so a warm-up and the measured run never send the same dose); `answered` collects the
 * i of every request answered 201.
 */
const measure = async (
  target: string,
  base: string,
  pid: number | undefined,
  request: (i: number) => { path: string; headers: Record<string, string>; body: string },
  counter: { next: number; answered: number[] },
  seconds = DURATION_S,
) => {
  const cpuBefore = cpuMicros(pid);
  const result = await autocannon({
    url: base,
    connections: CONCURRENCY,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/',
        setupRequest: (req, context) => {
          const i = counter.next++;
          (context as { i?: number }).i = i;
          return { ...req, ...request(i) };
        },
        onResponse: (status, _body, context) => {
          if (status === 201) counter.answered.push((context as { i: number }).i);
        },
      },
    ],
  });
  const cpuAfter = cpuMicros(pid);
  const answered = result.requests.total;
  const row: Row = {
    target,
    'req/s': Math.round(result.requests.average),
    'p50 ms': result.latency.p50,
    'p99 ms': result.latency.p99,
    'server CPU µs/req': cpuBefore !== undefined && cpuAfter !== undefined && answered > 0 ? Math.round((cpuAfter - cpuBefore) / answered) : Number.NaN,
    answered,
    // autocannon counts 2xx together: anything else, and any connection error, is a dose not recorded.
    'not 201': result.non2xx + result.errors,
  };
  return row;
};

/** The i-th dose: person i mod PEOPLE, the i div PEOPLE-th time of the day; every tenth refused. */
const doseRequest = (people: readonly Person[], tokens: ReadonlyMap<string, string>) => (i: number) => {
  const person = people[i % people.length]!;
  const scheduledTime = TIMES[Math.floor(i / people.length)];
  if (scheduledTime === undefined) throw new Error(`more than ${people.length * TIMES.length} doses asked for: raise BENCH_PEOPLE`);
  const refused = i % 10 === 9;
  return {
    path: `/api/patients/${person.patientId}/medicine-doses`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.get(person.careWorker)!}` },
    body: JSON.stringify({
      idempotencyKey: `bench-mar-${process.pid}-${i}`,
      occurredAt: new Date().toISOString(),
      orderId: person.orderId,
      scheduledTime,
      ...(refused ? { outcome: 'refused', reason: 'Said she would rather not take it this morning' } : { outcome: 'given', dose: { value: 1, unit: 'tablet' } }),
    }),
  };
};

/** A sample of the doses answered 201: the MAR over FHIR holds each, with the status sent, against its order. */
const checkReadBack = async (target: string, base: string, gp: Record<string, string>, people: readonly Person[], answered: readonly number[]) => {
  if (answered.length === 0) throw new Error(`${target}: no dose was answered 201`);
  const step = Math.max(1, Math.floor(answered.length / 20));
  for (let k = 0; k < answered.length; k += step) {
    const i = answered[k]!;
    const person = people[i % people.length]!;
    const response = await fetch(`${base}/fhir/MedicationAdministration?patient=${person.patientId}&_count=50`, { headers: gp });
    if (response.status !== 200) throw new Error(`${target}: the GP's read of ${person.patientId}'s MAR answered ${response.status}: ${await response.text()}`);
    const doses = (((await response.json()) as { entry?: { resource: MedicationAdministration }[] }).entry ?? []).map((e) => e.resource);
    const expected = i % 10 === 9 ? 'not-done' : 'completed';
    if (!doses.some((d) => d.status === expected && d.request?.reference === `MedicationRequest/${person.orderId}`)) {
      throw new Error(`${target}: dose ${i} (${person.patientId}) was answered 201 but the MAR over FHIR has no ${expected} dose of its order (${doses.length} MedicationAdministration)`);
    }
  }
};

const tandemRow = async (target: TandemTarget, idp: Awaited<ReturnType<typeof identityProvider>>): Promise<Row> => {
  if (target === 'pglite') {
    rmSync(WHERE.pgliteDir, { recursive: true, force: true });
    mkdirSync(WHERE.pgliteDir, { recursive: true });
  } else {
    await postgresDatabase(ADMIN_URL, DB);
  }
  const people = await seed(target, idp.env);
  const tokens = new Map(await Promise.all(DEMO.careWorkers.map(async (cw) => [cw.practitionerId, await idp.issuer.mint({ role: 'care-worker', user: cw.practitionerId, org: DEMO.careAgency.organisationId, minutes: 120 })] as const)));
  const gp = { authorization: `Bearer ${await idp.issuer.mint({ role: 'gp', user: DEMO.gp.practitionerId, registration: DEMO.gp.registration, minutes: 120 })}` };
  const operator = { authorization: `Bearer ${await idp.issuer.mint({ role: 'system', user: 'bench-operator', scope: 'system/Observation.cru', minutes: 120 })}` };
  const base = `http://127.0.0.1:${PORTS[target]}`;
  const server = spawnTandem(PORTS[target], { ...storeEnv(target, WHERE), ...idp.env });
  try {
    await waitCaughtUp(base, operator);
    const name = target === 'pglite' ? 'Tandem embedded (PGlite)' : 'Tandem PostgreSQL';
    const counter = { next: 0, answered: [] as number[] };
    // A warm-up first (the code paths compiled, the identity provider's keys fetched): not in the figures.
    await measure(name, base, server.pid, doseRequest(people, tokens), counter, 2);
    const row = await measure(name, base, server.pid, doseRequest(people, tokens), counter);
    await waitCaughtUp(base, operator);
    await checkReadBack(target, base, gp, people, counter.answered);
    return row;
  } finally {
    await stopChild(server);
  }
};

const main = async () => {
  process.stdout.write(`Tandem MAR benchmark, ${new Date().toISOString()}\n`);
  process.stdout.write(`machine: ${cpus().length} x ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  process.stdout.write(`servers and load generator share the machine; ${CONCURRENCY} connections, ${DURATION_S} s per case; ${PEOPLE} people x ${TIMES.length} doses a day\n`);
  const rows: Row[] = [];
  if (TARGETS.includes('express')) {
    const { child } = await spawnReference('express', PORTS.express);
    try {
      const body = doseRequest([{ patientId: 'p', orderId: 'o', careWorker: 'cw' }], new Map([['cw', 'x']]));
      rows.push(await measure('reference: bare express, JSON body, 201', `http://127.0.0.1:${PORTS.express}`, child.pid, (i) => body(i % TIMES.length), { next: 0, answered: [] }));
    } finally {
      await stopChild(child);
    }
  }
  const idp = await identityProvider('mar-benchmark-id-secret-0123456789abcdef');
  try {
    for (const target of ['pglite', 'postgres'] as const) if (TARGETS.includes(target)) rows.push(await tandemRow(target, idp));
  } finally {
    idp.close();
  }
  console.table(rows);
  let failed = false;
  for (const row of rows) {
    if (row.answered === 0) {
      failed = true;
      process.stdout.write(`${row.target}: no dose was answered\n`);
    }
    if (row['not 201'] > 0) {
      failed = true;
      process.stdout.write(`${row.target}: ${row['not 201']} doses were not answered 201\n`);
    }
    if (row.target.startsWith('Tandem')) process.stdout.write(`aim, ${row.target}: dose outcomes >= ${AIM_PER_SECOND}/s (${row['req/s']}): ${row['req/s'] >= AIM_PER_SECOND ? 'met' : 'NOT met'}\n`);
  }
  if (failed) process.exit(1);
};

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
