/**
 * `npm run audit -- verify [--anchor <n>:<sha256>]`
 *                                                 walk every stream's hash chain, recompute every sealed
 *                                                 digest of the global log, and report tampering; --anchor
 *                                                 checks digest n against a copy kept outside the database
 * `npm run audit -- seal`                         seal a digest of the log now and print it, to keep outside
 *                                                 the database (before a handover or an inspection)
 * `npm run audit -- replay --stream <name> [--as-of <time>] [--fhir]`
 *                                                 the stream's story as known then, and the state then;
 *                                                 --fhir writes it as a FHIR Bundle instead
 *
 * The embedded data directory is held by one process at a time (its lock file, data-dir-lock.ts):
 * with Tandem running on it, every command asks that server over HTTP (the URL in the lock, never
 * a guess from PORT), so a seal lands in the server's own database; otherwise the command holds the
 * directory itself while it works.
 */
import { mintToken } from '@tandem/auth';
import { sealDigest, verifyEventLog, type DigestAnchor, type SealedDigest, type SealResult, type VerifyReport } from '@tandem/event-store';
import { ConfigError, loadConfig, type Config } from '../config';
import { DataDirLocked, dataDirOwner, describeOwner } from '../data-dir-lock';
import { openStorage, type Storage } from '../storage';
import { eventRegistry } from '../tandem';
import { readWholeStream, replayAsFhir } from './replay';
import { timeline } from './timeline';

const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

const fail = (message: string): never => {
  process.stderr.write(`${message}\n`);
  process.exit(2);
};

/**
 * PGlite admits one process, so the embedded store is never opened under a running server: the
 * server that holds the data directory's lock is asked instead (/api/audit/...) with an auditor
 * token from the development issuer. A holder that serves no HTTP (a seed running) is waited for.
 */
const runningServer = (config: Config): string | undefined => {
  if (config.TANDEM_EVENT_STORE !== 'pglite') return undefined;
  const owner = dataDirOwner(config.TANDEM_DATA_DIR);
  if (!owner) return undefined;
  return owner.url ?? fail(`${describeOwner(owner)}: it is not serving HTTP, so it cannot be asked; wait for it to finish or stop it first.`);
};

const askServer = async (url: string, config: Config, path: string, method: 'GET' | 'POST' = 'GET'): Promise<Response> => {
  const token = await mintToken({ role: 'auditor', user: 'audit-cli' }, { dataDir: config.TANDEM_DATA_DIR });
  const response = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}` } }).catch((error: unknown) =>
    fail(`Tandem holds this data directory and says it listens at ${url}, but it could not be reached (${error instanceof Error ? error.message : String(error)}): is it still starting or stopping?`),
  );
  if (!response.ok) fail(`Tandem at ${url} answered ${response.status}: ${await response.text()}`);
  return response;
};

const sqlOnly = (config: Config, command: string) => {
  if (config.TANDEM_EVENT_STORE === 'eventstoredb') {
    fail(`${command} works on the SQL event log; EventStoreDB keeps its own immutable, checksummed log (and has no global digest yet).`);
  }
};

const anchorOption = (): DigestAnchor | undefined => {
  const raw = option('anchor');
  if (raw === undefined) return undefined;
  const match = /^#?(\d+):([0-9a-fA-F]{64})$/.exec(raw) ?? fail(`--anchor "${raw}" is not <sequence>:<sha256 hex>, as printed by \`npm run audit -- seal\``);
  return { sequence: Number(match[1]), digest: match[2]!.toLowerCase() };
};

/** The line to keep outside the database: `verify --anchor` takes it back. */
const anchorLine = (d: Pick<SealedDigest, 'sequence' | 'digest'>) => `${d.sequence}:${d.digest}`;

const verify = async (storage: Storage, config: Config, anchor: DigestAnchor | undefined) => {
  sqlOnly(config, 'verify');
  let progress = false;
  const report = await verifyEventLog(storage.readModels, {
    ...(anchor ? { anchor } : {}),
    onProgress: (read) => {
      progress = true;
      process.stderr.write(`\rrecomputing digests: read ${read} events...`);
    },
  });
  if (progress) process.stderr.write('\n');
  return printVerify(report, anchor);
};

const verifyOnServer = async (url: string, config: Config, anchor: DigestAnchor | undefined) => {
  const response = await askServer(url, config, `/api/audit/verify${anchor ? `?anchor=${anchorLine(anchor)}` : ''}`);
  const report = (await response.json()) as VerifyReport;
  if (typeof report.events !== 'number' || !Array.isArray(report.findings)) fail(`Tandem at ${url} did not answer with a verify report`);
  process.stdout.write(`Asked the running Tandem at ${url} (the embedded store admits one process).\n`);
  return printVerify(report, anchor);
};

