import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

/**
 * What stays on the phone, in IndexedDB: the entries she has saved but not yet sent (the queue),
 * what she is typing (drafts), and her day as last read (so the app opens with no signal). A
 * closed tab, a crash, a flat battery or a sign-in that ran out loses none of it (hazard H41).
 */
export type EntryState = 'waiting' | 'sent' | 'refused';

export interface Problem {
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  /** What a 409 asks to be confirmed (e.g. insulin.possible-duplicate). */
  readonly code?: string;
  readonly errors?: readonly { field: string; message: string }[];
}

export interface QueuedEntry {
  /** The idempotency key, made when she first saved: a retry sends the same key and body, so it is stored once. */
  readonly idempotencyKey: string;
  /** Whose entry it is (her user id): only she sends it, never whoever signs in next on the same phone. */
  readonly owner: string;
  readonly patientId: string;
  readonly patientName: string;
  readonly kind: 'vital-signs' | 'blood-glucose' | 'insulin-administrations' | 'insulin-withheld' | 'notes' | 'soft-signs' | 'urinary-symptoms' | 'fluid-intake' | 'cellulitis-checks' | 'amendment' | 'entered-in-error' | 'prompt-acknowledgement' | 'escalation-acknowledgement';
  /** A correction's original: the idempotency key of her entry it amends or marks entered in error. */
  readonly corrects?: string;
  /** The prompt or escalation acknowledged (acknowledgements only). */
  readonly promptId?: string;
  readonly path: string;
  /** The command exactly as it will be sent (with its key and bedside occurredAt). */
  readonly body: Readonly<Record<string, unknown>>;
  readonly savedAt: string;
  state: EntryState;
  attempts: number;
  sentAt?: string;
  reply?: Record<string, unknown>;
  problem?: Problem;
}

export interface Draft {
  readonly id: string;
  readonly values: Record<string, string>;
  readonly updatedAt: string;
}

export interface DayCache {
  readonly id: string;
  readonly fetchedAt: string;
  readonly data: unknown;
}

interface TandemDb extends DBSchema {
  queue: { key: string; value: QueuedEntry; indexes: { savedAt: string } };
  drafts: { key: string; value: Draft };
  cache: { key: string; value: DayCache };
}

let db: Promise<IDBPDatabase<TandemDb>> | undefined;
const open = () =>
  (db ??= openDB<TandemDb>('tandem', 1, {
    upgrade(database) {
      const queue = database.createObjectStore('queue', { keyPath: 'idempotencyKey' });
      queue.createIndex('savedAt', 'savedAt');
      database.createObjectStore('drafts', { keyPath: 'id' });
      database.createObjectStore('cache', { keyPath: 'id' });
    },
  }));

export const queue = {
  /** Every entry, oldest first: they are sent in the order she saved them. */
  all: async (): Promise<QueuedEntry[]> => (await open()).getAllFromIndex('queue', 'savedAt'),
  get: async (key: string) => (await open()).get('queue', key),
  put: async (entry: QueuedEntry) => void (await (await open()).put('queue', entry)),
  remove: async (key: string) => (await open()).delete('queue', key),
};

export const drafts = {
  get: async (id: string) => (await open()).get('drafts', id),
  put: async (draft: Draft) => void (await (await open()).put('drafts', draft)),
  remove: async (id: string) => (await open()).delete('drafts', id),
};

export const cache = {
  get: async (id: string) => (await open()).get('cache', id),
  put: async (entry: DayCache) => void (await (await open()).put('cache', entry)),
  remove: async (id: string) => (await open()).delete('cache', id),
};
