/**
 * Event store benchmark: `npm run bench:event-store`.
 *
 * Side by side, in one run, on the same PostgreSQL:
 *   - raw:        batched INSERTs into a bare table of the same columns (no function, no checks,
 *                 no index) through `pg`: the limit of this server and client on this machine;
 *   - raw + 3 indexes (reference, batches only): the same into a table carrying tandem_events'
 *                 three unique indexes, to tell the cost of the indexes from that of the function;
 *   - postgres:   validatedStore(postgresBackend(...)), so validation is counted;
 *   - pglite:     validatedStore(pgliteBackend(...)), in memory and file-backed.
 * Every writer owns its streams and passes the real expected revision. Each append case runs for a
 * fixed time after a short warm-up, in slices that alternate between the contenders (A B B A ...)
 * so that load from anything else on the machine falls on each alike. readAll reads the first
 * 50,000 events of the log in pages of 500, twice, alternating likewise.
 *
 * Environment: TANDEM_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test),
 * TANDEM_BENCH_SECONDS (per append case, default 4), TANDEM_BENCH_READ_EVENTS (default 50000).
 * Everything is written into a fresh schema (and a fresh temp dir for PGlite), removed at the end.
 */
import { PGlite } from '@electric-sql/pglite';
import { defineEvent, EventRegistry, type Actor } from '@tandem/contracts';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { z } from 'zod';
import { pgliteBackend, postgresBackend, postgresPool, validatedStore, type EventStore, type NewEvent } from '../src';

const POSTGRES_URL = process.env.TANDEM_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CASE_MS = Number(process.env.TANDEM_BENCH_SECONDS ?? 4) * 1000;
const WARMUP_MS = 500;
/** Each append case is measured in this many alternating slices; readAll in READ_SLICES full passes. */
const SLICES = 8;
const READ_SLICES = 2;
const READ_EVENTS = Number(process.env.TANDEM_BENCH_READ_EVENTS ?? 50_000);
const PAGE_SIZE = 500;
const SEED_BATCH = 500;
const POOL_MAX = 20; // the adapter's default; must be >= the 16 concurrent writers
const STREAMS_PER_WRITER = 4;
const SCHEMA = `bench_${process.pid}_${Date.now().toString(36)}`;

// One small event type, as test/fixtures.ts does: the store is generic over event contracts.
const BenchNoted = defineEvent('BenchNoted', z.object({ text: z.string().min(1).max(500), n: z.number().int().nonnegative() }));
const registry = new EventRegistry([BenchNoted]);
const actor: Actor = {
  id: 'nurse-1',
  role: 'district-nurse',
  registration: { system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '12A3456E' },
};
let eventCounter = 0;
const newEvent = (): NewEvent => ({
  id: randomUUID(),
  type: 'BenchNoted',
  data: { text: 'Pulse 72 radial, regular; patient comfortable, fluids encouraged.', n: eventCounter++ },
  metadata: { actor, correlationId: randomUUID(), occurredAt: new Date().toISOString() },
});
const newEvents = (count: number): NewEvent[] => Array.from({ length: count }, newEvent);

// ---------------------------------------------------------------------------------------------
// Measurement

interface Stream {
  readonly name: string;
  /** Current revision; undefined until the first append. */
  revision: number | undefined;
}

/** One concurrent writer and the streams it alone appends to. */
class Writer {
  private next = 0;
  readonly streams: Stream[];
  constructor(prefix: string) {
    this.streams = Array.from({ length: STREAMS_PER_WRITER }, (_, k) => ({ name: `${prefix}.s${k}-${randomUUID().slice(0, 8)}`, revision: undefined }));
  }
  pick(): Stream {
    return this.streams[this.next++ % this.streams.length]!;
  }
}

/** Appends `events` to one of the writer's streams, honouring and advancing its revision. */
type Append = (writer: Writer, events: NewEvent[]) => Promise<void>;

