import {
  ENTRY_MEMBER_SUFFIXES,
  entryResourceId,
  MEAL_RELATION_VOCABULARY,
  OBSERVATION_VOCABULARY,
  observationKindsOf,
  parseEntryResourceId,
  UNIT_VOCABULARY,
  VITAL_SIGN_MEMBER_FIELDS,
} from '../src';

// The one two-way table both FHIR mappers read: what the projection writes must be read back
// as the same thing by the write path.

describe('the FHIR vocabulary, both ways', () => {
  it('reads every coding the projection writes back as the kind it was written for', () => {
    for (const [kind, concept] of Object.entries(OBSERVATION_VOCABULARY)) {
      for (const coding of concept.codings) expect([...observationKindsOf([coding])]).toEqual([kind]);
    }
  });

  it('accepts SpO2 sent as pulse oximetry (LOINC 59408-5) as well as 2708-6, but writes only 2708-6', () => {
    expect([...observationKindsOf([{ system: 'http://loinc.org', code: '59408-5' }])]).toEqual(['spo2']);
    expect([...observationKindsOf([{ system: 'http://loinc.org', code: '2708-6' }])]).toEqual(['spo2']);
    expect(OBSERVATION_VOCABULARY.spo2.codings.filter((c) => !c.inboundOnly).map((c) => c.code)).toEqual(['2708-6', '431314004']);
  });

  it('accepts back every unit text it writes, and every meal relation text it writes', () => {
    for (const unit of Object.values(UNIT_VOCABULARY)) expect(unit.accepted).toContain(unit.unit);
    for (const meal of Object.values(MEAL_RELATION_VOCABULARY)) expect(meal.accepted).toContain(meal.text.toLowerCase());
  });

  it('reads back the id of every Observation of an entry (`<entryId>-<suffix>`), and nothing else as one', () => {
    const entryId = '6f1c1f4e-2b1a-4c7e-9a53-0d6a1f2b3c4d';
    expect(parseEntryResourceId(entryResourceId(entryId))).toEqual({ entryId });
    for (const suffix of ENTRY_MEMBER_SUFFIXES) expect(parseEntryResourceId(entryResourceId(entryId, suffix))).toEqual({ entryId, suffix });
    expect(parseEntryResourceId(`${entryId}-weight`)).toBeUndefined();
    expect(parseEntryResourceId('not-an-entry')).toBeUndefined();
  });

  it('names the command fields each vital signs member holds, every measurement in exactly one member', () => {
    const fields = Object.values(VITAL_SIGN_MEMBER_FIELDS).flat();
    expect(new Set(fields).size).toBe(fields.length);
    expect([...fields].sort()).toEqual(['airOrOxygen', 'consciousness', 'diastolic', 'oxygenFlowLPerMin', 'pulse', 'respirationRate', 'spo2', 'systolic', 'temperatureC']);
  });
});
