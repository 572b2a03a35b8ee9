import type { Actor } from '@tandem/contracts';
import type { EventStore, RecordedEvent } from '@tandem/event-store';
import type { DelegationCommands } from '../application/commands';
import type { Clock } from '../application/clock';
import type { CareStreamEvent } from '../rules';
import type { DelegationViews } from './read-model';

/**
 * What a reaction needs: the command edge (deciding on the streams), the read model as of the
 * event (to look candidates up: no stream lists a person's delegations), and the clock.
 */
export interface ReactionContext {
  readonly store: EventStore;
  readonly commands: DelegationCommands;
  readonly views: DelegationViews;
  readonly clock: Clock;
}

/** A stored care-stream event as the rules read it. */
export const careStreamEvent = (event: RecordedEvent): CareStreamEvent =>
  ({ id: event.id, type: event.type, data: event.data, occurredAt: event.metadata.occurredAt, recordedBy: event.metadata.actor as Actor }) as unknown as CareStreamEvent;

/** Delegation states in which the care worker may perform the activity. */
export const ACTIVE_STATUSES: readonly string[] = ['active', 'reviewDue'];
