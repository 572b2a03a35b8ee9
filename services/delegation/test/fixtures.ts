import {
  delegationEventDefinitions,
  EventRegistry,
  type Actor,
  type CareRecordEvent,
  type News2Parameter,
  type News2Result,
  type VitalSignsMeasurements,
} from '@tandem/contracts';
import { cellulitisEronClassI, insulinAdministration, resolveFramework, suspectedUti65Plus, type Framework } from '../src/frameworks';
import type { Decision, Timed } from '../src/machines/decider';
import type { CareStreamEvent } from '../src/rules/entries';

// ---------------------------------------------------------------------------------------------
// The people in every story
// ---------------------------------------------------------------------------------------------

const NMC = 'https://fhir.hl7.org.uk/Id/nmc-number' as const;
const GMC = 'https://fhir.hl7.org.uk/Id/gmc-number' as const;

/** Nadia, the accountable district nurse. */
export const nadia: Actor = { id: 'nadia', role: 'district-nurse', registration: { system: NMC, value: '09A1234E' } };
/** Owen, the on-call district nurse. */
export const owen: Actor = { id: 'owen', role: 'district-nurse', registration: { system: NMC, value: '11B5678E' } };
/** Dr Shah, the GP. */
export const drShah: Actor = { id: 'dr-shah', role: 'gp', registration: { system: GMC, value: '7012345' } };
/** Amira and Ben, care workers. */
export const amira: Actor = { id: 'amira', role: 'care-worker' };
export const ben: Actor = { id: 'ben', role: 'care-worker' };
/** A nurse whose registration is not on record. */
export const unregisteredNurse: Actor = { id: 'nurse-x', role: 'district-nurse' };
/** A registered manager: registered nowhere, delegates nothing. */
export const manager: Actor = { id: 'manager', role: 'registered-manager' };
/** The scheduler firing due timers. */
export const scheduler: Actor = { id: 'scheduler', role: 'system' };

export const asCareWorker = (actor: Actor) => ({ practitionerId: actor.id, role: actor.role });

// ---------------------------------------------------------------------------------------------
// The frameworks as an organisation uses them (defaults)
// ---------------------------------------------------------------------------------------------

export const insulin: Framework = resolveFramework(insulinAdministration);
export const uti: Framework = resolveFramework(suspectedUti65Plus);
export const cellulitis: Framework = resolveFramework(cellulitisEronClassI);

// ---------------------------------------------------------------------------------------------
// Time: a fake clock, never the system's
// ---------------------------------------------------------------------------------------------

export class FakeClock {
  private instant: number;
  constructor(start: string) {
    this.instant = Date.parse(start);
  }
  now(): string {
    return new Date(this.instant).toISOString();
  }
  advance(by: { minutes?: number; hours?: number; days?: number }): string {
    this.instant += ((by.minutes ?? 0) + (by.hours ?? 0) * 60 + (by.days ?? 0) * 24 * 60) * 60_000;
    return this.now();
  }
  /** Moves to a time of day (HH:MM, UTC) on the current day, or the next day when it has passed. */
  at(hhmm: string): string {
    const [h, m] = hhmm.split(':').map(Number) as [number, number];
    const next = new Date(this.instant);
    next.setUTCHours(h, m, 0, 0);
    if (next.getTime() < this.instant) next.setUTCDate(next.getUTCDate() + 1);
    this.instant = next.getTime();
    return this.now();
  }
  set(iso: string): string {
    this.instant = Date.parse(iso);
    return this.now();
  }
}

let sequence = 0;
export const key = (): string => `key-${++sequence}`;
/** A fresh, valid event id (a UUID). */
export const eventId = (): string => `00000000-0000-4000-8000-${String(++sequence).padStart(12, '0')}`;

export const MR_JONES = '7d1e2c3b-4a5f-4e6d-8c7b-9a0b1c2d3e4f';
export const MRS_PATEL = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
export const MR_OKAFOR = '9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f';

