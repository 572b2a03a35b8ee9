import type { RecordedEvent } from '@tandem/event-store';
import type { Annotation, Extension, FhirResource, HumanName, Reference } from 'fhir/r4';
import type { HumanName as ContractHumanName } from '@tandem/contracts';
import type { EntryChange } from '../entries';
import type { FhirReads, IndexedResource, ResourceKey } from '../writer';
import { LATE_ENTRY_EXTENSION, LATE_ENTRY_MINUTES } from './codes';

/**
 * Maps one event to the resources it changes (each written as a new version at the event's
 * position). Handlers may read the current read model through `reads` but never write: the
 * projection writes what they return. A care entry's handlers are given what the event made of the
 * entry (`entry`, folded by the contracts' one function), and render its resources from that alone.
 */
export type FhirHandler = (event: RecordedEvent, reads: FhirReads, entry?: EntryChange) => Promise<readonly IndexedResource[]>;
export type FhirHandlers = Readonly<Record<string, FhirHandler>>;

/** The resources a handler will read for an event, loaded for the whole batch in one query beforehand. */
export type FhirReadKeys = Readonly<Record<string, (event: RecordedEvent) => readonly ResourceKey[]>>;

/** The typed data of an event a handler is registered for (validated by the store on read). */
export const dataOf = <Data>(event: RecordedEvent): Data => event.data as Data;

export const patientRef = (patientId: string): Reference => ({ reference: `Patient/${patientId}` });
export const practitionerRef = (practitionerId: string): Reference => ({ reference: `Practitioner/${practitionerId}` });
export const organizationRef = (organisationId: string): Reference => ({ reference: `Organization/${organisationId}` });

/** Who recorded an event, as a FHIR reference: every user is a Practitioner (care workers too). */
export const actorRef = (event: RecordedEvent): Reference => practitionerRef(event.metadata.actor.id);

const FHIR_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 date-time as a FHIR dateTime (seconds and a colon in the offset are required). */
export const fhirDateTime = (value: string): string => (FHIR_DATE_TIME.test(value) ? value : new Date(value).toISOString());

/** NMC Code 10.1: an entry written more than an hour after the event says so. */
export const isLateEntry = (occurredAt: string, recordedAt: string): boolean =>
  Date.parse(recordedAt) - Date.parse(occurredAt) > LATE_ENTRY_MINUTES * 60_000;

export const lateEntryExtension = (): Extension => ({ url: LATE_ENTRY_EXTENSION, valueBoolean: true });

export const lateEntryExtensions = (event: RecordedEvent): Extension[] | undefined =>
  isLateEntry(event.metadata.occurredAt, event.metadata.recordedAt) ? [lateEntryExtension()] : undefined;

/** A note written by `by` at `at` (a correction or flag as the current entry holds it). */
export const noteBy = (by: { id: string } | undefined, at: string | undefined, text: string): Annotation =>
  compact({ authorReference: by ? practitionerRef(by.id) : undefined, time: at ? fhirDateTime(at) : undefined, text });

/** A note written by the event's actor when the event was recorded. */
export const noteFrom = (event: RecordedEvent, text: string): Annotation => ({
  authorReference: actorRef(event),
  time: fhirDateTime(event.metadata.recordedAt),
  text,
});

export const humanName = (name: ContractHumanName): HumanName => ({
  use: 'official',
  family: name.family,
  given: [...name.given],
  ...(name.prefix ? { prefix: [name.prefix] } : {}),
});

/**
 * The `name_text` search column: every word of every name part, lower-cased, between spaces. The
 * leading space matters: the search is `like '% <text>%'`, so any word can start a match.
 */
export const nameText = (parts: readonly (string | undefined)[]): string => {
  const words = parts.flatMap((p) => (p ? p.toLowerCase().split(/\s+/).filter(Boolean) : []));
  return ` ${words.join(' ')} `;
};

export const humanNameText = (names: readonly HumanName[] | undefined): string =>
  nameText((names ?? []).flatMap((n) => [...(n.prefix ?? []), ...(n.given ?? []), n.family, n.text]));

/** Drops keys whose value is undefined, so bodies stay clean JSON (and compare by value). */
export const compact = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

/** A body read back from the read model, without the meta the writer adds to each version. */
export const withoutMeta = <R extends FhirResource>(resource: R): R => {
  const { meta: _meta, ...rest } = resource;
  return rest as R;
};
