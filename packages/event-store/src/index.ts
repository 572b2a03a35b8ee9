export * from './contract';
export * from './errors';
export type { EventStoreBackend, StorableEvent } from './backend';
export { MAX_EVENTS_PER_APPEND } from './backend';
export { streamNameProblem, STREAM_NAME_MAX_LENGTH } from './stream-name';
export { validatedStore } from './validated-store';
export { pgliteBackend, pgliteDriver } from './sql/pglite';
export { postgresBackend, postgresPool, postgresDriver } from './sql/postgres';
export { sqlBackend } from './sql/sql-backend';
export type { QueryOptions, SqlDriver, SqlQueryable } from './sql/driver';
export { eventStoreDbBackend } from './eventstoredb';
export { withStreamCache } from './stream-cache';
export { verifyEventLog, type TamperFinding, type VerifyOptions, type VerifyReport } from './sql/verify';
export {
  DEFAULT_MAX_EVENTS_PER_DIGEST,
  latestDigest,
  sealDigest,
  startDigestSealer,
  verifyDigests,
  type DigestAnchor,
  type DigestFinding,
  type DigestLogger,
  type DigestReport,
  type DigestSealer,
  type DigestSealerOptions,
  type SealedDigest,
  type SealOptions,
  type SealResult,
} from './sql/digest';
export { Checkpoint } from './checkpoint';
