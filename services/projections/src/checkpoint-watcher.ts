import type { SqlQueryable } from '@tandem/event-store';

/**
 * Read-your-writes for a process that does not run the projections itself (server and scale
 * modes): polls the stored checkpoint until it reaches the position, or the timeout passes.
 */
export const checkpointWatcher = (db: SqlQueryable, checkpointName = 'read-models', pollMs = 25) => ({
  async waitFor(position: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [row] = await db
        .query<{ position: string }>('select position from tandem_projection_checkpoints where name = $1', [checkpointName])
        .catch(() => []);
      if (row && Number(row.position) >= position) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  },
});
