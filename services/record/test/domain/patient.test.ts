import { careEventDefinitions, EventRegistry, RegisterPatientSchema, RegisterPractitionerSchema, type PatientEvent, type RegisterPatient } from '@tandem/contracts';
import {
  addCareTeamMember,
  evolvePatient,
  initialPatientState,
  patientStateFrom,
  registerPatient,
  removeCareTeamMember,
  setPatientBaseline,
  type PatientState,
} from '../../src/domain/patient';
import { registerPractitioner, initialRegisteredState } from '../../src/domain/practitioners';
import { specification } from './given';
import { at, issuesOf, NOW, refusedNaming } from './fixtures';

const registry = new EventRegistry([...careEventDefinitions]);
const valid = (event: { type: string; data?: unknown }) => {
  const encoded = registry.encode(event.type, event.data);
  if (!encoded.ok) throw new Error(JSON.stringify(encoded.issues));
};
const { given } = specification<PatientState, PatientEvent>(evolvePatient, initialPatientState, valid);

const EXISTING_ID = '6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5';
const NEW_ID = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';

const registration = (changes: Partial<RegisterPatient> = {}): RegisterPatient => ({
  idempotencyKey: 'register-1',
  occurredAt: at('10:00'),
  nhsNumber: '9912003888',
  name: { given: ['Edith'], family: 'Crawley', prefix: 'Mrs' },
  birthDate: '1938-04-02',
  gender: 'female',
  address: { lines: ['12 Mill Lane', 'Leeds'], postcode: 'LS1 4AP' },
  gpPractice: { odsCode: 'B86001', name: 'Mill Lane Surgery' },
  ...changes,
});

const registered: PatientEvent = {
  type: 'PatientRegistered',
  data: {
    patientId: EXISTING_ID,
    nhsNumber: '9912003888',
    name: { given: ['Edith'], family: 'Crawley' },
    birthDate: '1938-04-02',
    gpPractice: { odsCode: 'B86001', name: 'Mill Lane Surgery' },
    baseline: { spo2Scale: 1 },
  },
};

const register = (cmd: RegisterPatient) => (state: PatientState) => registerPatient(cmd, state, { now: NOW, newPatientId: NEW_ID }).events;

describe('registering a patient', () => {
  it('registers a new person with the id it was given, on SpO2 scale 1 until a clinician says otherwise', () =>
    given()
      .when(register(registration()))
      .then((events) => expect(events).toEqual([{ type: 'PatientRegistered', data: expect.objectContaining({ patientId: NEW_ID, baseline: { spo2Scale: 1 } }) }])));

  it('is idempotent on the NHS number: no new events, and the existing id', () => {
    const state = patientStateFrom([registered]);
    expect(registerPatient(registration(), state, { now: NOW, newPatientId: NEW_ID })).toEqual({ patientId: EXISTING_ID, events: [] });
  });

  it('refuses a date of birth in the future', () =>
    given().when(register(registration({ birthDate: '2025-03-11' }))).thenThrows('patient.birth-date-in-future', 'birthDate'));

  it('accepts a person born today', () => given().when(register(registration({ birthDate: '2025-03-10' }))).then(['PatientRegistered']));

  it('refuses an invalid NHS number with its reason, naming nhsNumber', () => {
    expect(refusedNaming(RegisterPatientSchema, registration({ nhsNumber: '9912003880' }), 'nhsNumber')).toBe('NHS number check digit does not match');
  });

  it('refuses SpO2 scale 2 without the registered clinician who prescribed it', () => {
    refusedNaming(RegisterPatientSchema, registration({ baseline: { spo2Scale: 2 } }), 'baseline.spo2Scale2PrescribedBy');
    const prescribed = {
      spo2Scale: 2 as const,
      spo2Scale2PrescribedBy: { practitionerId: 'dr-patel', registration: { system: 'https://fhir.hl7.org.uk/Id/gmc-number' as const, value: '7012345' } },
    };
    expect(issuesOf(RegisterPatientSchema, registration({ baseline: prescribed }))).toEqual([]);
  });

  it('refuses a postcode that is not a UK postcode', () => {
    refusedNaming(RegisterPatientSchema, registration({ address: { lines: ['1 Rue'], postcode: '75001' } }), 'address.postcode');
  });
});

describe('the person\'s baseline and team', () => {
  it('sets a baseline', () =>
    given(registered)
      .when((state) =>
        setPatientBaseline({ idempotencyKey: 'b1', patientId: EXISTING_ID, occurredAt: at('10:00'), baseline: { spo2Scale: 1, usualTemperatureC: 36.2 } }, state, { now: NOW }),
      )
      .then(['PatientBaselineSet']));

  it('refuses a change for a person not registered', () =>
    given()
      .when((state) => setPatientBaseline({ idempotencyKey: 'b1', patientId: EXISTING_ID, occurredAt: at('10:00'), baseline: { spo2Scale: 1 } }, state, { now: NOW }))
      .thenThrows('patient.not-registered', 'patientId'));

  const add = { idempotencyKey: 't1', patientId: EXISTING_ID, occurredAt: at('10:00'), practitionerId: 'nurse-jo', teamRole: 'accountable-clinician' as const };

  it('adds a team member once', () => {
    given(registered).when((state) => addCareTeamMember(add, state, { now: NOW })).then(['CareTeamMemberAdded']);
    given(registered, { type: 'CareTeamMemberAdded', data: { patientId: EXISTING_ID, practitionerId: 'nurse-jo', teamRole: 'accountable-clinician' } })
      .when((state) => addCareTeamMember(add, state, { now: NOW }))
      .then([]);
  });

  it('removes only a member who is in the team', () => {
    given(registered).when((state) => removeCareTeamMember(add, state, { now: NOW })).thenThrows('care-team.not-a-member', 'practitionerId');
  });
});

describe('practitioners', () => {
  const nurse = {
    idempotencyKey: 'p1',
    occurredAt: at('10:00'),
    practitionerId: 'nurse-jo',
    name: { given: ['Jo'], family: 'Bright' },
    role: 'district-nurse',
    organisationId: 'dn-team-leeds-north',
  };

  it('requires an NMC registration for a district nurse, and a GMC one for a GP', () => {
    refusedNaming(RegisterPractitionerSchema, nurse, 'registration');
    refusedNaming(
      RegisterPractitionerSchema,
      { ...nurse, registration: { system: 'https://fhir.hl7.org.uk/Id/gmc-number', value: '7012345' } },
      'registration.system',
    );
    expect(issuesOf(RegisterPractitionerSchema, { ...nurse, registration: { system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '12A3456E' } })).toEqual([]);
    refusedNaming(RegisterPractitionerSchema, { ...nurse, role: 'gp' }, 'registration');
  });

  it('does not require a registration of a care worker', () => {
    expect(issuesOf(RegisterPractitionerSchema, { ...nurse, role: 'care-worker' })).toEqual([]);
  });

  it('registers once', () => {
    const cmd = RegisterPractitionerSchema.parse({ ...nurse, role: 'care-worker' });
    expect(registerPractitioner(cmd, initialRegisteredState, { now: NOW }).map((e) => e.type)).toEqual(['PractitionerRegistered']);
    expect(registerPractitioner(cmd, { registered: true }, { now: NOW })).toEqual([]);
  });
});
