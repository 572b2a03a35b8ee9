import {
  COMPETENCY_SEPARATOR,
  IdSchema,
  FrameworkIdSchema,
  LEGACY_COMPETENCY_FRAMEWORK_IDS,
  instantOf,
  parseStreamName,
  streamName,
  streamOfKind,
  uuidV5,
  type StreamName,
} from '../src';

// Property-style: many ids drawn from a seeded generator (the same every run, so a failure names
// its case and comes again), shaped as the contracts allow and full of hyphens and dots.
const random = (seed: number) => () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};
const next = random(12);
const pick = (chars: string) => chars[Math.floor(next() * chars.length)]!;
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** An id as IdSchema allows (a FHIR id): often hyphenated, sometimes with dots, sometimes ending in a framework's id. */
const anId = (): string => {
  const length = 1 + Math.floor(next() * 30);
  let id = pick(ALNUM);
  for (let i = 1; i < length; i++) id += next() < 0.25 ? pick('-.') : pick(ALNUM);
  if (next() < 0.2) id += `-${LEGACY_COMPETENCY_FRAMEWORK_IDS[Math.floor(next() * LEGACY_COMPETENCY_FRAMEWORK_IDS.length)]}`;
  return id.slice(0, 64);
};
/** A framework id as FrameworkIdSchema allows: lower-case words joined by hyphens. */
const aFrameworkId = (): string => {
  const words = Array.from({ length: 1 + Math.floor(next() * 4) }, () => Array.from({ length: 1 + Math.floor(next() * 8) }, () => pick('abcdefghijklmnopqrstuvwxyz0123456789')).join(''));
  const id = `${pick('abcdefghijklmnopqrstuvwxyz')}${words.join('-')}`;
  return next() < 0.3 ? `${id}-${LEGACY_COMPETENCY_FRAMEWORK_IDS[0]}` : id;
};
const CASES = 400;
const cases = <T>(make: () => T): T[] => Array.from({ length: CASES }, make);

