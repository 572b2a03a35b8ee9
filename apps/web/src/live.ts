import type { LiveMessage } from '@tandem/contracts';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * The live stream (GET /api/events/stream, server-sent events) read with fetch, so the token goes
 * in the Authorization header as on every other request (EventSource cannot send one, and a token
 * in a URL would land in logs). eventsource-parser reads the frames. Each message only says that an
 * escalation or prompt about one of her people changed, and where in the log: the app reads its
 * lists again with X-Tandem-Min-Position at that position. On `ready` (every connection, the first
 * and each reconnection) it reads them too, so nothing that happened while disconnected is missed.
 */
export type { LiveMessage };

export interface LiveHandlers {
  readonly onReady: (position: number) => void;
  readonly onMessage: (message: LiveMessage) => void;
  /** The server refused the token (401): the stream stops until she signs in again. */
  readonly onSignedOut: () => void;
}

const isMessage = (value: unknown): value is LiveMessage => {
  const m = value as Partial<LiveMessage> | null;
  return typeof m === 'object' && m !== null && (m.kind === 'escalation' || m.kind === 'prompt') && typeof m.id === 'string' && typeof m.patientId === 'string' && typeof m.position === 'number';
};

/** Connects and keeps connecting (backing off to 30 s) until stopped; returns the stop. */
export const openLiveStream = (token: () => string | undefined, handlers: LiveHandlers): (() => void) => {
  const abort = new AbortController();
  let wait = 1000;
  const run = async () => {
    while (!abort.signal.aborted) {
      const bearer = token();
      if (!bearer) return;
      try {
        const response = await fetch('/api/events/stream', { headers: { accept: 'text/event-stream', authorization: `Bearer ${bearer}` }, signal: abort.signal, cache: 'no-store' });
        if (response.status === 401) return handlers.onSignedOut();
        if (response.ok && response.body) {
          const parser = createParser({
            onEvent: (event: EventSourceMessage) => {
              let data: unknown;
              try {
                data = JSON.parse(event.data);
              } catch {
                return;
              }
              if (event.event === 'ready') {
                wait = 1000;
                handlers.onReady(typeof (data as { position?: unknown }).position === 'number' ? (data as { position: number }).position : 0);
              } else if (isMessage(data)) handlers.onMessage(data);
            },
          });
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            parser.feed(value);
          }
        }
      } catch {
        // No signal, or the server went away: try again after a pause.
      }
      if (abort.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(30_000, wait * 2);
    }
  };
  void run();
  return () => abort.abort();
};
