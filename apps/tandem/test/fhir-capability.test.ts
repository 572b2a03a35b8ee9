import { mintToken, type MintClaims } from '@tandem/auth';
import { MedplumClient } from '@medplum/core';
import { SEARCH_PARAMS } from '@tandem/fhir-read-model';
import { expectValidFhir } from '@tandem/fhir-validation';
import type { createRecordService } from '@tandem/record';
import Client from 'fhir-kit-client';
import type { Bundle, CapabilityStatement, CapabilityStatementRestResource, FhirResource, OperationOutcome, Parameters } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO, seedDemoData } from '../src/demo/demo-data';
import { seedDemoDelegationSide } from '../src/demo/first-start';
import { seedDemoMedicinesAndVisits } from '../src/demo/medicines-visits';
import type { createDelegationService } from '@tandem/delegation';

/**
 * Issue 17 item 8: every claim of /fhir/metadata holds. The test reads the statement the running
 * server serves and, for each claim in it (each type's interactions, search parameters, includes
 * and operations, its formats, security, versioning and conditional flags), makes the request
 * the claim means with a real FHIR client (fhir-kit-client and @medplum/core) and checks the
 * answer; then a sample of what it does not claim, which must be refused with an
 * OperationOutcome (405, 404, 406, 415), as must every error under /fhir.
 */

type CallOptions = { bearer?: string | undefined; headers?: Record<string, string>; body?: string };
type Answer = { status: number; type: string | null; body: { resourceType?: string; issue?: OperationOutcome['issue']; total?: number; entry?: Bundle['entry'] } & Record<string, unknown> };

const NOW_VISIT = 'capability-visit-now';
const TOMORROW_VISIT = 'capability-visit-tomorrow';
const HYPERTENSION = (patientId: string) => ({
  resourceType: 'Condition',
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  code: { coding: [{ system: 'http://snomed.info/sct', code: '38341003', display: 'Hypertensive disorder' }] },
  subject: { reference: `Patient/${patientId}` },
});
const SMART_OAUTH_URIS = 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris';
const SMART_SERVICE = 'http://terminology.hl7.org/CodeSystem/restful-security-service';

