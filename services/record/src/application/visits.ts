import {
  DEFAULT_VISIT_LATE_TOLERANCE_MINUTES,
  streamName,
  visitFactsFrom,
  type Actor,
  type CancelVisit,
  type CheckInVisit,
  type CheckOutVisit,
  type DelegationProposedData,
  type ImportVisits,
  type PlannedVisit,
  type PlanVisit,
  type RescheduleVisit,
  type StoredVisitEvent,
  type VisitFacts,
} from '@tandem/contracts';
import type { EventStore, RecordedEvent } from '@tandem/event-store';
import {
  cancelVisit,
  careStateFrom,
  checkInVisit,
  checkOutVisit,
  DomainRuleBroken,
  insulinDosesDueInVisit,
  medicineDosesDueInVisit,
  medicinesStateFrom,
  type StoredMedicinesEvent,
  isCareRecordEvent,
  isDecisionError,
  noticeVisitDeadline,
  planVisit,
  rescheduleVisit,
  type InsulinSchedule,
  type NoticeVisitDeadline,
  type ScheduledDoseInVisit,
  type StoredCareEvent,
} from '../domain';
import { commandDigest, executeStreamCommand, type CommandResult } from '@tandem/commands';

/**
 * The scheduled doses due in a visit and their outcomes, read from the write model (streams, never
 * a read model). The medicines administration record supplies its own (every prescribed medicine);
 * without one, `insulinDosesOfVisit` (the only scheduled medicine before the MAR).
 */
export type ScheduledDosesOfVisit = (visit: PlannedVisit) => Promise<readonly ScheduledDoseInVisit[]>;

export interface VisitOptions {
  /** LOCAL: minutes after the planned start before a visit not checked in is late (TANDEM_VISIT_LATE_TOLERANCE_MINUTES). */
  readonly lateToleranceMinutes?: number;
  readonly scheduledDoses?: ScheduledDosesOfVisit;
}

export class PatientOfVisitNotFound extends DomainRuleBroken {
  constructor(patientId: string) {
    super('visit.unknown-patient', 'patientId', `No patient ${patientId} is registered`);
  }
}

/** The insulin instructions of the delegations a visit's tasks carry out, from each delegation's own stream. */
export const insulinDosesOfVisit =
  (store: EventStore): ScheduledDosesOfVisit =>
  async (visit) => {
    const delegationIds = [...new Set(visit.tasks.flatMap((t) => (t.delegationId ? [t.delegationId] : [])))];
    const schedules: InsulinSchedule[] = [];
    for (const delegationId of delegationIds) {
      const [proposed] = await store.readStream(streamName.delegation(delegationId), { maxCount: 1 });
      const data = proposed?.type === 'DelegationProposed' ? (proposed.data as DelegationProposedData) : undefined;
      if (data?.patientId !== visit.patientId || data.instruction.kind !== 'insulin') continue;
      schedules.push({ delegationId, product: data.instruction.product, doseUnits: data.instruction.dose.value, times: data.instruction.times });
    }
    if (schedules.length === 0) return [];
    const care = careStateFrom((await store.readStream(streamName.care(visit.patientId))).filter(isCareRecordEvent) as unknown as StoredCareEvent[]);
    return insulinDosesDueInVisit(visit, schedules, care);
  };

/**
 * Every scheduled medicine due in a visit: the insulin its tasks' delegations instruct, and the
 * scheduled times of the person's other active orders (the MAR), each from its own stream.
 */
export const scheduledDosesOfVisit =
  (store: EventStore): ScheduledDosesOfVisit => {
    const insulin = insulinDosesOfVisit(store);
    return async (visit) => {
      const medicines = medicinesStateFrom((await store.readStream(streamName.medicines(visit.patientId))) as unknown as StoredMedicinesEvent[]);
      const orders = Object.values(medicines.orders);
      const others = orders.length === 0 ? [] : medicineDosesDueInVisit(visit, orders, careStateFrom((await store.readStream(streamName.care(visit.patientId))).filter(isCareRecordEvent) as unknown as StoredCareEvent[]));
      return [...(await insulin(visit)), ...others];
    };
  };

