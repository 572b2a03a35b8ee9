export * from './decider';
export * from './people';
export * from './competence';
export * from './delegation';
export * from './escalation';

/**
 * A stored event (as the event store returns it, already decoded against its contract) as a
 * machine takes it: its type, its data and the bedside time from its metadata.
 */
export const timedFromStored = <Event extends { type: string; data: unknown }>(stored: {
  readonly type: string;
  readonly data: unknown;
  readonly metadata: { readonly occurredAt: string };
}): Event & { occurredAt: string } => ({ type: stored.type, data: stored.data, occurredAt: stored.metadata.occurredAt }) as unknown as Event & { occurredAt: string };
