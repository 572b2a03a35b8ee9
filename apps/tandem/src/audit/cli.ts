/**
 * `npm run audit -- verify`                       walk every stream's hash chain and report tampering
 * `npm run audit -- replay --stream <name> [--as-of <time>] [--fhir]`
 *                                                 the stream's story as known then, and the state then;
 *                                                 --fhir writes it as a FHIR Bundle instead
 */
import { PGlite } from '@electric-sql/pglite';
import { pgliteDriver, verifyEventLog } from '@tandem/event-store';
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

const verify = async (storage: Storage, config: Config) => {
  if (config.TANDEM_EVENT_STORE === 'eventstoredb') fail('verify walks the SQL event log; EventStoreDB keeps its own immutable, checksummed log.');
  const report = await verifyEventLog(storage.readModels);
  process.stdout.write(`Checked ${report.events} events in ${report.streams} streams.\n`);
  for (const f of report.findings) process.stdout.write(`TAMPERED  ${f.stream} #${f.revision}  ${f.problem}: ${f.detail}\n`);
  process.stdout.write(report.findings.length === 0 ? 'OK: every event matches its hash chain.\n' : `FAILED: ${report.findings.length} finding(s).\n`);
  return report.findings.length === 0 ? 0 : 1;
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
  if (command !== 'verify' && command !== 'replay') fail('usage: npm run audit -- verify | replay --stream <name> [--as-of <time>] [--fhir]');
  let config: Config;
  try {
    config = { ...loadConfig(), TANDEM_DEMO_DATA: false };
  } catch (error) {
    fail(error instanceof ConfigError ? error.message : String(error));
    return;
  }
  await refuseIfServerRunning(config);
  const storage = await openStorage(config, eventRegistry());
  try {
    process.exitCode = command === 'verify' ? await verify(storage, config) : await replay(storage);
  } finally {
    await storage.close();
  }
};

main().catch((error: unknown) => fail(`audit failed: ${error instanceof Error ? error.message : String(error)}`));
