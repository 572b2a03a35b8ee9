import type { EventMetadata, RecordedMetadata } from '@tandem/contracts';

/** `any`: no check; `no_stream`: the stream must not exist; `exists`: it must; a number: its current revision. */
export type ExpectedRevision = 'any' | 'no_stream' | 'exists' | number;

/** An event as a caller proposes it. The id is the caller's: a retried append with the same id is a no-op. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  readonly id: string;
  readonly type: Type;
  readonly data: Data;
  readonly metadata: EventMetadata;
}

/** An event as the store holds it. */
export interface RecordedEvent<Type extends string = string, Data = unknown> {
  readonly id: string;
  readonly stream: string;
  /** 0-based position of the event inside its stream. */
  readonly revision: number;
  /** Position in the global log: strictly increasing in the order every reader sees; not dense. */
  readonly position: number;
  readonly type: Type;
  readonly schemaVersion: number;
  readonly data: Data;
  readonly metadata: RecordedMetadata;
}

export interface AppendResult {
  /** The stream's revision after the append (the revision of its last event). */
  readonly nextRevision: number;
  /** Global position of the last event appended. */
  readonly position: number;
}

export interface ReadStreamOptions {
  readonly fromRevision?: number;
  readonly direction?: 'forwards' | 'backwards';
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** Inclusive; 0 reads from the start of the log. */
  readonly fromPosition?: number;
  readonly maxCount?: number;
}

export interface SubscribeOptions {
  /** Exclusive: the last position already handled (a checkpoint). Omitted: from the start. */
  readonly after?: number;
  readonly signal?: AbortSignal;
}

export type StoreMode = 'pglite' | 'postgres' | 'eventstoredb';

/**
 * The one event store contract every back end honours. The conformance suite in
 * test/conformance.ts holds each back end to it.
 */
export interface EventStore {
  readonly mode: StoreMode;
  append(stream: string, events: readonly NewEvent[], options: { expectedRevision: ExpectedRevision }): Promise<AppendResult>;
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * Stored events after the checkpoint, then live ones, in global order, each once. The consumer
   * pulls: a slow consumer slows the subscription, which holds at most one page in memory.
   */
  subscribeToAll(options?: SubscribeOptions): AsyncIterable<RecordedEvent>;
  /** Position of the newest event a reader can see (0 when the log is empty). */
  headPosition(): Promise<number>;
  close(): Promise<void>;
}
