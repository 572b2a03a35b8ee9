import { PGlite } from '@electric-sql/pglite';
import { careEventDefinitions, delegationEventDefinitions, EventRegistry, visitEventDefinitions, type Actor, type Instruction, type SetOnCallRota } from '@tandem/contracts';
import { pgliteBackend, pgliteDriver, validatedStore, type EventStore, type SqlDriver } from '@tandem/event-store';
import { ManualClock } from '../../src/application/clock';
import { createDelegationCore, type DelegationCore } from '../../src/service';
import type { VisitDeadlines } from '../../src/scheduler';
import { GivenCareRecord, type Given } from './given-care-record';

const NMC = 'https://fhir.hl7.org.uk/Id/nmc-number' as const;

/** Sarah, the accountable district nurse; Amira and Tom, care workers. */
export const sarah: Actor = { id: 'nurse-sarah', role: 'district-nurse', registration: { system: NMC, value: '12A3456E' } };
export const amira: Actor = { id: 'cw-amira', role: 'care-worker' };
export const tom: Actor = { id: 'cw-tom', role: 'care-worker' };
/** Ola, a nurse of Sarah's team, on call every day and night on the team's rota. */
export const ola: Actor = { id: 'nurse-ola', role: 'district-nurse', registration: { system: NMC, value: '98B7654E' } };
/** Sarah's district nursing team, and the agency employing Amira and Tom. */
export const NORTH_TEAM = 'org-north-district-nursing';
export const CARE_AGENCY = 'org-kindly-care';

export const EVENING_INSULIN: Instruction = {
  kind: 'insulin',
  product: 'Humulin I KwikPen',
  device: 'pen',
  dose: { value: 8, unit: 'units' },
  times: ['18:00'],
  sites: ['abdomen', 'thigh'],
  glucoseTargets: { lowMmolL: 6, highMmolL: 10 },
  minimumIntervalMinutes: 240,
  whenOutOfRange: 'Below 4.0 mmol/L: follow the hypo protocol and do not give insulin.',
};

let keys = 0;
export const key = (what = 'k'): string => `${what}-${++keys}`;

/**
 * A store, a read-model database and the delegation core on one in-memory PGlite, with a manual
 * clock; `restart` builds a new core over the same database (a process restart). The care record's
 * part (people, teams, bedside entries) is given as the events it would have appended (`given`).
 */
export class Harness {
  core!: DelegationCore;
  given!: GivenCareRecord;
  patientId = '';
  /** The record's visits port, where a test gives one (the lead's fix of visits.test.ts may replace this). */
  visits?: VisitDeadlines;

  private constructor(
    readonly db: PGlite,
    readonly store: EventStore,
    readonly readModels: SqlDriver,
    readonly clock: ManualClock,
  ) {}

  static async create(start = '2025-03-03T09:00:00Z'): Promise<Harness> {
    const db = new PGlite();
    const store = validatedStore(await pgliteBackend({ db }), new EventRegistry([...careEventDefinitions, ...delegationEventDefinitions, ...visitEventDefinitions]));
    const h = new Harness(db, store, pgliteDriver(db, false), new ManualClock(start));
    h.given = new GivenCareRecord(store, () => h.now());
    await h.startCore();
    const { patientId } = await h.given.patientRegistered(
      {
        nhsNumber: '9912003888',
        name: { given: ['Arthur'], family: 'Jones', prefix: 'Mr' },
        birthDate: '1947-03-02',
        gpPractice: { odsCode: 'Y12345', name: 'Riverside Surgery' },
      },
      sarah,
    );
    h.patientId = patientId;
    // Every actor of the stories is a practitioner Tandem holds: the delegation service checks who acts against their record.
    await h.registerPractitioner(sarah, NORTH_TEAM);
    await h.registerPractitioner(ola, NORTH_TEAM);
    for (const worker of [amira, tom]) await h.registerPractitioner(worker, CARE_AGENCY);
    // Sarah's team cares for Mr Jones; Ola is on call round the clock (who an escalation reaches).
    await h.given.careTeamMemberAdded({ patientId, practitionerId: sarah.id, teamRole: 'accountable-clinician' }, sarah);
    await h.setRota(NORTH_TEAM, [{ practitionerId: ola.id, from: '00:00', until: '00:00' }]);
    return h;
  }

  /** Sets an organisation's on-call rota (replacing the one before). */
  async setRota(organisationId: string, shifts: SetOnCallRota['shifts'], registeredManager?: string): Promise<void> {
    await this.core.commands.setOnCallRota(
      { idempotencyKey: key('rota'), occurredAt: this.now(), organisationId, shifts, ...(registeredManager ? { registeredManager } : {}) },
      sarah,
    );
  }

