import { cellulitisEronClassI } from './cellulitis';
import { insulinAdministration } from './insulin';
import type { FrameworkDefinition } from './schema';
import { suspectedUti65Plus } from './uti';
import { wholeRecordRules, WHOLE_RECORD_RULESET_ID } from './whole-record';

export * from './schema';
export * from './resolve';
export * from './vocabulary';
export * from './shared';
export * from './care-visits';
export * from './medicines';
export { insulinAdministration, suspectedUti65Plus, cellulitisEronClassI, wholeRecordRules, WHOLE_RECORD_RULESET_ID };

/** The frameworks Tandem ships, by id. Another framework is one more entry here (data and tests). */
export const shippedFrameworks: Readonly<Record<string, FrameworkDefinition>> = {
  [insulinAdministration.id]: insulinAdministration,
  [suspectedUti65Plus.id]: suspectedUti65Plus,
  [cellulitisEronClassI.id]: cellulitisEronClassI,
};
