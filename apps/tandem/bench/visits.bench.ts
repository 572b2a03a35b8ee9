/**
 * `npm run bench:visits`: does the scheduler notice every late visit and every overdue dose within
 * one minute of its deadline (issue 13)? PEOPLE people (10,000 by default) with four visits a day
 * each, the starts spread over 15-minute slots as a rota spreads them, and a medicine prescribed at
 * each visit's time (the MAR: four doses a day). The clock is set to one slot's late deadline, and
 * the run times from then until every visit of the slot is noticed late on its stream and
 * escalated to the provider's registered manager (the reaction settled); then to the same slot's
 * overdue deadline, until every dose of the slot has prompted its care worker. Reference point,
 * measured in the same run on the same database: appending one event to each of as many fresh
 * streams (the floor of any noticing) and folding the visits' events into the timers (the projection).
 *
 * The embedded store (PGlite, one process): the server mode's PostgreSQL is faster per append.
 */
import { PGlite } from '@electric-sql/pglite';
import { careEventDefinitions, delegationEventDefinitions, englandTimeOfDay, EventRegistry, streamName, visitEventDefinitions, type Actor } from '@tandem/contracts';
import { pgliteBackend, pgliteDriver, validatedStore, type NewEvent } from '@tandem/event-store';
import { CareRecord } from '@tandem/record';
import { randomUUID } from 'node:crypto';
import { createDelegationCore, ManualClock } from '@tandem/delegation';
import { DEMO_AMLODIPINE } from '../src/demo/medicines-visits';

const PEOPLE = Number(process.env.PEOPLE ?? 10_000);
const DAY = '2026-12-03';
/** The day's visit times; each person's are moved by 0 to 7 slots of 15 minutes. */
const TIMES = ['07:30', '12:00', '16:30', '19:30'];
const SLOTS = 8;
const PROVIDER = 'org-bench-agency';
const MANAGER = 'manager-bench';
const system: Actor = { id: 'bench-roster', role: 'system' };

const at = (hhmm: string, slot: number) => new Date(Date.parse(`${DAY}T${hhmm}:00Z`) + slot * 15 * 60_000).toISOString();
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const metadata = (occurredAt: string) => ({ actor: system, correlationId: randomUUID(), occurredAt, idempotencyKey: randomUUID() });

