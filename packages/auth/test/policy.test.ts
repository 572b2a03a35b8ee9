import type { Role } from '@tandem/contracts';
import {
  ADMIN_ACCESS,
  AUDIT_ACCESS,
  COMMAND_ACCESS,
  decide,
  DIRECTORY_TYPES,
  FHIR_ACCESS,
  parseScopes,
  PATIENT_COMPARTMENT_TYPES,
  POLICY,
  type EndpointAccess,
  type PatientFacts,
  type Principal,
  type Target,
} from '../src';

/**
 * The policy as a table: every role x every endpoint x in and out of relationship. Each row reads
 * "role: allowed for someone in their care / allowed for someone not in their care" as Y or N.
 */

const ROLES: readonly Role[] = ['care-worker', 'district-nurse', 'gp', 'registered-manager', 'auditor', 'system'];

const principal = (role: Role, id: string, extra: { org?: string; scope?: string; patient?: string } = {}): Principal => {
  const scope = extra.scope ?? (role === 'auditor' ? 'user/*.rs' : 'user/*.cruds');
  return {
    actor: { id, role, ...(extra.org ? { organisation: extra.org } : {}) },
    scope,
    scopes: parseScopes(scope),
    ...(extra.patient ? { patient: extra.patient } : {}),
  };
};

const IN = 'patient-in-care';
const OUT = 'patient-elsewhere';

/** Each role's user, as their token says. The system integration is a device launched for one person. */
const USERS: Readonly<Record<Role, Principal>> = {
  'care-worker': principal('care-worker', 'cw-1', { org: 'org-agency' }),
  'district-nurse': principal('district-nurse', 'nurse-1', { org: 'org-nursing' }),
  gp: principal('gp', 'gp-1', { org: 'org-practice' }),
  'registered-manager': principal('registered-manager', 'manager-1', { org: 'org-agency' }),
  auditor: principal('auditor', 'auditor-1'),
  system: principal('system', 'device-1', { scope: 'patient/*.cruds', patient: IN }),
};

/** The person in everyone's care: the care worker, the nurse and the GP are in the team; the care worker works for the manager's agency. */
const inCare: PatientFacts = {
  patientId: IN,
  registeredGp: 'gp-1',
  careTeam: [
    { practitionerId: 'cw-1', teamRole: 'care-worker', organisation: 'org-agency', practitionerRole: 'care-worker' },
    { practitionerId: 'nurse-1', teamRole: 'accountable-clinician', organisation: 'org-nursing', practitionerRole: 'district-nurse' },
    { practitionerId: 'gp-1', teamRole: 'gp', organisation: 'org-practice', practitionerRole: 'gp' },
  ],
};
/** Someone cared for by other people entirely. */
const elsewhere: PatientFacts = {
  patientId: OUT,
  registeredGp: 'gp-9',
  careTeam: [
    { practitionerId: 'cw-9', teamRole: 'care-worker', organisation: 'org-other-agency', practitionerRole: 'care-worker' },
    { practitionerId: 'nurse-9', teamRole: 'accountable-clinician', organisation: 'org-other-nursing', practitionerRole: 'district-nurse' },
  ],
};

type Expect = 'YY' | 'YN' | 'NN';
type Row = readonly [endpoint: string, access: EndpointAccess, concerns: 'person' | 'nobody' | 'organisation', expected: Readonly<Record<Role, Expect>>];

const row = (cw: Expect, nurse: Expect, gp: Expect, manager: Expect, auditor: Expect, system: Expect): Record<Role, Expect> => ({
  'care-worker': cw,
  'district-nurse': nurse,
  gp,
  'registered-manager': manager,
  auditor,
  system,
});

const CARE_RECORDING = row('YN', 'YN', 'YN', 'NN', 'NN', 'YN');
const READING = row('YN', 'YN', 'YN', 'YN', 'YY', 'YN');
const DETAILS = row('NN', 'YN', 'YN', 'YN', 'NN', 'NN');
const REGISTERING_PEOPLE = row('NN', 'YY', 'YY', 'YY', 'NN', 'NN');
const AUDITING = row('NN', 'NN', 'NN', 'NN', 'YY', 'NN');

