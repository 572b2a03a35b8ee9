import { ZodError } from 'zod';
import {
  FrameworkDefinitionSchema,
  insulinAdministration,
  resolveFramework,
  settingReferences,
  shippedFrameworks,
  type FrameworkDefinition,
} from '../../src/frameworks';

const issuesOf = (fn: () => unknown): { path: string; message: string }[] => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ZodError) return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
    throw error;
  }
  throw new Error('expected a ZodError');
};

describe('the shipped frameworks are valid, versioned data', () => {
  it('ships insulin administration, suspected UTI at 65 and over, and cellulitis (Eron class I)', () => {
    expect(Object.keys(shippedFrameworks)).toEqual(['insulin-administration', 'suspected-uti-65-plus', 'cellulitis-eron-1']);
  });

  it.each(Object.entries(shippedFrameworks))('%s parses, resolves, and every setting is used and defined', (_id, definition) => {
    expect(FrameworkDefinitionSchema.safeParse(definition).success).toBe(true);
    const resolved = resolveFramework(definition);
    expect(resolved.version).toBeGreaterThanOrEqual(1);
    const used = new Set(settingReferences(definition).map((r) => r.setting));
    expect([...used].sort()).toEqual(Object.keys(definition.settings).sort());
  });

  it.each(Object.entries(shippedFrameworks))('%s marks each LOCAL or UNVERIFIED value with its status, its source and the default', (_id, definition) => {
    for (const [id, setting] of Object.entries(resolveFramework(definition).settings)) {
      expect({ id, status: ['LOCAL', 'UNVERIFIED'].includes(setting.status), source: setting.source.length > 10, shown: setting.value === setting.default }).toEqual({
        id,
        status: true,
        source: true,
        shown: true,
      });
    }
  });

  it('carries the defaults docs/clinical/reference.md gives', () => {
    const insulin = resolveFramework(shippedFrameworks['insulin-administration']!);
    expect(insulin.settings['competence.supervised-practices']).toMatchObject({ default: 3, status: 'UNVERIFIED' });
    expect(insulin.competence).toMatchObject({ supervisedPractices: 3, reassessmentMonths: 12, assessors: ['district-nurse'] });
    expect(insulin.settings['insulin.withhold-below-4']).toMatchObject({ default: true, status: 'LOCAL' });
    expect(insulin.settings['insulin.hyperglycaemia-mmol-l']).toMatchObject({ default: 15 });
    expect(insulin.settings['insulin.hyperglycaemia-consecutive-readings']).toMatchObject({ default: 2 });
    expect(insulin.settings['insulin.ketones-mmol-l']).toMatchObject({ default: 1.5 });
    expect(insulin.escalation.deadlineMinutes).toEqual({ urgent: 30, routine: 480 });
    const uti = resolveFramework(shippedFrameworks['suspected-uti-65-plus']!);
    expect(uti.eligibility).toMatchObject([{ fact: 'ageYears', atLeast: 65 }]);
    expect(uti.settings['uti.temperature-raised-window-hours']).toMatchObject({ default: 12, status: 'UNVERIFIED', min: 12, max: 24 });
    const cellulitis = resolveFramework(shippedFrameworks['cellulitis-eron-1']!);
    expect(cellulitis.eligibility).toMatchObject([{ fact: 'eronClass', equals: 1 }, { fact: 'borderMarked', equals: true }]);
  });

  it('the national hypoglycaemia floor is not a setting: it is 4.0 in the rule itself', () => {
    const hypo = resolveFramework(insulinAdministration).rules.find((r) => r.id === 'insulin.hypo')!;
    expect(hypo.when).toEqual({ observation: 'glucose', below: 4.0 });
    expect(hypo.source.status).toBe('national');
  });
});

