import type { Role } from '@tandem/contracts';
import {
  ADMIN_ACCESS,
  AUDIT_ACCESS,
  COMMAND_ACCESS,
  decide,
  DELEGATION_ACCESS,
  DIRECTORY_TYPES,
  FHIR_ACCESS,
  parseScopes,
  PATIENT_COMPARTMENT_TYPES,
  POLICY,
  NOTIFICATION_ACCESS,
  SUBSCRIPTION_ACCESS,
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
/** Only a nurse or a GP prescribes (or a GP's system sends a prescription); never a care worker or a manager. */
const PRESCRIBING = row('NN', 'YN', 'YN', 'NN', 'NN', 'YN');
const AUDITING = row('NN', 'NN', 'NN', 'NN', 'YY', 'NN');
const VISIT_PLANNING = row('NN', 'NN', 'NN', 'YN', 'NN', 'YN');

const TABLE: readonly Row[] = [
  // The JSON command API
  ['POST /api/patients', COMMAND_ACCESS.RegisterPatient, 'nobody', REGISTERING_PEOPLE],
  ['POST /api/patients/:id/details', COMMAND_ACCESS.UpdatePatientDetails, 'person', DETAILS],
  ['POST /api/patients/:id/baseline', COMMAND_ACCESS.SetPatientBaseline, 'person', row('NN', 'YN', 'YN', 'NN', 'NN', 'NN')],
  // A care team is changed by referral from someone already responsible for the person, never by a stranger (issue 16.8).
  ['POST /api/patients/:id/care-team', COMMAND_ACCESS.AddCareTeamMember, 'person', row('NN', 'YN', 'YN', 'YN', 'NN', 'NN')],
  ['POST /api/patients/:id/care-team/removals', COMMAND_ACCESS.RemoveCareTeamMember, 'person', row('NN', 'YN', 'YN', 'YN', 'NN', 'NN')],
  ['POST /api/practitioners (own organisation / another)', COMMAND_ACCESS.RegisterPractitioner, 'organisation', row('NN', 'NN', 'NN', 'YN', 'NN', 'NN')],
  // A care worker's contracted hours and absences (capacity): her organisation's manager only, as registering her.
  ['POST /api/practitioners/:id/contracted-hours (own organisation / another)', COMMAND_ACCESS.SetContractedHours, 'organisation', row('NN', 'NN', 'NN', 'YN', 'NN', 'NN')],
  ['POST /api/practitioners/:id/absences (own organisation / another)', COMMAND_ACCESS.RecordStaffAbsence, 'organisation', row('NN', 'NN', 'NN', 'YN', 'NN', 'NN')],
  ['POST /api/organisations', COMMAND_ACCESS.RegisterOrganisation, 'nobody', row('NN', 'NN', 'NN', 'YY', 'NN', 'NN')],
  ['POST /api/patients/:id/vital-signs', COMMAND_ACCESS.RecordVitalSigns, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/blood-glucose', COMMAND_ACCESS.RecordBloodGlucose, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/insulin-administrations', COMMAND_ACCESS.RecordInsulinAdministered, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/insulin-withheld', COMMAND_ACCESS.RecordInsulinWithheld, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/medicine-doses', COMMAND_ACCESS.RecordMedicineDose, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/medicine-doses/:dose/effects', COMMAND_ACCESS.RecordPrnEffect, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/medication-orders', COMMAND_ACCESS.PrescribeMedication, 'person', PRESCRIBING],
  ['POST /api/patients/:id/medication-orders/:order/changes', COMMAND_ACCESS.ChangeMedicationOrder, 'person', PRESCRIBING],
  ['POST /api/patients/:id/medication-orders/:order/stop', COMMAND_ACCESS.StopMedicationOrder, 'person', PRESCRIBING],
  ['POST /api/patients/:id/allergies', COMMAND_ACCESS.RecordAllergy, 'person', PRESCRIBING],
  ['POST /api/patients/:id/conditions', COMMAND_ACCESS.RecordCondition, 'person', PRESCRIBING],
  ['POST /api/patients/:id/allergies/:allergy/changes', COMMAND_ACCESS.ChangeAllergy, 'person', PRESCRIBING],
  ['POST /api/patients/:id/allergies/:allergy/entered-in-error', COMMAND_ACCESS.MarkAllergyEnteredInError, 'person', PRESCRIBING],
  ['POST /api/patients/:id/conditions/:condition/changes', COMMAND_ACCESS.ChangeCondition, 'person', PRESCRIBING],
  ['POST /api/patients/:id/conditions/:condition/entered-in-error', COMMAND_ACCESS.MarkConditionEnteredInError, 'person', PRESCRIBING],
  ['POST /api/patients/:id/soft-signs', COMMAND_ACCESS.RecordSoftSigns, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/urinary-symptoms', COMMAND_ACCESS.ScreenUrinarySymptoms, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/fluid-intake', COMMAND_ACCESS.RecordFluidIntake, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/cellulitis-checks', COMMAND_ACCESS.CheckCellulitis, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/notes', COMMAND_ACCESS.WriteNote, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/entries/:entry/amendments', COMMAND_ACCESS.AmendEntry, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/entries/:entry/entered-in-error', COMMAND_ACCESS.MarkEntryEnteredInError, 'person', CARE_RECORDING],
  // A person's own goals: agreed and followed by those who record their care
  ['POST /api/patients/:id/goals', COMMAND_ACCESS.AgreeGoal, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/goals/:goal/progress', COMMAND_ACCESS.RecordGoalProgress, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/goals/:goal/close', COMMAND_ACCESS.CloseGoal, 'person', CARE_RECORDING],
  // Visits: planned by the provider's manager (or its rostering system), attended by the care worker (the visit decides which one)
  ['POST /api/patients/:id/visits', COMMAND_ACCESS.PlanVisit, 'person', VISIT_PLANNING],
  ['POST /api/patients/:id/visits/:visit/reschedule', COMMAND_ACCESS.RescheduleVisit, 'person', VISIT_PLANNING],
  ['POST /api/patients/:id/visits/:visit/cancellation', COMMAND_ACCESS.CancelVisit, 'person', VISIT_PLANNING],
  ['POST /api/visits/imports (each visit decided for its person)', COMMAND_ACCESS.ImportVisits, 'person', VISIT_PLANNING],
  ['POST /api/patients/:id/visits/:visit/check-in', COMMAND_ACCESS.CheckInVisit, 'person', CARE_RECORDING],
  ['POST /api/patients/:id/visits/:visit/check-out', COMMAND_ACCESS.CheckOutVisit, 'person', CARE_RECORDING],
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
  ['POST /fhir/MedicationRequest', FHIR_ACCESS.create('MedicationRequest'), 'person', PRESCRIBING],
  ['POST /fhir/AllergyIntolerance', FHIR_ACCESS.create('AllergyIntolerance'), 'person', PRESCRIBING],
  ['POST /fhir/Condition', FHIR_ACCESS.create('Condition'), 'person', PRESCRIBING],
  ['PUT /fhir/AllergyIntolerance/:id', FHIR_ACCESS.update('AllergyIntolerance'), 'person', PRESCRIBING],
  ['PUT /fhir/Condition/:id', FHIR_ACCESS.update('Condition'), 'person', PRESCRIBING],
  // A visit's Encounter is its check-in (POST) and check-out (PUT): the care worker's (the visit decides which one)
  ['POST /fhir/Encounter', FHIR_ACCESS.create('Encounter'), 'person', CARE_RECORDING],
  ['PUT /fhir/Encounter/:id', FHIR_ACCESS.update('Encounter'), 'person', CARE_RECORDING],
  // What a search adds with _include is each decided as a direct read of it (issue 16.6)
  ['GET /fhir/Observation?patient=:id&_include=Observation:patient (each included Patient)', FHIR_ACCESS.read('Patient'), 'person', READING],
  // Ids derived from the person: decided on the person the stored resource is about; not recorded is decided on no one (below) (issue 16.7)
  ['GET /fhir/CareTeam/careteam-:id (read, vread, _history)', FHIR_ACCESS.read('CareTeam'), 'person', READING],
  ['GET /fhir/CarePlan/careplan-:hash (read, vread, _history)', FHIR_ACCESS.read('CarePlan'), 'person', READING],
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
  // The delegation service's lists: each person in an answer is decided as a direct read of them, the others left out (issue 16.2)
  ['GET /api/worklist?careWorkerId=:id (each person in the answer)', DELEGATION_ACCESS.ReadWorklist, 'person', READING],
  ['GET /api/escalations?open=true (each person in the answer)', DELEGATION_ACCESS.ReadEscalations, 'person', READING],
  ['GET /api/prompts, GET /api/delegations (each person in the answer)', DELEGATION_ACCESS.ReadDelegations, 'person', READING],
  // Competences concern no one person: the role decides here, the competency stream decides who exactly (the assessing
  // nursing team; the employer's registered manager may suspend for safeguarding) (issue 16.3, docs/decisions/0012)
  ...(['StartTraining', 'CompleteTrainingModule', 'RecordSupervisedPractice', 'SignOffCompetence', 'RecordAssessmentNotPassed', 'RevokeCompetence', 'ReinstateCompetence'] as const).map(
    (id): Row => [`competence command ${id}`, DELEGATION_ACCESS[id], 'nobody', row('NN', 'YY', 'NN', 'NN', 'NN', 'NN')],
  ),
  ['competence command SuspendCompetence (POST /api/competences/:cw/:framework/suspension)', DELEGATION_ACCESS.SuspendCompetence, 'nobody', row('NN', 'YY', 'NN', 'YY', 'NN', 'NN')],
  // On-call rotas: set by the organisation's registered manager; read like the directory
  ['PUT /api/oncall-rotas/:organisationId (own organisation / another)', DELEGATION_ACCESS.SetOnCallRota, 'organisation', row('NN', 'NN', 'NN', 'YN', 'NN', 'NN')],
  ['GET /api/oncall-rotas/:organisationId', DELEGATION_ACCESS.ReadOnCallRota, 'nobody', row('YY', 'YY', 'YY', 'YY', 'YY', 'YY')],
  // FHIR Subscriptions (issue 14): a GP, a nurse or an integration subscribes to a person in their care; its own
  // subscriptions concern no one person (the route lets only their owner see or delete them); each notification is a read
  ['POST /fhir/Subscription (criteria filtered to patient=:id)', SUBSCRIPTION_ACCESS.create, 'person', row('NN', 'YN', 'YN', 'NN', 'NN', 'YN')],
  ['GET /fhir/Subscription/:id, GET /fhir/Subscription (own)', SUBSCRIPTION_ACCESS.read, 'nobody', row('NN', 'YY', 'YY', 'NN', 'NN', 'YY')],
  ['GET /fhir/Subscription?... (own)', SUBSCRIPTION_ACCESS.search, 'nobody', row('NN', 'YY', 'YY', 'NN', 'NN', 'YY')],
  ['DELETE /fhir/Subscription/:id (own)', SUBSCRIPTION_ACCESS.delete, 'nobody', row('NN', 'YY', 'YY', 'NN', 'NN', 'YY')],
  ['a notification of an escalation (Communication) to the owner, at the event', NOTIFICATION_ACCESS('Communication'), 'person', READING],
  ['a notification of a NEWS2 (Observation) to the owner, at the event', NOTIFICATION_ACCESS('Observation'), 'person', READING],
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

  it("a GP sees the registered patients of his practice (his token's org is the practice's ODS code), not another practice's", () => {
    const atPractice = principal('gp', 'gp-7', { org: 'Y12345' });
    const registeredThere: PatientFacts = { patientId: elsewhere.patientId, registeredPracticeOds: 'Y12345', careTeam: [] };
    expect(reading(atPractice, registeredThere)).toMatchObject({ allowed: true, relationship: 'registered-practice' });
    expect(reading(principal('gp', 'gp-8', { org: 'B82005' }), registeredThere).allowed).toBe(false);
    expect(reading(principal('gp', 'gp-9'), registeredThere).allowed).toBe(false); // no organisation in the token
    // The practice's other staff are not thereby related: the rule is a GP's.
    expect(reading(principal('district-nurse', 'nurse-7', { org: 'Y12345' }), registeredThere).allowed).toBe(false);
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

describe('a care team is joined by referral, not on one’s own say-so (issue 16.8)', () => {
  const join = COMMAND_ACCESS.AddCareTeamMember;
  const joining = (who: Principal, facts: PatientFacts, breakGlassReason?: string) =>
    decide({ principal: who, action: join.action, needs: join.needs, target: { kind: 'patient', patientId: facts.patientId, facts }, ...(breakGlassReason ? { breakGlassReason } : {}) });
  const zoe = principal('district-nurse', 'nurse-zoe', { org: 'org-south-nursing' });

  it('refuses a nurse of another team adding herself to a stranger’s team, naming the reason and what to do, even with a break-glass reason', () => {
    const refused = joining(zoe, inCare);
    expect(refused).toMatchObject({ allowed: false, reason: 'relationship' });
    expect(refused.detail).toMatch(/only by someone already responsible for them .*ask them to refer the person to you/);
    expect(joining(zoe, inCare, 'covering tonight')).toMatchObject({ allowed: false, reason: 'relationship' });
  });

  it("refuses a manager of another organisation; lets the manager of the agency caring for the person assign (someone of hers is on the team)", () => {
    expect(joining(principal('registered-manager', 'manager-9', { org: 'org-elsewhere' }), inCare)).toMatchObject({ allowed: false, reason: 'relationship' });
    expect(joining(USERS['registered-manager'], inCare)).toMatchObject({ allowed: true, relationship: 'organisation' });
  });

  it('lets those already responsible refer: a team member, a nurse of the nursing team, the registered GP', () => {
    expect(joining(USERS['district-nurse'], inCare)).toMatchObject({ allowed: true, relationship: 'care-team' });
    expect(joining(principal('district-nurse', 'nurse-2', { org: 'org-nursing' }), inCare)).toMatchObject({ allowed: true, relationship: 'nursing-team' });
    expect(joining(USERS.gp, { ...inCare, careTeam: [] })).toMatchObject({ allowed: true, relationship: 'registered-gp' });
  });

  it('lets whoever registered a new person set up their team while nobody is on it, and only then', () => {
    const justRegistered: PatientFacts = { patientId: 'patient-new', registeredBy: 'nurse-zoe', careTeam: [] };
    expect(joining(zoe, justRegistered)).toMatchObject({ allowed: true, relationship: 'registrant' });
    expect(joining(principal('district-nurse', 'nurse-other', { org: 'org-south-nursing' }), justRegistered).allowed).toBe(false);
    const teamSetUp = { ...justRegistered, careTeam: [{ practitionerId: 'nurse-9', teamRole: 'accountable-clinician', organisation: 'org-other-nursing', practitionerRole: 'district-nurse' }] };
    expect(joining(zoe, teamSetUp).allowed).toBe(false);
  });
});

describe('a resource not recorded is refused exactly like someone else’s (issue 16.7)', () => {
  it.each(['CareTeam', 'CarePlan', 'Observation'])('%s: outside a relationship, not recorded and recorded-but-not-yours are the same refusal; those who read everyone can tell', (type) => {
    const read = FHIR_ACCESS.read(type);
    const decideOn = (who: Principal, target: Target) => decide({ principal: who, action: read.action, needs: read.needs, target });
    // What the FHIR routes decide a missing resource on: no one (services/record NOBODY_KNOWN).
    const notRecorded: Target = { kind: 'patient', patientId: '', facts: undefined };
    const notYours: Target = { kind: 'patient', patientId: OUT, facts: elsewhere };
    for (const role of ['care-worker', 'district-nurse', 'gp', 'registered-manager'] as const) {
      const [missing, others] = [decideOn(USERS[role], notRecorded), decideOn(USERS[role], notYours)];
      expect({ allowed: missing.allowed, reason: missing.reason }).toEqual({ allowed: others.allowed, reason: others.reason });
      expect(missing).toMatchObject({ allowed: false, reason: 'relationship' });
    }
    expect(decideOn(USERS.system, notRecorded)).toMatchObject({ allowed: false, reason: 'launch-context' });
    expect(decideOn(USERS.system, notYours)).toMatchObject({ allowed: false, reason: 'launch-context' });
    expect(decideOn(USERS.auditor, notRecorded).allowed).toBe(true);
  });
});

describe('_include (issue 16.6)', () => {
  it('a launch token scoped to Observations may search them but not read the Patient an _include would add', () => {
    const launched = principal('system', 'app-1', { scope: 'patient/Observation.rs', patient: IN });
    const target: Target = { kind: 'patient', patientId: IN, facts: inCare };
    const search = FHIR_ACCESS.search('Observation');
    const includedPatient = FHIR_ACCESS.read('Patient');
    expect(decide({ principal: launched, action: search.action, needs: search.needs, target }).allowed).toBe(true);
    expect(decide({ principal: launched, action: includedPatient.action, needs: includedPatient.needs, target })).toMatchObject({ allowed: false, reason: 'scope' });
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

  it("gives a provider's capacity to a system (a discharge team's) and the auditor for any provider, its registered manager for her own, nobody else", () => {
    const capacityOf = (organisationId: string) => ({ action: 'capacity.read' as const, needs: [], target: { kind: 'organisation' as const, organisationId } });
    for (const role of ROLES) {
      const decision = decide({ principal: principal(role, 'x', { org: 'org-kindly-care' }), ...capacityOf('org-kindly-care') });
      expect(decision.allowed).toBe(role === 'system' || role === 'auditor' || role === 'registered-manager');
    }
    expect(decide({ principal: principal('registered-manager', 'x', { org: 'org-kindly-care' }), ...capacityOf('org-other-agency') })).toMatchObject({ allowed: false, reason: 'organisation' });
    expect(decide({ principal: principal('system', 'x'), ...capacityOf('org-other-agency') }).allowed).toBe(true);
  });

  it("keeps the quality indicators to auditors (any organisation) and a registered manager (her own service's only)", () => {
    const indicatorsOf = (organisationId: string) => ({ action: 'quality.read' as const, needs: [], target: { kind: 'organisation' as const, organisationId } });
    for (const role of ROLES) {
      const decision = decide({ principal: principal(role, 'x', { org: 'org-kindly-care' }), ...indicatorsOf('org-kindly-care') });
      expect(decision.allowed).toBe(role === 'auditor' || role === 'registered-manager');
    }
    expect(decide({ principal: principal('registered-manager', 'x', { org: 'org-kindly-care' }), ...indicatorsOf('org-other-agency') })).toMatchObject({ allowed: false, reason: 'organisation' });
    expect(decide({ principal: principal('auditor', 'x'), ...indicatorsOf('org-other-agency') }).allowed).toBe(true);
  });
});
