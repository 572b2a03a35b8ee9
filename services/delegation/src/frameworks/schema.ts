import { CorrectableEntryTypeSchema, FrameworkIdSchema, FrameworkVersionSchema, IdSchema, RoleSchema, textSchema, UrgencySchema } from '@tandem/contracts';
import { z } from 'zod';
import { CATEGORY_OBSERVATION_NAMES, CATEGORY_OBSERVATIONS, NUMERIC_OBSERVATION_NAMES, SIGN_PATHS } from './vocabulary';

/**
 * A framework is versioned, zod-validated data: what may be delegated, by and to whom, for which
 * people, the competence it needs, the monitoring it asks for, and the rules that escalate. The
 * machines and rules read it; adding a framework needs data and tests, never machine code.
 *
 * Values docs/clinical/reference.md marks LOCAL or UNVERIFIED are never written inline: they are named settings
 * (with the national or reference default, its status and source), referred to as
 * `{ setting: 'id' }`, and an organisation may override them (and only them) with
 * `resolveFramework`. The machines and rules only ever see a resolved framework, where every
 * reference has become its value.
 */

// ---------------------------------------------------------------------------------------------
// Settings: the LOCAL and UNVERIFIED values
// ---------------------------------------------------------------------------------------------

export const SettingIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/, { error: 'a setting id is lower-case words joined by hyphens and dots, e.g. competence.supervised-practices' });

export const SettingStatusSchema = z.enum(['LOCAL', 'UNVERIFIED']);

const settingAnnotation = {
  /** LOCAL: no national rule, common local practice; UNVERIFIED: sources differ or are not confirmed. */
  status: SettingStatusSchema,
  /** Where the default comes from (docs/clinical/reference.md section, guidance). */
  source: textSchema(500),
  note: textSchema(1000).optional(),
};

export const NumberSettingSchema = z.strictObject({
  type: z.literal('number'),
  /** The national or reference default, always shown next to any local value. */
  default: z.number(),
  min: z.number(),
  max: z.number(),
  integer: z.boolean().optional(),
  unit: textSchema(40),
  ...settingAnnotation,
});
export const BooleanSettingSchema = z.strictObject({ type: z.literal('boolean'), default: z.boolean(), ...settingAnnotation });
export const SettingSchema = z.discriminatedUnion('type', [NumberSettingSchema, BooleanSettingSchema]);
export type Setting = z.infer<typeof SettingSchema>;

/** A setting with the value in force for one organisation, next to its default. */
export const ResolvedSettingSchema = z.discriminatedUnion('type', [
  NumberSettingSchema.extend({ value: z.number(), overridden: z.boolean() }),
  BooleanSettingSchema.extend({ value: z.boolean(), overridden: z.boolean() }),
]);
export type ResolvedSetting = z.infer<typeof ResolvedSettingSchema>;

export const SettingRefSchema = z.strictObject({ setting: SettingIdSchema });
export type SettingRef = z.infer<typeof SettingRefSchema>;

/** Where a rule's facts come from: national guidance, or a LOCAL / UNVERIFIED choice. */
export const SourceSchema = z.strictObject({ reference: textSchema(500), status: z.enum(['national', 'LOCAL', 'UNVERIFIED']) });

// ---------------------------------------------------------------------------------------------
// The framework's shape, built twice: as written (numbers may be setting references) and as
// resolved (plain numbers), so both are checked by the same definition.
// ---------------------------------------------------------------------------------------------

