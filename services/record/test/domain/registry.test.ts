import { careEventDefinitions, careRecordCommandSchemas, careRecordEventDefinitions, medicinesStreamEventDefinitions, EventRegistry, patientEventDefinitions } from '@tandem/contracts';
import { careRecordDecisions } from '../../src/domain';

describe('the care contracts', () => {
  it('feed one registry without a type defined twice', () => {
    const registry = new EventRegistry([...careEventDefinitions]);
    expect(registry.types).toEqual(expect.arrayContaining(['PatientRegistered', 'VitalSignsRecorded', 'InsulinAdministered', 'EntryAmended']));
    expect(registry.types).toHaveLength(careEventDefinitions.length);
  });

  it('split into stream families that add up to the whole', () => {
    expect(careRecordEventDefinitions.length + patientEventDefinitions.length + 2 + medicinesStreamEventDefinitions.length).toBe(careEventDefinitions.length);
  });

  it('have a decision for every care-stream command', () => {
    expect(Object.keys(careRecordDecisions).sort()).toEqual(Object.keys(careRecordCommandSchemas).sort());
  });
});
