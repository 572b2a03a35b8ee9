/**
 * FHIR projection throughput (not a test; not committed). Appends a synthetic care record (100
 * people; care events about 60 % vital-sign sets, 25 % glucose, 8 % insulin doses, a quarter of them
 * flagged inside the minimum interval, 5 % amendments and 2 % entered in error: about 5.6 resource
 * versions per event), then times the catch-up at start, a rebuild, and live projection of
 * vital-sign sets appended one per append at a steady rate.
 *
 *   npx tsx services/projections/test/fhir-projection.bench.ts pg|pglite [events] [liveSetsPerSecond] [liveSeconds]
 */
import { randomUUID } from 'node:crypto';
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { careEventDefinitions, EventRegistry, type Actor, type EventMetadata } from '@tandem/contracts';
import { pgliteBackend, pgliteDriver, postgresBackend, postgresDriver, postgresPool, validatedStore, type EventStore, type SqlDriver } from '@tandem/event-store';
import { fhirProjection, ProjectionRunner } from '../src';

const [backend = 'pg', eventsArg = '20000', liveRateArg = '1000', liveSecondsArg = '10'] = process.argv.slice(2);
const EVENTS = Number(eventsArg);
const LIVE_RATE = Number(liveRateArg);
const LIVE_SECONDS = Number(liveSecondsArg);
const PATIENTS = 100;
const SCHEMA = `t_projbench_${process.pid}`;
const URL = `${process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'}?application_name=${SCHEMA}`;

const careWorker: Actor = { id: 'cw-1', role: 'care-worker', organisation: 'org-agency' };
const nurse: Actor = { id: 'dn-1', role: 'district-nurse', registration: { system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '12A3456B' } };
const product = 'Humulin I KwikPen';
let clock = Date.parse('2025-01-01T08:00:00Z');
const metadata = (actor: Actor = careWorker): EventMetadata => ({ actor, correlationId: randomUUID(), occurredAt: new Date((clock += 60_000)).toISOString() });
const int = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));
/** A valid test NHS number (999 prefix, modulus 11 check digit). */
const nhsNumber = (n: number): string => {
  for (let i = n; ; i += 1_000) {
    const digits = `999${String(i % 1_000_000).padStart(6, '0')}`;
    const check = 11 - ([...digits].reduce((s, d, k) => s + Number(d) * (10 - k), 0) % 11);
    if (check !== 10) return `${digits}${check === 11 ? 0 : check}`;
  }
};

const vitals = () => ({
  respirationRate: int(12, 22),
  spo2: int(92, 99),
  airOrOxygen: 'air' as const,
  systolic: int(110, 150),
  diastolic: int(60, 85),
  pulse: int(60, 100),
  consciousness: 'A' as const,
  temperatureC: 36 + int(0, 20) / 10,
  spo2Scale: 1 as const,
  news2: {
    subScores: { respirationRate: 0, spo2: 0, airOrOxygen: 0, systolic: 0, pulse: 0, consciousness: 0, temperatureC: 0 },
    missing: [],
    total: 0,
    partialTotal: 0,
    anySingleParameterThree: false,
    risk: 'low' as const,
    riskAtLeast: 'low' as const,
  },
});
const glucose = () => ({ glucoseMmolL: int(40, 180) / 10, ...(Math.random() < 0.3 ? { ketonesMmolL: int(1, 30) / 10 } : {}), relationToMeal: 'before-meal' as const });

interface NewEvent {
  id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
}
const event = (type: string, data: unknown, actor?: Actor): NewEvent => ({ id: randomUUID(), type, data, metadata: metadata(actor) });

