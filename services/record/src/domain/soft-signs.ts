import type { CareRecordEvent, RecordSoftSigns } from '@tandem/contracts';
import type { CareState } from './care-state';
import type { CareContext } from './context';
import { assertBedsideTime } from './time';

/**
 * RESTORE2 soft signs, against the person's usual self, and the emergency signs that mean 999 at
 * once (chest pain, stroke signs, prolonged seizure, unresponsive). The escalation rules read them.
 */
export const recordSoftSigns = (cmd: RecordSoftSigns, _state: CareState, context: CareContext): CareRecordEvent[] => {
  assertBedsideTime(cmd, context.now);
  return [{ type: 'SoftSignsRecorded', data: { patientId: cmd.patientId, softSigns: cmd.softSigns, emergencySigns: cmd.emergencySigns } }];
};
