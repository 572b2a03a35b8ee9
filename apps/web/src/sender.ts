import { problemOf, request, Unreachable } from './api';
import { queue, type QueuedEntry } from './store';

export type SendOutcome = 'sent' | 'refused' | 'unreachable' | 'signed-out' | 'try-later';

/**
 * Sends one saved entry. The body is the one saved, key and bedside time included, so sending it
 * again (a retry after a lost answer, a second tab) is a replay the server stores once.
 */
export const sendEntry = async (entry: QueuedEntry, token: string): Promise<SendOutcome> => {
  let response: Response;
  try {
    response = await request(entry.path, token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(entry.body) });
  } catch (error) {
    if (error instanceof Unreachable) return 'unreachable';
    throw error;
  }
  entry.attempts += 1;
  if (response.ok) {
    entry.state = 'sent';
    entry.sentAt = new Date().toISOString();
    try {
      entry.reply = (await response.json()) as Record<string, unknown>;
    } catch {
      entry.reply = {};
    }
    delete entry.problem;
    await queue.put(entry);
    return 'sent';
  }
  // Her sign-in ran out: the entry waits, untouched, until she signs in again.
  if (response.status === 401) return 'signed-out';
  // The server is busy or failing: try again later, never drop.
  if (response.status >= 500 || response.status === 429 || response.status === 408) {
    await queue.put(entry);
    return 'try-later';
  }
  // Refused (a value out of range, a delegation suspended meanwhile): kept, shown with the reason.
  entry.state = 'refused';
  entry.problem = await problemOf(response);
  await queue.put(entry);
  return 'refused';
};

let flushing: Promise<void> | undefined;

/**
 * Sends every waiting entry of this care worker, oldest first, one at a time; stops at the first
 * that cannot reach the server (the rest keep their order). One flush at a time in a tab.
 */
export const flushQueue = (token: string, owner: string, onChange: () => void): Promise<void> => {
  flushing ??= (async () => {
    try {
      for (const entry of await queue.all()) {
        if (entry.state !== 'waiting' || entry.owner !== owner) continue;
        const outcome = await sendEntry(entry, token);
        onChange();
        if (outcome === 'unreachable' || outcome === 'signed-out' || outcome === 'try-later') break;
      }
    } finally {
      flushing = undefined;
    }
  })();
  return flushing;
};
