import type { DelegationCommands } from '../application/commands';
import { isDelegationActive } from '../machines';

/**
 * When the delegation became active (its latest activation), if it is active: read from its
 * stream, for the scheduler deciding whether a repeating check was missed. (When each check is
 * next due is kept by the projection: reactions/projection.ts.)
 */
export const activeSince = async (commands: DelegationCommands, delegationId: string): Promise<{ since: string; framework: ReturnType<DelegationCommands['framework']>; patientId: string } | undefined> => {
  const loaded = await commands.loadDelegation(delegationId);
  if (!loaded || !isDelegationActive(loaded.state) || !loaded.state.context.patientId) return undefined;
  const activated = [...loaded.events].reverse().find((e) => e.type === 'DelegationActivated');
  return activated ? { since: activated.metadata.occurredAt, framework: loaded.framework, patientId: loaded.state.context.patientId } : undefined;
};
