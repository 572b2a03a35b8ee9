import { mintToken } from '@tandem/auth';
import { expectValidUkCore } from '@tandem/fhir-validation';
import Client from 'fhir-kit-client';
import type { OperationOutcome, Patient } from 'fhir/r4';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig, startTandem, type RunningTandem } from '../src';
import { DEMO } from '../src/demo/demo-data';
import { seededRandom, testNhsNumbers } from '../src/demo/random';
import { recordChangesSince } from './record-changes';

/**
 * Issue 17 item 5, against the running server with a real FHIR client (fhir-kit-client): a GP
 * system registers a person with what it holds (phone and email, the NHS number's verification
 * status, the UK Core profile it follows) and every element is stored and returned, or refused
 * naming it, never dropped. The practice's GPs are in relationship with its registered patients
 * (docs/decisions/0035); another practice's are not.
 */

const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';
const VERIFICATION = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus';
const VERIFICATION_SYSTEM = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland';
const UK_CORE_PATIENT = 'https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient';

type Outcome = OperationOutcome & { issue: { expression?: string[]; code: string; diagnostics?: string }[] };
/** fhir-kit-client throws on an error status; the answer is in the error's response. */
type KitError = { response?: { status: number; data: Outcome } };

describe("a GP system registers a person with all it holds, and the practice's GPs read them back", () => {
  let dataDir: string;
  let tandem: RunningTandem;
  const nhsNumbers = testNhsNumbers(seededRandom(1717));
  /** The practice's GP who registers people, another GP of the same practice, and a GP of another practice. */
  const kits: Record<'registering' | 'colleague' | 'elsewhere', InstanceType<typeof Client>> = {} as never;
  let position = 0;

  const person = (nhsNumber: string, over: Partial<Patient> = {}): Patient => ({
    resourceType: 'Patient',
    meta: { profile: [UK_CORE_PATIENT] },
    identifier: [
      {
        extension: [{ url: VERIFICATION, valueCodeableConcept: { coding: [{ system: VERIFICATION_SYSTEM, code: '01', display: 'Number present and verified' }] } }],
        system: NHS_NUMBER,
        value: nhsNumber,
      },
    ],
    name: [{ use: 'official', family: 'Ahmed', given: ['Nadia'] }],
    telecom: [
      { system: 'phone', value: '07700 900123', use: 'mobile' },
      { system: 'email', value: 'nadia.ahmed@example.com', use: 'home' },
    ],
    gender: 'female',
    birthDate: '1941-06-02',
    address: [{ use: 'home', line: ['12 Mill Lane'], city: 'Leeds', district: 'West Yorkshire', postalCode: 'LS6 2AB' }],
    generalPractitioner: [{ identifier: { system: ODS, value: DEMO.gpPractice.odsCode }, display: DEMO.gpPractice.name }],
    ...over,
  });

  /** The answer of a write fhir-kit-client refuses, with proof that nothing was stored. */
  const refused = async (write: () => Promise<unknown>): Promise<{ status: number; outcome: Outcome }> => {
    const head = await tandem.storage.store.headPosition();
    const error = await write().then(
      () => undefined,
      (e: unknown) => e as KitError,
    );
    expect(error?.response).toBeDefined();
    expect(error!.response!.data.resourceType).toBe('OperationOutcome');
    expect(await recordChangesSince(tandem.storage.store, head)).toEqual([]);
    return { status: error!.response!.status, outcome: error!.response!.data };
  };
  const expressions = (outcome: Outcome) => outcome.issue.flatMap((i) => i.expression ?? []);

  /** A read once the projection holds what was written (fhir-kit-client passes the header through). */
  const readPatient = async (kit: InstanceType<typeof Client>, id: string) =>
    (await kit.read({ resourceType: 'Patient', id, options: { headers: { 'x-tandem-min-position': String(position) } } })) as Patient;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-patient-details-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
    const gp = (user: string, org: string) => mintToken({ role: 'gp', user, org, registration: { system: 'https://fhir.hl7.org.uk/Id/gmc-number', value: '7099999' } }, { dataDir });
    const kit = async (user: string, org: string) => new Client({ baseUrl: `${tandem.url}/fhir`, bearerToken: await gp(user, org) });
    // The token's org is the practice's ODS code, as NHS CIS2 gives it.
    kits.registering = await kit('gp-amina-patel', DEMO.gpPractice.odsCode);
    kits.colleague = await kit('gp-rhys-jones', DEMO.gpPractice.odsCode);
    kits.elsewhere = await kit('gp-other-practice', 'B82005');
  }, 120_000);

  afterAll(async () => {
    await tandem?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let patientId = '';
  let nhsNumber = '';

  it('stores the phone, the email, the NHS number verification status and the address as sent, and serves them back as UK Core Patient', async () => {
    nhsNumber = nhsNumbers.next().value!;
    const created = (await kits.registering.create({ resourceType: 'Patient', body: person(nhsNumber) as never })) as Patient;
    patientId = created.id!;
    position = Math.max(position, await tandem.storage.store.headPosition());
    const read = await readPatient(kits.registering, patientId);
    expect(read.telecom).toEqual([
      { system: 'phone', value: '07700 900123', use: 'mobile' },
      { system: 'email', value: 'nadia.ahmed@example.com', use: 'home' },
    ]);
    const identifier = read.identifier!.find((i) => i.system === NHS_NUMBER)!;
    expect(identifier.value).toBe(nhsNumber);
    expect(identifier.extension).toEqual([{ url: VERIFICATION, valueCodeableConcept: { coding: [{ system: VERIFICATION_SYSTEM, code: '01', display: 'Number present and verified' }] } }]);
    expect(read.address).toEqual([{ use: 'home', line: ['12 Mill Lane'], city: 'Leeds', district: 'West Yorkshire', postalCode: 'LS6 2AB' }]);
    // The profile stored is the server's own claim, checked here against UK Core's definitions.
    expect(read.meta?.profile).toEqual([UK_CORE_PATIENT]);
    expectValidUkCore(read);
  });

  it("lets the practice's other GP read the person it registered, and not a GP of another practice", async () => {
    expect((await readPatient(kits.colleague, patientId)).id).toBe(patientId);
    const { status } = await refused(() => readPatient(kits.elsewhere, patientId));
    expect(status).toBe(403);
  });

  it('changes the phone and the verification status with PUT (If-Match), keeping the rest', async () => {
    const current = await readPatient(kits.registering, patientId);
    const changed: Patient = {
      ...current,
      identifier: [{ extension: [{ url: VERIFICATION, valueCodeableConcept: { coding: [{ system: VERIFICATION_SYSTEM, code: '02' }] } }], system: NHS_NUMBER, value: nhsNumber }],
      telecom: [{ system: 'phone', value: '0113 496 0000', use: 'home' }],
    };
    await kits.registering.update({ resourceType: 'Patient', id: patientId, body: changed as never, options: { headers: { 'if-match': `W/"${current.meta!.versionId}"` } } });
    position = Math.max(position, await tandem.storage.store.headPosition());
    const read = await readPatient(kits.colleague, patientId);
    expect(read.telecom).toEqual([{ system: 'phone', value: '0113 496 0000', use: 'home' }]);
    expect(read.identifier![0]!.extension![0]!.valueCodeableConcept!.coding![0]!.code).toBe('02');
    expect(read.address![0]!.city).toBe('Leeds');
    expectValidUkCore(read);
  });

  it('names the telecom that differs when the NHS number is already registered (409), and stores nothing', async () => {
    const again = person(nhsNumber, { telecom: [{ system: 'phone', value: '07700 900999', use: 'mobile' }] });
    const { status, outcome } = await refused(() => kits.registering.create({ resourceType: 'Patient', body: again as never }));
    expect(status).toBe(409);
    expect(expressions(outcome)).toContain('Patient.telecom');
  });

  it.each([
    ['a profile the server does not follow', { meta: { profile: ['https://example.org/StructureDefinition/OtherPatient'] } }, 'Patient.meta.profile[0]'],
    ['a fax number (not a way this record reaches a person)', { telecom: [{ system: 'fax' as const, value: '0113 496 0001' }] }, 'Patient.telecom[0].system'],
    ['a ranked phone (rank is not kept)', { telecom: [{ system: 'phone' as const, value: '0113 496 0002', rank: 1 }] }, 'Patient.telecom[0].rank'],
    ['an email that is not one', { telecom: [{ system: 'email' as const, value: 'not-an-email' }] }, 'Patient.telecom[0].value'],
  ])('refuses %s, naming it, and stores nothing', async (_what, over, expression) => {
    const { status, outcome } = await refused(() => kits.registering.create({ resourceType: 'Patient', body: person(nhsNumbers.next().value!, over as Partial<Patient>) as never }));
    expect(status).toBe(422);
    expect(expressions(outcome)).toContain(expression);
  });

  it('refuses a verification status outside the England codes, and another extension on the NHS number, naming each', async () => {
    const badCode = person(nhsNumbers.next().value!);
    badCode.identifier![0]!.extension![0]!.valueCodeableConcept!.coding![0]!.code = '09';
    const first = await refused(() => kits.registering.create({ resourceType: 'Patient', body: badCode as never }));
    expect(first.status).toBe(422);
    expect(expressions(first.outcome)).toContain('Patient.identifier[0].extension[0].valueCodeableConcept.coding[0].code');

    const otherExtension = person(nhsNumbers.next().value!);
    otherExtension.identifier![0]!.extension = [{ url: 'https://example.org/nhs-number-note', valueString: 'checked by phone' }];
    const second = await refused(() => kits.registering.create({ resourceType: 'Patient', body: otherExtension as never }));
    expect(second.status).toBe(422);
    expect(expressions(second.outcome)).toContain('Patient.identifier[0].extension[0]');
  });
});
