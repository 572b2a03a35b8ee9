/**
 * The position a consumer of the global log has handled, and the readers waiting for it to reach
 * a position (read-your-writes). Shared by the projection runner and the delegation reactions.
 */
export class Checkpoint {
  private waiters: { position: number; resolve: () => void }[] = [];

  constructor(private current = -1) {}

  get position(): number {
    return this.current;
  }

  /** Moves the checkpoint and wakes every reader waiting for a position it now covers. */
  advance(position: number): void {
    this.current = position;
    const ready = this.waiters.filter((w) => w.position <= position);
    this.waiters = this.waiters.filter((w) => w.position > position);
    for (const w of ready) w.resolve();
  }

  /** Resolves true once the checkpoint reaches `position`, false after the timeout. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    if (this.current >= position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(this.current >= position);
      }, timeoutMs);
      const waiter = {
        position,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.waiters.push(waiter);
    });
  }
}