describe('the CapabilityStatement tells the truth: every claim of /fhir/metadata holds against the running server', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let patientId: string;
  let statement: CapabilityStatement;
  let auditor: string;
  let gp: string;
  let careWorker: string;
  let manager: string;
  let kit: InstanceType<typeof Client>;
  let medplum: MedplumClient;
  /** One resource of each type the record serves, as the auditor (who may read everyone) reads it. */
  const samples = new Map<string, FhirResource>();

  const token = (claims: MintClaims) => mintToken(claims, { dataDir });

  const call = async (method: string, path: string, o: CallOptions = {}): Promise<Answer> => {
    const response = await fetch(path.startsWith('http') ? path : `${tandem.url}/fhir${path}`, {
      method,
      headers: { ...(o.bearer ? { authorization: `Bearer ${o.bearer}` } : {}), ...(o.body !== undefined ? { 'content-type': 'application/fhir+json' } : {}), ...o.headers },
      ...(o.body !== undefined ? { body: o.body } : {}),
    });
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type'), body: text ? (JSON.parse(text) as Answer['body']) : {} };
  };

  /** A refusal as FHIR gives one: the status, and an OperationOutcome (never problem+json) whose first issue has this code. */
  const expectRefusal = (answer: Answer, status: number, code?: string) => {
    expect({ status: answer.status, type: answer.type?.split(';')[0], resourceType: answer.body.resourceType }).toEqual({ status, type: 'application/fhir+json', resourceType: 'OperationOutcome' });
    expectValidFhir(answer.body as never);
    if (code) expect(answer.body.issue![0]!.code).toBe(code);
  };

  const declared = (type: string): CapabilityStatementRestResource => {
    const resource = statement.rest![0]!.resource!.find((r) => r.type === type);
    if (!resource) throw new Error(`${type} is not declared`);
    return resource;
  };
  const recordTypes = () => statement.rest![0]!.resource!.filter((r) => Object.hasOwn(SEARCH_PARAMS, r.type));
  const interactionsOf = (r: CapabilityStatementRestResource) => (r.interaction ?? []).map((i) => i.code);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-capability-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', LOG_LEVEL: 'silent' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    const delegation = tandem.services.find((s) => s.name === 'delegation') as ReturnType<typeof createDelegationService>;
    const now = new Date();
    ({
      patientIds: [patientId = ''],
    } = await seedDemoData(record.care, { patients: 1, days: 1, now }));
    await seedDemoDelegationSide(delegation.commands, { patientIds: [patientId], now });
    await seedDemoMedicinesAndVisits(record.care, { patientId, now, insulinDelegation: true });
    auditor = await token({ role: 'auditor', user: 'auditor-capability-test' });
    gp = await token({ role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration });
    careWorker = await token({ role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId });
    manager = await token({ role: 'registered-manager', user: DEMO.manager.practitionerId, org: DEMO.careAgency.organisationId });
    // Two visits of the test's own, whatever the time of day: one under way now (checked in below), one tomorrow (booked, to be changed).
    const minutes = (n: number) => new Date(now.getTime() + n * 60_000).toISOString();
    for (const [visitId, start, end] of [[NOW_VISIT, minutes(-10), minutes(50)], [TOMORROW_VISIT, minutes(24 * 60), minutes(24 * 60 + 45)]] as const) {
      const planned = await fetch(`${tandem.url}/api/patients/${patientId}/visits`, {
        method: 'POST',
        headers: { authorization: `Bearer ${manager}`, 'content-type': 'application/json' },
        body: JSON.stringify({ idempotencyKey: `capability-${visitId}`, occurredAt: minutes(-1), visitId, providerOrganisationId: DEMO.careAgency.organisationId, plannedStart: start, plannedEnd: end, careWorkerIds: [DEMO.careWorkers[0]!.practitionerId], tasks: [{ taskId: 'lunch', description: 'Lunch and a drink' }] }),
      });
      expect(planned.status).toBe(201);
    }
    // What the demo does not record through FHIR's own writes: an allergy and a problem from the GP, and the visit's check-in by its care worker.
    const subject = { reference: `Patient/${patientId}` };
    const written = [
      await call('POST', '/AllergyIntolerance', {
        bearer: gp,
        body: JSON.stringify({ resourceType: 'AllergyIntolerance', code: { coding: [{ system: 'http://snomed.info/sct', code: '764146007', display: 'Penicillin' }] }, patient: subject, category: ['medication'], criticality: 'high' }),
      }),
      await call('POST', '/Condition', { bearer: gp, body: JSON.stringify(HYPERTENSION(patientId)) }),
      await call('POST', '/Encounter', {
        bearer: careWorker,
        body: JSON.stringify({
          resourceType: 'Encounter',
          status: 'in-progress',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HH', display: 'home health' },
          subject,
          participant: [{ individual: { reference: `Practitioner/${DEMO.careWorkers[0]!.practitionerId}` } }],
          appointment: [{ reference: `Appointment/${NOW_VISIT}` }],
          period: { start: new Date(now.getTime() - 60_000).toISOString() },
        }),
      }),
    ];
    expect(written.map((w) => (w.status === 201 ? 201 : JSON.stringify(w.body)))).toEqual([201, 201, 201]);
    // A goal agreed with the person (the record's JSON API: FHIR Goal is read-only here).
    const nurse = await token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
    const goal = await fetch(`${tandem.url}/api/patients/${patientId}/goals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${nurse}`, 'content-type': 'application/json' },
      body: JSON.stringify({ idempotencyKey: 'capability-goal', occurredAt: minutes(-1), goalId: 'a0e5c9f2-3b1d-4c7e-9f00-0000000000c1', statement: 'I can get to the shops on Saturdays', note: 'Agreed with her at home' }),
    });
    expect(goal.status).toBe(201);
    kit = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: auditor });
    medplum = new MedplumClient({ baseUrl: `${tandem.url}/`, fhirUrlPath: 'fhir', cacheTime: 0 });
    medplum.setAccessToken(auditor);
    // The read models hold the seed, and the access trail an AuditEvent, before anything is asked.
    expect((await call('GET', `/Patient/${patientId}`, { bearer: auditor, headers: { 'x-tandem-min-position': String(await tandem.storage.store.headPosition()) } })).status).toBe(200);
    statement = (await kit.capabilityStatement()) as CapabilityStatement;
    for (const { type } of recordTypes()) {
      const found = (await kit.search({ resourceType: type, searchParams: { _count: 1 } })) as Bundle;
      const resource = found.entry?.find((e) => e.search?.mode === 'match')?.resource;
      if (resource) samples.set(type, resource);
    }
  }, 180_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is a valid R4 CapabilityStatement describing this running instance', async () => {
    expectValidFhir(statement as never);
    const health = (await (await fetch(`${tandem.url}/health`)).json()) as { version?: string };
    expect(statement).toMatchObject({ resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', implementation: { url: `${tandem.url}/fhir` }, software: { name: 'Tandem' } });
    if (health.version) expect(statement.software!.version).toBe(health.version);
    expect(statement.rest!.map((r) => r.mode)).toEqual(['server']);
    // Medplum reads the same statement (what a second client library is told).
    expect(await medplum.get(`${tandem.url}/fhir/metadata`)).toEqual(statement);
  });

  it('has a sample of every resource type it serves (so every claim below is tried against something recorded)', () => {
    expect(recordTypes().map((r) => r.type).filter((type) => !samples.has(type))).toEqual([]);
  });

  it('security: SMART-on-FHIR with the same endpoints SMART discovery names; without a bearer token, 401', async () => {
    const security = statement.rest![0]!.security!;
    expect(security.service!.flatMap((s) => s.coding ?? [])).toEqual([expect.objectContaining({ system: SMART_SERVICE, code: 'SMART-on-FHIR' })]);
    const uris = security.extension!.find((e) => e.url === SMART_OAUTH_URIS)!.extension!;
    const discovery = (await (await fetch(`${tandem.url}/.well-known/smart-configuration`)).json()) as { authorization_endpoint: string; token_endpoint: string };
    expect(Object.fromEntries(uris.map((e) => [e.url, e.valueUri]))).toEqual({ authorize: discovery.authorization_endpoint, token: discovery.token_endpoint });
    // The authorize endpoint it names is where a SMART app signs in: it answers a PKCE request with the sign-in page.
    const authorize = new URL(discovery.authorization_endpoint);
    authorize.search = new URLSearchParams({ response_type: 'code', client_id: 'tandem-web', redirect_uri: `${tandem.url}/signin-callback`, state: 's', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', scope: 'openid' }).toString();
    expect((await fetch(authorize)).status).toBe(200);
    expectRefusal(await call('GET', `/Patient/${patientId}`), 401, 'login');
    expect((await call('GET', `/Patient/${patientId}`, { bearer: auditor })).status).toBe(200);
  });

  it('format: FHIR JSON only; XML asked for is 406 and a body sent as XML is 415, each with an OperationOutcome', async () => {
    expect(statement.format).toEqual(['application/fhir+json', 'json']);
    for (const headers of [{ accept: 'application/fhir+json' }, { accept: 'application/json' }, { accept: '*/*' }]) {
      const answer = await call('GET', `/Patient/${patientId}`, { bearer: auditor, headers });
      expect({ status: answer.status, type: answer.type?.split(';')[0] }).toEqual({ status: 200, type: 'application/fhir+json' });
    }
    expect((await call('GET', `/Patient/${patientId}?_format=json`, { bearer: auditor })).status).toBe(200);
    expect((await call('GET', `/Patient/${patientId}?_format=${encodeURIComponent('application/fhir+json')}`, { bearer: auditor })).status).toBe(200);
    expectRefusal(await call('GET', `/Patient/${patientId}`, { bearer: auditor, headers: { accept: 'application/fhir+xml' } }), 406, 'not-supported');
    expectRefusal(await call('GET', `/Patient/${patientId}?_format=xml`, { bearer: auditor }), 406, 'not-supported');
    expectRefusal(await call('GET', `/Observation?patient=${patientId}&_format=${encodeURIComponent('application/fhir+xml')}`, { bearer: auditor }), 406, 'not-supported');
    // The statement itself is JSON only too.
    expectRefusal(await call('GET', '/metadata', { headers: { accept: 'application/fhir+xml' } }), 406, 'not-supported');
    const xml = '<Patient xmlns="http://hl7.org/fhir"><name><family value="Smith"/></name></Patient>';
    const sentAsXml = await fetch(`${tandem.url}/fhir/Patient`, { method: 'POST', headers: { authorization: `Bearer ${gp}`, 'content-type': 'application/fhir+xml' }, body: xml });
    expectRefusal({ status: sentAsXml.status, type: sentAsXml.headers.get('content-type'), body: (await sentAsXml.json()) as Answer['body'] }, 415, 'not-supported');
  });

  it('read, vread, history-instance and history-type, on every type that claims them, answer as the claims mean (fhir-kit-client and Medplum)', async () => {
    for (const resource of recordTypes()) {
      const type = resource.type;
      const sample = samples.get(type)!;
      const id = sample.id!;
      const version = sample.meta!.versionId!;
      const interactions = interactionsOf(resource);
      expect(interactions).toEqual(expect.arrayContaining(['read', 'vread', 'history-instance', 'history-type', 'search-type']));
      const read = (await kit.read({ resourceType: type, id })) as FhirResource;
      expect({ type: read.resourceType, id: read.id }).toEqual({ type, id });
      expect(await medplum.readResource(type as never, id)).toMatchObject({ resourceType: type, id });
      // readHistory: a version as it was.
      expect(resource.readHistory).toBe(true);
      const vread = (await kit.vread({ resourceType: type, id, version })) as FhirResource;
      expect({ id: vread.id, version: vread.meta?.versionId }).toEqual({ id, version });
      const history = (await kit.history({ resourceType: type, id })) as Bundle;
      expect(history.type).toBe('history');
      expect(history.entry!.every((e) => e.resource?.id === id)).toBe(true);
      expect(history.entry!.map((e) => e.resource!.meta!.versionId)).toContain(version);
      const typeHistory = (await kit.typeHistory({ resourceType: type })) as Bundle;
      expect(typeHistory.type).toBe('history');
      expect(typeHistory.total).toBeGreaterThan(0);
      expect(typeHistory.entry!.every((e) => e.resource?.resourceType === type)).toBe(true);
      // A conditional read (If-None-Match on the ETag), as conditionalRead not-match says: 304, nothing sent again.
      expect(resource.conditionalRead).toBe('not-match');
      const unchanged = await fetch(`${tandem.url}/fhir/${type}/${id}`, { headers: { authorization: `Bearer ${auditor}`, 'if-none-match': `W/"${sample.meta!.versionId}"` } });
      expect(unchanged.status).toBe(304);
    }
  });

  it('history-type is refused where its documentation says: to a role whose reach is not everyone', async () => {
    for (const resource of recordTypes()) {
      const documented = resource.interaction!.find((i) => i.code === 'history-type')!.documentation;
      if (!documented) continue;
      expect(documented).not.toContain('care-worker');
      expectRefusal(await call('GET', `/${resource.type}/_history`, { bearer: careWorker }), 403, 'forbidden');
    }
  });

  it('every search parameter declared finds what it names, and a value naming nothing finds nothing (Medplum and fhir-kit-client)', async () => {
    const faults: string[] = [];
    for (const resource of recordTypes()) {
      const type = resource.type;
      // What the resources of the type were indexed under (the columns the search reads): for each
      // parameter, one resource with a value for it, which the parameter must find by that value.
      const rows = await tandem.storage.readModels.query<IndexedRow>(
        'select id, patient_id, tokens, refs, strings, name_text, birthdate::text as birthdate, effective, last_updated from fhir_resource where resource_type = $1 order by last_updated desc limit 500',
        [type],
      );
      for (const param of resource.searchParam ?? []) {
        const def = SEARCH_PARAMS[type]![param.name]!;
        expect({ name: param.name, type: param.type }).toEqual({ name: param.name, type: def.type });
        const found = rows.flatMap((row) => {
          const pair = valuesFor(def, row);
          return pair ? [{ row, pair }] : [];
        })[0];
        if (!found) {
          faults.push(`${type}?${param.name}: nothing recorded has a value for it`);
          continue;
        }
        const { row, pair } = found;
        // Narrowed to the one resource by _id, so the answer is 1 when the parameter matches it and 0 when it does not.
        const narrowed = (value: string) => (param.name === '_id' ? { _id: value } : { [param.name]: value, _id: row.id });
        const matched = await medplum.search(type as never, new URLSearchParams(narrowed(pair.matching)));
        if (matched.total !== 1) faults.push(`${type}?${param.name}=${pair.matching} did not find ${type}/${row.id} (total ${matched.total})`);
        const none = (await kit.search({ resourceType: type, searchParams: narrowed(pair.namingNothing) })) as Bundle;
        if (none.total !== 0) faults.push(`${type}?${param.name}=${pair.namingNothing} found ${none.total}: the parameter does not filter`);
      }
    }
    expect(faults).toEqual([]);
  });

  it('each _include declared adds only what its matches reference, the person for :patient and :subject; each _revinclude declared adds only what references a match', async () => {
    const faults: string[] = [];
    for (const resource of recordTypes()) {
      const params = new Set((resource.searchParam ?? []).map((p) => p.name));
      const by = params.has('patient') ? 'patient' : params.has('subject') ? 'subject' : undefined;
      const about = by ? { [by]: `Patient/${patientId}` } : {};
      for (const include of resource.searchInclude ?? []) {
        const found = (await kit.search({ resourceType: resource.type, searchParams: { ...about, _include: include, _count: 5 } })) as Bundle;
        const matches = found.entry!.filter((e) => e.search?.mode === 'match').map((e) => JSON.stringify(e.resource));
        const included = found.entry!.filter((e) => e.search?.mode === 'include').map((e) => e.resource!);
        const name = include.split(':')[1]!;
        if ((name === 'patient' || name === 'subject') && by && matches.length > 0 && !included.every((r) => r.resourceType === 'Patient' && r.id === patientId)) faults.push(`${include}: included ${included.map((r) => r.resourceType).join(',')}`);
        // The person a match is about may be indexed rather than referenced (a Provenance's targets name them): checked above.
        if (name !== 'patient' && name !== 'subject') for (const r of included) if (!matches.some((m) => m.includes(`"${r.resourceType}/${r.id}"`))) faults.push(`${include}: ${r.resourceType}/${r.id} is referenced by no match`);
      }
      for (const revInclude of resource.searchRevInclude ?? []) {
        const found = (await kit.search({ resourceType: resource.type, searchParams: { ...about, _revinclude: revInclude, _count: 5 } })) as Bundle;
        const matchRefs = found.entry!.filter((e) => e.search?.mode === 'match').map((e) => `${e.resource!.resourceType}/${e.resource!.id}`);
        const included = found.entry!.filter((e) => e.search?.mode === 'include').map((e) => e.resource!);
        const fromType = revInclude.split(':')[0]!;
        for (const r of included) {
          if (r.resourceType !== fromType) faults.push(`${revInclude}: included a ${r.resourceType}`);
          const text = JSON.stringify(r);
          if (!matchRefs.some((ref) => text.includes(ref))) faults.push(`${revInclude}: ${r.resourceType}/${r.id} references no match`);
        }
      }
    }
    expect(faults).toEqual([]);
    expectRefusal(await call('GET', `/Patient?_id=${patientId}&_revinclude=Observation:nonsense`, { bearer: auditor }), 400);
  });

  it('each operation declared on a type answers as its definition says', async () => {
    const faults: string[] = [];
    for (const resource of recordTypes()) {
      const type = resource.type;
      const sample = samples.get(type)!;
      for (const operation of resource.operation ?? []) {
        switch (operation.name) {
          case 'everything': {
            const everything = (await kit.operation({ name: '$everything', resourceType: type, id: sample.id!, method: 'GET' })) as Bundle;
            if (everything.type !== 'searchset' || !(everything.total! > 0)) faults.push(`${type}/$everything: ${everything.type} of ${everything.total}`);
            break;
          }
          case 'lastn': {
            const lastn = (await kit.request(`${type}/$lastn?patient=${patientId}`)) as Bundle;
            if (lastn.type !== 'searchset' || !(lastn.entry!.length > 0)) faults.push(`${type}/$lastn gave no latest measurements`);
            break;
          }
          case 'validate': {
            const outcome = (await kit.operation({ name: '$validate', resourceType: type, method: 'POST', input: sample as never })) as OperationOutcome;
            if (outcome.resourceType !== 'OperationOutcome') faults.push(`${type}/$validate answered ${outcome.resourceType}`);
            const broken = (await call('POST', `/${type}/$validate`, { bearer: auditor, body: JSON.stringify({ ...sample, id: 42 }) })).body;
            if (!broken.issue?.some((i) => i.severity === 'error')) faults.push(`${type}/$validate found nothing wrong with a numeric id`);
            break;
          }
          case 'meta': {
            const meta = (await kit.request(`${type}/${sample.id}/$meta`)) as Parameters;
            if (meta.parameter?.[0]?.valueMeta?.versionId !== sample.meta!.versionId) faults.push(`${type}/$meta: ${JSON.stringify(meta)}`);
            break;
          }
          case 'export': {
            // Bulk Data kick-off (Patient level): accepted, with where to poll.
            const kickOff = await fetch(`${tandem.url}/fhir/Patient/$export`, { headers: { authorization: `Bearer ${auditor}`, accept: 'application/fhir+json', prefer: 'respond-async' } });
            if (kickOff.status !== 202 || !kickOff.headers.get('content-location')) faults.push(`Patient/$export: ${kickOff.status}`);
            break;
          }
          default:
            faults.push(`${type}/$${operation.name} is declared and this test does not know what it means`);
        }
      }
    }
    for (const operation of statement.rest![0]!.operation ?? []) {
      if (operation.name !== 'export') faults.push(`system $${operation.name} is declared and this test does not know what it means`);
      const kickOff = await fetch(`${tandem.url}/fhir/$export`, { headers: { authorization: `Bearer ${auditor}`, accept: 'application/fhir+json', prefer: 'respond-async' } });
      if (kickOff.status !== 202) faults.push(`$export: ${kickOff.status}`);
    }
    expect(faults).toEqual([]);
  });

  it('create, update and versioning per writable type: as read, a resource sent back changes nothing; If-Match is required exactly where versioned-update says', async () => {
    const writable = recordTypes().filter((r) => interactionsOf(r).includes('update'));
    expect(writable.map((r) => r.type).sort()).toEqual(recordTypes().filter((r) => interactionsOf(r).includes('create')).map((r) => r.type).sort());
    for (const resource of writable) {
      const type = resource.type;
      // One that may be changed: a visit is changed through its Appointment only while booked (its documentation says so).
      const sample = (await kit.read({ resourceType: type, id: type === 'Appointment' ? TOMORROW_VISIT : samples.get(type)!.id! })) as FhirResource;
      const version = sample.meta!.versionId!;
      expect(resource.updateCreate).toBe(false);
      // Sent back as read (with the version it was read at): accepted; where the type's documentation says so, no new version.
      // Who writes each: a visit's check-in is its care worker's, its plan the agency's manager's, the rest the GP's.
      const writer = type === 'Encounter' ? careWorker : type === 'Appointment' ? manager : gp;
      const same = await call('PUT', `/${type}/${sample.id}`, { bearer: writer, headers: { 'if-match': `W/"${version}"` }, body: JSON.stringify(sample) });
      const documentation = resource.documentation ?? '';
      const kept = /as read,? (nothing changes|changes nothing)/i.test(documentation);
      let after = (same.body.meta as { versionId?: string } | undefined)?.versionId;
      if (documentation.includes('as a correction')) {
        // A correction must say why, as documented: refused naming the note, then accepted with one.
        expectRefusal(same, 422, 'required');
        expect(same.body.issue![0]!.expression).toEqual([`${type}.note`]);
        const corrected = await call('PUT', `/${type}/${sample.id}`, { bearer: writer, headers: { 'if-match': `W/"${version}"` }, body: JSON.stringify({ ...sample, note: [{ text: 'Checked against the paper chart' }] }) });
        expect({ type, status: corrected.status }).toEqual({ type, status: 200 });
        after = (corrected.body.meta as { versionId?: string } | undefined)?.versionId;
      } else {
        expect({ type, status: same.status, version: kept ? after : 'any', outcome: same.status === 200 ? undefined : same.body }).toEqual({ type, status: 200, version: kept ? version : 'any', outcome: undefined });
      }
      const stale = await call('PUT', `/${type}/${sample.id}`, { bearer: writer, headers: { 'if-match': `W/"${Number(after ?? version) + 5}"` }, body: JSON.stringify(sample) });
      expect({ type, status: stale.status }).toEqual({ type, status: 412 });
      const unversioned = await call('PUT', `/${type}/${sample.id}`, { bearer: writer, body: JSON.stringify({ ...sample, meta: undefined }) });
      if (resource.versioning === 'versioned-update') {
        expectRefusal(unversioned, 428, 'required');
      } else {
        expect({ type, versioning: resource.versioning, status: unversioned.status }).toEqual({ type, versioning: 'versioned', status: 200 });
      }
      // No update-as-create: an id not recorded is not made by a PUT.
      const made = await call('PUT', `/${type}/not-recorded-${type.toLowerCase()}`, { bearer: writer, headers: { 'if-match': 'W/"1"' }, body: JSON.stringify({ ...sample, id: `not-recorded-${type.toLowerCase()}` }) });
      expect({ type, created: made.status === 201 || made.status === 200 }).toEqual({ type, created: false });
      expect(made.body.resourceType).toBe('OperationOutcome');
    }
  });

  it('create: conditionalCreate false, so If-None-Exist is refused; the same request sent twice is recorded once, as documented', async () => {
    const type = 'Condition';
    expect(interactionsOf(declared(type))).toContain('create');
    expect(declared(type).conditionalCreate).toBe(false);
    const condition = { ...HYPERTENSION(patientId), note: [{ text: 'Sent twice by the GP system' }] };
    const conditional = await call('POST', '/Condition', { bearer: gp, headers: { 'if-none-exist': `patient=${patientId}&code=38341003` }, body: JSON.stringify(condition) });
    expectRefusal(conditional, 400, 'not-supported');
    expect(conditional.body.issue![0]!.expression).toEqual(['If-None-Exist']);
    const gpKit = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: gp });
    const before = ((await kit.search({ resourceType: 'Condition', searchParams: { patient: patientId, _count: 0 } })) as Bundle).total;
    const first = (await gpKit.create({ resourceType: 'Condition', body: condition as never, options: { headers: { 'Idempotency-Key': 'capability-condition' } } })) as FhirResource;
    const again = (await gpKit.create({ resourceType: 'Condition', body: condition as never, options: { headers: { 'Idempotency-Key': 'capability-condition' } } })) as FhirResource;
    expect(again.id).toBe(first.id);
    expect(((await kit.search({ resourceType: 'Condition', searchParams: { patient: patientId, _count: 0 } })) as Bundle).total).toBe(before! + 1);
  });

  it('the other resources declared (Group, Subscription, Measure, MeasureReport) answer their interactions', async () => {
    const others = statement.rest![0]!.resource!.filter((r) => !Object.hasOwn(SEARCH_PARAMS, r.type));
    expect(others.map((r) => r.type).sort()).toEqual(['Group', 'Measure', 'MeasureReport', 'Subscription']);
    const groups = declared('Group');
    expect(interactionsOf(groups).sort()).toEqual(['read', 'search-type']);
    const group = (await kit.read({ resourceType: 'Group', id: DEMO.careAgency.organisationId })) as FhirResource & { member?: { entity: { reference?: string } }[] };
    expect({ type: group.resourceType, members: (group.member ?? []).map((m) => m.entity.reference) }).toEqual({ type: 'Group', members: expect.arrayContaining([`Patient/${patientId}`]) });
    expect(((await kit.search({ resourceType: 'Group', searchParams: { _id: DEMO.careAgency.organisationId } })) as Bundle).entry!.map((e) => e.resource!.id)).toEqual([DEMO.careAgency.organisationId]);
    expect((groups.operation ?? []).map((o) => o.name)).toContain('export');
    const subscriptionType = declared('Subscription');
    const topic = subscriptionType.extension!.find((e) => e.valueCanonical)!.valueCanonical!;
    const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
    const subscription = {
      resourceType: 'Subscription',
      meta: { profile: [`${BACKPORT}/backport-subscription`] },
      status: 'requested',
      reason: 'Capability test',
      criteria: topic,
      channel: { type: 'websocket', payload: 'application/fhir+json', _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: 'id-only' }] } },
    };
    const gpKit = new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: gp });
    expect(interactionsOf(subscriptionType).sort()).toEqual(['create', 'delete', 'read', 'search-type']);
    const created = (await gpKit.create({ resourceType: 'Subscription', body: subscription as never })) as FhirResource;
    expect((await gpKit.read({ resourceType: 'Subscription', id: created.id! })) as FhirResource).toMatchObject({ resourceType: 'Subscription', id: created.id });
    expect(((await gpKit.search({ resourceType: 'Subscription', searchParams: {} })) as Bundle).entry!.map((e) => e.resource!.id)).toContain(created.id);
    await gpKit.delete({ resourceType: 'Subscription', id: created.id! });
    // Deleted, it is off: nothing more is delivered.
    expect((await gpKit.read({ resourceType: 'Subscription', id: created.id! })) as FhirResource).toMatchObject({ status: 'off' });

    expect(interactionsOf(declared('Measure')).sort()).toEqual(['read', 'search-type']);
    const measures = (await kit.search({ resourceType: 'Measure', searchParams: {} })) as Bundle;
    const measure = measures.entry![0]!.resource!;
    expect((await kit.read({ resourceType: 'Measure', id: measure.id! })) as FhirResource).toMatchObject({ resourceType: 'Measure', id: measure.id });

    const reports = declared('MeasureReport');
    expect(interactionsOf(reports)).toEqual(['search-type']);
    const month = new Date().toISOString().slice(0, 7);
    const values: Record<string, string> = { reporter: `Organization/${DEMO.careAgency.organisationId}`, subject: `Patient/${patientId}`, period: month };
    for (const param of reports.searchParam ?? []) {
      const query = { [param.name]: values[param.name]!, ...(param.name === 'period' ? { reporter: values.reporter! } : { period: month }) };
      const found = (await kit.search({ resourceType: 'MeasureReport', searchParams: query })) as Bundle;
      expect({ param: param.name, type: found.type, some: (found.entry ?? []).length > 0 }).toEqual({ param: param.name, type: 'searchset', some: true });
    }
  });

  it('what is not claimed is refused with an OperationOutcome: delete, patch, conditional update and delete (405), create on a read-only type (405), an unknown type or operation (404)', async () => {
    const sample = samples.get('Observation')!;
    for (const resource of recordTypes()) {
      expect(interactionsOf(resource)).not.toContain('delete');
      expect(interactionsOf(resource)).not.toContain('patch');
      expect({ conditionalUpdate: resource.conditionalUpdate, conditionalDelete: resource.conditionalDelete }).toEqual({ conditionalUpdate: false, conditionalDelete: 'not-supported' });
    }
    expectRefusal(await call('DELETE', `/Observation/${sample.id}`, { bearer: gp }), 405, 'not-supported');
    expectRefusal(await call('PATCH', `/Observation/${sample.id}`, { bearer: gp, body: '[]' }), 405, 'not-supported');
    expectRefusal(await call('PUT', `/Observation?patient=${patientId}`, { bearer: gp, body: JSON.stringify(sample) }), 405, 'not-supported');
    expectRefusal(await call('DELETE', `/Observation?patient=${patientId}`, { bearer: gp }), 405, 'not-supported');
    const readOnly = recordTypes().find((r) => !interactionsOf(r).includes('create'))!;
    expectRefusal(await call('POST', `/${readOnly.type}`, { bearer: gp, body: JSON.stringify({ resourceType: readOnly.type }) }), 405, 'not-supported');
    expectRefusal(await call('GET', '/Basic', { bearer: auditor }), 404, 'not-supported');
    expectRefusal(await call('GET', `/Patient/${patientId}/$summary`, { bearer: auditor }), 404);
    // $lastn is Observation's alone: on another type it names no resource.
    expect(declared('Condition').operation!.map((o) => o.name)).not.toContain('lastn');
    expect((await call('GET', '/Condition/$lastn', { bearer: auditor })).status).not.toBe(200);
  });

  it('every error under /fhir is an OperationOutcome, never problem+json', async () => {
    const bad: [string, string, CallOptions, number][] = [
      ['GET', `/Patient/${patientId}`, {}, 401],
      ['GET', `/Patient/${patientId}`, { bearer: 'not-a-token' }, 401],
      ['GET', '/Patient/bad$id', { bearer: auditor }, 400],
      ['GET', '/Observation?colour=blue', { bearer: auditor }, 400],
      ['GET', '/Observation?date=yesterday', { bearer: auditor }, 400],
      ['GET', '/Observation?_sort=colour', { bearer: auditor }, 400],
      ['GET', `/Observation/${samples.get('Observation')!.id}/_history/0`, { bearer: auditor }, 400],
      ['GET', '/Observation/not-recorded', { bearer: auditor }, 404],
      ['GET', `/Patient/${patientId}`, { bearer: auditor, headers: { 'x-tandem-min-position': 'soon' } }, 400],
      ['POST', '/Observation', { bearer: gp, body: '{ not json' }, 400],
      ['POST', '/Observation', { bearer: gp, body: JSON.stringify({ resourceType: 'Patient' }) }, 400],
      ['POST', '/Observation', { bearer: gp, body: JSON.stringify({ resourceType: 'Observation', colour: 'blue' }) }, 422],
      ['PUT', `/Observation/${samples.get('Observation')!.id}`, { bearer: gp, headers: { 'if-match': 'three' }, body: JSON.stringify(samples.get('Observation')) }, 400],
      ['POST', '/', { bearer: gp, body: JSON.stringify({ resourceType: 'Bundle', type: 'document' }) }, 422],
      ['DELETE', '/', { bearer: gp }, 405],
      ['GET', '/Patient/x/y/z/w', { bearer: auditor }, 404],
      ['GET', '/AuditEvent', { bearer: gp }, 403],
      ['GET', `/Patient/${patientId}`, { bearer: auditor, headers: { accept: 'text/xml' } }, 406],
    ];
    const faults: string[] = [];
    for (const [method, path, options, status] of bad) {
      const answer = await call(method, path, options);
      const got = `${answer.status} ${answer.type?.split(';')[0]} ${answer.body.resourceType}`;
      if (got !== `${status} application/fhir+json OperationOutcome`) faults.push(`${method} ${path}: ${got}`);
    }
    expect(faults).toEqual([]);
  });
});