const frameworkSchemaWith = <Num extends z.ZodType, Bool extends z.ZodType, Settings extends z.ZodType>(num: Num, bool: Bool, setting: Settings) => {
  const comparators = { below: num.optional(), atMost: num.optional(), atLeast: num.optional(), above: num.optional() };

  const thresholdCondition = z
    .strictObject({
      observation: z.enum(NUMERIC_OBSERVATION_NAMES),
      ...comparators,
      /** How many readings in a row (this one and the ones before it) must meet it; 1 when left out. */
      consecutive: num.optional(),
    })
    .refine((c) => c.below !== undefined || c.atMost !== undefined || c.atLeast !== undefined || c.above !== undefined, {
      error: 'a threshold needs at least one of below, atMost, atLeast, above',
    });

  const categoryCondition = z.strictObject({ observation: z.enum(CATEGORY_OBSERVATION_NAMES), oneOf: z.array(z.string()).min(1) });

  const news2Condition = z.strictObject({
    /** total: the NEWS2 total; anySingleParameter: the highest sub-score; rise: the rise since the last complete score. */
    news2: z.enum(['total', 'anySingleParameter', 'rise']),
    atLeast: num,
    below: num.optional(),
    /** RESTORE2: when the person has an agreed baseline, a total at or below it does not fire this rule. */
    aboveBaseline: z.boolean().optional(),
  });

  const entryCondition = z.strictObject({
    entry: CorrectableEntryTypeSchema,
    /** Yes/no signs of the entry (dotted paths): fires when at least `atLeast` are yes. Without signs: any such entry. */
    signs: z.array(z.string()).min(1).optional(),
    atLeast: num.optional(),
  });

  /** A delegated activity recorded by someone without an active delegation and a current competence. */
  const withoutDelegationCondition = z.strictObject({ withoutDelegation: IdSchema });

  /** A urinary catheter in place for more than this many days (NICE NG113: change it; a nursing task). */
  const catheterCondition = z.strictObject({ catheterInPlaceMoreThanDays: num });

  const baseCondition = z.union([
    thresholdCondition,
    categoryCondition,
    news2Condition,
    entryCondition,
    withoutDelegationCondition,
    catheterCondition,
  ]);
  const condition = z.union([baseCondition, z.strictObject({ anyOf: z.array(baseCondition).min(2) })]);

  const rule = z.strictObject({
    /** The rule's clinical name, e.g. insulin.hypo. */
    id: IdSchema,
    title: textSchema(200),
    when: condition,
    /** Left out for a rule that only prompts the care worker (e.g. encourage fluids). */
    urgency: UrgencySchema.optional(),
    recommendation: textSchema(1000),
    /** A prompt shown to the care worker at once (e.g. the hypo protocol). */
    prompt: IdSchema.optional(),
    /** Recheck the same observation after this many minutes (a timer with a dueAt). */
    recheckMinutes: num.optional(),
    /** Tells the care worker not to perform this activity now, when `enabled`. */
    withhold: z.strictObject({ activityId: IdSchema, enabled: bool, step: textSchema(500) }).optional(),
    /** An incident (authority, safety), not only a deterioration. */
    incident: z.boolean().optional(),
    /**
     * Whole-record rules this rule stands for (insulin.hypo for whole-record hypoglycaemia): when it
     * fires for a person under the framework, they are not raised again for the same entry.
     */
    covers: z.array(IdSchema).optional(),
    source: SourceSchema,
  });

  const monitoring = z.strictObject({
    id: IdSchema,
    title: textSchema(200),
    /** The entry that shows it was done. */
    entry: CorrectableEntryTypeSchema,
    schedule: z.discriminatedUnion('kind', [
      /** Repeats: due `everyMinutes` after the last one (or after activation), missed after the grace. */
      z.strictObject({ kind: z.literal('every'), everyMinutes: num, graceMinutes: num }),
      /** Before each time the activity is done (e.g. blood glucose before each insulin dose). */
      z.strictObject({ kind: z.literal('before'), activityId: IdSchema, withinMinutes: num }),
    ]),
    missedUrgency: UrgencySchema,
    source: SourceSchema,
  });

  const tier = z.strictObject({
    id: IdSchema,
    title: textSchema(200),
    /** Who receives it (e.g. accountable-district-nurse, on-call-nurse-or-gp, care-worker). */
    recipient: IdSchema,
    /** Roles that may acknowledge at this tier. */
    acknowledgedBy: z.array(RoleSchema).min(1),
    /** This tier's own deadlines by urgency, when they differ from the escalation's. */
    deadlineMinutes: z.strictObject({ urgent: num, routine: num }).optional(),
    advice: textSchema(1000).optional(),
  });

  /** What every set of rules has: the rules, their prompts and settings, the monitoring and the escalation path. */
  const rulesetShape = {
    id: FrameworkIdSchema,
    version: FrameworkVersionSchema,
    /** Set on a resolved framework: the organisation whose local settings are in force. */
    organisationId: IdSchema.optional(),
    title: textSchema(200),
    summary: textSchema(2000),
    sources: z.array(textSchema(500)).min(1),
    monitoring: z.array(monitoring),
    escalation: z.strictObject({
      /** In order: who gets it first, and who next when nobody acknowledges by the deadline. */
      tiers: z.array(tier).min(1),
      /** Minutes each tier has to acknowledge, by urgency, unless the tier sets its own (the last tier has no deadline). */
      deadlineMinutes: z.strictObject({ urgent: num, routine: num }),
      /** An emergency goes straight to this tier, with these recipients informed. */
      emergency: z.strictObject({
        tier: IdSchema,
        inform: z.array(IdSchema),
        advice: textSchema(1000),
        /** An emergency recorded away from the bedside starts at the first tier instead, with this advice to its people. */
        awayFromBedsideAdvice: textSchema(1000).optional(),
      }),
      /** The decision asked for in the SBARD message, by urgency. */
      decisionRequested: z.strictObject({ emergency: textSchema(500), urgent: textSchema(500), routine: textSchema(500), emergencyAwayFromBedside: textSchema(500).optional() }),
    }),
    /** Named values that prompt steps cite as {name} (e.g. the fluid target), often settings. */
    parameters: z.record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/), num),
    /** What the care worker is told to do at once; steps may cite {parameters} and the rule's {recheckMinutes}. */
    prompts: z.record(IdSchema, z.strictObject({ title: textSchema(200), steps: z.array(textSchema(500)).min(1) })),
    rules: z.array(rule),
    settings: z.record(SettingIdSchema, setting),
  };

  type Checked = { activities?: { id: string }[]; rules: { id: string; when: unknown; prompt?: string | undefined; withhold?: { activityId: string } | undefined }[]; monitoring: { id: string; schedule: unknown }[]; escalation: { tiers: { id: string }[]; emergency: { tier: string } }; prompts: unknown; parameters: unknown };

  /** The checks across fields that zod's shapes cannot say; a ruleset without activities has none to refer to. */
  const checkRules = (f: Checked, ctx: z.RefinementCtx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const unique = (ids: string[], path: string) => {
      const seen = new Set<string>();
      ids.forEach((id, i) => {
        if (seen.has(id)) issue([path, i, 'id'], `${id} is defined twice`);
        seen.add(id);
      });
    };
    unique(f.rules.map((r) => r.id), 'rules');
    unique(f.monitoring.map((m) => m.id), 'monitoring');
    unique(f.escalation.tiers.map((t) => t.id), 'escalation.tiers');

    const activityIds = new Set((f.activities ?? []).map((a) => a.id));
    const tierIds = new Set(f.escalation.tiers.map((t) => t.id));
    if (!tierIds.has(f.escalation.emergency.tier)) issue(['escalation', 'emergency', 'tier'], `${f.escalation.emergency.tier} is not a tier`);

    const checkCondition = (c: Record<string, unknown>, path: (string | number)[]) => {
      if (Array.isArray(c.anyOf)) {
        c.anyOf.forEach((inner: Record<string, unknown>, i: number) => checkCondition(inner, [...path, 'anyOf', i]));
        return;
      }
      if (typeof c.withoutDelegation === 'string' && !activityIds.has(c.withoutDelegation)) {
        issue([...path, 'withoutDelegation'], `${c.withoutDelegation} is not an activity of this framework`);
      }
      if (typeof c.entry === 'string' && Array.isArray(c.signs)) {
        const known = SIGN_PATHS[c.entry as keyof typeof SIGN_PATHS] ?? [];
        (c.signs as string[]).forEach((sign, i) => {
          if (!known.includes(sign)) issue([...path, 'signs', i], `${c.entry} has no yes/no sign ${sign} (known: ${known.join(', ') || 'none'})`);
        });
      }
      if (typeof c.observation === 'string' && Array.isArray(c.oneOf)) {
        const values: readonly string[] = CATEGORY_OBSERVATIONS[c.observation as keyof typeof CATEGORY_OBSERVATIONS]?.values ?? [];
        (c.oneOf as string[]).forEach((v, i) => {
          if (!values.includes(v)) issue([...path, 'oneOf', i], `${c.observation} has no value ${v} (known: ${values.join(', ')})`);
        });
      }
    };
    f.rules.forEach((r, i) => {
      checkCondition(r.when as Record<string, unknown>, ['rules', i, 'when']);
      if (r.prompt !== undefined && !(r.prompt in (f.prompts as Record<string, unknown>))) issue(['rules', i, 'prompt'], `${r.prompt} is not a prompt of this framework`);
      if (r.withhold && !activityIds.has(r.withhold.activityId)) issue(['rules', i, 'withhold', 'activityId'], `${r.withhold.activityId} is not an activity`);
    });
    Object.entries(f.prompts as Record<string, { steps: string[] }>).forEach(([id, prompt]) =>
      prompt.steps.forEach((step, i) => {
        for (const [, name] of step.matchAll(/\{([a-zA-Z0-9]+)\}/g)) {
          if (name !== 'recheckMinutes' && !(name! in (f.parameters as Record<string, unknown>))) {
            issue(['prompts', id, 'steps', i], `cites {${name}}, which is neither a parameter nor {recheckMinutes}`);
          }
        }
      }),
    );
    f.monitoring.forEach((m, i) => {
      const schedule = m.schedule as { kind: string; activityId?: string };
      if (schedule.activityId !== undefined && !activityIds.has(schedule.activityId)) {
        issue(['monitoring', i, 'schedule', 'activityId'], `${schedule.activityId} is not an activity of this framework`);
      }
    });
  };

  const framework = z
    .strictObject({
      ...rulesetShape,
      activities: z
        .array(
          z.strictObject({
            id: IdSchema,
            title: textSchema(200),
            /** The care entry that records it being done. */
            entry: CorrectableEntryTypeSchema,
            /** The person-specific instruction it needs. */
            instruction: z.enum(['insulin', 'general']),
          }),
        )
        .min(1),
      /** Registered professions that may delegate (a registration is always required). */
      mayDelegate: z.array(RoleSchema).min(1),
      /** Care worker roles that may receive. */
      mayReceive: z.array(RoleSchema).min(1),
      /** What must be true of the person, checked against the facts the delegating professional records. */
      eligibility: z.array(
        z.strictObject({
          fact: z.string().regex(/^[a-zA-Z][a-zA-Z0-9]*$/),
          description: textSchema(500),
          atLeast: num.optional(),
          atMost: num.optional(),
          equals: z.union([z.number(), z.boolean(), z.string()]).optional(),
          source: SourceSchema,
        }),
      ),
      competence: z.strictObject({
        trainingModules: z.array(z.strictObject({ id: IdSchema, title: textSchema(200) })).min(1),
        supervisedPractices: num,
        /** Registered professions that may observe practice, assess, sign off, suspend and reinstate. */
        assessors: z.array(RoleSchema).min(1),
        reassessmentMonths: num,
      }),
      review: z.strictObject({ intervalDays: num }),
    })
    .superRefine((f, ctx) => {
      checkRules(f as unknown as Checked, ctx);
      const seen = new Set<string>();
      const check = (ids: string[], path: string) =>
        ids.forEach((id, i) => {
          if (seen.has(`${path}|${id}`)) ctx.addIssue({ code: 'custom', path: [path, i, 'id'], message: `${id} is defined twice` });
          seen.add(`${path}|${id}`);
        });
      check(f.activities.map((a) => a.id), 'activities');
      check(f.competence.trainingModules.map((m) => m.id), 'competence.trainingModules');
    });

  /**
   * A ruleset that comes with no delegation: the whole-record rules (NEWS2, RESTORE2, the sepsis
   * red flags, hypoglycaemia), evaluated for everyone whose record Tandem holds.
   */
  const ruleset = z.strictObject(rulesetShape).superRefine((f, ctx) => checkRules(f as unknown as Checked, ctx));

  return { framework, ruleset };
};

