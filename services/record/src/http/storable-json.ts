/** @deprecated Moved to @tandem/commands (ADR 0018); re-exported here for one session. */
export { storableJson } from '@tandem/commands';
