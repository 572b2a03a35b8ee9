/**
 * What the HTTP benchmarks share: the stand-in identity provider, the databases, the Tandem server
 * and reference servers as processes of their own (so the load generator's event loop is not
 * theirs), the wait for the projection, and a process's CPU time.
 */
import { DevIssuer } from '@tandem/auth';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';

/** The benchmark database on the admin URL's server. */
export const databaseUrl = (adminUrl: string, database: string): string => {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
};

/**
 * The server mode takes tokens from an identity provider's JWKS URL: the benchmark plays the
 * provider with an in-memory key pair, serving its key set and minting the tokens it sends.
 * `idSecret` keys patient ids alike in the seeding process and the server (docs/decisions/0005).
 */
export const identityProvider = async (idSecret: string) => {
  const issuer = await DevIssuer.create({ issuer: 'urn:tandem:bench-issuer', audience: 'tandem' });
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(issuer.jwks())));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const env = {
    TANDEM_AUTH_JWKS_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    TANDEM_AUTH_ISSUER: issuer.issuer,
    TANDEM_AUTH_AUDIENCE: issuer.audience,
    TANDEM_ID_SECRET: idSecret,
  };
  return { issuer, env, close: () => server.close() };
};

/** Waits until the projection has no lag; the lag is in /health's details, which need an operator's token (system). */
export const waitCaughtUp = async (base: string, operator: Record<string, string>): Promise<void> => {
  for (;;) {
    try {
      const health = (await (await fetch(`${base}/health`, { headers: operator })).json()) as { services: { service: string; details?: { projection?: { lagEvents: number } } }[] };
      const lag = health.services.find((s) => s.service === 'projections')?.details?.projection?.lagEvents;
      if (lag === 0) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};

/** A benchmark database on the admin URL's server, made afresh unless `reuse` and it is there; with the server's version. */
export const postgresDatabase = async (adminUrl: string, database: string, reuse = false): Promise<{ version: string; fresh: boolean }> => {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const version = ((await admin.query<{ server_version: string }>('show server_version')).rows[0] as { server_version: string }).server_version;
    const exists = (await admin.query('select 1 from pg_database where datname = $1', [database])).rowCount === 1;
    if (reuse && exists) return { version, fresh: false };
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.query(`create database ${database}`);
    return { version, fresh: true };
  } finally {
    await admin.end();
  }
};

/** The two stores a benchmark runs Tandem on: the embedded default and the server mode. */
export type TandemTarget = 'pglite' | 'postgres';

export const storeEnv = (target: TandemTarget, where: { pgliteDir: string; adminUrl: string; database: string }): Record<string, string> =>
  target === 'pglite' ? { TANDEM_EVENT_STORE: 'pglite', TANDEM_DATA_DIR: where.pgliteDir } : { TANDEM_EVENT_STORE: 'postgres', DATABASE_URL: databaseUrl(where.adminUrl, where.database) };

/** Tandem's own server process (src/main.ts), as it is run; BENCH_CPU_PROF=<dir> makes it write a CPU profile there when stopped. */
export const spawnTandem = (port: number, env: Record<string, string>): ChildProcess => {
  const profile = process.env.BENCH_CPU_PROF;
  return spawn(process.execPath, [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []), '--import', 'tsx', join(__dirname, '../src/main.ts')], {
    env: {
      ...process.env,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      TANDEM_DEMO_DATA: 'false',
      // One client sends thousands of requests a second here: the per-user limit would answer most of them 429.
      TANDEM_RATE_LIMIT_PER_MINUTE: '0',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
};

/** A reference server of bench/reference-servers.ts; resolves with the line of JSON it prints once it listens. */
export const spawnReference = async <T = Record<string, never>>(kind: string, port: number, env: Record<string, string> = {}): Promise<{ child: ChildProcess; ids: T }> => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'reference-servers.ts'), kind, String(port)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${kind} reference server exited (${code})`)));
  });
  return { child, ids: JSON.parse(line) as T };
};

export const stopChild = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

/** A process's CPU time so far (user and system), in µs, from /proc (Linux); undefined elsewhere. */
export const cpuMicros = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return undefined;
  }
};
