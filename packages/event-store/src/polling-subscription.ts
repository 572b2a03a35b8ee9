import type { RecordedEvent, SubscribeOptions } from './contract';

/**
 * Catch-up then live, built on readAll: one page at a time, pulled by the consumer, so a slow
 * handler slows the reads and memory holds at most one page.
 */
export async function* pollingSubscription(
  readAll: (fromPosition: number, maxCount: number) => Promise<RecordedEvent[]>,
  waitForAppend: (timeoutMs: number, signal?: AbortSignal) => Promise<void>,
  options: SubscribeOptions & { pageSize: number; pollIntervalMs: number },
): AsyncGenerator<RecordedEvent> {
  let checkpoint = options.after ?? -1;
  while (!options.signal?.aborted) {
    const page = await readAll(checkpoint + 1, options.pageSize);
    for (const event of page) {
      if (options.signal?.aborted) return;
      yield event;
      checkpoint = event.position;
    }
    if (page.length < options.pageSize) await waitForAppend(options.pollIntervalMs, options.signal);
  }
}
