import type { ExpectedRevision } from './contract';

export interface FieldIssue {
  /** Where the problem is, as a dotted path (e.g. `events[0].data.spo2`). */
  readonly field: string;
  readonly message: string;
}

/** Base of every error the store raises on purpose; `code` is stable for API mapping. */
export abstract class EventStoreError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class WrongExpectedRevision extends EventStoreError {
  readonly code = 'wrong-expected-revision';
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    /** The stream's current revision, or `no_stream`. */
    readonly actual: number | 'no_stream',
  ) {
    super(`Stream ${stream}: expected revision ${String(expected)}, actual ${String(actual)}`);
  }
}

/** Some but not all of the event ids in an append are already stored: not a clean retry. */
export class IdempotencyConflict extends EventStoreError {
  readonly code = 'idempotency-conflict';
  constructor(readonly stream: string, readonly eventIds: readonly string[]) {
    super(`Stream ${stream}: events ${eventIds.join(', ')} are already stored but the append does not match that earlier append`);
  }
}

/** The append breaks a rule (stream name, event shape, data schema); nothing was stored. */
export class InvalidAppend extends EventStoreError {
  readonly code = 'invalid-append';
  constructor(readonly issues: readonly FieldIssue[]) {
    super(`Invalid append: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  }
}

/** An event read back does not match its contract: the store or a schema has drifted. */
export class InvalidStoredEvent extends EventStoreError {
  readonly code = 'invalid-stored-event';
  constructor(readonly stream: string, readonly revision: number, readonly issues: readonly FieldIssue[]) {
    super(`Stored event ${stream}@${revision} is invalid: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  }
}
