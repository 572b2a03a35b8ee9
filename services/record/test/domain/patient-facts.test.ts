import { patientFactsFrom, type PatientEvent } from '@tandem/contracts';
import { patientStateFrom } from '../../src/domain/patient';

/**
 * The delegation service decides who an escalation reaches from the shared facts fold
 * (contracts' patientFactsFrom); the record decides access from its own patient state. Given the
 * same stream, both must name the same team, GP, registrar and baseline, or an escalation could
 * reach someone the record would not let read the person's record.
 */
const ID = '6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5';
const registered = {
  type: 'PatientRegistered',
  data: { patientId: ID, nhsNumber: '9912003888', name: { given: ['Edith'], family: 'Crawley' }, gpPractice: { odsCode: 'B86001', name: 'Mill Lane Surgery' }, registeredGp: 'gp-patel', baseline: { spo2Scale: 1 } },
  metadata: { actor: { id: 'nurse-sarah' } },
} as const;
const added = (practitionerId: string, teamRole: 'accountable-clinician' | 'care-worker'): PatientEvent => ({ type: 'CareTeamMemberAdded', data: { patientId: ID, practitionerId, teamRole } });
const removed = (practitionerId: string, teamRole: 'accountable-clinician' | 'care-worker'): PatientEvent => ({ type: 'CareTeamMemberRemoved', data: { patientId: ID, practitionerId, teamRole } });

const stories: [string, PatientEvent[]][] = [
  ['nothing registered', []],
  ['registered by Sarah, with a GP', [registered as unknown as PatientEvent]],
  ['a team joined and left (one role of two removed)', [registered as unknown as PatientEvent, added('nurse-sarah', 'accountable-clinician'), added('cw-amira', 'care-worker'), added('cw-amira', 'accountable-clinician'), removed('cw-amira', 'care-worker')]],
  [
    'a new GP and a new baseline',
    [
      registered as unknown as PatientEvent,
      { type: 'PatientDetailsUpdated', data: { patientId: ID, registeredGp: 'gp-okafor' } },
      { type: 'PatientBaselineSet', data: { patientId: ID, baseline: { spo2Scale: 2, spo2Scale2PrescribedBy: 'gp-okafor' } } },
    ] as PatientEvent[],
  ],
  ['a second registration of the same person changes nothing', [registered as unknown as PatientEvent, added('nurse-sarah', 'accountable-clinician'), registered as unknown as PatientEvent]],
];

describe.each(stories)('given %s', (_story, events) => {
  it('the shared facts fold and the record agree on registration, team, GP, registrar and baseline', () => {
    const record = patientStateFrom(events);
    const facts = patientFactsFrom(events);
    expect(facts.registered).toBe(record.registered);
    if (!record.registered || !facts.registered) return;
    expect({ careTeam: facts.careTeam, registeredGp: facts.registeredGp, registeredBy: facts.registeredBy, baseline: facts.baseline, patientId: facts.patientId }).toEqual({
      careTeam: record.careTeam,
      registeredGp: record.registeredGp,
      registeredBy: record.registeredBy,
      baseline: record.baseline,
      patientId: record.patientId,
    });
  });
});
