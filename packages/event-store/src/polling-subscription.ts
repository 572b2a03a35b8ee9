import type { RecordedEvent, SubscribeOptions } from './contract';

/** This process's appends: how many so far, and a wait for the next (see AppendSignal). */
export interface LocalAppends {
  readonly count: number;
  wait(timeoutMs: number, signal?: AbortSignal, seen?: number): Promise<void>;
}

/**
 * Catch-up then live, built on readAll: one page at a time, pulled by the consumer, so a slow
 * handler slows the reads and memory holds at most one page. An append this process made while a
 * page was read or handled is read at once, not after the next poll (on the embedded store a
 * poll is a second: every command's follow-ups and read-your-writes waited for it).
 */
export async function* pollingSubscription(
  readAll: (fromPosition: number, maxCount: number) => Promise<RecordedEvent[]>,
  appends: LocalAppends,
  options: SubscribeOptions & { pageSize: number; pollIntervalMs: number },
): AsyncGenerator<RecordedEvent> {
  let checkpoint = options.after ?? -1;
  while (!options.signal?.aborted) {
    const seen = appends.count;
    const page = await readAll(checkpoint + 1, options.pageSize);
    for (const event of page) {
      if (options.signal?.aborted) return;
      yield event;
      checkpoint = event.position;
    }
    if (page.length < options.pageSize) await appends.wait(options.pollIntervalMs, options.signal, seen);
  }
}
