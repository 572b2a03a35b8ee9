import type { CareRecordEvent, ScreenUrinarySymptoms } from '@tandem/contracts';
import type { CareState } from './care-state';
import type { CareContext } from './context';
import { assertBedsideTime } from './time';

/**
 * Suspected UTI at 65 and over (UKHSA): the signs observed, the sepsis or pyelonephritis signs
 * looked for first, and the catheter. Never a dipstick result; diagnosis stays with clinicians.
 */
export const screenUrinarySymptoms = (cmd: ScreenUrinarySymptoms, _state: CareState, context: CareContext): CareRecordEvent[] => {
  assertBedsideTime(cmd, context.now);
  return [
    {
      type: 'UrinarySymptomsScreened',
      data: { patientId: cmd.patientId, signs: cmd.signs, sepsisSigns: cmd.sepsisSigns, catheter: cmd.catheter },
    },
  ];
};
