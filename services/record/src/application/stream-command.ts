/**
 * @deprecated Stream command handling moved to @tandem/commands (issue 12 item 5, ADR 0018): import
 * it from there. Re-exported here for one session so other imports keep working.
 */
export { commandDigest, executeStreamCommand, IdempotencyKeyReused, type CommandMeta, type CommandResult, type StreamCommand } from '@tandem/commands';
