import { careEventDefinitions, EventRegistry, type Actor } from '@tandem/contracts';
import { pgliteBackend, validatedStore, type EventStore } from '@tandem/event-store';
import { CareRecord } from '../../src/application/care-record';
import { IdempotencyKeyReused } from '../../src/application/stream-command';
import { patientIdFor } from '../../src/domain';

/**
 * Idempotency keys are scoped to the user and the command (issues 9.4 and 16.5): the same key
 * with the same command is a replay; with a different command it is refused and nothing is
 * stored; another user's key is theirs alone.
 */
const nurse: Actor = { id: 'nurse-sarah', role: 'district-nurse' };
const amira: Actor = { id: 'cw-amira', role: 'care-worker' };
const now = new Date('2026-11-24T18:30:00Z');
const ID_SECRET = 'idempotency-test-id-secret-0123456789';

describe('an idempotency key', () => {
  let store: EventStore;
  let care: CareRecord;
  let patientId: string;
  const vitals = (key: string, pulse: number) => ({ idempotencyKey: key, patientId, occurredAt: '2026-11-24T18:00:00Z', pulse });
  const stored = async () => (await store.readStream(`care-${patientId}`)).map((e) => ({ type: e.type, pulse: (e.data as { pulse?: number }).pulse, by: e.metadata.actor.id }));

  beforeAll(async () => {
    store = validatedStore(await pgliteBackend({}), new EventRegistry([...careEventDefinitions]));
    care = new CareRecord(store, () => now, { idSecret: ID_SECRET });
    ({ patientId } = await care.registerPatient(
      { idempotencyKey: 'reg', occurredAt: '2026-11-24T09:00:00Z', nhsNumber: '9912003888', name: { given: ['Arthur'], family: 'Jones' }, birthDate: '1941-03-02', gpPractice: { odsCode: 'Y12345', name: 'Riverside Surgery' } },
      nurse,
    ));
    expect(patientId).toBe(patientIdFor('9912003888', ID_SECRET));
  });
  afterAll(() => store.close());

  it('given pulse 80 under "readme-1", when the same command is sent again, then it is a replay with the same answer', async () => {
    const first = await care.recordCare('RecordVitalSigns', vitals('readme-1', 80), amira);
    const again = await care.recordCare('RecordVitalSigns', vitals('readme-1', 80), amira);
    expect(again).toMatchObject({ replayed: true, eventIds: first.eventIds, position: first.position, news2: first.news2 });
    expect(await stored()).toEqual([{ type: 'VitalSignsRecorded', pulse: 80, by: 'cw-amira' }]);
  });

  it('when "readme-1" comes with pulse 150, then it is refused naming idempotencyKey and the 150 is not stored', async () => {
    const reused = care.recordCare('RecordVitalSigns', vitals('readme-1', 150), amira);
    await expect(reused).rejects.toBeInstanceOf(IdempotencyKeyReused);
    await expect(reused).rejects.toMatchObject({ field: 'idempotencyKey' });
    expect(await stored()).toEqual([{ type: 'VitalSignsRecorded', pulse: 80, by: 'cw-amira' }]);
  });

  it('when Sarah sends vital signs under Amira\'s key, then they are her own entry, not a replay of Amira\'s', async () => {
    await care.recordCare('WriteNote', { idempotencyKey: 'visit-X', patientId, occurredAt: '2026-11-24T18:05:00Z', text: 'Comfortable' }, amira);
    const sarahs = await care.recordCare('RecordVitalSigns', vitals('visit-X', 135), nurse);
    expect(sarahs).toMatchObject({ replayed: false, eventTypes: ['VitalSignsRecorded'] });
    expect((await stored()).slice(-2)).toEqual([
      { type: 'NoteWritten', pulse: undefined, by: 'cw-amira' },
      { type: 'VitalSignsRecorded', pulse: 135, by: 'nurse-sarah' },
    ]);
  });

  it('one user\'s key for one command does not answer another command: a note under a vital-signs key is recorded', async () => {
    const note = await care.recordCare('WriteNote', { idempotencyKey: 'readme-1', patientId, occurredAt: '2026-11-24T18:10:00Z', text: 'Asleep' }, amira);
    expect(note).toMatchObject({ replayed: false, eventTypes: ['NoteWritten'] });
  });

  it('two retries racing store the entry once (the event ids are the same, the store keeps one)', async () => {
    const [a, b] = await Promise.all([care.recordCare('RecordVitalSigns', vitals('race-1', 90), amira), care.recordCare('RecordVitalSigns', vitals('race-1', 90), amira)]);
    expect(b.eventIds).toEqual(a.eventIds);
    expect((await stored()).filter((e) => e.pulse === 90)).toHaveLength(1);
  });

  it('a correction sent without its own time is retried as a replay (its time is the server\'s, not part of the command)', async () => {
    const [entryId] = (await care.recordCare('RecordVitalSigns', vitals('to-correct', 60), amira)).eventIds;
    const mark = { idempotencyKey: 'eie-1', patientId, entryId: entryId!, reason: 'Wrong person' };
    const first = await care.recordCare('MarkEntryEnteredInError', mark, nurse);
    const retry = await care.recordCare('MarkEntryEnteredInError', mark, nurse);
    expect(first.replayed).toBe(false);
    expect(retry).toMatchObject({ replayed: true, eventIds: first.eventIds });
    const [event] = (await store.readStream(`care-${patientId}`)).filter((e) => e.type === 'EntryMarkedEnteredInError');
    expect(event!.metadata.occurredAt).toBe(now.toISOString());
  });
});
