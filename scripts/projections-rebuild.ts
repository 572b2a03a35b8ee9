/**
 * `npm run projections:rebuild`: rebuilds every read model from position 0 into fresh tables and
 * switches over without stopping reads. It asks the running projections service to do it (in the
 * embedded mode PGlite lives inside that process): at TANDEM_URL if set; in the embedded mode at
 * the URL the server wrote into its data directory's lock (never a guess from PORT); otherwise at
 * http://127.0.0.1:$PORT.
 *
 * Administration needs a token (role registered-manager or system): TANDEM_TOKEN, or in the
 * embedded mode one minted by the development issuer of TANDEM_DATA_DIR (resolved as `npm start`
 * resolves it).
 */
import { resolveDataDir } from '../apps/tandem/src/config';
import { dataDirOwner, describeOwner } from '../apps/tandem/src/data-dir-lock';
import { DevIssuer } from '@tandem/auth';

const refuse = (message: string): never => {
  process.stderr.write(`${message}\n`);
  process.exit(1);
};

const serverUrl = (): string => {
  if (process.env.TANDEM_URL) return process.env.TANDEM_URL;
  if ((process.env.TANDEM_EVENT_STORE ?? 'pglite') !== 'pglite') return `http://127.0.0.1:${process.env.PORT ?? 8080}`;
  const dataDir = resolveDataDir(process.env.TANDEM_DATA_DIR);
  const owner = dataDirOwner(dataDir);
  if (!owner) return refuse(`Tandem is not running on ${dataDir}: a rebuild runs inside the server, so start it (npm start) and run this again.`);
  return owner.url ?? refuse(`${describeOwner(owner)}: it is not serving HTTP yet; wait for it and run this again.`);
};

const url = serverUrl();

const token = async (): Promise<string> => {
  if (process.env.TANDEM_TOKEN) return process.env.TANDEM_TOKEN;
  const eventStore = process.env.TANDEM_EVENT_STORE ?? 'pglite';
  if (eventStore !== 'pglite') {
    process.stderr.write('Set TANDEM_TOKEN to a token for a registered-manager or system role from your identity provider\n');
    process.exit(1);
  }
  const issuer = await DevIssuer.open({ dataDir: resolveDataDir(process.env.TANDEM_DATA_DIR), eventStore });
  return issuer.mint({ role: 'system', user: 'projections-rebuild', minutes: 30 });
};

const main = async () => {
  const bearer = await token();
  process.stdout.write(`Rebuilding read models at ${url} ...\n`);
  const response = await fetch(`${url}/admin/projections/rebuild`, { method: 'POST', headers: { authorization: `Bearer ${bearer}` } });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) {
    process.stderr.write(`Rebuild refused (${response.status}): ${String(body.detail ?? JSON.stringify(body))}\n`);
    process.exit(1);
  }
  process.stdout.write(`Generation ${String(body.generation)}: ${String(body.events)} events in ${Number(body.seconds).toFixed(2)} s (${String(body.eventsPerSecond)} events/s)\n`);
};

main().catch((error: unknown) => {
  process.stderr.write(`Could not reach Tandem at ${url}: ${String(error)}\n`);
  process.exit(1);
});
