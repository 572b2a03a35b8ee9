import { OCCURRED_AT_CONFIRM_OLDER_THAN_DAYS, OCCURRED_AT_MAX_FUTURE_MINUTES } from '@tandem/contracts';
import { writeNote } from '../../src/domain/notes';
import { recordVitalSigns } from '../../src/domain/vital-signs';
import { context, given, NOW, PATIENT_ID } from './fixtures';

/** Times that cannot be true are refused; entries dated long back are confirmed and shown late (issue 9.6, 16.13). */
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000).toISOString();
const days = (n: number) => minutes(n * 24 * 60);
const note = (occurredAt: string, confirmedLate?: boolean) => ({
  idempotencyKey: 'k',
  patientId: PATIENT_ID,
  occurredAt,
  text: 'Comfortable, ate well',
  ...(confirmedLate === undefined ? {} : { confirmedLate }),
});

describe('a bedside time in the future', () => {
  it(`accepts up to ${OCCURRED_AT_MAX_FUTURE_MINUTES} minutes ahead (clock drift between a phone and the server)`, () =>
    given().when((state) => writeNote(note(minutes(OCCURRED_AT_MAX_FUTURE_MINUTES)), state, context())).then(['NoteWritten']));

  it('refuses anything later, naming occurredAt', () =>
    given().when((state) => writeNote(note(minutes(OCCURRED_AT_MAX_FUTURE_MINUTES + 1)), state, context())).thenThrows('time.in-future', 'occurredAt'));

  it('refuses vital signs dated tomorrow too', () =>
    given()
      .when((state) => recordVitalSigns({ idempotencyKey: 'k', patientId: PATIENT_ID, occurredAt: days(1), pulse: 80 }, state, context()))
      .thenThrows('time.in-future', 'occurredAt'));
});

describe('an entry dated long back', () => {
  it(`records an entry up to ${OCCURRED_AT_CONFIRM_OLDER_THAN_DAYS} days back without asking`, () =>
    given().when((state) => writeNote(note(days(-OCCURRED_AT_CONFIRM_OLDER_THAN_DAYS)), state, context())).then(['NoteWritten']));

  it('asks for confirmation of an entry dated 2001, naming occurredAt', () =>
    given().when((state) => writeNote(note('2001-06-01T10:00:00Z'), state, context())).thenThrows('time.late-entry', 'occurredAt'));

  it('records it once confirmed (a late entry is still a fact)', () =>
    given().when((state) => writeNote(note('2001-06-01T10:00:00Z', true), state, context())).then(['NoteWritten']));

  it('refuses a note dated 0001-01-01 even when "confirmed": no care record entry can be that old', () =>
    given().when((state) => writeNote(note('0001-01-01T00:00:00Z', true), state, context())).thenThrows('time.impossible', 'occurredAt'));
});
