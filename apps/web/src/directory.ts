import { personOf, type Person } from './day';
import { getJson, type StepContext } from './steps';

/**
 * What the nurse's and manager's screens read about people, practitioners and frameworks: FHIR
 * Patient, Practitioner, PractitionerRole, CareTeam and the delegation API's frameworks. Read-only.
 */

export interface Framework {
  readonly id: string;
  readonly version: number;
  readonly title: string;
  readonly summary: string;
  readonly sources?: readonly string[];
  readonly mayReceive?: readonly string[];
  readonly activities: readonly { readonly id: string; readonly title: string; readonly instruction: 'insulin' | 'general' }[];
  readonly eligibility: readonly { readonly fact: string; readonly description: string; readonly equals?: unknown; readonly atLeast?: number; readonly atMost?: number; readonly source?: { readonly reference: string } }[];
  readonly competence: { readonly trainingModules: readonly { readonly id: string; readonly title: string }[]; readonly supervisedPractices: number; readonly reassessmentMonths: number; readonly assessors?: readonly string[] };
  readonly review?: { readonly intervalDays?: number };
}

type FhirName = { given?: string[]; family?: string; prefix?: string[] };
export const nameOf = (names: FhirName[] | undefined, fallback: string): string => {
  const n = names?.[0];
  return (n ? [...(n.prefix ?? []), ...(n.given ?? []), n.family].filter(Boolean).join(' ') : '') || fallback;
};

const frameworks = new Map<string, Framework>();
export const frameworkOf = async (ctx: StepContext, id: string): Promise<Framework | undefined> => {
  if (!frameworks.has(id)) {
    const f = await getJson<Framework>(ctx, `/api/frameworks/${encodeURIComponent(id)}`);
    if (f) frameworks.set(id, f);
  }
  return frameworks.get(id);
};
export const allFrameworks = async (ctx: StepContext): Promise<Framework[]> => {
  const list = await getJson<{ frameworks: { id: string }[] }>(ctx, '/api/frameworks');
  return (await Promise.all((list?.frameworks ?? []).map((f) => frameworkOf(ctx, f.id)))).filter((f): f is Framework => f !== undefined);
};

export const personFor = async (ctx: StepContext, patientId: string): Promise<Person | undefined> => {
  const r = await getJson<Record<string, unknown>>(ctx, `/fhir/Patient/${encodeURIComponent(patientId)}`);
  return r ? personOf(r) : undefined;
};

export interface Practitioner {
  readonly id: string;
  readonly name: string;
  readonly registration?: { readonly system: string; readonly value: string };
}
const practitioners = new Map<string, Practitioner>();
export const practitionerFor = async (ctx: StepContext, id: string): Promise<Practitioner> => {
  const known = practitioners.get(id);
  if (known) return known;
  const r = await getJson<{ name?: FhirName[]; identifier?: { system: string; value: string }[] }>(ctx, `/fhir/Practitioner/${encodeURIComponent(id)}`);
  const found: Practitioner = { id, name: nameOf(r?.name, id), ...(r?.identifier?.[0] ? { registration: r.identifier[0] } : {}) };
  if (r) practitioners.set(id, found);
  return found;
};

/** A registration in words: the register's short name and the number (NMC 12A3456E). */
export const registrationWords = (registration: Practitioner['registration']): string => {
  if (!registration) return 'no professional registration recorded';
  const register = /nmc/i.test(registration.system) ? 'NMC' : /gmc/i.test(registration.system) ? 'GMC' : /hcpc/i.test(registration.system) ? 'HCPC' : registration.system;
  return `${register} ${registration.value}`;
};

export interface TeamMember {
  readonly practitionerId: string;
  readonly teamRole: string;
}

/** The person's care team as the record holds it now (FHIR CareTeam). */
export const careTeamOf = async (ctx: StepContext, patientId: string): Promise<TeamMember[]> => {
  const bundle = await getJson<{ entry?: { resource?: { participant?: { member?: { reference?: string }; role?: { text?: string }[] }[] } }[] }>(
    ctx,
    `/fhir/CareTeam?patient=Patient/${encodeURIComponent(patientId)}`,
  );
  return (bundle?.entry ?? []).flatMap((e) =>
    (e.resource?.participant ?? []).flatMap((p) => (p.member?.reference?.startsWith('Practitioner/') ? [{ practitionerId: p.member.reference.slice('Practitioner/'.length), teamRole: p.role?.[0]?.text ?? '' }] : [])),
  );
};

/** The practitioners of an organisation in a role (FHIR PractitionerRole), e.g. a care agency's care workers. */
export const staffOf = async (ctx: StepContext, organisationId: string, roleText: string): Promise<Practitioner[]> => {
  const bundle = await getJson<{ entry?: { resource?: { practitioner?: { reference?: string }; code?: { text?: string }[] } }[] }>(
    ctx,
    `/fhir/PractitionerRole?organization=Organization/${encodeURIComponent(organisationId)}&_count=500`,
  );
  const ids = (bundle?.entry ?? []).filter((e) => e.resource?.code?.some((c) => c.text === roleText)).map((e) => e.resource?.practitioner?.reference?.replace(/^Practitioner\//, '') ?? '').filter(Boolean);
  return (await Promise.all([...new Set(ids)].map((id) => practitionerFor(ctx, id)))).sort((a, b) => a.name.localeCompare(b.name));
};

/** Whole years from a birth date to now (as the record works out a framework's age). */
export const ageOf = (birthDate: string | undefined, now: Date): number | undefined => {
  if (!birthDate || !/^\d{4}-\d{2}-\d{2}$/.test(birthDate)) return undefined;
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  let age = now.getUTCFullYear() - y;
  if (now.getUTCMonth() + 1 < m || (now.getUTCMonth() + 1 === m && now.getUTCDate() < d)) age -= 1;
  return age;
};
