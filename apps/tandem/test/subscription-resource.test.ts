import type { RecordedEvent } from '@tandem/event-store';
import { expectValidFhir } from '@tandem/fhir-validation';
import { notificationBundle } from '../src/subscriptions/notification';
import { evolveSubscription, FILTER_CRITERIA_EXTENSION, initialSubscriptionState, parseSubscription, PAYLOAD_CONTENT_EXTENSION, subscriptionResource, type Fault } from '../src/subscriptions/subscription';
import { DELEGATION_TOPIC, DOSE_MISSED_TOPIC, ESCALATION_TOPIC, NEW_ENTRY_TOPIC, NEWS2_TOPIC, TopicIndex } from '../src/subscriptions/topics';

/** The Subscription resource, its stream and its notification, as pure functions (the HTTP test is subscriptions.test.ts). */
const PATIENT = '3f2a6c1e-8b4d-4e7a-9c1f-2d5b8e0a7c64';
const valid = {
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'Escalations for my patients',
  criteria: ESCALATION_TOPIC,
  _criteria: { extension: [{ url: FILTER_CRITERIA_EXTENSION, valueString: `Communication?patient=Patient/${PATIENT}` }] },
  channel: { type: 'rest-hook', endpoint: 'https://gp.example.nhs.uk/notify', payload: 'application/fhir+json', _payload: { extension: [{ url: PAYLOAD_CONTENT_EXTENSION, valueCode: 'full-resource' }] } },
};
const faultsOf = (body: unknown) => parseSubscription(body) as Fault[];

