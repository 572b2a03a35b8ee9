import type { CareRecordEvent, RecordFluidIntake } from '@tandem/contracts';
import type { CareState } from './care-state';
import type { CareContext } from './context';
import { assertBedsideTime } from './time';

/** One drink on the fluid chart. */
export const recordFluidIntake = (cmd: RecordFluidIntake, _state: CareState, context: CareContext): CareRecordEvent[] => {
  assertBedsideTime(cmd, context.now);
  return [{ type: 'FluidIntakeRecorded', data: { patientId: cmd.patientId, volumeMl: cmd.volumeMl, drink: cmd.drink } }];
};
