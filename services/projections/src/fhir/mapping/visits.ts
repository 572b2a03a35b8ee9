import type { PlannedTask, TaskOutcome, VisitCancelledData, VisitCheckedInData, VisitCheckedOutData, VisitPlannedData, VisitReplannedData, VisitRescheduledData } from '@tandem/contracts';
import type { RecordedEvent } from '@tandem/event-store';
import { refKey, tokenKeys } from '@tandem/fhir-read-model';
import type { Appointment, AppointmentParticipant, Encounter, Extension } from 'fhir/r4';
import type { FhirReads, IndexedResource } from '../writer';
import { dataOf, fhirDateTime, organizationRef, patientRef, practitionerRef, withoutMeta, type FhirHandlers, type FhirReadKeys } from './common';
import { VISIT_ENCOUNTER_CLASS, VISIT_LATE_EXTENSION, VISIT_TASK_OUTCOME_EXTENSION, VISIT_TASKS_EXTENSION, VISIT_UNRECORDED_DOSES_REASON_EXTENSION } from './codes';

/**
 * A person's visits as FHIR (issue 13): the planned visit is an Appointment (`Appointment/<visitId>`),
 * the visit as it happened an Encounter (`Encounter/<visitId>`, from the check-in on). Every visit
 * event is a new version of the Appointment; the check-in and check-out of the Encounter.
 *
 * - Appointment.status: booked, arrived (checked in), fulfilled (checked out), cancelled, noshow
 *   (its planned end passed with no check-in).
 * - Participants: the person and each care worker assigned; the provider (an Organization, which
 *   an Appointment participant cannot be) is in supportingInformation.
 * - Encounter: class HH (home health), the care worker who checked in, the period, the provider
 *   (serviceProvider), the Appointment; a late arrival carries how late in an extension; the
 *   check-out's task outcomes and its reason for a dose left without one in extensions (so a
 *   visit-monitoring app can send back what it read: services/record/src/fhir/encounter-writes.ts).
 */


export const indexAppointment = (appointment: Appointment & { id: string }, patientId: string): IndexedResource => ({
  resource: appointment,
  patientId,
  tokens: tokenKeys('status', undefined, appointment.status),
  refs: (appointment.participant ?? []).flatMap((p) => (p.actor?.reference ? [refKey('actor', p.actor.reference)] : [])),
  ...(appointment.start ? { effective: appointment.start } : {}),
});

export const indexEncounter = (encounter: Encounter & { id: string }, patientId: string): IndexedResource => ({
  resource: encounter,
  patientId,
  tokens: tokenKeys('status', undefined, encounter.status),
  refs: [
    ...(encounter.participant ?? []).flatMap((p) => (p.individual?.reference ? [refKey('participant', p.individual.reference)] : [])),
    ...(encounter.appointment ?? []).flatMap((a) => (a.reference ? [refKey('appointment', a.reference)] : [])),
  ],
  ...(encounter.period?.start ? { effective: encounter.period.start } : {}),
});

const minutesBetween = (start: string, end: string): number => Math.round((Date.parse(end) - Date.parse(start)) / 60_000);

const careWorkers = (careWorkerIds: readonly string[]): AppointmentParticipant[] =>
  careWorkerIds.map((id) => ({ actor: practitionerRef(id), required: 'required', status: 'accepted' }));

/**
 * The planned tasks, each as a part of one extension (the Appointment has no element for a visit's
 * tasks); each part's element id is the task's id, so the care worker's app can send its outcome.
 */
const tasksExtension = (tasks: readonly PlannedTask[]): Extension[] =>
  tasks.length
    ? [{ url: VISIT_TASKS_EXTENSION, extension: tasks.map((t) => ({ id: t.taskId, url: 'task', valueString: `${t.description}${t.delegationId ? ` (delegation ${t.delegationId})` : ''}` })) }]
    : [];

