/**
 * `npm run bench:indicators` (issue 15; docs/decisions/0037): a month of care for PEOPLE people
 * (2,000 by default) over DAYS days (30): each person two visits a day (planned, checked in and
 * out; one in 50 missed instead), a medicine twice a day with its two dose outcomes, a set of vital
 * signs a day, and a care worker on their team. Measured:
 *
 *  1. the quality indicators built from the log (a fresh read model catching up from position 0),
 *     and then `rebuild()` (a new generation filled beside the live one and switched): the aim is
 *     within 2 minutes;
 *  2. freshness: with the projection running, SAMPLES times a missed visit is appended and
 *     `GET /api/indicators` polled (over HTTP, a real token) until its figure changes: the aim is
 *     within 5 s;
 *  3. reference points in the same run, on the same events: reading the whole log in pages (the
 *     floor any projection pays) and the FHIR projection's rate over the same log for up to
 *     REFERENCE_SECONDS (60).
 *
 * The embedded store (PGlite, in memory, one process): the store and each read model in its own
 * database, as the runner expects. Not a test; prints its figures.
 */
import { PGlite } from '@electric-sql/pglite';
import { createAccessControl, DevIssuer } from '@tandem/auth';
import { careEventDefinitions, englandDate, englandInstant, EventRegistry, streamName, visitEventDefinitions, type Actor } from '@tandem/contracts';
import { pgliteBackend, pgliteDriver, validatedStore, type NewEvent } from '@tandem/event-store';
import { fhirProjection, indicatorRoutes, ProjectionRunner, qualityProjection } from '@tandem/projections';
import express from 'express';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';

