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
 * With the embedded Tandem running on this data directory, verify and replay ask it over HTTP.
 */
import { mintToken } from '@tandem/auth';
import { sealDigest, verifyEventLog, type DigestAnchor, type SealedDigest, type VerifyReport } from '@tandem/event-store';
import { ConfigError, loadConfig, type Config } from '../config';
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
 * PGlite allows one process, so the embedded store is never opened under a running server: verify
 * and replay then ask the server (GET /api/audit/...) with an auditor token from the development
 * issuer; seal waits for the server's own sealer or for it to stop.
 */
const runningServer = async (config: Config): Promise<string | undefined> => {
  if (config.TANDEM_EVENT_STORE !== 'pglite') return undefined;
  const url = `http://127.0.0.1:${config.PORT}`;
  const running = await fetch(`${url}/health`).then(
    () => true,
    () => false,
  );
  return running ? url : undefined;
};

const askServer = async (url: string, config: Config, path: string): Promise<Response> => {
  const token = await mintToken({ role: 'auditor', user: 'audit-cli' }, { dataDir: config.TANDEM_DATA_DIR });
  const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
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
  const { sealed, latest, busy } = await sealDigest(storage.readModels);
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
  const server = await runningServer(config);
  if (server) {
    if (command === 'seal') fail(`Tandem is running on port ${config.PORT} with this data directory and seals a digest every TANDEM_DIGEST_INTERVAL_SECONDS; to seal one now, stop it first (the embedded store allows one process).`);
    process.exitCode = command === 'verify' ? await verifyOnServer(server, config, anchor) : await replayOnServer(server, config);
    return;
  }
  const storage = await openStorage(config, eventRegistry());
  try {
    process.exitCode = command === 'verify' ? await verify(storage, config, anchor) : command === 'seal' ? await seal(storage, config) : await replay(storage);
  } finally {
    await storage.close();
  }
};

main().catch((error: unknown) => fail(`audit failed: ${error instanceof Error ? error.message : String(error)}`));
