import { currentEntriesOf, currentEntryOf, evolveEntries, FIRST_ENTRY_VERSION, initialEntriesState, nextEntryVersion, type EntryStreamEvent } from '../src';

// The one function every reader of a care record derives its entries with (the record's decider,
// the delegation rules, the FHIR projection's versions, the FHIR write path): given care events,
// then the entries as they stand, with their version, status and corrections.

const PATIENT = '0b6f6d2e-8a55-4d43-9a87-3f1d3cbb0a01';
const nurse = { id: 'nurse-1', role: 'district-nurse' as const };
let n = 0;
const id = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
const at = (hhmm: string) => `2026-12-01T${hhmm}:00.000Z`;

const glucose = (value: number, time = '07:30'): EntryStreamEvent => ({
  id: id(),
  type: 'BloodGlucoseRecorded',
  data: { patientId: PATIENT, glucoseMmolL: value },
  occurredAt: at(time),
  recordedAt: at(time),
  recordedBy: nurse,
});
const amended = (entryId: string, value: number, reason = 'typed wrong', occurredAt?: string): EntryStreamEvent => ({
  id: id(),
  type: 'EntryAmended',
  data: { patientId: PATIENT, entryId, reason, replacement: { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: value }, ...(occurredAt ? { occurredAt } : {}) } },
  occurredAt: at('09:00'),
  recordedAt: at('09:00'),
});
const inError = (entryId: string, reason = 'wrong person'): EntryStreamEvent => ({
  id: id(),
  type: 'EntryMarkedEnteredInError',
  data: { patientId: PATIENT, entryId, reason },
  occurredAt: at('10:00'),
});
const dose = (): EntryStreamEvent => ({
  id: id(),
  type: 'InsulinAdministered',
  data: { patientId: PATIENT, product: 'Humulin I KwikPen', device: 'pen', dose: { value: 8, unit: 'units' }, site: 'abdomen' },
  occurredAt: at('08:00'),
});
const unknownProductFlag = (): EntryStreamEvent => ({ id: id(), type: 'UnknownInsulinProductFlagged', data: { patientId: PATIENT, product: 'Humulin I KwikPen' }, occurredAt: at('08:00') });

const given = (...events: EntryStreamEvent[]) => currentEntriesOf(events);

describe('the current entries of a care record', () => {
  it('given a reading recorded, then it is an entry at the first version, final, with no corrections', () => {
    const reading = glucose(6.2);
    expect(currentEntryOf(given(reading), reading.id)).toEqual({
      id: reading.id,
      type: 'BloodGlucoseRecorded',
      data: { patientId: PATIENT, glucoseMmolL: 6.2 },
      occurredAt: at('07:30'),
      recordedAt: at('07:30'),
      recordedBy: nurse,
      version: FIRST_ENTRY_VERSION,
      eventIds: [reading.id],
      status: 'final',
      corrections: [],
      flags: [],
    });
  });

  it('given an amendment, then the entry holds the replacement (the person kept), at the next version, with the correction and its reason', () => {
    const reading = glucose(62);
    const amendment = amended(reading.id, 6.2);
    const entry = currentEntryOf(given(reading, amendment), reading.id)!;
    expect(entry).toMatchObject({ data: { patientId: PATIENT, glucoseMmolL: 6.2 }, version: nextEntryVersion(FIRST_ENTRY_VERSION), status: 'amended', eventIds: [reading.id, amendment.id] });
    expect(entry.corrections).toEqual([{ kind: 'amended', eventId: amendment.id, reason: 'typed wrong', occurredAt: at('09:00'), recordedAt: at('09:00'), version: 2 }]);
  });

  it("given an amendment that corrects the bedside time, then the entry's time is the corrected one", () => {
    const reading = glucose(6.2, '07:30');
    expect(currentEntryOf(given(reading, amended(reading.id, 6.2, 'wrong time', at('06:45'))), reading.id)?.occurredAt).toBe(at('06:45'));
  });

  it('given an entered-in-error mark, then the entry stays, marked, at the next version; later corrections of it change nothing', () => {
    const reading = glucose(6.2);
    const mark = inError(reading.id);
    const entries = given(reading, mark, amended(reading.id, 7), inError(reading.id, 'again'));
    expect(currentEntryOf(entries, reading.id)).toMatchObject({
      data: { glucoseMmolL: 6.2 },
      version: 2,
      status: 'entered-in-error',
      enteredInError: { kind: 'entered-in-error', eventId: mark.id, reason: 'wrong person', version: 2 },
    });
  });

  it('given a correction of an entry not in the stream, or a replacement of another kind, then nothing changes', () => {
    const reading = glucose(6.2);
    const otherKind: EntryStreamEvent = {
      id: id(),
      type: 'EntryAmended',
      data: { patientId: PATIENT, entryId: reading.id, reason: 'x', replacement: { type: 'NoteWritten', data: { text: 'hello' } } },
      occurredAt: at('09:00'),
    };
    expect(given(reading, amended('00000000-0000-4000-8000-999999999999', 4), otherKind)).toEqual(given(reading));
  });

  it('given the same entry event twice, then the first recording stands', () => {
    const reading = glucose(6.2);
    expect(currentEntryOf(given(reading, { ...reading, data: { patientId: PATIENT, glucoseMmolL: 9 } } as EntryStreamEvent), reading.id)?.data).toMatchObject({ glucoseMmolL: 6.2 });
  });

  it('given a dose and the flag appended with it, then the flag is a version of that dose (its FHIR resource gains a note)', () => {
    const first = dose();
    const flag = unknownProductFlag();
    const entry = currentEntryOf(given(first, flag), first.id)!;
    expect(entry.version).toBe(2);
    expect(entry.flags).toMatchObject([{ type: 'UnknownInsulinProductFlagged', eventId: flag.id, version: 2 }]);
    expect(entry.status).toBe('final');
  });

  it('folds one event at a time to the same entries as the whole stream, and hands back the same state for an event about no entry', () => {
    const reading = glucose(62);
    const events = [reading, amended(reading.id, 6.2), glucose(5.1, '12:00')];
    const folded = events.reduce(evolveEntries, initialEntriesState);
    expect(folded.entries).toEqual(currentEntriesOf(events));
    const unrelated = { id: id(), type: 'DoseOutsideInstructionFlagged', data: { patientId: PATIENT, delegationId: 'd', differences: [{ field: 'product', instructed: 'a', given: 'b' }] }, occurredAt: at('12:00') } as EntryStreamEvent;
    // A flag after a reading belongs to the entry recorded last, as the record appends them.
    expect(evolveEntries(folded, unrelated).entries[events[2]!.id]?.version).toBe(2);
    expect(evolveEntries(initialEntriesState, unrelated)).toBe(initialEntriesState);
  });
});