const TABLE: readonly Row[] = [
  // The JSON command API
  ['POST /api/patients', COMMAND_ACCESS.RegisterPatient, 'nobody', REGISTERING_PEOPLE],
  ['POST /api/patients/:id/details', COMMAND_ACCESS.UpdatePatientDetails, 'person', DETAILS],
  ['POST /api/patients/:id/baseline', COMMAND_ACCESS.SetPatientBaseline, 'person', row('NN', 'YN', 'YN', 'NN', 'NN', 'NN')],
  ['POST /api/patients/:id/care-team', COMMAND_ACCESS.AddCareTeamMember, 'person', row('NN', 'YY', 'YN', 'YY', 'NN', 'NN')],
  ['POST /api/patients/:id/care-team/removals', COMMAND_ACCESS.RemoveCareTeamMember, 'person', row('NN', 'YY', 'YN', 'YY', 'NN', 'NN')],
  ['POST /api/practitioners (own organisation / another)', COMMAND_ACCESS.RegisterPractitioner, 'organisation', row('NN', 'NN', 'NN', 'YN', 'NN', 'NN')],
  ['POST /api/organisations', COMMAND_ACCESS.RegisterOrganisation, 'nobody', row('NN', 'NN', 'NN', 'YY', 'NN', 'NN')],
  ['POST /api/patients/:id/vital-signs', COMMAND_ACCESS.RecordVitalSigns, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/blood-glucose', COMMAND_ACCESS.RecordBloodGlucose, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/insulin-administrations', COMMAND_ACCESS.RecordInsulinAdministered, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/insulin-withheld', COMMAND_ACCESS.RecordInsulinWithheld, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/soft-signs', COMMAND_ACCESS.RecordSoftSigns, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/urinary-symptoms', COMMAND_ACCESS.ScreenUrinarySymptoms, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/fluid-intake', COMMAND_ACCESS.RecordFluidIntake, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/cellulitis-checks', COMMAND_ACCESS.CheckCellulitis, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/notes', COMMAND_ACCESS.WriteNote, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/entries/:entry/amendments', COMMAND_ACCESS.AmendEntry, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/entries/:entry/entered-in-error', COMMAND_ACCESS.MarkEntryEnteredInError, 'person', CARE_RECORDING],
  // FHIR reads of a person's resources (read, vread, _history of one resource) and searches naming the person
  ...PATIENT_COMPARTMENT_TYPES.flatMap((type): Row[] => [
    [`GET /fhir/${type}/:id (read, vread, _history)`, FHIR_ACCESS.read(type), 'person', READING],
    [`GET /fhir/${type}?patient=:id`, FHIR_ACCESS.search(type), 'person', READING],
  ]),
  ['GET /fhir/Patient/:id/$everything', FHIR_ACCESS.everything(), 'person', READING],
  // Directory resources concern no one person: every role reads them
  ...DIRECTORY_TYPES.flatMap((type): Row[] => [
    [`GET /fhir/${type}/:id`, FHIR_ACCESS.read(type), 'nobody', row('YY', 'YY', 'YY', 'YY', 'YY', 'YY')],
    [`GET /fhir/${type}?...`, FHIR_ACCESS.search(type), 'nobody', row('YY', 'YY', 'YY', 'YY', 'YY', 'YY')],
  ]),
  // FHIR writes are the commands they become
  ['POST /fhir/Patient', FHIR_ACCESS.create('Patient'), 'nobody', REGISTERING_PEOPLE],
  ['PUT /fhir/Patient/:id', FHIR_ACCESS.update('Patient'), 'person', DETAILS],
  ['POST /fhir/Observation', FHIR_ACCESS.create('Observation'), 'person', CARE_RECORDING],
  ['PUT /fhir/Observation/:id', FHIR_ACCESS.update('Observation'), 'person', CARE_RECORDING],
  ['POST /fhir/MedicationAdministration', FHIR_ACCESS.create('MedicationAdministration'), 'person', CARE_RECORDING],
  ['PUT /fhir/MedicationAdministration/:id', FHIR_ACCESS.update('MedicationAdministration'), 'person', CARE_RECORDING],
  // Provenance: about the person whose record the write changed
  ['GET /fhir/Provenance/:id, ?patient=:id', FHIR_ACCESS.search('Provenance'), 'person', READING],
  // Administration
  ['POST /admin/projections/rebuild', ADMIN_ACCESS.rebuild, 'nobody', row('NN', 'NN', 'NN', 'YY', 'NN', 'YY')],
  // The access trail and the log's integrity are for auditors only
  ['GET /fhir/AuditEvent?...', FHIR_ACCESS.search('AuditEvent'), 'nobody', AUDITING],
  ['GET /fhir/AuditEvent?patient=:id', FHIR_ACCESS.search('AuditEvent'), 'person', AUDITING],
  ['GET /fhir/AuditEvent/:id', FHIR_ACCESS.read('AuditEvent'), 'nobody', AUDITING],
  ['GET /api/audit/verify', AUDIT_ACCESS.verify, 'nobody', AUDITING],
  ['GET /api/audit/streams/:stream', AUDIT_ACCESS.replay, 'nobody', AUDITING],
];

