import { isAuditStream } from '@tandem/contracts';
import type { EventStore } from '@tandem/event-store';

/**
 * The events after `position` that changed the record, as `stream type`: everything but the
 * access trail, which rightly records a refused attempt too. "Stores nothing" means this is empty.
 */
export const recordChangesSince = async (store: EventStore, position: number): Promise<string[]> =>
  (await store.readAll({ fromPosition: position + 1, maxCount: 10_000 })).filter((e) => !isAuditStream(e.stream)).map((e) => `${e.stream} ${e.type}`);
