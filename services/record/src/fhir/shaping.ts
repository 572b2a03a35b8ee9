import type { Coding, FhirResource as Resource } from 'fhir/r4';
import { elementFlagsOf as flagsOf } from '@tandem/fhir-validation';
import { FhirError } from './operation-outcome';

/**
 * Shaping an answer as the client asks (FHIR R4 search 3.1.1.5, http 3.1.0.1.10, issue 17 item 4):
 * `_summary` (true, data, text, count, false), `_elements`, `_total` (none, estimate, accurate),
 * and the Prefer header's `return` (minimal, representation, OperationOutcome) and `handling`
 * (strict, lenient). Which elements are "summary" and which are mandatory comes from the R4
 * StructureDefinitions (@tandem/fhir-validation, from the definitions its validator uses), read
 * once when first needed, never typed in here.
 */

export type Summary = 'true' | 'false' | 'text' | 'data' | 'count';
export type TotalMode = 'none' | 'estimate' | 'accurate';
export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

export interface Shaping {
  readonly summary?: Summary;
  /** Top-level element names asked for by `_elements`. */
  readonly elements?: readonly string[];
  readonly total: TotalMode;
  readonly handling: 'strict' | 'lenient';
  readonly return?: ReturnPreference;
}

/** The tag a subsetted resource carries (R4 3.1.1.5.8): it is not the whole resource. */
export const SUBSETTED: Coding = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'As requested, resource was only partially returned' };

const SUMMARIES: readonly Summary[] = ['true', 'false', 'text', 'data', 'count'];
const TOTALS: readonly TotalMode[] = ['none', 'estimate', 'accurate'];
const RETURNS: readonly ReturnPreference[] = ['minimal', 'representation', 'OperationOutcome'];
const ELEMENT_NAME = /^[a-z][A-Za-z0-9]*(\[x\])?$/;

const one = (query: Record<string, unknown>, name: string): string | undefined => {
  const value = query[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    if (value.length !== 1) throw new FhirError(400, [{ code: 'invalid', diagnostics: `${name} may be given once`, expression: name }]);
    return String(value[0]);
  }
  return String(value);
};

/** The Prefer header's directives (RFC 7240): `return=minimal; handling=lenient`, or given as separate values. */
const preferences = (header: string | undefined): Map<string, string> =>
  new Map(
    (header ?? '')
      .split(/[;,]/)
      .map((part) => part.trim())
      .filter((part) => part.includes('='))
      .map((part) => {
        const [key, ...rest] = part.split('=');
        return [key!.trim().toLowerCase(), rest.join('=').trim().replace(/^"(.*)"$/, '$1')] as const;
      }),
  );

/** What the request asks of the answer's shape; a value that means nothing here is refused naming it. */
export const shapingOf = (query: Record<string, unknown>, preferHeader: string | undefined): Shaping => {
  const summary = one(query, '_summary');
  if (summary !== undefined && !(SUMMARIES as readonly string[]).includes(summary)) {
    throw new FhirError(400, [{ code: 'value', diagnostics: `_summary must be one of ${SUMMARIES.join(', ')}`, expression: '_summary' }]);
  }
  const elementsText = one(query, '_elements');
  const elements = elementsText === undefined ? undefined : elementsText.split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const element of elements ?? []) {
    if (!ELEMENT_NAME.test(element)) throw new FhirError(400, [{ code: 'value', diagnostics: `_elements names top-level elements (such as status,subject); "${element}" is not one`, expression: '_elements' }]);
  }
  if (summary !== undefined && elements !== undefined) throw new FhirError(400, [{ code: 'invalid', diagnostics: 'Ask for _summary or _elements, not both', expression: '_elements' }]);
  const total = one(query, '_total') ?? 'accurate';
  if (!(TOTALS as readonly string[]).includes(total)) throw new FhirError(400, [{ code: 'value', diagnostics: `_total must be one of ${TOTALS.join(', ')}`, expression: '_total' }]);
  const prefer = preferences(preferHeader);
  const handling = prefer.get('handling') ?? 'strict';
  if (handling !== 'strict' && handling !== 'lenient') throw new FhirError(400, [{ code: 'value', diagnostics: 'Prefer: handling must be strict or lenient', expression: 'Prefer' }]);
  const preferred = prefer.get('return');
  if (preferred !== undefined && !(RETURNS as readonly string[]).includes(preferred)) {
    throw new FhirError(400, [{ code: 'value', diagnostics: `Prefer: return must be one of ${RETURNS.join(', ')}`, expression: 'Prefer' }]);
  }
  return {
    ...(summary !== undefined ? { summary: summary as Summary } : {}),
    ...(elements !== undefined ? { elements } : {}),
    total: total as TotalMode,
    handling,
    ...(preferred !== undefined ? { return: preferred as ReturnPreference } : {}),
  };
};

/** Whether a key of a resource is the element `name` (a choice element `value[x]` is `valueQuantity`, `valueString`...). */
const isElement = (key: string, name: string): boolean => {
  if (!name.endsWith('[x]')) return key === name;
  const stem = name.slice(0, -3);
  return key.startsWith(stem) && key.length > stem.length && /[A-Z]/.test(key[stem.length]!);
};

const keep = (resource: Resource, wanted: (key: string) => boolean): Resource => {
  const source = resource as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    // A primitive's extensions (`_status`) go with the primitive (`status`).
    const element = key.startsWith('_') ? key.slice(1) : key;
    if (key === 'resourceType' || key === 'id' || key === 'meta' || wanted(element)) out[key] = value;
  }
  return out as unknown as Resource;
};

const tagged = (resource: Resource): Resource => {
  const meta = resource.meta ?? {};
  return { ...resource, meta: { ...meta, tag: [...(meta.tag ?? []).filter((t) => t.code !== SUBSETTED.code), SUBSETTED] } } as Resource;
};

/**
 * A resource as `_summary` or `_elements` asks for it, tagged SUBSETTED when anything was left out;
 * unchanged when neither was asked (or `_summary=false`). `_elements` keeps the mandatory elements
 * too, so what comes back is still a valid resource.
 */
export const shapeResource = (resource: Resource, shaping: Pick<Shaping, 'summary' | 'elements'>): Resource => {
  const { summary, elements } = shaping;
  if (elements !== undefined) {
    const { mandatory } = flagsOf(resource.resourceType);
    const asked = [...elements, ...mandatory];
    return tagged(keep(resource, (key) => asked.some((name) => isElement(key, name))));
  }
  if (summary === undefined || summary === 'false' || summary === 'count') return resource;
  const { summary: inSummary, mandatory } = flagsOf(resource.resourceType);
  if (summary === 'true') return tagged(keep(resource, (key) => [...inSummary].some((name) => isElement(key, name))));
  if (summary === 'text') return tagged(keep(resource, (key) => key === 'text' || [...mandatory].some((name) => isElement(key, name))));
  // data: everything but the narrative.
  return (resource as { text?: unknown }).text === undefined ? resource : tagged(keep(resource, (key) => key !== 'text'));
};

/** Whether anything is to be cut from the resources of this answer. */
export const subsets = (shaping: Pick<Shaping, 'summary' | 'elements'>): boolean => shaping.elements !== undefined || (shaping.summary !== undefined && shaping.summary !== 'false' && shaping.summary !== 'count');