interface Row {
  readonly target: string;
  readonly operation: string;
  readonly concurrency: number;
  readonly ops: number;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  /** CPU used by this Node process (client, and for PGlite also the database), in cores. */
  readonly nodeCpu: number;
  /** CPU busy on the whole machine (this process, PostgreSQL, anything else running), in cores. */
  readonly machineCpu: number;
  readonly note?: string;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

/** Runs `concurrency` writers, each appending batches of `size` back to back until the deadline. */
const runWriters = async (writers: Writer[], size: number, append: Append, ms: number, latencies?: number[]) => {
  let ops = 0;
  const cpu = cpuMeter();
  const start = performance.now();
  const deadline = start + ms;
  await Promise.all(
    writers.map(async (writer) => {
      while (performance.now() < deadline) {
        const events = newEvents(size);
        const t0 = performance.now();
        await append(writer, events);
        latencies?.push(performance.now() - t0);
        ops++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { ops, seconds, ...cpu(seconds) };
};

const cpuSeconds = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1e6;

/** Busy CPU seconds summed over every core of the machine since boot (os.cpus() times are in ms). */
const machineBusySeconds = () => os.cpus().reduce((sum, { times }) => sum + (times.user + times.nice + times.sys + times.irq) / 1000, 0);

/** Measures CPU use over a span: this process's and the whole machine's, in cores. */
const cpuMeter = () => {
  const node = process.cpuUsage();
  const machine = machineBusySeconds();
  return (seconds: number) => ({ nodeCpu: cpuSeconds(process.cpuUsage(node)) / seconds, machineCpu: (machineBusySeconds() - machine) / seconds });
};

/** A back end under test, with the count of events it holds so far. */
interface Contender {
  readonly target: string;
  readonly append: Append;
  appended: number;
}

/** Sums of several measured spans of one contender. */
class Tally {
  ops = 0;
  events = 0;
  seconds = 0;
  nodeCpuSeconds = 0;
  machineCpuSeconds = 0;
  readonly latencies: number[] = [];
  add(span: { ops: number; events: number; seconds: number; nodeCpu: number; machineCpu: number }) {
    this.ops += span.ops;
    this.events += span.events;
    this.seconds += span.seconds;
    this.nodeCpuSeconds += span.nodeCpu * span.seconds;
    this.machineCpuSeconds += span.machineCpu * span.seconds;
  }
  row(target: string, operation: string, concurrency: number, note?: string): Row {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      target,
      operation,
      concurrency,
      ops: this.ops,
      events: this.events,
      seconds: this.seconds,
      eventsPerSecond: this.events / this.seconds,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      nodeCpu: this.nodeCpuSeconds / this.seconds,
      machineCpu: this.machineCpuSeconds / this.seconds,
      ...(note ? { note } : {}),
    };
  }
}

/**
 * Measures the contenders on the same case in alternating slices (A B B A A B B A ...), so that a
 * burst of load from anything else on the machine falls on each of them alike and the ratios hold.
 */
const measureAppends = async (contenders: readonly Contender[], concurrency: number, size: number): Promise<Row[]> => {
  const runs = contenders.map((contender, c) => ({
    contender,
    writers: Array.from({ length: concurrency }, (_, w) => new Writer(`bench.c${c}.${size}x${concurrency}.w${w}`)),
    tally: new Tally(),
    append: (async (writer, events) => {
      await contender.append(writer, events);
      contender.appended += events.length;
    }) satisfies Append,
  }));
  for (const run of runs) await runWriters(run.writers, size, run.append, WARMUP_MS); // warm-up, same streams, not counted
  for (let slice = 0; slice < SLICES; slice++) {
    for (const run of slice % 2 === 0 ? runs : [...runs].reverse()) {
      const span = await runWriters(run.writers, size, run.append, CASE_MS / SLICES, run.tally.latencies);
      run.tally.add({ ...span, events: span.ops * size });
    }
  }
  return runs.map((run) => run.tally.row(run.contender.target, size === 1 ? 'append 1 event' : `append batch of ${size}`, concurrency));
};

/** A page of readAll from a position: how many events, and the position of the last. */
type ReadPage = (from: number) => Promise<{ count: number; last: number }>;

/** Reads `total` events from the start of the log in pages, once per slice, alternating the contenders. */
const measureReads = async (contenders: readonly { target: string; readPage: ReadPage }[], total: number): Promise<Row[]> => {
  const runs = contenders.map((contender) => ({ contender, tally: new Tally(), short: false }));
  for (let slice = 0; slice < READ_SLICES; slice++) {
    for (const run of slice % 2 === 0 ? runs : [...runs].reverse()) {
      let from = 0;
      let read = 0;
      let pages = 0;
      let emptyPages = 0;
      const cpu = cpuMeter();
      const start = performance.now();
      while (read < total) {
        const t0 = performance.now();
        const page = await run.contender.readPage(from);
        run.tally.latencies.push(performance.now() - t0);
        pages++;
        if (page.count === 0) {
          // Another session's open transaction can hold the visibility bound back for a moment.
          if (++emptyPages > 200) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
          continue;
        }
        read += page.count;
        from = page.last + 1;
      }
      const seconds = (performance.now() - start) / 1000;
      run.tally.add({ ops: pages, events: read, seconds, ...cpu(seconds) });
      if (read < total) run.short = true;
    }
  }
  return runs.map((run) =>
    run.tally.row(run.contender.target, `readAll, pages of ${PAGE_SIZE}`, 1, run.short ? `fewer than ${total} events visible` : undefined),
  );
};

// ---------------------------------------------------------------------------------------------
// Targets

/** The adapter's append with a real expected revision: no_stream first, then the stream's revision. */
const storeAppend =
  (store: EventStore): Append =>
  async (writer, events) => {
    const stream = writer.pick();
    const result = await store.append(stream.name, events, { expectedRevision: stream.revision ?? 'no_stream' });
    stream.revision = result.nextRevision;
  };

/** The adapter's readAll, validation and upcasting included. */
const storeReadPage =
  (store: EventStore): ReadPage =>
  async (from) => {
    const page = await store.readAll({ fromPosition: from, maxCount: PAGE_SIZE });
    return { count: page.length, last: page.at(-1)?.position ?? from - 1 };
  };

/** Tops the log up to `total` events with large batches (not measured). */
const seed = async (contender: Contender, total: number) => {
  const writer = new Writer('bench.seed');
  while (contender.appended < total) {
    const size = Math.min(SEED_BATCH, total - contender.appended);
    await contender.append(writer, newEvents(size));
    contender.appended += size;
  }
};

const RAW_COLUMNS = ['position', 'event_id', 'stream_name', 'stream_revision', 'type', 'schema_version', 'data', 'metadata', 'hash'];
/** The raw rows carry a hash-sized value so they are as wide as tandem_events' rows; nothing computes it. */
const RAW_HASH = Buffer.alloc(32, 0xab);
const rawInsertSql = new Map<string, string>();
/** `insert ... values ($1..$9), ($10..$18), ...` for a batch of `size` events, built once per size. */
const rawInsert = (table: string, size: number): string => {
  let sql = rawInsertSql.get(`${table}/${size}`);
  if (!sql) {
    const rows = Array.from({ length: size }, (_, r) => `(${RAW_COLUMNS.map((_, c) => `$${r * RAW_COLUMNS.length + c + 1}`).join(', ')})`);
    sql = `insert into ${table} (${RAW_COLUMNS.join(', ')}) values ${rows.join(', ')}`;
    rawInsertSql.set(`${table}/${size}`, sql);
  }
  return sql;
};

/** The raw limit: one multi-row INSERT per append, positions counted in this process, nothing checked. */
const rawAppend = (pool: pg.Pool, table: string): Append => {
  let position = 1;
  return async (writer, events) => {
    const stream = writer.pick();
    const base = stream.revision ?? -1;
    const params: unknown[] = [];
    events.forEach((e, i) => params.push(position++, e.id, stream.name, base + i + 1, e.type, 1, e.data, e.metadata, RAW_HASH));
    await pool.query(rawInsert(table, events.length), params);
    stream.revision = base + events.length;
  };
};

/** The same columns in pages by position, rows as `pg` returns them (jsonb parsed, nothing checked). */
const rawReadPage =
  (pool: pg.Pool): ReadPage =>
  async (from) => {
    const { rows } = await pool.query<{ position: string }>(
      `select position, event_id, stream_name, stream_revision, type, schema_version, data, metadata, recorded_at
         from raw_events where position >= $1 order by position limit $2`,
      [from, PAGE_SIZE],
    );
    return { count: rows.length, last: rows.length ? Number(rows.at(-1)!.position) : from - 1 };
  };

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-';

const table = (rows: readonly Row[]): string => {
  const header = ['Back end', 'Operation', 'Conc.', 'Ops', 'Events', 'Events/s', 'p50 ms', 'p99 ms', 'Node CPU', 'Host CPU'];
  const body = rows.map((r) => [
    r.target,
    r.operation + (r.note ? ` (${r.note})` : ''),
    String(r.concurrency),
    fmt(r.ops),
    fmt(r.events),
    fmt(r.eventsPerSecond),
    fmt(r.p50, 2),
    fmt(r.p99, 2),
    fmt(r.nodeCpu, 2),
    fmt(r.machineCpu, 2),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const numeric = (c: number) => c >= 2;
  const line = (cells: string[]) => `| ${cells.map((cell, c) => (numeric(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (numeric(c) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
};

const log = (line = '') => process.stdout.write(`${line}\n`);

const RAW = 'raw INSERT (pg)';
const RAW_INDEXED = 'raw INSERT + 3 indexes (ref.)';
const PG = 'PostgreSQL adapter';

// ---------------------------------------------------------------------------------------------

const main = async () => {
  const began = performance.now();
  const rows: Row[] = [];
  const find = (target: string, operation: string, concurrency: number) =>
    rows.find((r) => r.target === target && r.operation === operation && r.concurrency === concurrency);

  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  const tempDir = await mkdtemp(path.join(os.tmpdir(), 'tandem-bench-'));
  let postgresStore: EventStore | undefined;
  let rawPool: pg.Pool | undefined;
  try {
    const settings = await admin.query<{ name: string; setting: string }>(
      `select name, setting from pg_settings where name in ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'max_connections', 'wal_level')`,
    );
    const setting = (name: string) => settings.rows.find((r) => r.name === name)?.setting ?? '?';
    const cpus = os.cpus();
    log('# Tandem event store benchmark');
    log();
    log(`Date:       ${new Date().toISOString()}`);
    log(`Machine:    ${cpus.length} x ${cpus[0]?.model ?? 'unknown CPU'}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB RAM, ${os.type()} ${os.release()} (${os.arch()})`);
    log(`Node:       ${process.version}`);
    log(
      `PostgreSQL: ${setting('server_version')} at ${new URL(POSTGRES_URL).host} (fsync=${setting('fsync')}, synchronous_commit=${setting('synchronous_commit')}, ` +
        `shared_buffers=${setting('shared_buffers')}x8kB, max_connections=${setting('max_connections')}); schema ${SCHEMA}; pool max ${POOL_MAX}`,
    );

    // --- PostgreSQL: the raw limit and the adapter, side by side case by case.
    rawPool = await postgresPool({ connectionString: POSTGRES_URL, schema: SCHEMA, maxConnections: POOL_MAX });
    await rawPool.query(`create table raw_events (
      position bigint not null, event_id uuid not null, stream_name text not null, stream_revision bigint not null,
      type text not null, schema_version int not null, data jsonb not null, metadata jsonb not null,
      recorded_at timestamptz not null default now(), hash bytea)`);
    // Reference only: the bare table plus the three unique indexes tandem_events carries.
    await rawPool.query(`create table raw_events_indexed (like raw_events including defaults,
      primary key (position), unique (stream_name, stream_revision), unique (stream_name, event_id))`);
    postgresStore = validatedStore(await postgresBackend({ connectionString: POSTGRES_URL, schema: SCHEMA, maxConnections: POOL_MAX }), registry);
    const raw: Contender = { target: RAW, append: rawAppend(rawPool, 'raw_events'), appended: 0 };
    const rawIndexed: Contender = { target: RAW_INDEXED, append: rawAppend(rawPool, 'raw_events_indexed'), appended: 0 };
    const adapter: Contender = { target: PG, append: storeAppend(postgresStore), appended: 0 };
    rows.push(...(await measureAppends([raw, adapter], 1, 1)));
    rows.push(...(await measureAppends([raw, adapter], 16, 1)));
    rows.push(...(await measureAppends([raw, adapter, rawIndexed], 16, 10)));
    await seed(raw, READ_EVENTS);
    await seed(adapter, READ_EVENTS);
    // The bare table has no index while appending; paging by position needs one, built untimed.
    // Neither table is analyzed: both are read with whatever plan a fresh table gets.
    await rawPool.query('create index raw_events_position on raw_events (position)');
    rows.push(
      ...(await measureReads(
        [
          { target: RAW, readPage: rawReadPage(rawPool) },
          { target: PG, readPage: storeReadPage(postgresStore) },
        ],
        READ_EVENTS,
      )),
    );
    await postgresStore.close();
    postgresStore = undefined;
    await rawPool.end();
    rawPool = undefined;

    // --- PGlite: one connection, so batches run at concurrency 1; 16 single-event writers queue.
    let pgliteVersion = '?';
    for (const [target, dataDir] of [
      ['PGlite in memory', undefined],
      ['PGlite file', path.join(tempDir, 'pglite')],
    ] as const) {
      // Passing the PGlite in (rather than a dataDir) only lets the bench ask it its version.
      const db = new PGlite(dataDir);
      const store = validatedStore(await pgliteBackend({ db }), registry);
      try {
        const [info] = (await db.query<{ v: string; fsync: string }>(`select version() as v, current_setting('fsync') as fsync`)).rows;
        pgliteVersion = `${info?.v.split(' on ')[0] ?? '?'} (WASM, in this Node process; fsync=${info?.fsync ?? '?'})`;
        const pglite: Contender = { target, append: storeAppend(store), appended: 0 };
        rows.push(...(await measureAppends([pglite], 1, 1)));
        rows.push(...(await measureAppends([pglite], 16, 1)));
        rows.push(...(await measureAppends([pglite], 1, 10)));
        await seed(pglite, READ_EVENTS);
        rows.push(...(await measureReads([{ target, readPage: storeReadPage(store) }], READ_EVENTS)));
      } finally {
        await store.close();
        await db.close();
      }
    }
    log(`PGlite:     ${pgliteVersion}`);
    log();
    log(table(rows));
    log();
    log(`Latency is per call (one append, or one page of readAll). Node CPU: cores used by this process (the client;`);
    log(`for PGlite also the database). Host CPU: cores busy on the whole machine, of ${cpus.length} (PostgreSQL, this process, anything else).`);
    log();

    // --- Ratios and aims
    const batch = 'append batch of 10';
    const single = 'append 1 event';
    const readAll = `readAll, pages of ${PAGE_SIZE}`;
    const ratio = (a?: Row, b?: Row) => (a && b ? a.eventsPerSecond / b.eventsPerSecond : NaN);
    const rawBatch = find(RAW, batch, 16);
    const pgSingle16 = find(PG, single, 16);
    const batchRatio = ratio(find(PG, batch, 16), rawBatch);
    log('Ratios of events per second:');
    const ratioLine = (label: string, value: number) => log(`  ${label.padEnd(64)} ${fmt(value, 2)}`);
    ratioLine('batches of 10, conc. 16: PostgreSQL adapter / raw', batchRatio);
    ratioLine('batches of 10, conc. 16: PostgreSQL adapter / raw + 3 indexes', ratio(find(PG, batch, 16), find(RAW_INDEXED, batch, 16)));
    ratioLine('batches of 10, conc. 16: raw + 3 indexes / raw', ratio(find(RAW_INDEXED, batch, 16), rawBatch));
    for (const target of ['PGlite in memory', 'PGlite file']) ratioLine(`batches of 10: ${target} (conc. 1) / raw (conc. 16)`, ratio(find(target, batch, 1), rawBatch));
    ratioLine('single events, conc. 1: PostgreSQL adapter / raw', ratio(find(PG, single, 1), find(RAW, single, 1)));
    ratioLine('single events, conc. 16: PostgreSQL adapter / raw', ratio(pgSingle16, find(RAW, single, 16)));
    ratioLine('readAll: PostgreSQL adapter / raw', ratio(find(PG, readAll, 1), find(RAW, readAll, 1)));
    log();
    const aims = [
      { aim: 'PostgreSQL adapter batches within 70 % of raw (ratio >= 0.7)', met: batchRatio >= 0.7, value: fmt(batchRatio, 2) },
      { aim: 'PostgreSQL adapter >= 2,000 single-event appends/s at concurrency 16', met: (pgSingle16?.eventsPerSecond ?? 0) >= 2000, value: `${fmt(pgSingle16?.eventsPerSecond ?? NaN)}/s` },
    ];
    log('Aims:');
    for (const a of aims) log(`  [${a.met ? 'met   ' : 'MISSED'}] ${a.aim}: ${a.value}`);
    log();
    log(`Total run time ${fmt((performance.now() - began) / 1000, 1)} s.`);
  } finally {
    await postgresStore?.close().catch(() => undefined);
    await rawPool?.end().catch(() => undefined);
    await admin.query(`drop schema if exists ${SCHEMA} cascade`).catch((error: unknown) => log(`could not drop schema ${SCHEMA}: ${String(error)}`));
    await admin.end();
    await rm(tempDir, { recursive: true, force: true });
  }
};

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
