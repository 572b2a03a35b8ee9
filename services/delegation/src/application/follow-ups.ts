import type { EventStore } from '@tandem/event-store';
import { parseStreamName } from './streams';

/**
 * The prompts and escalations a care entry started, for the answer to the request that recorded
 * it (issue 9.2): the care worker's screen shows them at once.
 *
 * The delegation service's reactions run asynchronously, from the log. Every prompt or escalation
 * a reaction starts for an entry is a command traced to that entry (causationId: the entry's event
 * id; see reactions/care.ts), and a reaction finishes before the reactions' checkpoint passes the
 * entry. So: wait, bounded, for the checkpoint to pass the entry's position; then read the log
 * between the entry and the head for the first event of an `escalation-` or `prompt-` stream caused
 * by it. Keyed on the triggering event id, not on which rules exist or who has a delegation, so it
 * holds whatever rules the reactions run. Read-only: it never decides anything.
 *
 * When the reactions have not passed the entry in time, or the log after it is longer than the
 * bound, the answer is `pending`: follow-ups may still start, never "none".
 */

export interface FollowUpsOptions {
  /** How long the answer waits for the reactions (ms). */
  readonly timeoutMs?: number;
  /** At most this many events after the entry are read to find them. */
  readonly maxEvents?: number;
}

export interface FollowUps {
  readonly promptIds: string[];
  readonly escalationIds: string[];
  /** True when the rules had not finished with the entry in time (or too much came after it). */
  readonly pending: boolean;
}

export const FOLLOW_UPS_TIMEOUT_MS = 2_000;
const PAGE = 500;

/** The events that start an escalation or a prompt stream. */
const STARTS: ReadonlySet<string> = new Set(['EscalationRaised', 'CarePromptIssued']);

export const followUpsOf =
  (deps: { readonly store: EventStore; readonly reactions: { waitFor(position: number, timeoutMs: number): Promise<boolean> } }, options: FollowUpsOptions = {}) =>
  async (entry: { readonly eventIds: readonly string[]; readonly position: number }): Promise<FollowUps> => {
    const timeoutMs = options.timeoutMs ?? FOLLOW_UPS_TIMEOUT_MS;
    const maxEvents = options.maxEvents ?? 10_000;
    const causes = new Set(entry.eventIds);
    const found: FollowUps = { promptIds: [], escalationIds: [], pending: false };
    if (!(await deps.reactions.waitFor(entry.position, timeoutMs))) return { ...found, pending: true };
    // Everything the reactions appended for the entry was stored before the checkpoint passed it.
    const head = await deps.store.headPosition();
    let from = entry.position + 1;
    for (let read = 0; from <= head; ) {
      if (read >= maxEvents) return { ...found, pending: true };
      const page = await deps.store.readAll({ fromPosition: from, maxCount: PAGE });
      if (page.length === 0) break;
      for (const event of page) {
        if (event.position > head) break;
        if (!STARTS.has(event.type) || !event.metadata.causationId || !causes.has(event.metadata.causationId)) continue;
        const name = parseStreamName(event.stream);
        if (name?.kind === 'escalation' && !found.escalationIds.includes(name.escalationId)) found.escalationIds.push(name.escalationId);
        if (name?.kind === 'prompt' && !found.promptIds.includes(name.promptId)) found.promptIds.push(name.promptId);
      }
      read += page.length;
      from = page[page.length - 1]!.position + 1;
    }
    return found;
  };
