import { CheckCellulitisSchema, RecordSoftSignsSchema, ScreenUrinarySymptomsSchema, WriteNoteSchema } from '@tandem/contracts';
import { checkCellulitis } from '../../src/domain/cellulitis';
import { recordFluidIntake } from '../../src/domain/fluid-intake';
import { writeNote } from '../../src/domain/notes';
import { recordSoftSigns } from '../../src/domain/soft-signs';
import { screenUrinarySymptoms } from '../../src/domain/urinary-symptoms';
import { at, base, context, given, issuesOf, refusedNaming } from './fixtures';

const noSoftSigns = {
  newConfusion: false,
  reducedEatingOrDrinking: false,
  breathlessness: false,
  unsteadiness: false,
  distress: false,
  withdrawal: false,
  tiredness: false,
};
const noEmergency = { chestPain: false, strokeSigns: false, prolongedSeizure: false, unresponsive: false };

const noUrinarySigns = {
  newDysuria: false,
  temperatureRaised: false,
  newFrequencyOrUrgency: false,
  newIncontinence: false,
  newOrWorseDelirium: false,
  newSuprapubicPain: false,
  visibleHaematuria: false,
};
const noSepsisSigns = { kidneyPain: false, newMyalgia: false, nauseaOrVomiting: false, rigors: false };

describe('RESTORE2 soft signs', () => {
  it('records soft signs against the person\'s usual self', () =>
    given()
      .when((state) =>
        recordSoftSigns({ ...base(at('14:00')), softSigns: { ...noSoftSigns, newConfusion: true }, emergencySigns: noEmergency }, state, context()),
      )
      .then(['SoftSignsRecorded']));

  it('needs every sign answered: an unanswered sign is not a "no"', () => {
    const { tiredness: _t, ...unanswered } = noSoftSigns;
    refusedNaming(RecordSoftSignsSchema, { ...base(at('14:00')), softSigns: unanswered, emergencySigns: noEmergency }, 'softSigns.tiredness');
  });
});

describe('suspected UTI at 65 and over (UKHSA)', () => {
  const screen = { ...base(at('14:00')), signs: { ...noUrinarySigns, newDysuria: true }, sepsisSigns: noSepsisSigns, catheter: { inPlace: false } };

  it('records the signs', () => given().when((state) => screenUrinarySymptoms(screen, state, context())).then(['UrinarySymptomsScreened']));

  it('refuses a dipstick result, naming dipstick and saying why', () => {
    expect(refusedNaming(ScreenUrinarySymptomsSchema, { ...screen, dipstick: { nitrites: 'positive' } }, 'dipstick')).toContain('not accepted at 65 and over');
  });

  it('records a catheter with its insertion date, and refuses a date without a catheter', () => {
    expect(issuesOf(ScreenUrinarySymptomsSchema, { ...screen, catheter: { inPlace: true, insertedOn: '2025-02-20' } })).toEqual([]);
    refusedNaming(ScreenUrinarySymptomsSchema, { ...screen, catheter: { inPlace: false, insertedOn: '2025-02-20' } }, 'catheter.insertedOn');
  });
});

describe('cellulitis daily check (NICE NG141)', () => {
  const check = { ...base(at('11:00')), markedLineDrawn: true, rednessBeyondMarkedLine: false, pain: 3, skinToneLimitsAssessment: true };

  it('records the check, with the limit of what skin tone lets one see', () =>
    given()
      .when((state) => checkCellulitis({ ...check, temperatureC: 37.8, limbElevated: true }, state, context()))
      .then(([event]) => expect(event?.data).toMatchObject({ skinToneLimitsAssessment: true, temperatureC: 37.8 })));

  it('refuses a pain score outside 0-10 and spread beyond a line never drawn', () => {
    refusedNaming(CheckCellulitisSchema, { ...check, pain: 11 }, 'pain');
    refusedNaming(CheckCellulitisSchema, { ...check, markedLineDrawn: false, rednessBeyondMarkedLine: true }, 'rednessBeyondMarkedLine');
  });
});

describe('fluids and notes', () => {
  it('records a drink on the fluid chart', () =>
    given().when((state) => recordFluidIntake({ ...base(at('12:00')), volumeMl: 200, drink: 'tea' }, state, context())).then(['FluidIntakeRecorded']));

  it('records a note, and refuses a blank or overlong one', () => {
    given().when((state) => writeNote({ ...base(at('12:00')), text: 'Ate well at lunch.' }, state, context())).then(['NoteWritten']);
    expect(refusedNaming(WriteNoteSchema, { ...base(at('12:00')), text: '   ' }, 'text')).toBe('must not be blank');
    expect(refusedNaming(WriteNoteSchema, { ...base(at('12:00')), text: 'x'.repeat(5001) }, 'text')).toBe('must be at most 5000 characters');
  });
});
