import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { careEventDefinitions, delegationEventDefinitions, EventRegistry, streamName, type Actor } from '@tandem/contracts';
import { pgliteBackend, pgliteDriver, validatedStore, type EventStore } from '@tandem/event-store';
import type { CarePlan, Communication, FhirResource, Flag, Practitioner, Task } from 'fhir/r4';
import { FhirReader, SEARCH_PARAMS } from '@tandem/fhir-read-model';
import { fhirProjection, ProjectionRunner } from '../src';
import { carePlanId, COMPETENCE_SYSTEM, ESCALATION_TIER_EXTENSION, flagId } from '../src/fhir/mapping/delegation';
import { expectValidFhir } from '@tandem/fhir-validation';

const NMC = 'https://fhir.hl7.org.uk/Id/nmc-number' as const;
const nurse: Actor = { id: 'nurse-sarah-okafor', role: 'district-nurse', registration: { system: NMC, value: '12A3456E' } };
const amira: Actor = { id: 'cw-amira-hassan', role: 'care-worker' };
const system: Actor = { id: 'tandem-delegation', role: 'system' };
const professional = { practitionerId: nurse.id, role: nurse.role, registration: nurse.registration! };

/**
 * The delegation service's events as FHIR: competence as Practitioner.qualification, each
 * delegation as a Task following its status, the framework's CarePlan, each escalation as a
 * Communication (SBARD in the payload) with a Flag active while it is open. Every resource is
 * checked against the FHIR R4 validator.
 */
