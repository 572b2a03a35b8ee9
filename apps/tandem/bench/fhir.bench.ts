/**
 * `npm run bench:fhir`: the FHIR API and command ingestion on PostgreSQL (server mode), seeded with
 * PATIENTS x DAYS of synthetic care, measured with autocannon against a separate server process.
 * Prints requests per second and p50/p99 latency, and the projection rebuild rate.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import type { createRecordService } from '@tandem/record';
import { loadConfig, startTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { databaseUrl, identityProvider, waitCaughtUp } from './bench-support';

const ADMIN_URL = process.env.TANDEM_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 200);
const DAYS = Number(process.env.BENCH_DAYS ?? 90);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 8);
const CONCURRENCY = 16;
const PORT = 18_990;
const DB = 'tandem_bench';

const resetDatabase = async () => {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`drop database if exists ${DB} with (force)`);
  await admin.query(`create database ${DB}`);
  const [{ server_version: version }] = (await admin.query<{ server_version: string }>('show server_version')).rows as [{ server_version: string }];
  await admin.end();
  return version;
};

const seed = async (authEnv: Record<string, string>) => {
  const config = loadConfig({ PORT: '0', TANDEM_EVENT_STORE: 'postgres', DATABASE_URL: databaseUrl(ADMIN_URL, DB), TANDEM_SERVICES: 'record', TANDEM_DEMO_DATA: 'false', ...authEnv });
  const tandem = await startTandem(config, pino({ level: 'warn' }));
  const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
  const started = Date.now();
  const workers = 8;
  const per = Math.ceil(PATIENTS / workers);
  let done = 0;
  const results = await Promise.all(
    Array.from({ length: workers }, (_, w) =>
      seedDemoData(record.care, {
        patients: Math.min(per, PATIENTS - w * per),
        days: DAYS,
        now: new Date(),
        seed: 1000 + w,
        onPatient: () => process.stdout.write(`\r  seeding: ${++done}/${PATIENTS} people`),
      }),
    ),
  );
  const events = (await tandem.storage.readModels.query<{ n: string }>('select count(*) as n from tandem_events'))[0]!.n;
  process.stdout.write(`\n  seeded ${PATIENTS} people x ${DAYS} days: ${events} events in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  await tandem.stop();
  return { patientIds: results.flatMap((r) => r.patientIds), events: Number(events) };
};

const startServer = (authEnv: Record<string, string>): ChildProcess =>
  spawn(process.execPath, ['--import', 'tsx', join(__dirname, '../src/main.ts')], {
    env: {
      ...process.env,
      PORT: String(PORT),
      TANDEM_EVENT_STORE: 'postgres',
      DATABASE_URL: databaseUrl(ADMIN_URL, DB),
      LOG_LEVEL: 'warn',
      TANDEM_DEMO_DATA: 'false',
      // One GP and one device send thousands of requests a second here: the per-user rate limit
      // (1,200 a minute by default) would answer most of them 429 and measure the limiter, not the API.
      TANDEM_RATE_LIMIT_PER_MINUTE: '0',
      ...authEnv,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });

const base = `http://127.0.0.1:${PORT}`;

interface Row {
  case: string;
  'req/s': number;
  'p50 ms': number;
  'p99 ms': number;
  errors: number;
}

const run = async (name: string, options: Partial<autocannon.Options>): Promise<Row> => {
  const result = await autocannon({ url: base, connections: CONCURRENCY, duration: DURATION_S, ...options });
  const errors = result.errors + result.non2xx;
  return { case: name, 'req/s': Math.round(result.requests.average), 'p50 ms': result.latency.p50, 'p99 ms': result.latency.p99, errors };
};

const main = async () => {
  const pgVersion = await resetDatabase();
  process.stdout.write(`Tandem FHIR benchmark, ${new Date().toISOString()}\n`);
  process.stdout.write(`machine: ${cpus().length} x ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, PostgreSQL ${pgVersion}\n`);
  process.stdout.write(`server and load generator share the machine; concurrency ${CONCURRENCY}, ${DURATION_S} s per case\n`);
  const idp = await identityProvider('fhir-benchmark-id-secret-0123456789abcdef');
  const { patientIds, events } = await seed(idp.env);
  // Reads as the demo's GP (every seeded person's registered GP); ingestion as a device integration.
  const gp = { authorization: `Bearer ${await idp.issuer.mint({ role: 'gp', user: DEMO.gp.practitionerId, registration: DEMO.gp.registration, minutes: 120 })}` };
  const device = { authorization: `Bearer ${await idp.issuer.mint({ role: 'system', user: 'bench-device-hub', scope: 'system/Observation.cru', minutes: 120 })}` };

  const server = startServer(idp.env);
  try {
    const started = Date.now();
    await waitCaughtUp(base, device);
    const catchUp = { seconds: (Date.now() - started) / 1000 };
    process.stdout.write(`  server caught up with ${events} events in ${catchUp.seconds.toFixed(1)} s (including start-up)\n`);

    const sample = patientIds.slice(0, 50);
    const observationIds = (
      await Promise.all(
        sample.map(async (id) => {
          const bundle = (await (await fetch(`${base}/fhir/Observation?patient=${id}&_count=1`, { headers: gp })).json()) as { entry?: { resource: { id: string } }[] };
          return bundle.entry?.[0]?.resource.id;
        }),
      )
    ).filter((x): x is string => x !== undefined);
    const from = new Date(Date.now() - 14 * 86_400_000).toISOString().slice(0, 10);

    const rows: Row[] = [];
    rows.push(await run('FHIR read Observation by id', { headers: gp, requests: observationIds.map((id) => ({ method: 'GET', path: `/fhir/Observation/${id}` })) }));
    rows.push(await run('FHIR read Patient by id', { headers: gp, requests: sample.map((id) => ({ method: 'GET', path: `/fhir/Patient/${id}` })) }));
    rows.push(await run('Observation search: patient + date (14 days), _count=20', { headers: gp, requests: sample.map((id) => ({ method: 'GET', path: `/fhir/Observation?patient=${id}&date=ge${from}&_count=20&_sort=-date` })) }));
    rows.push(await run('Patient/$everything, _count=50', { headers: gp, requests: sample.map((id) => ({ method: 'GET', path: `/fhir/Patient/${id}/$everything?_count=50` })) }));
    let n = 0;
    rows.push(
      await run('ingest: POST vital-sign set (JSON API)', {
        requests: [
          {
            method: 'POST',
            path: `/api/patients/${sample[0]}/vital-signs`,
            setupRequest: (req) => {
              const i = n++;
              return {
                ...req,
                path: `/api/patients/${sample[i % sample.length]}/vital-signs`,
                headers: { 'content-type': 'application/json', ...device },
                body: JSON.stringify({ idempotencyKey: `bench-${process.pid}-${i}`, occurredAt: new Date().toISOString(), respirationRate: 16, spo2: 97, airOrOxygen: 'air', systolic: 128, diastolic: 78, pulse: 72, consciousness: 'A', temperatureC: 36.8 }),
              };
            },
          },
        ],
      }),
    );
    console.table(rows);

    const rebuild = (await (await fetch(`${base}/admin/projections/rebuild`, { method: 'POST', headers: device })).json()) as { events: number; seconds: number; eventsPerSecond: number };
    process.stdout.write(`projection rebuild: ${rebuild.events} events in ${rebuild.seconds.toFixed(1)} s = ${rebuild.eventsPerSecond} events/s\n`);

    const reads = rows.slice(0, 2);
    const ingest = rows[4]!;
    process.stdout.write(
      [
        `aim: FHIR reads >= 1,500 req/s with p99 < 25 ms: ${reads.every((r) => r['req/s'] >= 1500 && r['p99 ms'] < 25) ? 'met' : 'NOT met'}`,
        `aim: ingestion >= 1,000 sets/s: ${ingest['req/s'] >= 1000 ? 'met' : 'NOT met'} (${ingest['req/s']})`,
        `aim: rebuild >= 10,000 events/s: ${rebuild.eventsPerSecond >= 10_000 ? 'met' : 'NOT met'} (${rebuild.eventsPerSecond})`,
      ].join('\n') + '\n',
    );
  } finally {
    server.kill('SIGTERM');
    idp.close();
  }
};

main().catch((error: unknown) => {
  process.stderr.write(`${String(error instanceof Error ? error.stack : error)}\n`);
  process.exit(1);
});
