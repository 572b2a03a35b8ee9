import { randomUUID } from 'node:crypto';
import {
  DEFAULT_BASELINE,
  insulinProductOf,
  streamName,
  uuidV5,
  type Actor,
  type CareRecordEvent,
  type MedicinesStreamEvent,
  type PatientEvent,
  type PatientRegisteredData,
  type PractitionerRegisteredData,
} from '@tandem/contracts';
import type { EventStore } from '@tandem/event-store';

/**
 * The care record's side of a delegation story, as given events: what the record service would
 * have appended for a registration, a care-team member or a bedside entry, appended straight to its
 * streams. The delegation service reads only those events (never the record's code), so its tests
 * give them rather than run the record (issue 12: services/delegation imports nothing from
 * services/record). The store is the validated one, so every event given here must pass its
 * contract in @tandem/contracts, as the record's own would.
 */

/** What an append answered, in the shape the tests read from a command's result. */
export interface Given {
  readonly eventIds: string[];
  readonly eventTypes: string[];
  readonly position: number;
}

/** A fixed namespace: one NHS number is one person in every harness (as the record's id secret makes it). */
const PATIENT_ID_NAMESPACE = '6f1c2a9e-0d4b-4c77-9a51-2b8e6c3d7f10';

type CareEntry = CareRecordEvent;
type EntryData<Type extends CareEntry['type']> = Extract<CareEntry, { type: Type }>['data'];

export class GivenCareRecord {
  constructor(
    private readonly store: EventStore,
    private readonly now: () => string,
  ) {}

  /** The events as `command` by `actor` would have recorded them, appended to one stream. */
  private async append(stream: string, command: string, actor: Actor, events: readonly { type: string; data: unknown }[]): Promise<Given> {
    const correlationId = randomUUID();
    const recorded = events.map((event) => ({
      id: randomUUID(),
      type: event.type,
      data: event.data,
      metadata: { actor, correlationId, occurredAt: this.now(), idempotencyKey: `given-${randomUUID()}`, command },
    }));
    const { position } = await this.store.append(stream, recorded, { expectedRevision: 'any' });
    return { eventIds: recorded.map((e) => e.id), eventTypes: recorded.map((e) => e.type), position };
  }

  /** PatientRegistered on `patient-<id>` (the record's baseline default: SpO2 scale 1). */
  async patientRegistered(details: Omit<PatientRegisteredData, 'patientId' | 'baseline'>, by: Actor): Promise<Given & { patientId: string }> {
    const patientId = uuidV5(PATIENT_ID_NAMESPACE, details.nhsNumber);
    const data: PatientRegisteredData = { patientId, ...details, baseline: DEFAULT_BASELINE };
    const given = await this.append(streamName.patient(patientId), 'RegisterPatient', by, [{ type: 'PatientRegistered', data }]);
    return { ...given, patientId };
  }

  /** PractitionerRegistered on `practitioner-<id>`. */
  practitionerRegistered(data: PractitionerRegisteredData, by: Actor): Promise<Given> {
    return this.append(streamName.practitioner(data.practitionerId), 'RegisterPractitioner', by, [{ type: 'PractitionerRegistered', data }]);
  }

  /** CareTeamMemberAdded on the person's `patient-<id>` stream. */
  careTeamMemberAdded(data: Extract<PatientEvent, { type: 'CareTeamMemberAdded' }>['data'], by: Actor): Promise<Given> {
    return this.append(streamName.patient(data.patientId), 'AddCareTeamMember', by, [{ type: 'CareTeamMemberAdded', data }]);
  }

  /** One bedside entry on the person's `care-<id>` stream, recorded by `by` as `command`. */
  entry<Type extends CareEntry['type']>(type: Type, data: EntryData<Type>, by: Actor, command: string): Promise<Given> {
    return this.append(streamName.care(data.patientId), command, by, [{ type, data }]);
  }

  /** A pen dose as the record stores it: the product's code beside its name, the unit the word "units". */
  insulinAdministered(data: Omit<EntryData<'InsulinAdministered'>, 'productCode'>, by: Actor): Promise<Given> {
    const code = insulinProductOf(data.product)?.code;
    // The record flags an unknown product only once confirmed; these stories give known pens.
    if (!code) throw new Error(`${data.product} is not a product the record knows: give a known pen`);
    return this.entry('InsulinAdministered', { ...data, productCode: code }, by, 'RecordInsulinAdministered');
  }

  /** An event of the person's `medicines-<id>` stream (an order prescribed, changed or stopped), as the record's PrescribeMedication and its kin append it. */
  medicines<Type extends MedicinesStreamEvent['type']>(type: Type, data: Extract<MedicinesStreamEvent, { type: Type }>['data'], by: Actor, command: string): Promise<Given> {
    return this.append(streamName.medicines(data.patientId), command, by, [{ type, data }]);
  }
}
