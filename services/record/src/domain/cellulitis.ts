import type { CareRecordEvent, CheckCellulitis } from '@tandem/contracts';
import type { CareState } from './care-state';
import { compact } from './compact';
import type { CareContext } from './context';
import { assertBedsideTime } from './time';

/**
 * The daily check of a cellulitis (NICE NG141): within or beyond the marked line, pain,
 * temperature, limb elevation, and whether skin tone limits what can be seen.
 */
export const checkCellulitis = (cmd: CheckCellulitis, _state: CareState, context: CareContext): CareRecordEvent[] => {
  assertBedsideTime(cmd, context.now);
  return [
    {
      type: 'CellulitisChecked',
      data: compact({
        patientId: cmd.patientId,
        markedLineDrawn: cmd.markedLineDrawn,
        rednessBeyondMarkedLine: cmd.rednessBeyondMarkedLine,
        pain: cmd.pain,
        temperatureC: cmd.temperatureC,
        limbElevated: cmd.limbElevated,
        skinToneLimitsAssessment: cmd.skinToneLimitsAssessment,
      }),
    },
  ];
};