const numberOrSetting = z.union([z.number(), SettingRefSchema]);
const booleanOrSetting = z.union([z.boolean(), SettingRefSchema]);

/** A framework as written: LOCAL and UNVERIFIED values are `{ setting: id }` references. */
const definitionSchemas = frameworkSchemaWith(numberOrSetting, booleanOrSetting, SettingSchema);
const resolvedSchemas = frameworkSchemaWith(z.number(), z.boolean(), ResolvedSettingSchema);
export const FrameworkDefinitionSchema = definitionSchemas.framework;
export type FrameworkDefinition = z.input<typeof FrameworkDefinitionSchema>;

/** A framework as the machines and rules read it: every setting resolved for one organisation. */
export const FrameworkSchema = resolvedSchemas.framework;
export type Framework = z.infer<typeof FrameworkSchema>;
export type FrameworkRule = Framework['rules'][number];
export type RuleCondition = FrameworkRule['when'];
export type FrameworkMonitoring = Framework['monitoring'][number];
export type FrameworkTier = Framework['escalation']['tiers'][number];

/** A ruleset as written (the whole-record rules): a framework's rules, prompts, settings and escalation path, without delegation. */
export const RulesetDefinitionSchema = definitionSchemas.ruleset;
export type RulesetDefinition = z.input<typeof RulesetDefinitionSchema>;
/** A ruleset as resolved for one organisation. Every Framework is also a Ruleset. */
export const RulesetSchema = resolvedSchemas.ruleset;
export type Ruleset = z.infer<typeof RulesetSchema>;
/** What the rules read: a ruleset, and a framework's activities and who may delegate them when it is one. */
export type RuleSource = Ruleset & Partial<Pick<Framework, 'activities' | 'mayDelegate'>>;

// ---------------------------------------------------------------------------------------------
// Eligibility facts the record holds: never typed by the delegating professional
// ---------------------------------------------------------------------------------------------

/**
 * Facts an eligibility criterion may name that come from the person's own record (the
 * `patient-<id>` stream), worked out by the delegation service when a delegation is proposed. A
 * client that sends one is refused naming `eligibility.<fact>` (a typed age could make a
 * 64-year-old eligible for a 65-and-over framework).
 */
export const FACTS_FROM_THE_RECORD = {
  ageYears: "the person's age in whole years on the day, from the birth date in their record",
} as const;
export type FactFromTheRecord = keyof typeof FACTS_FROM_THE_RECORD;

/** Whole years from a birth date (YYYY-MM-DD) to a date (YYYY-MM-DD): a birthday counts on the day itself. */
export const ageInYears = (birthDate: string, onDate: string): number => {
  const [by, bm, bd] = birthDate.split('-').map(Number) as [number, number, number];
  const [y, m, d] = onDate.split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
};
