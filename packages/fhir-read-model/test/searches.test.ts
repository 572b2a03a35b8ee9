import { PGlite } from '@electric-sql/pglite';
import { pgliteDriver } from '@tandem/event-store';
import type { FhirResource as Resource } from 'fhir/r4';
import { fhirSchemaSql, FhirReader, normalisedString, refKey, SearchError, stringKeys, tokenKeys, type SearchQuery } from '../src';

/**
 * The search engine on its own (PGlite): given resources in the read model with their search
 * columns, when a search is made, then the matches. The journeys through the running server are
 * apps/tandem/test/fhir-searches.test.ts.
 */
interface Row {
  readonly resource: Resource & { id: string };
  readonly patientId?: string;
  readonly tokens?: string[];
  readonly refs?: string[];
  readonly strings?: string[];
  readonly effective?: string;
  readonly lastUpdated?: string;
}

const NOW = new Date('2026-06-01T00:00:00Z');

describe('FhirReader search', () => {
  let db: PGlite;
  let reader: FhirReader;

  const store = async (...rows: Row[]) => {
    for (const row of rows) {
      await db.query(
        `insert into fhir_resource (resource_type, id, version_id, last_updated, patient_id, tokens, refs, strings, effective, resource, last_position)
         values ($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, 1)
         on conflict (resource_type, id) do update set effective = excluded.effective, resource = excluded.resource, last_updated = excluded.last_updated`,
        [row.resource.resourceType, row.resource.id, row.lastUpdated ?? NOW.toISOString(), row.patientId ?? null, row.tokens ?? [], row.refs ?? [], row.strings ?? [], row.effective ?? null, row.resource],
      );
    }
  };
  const patient = (id: string, family: string, given: string, postcode: string): Row => ({
    resource: { resourceType: 'Patient', id, name: [{ family, given: [given] }], address: [{ postalCode: postcode }] },
    patientId: id,
    tokens: [...tokenKeys('identifier', 'https://fhir.nhs.uk/Id/nhs-number', `999000000${id.slice(-1)}`)],
    strings: [...stringKeys('family', family), ...stringKeys('given', given), ...stringKeys('address-postalcode', postcode)],
  });
  const observation = (id: string, patientId: string, effective: string | undefined, code = '8867-4', display = 'Heart rate'): Row => ({
    resource: { resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code, display }] }, subject: { reference: `Patient/${patientId}` }, ...(effective ? { effectiveDateTime: effective } : {}) },
    patientId,
    tokens: tokenKeys('code', 'http://loinc.org', code),
    ...(effective ? { effective } : {}),
  });
  const ids = async (type: string, query: SearchQuery) => (await reader.search(type, query)).matches.map((r) => r.id);
  const refusal = async (type: string, query: SearchQuery): Promise<string> => {
    try {
      await reader.search(type, query);
    } catch (error) {
      if (error instanceof SearchError) return error.param;
      throw error;
    }
    throw new Error('the search was not refused');
  };

  beforeAll(async () => {
    db = new PGlite();
    const driver = pgliteDriver(db, true);
    await driver.migrate(fhirSchemaSql);
    reader = new FhirReader(driver, () => NOW);
    await store(patient('p-1', 'Brontë', 'Éloïse', 'LS99 1ZZ'), patient('p-2', 'Smith', 'Mary', 'LS1 4AB'), patient('p-3', 'Bronson', 'Tom', 'BD1 1AA'));
  });
  afterAll(async () => {
    await db.close();
  });

  describe('strings (R4 3.1.1.4.6)', () => {
    it('folds case and accents, and a postcode is compared without its spaces', () => {
      expect(normalisedString('family', ' Brontë  Ünal ')).toBe('bronte unal');
      expect(normalisedString('address-postalcode', 'LS99 1ZZ')).toBe('ls991zz');
      expect(stringKeys('family', 'Li')).toEqual(expect.arrayContaining(['family?', 'family=Li', 'family^l', 'family^li', 'family~i', 'family~li']));
      expect(stringKeys('family', '  ')).toEqual([]);
    });

    it('matches the start by default, the whole value with :exact and any part with :contains; OR within a value', async () => {
      expect(await ids('Patient', { family: 'BRONT' })).toEqual(['p-1']);
      expect((await ids('Patient', { family: 'bron' })).sort()).toEqual(['p-1', 'p-3']);
      expect(await ids('Patient', { family: 'ronte' })).toEqual([]);
      expect(await ids('Patient', { 'family:contains': 'ONT' })).toEqual(['p-1']);
      expect(await ids('Patient', { 'family:exact': 'Brontë' })).toEqual(['p-1']);
      expect(await ids('Patient', { 'family:exact': 'bronte' })).toEqual([]);
      expect(await ids('Patient', { given: 'eloise' })).toEqual(['p-1']);
      expect((await ids('Patient', { family: 'smi,brontë' })).sort()).toEqual(['p-1', 'p-2']);
      expect(await ids('Patient', { 'address-postalcode': 'ls1 4' })).toEqual(['p-2']);
      expect(await ids('Patient', { 'family:missing': 'true' })).toEqual([]);
      expect((await ids('Patient', { 'family:missing': 'false' })).length).toBe(3);
    });

    it('refuses what it cannot compare, naming the parameter', async () => {
      expect(await refusal('Patient', { family: '   ' })).toBe('family');
      expect(await refusal('Patient', { 'family:contains': 'x'.repeat(65) })).toBe('family:contains');
      expect(await refusal('Patient', { 'family:text': 'x' })).toBe('family:text');
      expect(await refusal('Patient', { 'family:missing': 'yes' })).toBe('family:missing');
    });
  });

  describe('chains and references', () => {
    beforeAll(async () => {
      await store(observation('o-1', 'p-1', '2026-05-01T09:00:00Z'), observation('o-2', 'p-2', '2026-05-01T09:00:00Z'));
    });

    it('chains the person reference to any Patient parameter, with its modifiers; :identifier finds the person by identifier; a bare id is a reference', async () => {
      expect(await ids('Observation', { 'patient.family': 'bronte' })).toEqual(['o-1']);
      expect(await ids('Observation', { 'subject:Patient.family:exact': 'Smith' })).toEqual(['o-2']);
      expect(await ids('Observation', { 'subject:identifier': 'https://fhir.nhs.uk/Id/nhs-number|9990000002' })).toEqual(['o-2']);
      expect(await ids('Observation', { subject: 'p-1' })).toEqual(['o-1']);
      expect(await refusal('Observation', { 'code.family': 'x' })).toBe('code.family');
      expect(await refusal('Observation', { 'subject:Practitioner.name': 'x' })).toBe('subject:Practitioner.name');
      expect(await refusal('Observation', { 'patient.general-practitioner.name': 'x' })).toBe('patient.general-practitioner.name');
    });
  });

  describe('tokens', () => {
    beforeAll(async () => {
      await store(observation('t-1', 'p-3', '2026-05-02T09:00:00Z', '9279-1', 'Respiratory rate'), {
        resource: { resourceType: 'Observation', id: 't-2', status: 'final', code: { text: 'Pain score' }, subject: { reference: 'Patient/p-3' } },
        patientId: 'p-3',
      });
    });

    it(':not answers the resources without the code, those with no code at all among them; :text matches the display or the text', async () => {
      expect((await ids('Observation', { patient: 'p-3', 'code:not': 'http://loinc.org|9279-1' })).sort()).toEqual(['t-2']);
      expect(await ids('Observation', { patient: 'p-3', 'code:text': 'RESPIRATORY' })).toEqual(['t-1']);
      expect(await ids('Observation', { patient: 'p-3', 'code:text': 'pain' })).toEqual(['t-2']);
      expect(await ids('Observation', { patient: 'p-3', 'code:text': '.*' })).toEqual([]);
      expect(await refusal('Observation', { 'status:text': 'final' })).toBe('status:text');
    });
  });

  describe('dates', () => {
    beforeAll(async () => {
      await store(
        observation('d-1', 'p-2', '2026-05-20T12:00:00Z'),
        observation('d-2', 'p-2', '2026-05-21T01:00:00Z'),
        observation('d-3', 'p-2', '2026-05-23T23:00:00Z'),
        observation('d-4', 'p-2', '2026-05-24T01:00:00Z'),
      );
    });

    it('ap widens the value by a tenth of its distance from now (ten days: a day either side), sa and eb are gt and lt, OR values are alternatives', async () => {
      const dated = { patient: 'p-2', _sort: 'date' };
      expect(await ids('Observation', { ...dated, date: 'ap2026-05-22' })).toEqual(['d-2', 'd-3']);
      expect(await ids('Observation', { ...dated, date: 'sa2026-05-21' })).toEqual(['d-3', 'd-4']);
      expect(await ids('Observation', { ...dated, date: 'eb2026-05-21' })).toEqual(['o-2', 'd-1']);
      expect(await ids('Observation', { ...dated, date: 'lt2026-05-21,gt2026-05-23' })).toEqual(['o-2', 'd-1', 'd-4']);
      expect(await ids('Observation', { ...dated, date: ['ge2026-05-21', 'lt2026-05-24'] })).toEqual(['d-2', 'd-3']);
      expect(await refusal('Observation', { date: 'ap2026-02-30' })).toBe('date');
    });
  });

  describe('sorting and paging', () => {
    const pages = async (query: SearchQuery, between?: () => Promise<void>): Promise<string[]> => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let first = true;
      do {
        const page = await reader.search('Observation', { ...query, ...(cursor ? { _cursor: cursor } : {}) });
        seen.push(...page.matches.map((r) => r.id!));
        cursor = page.nextCursor;
        if (first && between) await between();
        first = false;
      } while (cursor);
      return seen;
    };

    beforeAll(async () => {
      // Ties on the date and a resource without one: the keyset must go through both.
      await store(
        observation('s-1', 'p-9', '2026-04-01T09:00:00Z'),
        observation('s-2', 'p-9', '2026-04-01T09:00:00Z'),
        observation('s-3', 'p-9', undefined),
        observation('s-4', 'p-9', '2026-04-03T09:00:00Z'),
        observation('s-5', 'p-9', '2026-04-02T09:00:00Z'),
        observation('s-6', 'p-9', undefined),
      );
    });

    it('orders by several keys, nulls last either way, the id breaking ties; each page follows on with nothing repeated while the record grows', async () => {
      expect(await pages({ patient: 'p-9', _sort: '-date,-_id', _count: '2' })).toEqual(['s-4', 's-5', 's-2', 's-1', 's-6', 's-3']);
      expect(await pages({ patient: 'p-9', _sort: 'date', _count: '4' })).toEqual(['s-1', 's-2', 's-5', 's-4', 's-3', 's-6']);
      // The default for Observations: the most recent clinical time first.
      const grown = await pages({ patient: 'p-9', _count: '2' }, () => store(observation('s-7', 'p-9', '2026-04-05T09:00:00Z')));
      expect(grown).toEqual(['s-4', 's-5', 's-1', 's-2', 's-3', 's-6']);
    });

    it('refuses a sort it does not have, a key twice, and a cursor made for another sort', async () => {
      expect(await refusal('Observation', { _sort: 'code' })).toBe('_sort');
      expect(await refusal('Observation', { _sort: 'date,-date' })).toBe('_sort');
      expect(await refusal('Observation', { _sort: 'constructor' })).toBe('_sort');
      const { nextCursor } = await reader.search('Observation', { patient: 'p-9', _sort: 'date', _count: '1' });
      expect(await refusal('Observation', { patient: 'p-9', _sort: '-date', _cursor: nextCursor! })).toBe('_cursor');
    });
  });

  describe('_include and _revinclude', () => {
    beforeAll(async () => {
      await store(
        { resource: { resourceType: 'Practitioner', id: 'cw-1' } },
        {
          resource: { resourceType: 'Encounter', id: 'e-1', status: 'finished', class: { code: 'HH' }, subject: { reference: 'Patient/p-1' }, participant: [{ individual: { reference: 'Practitioner/cw-1' } }] },
          patientId: 'p-1',
        },
        { resource: { resourceType: 'Provenance', id: 'pv-1', target: [{ reference: 'Encounter/e-1/_history/1' }], recorded: NOW.toISOString(), agent: [{ who: { reference: 'Practitioner/cw-1' } }] }, patientId: 'p-1', refs: [refKey('target', 'Encounter/e-1')] },
      );
    });

    it('adds what the matches reference (through arrays) and what names them, each once, with the person each is indexed under', async () => {
      const result = await reader.search('Encounter', { patient: 'p-1', _include: ['Encounter:participant', 'Encounter:patient'], _revinclude: 'Provenance:target' });
      expect(result.matches.map((r) => r.id)).toEqual(['e-1']);
      expect(result.included.map((r) => `${r.resourceType}/${r.id}`).sort()).toEqual(['Patient/p-1', 'Practitioner/cw-1', 'Provenance/pv-1']);
      expect(result.includedPatientIds![result.included.findIndex((r) => r.resourceType === 'Provenance')]).toBe('p-1');
      expect(await refusal('Encounter', { _include: 'Encounter:location' })).toBe('_include');
      expect(await refusal('Provenance', { _revinclude: 'Provenance:target' })).toBe('_revinclude');
    });
  });
});
