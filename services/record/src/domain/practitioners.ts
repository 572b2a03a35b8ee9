import type { OrganisationEvent, PractitionerEvent, RegisterOrganisation, RegisterPractitioner } from '@tandem/contracts';
import { compact } from './compact';
import type { PatientContext } from './patient';
import { assertNotInFuture } from './time';

/**
 * Practitioners (`practitioner-<id>`) and organisations (`organisation-<id>`). A district nurse's
 * NMC and a GP's GMC registration are required by the contract; registering again records nothing.
 */

export interface RegisteredState {
  readonly registered: boolean;
}

export const initialRegisteredState: RegisteredState = { registered: false };

export const evolveRegistered = (state: RegisteredState, event: { type: string }): RegisteredState =>
  event.type === 'PractitionerRegistered' || event.type === 'OrganisationRegistered' ? { registered: true } : state;

export const registerPractitioner = (cmd: RegisterPractitioner, state: RegisteredState, context: PatientContext): PractitionerEvent[] => {
  if (state.registered) return [];
  assertNotInFuture(cmd.occurredAt, context.now);
  const { idempotencyKey: _key, occurredAt: _at, ...data } = cmd;
  return [{ type: 'PractitionerRegistered', data: compact(data) }];
};

export const registerOrganisation = (cmd: RegisterOrganisation, state: RegisteredState, context: PatientContext): OrganisationEvent[] => {
  if (state.registered) return [];
  assertNotInFuture(cmd.occurredAt, context.now);
  const { idempotencyKey: _key, occurredAt: _at, ...data } = cmd;
  return [{ type: 'OrganisationRegistered', data: compact(data) }];
};
