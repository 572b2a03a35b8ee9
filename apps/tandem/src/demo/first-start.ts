import type { DelegationCommands } from '@tandem/delegation';
import { seedDemoRotas } from './demo-data';
import { seedDemoInsulinDelegation } from './insulin-delegation';

/**
 * The delegation service's side of the demo loaded at first start, after the record
 * (seedDemoData): the on-call rotas, and Mr Jones's evening insulin delegated to Amira by Sarah
 * (trained, supervised, signed off, agreed, accepted, active), so what the README and issue 10's
 * "Done when" walk through is there on a fresh `npm start`. Through commands only.
 */
export const seedDemoDelegationSide = async (commands: DelegationCommands, o: { patientIds: readonly string[]; now: Date }): Promise<void> => {
  await seedDemoRotas(commands);
  // The demo's first person is Mr Arthur Jones, on insulin, in Amira's care (seedDemoData).
  const jones = o.patientIds[0];
  if (jones) await seedDemoInsulinDelegation(commands, { patientId: jones, now: o.now });
};
