import { resolveFramework, shippedFrameworks, type Framework, type FrameworkDefinition, type FrameworkOverrides } from '../frameworks';

/**
 * The frameworks in force for this deployment, resolved with the organisation's local settings.
 * A stream records the framework id and version it was decided under; decisions use the version in
 * force now, replays accept what was stored.
 */
export class FrameworkCatalogue {
  private readonly byId: ReadonlyMap<string, Framework>;

  constructor(definitions: Readonly<Record<string, FrameworkDefinition>> = shippedFrameworks, overrides: readonly FrameworkOverrides[] = []) {
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

  all(): Framework[] {
    return [...this.byId.values()];
  }
}