/** One visit of an import, as it went. */
export interface ImportedVisit {
  readonly visitId: string;
  readonly patientId: string;
  readonly outcome: 'planned' | 'changed' | 'unchanged' | 'refused';
  readonly eventTypes?: readonly string[];
  readonly position?: number;
  readonly error?: { readonly code: string; readonly field: string; readonly message: string };
}

const visitStream = (visitId: string) => streamName.visit(visitId);
const asStored = (events: readonly RecordedEvent[]) => events as unknown as StoredVisitEvent[];

/**
 * The visits' application service: loads a visit's stream, asks the pure decider, appends. The
 * JSON API, the rostering import and FHIR Appointment writes all come through here.
 */
export class VisitBook {
  private readonly scheduledDoses: ScheduledDosesOfVisit;
  readonly lateToleranceMinutes: number;

  constructor(
    private readonly store: EventStore,
    private readonly now: () => Date,
    options: VisitOptions = {},
  ) {
    this.scheduledDoses = options.scheduledDoses ?? scheduledDosesOfVisit(store);
    this.lateToleranceMinutes = options.lateToleranceMinutes ?? DEFAULT_VISIT_LATE_TOLERANCE_MINUTES;
  }

  private meta(actor: Actor, name: string, cmd: { idempotencyKey: string; occurredAt: string }) {
    const { idempotencyKey: _key, ...said } = cmd;
    return { actor, idempotencyKey: cmd.idempotencyKey, occurredAt: cmd.occurredAt, command: { name, digest: commandDigest(said) } };
  }

  /** The visit as its stream tells it. */
  async visit(visitId: string): Promise<VisitFacts> {
    return visitFactsFrom(asStored(await this.store.readStream(visitStream(visitId))));
  }

  private run<C extends { visitId: string; idempotencyKey: string; occurredAt: string }>(name: string, cmd: C, actor: Actor, decide: (state: VisitFacts) => ReturnType<typeof planVisit>): Promise<CommandResult> {
    return executeStreamCommand(this.store, {
      stream: visitStream(cmd.visitId),
      fold: (events) => visitFactsFrom(asStored(events)),
      decide,
      meta: this.meta(actor, name, cmd),
    });
  }

  private async patientRegistered(patientId: string): Promise<void> {
    const [registered] = await this.store.readStream(streamName.patient(patientId), { maxCount: 1 });
    if (registered?.type !== 'PatientRegistered') throw new PatientOfVisitNotFound(patientId);
  }

  private async providerRegistered(organisationId: string): Promise<void> {
    const [registered] = await this.store.readStream(streamName.organisation(organisationId), { maxCount: 1 });
    if (registered?.type !== 'OrganisationRegistered') {
      throw new DomainRuleBroken('visit.unknown-provider', 'providerOrganisationId', `No organisation ${organisationId} is registered: register the provider first`);
    }
  }

  async plan(cmd: PlanVisit, actor: Actor): Promise<CommandResult> {
    await this.patientRegistered(cmd.patientId);
    await this.providerRegistered(cmd.providerOrganisationId);
    return this.run('PlanVisit', cmd, actor, (state) => planVisit(cmd, state, { now: this.now(), actor, defaultLateToleranceMinutes: this.lateToleranceMinutes }));
  }

  reschedule(cmd: RescheduleVisit, actor: Actor): Promise<CommandResult> {
    return this.run('RescheduleVisit', cmd, actor, (state) => rescheduleVisit(cmd, state, { now: this.now(), actor }));
  }

  cancel(cmd: CancelVisit, actor: Actor): Promise<CommandResult> {
    return this.run('CancelVisit', cmd, actor, (state) => cancelVisit(cmd, state, { now: this.now(), actor }));
  }

  checkIn(cmd: CheckInVisit, actor: Actor): Promise<CommandResult> {
    return this.run('CheckInVisit', cmd, actor, (state) => checkInVisit(cmd, state, { now: this.now(), actor }));
  }