const PEOPLE = Number(process.env.PEOPLE ?? 2_000);
const DAYS = Number(process.env.DAYS ?? 30);
const SAMPLES = Number(process.env.SAMPLES ?? 20);
const REFERENCE_SECONDS = Number(process.env.REFERENCE_SECONDS ?? 60);
const PROVIDER = 'org-bench-agency';
const MONTH = '2026-12';
const manager: Actor = { id: 'rm-bench', role: 'registered-manager', organisation: PROVIDER };
const DMD = 'https://dmd.nhs.uk';
const PARACETAMOL = { system: DMD, code: '42109611000001109', display: 'Paracetamol 500mg tablets' };

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const rate = (events: number, ms: number) => `${Math.round(events / (ms / 1000)).toLocaleString('en-GB')} events/s`;
const day = (d: number) => `${MONTH}-${String(d).padStart(2, '0')}`;
const meta = (actor: Actor, occurredAt: string) => ({ actor, correlationId: randomUUID(), occurredAt });
const ev = (type: string, data: unknown, actor: Actor, occurredAt: string): NewEvent => ({ id: randomUUID(), type, data, metadata: meta(actor, occurredAt) });
const percentile = (values: readonly number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;

const vitals = (n: number) => ({
  respirationRate: 16,
  spo2: 96,
  airOrOxygen: 'air' as const,
  systolic: 128,
  diastolic: 76,
  pulse: 72,
  consciousness: 'A' as const,
  // One set in ten without a temperature: an incomplete NEWS2.
  ...(n % 10 === 0 ? {} : { temperatureC: 36.8 }),
  spo2Scale: 1 as const,
  news2: {
    subScores: { respirationRate: 0, spo2: 0, airOrOxygen: 0, systolic: 0, pulse: 0, consciousness: 0, temperatureC: 0 },
    missing: n % 10 === 0 ? ['temperatureC'] : [],
    total: n % 10 === 0 ? null : 0,
    partialTotal: 0,
    anySingleParameterThree: false,
    risk: n % 10 === 0 ? ('incomplete' as const) : ('low' as const),
    riskAtLeast: 'low' as const,
  },
});

const main = async () => {
  console.log(`bench:indicators — ${PEOPLE.toLocaleString('en-GB')} people, ${DAYS} days; ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')} at start (${new Date().toISOString()})`);
  const storeDb = new PGlite();
  const store = validatedStore(await pgliteBackend({ db: storeDb }), new EventRegistry([...careEventDefinitions, ...visitEventDefinitions]));

  // --- the month of care, appended as the deciders would have recorded it ---------------------
  const seeding = Date.now();
  let events = 0;
  const append = async (stream: string, batch: NewEvent[]) => {
    await store.append(stream, batch, { expectedRevision: 'any' });
    events += batch.length;
  };
  await append(streamName.practitioner(manager.id), [ev('PractitionerRegistered', { practitionerId: manager.id, name: { given: ['Bench'], family: 'Manager' }, role: 'registered-manager', organisationId: PROVIDER }, manager, '2026-11-01T09:00:00Z')]);
  const workers = Math.max(1, Math.ceil(PEOPLE / 10));
  for (let w = 0; w < workers; w++) {
    await append(streamName.practitioner(`cw-${w}`), [ev('PractitionerRegistered', { practitionerId: `cw-${w}`, name: { given: ['Care'], family: `Worker ${w}` }, role: 'care-worker', organisationId: PROVIDER }, manager, '2026-11-01T09:00:00Z')]);
  }
  for (let p = 0; p < PEOPLE; p++) {
    const patientId = randomUUID();
    const worker: Actor = { id: `cw-${p % workers}`, role: 'care-worker', organisation: PROVIDER };
    await append(streamName.patient(patientId), [ev('CareTeamMemberAdded', { patientId, practitionerId: worker.id, teamRole: 'care-worker' }, manager, '2026-11-30T09:00:00Z')]);
    const orderId = randomUUID();
    const order = ev('MedicationOrdered', { patientId, product: PARACETAMOL, dose: { value: 1, unit: 'tablet' }, route: 'oral', timing: { kind: 'scheduled', times: ['08:00', '18:00'] }, start: '2026-11-30T00:00:00Z', timeCritical: false, prescriberId: 'nurse-bench' }, manager, '2026-11-30T09:00:00Z');
    await append(streamName.medicines(patientId), [{ ...order, id: orderId }]);
    const care: NewEvent[] = [];
    for (let d = 1; d <= DAYS; d++) {
      for (const [i, time] of (['08:00', '18:00'] as const).entries()) {
        const start = englandInstant(day(d), time);
        const end = new Date(Date.parse(start) + 30 * 60_000).toISOString();
        const visitId = `v-${p}-${d}-${i}`;
        const planned = ev('VisitPlanned', { patientId, visitId, providerOrganisationId: PROVIDER, plannedStart: start, plannedEnd: end, careWorkerIds: [worker.id], tasks: [{ taskId: 'care', description: 'Personal care' }], lateToleranceMinutes: 30 }, manager, '2026-11-30T09:00:00Z');
        const missed = (p + d + i) % 50 === 0;
        await append(
          streamName.visit(visitId),
          missed
            ? [planned, ev('VisitMissed', { visitId, plannedEnd: end }, { id: 'tandem-delegation', role: 'system' }, end)]
            : [planned, ev('VisitCheckedIn', { visitId, careWorkerId: worker.id }, worker, start), ev('VisitCheckedOut', { visitId, careWorkerId: worker.id, tasks: [{ taskId: 'care', outcome: 'done' }] }, worker, new Date(Date.parse(end) - ((p % 3) * 10 * 60_000)).toISOString())],
        );
        if (!missed) {
          const givenAt = new Date(Date.parse(start) + ((p + d) % 7) * 15 * 60_000).toISOString();
          care.push(ev('MedicineDoseRecorded', { patientId, orderId, outcome: 'given', scheduledTime: time, product: PARACETAMOL, prn: false, timeCritical: false }, worker, givenAt));
        }
      }
      care.push(ev('VitalSignsRecorded', { patientId, ...vitals(p + d) }, worker, englandInstant(day(d), '08:10')));
    }
    await append(streamName.care(patientId), care);
  }
  const seededMs = Date.now() - seeding;
  const head = await store.headPosition();
  console.log(`seeded ${events.toLocaleString('en-GB')} events in ${seconds(seededMs)} (${rate(events, seededMs)}; head position ${head})`);

  // --- the indicators, built from the log, then rebuilt ----------------------------------------
  const qualityDb = pgliteDriver(new PGlite(), true);
  const quality = qualityProjection({ dayOf: englandDate, instantOf: englandInstant, onTimeUntil: (timeCritical, dueAt) => new Date(Date.parse(dueAt) + (timeCritical ? 30 : 60) * 60_000).toISOString(), doseEscalationId: (orderId, at) => `dose-escalation|${orderId}|${at}` });
  const runner = new ProjectionRunner(store, qualityDb, [quality]);
  const building = Date.now();
  await runner.start();
  if (!(await runner.waitFor(head, 30 * 60_000))) throw new Error('the indicators did not catch up in 30 minutes');
  const builtMs = Date.now() - building;
  console.log(`indicators built from the log: ${seconds(builtMs)} (${rate(events, builtMs)}); aim 2 minutes: ${builtMs <= 120_000 ? 'met' : 'MISSED'}`);

  // --- freshness over HTTP ---------------------------------------------------------------------
  const issuer = await DevIssuer.create({ issuer: 'urn:tandem:bench', audience: 'tandem' });
  const access = createAccessControl({ verifier: issuer.verifier() });
  const app = express().use(indicatorRoutes({ readModels: qualityDb, access }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const bearer = await issuer.mint({ role: 'auditor', user: 'cqc-bench' });
  const missedNow = async (): Promise<number> => {
    const answer = (await (await fetch(`${base}/api/indicators?organisation=${PROVIDER}&period=${MONTH}`, { headers: { authorization: `Bearer ${bearer}` } })).json()) as { indicators: { id: string; numerator: number }[] };
    return answer.indicators.find((i) => i.id === 'missed-visits')!.numerator;
  };
  const firstRead = Date.now();
  const before = await missedNow();
  const readMs = Date.now() - firstRead;
  const latencies: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const visitId = `fresh-${s}`;
    const start = englandInstant(day(Math.min(DAYS, 28)), '12:00');
    const end = new Date(Date.parse(start) + 30 * 60_000).toISOString();
    const t0 = Date.now();
    await store.append(streamName.visit(visitId), [
      ev('VisitPlanned', { patientId: randomUUID(), visitId, providerOrganisationId: PROVIDER, plannedStart: start, plannedEnd: end, careWorkerIds: ['cw-0'], tasks: [], lateToleranceMinutes: 30 }, manager, start),
      ev('VisitMissed', { visitId, plannedEnd: end }, { id: 'tandem-delegation', role: 'system' }, end),
    ], { expectedRevision: 'no_stream' });
    while ((await missedNow()) < before + s + 1) {
      if (Date.now() - t0 > 60_000) throw new Error('a missed visit did not show within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    latencies.push(Date.now() - t0);
  }
  console.log(`fresh: a missed visit appended -> its figure changed in /api/indicators: median ${latencies.length ? percentile(latencies, 50) : 0} ms, p95 ${latencies.length ? percentile(latencies, 95) : 0} ms, max ${Math.max(0, ...latencies)} ms over ${SAMPLES}; one month's read ${readMs} ms; aim 5 s: ${Math.max(0, ...latencies) <= 5_000 ? 'met' : 'MISSED'}`);

  const rebuilding = Date.now();
  const report = await runner.rebuild();
  const rebuiltMs = Date.now() - rebuilding;
  console.log(`indicators rebuilt (a new generation beside the live one, switched): ${seconds(rebuiltMs)} (${rate(events, rebuiltMs)}); aim 2 minutes: ${rebuiltMs <= 120_000 ? 'met' : 'MISSED'}; ${JSON.stringify(report)}`);
  const after = await missedNow();
  console.log(`missed visits in the month after the rebuild: ${after} (before the samples ${before}, + ${SAMPLES} appended)`);
  await runner.stop();
  server.close();

  // --- reference points: the log read alone, and the FHIR projection over the same log ----------
  const reading = Date.now();
  let read = 0;
  for (let from = 1; ; ) {
    const page = await store.readAll({ fromPosition: from, maxCount: 1000 });
    if (page.length === 0) break;
    read += page.length;
    from = page[page.length - 1]!.position + 1;
  }
  const readAllMs = Date.now() - reading;
  console.log(`reference: the whole log read in pages of 1,000: ${seconds(readAllMs)} (${rate(read, readAllMs)})`);
  const fhirRunner = new ProjectionRunner(store, pgliteDriver(new PGlite(), true), [fhirProjection]);
  const fhirStart = Date.now();
  await fhirRunner.start();
  await fhirRunner.waitFor(await store.headPosition(), REFERENCE_SECONDS * 1000);
  const fhirMs = Date.now() - fhirStart;
  await fhirRunner.stop();
  // Positions are not counts (they come from transaction ids): count the events the FHIR projection had reached.
  const fhirEvents = Number((await storeDb.query<{ n: string | number }>('select count(*) as n from tandem_events where position <= $1', [fhirRunner.position])).rows[0]!.n);
  console.log(`reference: the FHIR projection over the same log: ${fhirEvents.toLocaleString('en-GB')} events in ${seconds(fhirMs)} (${rate(fhirEvents, fhirMs)})${fhirEvents < read ? `, stopped at ${REFERENCE_SECONDS} s` : ''}`);
  console.log(`load at end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