const printVerify = (report: VerifyReport, anchor: DigestAnchor | undefined) => {
  const { digests } = report;
  process.stdout.write(`Checked ${report.events} events in ${report.streams} streams.\n`);
  if (digests.latest) {
    process.stdout.write(`Digests: ${digests.digests} sealed, covering ${digests.sealedEvents} events up to position ${digests.latest.upToPosition}.\n`);
    process.stdout.write(`Latest digest: ${anchorLine(digests.latest)} (sealed ${digests.latest.sealedAt}).\n`);
    if (digests.unsealedEvents > 0) process.stdout.write(`Unsealed: ${digests.unsealedEvents} later event(s), checked by their stream chains only until the next seal.\n`);
  } else {
    process.stdout.write(`Digests: none sealed yet; the ${digests.unsealedEvents} event(s) are checked by their stream chains only (\`npm run audit -- seal\` seals one).\n`);
  }
  if (anchor) process.stdout.write(`Anchor: digest #${anchor.sequence} checked against ${anchor.digest}.\n`);
  for (const f of report.findings) process.stdout.write(`TAMPERED  ${f.stream} #${f.revision}  ${f.problem}: ${f.detail}\n`);
  for (const f of digests.findings) process.stdout.write(`TAMPERED  digest #${f.sequence}  ${f.problem}: ${f.detail}\n`);
  const problems = report.findings.length + digests.findings.length;
  if (problems > 0) {
    process.stdout.write(`FAILED: ${problems} finding(s).\n`);
    return 1;
  }
  process.stdout.write('OK: every event matches its hash chain.\n');
  if (digests.latest) process.stdout.write(`OK: all ${digests.digests} digest(s) match the log up to position ${digests.latest.upToPosition}.\n`);
  return 0;
};

const seal = async (storage: Storage, config: Config) => {
  sqlOnly(config, 'seal');
  return printSeal(await sealDigest(storage.readModels));
};

/** The running server seals in its own database, so the line printed is one `verify --anchor` finds there. */
const sealOnServer = async (url: string, config: Config) => {
  const response = await askServer(url, config, '/api/audit/seal', 'POST');
  const result = (await response.json()) as SealResult;
  if (!Array.isArray(result.sealed)) fail(`Tandem at ${url} did not answer with a seal`);
  process.stdout.write(`Asked the running Tandem at ${url} to seal (the embedded store admits one process).\n`);
  return printSeal(result);
};

const printSeal = ({ sealed, latest, busy }: SealResult) => {
  if (busy && sealed.length === 0) {
    fail('Another Tandem process is sealing a digest right now; run this again in a moment.');
  }
  if (!latest) {
    process.stdout.write('Nothing to seal: the event log is empty.\n');
    return 0;
  }
  process.stdout.write(
    sealed.length > 0
      ? `Sealed ${sealed.length} digest(s), ${sealed.reduce((n, d) => n + d.eventCount, 0)} event(s).\n`
      : `Nothing new since digest #${latest.sequence}.\n`,
  );
  process.stdout.write(`Digest #${latest.sequence} covers the log up to position ${latest.upToPosition}, sealed ${latest.sealedAt}:\n`);
  process.stdout.write(`  ${anchorLine(latest)}\n`);
  process.stdout.write(
    'Keep that line outside the database (print it, send it to the auditor). Later, ' +
      `\`npm run audit -- verify --anchor ${anchorLine(latest)}\` shows whether the log up to it is unchanged.\n`,
  );
  return 0;
};

const replayOptions = () => {
  const stream = option('stream') ?? fail('replay needs --stream <name>, e.g. --stream care-<patientId>');
  const asOfRaw = option('as-of');
  const asOf = asOfRaw === undefined ? undefined : new Date(asOfRaw);
  if (asOf && Number.isNaN(asOf.getTime())) fail(`--as-of "${asOfRaw}" is not a date or date-time`);
  return { stream, asOf, fhir: process.argv.includes('--fhir') };
};

const replay = async (storage: Storage) => {
  const { stream, asOf, fhir } = replayOptions();
  const events = await readWholeStream(storage.store, stream, (read) => process.stderr.write(`\rread ${read} events...`));
  if (events.length === 0) fail(`No stream ${stream}`);
  const story = timeline(stream, events, asOf);
  process.stdout.write(fhir ? `${JSON.stringify(await replayAsFhir(story.shown, asOf), null, 2)}\n` : `${story.lines.join('\n')}\n`);
  return 0;
};

const replayOnServer = async (url: string, config: Config) => {
  const { stream, asOf, fhir } = replayOptions();
  const query = new URLSearchParams({ format: fhir ? 'fhir' : 'text', ...(asOf ? { asOf: asOf.toISOString() } : {}) });
  const response = await askServer(url, config, `/api/audit/streams/${encodeURIComponent(stream)}?${query.toString()}`);
  process.stdout.write(fhir ? `${JSON.stringify(await response.json(), null, 2)}\n` : await response.text());
  return 0;
};

const main = async () => {
  const command = process.argv[2];
  if (command !== 'verify' && command !== 'seal' && command !== 'replay') {
    fail('usage: npm run audit -- verify [--anchor <n>:<sha256>] | seal | replay --stream <name> [--as-of <time>] [--fhir]');
  }
  let config: Config;
  try {
    config = { ...loadConfig(), TANDEM_DEMO_DATA: false };
  } catch (error) {
    fail(error instanceof ConfigError ? error.message : String(error));
    return;
  }
  const anchor = command === 'verify' ? anchorOption() : undefined;
  const server = runningServer(config);
  if (server) {
    process.exitCode =
      command === 'verify' ? await verifyOnServer(server, config, anchor) : command === 'seal' ? await sealOnServer(server, config) : await replayOnServer(server, config);
    return;
  }
  const storage = await openStorage(config, eventRegistry(), { holder: `npm run audit -- ${command}`, onStaleLock: (message) => process.stderr.write(`${message}\n`) }).catch(
    (error: unknown) => (error instanceof DataDirLocked ? fail(`${error.message}, then run this again.`) : Promise.reject(error)),
  );
  try {
    process.exitCode = command === 'verify' ? await verify(storage, config, anchor) : command === 'seal' ? await seal(storage, config) : await replay(storage);
  } finally {
    await storage.close();
  }
};

main().catch((error: unknown) => fail(`audit failed: ${error instanceof Error ? error.message : String(error)}`));