/** People with teams, then care events in appends of ~20: vital signs, glucose, insulin (some flagged), amendments, errors. */
const seed = async (store: EventStore, count: number): Promise<number> => {
  await store.append('organisation-org-agency', [event('OrganisationRegistered', { organisationId: 'org-agency', name: 'Kindly Care', type: 'care-agency' })], { expectedRevision: 'any' });
  await store.append('practitioner-cw-1', [event('PractitionerRegistered', { practitionerId: 'cw-1', name: { given: ['Sam'], family: 'Patel' }, role: 'care-worker', organisationId: 'org-agency' })], {
    expectedRevision: 'any',
  });
  const patients = Array.from({ length: PATIENTS }, (_, i) => ({ id: randomUUID(), nhs: nhsNumber(i), entries: [] as { id: string; type: string }[] }));
  for (const p of patients) {
    await store.append(
      `patient-${p.nhs}`,
      [
        event('PatientRegistered', {
          patientId: p.id,
          nhsNumber: p.nhs,
          name: { given: ['Ada'], family: 'Lovelace' },
          birthDate: '1938-12-10',
          gpPractice: { odsCode: 'A81001', name: 'Riverside Surgery' },
          baseline: { spo2Scale: 1 },
        }),
        event('CareTeamMemberAdded', { patientId: p.id, practitionerId: 'dn-1', teamRole: 'accountable-clinician' }),
        event('CareTeamMemberAdded', { patientId: p.id, practitionerId: 'cw-1', teamRole: 'care-worker' }),
      ],
      { expectedRevision: 'any' },
    );
  }
  let written = 2 + PATIENTS * 3;
  while (written < count) {
    const p = patients[int(0, PATIENTS - 1)]!;
    const chunk: NewEvent[] = [];
    while (chunk.length < 20) {
      const roll = Math.random();
      const patientId = p.id;
      if (roll < 0.6) {
        const e = event('VitalSignsRecorded', { patientId, ...vitals() });
        p.entries.push({ id: e.id, type: 'VitalSignsRecorded' });
        chunk.push(e);
      } else if (roll < 0.85) {
        const e = event('BloodGlucoseRecorded', { patientId, ...glucose() });
        p.entries.push({ id: e.id, type: 'BloodGlucoseRecorded' });
        chunk.push(e);
      } else if (roll < 0.93) {
        const dose = event('InsulinAdministered', { patientId, product, device: 'pen', dose: { value: int(4, 20), unit: 'units' }, site: 'thigh' });
        chunk.push(dose);
        if (Math.random() < 0.25) {
          chunk.push(
            event('DoseInsideMinimumIntervalFlagged', { patientId, product, previousDoseEntryId: randomUUID(), previousDoseOccurredAt: '2025-01-01T07:00:00Z', minutesApart: 80, minimumIntervalMinutes: 240 }),
          );
        }
      } else if (p.entries.length > 0) {
        const entry = p.entries[int(0, p.entries.length - 1)]!;
        if (roll < 0.98) {
          const data = entry.type === 'VitalSignsRecorded' ? vitals() : glucose();
          chunk.push(event('EntryAmended', { patientId, entryId: entry.id, reason: 'Misread', replacement: { type: entry.type, data } }, nurse));
        } else {
          chunk.push(event('EntryMarkedEnteredInError', { patientId, entryId: entry.id, reason: 'Wrong person' }, nurse));
        }
      }
    }
    await store.append(`care-${p.id}`, chunk, { expectedRevision: 'any' });
    written += chunk.length;
  }
  return written;
};

const counts = async (db: SqlDriver) => {
  const [row] = await db.query<{ resources: string; versions: string }>(
    'select (select count(*) from fhir_resource) as resources, (select count(*) from fhir_resource_version) as versions',
  );
  return `${row!.resources} resources, ${row!.versions} versions`;
};

/**
 * CPU time (ms) used so far by this process and by its PostgreSQL backends: the machine is shared,
 * so wall-clock rates depend on what else runs; CPU time per event does not (much).
 */
const cpu = async (db: SqlDriver | undefined) => {
  const { user, system } = process.cpuUsage();
  let postgres = 0;
  if (db && backend === 'pg') {
    const rows = await db.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [SCHEMA]);
    for (const { pid } of rows) {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        postgres += (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
      } catch {
        // the backend has gone
      }
    }
  }
  return { node: (user + system) / 1000, postgres };
};
const cpuReport = (events: number, before: { node: number; postgres: number }, after: { node: number; postgres: number }) =>
  `CPU per 1,000 events: node ${(((after.node - before.node) * 1000) / events).toFixed(0)} ms` +
  (backend === 'pg' ? `, postgres ${(((after.postgres - before.postgres) * 1000) / events).toFixed(0)} ms` : '');