/** A task's outcome at the check-out (the visit-task-outcome extension: task, outcome, reason). */
const taskOutcomeExtension = (task: TaskOutcome): Extension => ({
  url: VISIT_TASK_OUTCOME_EXTENSION,
  extension: [{ url: 'task', valueString: task.taskId }, { url: 'outcome', valueCode: task.outcome }, ...(task.reason ? [{ url: 'reason', valueString: task.reason }] : [])],
});

const description = (tasks: readonly PlannedTask[]): string => (tasks.length ? `Home care visit: ${tasks.map((t) => t.description).join('; ')}` : 'Home care visit');

const visitIdOf = (event: RecordedEvent): string => dataOf<{ visitId: string }>(event).visitId;
const keysOf = (event: RecordedEvent) => [
  { type: 'Appointment' as const, id: visitIdOf(event) },
  { type: 'Encounter' as const, id: visitIdOf(event) },
];

export const visitReads: FhirReadKeys = Object.fromEntries(
  ['VisitRescheduled', 'VisitReplanned', 'VisitCancelled', 'VisitCheckedIn', 'VisitCheckedOut', 'VisitMissed'].map((type) => [type, keysOf]),
);

const patientOf = (appointment: Appointment): string =>
  (appointment.participant ?? []).find((p) => p.actor?.reference?.startsWith('Patient/'))!.actor!.reference!.slice('Patient/'.length);

/** The current Appointment, without its meta; undefined when the visit was never planned here (nothing to change). */
const currentAppointment = async (reads: FhirReads, visitId: string): Promise<(Appointment & { id: string }) | undefined> => {
  const [current] = await reads.current<Appointment>('Appointment', [visitId]);
  return current ? { ...withoutMeta(current.resource), id: visitId } : undefined;
};

const changeAppointment = async (event: RecordedEvent, reads: FhirReads, change: (a: Appointment & { id: string }) => Appointment & { id: string }): Promise<IndexedResource[]> => {
  const appointment = await currentAppointment(reads, visitIdOf(event));
  if (!appointment) return [];
  return [indexAppointment(change(appointment), patientOf(appointment))];
};

