import type { CareRecordEvent, WriteNote } from '@tandem/contracts';
import type { CareState } from './care-state';
import type { CareContext } from './context';
import { assertBedsideTime } from './time';

/** A free-text entry, attributed and timed like every other. */
export const writeNote = (cmd: WriteNote, _state: CareState, context: CareContext): CareRecordEvent[] => {
  assertBedsideTime(cmd, context.now);
  return [{ type: 'NoteWritten', data: { patientId: cmd.patientId, text: cmd.text } }];
};