const targetFor = (concerns: Row[2], role: Role, inRelationship: boolean): Target => {
  if (concerns === 'nobody') return { kind: 'none' };
  if (concerns === 'organisation') return { kind: 'organisation', organisationId: inRelationship ? (USERS[role].actor.organisation ?? 'none') : 'org-someone-else' };
  const facts = inRelationship ? inCare : elsewhere;
  return { kind: 'patient', patientId: facts.patientId, facts };
};

describe('the access policy, role x endpoint x relationship', () => {
  const cases = TABLE.flatMap(([endpoint, access, concerns, expected]) =>
    ROLES.flatMap((role) =>
      ([true, false] as const).map((inRelationship) => ({
        endpoint,
        access,
        concerns,
        role,
        inRelationship,
        allowed: expected[role][inRelationship ? 0 : 1] === 'Y',
      })),
    ),
  );

  it('covers every role, every command route, every FHIR interaction and the admin route', () => {
    expect(cases).toHaveLength(TABLE.length * ROLES.length * 2);
    const commandRows = TABLE.filter(([, access]) => Object.values(COMMAND_ACCESS).includes(access as never));
    expect(new Set(commandRows.map(([, access]) => access)).size).toBe(new Set(Object.values(COMMAND_ACCESS)).size);
    expect(TABLE.filter(([e]) => e.startsWith('POST /api/')).length).toBe(Object.keys(COMMAND_ACCESS).length);
  });

  it.each(cases)('$role -> $endpoint (in relationship: $inRelationship): allowed $allowed', ({ access, concerns, role, inRelationship, allowed }) => {
    const decision = decide({ principal: USERS[role], action: access.action, needs: access.needs, target: targetFor(concerns, role, inRelationship) });
    expect({ allowed: decision.allowed, detail: decision.detail }).toEqual({ allowed, detail: allowed ? 'allowed' : expect.any(String) });
    expect(decision.breakGlass).toBeUndefined();
  });

  it('has a rule for every role and action (nothing is allowed by omission)', () => {
    for (const role of ROLES) expect(Object.keys(POLICY[role]).sort()).toEqual(Object.keys(POLICY['care-worker']).sort());
  });
});

describe('searches across people', () => {
  it.each([
    ['care-worker', 'caseload'],
    ['district-nurse', 'caseload'],
    ['gp', 'caseload'],
    ['registered-manager', 'caseload'],
    ['auditor', 'everyone'],
    ['system', 'launch-patient'],
  ] as const)('%s: a search without a person is narrowed to %s', (role, narrowTo) => {
    const access = FHIR_ACCESS.search('Observation');
    const decision = decide({ principal: USERS[role], action: access.action, needs: access.needs, target: { kind: 'people' } });
    expect(decision).toMatchObject({ allowed: true, narrowTo });
  });

  it('an integration with a system/ scope searches everyone', () => {
    const access = FHIR_ACCESS.search('Observation');
    const decision = decide({ principal: principal('system', 'gp-system', { scope: 'system/Observation.rs' }), action: access.action, needs: access.needs, target: { kind: 'people' } });
    expect(decision).toMatchObject({ allowed: true, narrowTo: 'everyone' });
  });
});