describe('FHIR views of delegation', () => {
  let db: PGlite;
  let store: EventStore;
  let runner: ProjectionRunner;
  let reader: FhirReader;
  const patientId = randomUUID();
  const delegationId = 'jones-evening-insulin';
  const escalationId = randomUUID();
  const competency = `competency-${amira.id}-insulin-administration`;

  const append = async (stream: string, type: string, data: unknown, actor: Actor = nurse, occurredAt = '2025-03-03T17:45:00Z') => {
    const { position } = await store.append(stream, [{ id: randomUUID(), type, data, metadata: { actor, correlationId: randomUUID(), occurredAt } }], { expectedRevision: 'any' });
    expect(await runner.waitFor(position, 5000)).toBe(true);
  };
  const read = async <R extends FhirResource>(type: R['resourceType'], id: string): Promise<R & { meta: { versionId: string } }> => {
    const stored = await reader.read(type, id);
    if (!stored) throw new Error(`${type}/${id} is not in the read model`);
    expectValidFhir(stored.resource);
    return stored.resource as R & { meta: { versionId: string } };
  };
  const taskStatus = async () => (await read<Task>('Task', delegationId)).status;

  beforeAll(async () => {
    db = new PGlite();
    store = validatedStore(await pgliteBackend({ db }), new EventRegistry([...careEventDefinitions, ...delegationEventDefinitions]));
    runner = new ProjectionRunner(store, pgliteDriver(db, false), [fhirProjection]);
    await runner.start();
    reader = new FhirReader(pgliteDriver(db, false));
    await append(`practitioner-${amira.id}`, 'PractitionerRegistered', {
      practitionerId: amira.id,
      name: { given: ['Amira'], family: 'Hassan' },
      role: 'care-worker',
      organisationId: 'org-kindly-care',
    });
  });
  afterAll(async () => {
    await runner.stop();
    await db.close();
  });

  it('a signed-off competence is a Practitioner.qualification until reassessment; a lapse ends it and says so', async () => {
    await append(competency, 'CompetenceSignedOff', {
      assessor: professional,
      validUntil: '2026-03-03T09:00:00.000Z',
      careWorkerConsent: true,
      frameworkId: 'insulin-administration',
      frameworkVersion: 1,
    });
    const signedOff = await read<Practitioner>('Practitioner', amira.id);
    expect(signedOff.name?.[0]?.family).toBe('Hassan');
    expect(signedOff.qualification).toEqual([
      expect.objectContaining({
        identifier: [{ system: COMPETENCE_SYSTEM, value: competency }],
        period: { start: '2025-03-03T17:45:00Z', end: '2026-03-03T09:00:00.000Z' },
        issuer: { reference: `Practitioner/${nurse.id}` },
      }),
    ]);
    expect(signedOff.qualification![0]!.code.text).toContain('Insulin administration (signed off by nurse-sarah-okafor, 12A3456E; valid until 2026-03-03)');

    await append(competency, 'CompetenceLapsed', { validUntil: '2026-03-03T09:00:00.000Z' }, system, '2026-03-03T09:00:00.000Z');
    const lapsed = (await read<Practitioner>('Practitioner', amira.id)).qualification![0]!;
    expect(lapsed.code.text).toMatch(/Insulin administration \(lapsed: not reassessed in time\)$/);
    expect(lapsed.period).toEqual({ start: '2025-03-03T17:45:00Z', end: '2026-03-03T09:00:00.000Z' });
    expect(lapsed.extension).toEqual([{ url: 'https://tandem.nhs.example/fhir/StructureDefinition/competence-status', valueCode: 'lapsed' }]);
  });

  it('a competence in a framework added later is named with the separator: a care worker whose id ends like a framework gets it, and its suspension, nobody else', async () => {
    // Two care workers whose ids only a wrong split of the name would confuse.
    const short: Actor = { id: 'cw-li', role: 'care-worker' };
    const long: Actor = { id: 'cw-li-pressure', role: 'care-worker' };
    for (const who of [short, long]) await append(streamName.practitioner(who.id), 'PractitionerRegistered', { practitionerId: who.id, name: { given: ['Li'], family: who.id }, role: 'care-worker', organisationId: 'org-kindly-care' });
    const stream = streamName.competency(long.id, 'area-care');
    expect(stream).toBe('competency-cw-li-pressure_area-care');
    await append(stream, 'CompetenceSignedOff', { assessor: professional, validUntil: '2026-03-03T09:00:00.000Z', careWorkerConsent: true, frameworkId: 'area-care', frameworkVersion: 1 });
    await append(stream, 'CompetenceSuspended', { by: professional, reason: 'A dose given without checking the plan' });

    const [qualification] = (await read<Practitioner>('Practitioner', long.id)).qualification!;
    expect(qualification!.identifier).toEqual([{ system: COMPETENCE_SYSTEM, value: stream }]);
    expect(qualification!.code.text).toMatch(/^Competent to perform a delegated healthcare activity: Area care \(suspended: A dose given without checking the plan\)$/);
    expect((await read<Practitioner>('Practitioner', short.id)).qualification).toBeUndefined();
  });

  it('a delegation is a Task, based on the person’s CarePlan for the framework, its status following the delegation', async () => {
    await append(`delegation-${delegationId}`, 'DelegationProposed', {
      delegationId,
      patientId,
      frameworkId: 'insulin-administration',
      frameworkVersion: 1,
      activityId: 'insulin-administration',
      delegatedBy: professional,
      careWorker: { practitionerId: amira.id, role: 'care-worker' },
      instruction: {
        kind: 'insulin',
        product: 'Humulin I KwikPen',
        device: 'pen',
        dose: { value: 8, unit: 'units' },
        times: ['18:00'],
        sites: ['abdomen', 'thigh'],
        glucoseTargets: { lowMmolL: 6, highMmolL: 10 },
        minimumIntervalMinutes: 240,
        whenOutOfRange: 'Below 4.0 mmol/L: hypo protocol, no insulin.',
      },
      eligibility: { ageYears: 78, diabetesStable: true, insulinDevice: 'pen' },
      reviewIntervalDays: 90,
    });
    const task = await read<Task>('Task', delegationId);
    expect(task).toMatchObject({
      status: 'requested',
      intent: 'order',
      for: { reference: `Patient/${patientId}` },
      requester: { reference: `Practitioner/${nurse.id}` },
      owner: { reference: `Practitioner/${amira.id}` },
      basedOn: [{ reference: `CarePlan/${carePlanId(patientId, 'insulin-administration')}` }],
    });
    expect(task.description).toContain('8 units of Humulin I KwikPen by pen at 18:00');
    const plan = await read<CarePlan>('CarePlan', carePlanId(patientId, 'insulin-administration'));
    expect(plan).toMatchObject({ status: 'active', intent: 'plan', subject: { reference: `Patient/${patientId}` }, activity: [{ reference: { reference: `Task/${delegationId}` } }] });

    await append(`delegation-${delegationId}`, 'DelegationAccepted', { careWorker: { practitionerId: amira.id, role: 'care-worker' } }, amira);
    expect(await taskStatus()).toBe('accepted');
    await append(`delegation-${delegationId}`, 'PersonAgreementRecorded', { agreedBy: 'person' });
    await append(`delegation-${delegationId}`, 'DelegationActivated', {
      activatedBy: professional,
      competence: { careWorkerId: amira.id, frameworkId: 'insulin-administration', status: 'signedOff', validUntil: '2026-03-03T09:00:00.000Z' },
      reviewDueAt: '2025-06-01T17:45:00.000Z',
    });
    expect(await taskStatus()).toBe('in-progress');
    await append(`delegation-${delegationId}`, 'DelegationSuspended', { by: { practitionerId: system.id, role: 'system' }, cause: 'competence-lapsed', reason: 'The competence lapsed' }, system);
    const suspended = await read<Task>('Task', delegationId);
    expect(suspended).toMatchObject({ status: 'on-hold', statusReason: { text: 'The competence lapsed' } });
    expect(Number(suspended.meta.versionId)).toBe(5);
    await append(`delegation-${delegationId}`, 'DelegationWithdrawn', { by: professional, reason: 'Mr Jones now manages his own insulin' });
    expect(await taskStatus()).toBe('cancelled');
    const found = await reader.search('Task', { patient: `Patient/${patientId}`, status: 'cancelled' });
    expect(found.matches.map((r) => r.id)).toEqual([delegationId]);
  });

  it('an escalation is a Communication with SBARD in its payload and an active Flag until it is resolved', async () => {
    const stream = `escalation-${escalationId}`;
    await append(
      stream,
      'EscalationRaised',
      {
        escalationId,
        patientId,
        frameworkId: 'insulin-administration',
        frameworkVersion: 1,
        delegationId,
        ruleId: 'insulin.hypo',
        urgency: 'urgent',
        sbard: {
          situation: 'Hypoglycaemia (blood glucose below 4.0 mmol/L). Recorded by cw-amira-hassan: blood glucose 3.4 mmol/L.',
          background: 'Insulin administration by pen.',
          assessment: 'blood glucose 3.4 mmol/L (below 4.0 mmol/L).',
          recommendation: 'Hypo protocol started by the care worker.',
          decision: 'Urgent clinical review. Please acknowledge within 30 minutes.',
        },
        triggeringEntryIds: [randomUUID()],
        incident: false,
      },
      system,
    );
    await append(stream, 'EscalationSentToTier', { tier: 0, tierId: 'accountable-district-nurse', recipient: 'accountable-district-nurse', dueAt: '2025-03-03T18:15:00.000Z', informed: [] }, system);
    const communication = await read<Communication>('Communication', escalationId);
    expect(communication).toMatchObject({
      status: 'in-progress',
      priority: 'urgent',
      subject: { reference: `Patient/${patientId}` },
      about: [{ reference: `Task/${delegationId}` }],
      recipient: [{ reference: `Practitioner/${nurse.id}`, display: 'Accountable district nurse' }],
    });
    expect(communication.payload!.map((p) => p.contentString!.split(':')[0])).toEqual(['Situation', 'Background', 'Assessment', 'Recommendation', 'Decision']);
    const flag = await read<Flag>('Flag', flagId(escalationId));
    expect(flag.status).toBe('active');
    expect(flag.code.text).toBe('Urgent escalation open: Hypoglycaemia (blood glucose below 4.0 mmol/L)');

    await append(stream, 'EscalationReEscalated', { fromTier: 0, toTier: 1, missedDueAt: '2025-03-03T18:15:00.000Z', reason: 'Not acknowledged by Accountable district nurse' }, system, '2025-03-03T18:15:00Z');
    await append(stream, 'EscalationSentToTier', { tier: 1, tierId: 'on-call-nurse-or-gp', recipient: 'on-call-nurse-or-gp', dueAt: '2025-03-03T18:45:00.000Z', informed: [] }, system, '2025-03-03T18:15:00Z');
    await append(stream, 'EscalationAcknowledged', { by: professional, tier: 1, note: 'Calling Amira now' }, nurse, '2025-03-03T18:20:00Z');
    expect((await read<Flag>('Flag', flagId(escalationId))).status).toBe('active');
    await append(stream, 'EscalationResolved', { by: professional, outcome: 'Glucose 5.8 after treatment' }, nurse, '2025-03-03T18:40:00Z');
    const resolved = await read<Communication>('Communication', escalationId);
    expect(resolved.status).toBe('completed');
    expect(resolved.note!.map((n) => n.text)).toEqual([
      expect.stringContaining('Sent to tier 1'),
      expect.stringContaining('Re-escalated from tier 1 to tier 2'),
      expect.stringContaining('Sent to tier 2'),
      'Acknowledged by nurse-sarah-okafor (district-nurse) at tier 2: Calling Amira now',
      'Resolved: Glucose 5.8 after treatment',
    ]);
    expect(await read<Flag>('Flag', flagId(escalationId))).toMatchObject({ status: 'inactive', period: { start: '2025-03-03T17:45:00Z', end: '2025-03-03T18:40:00Z' } });
    expect((await reader.search('Flag', { patient: `Patient/${patientId}`, status: 'active' })).matches).toEqual([]);
  });

  it('each tier names its people: the Communication lists them as Practitioner recipients, and its tier extension says the tier its notes say', async () => {
    const id = randomUUID();
    const stream = `escalation-${id}`;
    const sbard = { situation: 'Hypoglycaemia.', background: 'No activity is delegated.', assessment: 'blood glucose 3.2 mmol/L.', recommendation: 'Hypo protocol.', decision: 'Urgent review.' };
    await append(stream, 'EscalationRaised', { escalationId: id, patientId, frameworkId: 'whole-record', frameworkVersion: 1, ruleId: 'hypoglycaemia.below-4', urgency: 'urgent', sbard, triggeringEntryIds: [randomUUID()], incident: false }, system);
    const tier1 = { tier: 0, tierId: 'accountable-district-nurse', recipient: 'accountable-district-nurse', recipients: [{ practitionerId: nurse.id, reason: 'nursing team' }], dueAt: '2025-03-03T18:15:00.000Z', informed: [] };
    await append(stream, 'EscalationSentToTier', tier1, system);
    await append(stream, 'EscalationReEscalated', { fromTier: 0, toTier: 1, missedDueAt: '2025-03-03T18:15:00.000Z', reason: 'Not acknowledged' }, system, '2025-03-03T18:15:00Z');
    const tier2 = { tier: 1, tierId: 'on-call-nurse-or-gp', recipient: 'on-call-nurse-or-gp', recipients: [{ practitionerId: 'gp-david-shah', reason: 'on call (Y12345 rota)' }], dueAt: '2025-03-03T18:45:00.000Z', informed: [] };
    await append(stream, 'EscalationSentToTier', tier2, system, '2025-03-03T18:15:00Z');
    const communication = await read<Communication>('Communication', id);
    expect(communication.recipient).toEqual([
      { reference: `Practitioner/${nurse.id}`, display: 'Accountable district nurse: nursing team' },
      { reference: 'Practitioner/gp-david-shah', display: 'On call nurse or gp: on call (Y12345 rota)' },
    ]);
    expect(communication.extension).toEqual([{ url: ESCALATION_TIER_EXTENSION, valueInteger: 2 }]);
    expect(communication.note!.at(-1)!.text).toMatch(/^Sent to tier 2 \(On call nurse or gp\); to acknowledge by 2025-03-03T18:45:00.000Z\. To gp-david-shah\./);
  });

  it('Task, CarePlan, Communication and Flag are searchable by patient, status and _lastUpdated', () => {
    for (const type of ['Task', 'CarePlan', 'Communication', 'Flag']) expect(Object.keys(SEARCH_PARAMS[type]!)).toEqual(expect.arrayContaining(['patient', 'status', '_lastUpdated']));
  });
});
