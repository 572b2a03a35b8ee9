/**
 * Wakes local subscriptions as soon as this process appends, so live delivery does not wait for
 * the next poll; the poll still catches appends made by other processes.
 */
export class AppendSignal {
  private waiters = new Set<() => void>();
  private appends = 0;

  /** How many appends this process has made: a subscriber notes it before it reads a page. */
  get count(): number {
    return this.appends;
  }

  notify(): void {
    this.appends++;
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /**
   * Resolves at the next append, at the timeout, or on abort; at once when an append came after
   * `seen` (the count when the caller read), which it would otherwise sleep through: the page it
   * read may have been taken just before that append committed.
   */
  wait(timeoutMs: number, signal?: AbortSignal, seen?: number): Promise<void> {
    if (seen !== undefined && seen !== this.appends) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