/** A value the parameter must find the sample by, from what it was indexed under, and one that names nothing. */
interface IndexedRow {
  id: string;
  patient_id: string | null;
  tokens: string[];
  refs: string[];
  strings: string[] | null;
  name_text: string | null;
  birthdate: string | null;
  effective: string | null;
  last_updated: string;
}

const valuesFor = (def: (typeof SEARCH_PARAMS)[string][string], row: IndexedRow): { matching: string; namingNothing: string } | undefined => {
  const id = row.id;
  const dateOf = (value: string | null) => {
    if (!value) return undefined;
    const at = new Date(value);
    const before = new Date(at.getTime() - 1000).toISOString();
    const after = new Date(at.getTime() + 86_400_000).toISOString();
    return { matching: `ge${before}`, namingNothing: `ge${after}` };
  };
  switch (def.target) {
    case 'id':
      return { matching: id, namingNothing: 'no-such-id' };
    case 'patient_id':
      return row.patient_id ? { matching: `Patient/${row.patient_id}`, namingNothing: 'Patient/no-one-recorded' } : undefined;
    case 'tokens': {
      const token = row.tokens.find((t) => t.startsWith(`${def.key}|`) && !t.startsWith(`${def.key}|*|`));
      if (!token) return undefined;
      const [, system, ...code] = token.split('|');
      return { matching: system ? `${system}|${code.join('|')}` : code.join('|'), namingNothing: 'http://example.org/nothing|nothing' };
    }
    case 'refs': {
      const ref = row.refs.find((r) => r.startsWith(`${def.key}|`));
      return ref ? { matching: ref.slice(def.key!.length + 1), namingNothing: `${ref.slice(def.key!.length + 1).split('/')[0]}/not-recorded` } : undefined;
    }
    case 'strings': {
      // The value as recorded (`<key>=<value>`); a string search matches from its start.
      const recorded = (row.strings ?? []).find((k) => k.startsWith(`${def.key}=`));
      return recorded ? { matching: recorded.slice(def.key!.length + 1), namingNothing: 'Zzyzxqv' } : undefined;
    }
    case 'name_text': {
      const word = row.name_text?.trim().split(/\s+/)[0];
      return word ? { matching: word, namingNothing: 'Zzyzxqv' } : undefined;
    }
    case 'birthdate':
      return row.birthdate ? { matching: row.birthdate, namingNothing: '1800-01-01' } : undefined;
    case 'effective':
      return dateOf(row.effective);
    case 'last_updated':
      return dateOf(row.last_updated);
    default:
      return undefined;
  }
};
