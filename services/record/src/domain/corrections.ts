import {
  INSULIN_UNIT,
  type AmendEntry,
  type CareRecordEvent,
  type MarkEntryEnteredInError,
  type Replacement,
  type ReplacementInput,
} from '@tandem/contracts';
import { entryOf, type CareEntry, type CareState } from './care-state';
import { compact } from './compact';
import type { CareContext } from './context';
import { DomainRuleBroken, StaleEntryVersion } from './errors';
import { assertNotInFuture } from './time';
import { vitalSignsDetails } from './vital-signs';

/**
 * Corrections (NMC Code 10: never falsify, never lose). An entry is amended with a new version or
 * marked entered in error; the earlier versions stay in the stream. Both need a reason, and only
 * an existing entry that is not already entered in error can be corrected.
 */

const assertReason = (reason: string): void => {
  if (reason.trim().length === 0) throw new DomainRuleBroken('correction.reason-required', 'reason', 'a correction must say why it is made');
};

/**
 * The entry a correction names, at the version the person corrected (when they said which): a
 * correction made on a stale copy is refused here, on the stream, whatever any read model shows.
 */
const existingEntry = (state: CareState, entryId: string, expectedVersion: number | undefined): CareEntry => {
  const entry = entryOf(state, entryId);
  if (!entry) {
    throw new DomainRuleBroken('correction.unknown-entry', 'entryId', `no entry ${entryId} in this person's record (name the event that first recorded it)`);
  }
  if (expectedVersion !== undefined && expectedVersion !== entry.version) throw new StaleEntryVersion(`entry ${entry.id}`, expectedVersion, entry.version);
  return entry;
};

/** The stored replacement: the same kind as the original, NEWS2 rescored on the original's SpO2 scale. */
const replacementFor = (input: ReplacementInput, entry: CareEntry): Replacement => {
  const occurredAt = input.occurredAt === undefined ? {} : { occurredAt: input.occurredAt };
  switch (input.type) {
    case 'VitalSignsRecorded': {
      const planScale = entry.type === 'VitalSignsRecorded' ? entry.data.spo2Scale : 1;
      return { type: input.type, data: vitalSignsDetails(input.data, planScale, 'replacement.data.spo2Scale'), ...occurredAt };
    }
    case 'UrinarySymptomsScreened': {
      const { signs, sepsisSigns, catheter } = input.data;
      return { type: input.type, data: { signs, sepsisSigns, catheter }, ...occurredAt };
    }
    case 'InsulinAdministered':
      return { type: input.type, data: compact({ ...input.data, dose: { value: input.data.dose.value, unit: INSULIN_UNIT } }), ...occurredAt };
    case 'InsulinWithheld':
      return { type: input.type, data: { ...input.data, plannedDose: { value: input.data.plannedDose.value, unit: INSULIN_UNIT } }, ...occurredAt };
    default:
      return { type: input.type, data: compact(input.data), ...occurredAt } as Replacement;
  }
};

/** Replaces an entry's content with a new version, keeping the old ones. */
export const amendEntry = (cmd: AmendEntry, state: CareState, context: CareContext): CareRecordEvent[] => {
  // Left out, a correction's own time is now (the edge fills it in from the same clock).
  if (cmd.occurredAt !== undefined) assertNotInFuture(cmd.occurredAt, context.now);
  assertReason(cmd.reason);
  const entry = existingEntry(state, cmd.entryId, cmd.expectedVersion);
  if (entry.enteredInError) {
    throw new DomainRuleBroken(
      'correction.entry-in-error',
      'entryId',
      `entry ${entry.id} was marked entered in error at ${entry.enteredInError.occurredAt}: record a new entry instead of amending it`,
    );
  }
  if (cmd.replacement.type !== entry.type) {
    throw new DomainRuleBroken('correction.kind-mismatch', 'replacement.type', `entry ${entry.id} is ${entry.type}: its replacement must be ${entry.type} too`);
  }
  if (cmd.replacement.occurredAt !== undefined) assertNotInFuture(cmd.replacement.occurredAt, context.now, 'replacement.occurredAt');
  return [
    {
      type: 'EntryAmended',
      data: { patientId: cmd.patientId, entryId: entry.id, reason: cmd.reason, replacement: replacementFor(cmd.replacement, entry) },
    },
  ];
};

/** Marks an entry as entered in error (wrong person, never happened): it stays visible as such. */
export const markEntryEnteredInError = (cmd: MarkEntryEnteredInError, state: CareState, context: CareContext): CareRecordEvent[] => {
  if (cmd.occurredAt !== undefined) assertNotInFuture(cmd.occurredAt, context.now);
  assertReason(cmd.reason);
  const entry = existingEntry(state, cmd.entryId, cmd.expectedVersion);
  if (entry.enteredInError) {
    throw new DomainRuleBroken(
      'correction.already-in-error',
      'entryId',
      `entry ${entry.id} was already marked entered in error at ${entry.enteredInError.occurredAt}`,
    );
  }
  return [{ type: 'EntryMarkedEnteredInError', data: { patientId: cmd.patientId, entryId: entry.id, reason: cmd.reason } }];
};
