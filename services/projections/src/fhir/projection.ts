import type { Projection } from '../projection';
import { careTeamHandlers } from './mapping/care-team';
import type { FhirHandlers } from './mapping/common';
import { correctionHandlers } from './mapping/corrections';
import { medicationHandlers } from './mapping/medication';
import { observationHandlers } from './mapping/observations';
import { patientHandlers } from './mapping/patient';
import { practitionerHandlers } from './mapping/practitioner';
import { fhirSchemaSql } from './schema';
import { writeResourceVersion } from './writer';

/** Every event type the FHIR read model maps; other types (other services' events) are ignored. */
export const FHIR_HANDLERS: FhirHandlers = {
  ...patientHandlers,
  ...practitionerHandlers,
  ...careTeamHandlers,
  ...observationHandlers,
  ...medicationHandlers,
  ...correctionHandlers,
};

/**
 * The FHIR R4 read model: each event becomes new versions of the resources it changes, written at
 * the event's position (so a replayed event changes nothing) and stamped with its recordedAt.
 */
export const fhirProjection: Projection = {
  name: 'fhir',
  schemaSql: fhirSchemaSql,
  async apply(events, tx) {
    for (const event of events) {
      const handler = Object.hasOwn(FHIR_HANDLERS, event.type) ? FHIR_HANDLERS[event.type] : undefined;
      if (!handler) continue;
      for (const indexed of await handler(event, tx)) {
        await writeResourceVersion(tx, indexed, event.position, event.metadata.recordedAt);
      }
    }
  },
};