// ---------------------------------------------------------------------------------------------
// A stream under test: decide with an actor, append what was decided, rebuild by evolve
// ---------------------------------------------------------------------------------------------

const registry = new EventRegistry([...delegationEventDefinitions]);

/** Every decided event must pass its contract, as the store would check it on append. */
export const assertValid = (event: { type: string; data: unknown }): void => {
  const encoded = registry.encode(event.type, event.data);
  if (!encoded.ok) throw new Error(`${event.type} breaks its contract: ${JSON.stringify(encoded.issues)}`);
};

export class Stream<State, Command extends { type: string; occurredAt: string }, Event extends { type: string; data: unknown }> {
  readonly events: Timed<Event>[] = [];
  constructor(
    public state: State,
    private readonly decide: (state: State, command: Command, context: { actor: Actor }) => Decision<Event>,
    private readonly evolve: (state: State, event: Timed<Event>) => State,
  ) {}

  /** Decides and, when accepted, appends. Returns the decision. */
  run(actor: Actor, command: Command): Decision<Event> {
    const decision = this.decide(this.state, command, { actor });
    if (decision.ok) {
      for (const event of decision.events) {
        assertValid(event);
        const timed = { ...event, occurredAt: command.occurredAt } as Timed<Event>;
        this.events.push(timed);
        this.state = this.evolve(this.state, timed);
      }
    }
    return decision;
  }

  /** Runs a command that must be accepted; returns the event types appended. */
  ok(actor: Actor, command: Command): string[] {
    const decision = this.run(actor, command);
    if (!decision.ok) throw new Error(`${command.type} was refused: ${JSON.stringify(decision.refusal)}`);
    return decision.events.map((e) => e.type);
  }

  /** Runs a command that must be refused; returns the refusal. Nothing is appended. */
  refused(actor: Actor, command: Command) {
    const before = this.events.length;
    const decision = this.run(actor, command);
    if (decision.ok) throw new Error(`${command.type} was accepted: ${decision.events.map((e) => e.type).join(', ')}`);
    expect(this.events.length).toBe(before);
    expect(decision.refusal.reason.length).toBeGreaterThan(10);
    return decision.refusal;
  }

  /** The last event of a type. */
  last<Type extends Event['type']>(type: Type): Extract<Event, { type: Type }>['data'] {
    const found = [...this.events].reverse().find((e) => e.type === type);
    if (!found) throw new Error(`no ${type} in the stream`);
    return found.data as Extract<Event, { type: Type }>['data'];
  }
}

// ---------------------------------------------------------------------------------------------
// Care entries, as the care record appends them
// ---------------------------------------------------------------------------------------------

type EntryOf<Type extends CareRecordEvent['type']> = Extract<CareRecordEvent, { type: Type }>['data'];

export const careEvent = <Type extends CareRecordEvent['type']>(
  type: Type,
  data: EntryOf<Type>,
  occurredAt: string,
  recordedBy: Actor = amira,
  id = eventId(),
): CareStreamEvent => ({ id, type, data, occurredAt, recordedBy }) as CareStreamEvent;

export const glucose = (patientId: string, glucoseMmolL: number, occurredAt: string, recordedBy: Actor = amira) =>
  careEvent('BloodGlucoseRecorded', { patientId, glucoseMmolL }, occurredAt, recordedBy);

export const INSULIN = 'Humulin I KwikPen';

export const insulinGiven = (patientId: string, occurredAt: string, recordedBy: Actor = amira) =>
  careEvent('InsulinAdministered', { patientId, product: INSULIN, device: 'pen', dose: { value: 8, unit: 'units' }, site: 'abdomen' }, occurredAt, recordedBy);

const PARAMETERS: News2Parameter[] = ['respirationRate', 'spo2', 'airOrOxygen', 'systolic', 'pulse', 'consciousness', 'temperatureC'];