export const visitHandlers: FhirHandlers = {
  VisitPlanned: async (event) => {
    const d = dataOf<VisitPlannedData>(event);
    const appointment: Appointment & { id: string } = {
      resourceType: 'Appointment',
      id: d.visitId,
      status: 'booked',
      serviceCategory: [{ text: 'Home care' }],
      description: description(d.tasks),
      start: fhirDateTime(d.plannedStart),
      end: fhirDateTime(d.plannedEnd),
      minutesDuration: minutesBetween(d.plannedStart, d.plannedEnd),
      created: fhirDateTime(event.metadata.recordedAt),
      supportingInformation: [{ ...organizationRef(d.providerOrganisationId), display: 'Care provider' }],
      participant: [{ actor: patientRef(d.patientId), required: 'required', status: 'accepted' }, ...careWorkers(d.careWorkerIds)],
      ...(d.tasks.length ? { extension: tasksExtension(d.tasks) } : {}),
    };
    return [indexAppointment(appointment, d.patientId)];
  },

  VisitRescheduled: (event, reads) =>
    changeAppointment(event, reads, (a) => {
      const d = dataOf<VisitRescheduledData>(event);
      return { ...a, start: fhirDateTime(d.plannedStart), end: fhirDateTime(d.plannedEnd), minutesDuration: minutesBetween(d.plannedStart, d.plannedEnd) };
    }),

  VisitReplanned: (event, reads) =>
    changeAppointment(event, reads, (a) => {
      const d = dataOf<VisitReplannedData>(event);
      const patient = (a.participant ?? []).filter((p) => p.actor?.reference?.startsWith('Patient/'));
      const workers = d.careWorkerIds ? careWorkers(d.careWorkerIds) : (a.participant ?? []).filter((p) => !p.actor?.reference?.startsWith('Patient/'));
      const { extension: _extension, ...rest } = a;
      const others = (a.extension ?? []).filter((e) => e.url !== VISIT_TASKS_EXTENSION);
      const tasks = d.tasks ? tasksExtension(d.tasks) : (a.extension ?? []).filter((e) => e.url === VISIT_TASKS_EXTENSION);
      const extension = [...others, ...tasks];
      return { ...rest, ...(d.tasks ? { description: description(d.tasks) } : {}), participant: [...patient, ...workers], ...(extension.length ? { extension } : {}) };
    }),

  VisitCancelled: (event, reads) =>
    changeAppointment(event, reads, (a) => ({ ...a, status: 'cancelled', cancelationReason: { text: dataOf<VisitCancelledData>(event).reason } })),

  VisitMissed: (event, reads) => changeAppointment(event, reads, (a) => (a.status === 'booked' ? { ...a, status: 'noshow' } : a)),

  VisitCheckedIn: async (event, reads) => {
    const d = dataOf<VisitCheckedInData>(event);
    const appointment = await currentAppointment(reads, d.visitId);
    if (!appointment) return [];
    const patientId = patientOf(appointment);
    const provider = appointment.supportingInformation?.find((r) => r.reference?.startsWith('Organization/'));
    const encounter: Encounter & { id: string } = {
      resourceType: 'Encounter',
      id: d.visitId,
      status: 'in-progress',
      class: VISIT_ENCOUNTER_CLASS,
      serviceType: { text: 'Home care visit' },
      subject: patientRef(patientId),
      participant: [{ individual: practitionerRef(d.careWorkerId), period: { start: fhirDateTime(event.metadata.occurredAt) } }],
      appointment: [{ reference: `Appointment/${d.visitId}` }],
      period: { start: fhirDateTime(event.metadata.occurredAt) },
      ...(provider ? { serviceProvider: { reference: provider.reference! } } : {}),
      ...(d.lateByMinutes !== undefined ? { extension: [{ url: VISIT_LATE_EXTENSION, valueDuration: { value: d.lateByMinutes, unit: 'min', system: 'http://unitsofmeasure.org', code: 'min' } }] } : {}),
    };
    return [indexAppointment({ ...appointment, status: 'arrived' }, patientId), indexEncounter(encounter, patientId)];
  },

  VisitCheckedOut: async (event, reads) => {
    const d = dataOf<VisitCheckedOutData>(event);
    const appointment = await currentAppointment(reads, d.visitId);
    const [current] = await reads.current<Encounter>('Encounter', [d.visitId]);
    if (!appointment || !current) return [];
    const patientId = patientOf(appointment);
    const encounter = withoutMeta(current.resource);
    const start = encounter.period?.start ?? fhirDateTime(event.metadata.occurredAt);
    const end = fhirDateTime(event.metadata.occurredAt);
    // What the check-out said, as a visit-monitoring system sends it back: each task's outcome, and why a dose was left without one.
    const said = [...d.tasks.map(taskOutcomeExtension), ...(d.unrecordedDosesReason ? [{ url: VISIT_UNRECORDED_DOSES_REASON_EXTENSION, valueString: d.unrecordedDosesReason }] : [])];
    const extension = [...(encounter.extension ?? []).filter((e) => e.url === VISIT_LATE_EXTENSION), ...said];
    const finished: Encounter & { id: string } = {
      ...encounter,
      id: d.visitId,
      ...(extension.length ? { extension } : {}),
      status: 'finished',
      period: { start, end },
      length: { value: minutesBetween(start, end), unit: 'min', system: 'http://unitsofmeasure.org', code: 'min' },
      participant: (encounter.participant ?? []).map((p) => ({ ...p, period: { ...(p.period ?? {}), end } })),
    };
    return [indexAppointment({ ...appointment, status: 'fulfilled' }, patientId), indexEncounter(finished, patientId)];
  },
};
