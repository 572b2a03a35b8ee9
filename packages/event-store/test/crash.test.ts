import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgliteBackend, postgresBackend, type EventStoreBackend } from '../src';
import { dropSchema, postgresTestUrl, testSchemaName } from './postgres-env';

interface Ack {
  stream: string;
  revision: number;
  ids: string[];
}

/** Runs the appending child until it has acknowledged `acks` batches, then kills it with SIGKILL. */
const appendThenKill = (args: string[], acks: number): Promise<Ack[]> =>
  new Promise((resolve, reject) => {
    // One process, not the tsx CLI: the CLI runs the script in a grandchild that SIGKILL would miss.
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'crash-child.ts'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const seen: Ack[] = [];
    let buffer = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const [, stream, revision, ids] = line.split(' ');
        seen.push({ stream: stream!, revision: Number(revision), ids: ids!.split(',') });
      }
      if (seen.length >= acks && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve(seen) : reject(new Error(`child exited without being killed: ${stderr}`))));
  });

const expectEveryAckStoredAndNoHalfBatch = async (backend: EventStoreBackend, acks: Ack[]) => {
  const streams = new Set(acks.map((a) => a.stream));
  for (const stream of streams) {
    const events = await backend.readStream(stream);
    expect(events.length % 3).toBe(0);
    expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
    const stored = new Set(events.map((e) => e.id));
    for (const ack of acks.filter((a) => a.stream === stream)) for (const id of ack.ids) expect(stored.has(id)).toBe(true);
  }
};

describe('crash safety: SIGKILL while appending', () => {
  it('PGlite: every acknowledged append survives a restart and no batch is half-stored', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tandem-crash-'));
    try {
      const acks = await appendThenKill(['pglite', dataDir], 40);
      expect(acks.length).toBeGreaterThanOrEqual(40);
      const backend = await pgliteBackend({ dataDir });
      try {
        await expectEveryAckStoredAndNoHalfBatch(backend, acks);
      } finally {
        await backend.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  const url = postgresTestUrl('PostgreSQL crash test');
  (url ? it : it.skip)('PostgreSQL: every acknowledged append survives and no batch is half-stored', async () => {
    const schema = testSchemaName('crash');
    try {
      const acks = await appendThenKill(['postgres', url!, schema], 200);
      const backend = await postgresBackend({ connectionString: url!, schema });
      try {
        await expectEveryAckStoredAndNoHalfBatch(backend, acks);
      } finally {
        await backend.close();
      }
    } finally {
      await dropSchema(url!, schema);
    }
  }, 60_000);
});
