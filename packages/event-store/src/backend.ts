import type { AppendResult, ExpectedRevision, ReadAllOptions, ReadStreamOptions, RecordedEvent, StoreMode, SubscribeOptions } from './contract';

/** An event already checked against its contract, with the schema version it was written in. */
export interface StorableEvent {
  readonly id: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: unknown;
  readonly metadata: Record<string, unknown>;
}

/**
 * What a back end implements: storage and ordering only. Validation of names, shapes and
 * schemas lives once, in validated-store.ts, so every back end enforces the same rules.
 */
export interface EventStoreBackend {
  readonly mode: StoreMode;
  append(stream: string, events: readonly StorableEvent[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult>;
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  subscribeToAll(options?: SubscribeOptions): AsyncIterable<RecordedEvent>;
  headPosition(): Promise<number>;
  close(): Promise<void>;
}

/** At most this many events in one append (the SQL position encoding leaves room for 65,536). */
export const MAX_EVENTS_PER_APPEND = 10_000;
export const DEFAULT_PAGE_SIZE = 500;