describe('stream names (one home for every name Tandem builds)', () => {
  it('given the ids, names each stream as existing data directories hold it', () => {
    expect(streamName.patient('p1')).toBe('patient-p1');
    expect(streamName.care('3f0e6a1c-2b5d-4e8f-9a7b-6c5d4e3f2a1b')).toBe('care-3f0e6a1c-2b5d-4e8f-9a7b-6c5d4e3f2a1b');
    expect(streamName.medicines('3f0e6a1c-2b5d-4e8f-9a7b-6c5d4e3f2a1b')).toBe('medicines-3f0e6a1c-2b5d-4e8f-9a7b-6c5d4e3f2a1b');
    expect(streamName.practitioner('cw-amira-hassan')).toBe('practitioner-cw-amira-hassan');
    expect(streamName.organisation('org-kindly-care')).toBe('organisation-org-kindly-care');
    expect(streamName.competency('cw-amira-hassan', 'insulin-administration')).toBe('competency-cw-amira-hassan-insulin-administration');
    expect(streamName.delegation('d-1')).toBe('delegation-d-1');
    expect(streamName.escalation('recheck-e-1')).toBe('escalation-recheck-e-1');
    expect(streamName.prompt('p-1')).toBe('prompt-p-1');
    expect(streamName.onCallRota('org-north-district-nursing')).toBe('oncall-org-north-district-nursing');
    expect(streamName.subscription('s-1')).toBe('subscription-s-1');
    expect(streamName.visit('roster.2026-12-03.0800-jones')).toBe('visit-roster.2026-12-03.0800-jones');
    expect(streamName.auditDay(new Date('2026-12-02T23:59:59+00:00'))).toBe('audit-2026-12-02');
    expect(streamName.auditDay(new Date('2026-12-02T00:30:00+01:00'))).toBe('audit-2026-12-01');
  });

  it('given a framework added after the legacy ones, names its competency with the separator no id holds', () => {
    expect(streamName.competency('cw-amira-hassan', 'pressure-area-care')).toBe(`competency-cw-amira-hassan${COMPETENCY_SEPARATOR}pressure-area-care`);
    expect(IdSchema.safeParse(`a${COMPETENCY_SEPARATOR}b`).success).toBe(false);
    expect(FrameworkIdSchema.safeParse(`a${COMPETENCY_SEPARATOR}b`).success).toBe(false);
  });

  it('when given a name Tandem builds, parses it back to the ids, whatever hyphens and dots they hold', () => {
    for (const id of cases(anId)) {
      const names: StreamName[] = [
        { kind: 'patient', patientId: id },
        { kind: 'care', patientId: id },
        { kind: 'medicines', patientId: id },
        { kind: 'practitioner', practitionerId: id },
        { kind: 'organisation', organisationId: id },
        { kind: 'delegation', delegationId: id },
        { kind: 'escalation', escalationId: id },
        { kind: 'prompt', promptId: id },
        { kind: 'oncall', organisationId: id },
        { kind: 'subscription', subscriptionId: id },
        { kind: 'visit', visitId: id },
      ];
      for (const name of names) expect(parseStreamName(streamName.of(name))).toEqual(name);
    }
  });

  it('when a competency is named, parses back to the same care worker and framework for every pair, new frameworks and legacy ones alike', () => {
    const frameworks = [...LEGACY_COMPETENCY_FRAMEWORK_IDS, ...cases(aFrameworkId).slice(0, 40)];
    const seen = new Map<string, string>();
    for (const careWorkerId of cases(anId).slice(0, 150)) {
      expect(IdSchema.safeParse(careWorkerId).success).toBe(true);
      for (const frameworkId of frameworks) {
        expect(FrameworkIdSchema.safeParse(frameworkId).success).toBe(true);
        const name = streamName.competency(careWorkerId, frameworkId);
        expect(parseStreamName(name)).toEqual({ kind: 'competency', careWorkerId, frameworkId });
        // Unambiguous: no two pairs share a name.
        const pair = `${careWorkerId} / ${frameworkId}`;
        expect(seen.get(name) ?? pair).toBe(pair);
        seen.set(name, pair);
      }
    }
  });

  it('given a care worker whose id ends like a framework, splits the legacy name at the framework the name ends with', () => {
    expect(parseStreamName('competency-cw-amira-hassan-insulin-administration')).toEqual({ kind: 'competency', careWorkerId: 'cw-amira-hassan', frameworkId: 'insulin-administration' });
    expect(parseStreamName('competency-x-suspected-uti-65-plus-insulin-administration')).toEqual({ kind: 'competency', careWorkerId: 'x-suspected-uti-65-plus', frameworkId: 'insulin-administration' });
    expect(parseStreamName('competency-cw.grace-li-cellulitis-eron-1')).toEqual({ kind: 'competency', careWorkerId: 'cw.grace-li', frameworkId: 'cellulitis-eron-1' });
  });

  it('keeps the legacy list splittable: no framework id in it ends with a hyphen and another', () => {
    for (const a of LEGACY_COMPETENCY_FRAMEWORK_IDS) for (const b of LEGACY_COMPETENCY_FRAMEWORK_IDS) if (a !== b) expect(a.endsWith(`-${b}`)).toBe(false);
    expect(Object.isFrozen(LEGACY_COMPETENCY_FRAMEWORK_IDS)).toBe(true);
    // Closed: the frameworks shipped before the separator form. A new framework is not added here.
    expect(LEGACY_COMPETENCY_FRAMEWORK_IDS).toEqual(['insulin-administration', 'suspected-uti-65-plus', 'cellulitis-eron-1']);
  });

  it.each([
    ['no kind', 'care'],
    ['an empty id', 'care-'],
    ['a kind Tandem does not have', 'rota-123'],
    ['a character no stream name holds', 'care-a b'],
    ['an audit stream that is not a day', 'audit-2026-12'],
    ['a legacy competency of a framework outside the legacy list', 'competency-cw-amira-hassan-pressure-area-care'],
    ['a legacy framework in the separator form', `competency-cw-amira-hassan${COMPETENCY_SEPARATOR}insulin-administration`],
    ['a competency with no care worker', `competency-${COMPETENCY_SEPARATOR}pressure-area-care`],
    ['a competency that is only a framework', 'competency-insulin-administration'],
    ['two separators', `competency-a${COMPETENCY_SEPARATOR}b${COMPETENCY_SEPARATOR}c`],
  ])('when given %s (%s), answers that it is no name of Tandem’s', (_what, name) => {
    expect(parseStreamName(name)).toBeUndefined();
  });

  it('refuses to build a competency name that would split wrong', () => {
    expect(() => streamName.competency(`cw${COMPETENCY_SEPARATOR}1`, 'pressure-area-care')).toThrow(/care worker id/);
    expect(() => streamName.competency('', 'pressure-area-care')).toThrow(/care worker id/);
    expect(() => streamName.competency('cw-1', 'Insulin')).toThrow(/framework id/);
  });

  it('parses an audit day and answers one kind only when asked for it', () => {
    expect(parseStreamName('audit-2026-12-02')).toEqual({ kind: 'audit', day: '2026-12-02' });
    expect(streamOfKind('care-p-1', 'care')?.patientId).toBe('p-1');
    expect(streamOfKind('patient-p-1', 'care')).toBeUndefined();
    expect(streamOfKind('escalation-e-1', 'escalation')?.escalationId).toBe('e-1');
  });
});

describe('uuidV5 (the one name-based id)', () => {
  it('gives the RFC 9562 example: www.example.com in the DNS namespace', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('gives the ids already stored: the delegation service’s namespace written without hyphens gives the same id as before', () => {
    expect(uuidV5('3f0e6a1c2b5d4e8f9a7b6c5d4e3f2a1b', 'escalation|0b7e2c1a-0000-4000-8000-000000000001|insulin.hypo')).toBe('10e3880f-2890-5296-899f-24f2728dbb37');
    expect(uuidV5('3f0e6a1c-2b5d-4e8f-9a7b-6c5d4e3f2a1b', 'x')).toBe(uuidV5('3f0e6a1c2b5d4e8f9a7b6c5d4e3f2a1b', 'x'));
  });
});

describe('instantOf', () => {
  it('compares instants, not strings: 08:00 at +01:00 is 07:00Z', () => {
    expect(instantOf('2026-12-02T08:00:00+01:00')).toBe(instantOf('2026-12-02T07:00:00Z'));
    expect('2026-12-02T08:00:00+01:00' > '2026-12-02T07:30:00Z').toBe(true);
    expect(instantOf('2026-12-02T08:00:00+01:00') < instantOf('2026-12-02T07:30:00Z')).toBe(true);
  });
});
