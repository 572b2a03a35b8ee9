import type { CareRecordEvent, RecordBloodGlucose } from '@tandem/contracts';
import type { CareState } from './care-state';
import { compact } from './compact';
import type { CareContext } from './context';
import { assertBedsideTime } from './time';

/**
 * Records a capillary blood glucose (and blood ketones where measured). Low and high readings are
 * recorded like any other: the framework's rules escalate them; the record never refuses a fact.
 */
export const recordBloodGlucose = (cmd: RecordBloodGlucose, _state: CareState, context: CareContext): CareRecordEvent[] => {
  assertBedsideTime(cmd, context.now);
  return [
    {
      type: 'BloodGlucoseRecorded',
      data: compact({ patientId: cmd.patientId, glucoseMmolL: cmd.glucoseMmolL, ketonesMmolL: cmd.ketonesMmolL, relationToMeal: cmd.relationToMeal }),
    },
  ];
};