describe('a topic-based R4 Subscription, as a client sends it', () => {
  it('given the escalation topic filtered to one person, when parsed, then it is that topic, that person, the endpoint and the payload', () => {
    // a rest-hook endpoint shakes hands before the subscription is active
    expect(parseSubscription(valid)).toEqual({ topic: ESCALATION_TOPIC, patientId: PATIENT, endpoint: 'https://gp.example.nhs.uk/notify', payload: 'full-resource', reason: 'Escalations for my patients', handshake: true });
  });

  it('names each element at fault by its FHIRPath: an unknown topic, a plain-http endpoint elsewhere, credentials in it, another channel, a filter the topic does not have', () => {
    expect(faultsOf({ ...valid, criteria: 'https://example.org/topic' }).map((f) => f.expression)).toEqual(['Subscription.criteria']);
    expect(faultsOf({ ...valid, channel: { ...valid.channel, endpoint: 'http://gp.example.nhs.uk/notify' } }).map((f) => f.expression)).toEqual(['Subscription.channel.endpoint']);
    expect(faultsOf({ ...valid, channel: { ...valid.channel, endpoint: 'https://user:secret@gp.example.nhs.uk/' } }).map((f) => f.expression)).toEqual(['Subscription.channel.endpoint']);
    expect(faultsOf({ ...valid, channel: { ...valid.channel, type: 'email' } }).map((f) => f.expression)).toEqual(['Subscription.channel.type']);
    // a websocket subscription has no endpoint: the client opens the socket
    expect(faultsOf({ ...valid, channel: { ...valid.channel, type: 'websocket' } }).map((f) => f.expression)).toEqual(['Subscription.channel.endpoint']);
    expect(faultsOf({ ...valid, _criteria: { extension: [{ url: FILTER_CRITERIA_EXTENSION, valueString: 'Communication?status=active' }] } })[0]!.expression).toBe('Subscription.criteria.extension(backport-filter-criteria)');
    expect(faultsOf({ ...valid, _criteria: { extension: [{ url: FILTER_CRITERIA_EXTENSION, valueString: 'Communication?patient=Patient/not-a-person' }] } })[0]!.message).toContain('Patient/<id>');
    expect(faultsOf('not a resource').map((f) => f.expression)).toEqual(expect.arrayContaining(['Subscription.resourceType', 'Subscription.criteria', 'Subscription.channel.type', 'Subscription.channel.endpoint']));
  });

  it('a websocket subscription is taken without an endpoint, and read back as websocket', () => {
    const { endpoint: _endpoint, ...channel } = valid.channel;
    const parsed = parseSubscription({ ...valid, channel: { ...channel, type: 'websocket' } });
    expect(parsed).toEqual({ topic: ESCALATION_TOPIC, patientId: PATIENT, channel: 'websocket', payload: 'full-resource', reason: 'Escalations for my patients' });
    const state = evolveSubscription(initialSubscriptionState, { type: 'SubscriptionRequested', data: { subscriptionId: 'sub-ws', owner: { actor: { id: 'gp-1', role: 'gp' }, scope: 'user/*.rs' }, ...(parsed as Exclude<typeof parsed, Fault[]>) }, position: 1, revision: 0 });
    const resource = subscriptionResource(state as Extract<typeof state, { exists: true }>);
    expect(resource.channel).toMatchObject({ type: 'websocket' });
    expect(resource.channel.endpoint).toBeUndefined();
    expectValidFhir(resource);
  });

  it('the new-entry topic is about Observations and MedicationAdministrations: a filter naming one narrows it to that type; another type is refused', () => {
    const entries = (criteria: string) => ({ ...valid, criteria: NEW_ENTRY_TOPIC, _criteria: { extension: [{ url: FILTER_CRITERIA_EXTENSION, valueString: criteria }] } });
    expect(parseSubscription(entries(`patient=Patient/${PATIENT}`))).toMatchObject({ topic: NEW_ENTRY_TOPIC, patientId: PATIENT });
    expect(parseSubscription(entries(`patient=Patient/${PATIENT}`))).not.toHaveProperty('focusType');
    expect(parseSubscription(entries(`MedicationAdministration?patient=Patient/${PATIENT}`))).toMatchObject({ focusType: 'MedicationAdministration', patientId: PATIENT });
    expect(faultsOf(entries(`Communication?patient=Patient/${PATIENT}`))[0]!.message).toContain('Observation or MedicationAdministration');
    expect(faultsOf(entries(`Observation?news2=ge5`))[0]!.message).toContain('news2 is not a filter of this topic');
    expect(faultsOf({ ...valid, criteria: DELEGATION_TOPIC })[0]!.message).toContain('on Task');
  });

  it('takes a heartbeat period in seconds (backport-heartbeat-period), 1 to 86400', () => {
    const withHeartbeat = (value: unknown) => ({ ...valid, channel: { ...valid.channel, extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-heartbeat-period', valueUnsignedInt: value }] } });
    expect(parseSubscription(withHeartbeat(60))).toMatchObject({ heartbeatSeconds: 60 });
    expect(faultsOf(withHeartbeat(0)).map((f) => f.expression)).toEqual(['Subscription.channel.extension(backport-heartbeat-period)']);
    expect(faultsOf(withHeartbeat('60')).map((f) => f.expression)).toEqual(['Subscription.channel.extension(backport-heartbeat-period)']);
  });

  it('the NEWS2 topic takes a threshold (news2=ge<score>, 0 to 20), 5 when none is given', () => {
    const news2 = (criteria?: string) => ({ ...valid, criteria: NEWS2_TOPIC, _criteria: criteria ? { extension: [{ url: FILTER_CRITERIA_EXTENSION, valueString: criteria }] } : undefined });
    expect(parseSubscription(news2(`Observation?patient=Patient/${PATIENT}&news2=ge7`))).toMatchObject({ minimumScore: 7, patientId: PATIENT });
    expect(parseSubscription(news2())).toMatchObject({ minimumScore: 5 });
    expect(faultsOf(news2('Observation?news2=ge21'))[0]!.message).toContain('0 to 20');
  });
});

describe('a subscription stream folded', () => {
  const requested = { subscriptionId: 'sub-1', owner: { actor: { id: 'gp-1', role: 'gp' as const }, scope: 'user/*.cruds' }, topic: ESCALATION_TOPIC, patientId: PATIENT, endpoint: 'https://gp.example.nhs.uk/notify', payload: 'id-only' as const };
  const at = '2025-11-20T20:30:00.000Z';
  it('given a rest-hook subscription requested with a handshake, then it is requested; a refused handshake is error; the accepted one makes it active, error cleared', () => {
    let state = evolveSubscription(initialSubscriptionState, { type: 'SubscriptionRequested', data: { ...requested, handshake: true }, position: 10, revision: 0 });
    expect(state).toMatchObject({ status: 'requested', handshaken: false, eventsSinceStart: 0, checkpoint: 10 });
    expect(subscriptionResource(state as Extract<typeof state, { exists: true }>).status).toBe('requested');
    state = evolveSubscription(state, { type: 'SubscriptionErrored', data: { attempts: 1, problem: 'the handshake was not accepted: the endpoint answered 503', at }, position: 11, revision: 1 });
    expect(state).toMatchObject({ status: 'error', handshaken: false });
    state = evolveSubscription(state, { type: 'SubscriptionActivated', data: { at }, position: 12, revision: 2 });
    expect(state).toMatchObject({ status: 'active', handshaken: true, eventsSinceStart: 0, checkpoint: 10 });
    expect(state).not.toHaveProperty('error');
  });

  it('given requested (recorded before handshakes: no flag), notified twice, errored, resumed and deleted, then its count, checkpoint and status follow', () => {
    let state = evolveSubscription(initialSubscriptionState, { type: 'SubscriptionRequested', data: requested, position: 10, revision: 0 });
    expect(state).toMatchObject({ status: 'active', handshaken: true, eventsSinceStart: 0, checkpoint: 10 });
    state = evolveSubscription(state, { type: 'SubscriptionNotified', data: { eventNumber: 1, position: 14, focus: 'Communication/e1' }, position: 15, revision: 1 });
    state = evolveSubscription(state, { type: 'SubscriptionErrored', data: { attempts: 5, problem: 'the endpoint answered 503', at }, position: 16, revision: 2 });
    expect(state).toMatchObject({ status: 'error', eventsSinceStart: 1, checkpoint: 14, error: 'the endpoint answered 503' });
    expect(subscriptionResource(state as Extract<typeof state, { exists: true }>)).toMatchObject({ status: 'error', error: 'the endpoint answered 503' });
    state = evolveSubscription(state, { type: 'SubscriptionResumed', data: { at }, position: 20, revision: 3 });
    state = evolveSubscription(state, { type: 'SubscriptionNotified', data: { eventNumber: 2, position: 18, focus: 'Communication/e1' }, position: 20, revision: 4 });
    expect(state).toMatchObject({ status: 'active', eventsSinceStart: 2, checkpoint: 18 });
    state = evolveSubscription(state, { type: 'SubscriptionDeleted', data: { at }, position: 21, revision: 5 });
    const resource = subscriptionResource(state as Extract<typeof state, { exists: true }>);
    expect(resource).toMatchObject({ status: 'off', criteria: ESCALATION_TOPIC, meta: { versionId: '6' } });
    expectValidFhir(resource);
  });
});

describe('the notification Bundle', () => {
  it('is an R4 history Bundle whose first entry is the subscription status (Parameters) with the event number, then the focus', () => {
    const bundle = notificationBundle({
      notificationId: '7b0c6c1e-8b4d-4e7a-9c1f-2d5b8e0a7c64',
      subscriptionId: 'sub-1',
      topic: ESCALATION_TOPIC,
      status: 'active',
      eventNumber: 3,
      timestamp: '2025-11-20T20:30:00.000Z',
      triggered: { patientId: PATIENT, focus: { type: 'Communication', id: 'esc-1' }, created: false },
      payload: 'id-only',
    });
    expectValidFhir(bundle);
    expect(bundle.type).toBe('history');
    const status = bundle.entry![0]!.resource as { parameter: { name: string; valueString?: string }[] };
    expect(status.parameter.find((p) => p.name === 'events-since-subscription-start')!.valueString).toBe('3');
    expect(bundle.entry![1]).toEqual({ fullUrl: 'https://tandem.nhs.example/fhir/Communication/esc-1', request: { method: 'PUT', url: 'Communication/esc-1' }, response: { status: '200' } });
  });
});

describe('the topics, from the log', () => {
  const event = (type: string, stream: string, data: unknown, position: number) => ({ id: `e${position}`, stream, revision: 0, position, type, schemaVersion: 1, data, metadata: {} }) as unknown as RecordedEvent;
  it("an escalation's later events are its person's too (learnt from its first); a NEWS2 below the threshold or incomplete below it triggers nothing", () => {
    const index = new TopicIndex();
    const raised = event('EscalationRaised', 'escalation-esc-1', { escalationId: 'esc-1', patientId: PATIENT }, 1);
    const acknowledged = event('EscalationAcknowledged', 'escalation-esc-1', {}, 2);
    for (const e of [raised, acknowledged]) index.observe(e);
    expect(index.triggered(ESCALATION_TOPIC, acknowledged)).toEqual({ patientId: PATIENT, focus: { type: 'Communication', id: 'esc-1' }, created: false });
    const vitals = (total: number | null, partialTotal: number) => event('VitalSignsRecorded', `patient-${PATIENT}`, { patientId: PATIENT, news2: { total, partialTotal } }, 3);
    expect(index.triggered(NEWS2_TOPIC, vitals(4, 4), 5)).toBeUndefined();
    expect(index.triggered(NEWS2_TOPIC, vitals(null, 4), 5)).toBeUndefined();
    expect(index.triggered(NEWS2_TOPIC, vitals(null, 5), 5)).toMatchObject({ news2: 5, focus: { type: 'Observation', id: 'e3-news2' } });
    expect(index.triggered(ESCALATION_TOPIC, vitals(9, 9))).toBeUndefined();
  });

  it('every new entry triggers the new-entry topic with its own resource (an insulin dose its MedicationAdministration); a correction does not', () => {
    const index = new TopicIndex();
    const glucose = event('BloodGlucoseRecorded', `care-${PATIENT}`, { patientId: PATIENT, glucoseMmolL: 3.2 }, 4);
    const dose = event('InsulinAdministered', `care-${PATIENT}`, { patientId: PATIENT }, 5);
    const amended = event('EntryAmended', `care-${PATIENT}`, { patientId: PATIENT, entryId: 'e4' }, 6);
    expect(index.triggered(NEW_ENTRY_TOPIC, glucose)).toEqual({ patientId: PATIENT, focus: { type: 'Observation', id: 'e4' }, created: true });
    expect(index.triggered(NEW_ENTRY_TOPIC, dose)).toEqual({ patientId: PATIENT, focus: { type: 'MedicationAdministration', id: 'e5' }, created: true });
    expect(index.triggered(NEW_ENTRY_TOPIC, amended)).toBeUndefined();
    expect(index.triggered(DELEGATION_TOPIC, glucose)).toBeUndefined();
  });

  it("a delegation's later events are its person's too (learnt from its proposal), each about its Task", () => {
    const index = new TopicIndex();
    const proposed = event('DelegationProposed', 'delegation-del-1', { patientId: PATIENT }, 7);
    const suspended = event('DelegationSuspended', 'delegation-del-1', {}, 8);
    const unknown = event('DelegationSuspended', 'delegation-del-2', {}, 9);
    for (const e of [proposed, suspended, unknown]) index.observe(e);
    expect(index.triggered(DELEGATION_TOPIC, proposed)).toEqual({ patientId: PATIENT, focus: { type: 'Task', id: 'del-1' }, created: true });
    expect(index.triggered(DELEGATION_TOPIC, suspended)).toEqual({ patientId: PATIENT, focus: { type: 'Task', id: 'del-1' }, created: false });
    // a delegation whose proposal was never seen names no person: nothing is sent about it
    expect(index.triggered(DELEGATION_TOPIC, unknown)).toBeUndefined();
  });

  it('a dose recorded missed, refused or not given, or a scheduled dose escalated as overdue, triggers the dose-missed topic; a dose given does not', () => {
    const index = new TopicIndex();
    const dose = (outcome: string, position: number) => event('MedicineDoseRecorded', `care-${PATIENT}`, { patientId: PATIENT, orderId: 'o1', outcome, scheduledTime: '08:00' }, position);
    expect(index.triggered(DOSE_MISSED_TOPIC, dose('missed', 10))).toEqual({ patientId: PATIENT, focus: { type: 'MedicationAdministration', id: 'e10' }, created: true });
    expect(index.triggered(DOSE_MISSED_TOPIC, dose('refused', 11))).toMatchObject({ focus: { type: 'MedicationAdministration', id: 'e11' } });
    expect(index.triggered(DOSE_MISSED_TOPIC, dose('not-given', 12))).toMatchObject({ focus: { type: 'MedicationAdministration', id: 'e12' } });
    expect(index.triggered(DOSE_MISSED_TOPIC, dose('given', 13))).toBeUndefined();
    expect(index.triggered(DOSE_MISSED_TOPIC, dose('already-taken', 14))).toBeUndefined();
    const overdue = event('EscalationRaised', 'escalation-esc-9', { escalationId: 'esc-9', patientId: PATIENT, ruleId: 'medicine.dose-overdue' }, 15);
    const other = event('EscalationRaised', 'escalation-esc-8', { escalationId: 'esc-8', patientId: PATIENT, ruleId: 'insulin.hypo' }, 16);
    expect(index.triggered(DOSE_MISSED_TOPIC, overdue)).toEqual({ patientId: PATIENT, focus: { type: 'Communication', id: 'esc-9' }, created: true });
    expect(index.triggered(DOSE_MISSED_TOPIC, other)).toBeUndefined();
  });
});
