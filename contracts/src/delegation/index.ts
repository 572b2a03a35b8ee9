import type { z } from 'zod';
import type { EventOf } from '../care/common';
import { competenceCommandSchemas, competenceEventDefinitions } from './competence';
import { delegationCommandSchemas, delegationLifecycleEventDefinitions } from './delegation';
import { escalationCommandSchemas, escalationEventDefinitions, rotaEventDefinitions } from './escalation';
import { promptCommandSchemas, promptEventDefinitions } from './prompt';

export * from './common';
export * from './competence';
export * from './delegation';
export * from './escalation';
export * from './prompt';

/**
 * Every event of the delegation service (competency-, delegation-, escalation- and prompt- streams), for
 * `new EventRegistry([...careEventDefinitions, ...delegationEventDefinitions])`.
 */
export const delegationEventDefinitions = [
  ...competenceEventDefinitions,
  ...delegationLifecycleEventDefinitions,
  ...escalationEventDefinitions,
  ...rotaEventDefinitions,
  ...promptEventDefinitions,
] as const;
export type DelegationServiceEvent = EventOf<(typeof delegationEventDefinitions)[number]>;
export type DelegationServiceEventType = DelegationServiceEvent['type'];

/** Every command of the delegation service, by name. */
export const delegationServiceCommandSchemas = {
  ...competenceCommandSchemas,
  ...delegationCommandSchemas,
  ...escalationCommandSchemas,
  ...promptCommandSchemas,
} as const;

/** A command as a decision takes it: its name as `type`, with the parsed fields. */
export type CommandOf<Schemas extends Record<string, z.ZodType>> = {
  [Name in keyof Schemas & string]: { type: Name } & z.infer<Schemas[Name]>;
}[keyof Schemas & string];

export type CompetenceCommand = CommandOf<typeof competenceCommandSchemas>;
export type DelegationCommand = CommandOf<typeof delegationCommandSchemas>;
export type EscalationCommand = CommandOf<typeof escalationCommandSchemas>;
export type PromptCommand = CommandOf<typeof promptCommandSchemas>;
