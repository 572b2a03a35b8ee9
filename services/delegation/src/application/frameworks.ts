import { careVisitsRules, medicinesRules, resolveFramework, resolveRuleset, shippedFrameworks, wholeRecordRules, type Framework, type FrameworkDefinition, type FrameworkOverrides, type Ruleset, type RulesetDefinition } from '../frameworks';

/**
 * The frameworks in force for this deployment, resolved with the organisation's local settings.
 * A stream records the framework id and version it was decided under; decisions use the version in
 * force now, replays accept what was stored.
 */
export class FrameworkCatalogue {
  private readonly byId: ReadonlyMap<string, Framework>;
  /** The whole-record rules, evaluated for everyone whose record Tandem holds (no delegation needed). */
  readonly wholeRecord: Ruleset;
  /** Late and missed visits (raised by the scheduler from a visit's deadlines, never by a care entry). */
  readonly careVisits: Ruleset;
  /** Scheduled doses overdue (raised by the scheduler from a medication order's times). */
  readonly medicines: Ruleset;

  constructor(
    definitions: Readonly<Record<string, FrameworkDefinition>> = shippedFrameworks,
    overrides: readonly FrameworkOverrides[] = [],
    wholeRecordDefinition: RulesetDefinition = wholeRecordRules,
  ) {
    this.wholeRecord = resolveRuleset(wholeRecordDefinition, overrides.find((o) => o.frameworkId === wholeRecordDefinition.id));
    this.careVisits = resolveRuleset(careVisitsRules, overrides.find((o) => o.frameworkId === careVisitsRules.id));
    this.medicines = resolveRuleset(medicinesRules, overrides.find((o) => o.frameworkId === medicinesRules.id));
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
    return this.byId.get(id) ?? (id === this.wholeRecord.id ? this.wholeRecord : id === this.careVisits.id ? this.careVisits : id === this.medicines.id ? this.medicines : undefined);
  }

  all(): Framework[] {
    return [...this.byId.values()];
  }
}