describe('relationships', () => {
  const read = FHIR_ACCESS.read('Observation');
  const reading = (who: Principal, facts: PatientFacts | undefined, breakGlassReason?: string) =>
    decide({ principal: who, action: read.action, needs: read.needs, target: { kind: 'patient', patientId: facts?.patientId ?? 'unknown', facts }, ...(breakGlassReason ? { breakGlassReason } : {}) });

  it("a nurse sees her team's caseload: a district nurse of her organisation is in the person's team", () => {
    const colleague = principal('district-nurse', 'nurse-2', { org: 'org-nursing' });
    expect(reading(colleague, inCare)).toMatchObject({ allowed: true, relationship: 'nursing-team' });
    expect(reading(principal('district-nurse', 'nurse-3'), inCare).allowed).toBe(false);
  });

  it('a GP sees his registered patients, and people whose team he is in as GP', () => {
    expect(reading(USERS.gp, inCare)).toMatchObject({ allowed: true, relationship: 'registered-gp' });
    const teamGp = { ...elsewhere, careTeam: [...elsewhere.careTeam, { practitionerId: 'gp-1', teamRole: 'gp' }] };
    expect(reading(USERS.gp, teamGp)).toMatchObject({ allowed: true, relationship: 'care-team' });
  });

  it('a care worker in the team in another role is not thereby on her caseload', () => {
    const asManager = { ...elsewhere, careTeam: [{ practitionerId: 'cw-1', teamRole: 'registered-manager' }] };
    expect(reading(USERS['care-worker'], asManager).allowed).toBe(false);
  });

  it('someone not recorded at all is refused like someone else’s person (no probing for who is recorded)', () => {
    expect(reading(USERS['care-worker'], undefined)).toMatchObject({ allowed: false, reason: 'relationship' });
    expect(reading(USERS.auditor, undefined).allowed).toBe(true);
  });
});

describe('break-glass', () => {
  const read = FHIR_ACCESS.read('Patient');
  const record = COMMAND_ACCESS.RecordVitalSigns;
  const target: Target = { kind: 'patient', patientId: OUT, facts: elsewhere };

  it.each(['district-nurse', 'gp'] as const)('lets a %s read outside her relationship with a reason, flagged', (role) => {
    const decision = decide({ principal: USERS[role], action: read.action, needs: read.needs, target, breakGlassReason: 'Called to a fall; own nurse unavailable' });
    expect(decision).toMatchObject({ allowed: true, breakGlass: { reason: 'Called to a fall; own nurse unavailable' } });
    expect(decision.relationship).toBeUndefined();
  });

  it.each(['care-worker', 'registered-manager'] as const)('is not open to a %s', (role) => {
    expect(decide({ principal: USERS[role], action: read.action, needs: read.needs, target, breakGlassReason: 'curious' })).toMatchObject({ allowed: false, reason: 'relationship' });
  });

  it('never opens writing', () => {
    expect(decide({ principal: USERS['district-nurse'], action: record.action, needs: record.needs, target, breakGlassReason: 'emergency' }).allowed).toBe(false);
  });

  it('is not flagged when the reader is in relationship anyway', () => {
    const decision = decide({ principal: USERS['district-nurse'], action: read.action, needs: read.needs, target: { kind: 'patient', patientId: IN, facts: inCare }, breakGlassReason: 'habit' });
    expect(decision).toMatchObject({ allowed: true, relationship: 'care-team' });
    expect(decision.breakGlass).toBeUndefined();
  });
});

