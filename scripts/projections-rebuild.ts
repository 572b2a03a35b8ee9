/**
 * `npm run projections:rebuild`: rebuilds every read model from position 0 into fresh tables and
 * switches over without stopping reads. It asks the running projections service to do it (in the
 * embedded mode PGlite lives inside that process), at TANDEM_URL (default http://127.0.0.1:$PORT).
 */
const url = process.env.TANDEM_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8080}`;

const main = async () => {
  process.stdout.write(`Rebuilding read models at ${url} ...\n`);
  const response = await fetch(`${url}/admin/projections/rebuild`, { method: 'POST' });
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
