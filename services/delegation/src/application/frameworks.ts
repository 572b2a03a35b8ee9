import { resolveFramework, resolveRuleset, shippedFrameworks, wholeRecordRules, type Framework, type FrameworkDefinition, type FrameworkOverrides, type Ruleset, type RulesetDefinition } from '../frameworks';

/**
 * The frameworks in force for this deployment, resolved with the organisation's local settings.
 * A stream records the framework id and version it was decided under; decisions use the version in
 * force now, replays accept what was stored.
 */
export class FrameworkCatalogue {
  private readonly byId: ReadonlyMap<string, Framework>;
  /** The whole-record rules, evaluated for everyone whose record Tandem holds (no delegation needed). */
  readonly wholeRecord: Ruleset;

  constructor(
    definitions: Readonly<Record<string, FrameworkDefinition>> = shippedFrameworks,
    overrides: readonly FrameworkOverrides[] = [],
    wholeRecordDefinition: RulesetDefinition = wholeRecordRules,
  ) {
    this.wholeRecord = resolveRuleset(wholeRecordDefinition, overrides.find((o) => o.frameworkId === wholeRecordDefinition.id));
    this.byId = new Map(
      Object.values(definitions).map((definition) => {
        const local = overrides.find((o) => o.frameworkId === definition.id);
        return [definition.id, resolveFramework(definition, local)];
      }),
    );
  }

  get(frameworkId: string): Framework | undefined {
    return this.byId.get(frameworkId);
  }

  /** A framework, or the whole-record ruleset, by id: what an escalation or a prompt was raised under. */
  ruleset(id: string): Ruleset | undefined {
    return this.byId.get(id) ?? (id === this.wholeRecord.id ? this.wholeRecord : undefined);
  }

  all(): Framework[] {
    return [...this.byId.values()];
  }
}