describe('SMART v2 scopes on top of the role rules', () => {
  const target: Target = { kind: 'patient', patientId: IN, facts: inCare };
  const run = (who: Principal, access: EndpointAccess, t: Target = target) => decide({ principal: who, action: access.action, needs: access.needs, target: t });

  it('refuses what the scope does not cover, even when the role would allow it', () => {
    const readOnly = principal('care-worker', 'cw-1', { scope: 'user/Observation.rs' });
    expect(run(readOnly, FHIR_ACCESS.read('Observation')).allowed).toBe(true);
    expect(run(readOnly, FHIR_ACCESS.search('Observation')).allowed).toBe(true);
    expect(run(readOnly, COMMAND_ACCESS.RecordVitalSigns)).toMatchObject({ allowed: false, reason: 'scope' });
    expect(run(readOnly, FHIR_ACCESS.read('MedicationAdministration'))).toMatchObject({ allowed: false, reason: 'scope' });
    expect(run(readOnly, FHIR_ACCESS.everything())).toMatchObject({ allowed: false, reason: 'scope' });
    expect(run(principal('care-worker', 'cw-1', { scope: '' }), FHIR_ACCESS.read('Observation'))).toMatchObject({ allowed: false, reason: 'scope' });
  });

  it('reads SMART v1 scopes as their v2 meaning', () => {
    const v1 = principal('gp', 'gp-1', { scope: 'user/*.read' });
    expect(run(v1, FHIR_ACCESS.everything()).allowed).toBe(true);
    expect(run(v1, FHIR_ACCESS.create('Observation')).reason).toBe('scope');
  });

  it('grants nothing with patient/ scopes unless the token names the person, and nothing with fine-grained (query) scopes yet', () => {
    expect(run(principal('gp', 'gp-1', { scope: 'patient/*.rs' }), FHIR_ACCESS.read('Observation')).reason).toBe('scope');
    expect(run(principal('gp', 'gp-1', { scope: 'patient/*.rs', patient: IN }), FHIR_ACCESS.read('Observation')).allowed).toBe(true);
    expect(run(principal('gp', 'gp-1', { scope: 'user/Observation.rs?category=vital-signs' }), FHIR_ACCESS.read('Observation')).reason).toBe('scope');
  });

  it('keeps a patient-context launch to its person, whatever the role', () => {
    const launched = principal('auditor', 'auditor-1', { scope: 'user/*.rs', patient: IN });
    expect(run(launched, FHIR_ACCESS.read('Observation')).allowed).toBe(true);
    expect(run(launched, FHIR_ACCESS.read('Observation'), { kind: 'patient', patientId: OUT, facts: elsewhere })).toMatchObject({ allowed: false, reason: 'launch-context' });
  });

  it('lets an integration write for everyone only with a system/ scope; user/ scopes mean nothing on a system token', () => {
    const out: Target = { kind: 'patient', patientId: OUT, facts: elsewhere };
    expect(run(principal('system', 'hub', { scope: 'system/Observation.cru' }), COMMAND_ACCESS.RecordVitalSigns, out).allowed).toBe(true);
    expect(run(principal('system', 'hub', { scope: 'system/Observation.cru' }), COMMAND_ACCESS.RecordInsulinAdministered, out).reason).toBe('scope');
    expect(run(principal('system', 'hub', { scope: 'user/*.cruds' }), COMMAND_ACCESS.RecordVitalSigns, out).reason).toBe('scope');
    // and system/ scopes mean nothing on a person's token
    expect(run(principal('care-worker', 'cw-1', { scope: 'system/*.cruds' }), COMMAND_ACCESS.RecordVitalSigns).reason).toBe('scope');
  });

  it('keeps the audit trail to auditors', () => {
    for (const role of ROLES) {
      const decision = decide({ principal: principal(role, 'x', { scope: role === 'system' ? 'system/*.rs' : 'user/*.rs' }), action: 'audit.read', needs: [{ types: ['AuditEvent'], interaction: 's' }], target: { kind: 'people' } });
      expect(decision.allowed).toBe(role === 'auditor');
    }
  });
});
