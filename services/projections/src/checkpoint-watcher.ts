import type { SqlQueryable } from '@tandem/event-store';

/**
 * Read-your-writes for a process that does not run the projections itself (server and scale
 * modes): polls the active generation's stored checkpoint until it reaches the position, or the
 * timeout passes.
 */
export const checkpointWatcher = (db: SqlQueryable, pollMs = 25) => ({
  async waitFor(position: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [row] = await db
        .query<{ position: string }>(
          `select c.position from tandem_projection_checkpoints c
             join tandem_read_model_generation g on c.name = 'read-models-g' || g.generation`,
        )
        .catch(() => []);
      if (row && Number(row.position) >= position) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  },
});
