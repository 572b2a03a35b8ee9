import { FrameworkIdSchema, IdSchema } from '@tandem/contracts';
import { z } from 'zod';
import {
  FrameworkDefinitionSchema,
  FrameworkSchema,
  SettingIdSchema,
  SettingRefSchema,
  RulesetDefinitionSchema,
  RulesetSchema,
  type Framework,
  type FrameworkDefinition,
  type Ruleset,
  type RulesetDefinition,
  type ResolvedSetting,
  type Setting,
} from './schema';

/**
 * An organisation's local settings for one framework. Only the settings the framework declares
 * (its LOCAL and UNVERIFIED values) can be overridden; national values (hypoglycaemia below
 * 4.0 mmol/L, NEWS2 bands, age 65 for the UTI pathway) cannot.
 */
export const FrameworkOverridesSchema = z.strictObject({
  organisationId: IdSchema,
  frameworkId: FrameworkIdSchema,
  settings: z.record(SettingIdSchema, z.union([z.number(), z.boolean()])),
});
export type FrameworkOverrides = z.infer<typeof FrameworkOverridesSchema>;

const settingValueSchema = (id: string, setting: Setting) => {
  if (setting.type === 'boolean') return z.boolean({ error: `${id} must be true or false` });
  const range = `${id} must be between ${setting.min} and ${setting.max} ${setting.unit} (default ${setting.default})`;
  const number = z.number({ error: `${id} must be a number` }).min(setting.min, { error: range }).max(setting.max, { error: range });
  return setting.integer ? number.int({ error: `${id} must be a whole number` }) : number;
};

/** The overrides one framework accepts: its own settings, each in its own range. */
export const overridesSchemaFor = (definition: Pick<FrameworkDefinition, 'id' | 'settings'>) => {
  const settings = Object.entries(definition.settings) as [string, Setting][];
  const local = settings.map(([id]) => id).join(', ');
  return z.strictObject({
    organisationId: IdSchema,
    frameworkId: z.literal(definition.id, { error: `must be ${definition.id}` }),
    settings: z.strictObject(Object.fromEntries(settings.map(([id, setting]) => [id, settingValueSchema(id, setting).optional()])), {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `only LOCAL and UNVERIFIED settings can be overridden; ${issue.keys.join(', ')} ${issue.keys.length > 1 ? 'are' : 'is'} not one (local settings: ${local})`
          : undefined,
    }),
  });
};

const isSettingRef = (node: unknown): node is z.infer<typeof SettingRefSchema> => SettingRefSchema.safeParse(node).success;

const substitute = (node: unknown, values: Record<string, ResolvedSetting>, path: string): unknown => {
  if (Array.isArray(node)) return node.map((item, i) => substitute(item, values, `${path}.${i}`));
  if (isSettingRef(node)) {
    const setting = values[node.setting];
    if (!setting) throw new Error(`${path} refers to ${node.setting}, which is not a setting of this framework`);
    return setting.value;
  }
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, substitute(value, values, path ? `${path}.${key}` : key)]));
  }
  return node;
};

/**
 * The framework as one organisation uses it: every `{ setting }` reference replaced by the
 * organisation's value (or the default), each setting kept with its default, status and source so
 * a screen can show "local: 4 (national default 3)". Invalid overrides throw a ZodError naming
 * `settings.<id>`; the resolved framework is validated again as a whole.
 */
const resolveWith = <Definition extends FrameworkDefinition | RulesetDefinition>(parsed: Definition, overrides: FrameworkOverrides | undefined): Record<string, unknown> => {
  const local = overrides ? overridesSchemaFor(parsed).parse(overrides) : undefined;
  const values: Record<string, ResolvedSetting> = {};
  for (const [id, setting] of Object.entries(parsed.settings) as [string, Setting][]) {
    const override = local?.settings[id];
    values[id] = { ...setting, value: override ?? setting.default, overridden: override !== undefined } as ResolvedSetting;
  }
  const { settings: _settings, ...rest } = parsed;
  const resolved = substitute(rest, values, '') as Record<string, unknown>;
  return { ...resolved, settings: values, ...(local ? { organisationId: local.organisationId } : {}) };
};

export const resolveFramework = (definition: FrameworkDefinition, overrides?: FrameworkOverrides): Framework =>
  FrameworkSchema.parse(resolveWith(FrameworkDefinitionSchema.parse(definition) as FrameworkDefinition, overrides));

/** A ruleset (the whole-record rules) as one organisation uses it: the same resolution as a framework's. */
export const resolveRuleset = (definition: RulesetDefinition, overrides?: FrameworkOverrides): Ruleset =>
  RulesetSchema.parse(resolveWith(RulesetDefinitionSchema.parse(definition) as RulesetDefinition, overrides));

/** Every setting reference in a definition, with where it is used (for documentation and tests). */
export const settingReferences = (definition: FrameworkDefinition | RulesetDefinition): { setting: string; path: string }[] => {
  const found: { setting: string; path: string }[] = [];
  const walk = (node: unknown, path: string) => {
    if (Array.isArray(node)) node.forEach((item, i) => walk(item, `${path}.${i}`));
    else if (isSettingRef(node)) found.push({ setting: node.setting, path });
    else if (node !== null && typeof node === 'object') Object.entries(node).forEach(([k, v]) => walk(v, path ? `${path}.${k}` : k));
  };
  const { settings: _settings, ...rest } = definition;
  walk(rest, '');
  return found;
};
