import { request, searchAllPages } from './api';
import { personOf, SignedOut, type Person } from './day';
import { news2Risk } from '@tandem/contracts';
import type { Band } from './news2';

/**
 * The clinician's caseload (a district nurse, a GP): her people, the most urgent first, from the
 * APIs the record already has: FHIR Patient and Observation (the policy decides whose), and the
 * delegation API's escalations, delegations, worklists and competences. Nothing here decides a
 * write: it is what she reads to choose whom to see first.
 */

export interface OpenEscalation {
  readonly escalationId: string;
  readonly patientId: string;
  readonly ruleId: string;
  readonly urgency: string;
  readonly status: string;
  readonly tierNumber: number;
  readonly recipient?: string;
  readonly dueAt?: string;
  readonly advice?: string;
  readonly raisedAt: string;
  readonly acknowledgedBy?: string;
  readonly reachedYou: boolean;
  readonly sbard: { readonly situation: string; readonly background: string; readonly assessment: string; readonly recommendation: string; readonly decision: string };
}

export interface Latest {
  readonly at: string;
  readonly value: number;
  readonly late: boolean;
}

export interface CaseloadRow {
  readonly person: Person;
  readonly escalations: readonly OpenEscalation[];
  readonly news2?: Latest & { readonly band: Band };
  readonly glucose?: Latest;
  readonly monitoringOverdue: readonly string[];
  readonly reviewsDue: readonly { readonly delegationId: string; readonly activityId: string; readonly reviewDueAt: string }[];
  readonly competencesLapsing: readonly { readonly careWorkerId: string; readonly frameworkId: string; readonly validUntil: string }[];
}

/** FHIR codes the record's projection uses (services/projections/src/fhir/mapping/codes.ts). */
export const CODES = {
  news2: '1104051000000101',
  glucose: '14743-9',
} as const;

const URGENCY_RANK: Readonly<Record<string, number>> = { emergency: 0, urgent: 1, soon: 2, routine: 3 };
const BAND_RANK: Readonly<Record<Band, number>> = { high: 0, medium: 1, 'low-medium': 2, low: 3, incomplete: 4 };
/** A delegation's review, or a care worker's competence, counts as coming up this many days ahead. */
export const REVIEW_WINDOW_DAYS = 7;
export const LAPSE_WINDOW_DAYS = 30;

/**
 * Most urgent first: an open escalation (by urgency, the earliest deadline first), then the NEWS2
 * band, then monitoring overdue, reviews and lapsing competences; then by name. Pure (tests).
 */
export const byUrgency = (a: CaseloadRow, b: CaseloadRow): number => {
  const esc = (r: CaseloadRow) => Math.min(99, ...r.escalations.map((e) => URGENCY_RANK[e.urgency] ?? 3));
  const band = (r: CaseloadRow) => (r.news2 ? BAND_RANK[r.news2.band] : 5);
  const other = (r: CaseloadRow) => (r.monitoringOverdue.length ? 0 : r.reviewsDue.length || r.competencesLapsing.length ? 1 : 2);
  return esc(a) - esc(b) || band(a) - band(b) || other(a) - other(b) || a.person.name.localeCompare(b.person.name);
};

type Resource = Record<string, unknown>;
const resources = (bundle: Resource): Resource[] =>
  (Array.isArray(bundle.entry) ? (bundle.entry as { resource?: Resource }[]) : []).map((e) => e.resource).filter((r): r is Resource => typeof r === 'object' && r !== null);
