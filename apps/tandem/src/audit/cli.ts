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
 */
import { PGlite } from '@electric-sql/pglite';
import { pgliteDriver, sealDigest, verifyEventLog, type DigestAnchor, type SealedDigest } from '@tandem/event-store';
import { ensureReadModels, fhirProjection } from '@tandem/projections';
import type { Bundle, FhirResource } from 'fhir/r4';
import { ConfigError, loadConfig, type Config } from '../config';
import { openStorage, type Storage } from '../storage';
import { eventRegistry } from '../tandem';
import { timeline } from './timeline';

const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

const fail = (message: string): never => {
  process.stderr.write(`${message}\n`);
  process.exit(2);
};

/** PGlite allows one process: never open the embedded store under a running server. */
const refuseIfServerRunning = async (config: Config) => {
  if (config.TANDEM_EVENT_STORE !== 'pglite') return;
  const running = await fetch(`http://127.0.0.1:${config.PORT}/health`).then(
    () => true,
    () => false,
  );
  if (running) fail(`Tandem is running on port ${config.PORT} with this data directory; stop it first (the embedded store allows one process).`);
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
const anchorLine = (d: SealedDigest) => `${d.sequence}:${d.digest}`;

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

const replay = async (storage: Storage) => {
  const stream = option('stream') ?? fail('replay needs --stream <name>, e.g. --stream care-<patientId>');
  const asOfRaw = option('as-of');
  const asOf = asOfRaw === undefined ? undefined : new Date(asOfRaw);
  if (asOf && Number.isNaN(asOf.getTime())) fail(`--as-of "${asOfRaw}" is not a date or date-time`);
  const events = [];
  for (let from = 0; ; ) {
    const page = await storage.store.readStream(stream, { fromRevision: from, maxCount: 1000 });
    events.push(...page);
    if (page.length < 1000) break;
    from += page.length;
    process.stderr.write(`\rread ${events.length} events...`);
  }
  if (events.length === 0) fail(`No stream ${stream}`);
  const story = timeline(stream, events, asOf);
  if (!process.argv.includes('--fhir')) {
    process.stdout.write(`${story.lines.join('\n')}\n`);
    return 0;
  }
  // The same projection the API uses, run over the events known then, in a scratch database.
  const scratch = new PGlite();
  const db = pgliteDriver(scratch, false);
  await ensureReadModels(db, [fhirProjection]);
  await db.transaction((tx) => fhirProjection.apply(story.shown, tx));
  const rows = await db.query<{ resource: FhirResource }>('select resource from fhir_resource order by resource_type, id');
  const bundle: Bundle = { resourceType: 'Bundle', type: 'collection', timestamp: (asOf ?? new Date()).toISOString(), entry: rows.map((r) => ({ resource: r.resource })) };
  process.stdout.write(`${JSON.stringify(bundle, null, 2)}\n`);
  await scratch.close();
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
  await refuseIfServerRunning(config);
  const storage = await openStorage(config, eventRegistry());
  try {
    process.exitCode = command === 'verify' ? await verify(storage, config, anchor) : command === 'seal' ? await seal(storage, config) : await replay(storage);
  } finally {
    await storage.close();
  }
};

main().catch((error: unknown) => fail(`audit failed: ${error instanceof Error ? error.message : String(error)}`));
