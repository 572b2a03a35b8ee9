import { careEventDefinitions, EventRegistry, type Actor } from '@tandem/contracts';
import { pgliteBackend, validatedStore, type EventStore } from '@tandem/event-store';
import { CareRecord } from '../../src/application/care-record';
import { NeedsConfirmation, patientIdFor as keyedPatientId } from '../../src/domain';

const nurse: Actor = { id: 'nurse-1', role: 'district-nurse', registration: { system: 'https://fhir.hl7.org.uk/Id/nmc-number', value: '12A3456E' } };
const amira: Actor = { id: 'cw-amira', role: 'care-worker' };
const tom: Actor = { id: 'cw-tom', role: 'care-worker' };
const now = new Date('2026-11-24T18:30:00Z');
const ID_SECRET = 'care-record-test-id-secret-0123456789';
const patientIdFor = (nhsNumber: string) => keyedPatientId(nhsNumber, ID_SECRET);

const registration = (key: string) => ({
  idempotencyKey: key,
  occurredAt: '2026-11-24T09:00:00Z',
  nhsNumber: '9912003888',
  name: { given: ['Arthur'], family: 'Jones', prefix: 'Mr' },
  birthDate: '1941-03-02',
  gpPractice: { odsCode: 'Y12345', name: 'Riverside Surgery' },
});

const eveningDose = (key: string, patientId: string) => ({
  idempotencyKey: key,
  occurredAt: '2026-11-24T18:00:00Z',
  patientId,
  product: 'Humulin I KwikPen',
  device: 'pen' as const,
  dose: { value: 8, unit: 'units' as const },
  site: 'abdomen' as const,
});

/** The command edge on a real (in-memory PGlite) store: retries, races and concurrent writers. */
describe('recording care through the application service', () => {
  let store: EventStore;
  let care: CareRecord;

  beforeAll(async () => {
    store = validatedStore(await pgliteBackend({}), new EventRegistry([...careEventDefinitions]));
    care = new CareRecord(store, () => now, { idSecret: ID_SECRET });
  });
  afterAll(() => store.close());

  it('registers one person when two requests with the same NHS number race', async () => {
    const [a, b] = await Promise.all([care.registerPatient(registration('reg-a'), nurse), care.registerPatient(registration('reg-b'), nurse)]);
    expect(a.patientId).toBe(patientIdFor('9912003888'));
    expect(b.patientId).toBe(a.patientId);
    expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
    expect(await store.readStream(`patient-${a.patientId}`)).toHaveLength(1);
  });

  it('records a retried dose (same idempotency key) once, returning the original result', async () => {
    const patientId = patientIdFor('9912003888');
    const first = await care.recordCare('RecordInsulinAdministered', eveningDose('dose-evening-1', patientId), amira);
    const retry = await care.recordCare('RecordInsulinAdministered', eveningDose('dose-evening-1', patientId), amira);
    expect(retry).toMatchObject({ replayed: true, position: first.position, eventIds: first.eventIds });
    const doses = (await store.readStream(`care-${patientId}`)).filter((e) => e.type === 'InsulinAdministered');
    expect(doses).toHaveLength(1);
    expect((doses[0]!.data as { dose: { unit: string } }).dose.unit).toBe('units');
    expect(doses[0]!.metadata.actor).toEqual(amira);
  });

  it('asks the second of two care workers recording the same dose at once to confirm it is not a duplicate', async () => {
    const { patientId } = await care.registerPatient({ ...registration('reg-mrs-patel'), nhsNumber: '9434765919', name: { given: ['Doreen'], family: 'Patel' } }, nurse);
    const outcomes = await Promise.allSettled([
      care.recordCare('RecordInsulinAdministered', eveningDose('dose-amira', patientId), amira),
      care.recordCare('RecordInsulinAdministered', { ...eveningDose('dose-tom', patientId), occurredAt: '2026-11-24T18:02:00Z' }, tom),
    ]);
    // Whichever append loses is decided again on the new state, and sees the other's dose.
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const asked = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')!;
    expect(asked.reason).toBeInstanceOf(NeedsConfirmation);
    expect(asked.reason).toMatchObject({ code: 'insulin.possible-duplicate', field: 'occurredAt' });
    const doses = (await store.readStream(`care-${patientId}`)).filter((e) => e.type === 'InsulinAdministered');
    expect(doses).toHaveLength(1);
  });

  it('decides concurrent entries on the latest state: both are stored, in order, none lost', async () => {
    const patientId = patientIdFor('9912003888');
    const before = (await store.readStream(`care-${patientId}`)).length;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        care.recordCare('RecordFluidIntake', { idempotencyKey: `drink-${i}`, occurredAt: '2026-11-24T17:00:00Z', patientId, volumeMl: 200, drink: 'tea' }, tom),
      ),
    );
    expect(new Set(results.map((r) => r.revision)).size).toBe(8);
    expect(await store.readStream(`care-${patientId}`)).toHaveLength(before + 8);
  });

  it('says a person was created only to the actor who registered them, even on a retry with the same key', async () => {
    const sarah: Actor = { id: 'nurse-sarah', role: 'district-nurse' };
    const zoe: Actor = { id: 'nurse-zoe', role: 'district-nurse' };
    const first = await care.registerPatient({ ...registration('reg-edna'), nhsNumber: '9000000009', name: { given: ['Edna'], family: 'Wilson' } }, sarah);
    const retried = await care.registerPatient({ ...registration('reg-edna'), nhsNumber: '9000000009', name: { given: ['Edna'], family: 'Wilson' } }, sarah);
    const sameKeyElsewhere = await care.registerPatient({ ...registration('reg-edna'), nhsNumber: '9000000009', name: { given: ['Edna'], family: 'Wilson' } }, zoe);
    const otherKey = await care.registerPatient({ ...registration('reg-edna-zoe'), nhsNumber: '9000000009', name: { given: ['Edna'], family: 'Wilson' } }, zoe);
    expect([first.created, retried.created, sameKeyElsewhere.created, otherKey.created]).toEqual([true, true, false, false]);
    expect(new Set([first, retried, sameKeyElsewhere, otherKey].map((r) => r.patientId)).size).toBe(1);
    expect((await care.patient(first.patientId)).registeredBy).toBe('nurse-sarah');
  });

  it('keys the id with the deployment secret: another secret gives the same NHS number another id', async () => {
    const elsewhere = new CareRecord(store, () => now, { idSecret: 'another-deployment-id-secret-987654321' });
    expect(elsewhere.patientIdFor('9912003888')).not.toBe(care.patientIdFor('9912003888'));
    await expect(new CareRecord(store, () => now).registerPatient(registration('reg-no-secret'), nurse)).rejects.toThrow(/no id secret/);
  });

  it('refuses care for a person who is not registered', async () => {
    await expect(care.recordCare('WriteNote', { idempotencyKey: 'n-1', occurredAt: '2026-11-24T17:00:00Z', patientId: patientIdFor('9876543210'), text: 'hello' }, tom)).rejects.toThrow(
      /No patient/,
    );
  });
});