describe('organisation overrides: LOCAL and UNVERIFIED settings only, each in its range', () => {
  const override = (settings: Record<string, number | boolean>, frameworkId = 'insulin-administration') =>
    resolveFramework(insulinAdministration, { organisationId: 'leeds-community', frameworkId, settings });

  it('shows the local value next to the national default', () => {
    const local = override({ 'competence.supervised-practices': 4, 'insulin.hyperglycaemia-mmol-l': 14 });
    expect(local.organisationId).toBe('leeds-community');
    expect(local.settings['competence.supervised-practices']).toMatchObject({ value: 4, default: 3, overridden: true });
    expect(local.settings['competence.reassessment-months']).toMatchObject({ value: 12, default: 12, overridden: false });
    expect(local.competence.supervisedPractices).toBe(4);
    expect(local.rules.find((r) => r.id === 'insulin.hyper')!.when).toEqual({ observation: 'glucose', atLeast: 14, consecutive: 2 });
  });

  it('refuses to override a national value, naming what can be overridden', () => {
    const [issue] = issuesOf(() => override({ 'insulin.hypo-threshold': 3.5 }));
    expect(issue!.path).toBe('settings');
    expect(issue!.message).toContain('only LOCAL and UNVERIFIED settings can be overridden; insulin.hypo-threshold is not one');
  });

  it.each([
    [{ 'competence.supervised-practices': 0 }, 'competence.supervised-practices must be between 1 and 20 observed practices (default 3)'],
    [{ 'competence.supervised-practices': 2.5 }, 'competence.supervised-practices must be a whole number'],
    [{ 'insulin.withhold-below-4': 1 }, 'insulin.withhold-below-4 must be true or false'],
    [{ 'escalation.urgent-deadline-minutes': 240 }, 'escalation.urgent-deadline-minutes must be between 5 and 120 minutes (default 30)'],
  ])('refuses %p', (settings, message) => {
    expect(issuesOf(() => override(settings)).map((i) => i.message)).toContain(message);
  });

  it('refuses overrides meant for another framework', () => {
    expect(issuesOf(() => override({}, 'cellulitis-eron-1'))).toEqual([{ path: 'frameworkId', message: 'must be insulin-administration' }]);
  });
});

describe('a framework that names what the record does not have is refused when it is loaded', () => {
  const withRule = (when: unknown): FrameworkDefinition =>
    ({
      ...insulinAdministration,
      rules: [{ id: 'x', title: 'X', when, urgency: 'urgent', recommendation: 'Review', source: { reference: 'test', status: 'LOCAL' } }],
    }) as FrameworkDefinition;

  it.each([
    [{ entry: 'UrinarySymptomsScreened', signs: ['signs.dipstickPositive'], atLeast: 1 }, 'rules.0.when.signs.0', 'UrinarySymptomsScreened has no yes/no sign signs.dipstickPositive'],
    [{ withoutDelegation: 'wound-care' }, 'rules.0.when.withoutDelegation', 'wound-care is not an activity of this framework'],
    [{ observation: 'consciousness', oneOf: ['X'] }, 'rules.0.when.oneOf.0', 'consciousness has no value X'],
  ])('%p', (when, path, message) => {
    const issue = issuesOf(() => FrameworkDefinitionSchema.parse(withRule(when))).find((i) => i.path === path);
    expect(issue?.message).toContain(message);
  });

  it('refuses an observation the record does not measure, and a threshold with no comparator', () => {
    expect(FrameworkDefinitionSchema.safeParse(withRule({ observation: 'weight', atLeast: 100 })).success).toBe(false);
    expect(FrameworkDefinitionSchema.safeParse(withRule({ observation: 'glucose' })).success).toBe(false);
  });

  it('refuses a reference to a setting it does not declare', () => {
    expect(() => resolveFramework(withRule({ observation: 'glucose', atLeast: { setting: 'insulin.unknown' } }))).toThrow(
      'rules.0.when.atLeast refers to insulin.unknown, which is not a setting of this framework',
    );
  });

  it('refuses a prompt step that cites an unknown parameter', () => {
    const definition = { ...insulinAdministration, prompts: { 'hypo-protocol': { title: 'Hypo', steps: ['Aim for {cups} cups'] } } } as FrameworkDefinition;
    expect(issuesOf(() => FrameworkDefinitionSchema.parse(definition)).map((i) => i.message)).toContain('cites {cups}, which is neither a parameter nor {recheckMinutes}');
  });
});
