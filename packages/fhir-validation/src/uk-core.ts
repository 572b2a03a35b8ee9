/**
 * Validation against UK Core's profiles (NHS England's StructureDefinitions, kept in
 * ../profiles/uk-core with where they came from). UK Core publishes its profiles as
 * differentials only (no snapshot), and no snapshot generator runs here without the package
 * registry they need; a profile's snapshot is its base's plus its differential, and the base (R4)
 * is already checked by the base validator, so this checks each differential of the profile's
 * chain (the profile, then each UK Core profile it derives from) on top:
 *
 * - cardinality (`min`, `max`) of each element, counted inside each instance of its parent;
 * - `fixed[x]` (exact) and `pattern[x]` (contained) values;
 * - the allowed types of a choice element (`value[x]` limited to Quantity);
 * - `required` bindings to the value sets held here (their listed concepts, or every concept of a
 *   code system held here); a value set not held (all-languages) is not checked;
 * - the profile's invariants (`constraint` of severity error), evaluated with FHIRPath
 *   (@medplum/core's evaluator, the one already in use);
 * - slices discriminated by `value`/`pattern` on a child path (identifier by system, coding by
 *   system) and extension slices by url: each slice's checks apply to the values in that slice.
 *
 * Not checked: extensible and preferred bindings (advice, not rules), the profiles of extensions
 * and of referenced resources (only their url is matched to a slice), slices with a discriminator
 * of another kind (`type`, `profile`, `exists`), and the snapshot elements a differential does not
 * name (those are base R4's, checked by the base validator).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// @medplum/core expects a browser-like global on Node 20; it is never used by the evaluator.
(globalThis as { WebSocket?: unknown }).WebSocket ??= class {};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { evalFhirPath } = require('@medplum/core') as typeof import('@medplum/core');

export const UK_CORE_BASE = 'https://fhir.hl7.org.uk/StructureDefinition/';

interface Discriminator {
  readonly type: string;
  readonly path: string;
}
interface ElementDefinition {
  readonly id: string;
  readonly path: string;
  readonly sliceName?: string;
  readonly min?: number;
  readonly max?: string;
  readonly slicing?: { readonly discriminator?: readonly Discriminator[] };
  readonly type?: readonly { readonly code: string; readonly profile?: readonly string[] }[];
  readonly binding?: { readonly strength: string; readonly valueSet?: string };
  readonly constraint?: readonly { readonly key: string; readonly severity: string; readonly human: string; readonly expression?: string }[];
  readonly [key: string]: unknown;
}
interface StructureDefinition {
  readonly resourceType: 'StructureDefinition';
  readonly url: string;
  readonly version: string;
  readonly type: string;
  readonly baseDefinition: string;
  readonly differential: { readonly element: readonly ElementDefinition[] };
}
interface Concept {
  readonly code: string;
  readonly concept?: readonly Concept[];
}
interface ValueSet {
  readonly resourceType: 'ValueSet';
  readonly url: string;
  readonly compose?: { readonly include: readonly { readonly system?: string; readonly concept?: readonly Concept[] }[] };
}
interface CodeSystem {
  readonly resourceType: 'CodeSystem';
  readonly url: string;
  readonly concept?: readonly Concept[];
}

const PROFILES_DIR = join(__dirname, '..', 'profiles', 'uk-core');

let held: { profiles: Map<string, StructureDefinition>; valueSets: Map<string, ValueSet>; codeSystems: Map<string, CodeSystem> } | undefined;
const load = () => {
  if (held) return held;
  held = { profiles: new Map(), valueSets: new Map(), codeSystems: new Map() };
  for (const file of readdirSync(PROFILES_DIR).filter((f) => f.endsWith('.json'))) {
    const body = JSON.parse(readFileSync(join(PROFILES_DIR, file), 'utf8')) as StructureDefinition | ValueSet | CodeSystem;
    if (body.resourceType === 'StructureDefinition') held.profiles.set(body.url, body);
    if (body.resourceType === 'ValueSet') held.valueSets.set(body.url, body);
    if (body.resourceType === 'CodeSystem') held.codeSystems.set(body.url, body);
  }
  return held;
};

/** The UK Core profiles held here, by url, with their version (for the README and the tests). */
export const ukCoreProfiles = (): ReadonlyMap<string, { type: string; version: string }> =>
  new Map([...load().profiles.values()].map((p) => [p.url, { type: p.type, version: p.version }]));

/** A profile and the UK Core profiles it derives from, most general first. */
const chainOf = (url: string): StructureDefinition[] => {
  const chain: StructureDefinition[] = [];
  for (let p = load().profiles.get(url); p; p = load().profiles.get(p.baseDefinition)) chain.unshift(p);
  return chain;
};

