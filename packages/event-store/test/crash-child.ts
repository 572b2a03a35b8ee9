/**
 * Appends three-event batches in a loop and prints "ack <stream> <revision> <id,id,id>" after each
 * append returns: the parent kills this process with SIGKILL mid-stream and checks every ack.
 */
import { randomUUID } from 'node:crypto';
import { pgliteBackend, postgresBackend, validatedStore } from '../src';
import { note, testRegistry } from './fixtures';

const [mode, target, schema] = process.argv.slice(2);

const main = async () => {
  const backend = mode === 'pglite' ? await pgliteBackend({ dataDir: target! }) : await postgresBackend({ connectionString: target!, schema: schema! });
  const store = validatedStore(backend, testRegistry);
  const streams = Array.from({ length: 4 }, () => `care-${randomUUID()}`);
  const revisions = new Map<string, number>();
  for (let i = 0; ; i++) {
    const stream = streams[i % streams.length]!;
    const batch = [note(`batch ${i} a`), note(`batch ${i} b`), note(`batch ${i} c`)];
    const current = revisions.get(stream);
    const result = await store.append(stream, batch, { expectedRevision: current ?? 'no_stream' });
    revisions.set(stream, result.nextRevision);
    process.stdout.write(`ack ${stream} ${result.nextRevision} ${batch.map((e) => e.id).join(',')}\n`);
  }
};

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
