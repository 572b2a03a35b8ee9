import { z } from 'zod';

/**
 * An event type's contract: its current schema version, the zod schema of that version's data,
 * and one upcaster per older version (v -> v+1), so stored events are read back as the current
 * shape without ever being rewritten.
 */
export interface EventDefinition<Type extends string = string, Schema extends z.ZodType = z.ZodType> {
  readonly type: Type;
  readonly version: number;
  readonly schema: Schema;
  readonly upcasters: Readonly<Record<number, (data: unknown) => unknown>>;
}

export const defineEvent = <Type extends string, Schema extends z.ZodType>(
  type: Type,
  schema: Schema,
  options: { version?: number; upcasters?: Record<number, (data: unknown) => unknown> } = {},
): EventDefinition<Type, Schema> => {
  const version = options.version ?? 1;
  const upcasters = options.upcasters ?? {};
  for (let v = 1; v < version; v++) {
    if (!upcasters[v]) throw new Error(`Event ${type} v${version} has no upcaster from v${v}`);
  }
  return { type, version, schema, upcasters };
};

export interface DataIssue {
  readonly path: string;
  readonly message: string;
}

export type Decoded = { ok: true; version: number; data: unknown } | { ok: false; issues: DataIssue[] };

const issuesOf = (error: z.ZodError): DataIssue[] =>
  error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));

/** The set of event types a store accepts; validates data on the way in and the way out. */
export class EventRegistry {
  private readonly byType: ReadonlyMap<string, EventDefinition>;

  constructor(definitions: readonly EventDefinition[]) {
    const map = new Map<string, EventDefinition>();
    for (const d of definitions) {
      if (map.has(d.type)) throw new Error(`Event type ${d.type} is defined twice`);
      map.set(d.type, d);
    }
    this.byType = map;
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  get types(): string[] {
    return [...this.byType.keys()];
  }

  /** Validates new data against the current version. */
  encode(type: string, data: unknown): Decoded {
    const def = this.byType.get(type);
    if (!def) return { ok: false, issues: [{ path: 'type', message: `unknown event type "${type}"` }] };
    const parsed = def.schema.safeParse(data);
    return parsed.success ? { ok: true, version: def.version, data: parsed.data } : { ok: false, issues: issuesOf(parsed.error) };
  }

  /** Upcasts stored data from its version to the current one, then validates it. */
  decode(type: string, version: number, data: unknown): Decoded {
    const def = this.byType.get(type);
    if (!def) return { ok: false, issues: [{ path: 'type', message: `unknown event type "${type}"` }] };
    if (!Number.isInteger(version) || version < 1 || version > def.version) {
      return { ok: false, issues: [{ path: 'schemaVersion', message: `version ${version} is not between 1 and ${def.version}` }] };
    }
    let upcast = data;
    for (let v = version; v < def.version; v++) upcast = def.upcasters[v]!(upcast);
    const parsed = def.schema.safeParse(upcast);
    return parsed.success ? { ok: true, version: def.version, data: parsed.data } : { ok: false, issues: issuesOf(parsed.error) };
  }
}