/** Appends vital-sign sets at `rate` per second for `seconds`, one event per append, spread over 20 people. */
const appendLoad = async (store: EventStore, rate: number, seconds: number, appended: (positions: number[]) => void) => {
  const patientIds = Array.from({ length: 20 }, () => randomUUID());
  const started = Date.now();
  let sent = 0;
  while (Date.now() - started < seconds * 1000) {
    const due = Math.min(Math.floor(((Date.now() - started) / 1000) * rate), sent + 64);
    const appends: Promise<number>[] = [];
    for (; sent < due; sent++) {
      const patientId = patientIds[sent % patientIds.length]!;
      appends.push(store.append(`care-${patientId}`, [event('VitalSignsRecorded', { patientId, ...vitals() })], { expectedRevision: 'any' }).then((r) => r.position));
    }
    appended(await Promise.all(appends));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return { sent, seconds: (Date.now() - started) / 1000 };
};

/**
 * Live projection: vital-sign sets appended at a steady rate (on PostgreSQL by another process, as
 * the record service would; on PGlite in this one), and how far the projection falls behind.
 */
const live = async (store: EventStore, db: SqlDriver, runner: ProjectionRunner, rate: number, seconds: number) => {
  const cpu0 = await cpu(db);
  const positions: number[] = [];
  let maxWaiting = 0;
  const sample = setInterval(() => {
    maxWaiting = Math.max(maxWaiting, positions.filter((p) => p > runner.position).length);
  }, 20);
  const started = Date.now();
  const load =
    backend === 'pg'
      ? await new Promise<{ sent: number; seconds: number }>((resolve, reject) => {
          const child = fork(process.argv[1]!, ['append', SCHEMA, String(rate), String(seconds)]);
          child.on('message', (message: { positions?: number[]; done?: { sent: number; seconds: number } }) => {
            positions.push(...(message.positions ?? []));
            if (message.done) resolve(message.done);
          });
          child.on('error', reject);
        })
      : await appendLoad(store, rate, seconds, (p) => positions.push(...p));
  const last = Math.max(...positions);
  const caughtUp = await runner.waitFor(last, 120_000);
  clearInterval(sample);
  const total = (Date.now() - started) / 1000;
  const cpu1 = await cpu(db);
  console.log(
    `  live: ${load.sent} vital-sign sets appended in ${load.seconds.toFixed(1)} s (${Math.round(load.sent / load.seconds)}/s); ` +
      `projected ${caughtUp ? 'all' : 'NOT all'} by ${total.toFixed(1)} s; at most ${maxWaiting} sets waiting`,
  );
  console.log(`    ${cpuReport(load.sent, cpu0, cpu1)} (appends included${backend === 'pg' ? ' on postgres, not in node' : ''})`);
};

/** The appending process of the live run on PostgreSQL. */
const appender = async (schema: string, rate: number, seconds: number) => {
  const store = validatedStore(await postgresBackend({ connectionString: URL.replace(SCHEMA, schema), schema }), new EventRegistry([...careEventDefinitions]));
  const done = await appendLoad(store, rate, seconds, (positions) => process.send?.({ positions }));
  await store.close();
  if (process.send) {
    process.send({ done });
    process.disconnect();
  } else console.log(`appended ${done.sent} in ${done.seconds.toFixed(1)} s = ${Math.round(done.sent / done.seconds)}/s`);
};

const main = async () => {
  let store: EventStore;
  let db: SqlDriver;
  let cleanup: () => Promise<void>;
  if (backend === 'pglite') {
    const pglite = new PGlite();
    store = validatedStore(await pgliteBackend({ db: pglite }), new EventRegistry([...careEventDefinitions]));
    db = pgliteDriver(pglite, false);
    cleanup = async () => {
      await store.close();
      await pglite.close();
    };
  } else {
    store = validatedStore(await postgresBackend({ connectionString: URL, schema: SCHEMA }), new EventRegistry([...careEventDefinitions]));
    const pool = await postgresPool({ connectionString: URL, schema: SCHEMA });
    db = postgresDriver(pool, true);
    cleanup = async () => {
      await store.close();
      if (process.env.BENCH_SEED_ONLY) console.log(`kept schema ${SCHEMA}`);
      else {
        // The runner keeps its read models in generation schemas beside the base one.
        const schemas = await db.query<{ name: string }>(`select nspname as name from pg_namespace where nspname = $1 or nspname like $1 || '\\_rm%'`, [SCHEMA]);
        for (const { name } of schemas) await db.query(`drop schema ${name} cascade`);
      }
      await db.close();
    };
  }
  try {
    let t = Date.now();
    const events = await seed(store, EVENTS);
    console.log(`${backend}: seeded ${events} events in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    if (process.env.BENCH_SEED_ONLY) return;
    const runner = new ProjectionRunner(store, db, [fhirProjection]);
    t = Date.now();
    let cpu0 = await cpu(db);
    await runner.start();
    await runner.waitFor(await store.headPosition(), 3_600_000);
    const catchUp = (Date.now() - t) / 1000;
    let cpu1 = await cpu(db);
    console.log(`  start (catch-up by subscription): ${events} events in ${catchUp.toFixed(1)} s = ${Math.round(events / catchUp)} events/s; ${await counts(db)}`);
    console.log(`    ${cpuReport(events, cpu0, cpu1)}`);
    cpu0 = await cpu(db);
    const report = await runner.rebuild();
    cpu1 = await cpu(db);
    console.log(`  rebuild: ${report.events} events in ${report.seconds.toFixed(1)} s = ${report.eventsPerSecond} events/s; ${await counts(db)}`);
    console.log(`    ${cpuReport(report.events, cpu0, cpu1)}`);
    if (LIVE_SECONDS > 0) await live(store, db, runner, LIVE_RATE, LIVE_SECONDS);
    await runner.stop();
  } finally {
    await cleanup();
  }
};

(backend === 'append' ? appender(eventsArg, Number(liveRateArg), Number(liveSecondsArg)) : main()).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