type Json = unknown;
interface Located {
  readonly value: Json;
  readonly path: string;
}

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The values of one path step inside `parent` (a choice `value[x]` matches valueQuantity etc.). */
const step = (parent: Located, name: string): Located[] => {
  if (!isObject(parent.value)) return [];
  const keys = name.endsWith('[x]') ? Object.keys(parent.value).filter((k) => k.startsWith(name.slice(0, -3)) && /^[A-Z]/.test(k.slice(name.length - 3))) : [name];
  return keys.flatMap((key) => {
    const v = parent.value as Record<string, Json>;
    const found = v[key];
    if (found === undefined) return [];
    return Array.isArray(found) ? found.map((item, i) => ({ value: item, path: `${parent.path}.${key}[${i}]` })) : [{ value: found, path: `${parent.path}.${key}` }];
  });
};

/** `pattern` is contained in `value`: every key of the pattern is there with a matching value; arrays match item by item to some item. */
const contains = (value: Json, pattern: Json): boolean => {
  if (Array.isArray(pattern)) return Array.isArray(value) && pattern.every((p) => value.some((v) => contains(v, p)));
  if (isObject(pattern)) return isObject(value) && Object.entries(pattern).every(([k, p]) => contains(value[k], p));
  return value === pattern;
};
const equals = (a: Json, b: Json): boolean => JSON.stringify(a) === JSON.stringify(b);

const fixedOf = (e: ElementDefinition, prefix: 'fixed' | 'pattern'): Json => {
  const key = Object.keys(e).find((k) => k.startsWith(prefix) && /^[A-Z]/.test(k.slice(prefix.length)));
  return key === undefined ? undefined : e[key];
};

/** The codes a held value set allows, or undefined when it is not held (then not checked). */
const allowedCodes = (url: string): Set<string> | undefined => {
  const vs = load().valueSets.get(url.split('|')[0]!);
  if (!vs?.compose) return undefined;
  const codes = new Set<string>();
  const walk = (system: string, concepts: readonly Concept[]) => {
    for (const c of concepts) {
      codes.add(`${system}|${c.code}`);
      walk(system, c.concept ?? []);
    }
  };
  for (const include of vs.compose.include) {
    if (!include.system) return undefined;
    if (include.concept) walk(include.system, include.concept);
    else {
      const cs = load().codeSystems.get(include.system);
      if (!cs) return undefined;
      walk(include.system, cs.concept ?? []);
    }
  }
  return codes;
};

/** The system|code pairs of a code, Coding or CodeableConcept value. */
const codesOf = (value: Json): { system?: string; code?: string }[] => {
  if (typeof value === 'string') return [{ code: value }];
  if (!isObject(value)) return [];
  if (Array.isArray(value.coding)) return value.coding as { system?: string; code?: string }[];
  return [value as { system?: string; code?: string }];
};

export interface ProfileIssue {
  readonly expression: string;
  readonly text: string;
}