const main = async () => {
  const db = new PGlite();
  const store = validatedStore(await pgliteBackend({ db }), new EventRegistry([...careEventDefinitions, ...delegationEventDefinitions, ...visitEventDefinitions]));
  const readModels = pgliteDriver(db, false);
  const clock = new ManualClock(`${DAY}T05:00:00Z`);
  const care = new CareRecord(store, () => clock.now(), { idSecret: 'bench-visits-id-secret-0123456789abcdef' });
  const core = createDelegationCore({ store, readModels, clock, schedulerIntervalMs: 0, visits: care.visits });
  await core.start();
  await core.commands.setOnCallRota({ idempotencyKey: 'rota', occurredAt: clock.now().toISOString(), organisationId: PROVIDER, shifts: [], registeredManager: MANAGER }, { id: MANAGER, role: 'registered-manager' });

  // The roster: each visit planned on its own stream (appended as the record's decider would record it).
  const planned = Date.now();
  let visits = 0;
  for (let p = 0; p < PEOPLE; p++) {
    const patientId = randomUUID();
    const slot = p % SLOTS;
    for (const [i, time] of TIMES.entries()) {
      const visitId = `v-${p}-${i}`;
      const event: NewEvent = {
        id: randomUUID(),
        type: 'VisitPlanned',
        data: { patientId, visitId, providerOrganisationId: PROVIDER, plannedStart: at(time, slot), plannedEnd: new Date(Date.parse(at(time, slot)) + 45 * 60_000).toISOString(), careWorkerIds: [`cw-${p % 400}`], tasks: [{ taskId: 'care', description: 'Personal care' }], lateToleranceMinutes: 30 },
        metadata: metadata(clock.now().toISOString()),
      };
      await store.append(streamName.visit(visitId), [event], { expectedRevision: 'no_stream' });
      visits++;
    }
    // The person's MAR: one medicine at each visit's time, known since the day before.
    const order: NewEvent = {
      id: randomUUID(),
      type: 'MedicationOrdered',
      data: {
        patientId,
        product: DEMO_AMLODIPINE,
        dose: { value: 1, unit: 'tablet' },
        route: 'oral',
        timing: { kind: 'scheduled', times: TIMES.map((time) => englandTimeOfDay(Date.parse(at(time, slot)))) },
        start: `${DAY}T00:00:00Z`,
        timeCritical: false,
        prescriberId: 'nurse-bench',
      },
      metadata: metadata(clock.now().toISOString()),
    };
    await store.append(streamName.medicines(patientId), [order], { expectedRevision: 'no_stream' });
  }
  const appendedMs = Date.now() - planned;
  const projecting = Date.now();
  if (!(await core.processor.settle(3_600_000))) throw new Error('the projection did not catch up');
  const projectedMs = Date.now() - projecting;
  const [{ timers }] = (await readModels.query<{ timers: string }>("select count(*) as timers from delegation_timers where kind = 'visit'")) as [{ timers: string }];

  // One slot's visits are late at once: the first visits of every person whose visits start at 07:30.
  const late = Math.ceil(PEOPLE / SLOTS);
  const deadline = new Date(Date.parse(at(TIMES[0]!, 0)) + 30 * 60_000);
  clock.set(deadline);
  const noticing = Date.now();
  const fired = await core.scheduler.runDue();
  if (!(await core.processor.settle(3_600_000))) throw new Error('the reactions did not settle');
  const noticedMs = Date.now() - noticing;
  const escalated = await readModels.query<{ n: string }>("select count(*) as n from delegation_escalations where rule_id = 'visit.late'").catch(() => [{ n: '?' }]);

  // The reference point: one event appended to each of as many fresh streams, nothing else.
  const floor = Date.now();
  for (let i = 0; i < late; i++) {
    await store.append(`visit-floor-${i}`, [{ id: randomUUID(), type: 'VisitCancelled', data: { visitId: `floor-${i}`, reason: 'bench' }, metadata: metadata(deadline.toISOString()) }], { expectedRevision: 'no_stream' });
  }
  const floorMs = Date.now() - floor;

  // The same slot's first doses (07:30) pass their overdue deadline at once: each prompts the care worker on the visit.
  const [{ due }] = (await readModels.query<{ due: string }>("select min(due_at) as due from delegation_timers where kind = 'dose'")) as [{ due: string }];
  const overdueAt = new Date(due);
  clock.set(overdueAt);
  const prompting = Date.now();
  const firedDoses = await core.scheduler.runDue();
  if (!(await core.processor.settle(3_600_000))) throw new Error('the reactions did not settle');
  const promptedMs = Date.now() - prompting;
  const prompted = firedDoses.filter((f) => f.kind === 'dose' && f.outcome.includes('CarePromptIssued')).length;

  const noticedLate = fired.filter((f) => f.kind === 'visit' && f.outcome.startsWith('VisitLateNoticed')).length;
  console.log(`visits: ${PEOPLE} people, ${visits} visits planned in ${seconds(appendedMs)}; projected into ${timers} timers in ${seconds(projectedMs)}`);
  console.log(`late at ${deadline.toISOString()}: ${noticedLate} of ${late} visits noticed late and escalated (${escalated[0]?.n ?? '?'} escalations) in ${seconds(noticedMs)}: the last ${seconds(noticedMs)} after its deadline (target: under 60 s)`);
  console.log(`overdue at ${overdueAt.toISOString()}: ${prompted} of ${late} doses prompted their care worker in ${seconds(promptedMs)}: the last ${seconds(promptedMs)} after its deadline (target: under 60 s)`);
  console.log(`reference: ${late} bare appends to fresh streams in ${seconds(floorMs)} (noticing and escalating costs ${(noticedMs / Math.max(1, floorMs)).toFixed(1)} times the bare appends)`);
  await core.stop();
  await db.close();
  if (noticedLate !== late || prompted !== late) process.exitCode = 1;
};

void main();
