import { careEventDefinitions, careRecordCommandSchemas, careRecordEventDefinitions, EventRegistry, goalEventDefinitions, medicinesStreamEventDefinitions, organisationEventDefinitions, patientEventDefinitions, practitionerEventDefinitions, staffingEventDefinitions } from '@tandem/contracts';
import { careRecordDecisions } from '../../src/domain';

describe('the care contracts', () => {
  it('feed one registry without a type defined twice', () => {
    const registry = new EventRegistry([...careEventDefinitions]);
    expect(registry.types).toEqual(expect.arrayContaining(['PatientRegistered', 'VitalSignsRecorded', 'InsulinAdministered', 'EntryAmended']));
    expect(registry.types).toHaveLength(careEventDefinitions.length);
  });

  it('split into stream families that add up to the whole', () => {
    // The person's stream holds their goals too; the practitioner's, contracted hours and absences (issue 15).
    const patientStream = patientEventDefinitions.length + goalEventDefinitions.length;
    const practitionerStream = practitionerEventDefinitions.length + staffingEventDefinitions.length;
    expect(careRecordEventDefinitions.length + patientStream + practitionerStream + organisationEventDefinitions.length + medicinesStreamEventDefinitions.length).toBe(careEventDefinitions.length);
  });

  it('have a decision for every care-stream command', () => {
    expect(Object.keys(careRecordDecisions).sort()).toEqual(Object.keys(careRecordCommandSchemas).sort());
  });
});
