/**
 * `npm run bench:reads`: FHIR reads side by side with two reference points, in one run, with one
 * load generator (autocannon, 16 connections, in this process) on the same machine:
 *
 * - bare express answering a fixed body (the framework's ceiling on this machine);
 * - `@medplum/fhir-router` over its in-memory repository (a FHIR router with no database, no
 *   authentication and no audit);
 * - Tandem on the embedded default (PGlite) and on PostgreSQL (server mode), each its own process,
 *   read as the demo's GP with a bearer token: every request verified, authorised on the person's
 *   care relationship and recorded in the access trail.
 *
 * Cases: read by id, Observation search by patient (`_count=20`) and `Patient/$everything`
 * (`_count=50`; Medplum's router has no $everything, so its row is an Observation search by
 * subject with `_count=50`). Prints req/s, p50 and p99 and each case's ratio to bare express, and
 * each server's CPU time per request (from /proc) with its ratio to bare express's: on a machine
 * shared with other work the throughputs move with the load, the CPU per request much less.
 *
 * Environment: BENCH_DURATION (s per case, 5), BENCH_PATIENTS (30), BENCH_DAYS (14),
 * BENCH_TARGETS (express,medplum,pglite,postgres), BENCH_REUSE=true (keep the seeded data of an
 * earlier run: the PostgreSQL database and the PGlite directory), BENCH_CPU_PROF=<dir> (the Tandem
 * servers write a CPU profile there when stopped), TANDEM_BENCH_POSTGRES_URL.
 */
import autocannon from 'autocannon';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { createRecordService } from '@tandem/record';
import { loadConfig, startTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { cpuMicros, identityProvider, postgresDatabase, spawnReference, spawnTandem, stopChild, storeEnv, waitCaughtUp, type TandemTarget } from './bench-support';

const ADMIN_URL = process.env.TANDEM_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 30);
const DAYS = Number(process.env.BENCH_DAYS ?? 14);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const TARGETS = (process.env.BENCH_TARGETS ?? 'express,medplum,pglite,postgres').split(',').map((t) => t.trim());
const REUSE = process.env.BENCH_REUSE === 'true';
const CONCURRENCY = 16;
const DB = 'tandem_bench_reads';
const PGLITE_DIR = join(tmpdir(), 'tandem-bench-reads-pglite');
const PORTS = { express: 18_981, medplum: 18_982, pglite: 18_983, postgres: 18_984 } as const;
const ID_SECRET = 'reads-benchmark-id-secret-0123456789abcdef';

const WHERE = { pgliteDir: PGLITE_DIR, adminUrl: ADMIN_URL, database: DB };