  /** Registers a practitioner (their practitioner-<id> stream) in an organisation, as the record's API would. */
  async registerPractitioner(actor: Actor, organisationId: string): Promise<void> {
    await this.given.practitionerRegistered(
      {
        practitionerId: actor.id,
        name: { given: [actor.id], family: 'Harness' },
        role: actor.role as 'care-worker' | 'district-nurse' | 'gp' | 'registered-manager',
        ...(actor.registration ? { registration: actor.registration } : {}),
        organisationId,
      },
      sarah,
    );
  }

  private async startCore(): Promise<void> {
    // The record's visits, as the composition root passes them: late and missed visits are noticed there.
    this.core = createDelegationCore({ store: this.store, readModels: this.readModels, clock: this.clock, schedulerIntervalMs: 0, ...(this.visits ? { visits: this.visits } : {}) });
    await this.core.start();
  }

  /** Stops the core (the process ends) and starts a new one over the same database. */
  async restart(): Promise<void> {
    await this.core.stop();
    await this.startCore();
  }

  /**
   * Stops the core, forgets everything but the log (the reactions' checkpoint and every view; what
   * the scheduler fired stays, as it would) and starts again: the log replayed from the start.
   */
  async replayFromScratch(): Promise<void> {
    await this.core.stop();
    await this.readModels.query('delete from delegation_checkpoints');
    const schemas = await this.readModels.query<{ name: string }>("select nspname as name from pg_namespace where nspname like 'public_rm%'");
    for (const { name } of schemas) await this.readModels.query(`drop schema ${name} cascade`);
    await this.readModels.query('drop table tandem_projection_checkpoints, tandem_read_model_generation');
    await this.startCore();
  }

  async close(): Promise<void> {
    await this.core.stop();
    await this.db.close();
  }

  now(): string {
    return this.clock.now().toISOString();
  }

  advance(minutes: number): string {
    return this.clock.advance(minutes * 60_000).toISOString();
  }

  /** Waits until the subscription has handled everything stored. */
  async settle(): Promise<void> {
    expect(await this.core.processor.settle(10_000)).toBe(true);
  }

  async eventsOf(stream: string) {
    return this.store.readStream(stream);
  }

  // -------------------------------------------------------------------------------------------
  // The story's steps
  // -------------------------------------------------------------------------------------------

  async trainAndSignOff(careWorker: Actor, nurse: Actor = sarah, frameworkId = 'insulin-administration'): Promise<void> {
    const { commands } = this.core;
    const framework = commands.framework(frameworkId);
    const base = () => ({ idempotencyKey: key('competence'), occurredAt: this.now(), frameworkId });
    await commands.competence({ ...base(), type: 'StartTraining', careWorker: { practitionerId: careWorker.id, role: careWorker.role } }, nurse);
    for (const m of framework.competence.trainingModules) await commands.competence({ ...base(), type: 'CompleteTrainingModule', careWorkerId: careWorker.id, moduleId: m.id }, nurse);
    for (let i = 0; i < framework.competence.supervisedPractices; i++) {
      await commands.competence({ ...base(), type: 'RecordSupervisedPractice', careWorkerId: careWorker.id, outcome: 'satisfactory', patientId: this.patientId }, nurse);
    }
    await commands.competence({ ...base(), type: 'SignOffCompetence', careWorkerId: careWorker.id, careWorkerConsent: true }, nurse);
  }

  async delegateInsulin(delegationId: string, careWorker: Actor = amira): Promise<void> {
    const { commands } = this.core;
    const at = () => ({ idempotencyKey: key('delegation'), occurredAt: this.now(), delegationId });
    await commands.delegation(
      {
        ...at(),
        type: 'ProposeDelegation',
        patientId: this.patientId,
        frameworkId: 'insulin-administration',
        activityId: 'insulin-administration',
        careWorker: { practitionerId: careWorker.id, role: careWorker.role },
        instruction: EVENING_INSULIN,
        eligibility: { diabetesStable: true, insulinDevice: 'pen' },
      },
      sarah,
    );
    await commands.delegation({ ...at(), type: 'AcceptDelegation' }, careWorker);
    await commands.delegation({ ...at(), type: 'RecordPersonAgreement', agreement: { agreedBy: 'person' } }, sarah);
    await commands.activate({ ...at() }, sarah);
  }

  glucose(value: number, by: Actor = amira): Promise<Given> {
    return this.given.entry('BloodGlucoseRecorded', { patientId: this.patientId, glucoseMmolL: value }, by, 'RecordBloodGlucose');
  }

  insulin(by: Actor = amira): Promise<Given> {
    return this.given.insulinAdministered({ patientId: this.patientId, product: 'Humulin I KwikPen', device: 'pen', dose: { value: 8, unit: 'units' }, site: 'abdomen' }, by);
  }
}