const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);
const subjectOf = (r: Resource) => String((r.subject as { reference?: string } | undefined)?.reference ?? '').replace(/^Patient\//, '');
const isLate = (r: Resource) => (r.extension as { url: string; valueBoolean?: boolean }[] | undefined)?.some((x) => x.url.endsWith('/late-entry') && x.valueBoolean === true) ?? false;
const numberOf = (r: Resource): number | undefined => {
  const q = (r.valueQuantity as { value?: unknown } | undefined)?.value;
  if (typeof q === 'number') return q;
  return typeof r.valueInteger === 'number' ? r.valueInteger : undefined;
};

/** The band of a NEWS2 Observation: from its total and whether any sub-score is a 3 (the record's own news2Risk). */
export const bandOf = (observation: Resource): Band | undefined => {
  const total = numberOf(observation);
  if (total === undefined) return undefined;
  // A sub-score is a Quantity in {ScoreOf} (UK Core); an integer as written before.
  const three = list<{ valueInteger?: number; valueQuantity?: { value?: number } }>(observation.component).some((c) => (c.valueQuantity?.value ?? c.valueInteger) === 3);
  return news2Risk(total, three);
};

/** The latest current value of a code for each person, from a search newest first (entered-in-error left out). */
export const latestByPatient = (bundle: Resource): Map<string, Resource> => {
  const latest = new Map<string, Resource>();
  for (const r of resources(bundle)) {
    if (r.resourceType !== 'Observation' || r.status === 'entered-in-error') continue;
    const patientId = subjectOf(r);
    const at = String(r.effectiveDateTime ?? '');
    const seen = latest.get(patientId);
    if (!seen || String(seen.effectiveDateTime ?? '') < at) latest.set(patientId, r);
  }
  return latest;
};

export const fetchCaseload = async (token: string, now = new Date(), headers: Record<string, string> = {}): Promise<CaseloadRow[]> => {
  const get = async (path: string, fallback?: Resource): Promise<Resource> => {
    const response = await request(path, token, { headers });
    if (response.status === 401) throw new SignedOut();
    if (!response.ok) {
      if (fallback) return fallback;
      throw new Error(`${path} answered ${response.status}`);
    }
    return (await response.json()) as Resource;
  };
  // The last fortnight is enough to say what is latest; an older reading shows as none recent.
  const since = new Date(now.getTime() - 14 * 86_400_000).toISOString().slice(0, 10);
  const all = async (path: string): Promise<Resource> => ({
    entry: (
      await searchAllPages(path, token, headers, 20, (response, at) => {
        if (response.status === 401) throw new SignedOut();
        throw new Error(`${at} answered ${response.status}`);
      })
    ).map((resource) => ({ resource })),
  });
  const [patients, escalations, delegations, news2, glucose] = await Promise.all([
    all('/fhir/Patient?_count=500'),
    get('/api/escalations?open=true'),
    get('/api/delegations', { delegations: [] }),
    all(`/fhir/Observation?code=${CODES.news2}&date=ge${since}&_sort=-date&_count=1000`),
    all(`/fhir/Observation?code=${CODES.glucose}&date=ge${since}&_sort=-date&_count=1000`),
  ]);
  const people = resources(patients).filter((r) => r.resourceType === 'Patient').map(personOf);
  const open = list<OpenEscalation>(escalations.escalations);
  const active = list<{ delegationId: string; patientId: string; careWorkerId: string; activityId: string; status: string; reviewDueAt?: string }>(delegations.delegations).filter((d) => d.status === 'active' || d.status === 'suspended');
  const careWorkers = [...new Set(active.map((d) => d.careWorkerId))];
  // The care workers she delegates to: what monitoring they have missed, and competences about to lapse.
  const [worklists, competences] = await Promise.all([
    Promise.all(careWorkers.map((id) => get(`/api/worklist?careWorkerId=${encodeURIComponent(id)}`, {}))),
    Promise.all(careWorkers.map((id) => get(`/api/competences/${encodeURIComponent(id)}`, {}))),
  ]);
  const missed = worklists.flatMap((w) => list<{ patientId: string; title?: string; missedAt?: string }>(w.monitoring)).filter((m) => m.missedAt && Date.parse(m.missedAt) < now.getTime());
  const lapsing = competences.flatMap((c) =>
    list<{ careWorkerId: string; frameworkId: string; status: string; validUntil?: string }>(c.competences).filter((x) => x.validUntil && x.status !== 'revoked' && Date.parse(x.validUntil) - now.getTime() < LAPSE_WINDOW_DAYS * 86_400_000),
  );
  const latestNews2 = latestByPatient(news2);
  const latestGlucose = latestByPatient(glucose);
  const rows = people.map((person): CaseloadRow => {
    const n = latestNews2.get(person.id);
    const g = latestGlucose.get(person.id);
    const band = n ? bandOf(n) : undefined;
    const nValue = n ? numberOf(n) : undefined;
    const gValue = g ? numberOf(g) : undefined;
    const theirs = active.filter((d) => d.patientId === person.id);
    return {
      person,
      escalations: open.filter((e) => e.patientId === person.id),
      ...(n && band && nValue !== undefined ? { news2: { at: String(n.effectiveDateTime), value: nValue, late: isLate(n), band } } : {}),
      ...(g && gValue !== undefined ? { glucose: { at: String(g.effectiveDateTime), value: gValue, late: isLate(g) } } : {}),
      monitoringOverdue: missed.filter((m) => m.patientId === person.id).map((m) => m.title ?? 'Monitoring'),
      reviewsDue: theirs.filter((d) => d.reviewDueAt && Date.parse(d.reviewDueAt) - now.getTime() < REVIEW_WINDOW_DAYS * 86_400_000).map((d) => ({ delegationId: d.delegationId, activityId: d.activityId, reviewDueAt: d.reviewDueAt! })),
      competencesLapsing: lapsing.filter((c) => theirs.some((d) => d.careWorkerId === c.careWorkerId)).map((c) => ({ careWorkerId: c.careWorkerId, frameworkId: c.frameworkId, validUntil: c.validUntil! })),
    };
  });
  return rows.sort(byUrgency);
};