/** The same synthetic care as `npm run bench:fhir`, through the same commands the API uses. */
const seed = async (target: TandemTarget, authEnv: Record<string, string>) => {
  const config = loadConfig({ PORT: '0', ...storeEnv(target, WHERE), TANDEM_SERVICES: 'record', TANDEM_DEMO_DATA: 'false', TANDEM_DIGEST_INTERVAL_SECONDS: '0', ...authEnv });
  const tandem = await startTandem(config, pino({ level: 'warn' }), { holder: 'npm run bench:reads' });
  try {
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    const started = Date.now();
    // One instant for every seeder: the shared organisations' commands must be the same command.
    const now = new Date();
    const workers = 4;
    const per = Math.ceil(PATIENTS / workers);
    let done = 0;
    await Promise.all(
      Array.from({ length: workers }, (_, w) =>
        seedDemoData(record.care, {
          patients: Math.max(0, Math.min(per, PATIENTS - w * per)),
          days: DAYS,
          now,
          seed: 1000 + w,
          onPatient: () => process.stdout.write(`\r  ${target}: seeding ${++done}/${PATIENTS} people`),
        }),
      ),
    );
    process.stdout.write(`\n  ${target}: seeded ${PATIENTS} people x ${DAYS} days, head position ${await tandem.storage.store.headPosition()}, in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  } finally {
    await tandem.stop();
  }
};

interface Row {
  target: string;
  case: string;
  'req/s': number;
  'p50 ms': number;
  'p99 ms': number;
  /** The server process's CPU time per request: steadier than req/s on a machine others share. */
  'server CPU µs/req': number;
  errors: number;
  'x express': string;
  'CPU x express': string;
}

const CASES = ['read by id', 'Observation search by patient, _count=20', '$everything, _count=50'] as const;

const measure = async (target: string, name: string, base: string, headers: Record<string, string>, paths: readonly string[], pid?: number): Promise<Row> => {
  const cpuBefore = cpuMicros(pid);
  const result = await autocannon({ url: base, connections: CONCURRENCY, duration: DURATION_S, headers, requests: paths.map((path) => ({ method: 'GET', path })) });
  const cpuAfter = cpuMicros(pid);
  // The clock ticks in 10 ms steps: the figure is good to a few µs over thousands of requests.
  const cpuPerRequest = cpuBefore !== undefined && cpuAfter !== undefined && result.requests.total > 0 ? Math.round((cpuAfter - cpuBefore) / result.requests.total) : Number.NaN;
  return {
    target,
    case: name,
    'req/s': Math.round(result.requests.average),
    'p50 ms': result.latency.p50,
    'p99 ms': result.latency.p99,
    'server CPU µs/req': cpuPerRequest,
    errors: result.errors + result.non2xx,
    'x express': '',
    'CPU x express': '',
  };
};

const tandemCases = async (target: TandemTarget, gp: Record<string, string>, device: Record<string, string>, authEnv: Record<string, string>): Promise<Row[]> => {
  if (target === 'pglite') {
    if (!(REUSE && existsSync(join(PGLITE_DIR, 'PG_VERSION')))) {
      await import('node:fs').then((fs) => fs.rmSync(PGLITE_DIR, { recursive: true, force: true }));
      mkdirSync(PGLITE_DIR, { recursive: true });
      await seed(target, authEnv);
    }
  } else if ((await postgresDatabase(ADMIN_URL, DB, REUSE)).fresh) {
    await seed(target, authEnv);
  }
  const base = `http://127.0.0.1:${PORTS[target]}`;
  const server = spawnTandem(PORTS[target], { ...storeEnv(target, WHERE), ...authEnv });
  try {
    const started = Date.now();
    await waitCaughtUp(base, device);
    process.stdout.write(`  ${target}: server caught up in ${((Date.now() - started) / 1000).toFixed(1)} s (including start-up)\n`);
    const people = (await (await fetch(`${base}/fhir/Patient?_count=50`, { headers: gp })).json()) as { entry?: { resource: { id: string } }[] };
    const patientIds = (people.entry ?? []).map((e) => e.resource.id);
    const observationIds = (
      await Promise.all(
        patientIds.map(async (id) => {
          const bundle = (await (await fetch(`${base}/fhir/Observation?patient=${id}&_count=1`, { headers: gp })).json()) as { entry?: { resource: { id: string } }[] };
          return bundle.entry?.[0]?.resource.id;
        }),
      )
    ).filter((x): x is string => x !== undefined);
    if (patientIds.length === 0 || observationIds.length === 0) throw new Error(`${target}: the GP sees no one (seeded data missing?)`);
    return [
      await measure(target, CASES[0], base, gp, observationIds.map((id) => `/fhir/Observation/${id}`), server.pid),
      await measure(target, CASES[1], base, gp, patientIds.map((id) => `/fhir/Observation?patient=${id}&_count=20`), server.pid),
      await measure(target, CASES[2], base, gp, patientIds.map((id) => `/fhir/Patient/${id}/$everything?_count=50`), server.pid),
    ];
  } finally {
    await stopChild(server);
  }
};

const main = async () => {
  process.stdout.write(`Tandem read benchmark, ${new Date().toISOString()}\n`);
  process.stdout.write(`machine: ${cpus().length} x ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  process.stdout.write(`servers and load generator share the machine; ${CONCURRENCY} connections, ${DURATION_S} s per case; ${PATIENTS} people x ${DAYS} days\n`);
  const rows: Row[] = [];

  if (TARGETS.includes('express')) {
    const { child } = await spawnReference('express', PORTS.express);
    try {
      rows.push(await measure('bare express', 'fixed body', `http://127.0.0.1:${PORTS.express}`, {}, ['/fhir/Observation/1'], child.pid));
    } finally {
      await stopChild(child);
    }
  }
  if (TARGETS.includes('medplum')) {
    const { child, ids } = await spawnReference<{ patientIds?: string[]; observationIds?: string[] }>('medplum', PORTS.medplum, { BENCH_PATIENTS: String(PATIENTS) });
    const base = `http://127.0.0.1:${PORTS.medplum}`;
    try {
      const patients = ids.patientIds ?? [];
      rows.push(await measure('medplum fhir-router (memory)', CASES[0], base, {}, (ids.observationIds ?? []).map((id) => `/fhir/Observation/${id}`), child.pid));
      rows.push(await measure('medplum fhir-router (memory)', CASES[1], base, {}, patients.map((id) => `/fhir/Observation?subject=Patient/${id}&_count=20`), child.pid));
      rows.push(await measure('medplum fhir-router (memory)', `${CASES[2]} (no $everything: Observation search _count=50)`, base, {}, patients.map((id) => `/fhir/Observation?subject=Patient/${id}&_count=50`), child.pid));
    } finally {
      await stopChild(child);
    }
  }
  const wantsTandem = TARGETS.some((t) => t === 'pglite' || t === 'postgres');
  if (wantsTandem) {
    const idp = await identityProvider(ID_SECRET);
    try {
      // Reads as the demo's GP (every seeded person's registered GP); /health's details as a device integration.
      const gp = { authorization: `Bearer ${await idp.issuer.mint({ role: 'gp', user: DEMO.gp.practitionerId, registration: DEMO.gp.registration, minutes: 120 })}` };
      const device = { authorization: `Bearer ${await idp.issuer.mint({ role: 'system', user: 'bench-device-hub', scope: 'system/Observation.cru', minutes: 120 })}` };
      for (const target of ['pglite', 'postgres'] as const) {
        if (TARGETS.includes(target)) rows.push(...(await tandemCases(target, gp, device, idp.env)));
      }
    } finally {
      idp.close();
    }
  }

  const expressRow = rows.find((r) => r.target === 'bare express');
  const express = expressRow?.['req/s'];
  const expressCpu = expressRow?.['server CPU µs/req'];
  for (const row of rows) {
    row['x express'] = express ? `${(row['req/s'] / express).toFixed(2)}x` : '-';
    // What the server costs per request against bare express's cost: the ratio of throughputs a
    // server would reach alone on the same core, whatever else the machine was doing meanwhile.
    row['CPU x express'] = expressCpu && row['server CPU µs/req'] > 0 ? `${(expressCpu / row['server CPU µs/req']).toFixed(2)}x` : '-';
  }
  console.table(rows.map((r) => ({ ...r, target: r.target === 'pglite' ? 'Tandem embedded (PGlite)' : r.target === 'postgres' ? 'Tandem PostgreSQL' : r.target })));

  const aims: string[] = [];
  for (const target of ['pglite', 'postgres']) {
    const [read, search, everything] = CASES.map((c) => rows.find((r) => r.target === target && r.case === c));
    if (!read || !search || !everything) continue;
    const ratio = express ? read['req/s'] / express : undefined;
    if (expressCpu) aims.push(`${target}: read by id, server CPU per request against bare express's: ${read['CPU x express']} (the ratio alone on a core)`);
    aims.push(
      `${target}: read by id >= 0.5x bare express (${ratio === undefined ? 'no express row' : `${ratio.toFixed(2)}x`}) and p99 < 20 ms (${read['p99 ms']} ms): ${ratio !== undefined && ratio >= 0.5 && read['p99 ms'] < 20 ? 'met' : 'NOT met'}`,
      `${target}: Observation search >= 2,000 req/s (${search['req/s']}): ${search['req/s'] >= 2000 ? 'met' : 'NOT met'}`,
      `${target}: $everything _count=50 >= 500 req/s (${everything['req/s']}): ${everything['req/s'] >= 500 ? 'met' : 'NOT met'}`,
    );
  }
  if (aims.length > 0) process.stdout.write(`${aims.map((a) => `aim, ${a}`).join('\n')}\n`);
};

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