/** The errors of `resource` against one UK Core profile (and the UK Core profiles it derives from). Empty when it conforms. */
export const ukCoreIssues = (resource: { resourceType: string }, profileUrl: string): ProfileIssue[] => {
  const chain = chainOf(profileUrl);
  if (chain.length === 0) return [{ expression: `${resource.resourceType}.meta.profile`, text: `${profileUrl} is not a UK Core profile held here` }];
  const issues: ProfileIssue[] = [];
  const label = (p: StructureDefinition) => p.url.replace(UK_CORE_BASE, '');
  if (chain[0]!.type !== resource.resourceType) issues.push({ expression: `${resource.resourceType}.meta.profile`, text: `${label(chain.at(-1)!)} profiles ${chain[0]!.type}, not ${resource.resourceType}` });
  for (const profile of chain) {
    // Elements found at an element id (slices resolved), memoised per profile.
    const found = new Map<string, Located[]>();
    const slicingOf = (id: string): ElementDefinition['slicing'] => {
      for (const p of [...chain].reverse()) {
        const e = p.differential.element.find((x) => x.id === id);
        if (e?.slicing) return e.slicing;
      }
      return undefined;
    };
    /** Whether a value belongs to the slice `sliceId` (undefined: the discriminator is of a kind not checked). */
    const inSlice = (value: Json, unslicedId: string, sliceId: string): boolean | undefined => {
      if (unslicedId.endsWith('extension') || unslicedId.endsWith('modifierExtension')) {
        const url = [...chain].reverse().map((p) => p.differential.element.find((x) => x.id === sliceId)).find((e) => e?.type?.[0]?.profile)?.type?.[0]?.profile?.[0];
        return url === undefined ? undefined : isObject(value) && value.url === url;
      }
      const discriminators = slicingOf(unslicedId)?.discriminator ?? [];
      if (discriminators.length === 0 || discriminators.some((d) => d.type !== 'value' && d.type !== 'pattern')) return undefined;
      return discriminators.every((d) => {
        // A slice inside a slice (component:SystolicBP.code.coding:loinc) takes what it does not restate from the slice of the unsliced parent (component.code.coding:loinc).
        const segments = `${sliceId}.${d.path}`.split('.');
        const own = sliceId.split('.').length - 1;
        const ids = [segments.join('.'), segments.map((seg, i) => (i < own ? seg.split(':')[0]! : seg)).join('.')];
        const at = ids
          .flatMap((id) => [...chain].reverse().map((p) => p.differential.element.find((x) => x.id === id)))
          .find((e) => e && (fixedOf(e, 'fixed') ?? fixedOf(e, 'pattern')) !== undefined);
        if (!at) return false;
        const expected = fixedOf(at, 'fixed') ?? fixedOf(at, 'pattern');
        const atPath = d.path.split('.').reduce<Json>((v, key) => (isObject(v) ? v[key] : undefined), value);
        return contains(atPath, expected);
      });
    };
    let unresolvable = false;
    const locate = (id: string): Located[] => {
      const known = found.get(id);
      if (known) return known;
      const segments = id.split('.');
      let result: Located[];
      if (segments.length === 1) result = [{ value: resource, path: resource.resourceType }];
      else {
        const parentId = segments.slice(0, -1).join('.');
        const [name, slice] = segments.at(-1)!.split(':') as [string, string | undefined];
        const values = locate(parentId).flatMap((p) => step(p, name));
        if (slice === undefined) result = values;
        else {
          const unslicedId = `${parentId}.${name}`;
          result = values.filter((v) => {
            const member = inSlice(v.value, unslicedId, id);
            if (member === undefined) unresolvable = true;
            return member === true;
          });
        }
      }
      found.set(id, result);
      return result;
    };
    for (const e of profile.differential.element) {
      unresolvable = false;
      const values = locate(e.id);
      if (unresolvable) continue; // a slice of a kind this does not resolve: not checked (see the header)
      const where = (v?: Located) => v?.path ?? e.path;
      const segments = e.id.split('.');
      if (segments.length > 1 && (e.min !== undefined || e.max !== undefined)) {
        const parentId = segments.slice(0, -1).join('.');
        const [name, slice] = segments.at(-1)!.split(':') as [string, string | undefined];
        for (const parent of locate(parentId)) {
          const inside = values.filter((v) => v.path.startsWith(`${parent.path}.`) && !v.path.slice(parent.path.length + 1).includes('.'));
          const what = `${e.path}${slice ? ` (slice ${slice})` : ''}`;
          if (e.min !== undefined && inside.length < e.min) issues.push({ expression: `${parent.path}.${name}`, text: `${label(profile)}: ${what} needs at least ${e.min} (found ${inside.length})` });
          if (e.max !== undefined && e.max !== '*' && inside.length > Number(e.max)) issues.push({ expression: `${parent.path}.${name}`, text: `${label(profile)}: ${what} allows at most ${e.max} (found ${inside.length})` });
        }
      }
      const fixed = fixedOf(e, 'fixed');
      const pattern = fixedOf(e, 'pattern');
      for (const v of values) {
        if (fixed !== undefined && !equals(v.value, fixed)) issues.push({ expression: where(v), text: `${label(profile)}: must be ${JSON.stringify(fixed)} (got ${JSON.stringify(v.value)})` });
        if (pattern !== undefined && !contains(v.value, pattern)) issues.push({ expression: where(v), text: `${label(profile)}: must match ${JSON.stringify(pattern)} (got ${JSON.stringify(v.value)})` });
        if (e.path.endsWith('[x]') && e.type && e.type.length > 0) {
          const key = v.path.split('.').at(-1)!.replace(/\[\d+\]$/, '');
          const type = key.slice(e.path.split('.').at(-1)!.length - 3);
          if (!e.type.some((t) => t.code.toLowerCase() === type.toLowerCase())) issues.push({ expression: where(v), text: `${label(profile)}: ${e.path} must be ${e.type.map((t) => t.code).join(' or ')} (got ${type})` });
        }
        if (e.binding?.strength === 'required' && e.binding.valueSet) {
          const allowed = allowedCodes(e.binding.valueSet);
          if (allowed) {
            const codes = codesOf(v.value);
            if (!codes.some((c) => allowed.has(`${c.system}|${c.code}`))) issues.push({ expression: where(v), text: `${label(profile)}: no code from the required value set ${e.binding.valueSet}` });
          }
        }
        for (const c of e.constraint ?? []) {
          if (c.severity !== 'error' || !c.expression) continue;
          let ok: boolean;
          try {
            const out = evalFhirPath(c.expression, v.value);
            ok = out.length === 0 || out.every((x) => x === true);
          } catch (error) {
            issues.push({ expression: where(v), text: `${label(profile)}: invariant ${c.key} could not be evaluated (${(error as Error).message})` });
            continue;
          }
          if (!ok) issues.push({ expression: where(v), text: `${label(profile)}: ${c.key}: ${c.human}` });
        }
      }
    }
  }
  return issues;
};

/** The UK Core profiles `resource` declares in meta.profile that are held here. */
export const declaredUkCoreProfiles = (resource: { meta?: { profile?: readonly string[] } }): string[] => (resource.meta?.profile ?? []).filter((url) => load().profiles.has(url));