/**
 * A NEWS2 result with this total, spread as 2s and 1s (so no single parameter scores 3) unless
 * sub-scores are given; `missing` parameters make it incomplete.
 */
export const news2 = (total: number, options: { subScores?: Partial<Record<News2Parameter, number>>; missing?: News2Parameter[] } = {}): News2Result => {
  const subScores = Object.fromEntries(PARAMETERS.map((p) => [p, 0])) as Record<News2Parameter, number | null>;
  if (options.subScores) Object.assign(subScores, options.subScores);
  else {
    let left = total;
    for (const p of PARAMETERS) {
      if (options.missing?.includes(p)) continue;
      const s = Math.min(2, left);
      subScores[p] = s;
      left -= s;
    }
  }
  for (const p of options.missing ?? []) subScores[p] = null;
  const partialTotal = Object.values(subScores).reduce<number>((sum, s) => sum + (s ?? 0), 0);
  const complete = (options.missing ?? []).length === 0;
  const anySingleParameterThree = Object.values(subScores).some((s) => s === 3);
  const band = (score: number) => (score >= 7 ? 'high' : score >= 5 ? 'medium' : anySingleParameterThree ? 'low-medium' : 'low');
  return {
    subScores,
    missing: options.missing ?? [],
    total: complete ? partialTotal : null,
    partialTotal,
    anySingleParameterThree,
    risk: complete ? band(partialTotal) : 'incomplete',
    riskAtLeast: band(partialTotal),
  };
};

const NORMAL_VITALS: VitalSignsMeasurements = { respirationRate: 16, spo2: 97, airOrOxygen: 'air', systolic: 124, pulse: 72, consciousness: 'A', temperatureC: 36.8 };

export const vitals = (patientId: string, occurredAt: string, score: News2Result | number, measurements: Partial<VitalSignsMeasurements> = {}, recordedBy: Actor = amira) =>
  careEvent(
    'VitalSignsRecorded',
    { patientId, ...NORMAL_VITALS, ...measurements, spo2Scale: 1, news2: typeof score === 'number' ? news2(score) : score },
    occurredAt,
    recordedBy,
  );

const NO_URINARY_SIGNS = {
  newDysuria: false,
  temperatureRaised: false,
  newFrequencyOrUrgency: false,
  newIncontinence: false,
  newOrWorseDelirium: false,
  newSuprapubicPain: false,
  visibleHaematuria: false,
};
const NO_SEPSIS_SIGNS = { kidneyPain: false, newMyalgia: false, nauseaOrVomiting: false, rigors: false };

export const urinaryScreen = (
  patientId: string,
  occurredAt: string,
  signs: Partial<typeof NO_URINARY_SIGNS> = {},
  sepsisSigns: Partial<typeof NO_SEPSIS_SIGNS> = {},
  catheter: { inPlace: boolean; insertedOn?: string } = { inPlace: false },
  recordedBy: Actor = ben,
) =>
  careEvent(
    'UrinarySymptomsScreened',
    { patientId, signs: { ...NO_URINARY_SIGNS, ...signs }, sepsisSigns: { ...NO_SEPSIS_SIGNS, ...sepsisSigns }, catheter },
    occurredAt,
    recordedBy,
  );

export const cellulitisCheck = (
  patientId: string,
  occurredAt: string,
  o: { beyondLine?: boolean; temperatureC?: number; pain?: number } = {},
  recordedBy: Actor = amira,
) =>
  careEvent(
    'CellulitisChecked',
    {
      patientId,
      markedLineDrawn: true,
      rednessBeyondMarkedLine: o.beyondLine ?? false,
      pain: o.pain ?? 3,
      ...(o.temperatureC !== undefined ? { temperatureC: o.temperatureC } : {}),
      limbElevated: true,
      skinToneLimitsAssessment: false,
    },
    occurredAt,
    recordedBy,
  );