  /** The doses due are read first (the MAR's streams), then the visit decided on its own stream. */
  async checkOut(cmd: CheckOutVisit, actor: Actor): Promise<CommandResult> {
    const visit = await this.visit(cmd.visitId);
    const dosesDue = visit.planned && visit.status === 'in-progress' ? await this.scheduledDoses(visit) : [];
    return this.run('CheckOutVisit', cmd, actor, (state) => checkOutVisit(cmd, state, { now: this.now(), actor, dosesDue }));
  }

  /**
   * The scheduler's deadline for a visit (late, missed): recorded once on the visit, keyed by the
   * deadline, so a timer fired again after a restart records nothing twice. `why` says why nothing.
   */
  async noticeDeadline(cmd: NoticeVisitDeadline, actor: Actor): Promise<CommandResult & { visit: VisitFacts; why?: string }> {
    let why: string | undefined;
    const key = { idempotencyKey: `visit-${cmd.kind}:${cmd.visitId}:${cmd.dueAt}`, occurredAt: cmd.dueAt, ...cmd };
    const result = await this.run(cmd.kind === 'late' ? 'NoticeLateVisit' : 'NoticeMissedVisit', key, actor, (state) => {
      const decided = noticeVisitDeadline(cmd, state);
      why = decided.why;
      return decided.events;
    });
    return { ...result, visit: await this.visit(cmd.visitId), ...(why ? { why } : {}) };
  }

  /**
   * A rostering system's day: each visit planned (or brought up to date) on its own stream, with the
   * key `<idempotencyKey>:<visitId>`, so the same day sent again records only what changed. A
   * visit refused (a person not registered or not the caller's to plan for, a visit already under
   * way) is reported, not fatal.
   */
  async importVisits(cmd: ImportVisits, actor: Actor, refused: ReadonlySet<string> = new Set()): Promise<{ visits: ImportedVisit[]; position: number }> {
    await this.providerRegistered(cmd.providerOrganisationId);
    const visits: ImportedVisit[] = [];
    let position = 0;
    const knownPeople = new Set<string>();
    for (const visit of cmd.visits) {
      const { providerOrganisationId, ...rest } = visit;
      if (providerOrganisationId !== undefined && providerOrganisationId !== cmd.providerOrganisationId) {
        visits.push({ visitId: visit.visitId, patientId: visit.patientId, outcome: 'refused', error: { code: 'visit.other-provider', field: 'providerOrganisationId', message: `The import is for ${cmd.providerOrganisationId}` } });
        continue;
      }
      if (refused.has(visit.patientId)) {
        visits.push({ visitId: visit.visitId, patientId: visit.patientId, outcome: 'refused', error: { code: 'forbidden', field: 'patientId', message: `${actor.id} may not plan visits for Patient/${visit.patientId}` } });
        continue;
      }
      const plan: PlanVisit = { ...rest, providerOrganisationId: cmd.providerOrganisationId, idempotencyKey: `${cmd.idempotencyKey}:${visit.visitId}`, occurredAt: cmd.occurredAt };
      try {
        if (!knownPeople.has(plan.patientId)) await this.patientRegistered(plan.patientId);
        knownPeople.add(plan.patientId);
        const result = await this.run('PlanVisit', plan, actor, (state) => planVisit(plan, state, { now: this.now(), actor, defaultLateToleranceMinutes: this.lateToleranceMinutes }));
        position = Math.max(position, result.position);
        const outcome = result.eventTypes.includes('VisitPlanned') ? 'planned' : result.eventTypes.length ? 'changed' : 'unchanged';
        visits.push({ visitId: plan.visitId, patientId: plan.patientId, outcome, eventTypes: result.eventTypes, position: result.position });
      } catch (error) {
        if (!isDecisionError(error)) throw error;
        visits.push({ visitId: plan.visitId, patientId: plan.patientId, outcome: 'refused', error: { code: error.code, field: error.field, message: error.message } });
      }
    }
    return { visits, position };
  }
}
