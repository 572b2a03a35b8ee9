import { request, Unreachable } from './api';
import { html, type Html } from './html';
import { cache } from './store';
import { timeOf } from './time';

/** A person as the app shows them, from their FHIR Patient. */
export interface Person {
  readonly id: string;
  readonly name: string;
  readonly birthDate?: string;
  readonly address?: string;
  readonly spo2Scale: 1 | 2;
}

export interface WorklistItem {
  readonly delegationId?: string;
  readonly patientId: string;
  readonly activity?: string;
  readonly activityId?: string;
  readonly dueAt?: string;
  readonly status?: string;
  readonly instructionText?: string;
  readonly doNotDo?: string;
  /** What to record for it (the glucose before a dose, then the dose). */
  readonly record?: readonly { readonly entry?: string; readonly title?: string }[];
}
/** The scheduled dose a dose-overdue prompt is about, as the server names it (the scheduler decided it is overdue). */
export interface PromptDose {
  readonly orderId: string;
  readonly scheduledTime: string;
  readonly scheduledAt: string;
  /** When the nursing team is told if still nothing is recorded. */
  readonly escalateAt?: string;
  readonly timeCritical: boolean;
  readonly product: string;
}
export interface Prompt {
  readonly promptId: string;
  readonly patientId: string;
  readonly ruleId?: string;
  /** A dose-overdue prompt's dose: it stands until the dose has an outcome (the server leaves it out then). */
  readonly dose?: PromptDose;
  readonly title?: string;
  readonly steps?: readonly string[];
  readonly acknowledgedBy?: string;
  readonly recheck?: { readonly dueAt?: string; readonly observation?: string };
  readonly recheckStatus?: string;
}
export interface Escalation {
  readonly escalationId: string;
  readonly patientId: string;
  readonly advice?: string;
  readonly urgency?: string;
  readonly status?: string;
  readonly recipient?: string;
}
export interface Monitoring {
  readonly patientId: string;
  readonly title?: string;
  readonly dueAt?: string;
  readonly missedAt?: string;
}

export interface Day {
  readonly me: { readonly id: string; readonly name: string };
  readonly people: readonly Person[];
  readonly items: readonly WorklistItem[];
  readonly monitoring: readonly Monitoring[];
  readonly prompts: readonly Prompt[];
  readonly escalations: readonly Escalation[];
  /** Delegations proposed to her, waiting for her to accept or decline (left out of a day kept before it was read). */
  readonly awaitingAnswer?: readonly { readonly delegationId: string; readonly patientId: string; readonly activityId?: string; readonly instructionText?: string }[];
}

type FhirName = { given?: string[]; family?: string; prefix?: string[] };
const nameOf = (names: FhirName[] | undefined, fallback: string) => {
  const n = names?.[0];
  const text = n ? [...(n.prefix ?? []), ...(n.given ?? []), n.family].filter(Boolean).join(' ') : '';
  return text || fallback;
};

export const personOf = (resource: Record<string, unknown>): Person => {
  const baseline = (resource.extension as { url: string; extension?: { url: string; valueInteger?: number }[] }[] | undefined)?.find((e) => e.url.endsWith('/patient-baseline'));
  const scale = baseline?.extension?.find((e) => e.url === 'spo2Scale')?.valueInteger === 2 ? 2 : 1;
  const address = (resource.address as { line?: string[]; postalCode?: string }[] | undefined)?.[0];
  return {
    id: String(resource.id),
    name: nameOf(resource.name as FhirName[] | undefined, 'Name not recorded'),
    ...(typeof resource.birthDate === 'string' ? { birthDate: resource.birthDate } : {}),
    ...(address ? { address: [...(address.line ?? []), address.postalCode].filter(Boolean).join(', ') } : {}),
    spo2Scale: scale,
  };
};

const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

export class SignedOut extends Error {}

/**
 * Her day from Tandem: her caseload (GET /fhir/Patient) and her worklist (GET /api/worklist: what
 * is due, monitoring, open prompts and escalations). Kept on the phone for when there is no signal.
 */
export const fetchDay = async (token: string, me: string): Promise<{ day: Day; fetchedAt: string; fromPhone: boolean }> => {
  const cacheId = `day:${me}`;
  try {
    const get = async (path: string) => {
      const response = await request(path, token);
      if (response.status === 401) throw new SignedOut();
      if (!response.ok) throw new Error(`${path} answered ${response.status}`);
      return (await response.json()) as Record<string, unknown>;
    };
    const [bundle, worklist, practitioner] = await Promise.all([
      get('/fhir/Patient?_count=100'),
      get(`/api/worklist?careWorkerId=${encodeURIComponent(me)}`),
      get(`/fhir/Practitioner/${encodeURIComponent(me)}`).catch((error: unknown) => {
        if (error instanceof SignedOut || error instanceof Unreachable) throw error;
        return {} as Record<string, unknown>;
      }),
    ]);
    const people = list<{ resource?: Record<string, unknown> }>(bundle.entry)
      .map((e) => e.resource)
      .filter((r): r is Record<string, unknown> => r?.resourceType === 'Patient')
      .map(personOf)
      .sort((a, b) => a.name.localeCompare(b.name));
    const day: Day = {
      me: { id: me, name: nameOf(practitioner.name as FhirName[] | undefined, me) },
      people,
      items: list<WorklistItem>(worklist.items),
      monitoring: list<Monitoring>(worklist.monitoring),
      prompts: list<Prompt>(worklist.prompts),
      escalations: list<Escalation>(worklist.escalations),
      awaitingAnswer: list<NonNullable<Day['awaitingAnswer']>[number]>(worklist.awaitingAnswer),
    };
    const fetchedAt = new Date().toISOString();
    await cache.put({ id: cacheId, fetchedAt, data: day });
    return { day, fetchedAt, fromPhone: false };
  } catch (error) {
    if (error instanceof SignedOut && !(await cache.get(cacheId))) throw error;
    const kept = await cache.get(cacheId);
    if (!kept) throw error;
    return { day: kept.data as Day, fetchedAt: kept.fetchedAt, fromPhone: true };
  }
};

/** Overdue, due now (within the hour), later, done: what the tag on each activity says. */
export const dueState = (item: { status?: string; dueAt?: string }, now: Date): { words: string; tag: string } => {
  if (item.status === 'done') return { words: 'Done', tag: 'nhsuk-tag--green' };
  if (item.status === 'withheld') return { words: 'Withheld', tag: 'nhsuk-tag--grey' };
  if (item.status === 'overdue') return { words: 'Overdue', tag: 'nhsuk-tag--red' };
  const due = item.dueAt ? Date.parse(item.dueAt) : NaN;
  if (Number.isFinite(due) && now.getTime() > due + 60 * 60_000) return { words: 'Overdue', tag: 'nhsuk-tag--red' };
  if (Number.isFinite(due) && now.getTime() >= due - 60 * 60_000) return { words: 'Due now', tag: 'nhsuk-tag--orange' };
  return { words: 'Due later', tag: 'nhsuk-tag--blue' };
};

/**
 * A dose-overdue prompt in her words, with the way to the dose: the server decided it is overdue
 * and leaves it out once an outcome is recorded, so this only says it (on her day and the chart).
 */
export const dosePromptCallout = (personId: string, prompt: Prompt & { dose: PromptDose }, headingLevel: 2 | 3 = 3): Html => {
  const { dose } = prompt;
  const words = `The ${dose.scheduledTime} dose of ${dose.product} is overdue: give it or record why not`;
  const label = html`<span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>Dose overdue</span>`;
  return html`<div class="nhsuk-warning-callout nhsuk-u-margin-top-2 nhsuk-u-margin-bottom-3" data-prompt="${prompt.promptId}" data-dose-prompt="${dose.orderId} ${dose.scheduledTime}">
    ${headingLevel === 2 ? html`<h2 class="nhsuk-warning-callout__label">${label}</h2>` : html`<h3 class="nhsuk-warning-callout__label">${label}</h3>`}
    <p>${words}</p>
    ${dose.timeCritical ? html`<p><strong class="nhsuk-tag nhsuk-tag--red">Time-critical</strong> A delay can cause serious harm: if it cannot be given now, tell the nursing team straight away.</p>` : ''}
    ${dose.escalateAt ? html`<p class="nhsuk-body-s">If nothing is recorded, the nursing team is told at ${timeOf(dose.escalateAt)}.</p>` : ''}
    <a class="nhsuk-button nhsuk-u-margin-bottom-0" href="/people/${encodeURIComponent(personId)}/medicines/${encodeURIComponent(dose.orderId)}?time=${dose.scheduledTime}" data-link>Record the ${dose.scheduledTime} dose now<span class="nhsuk-u-visually-hidden"> of ${dose.product}</span></a>
  </div>`;
};

export const isDosePrompt = (prompt: Prompt): prompt is Prompt & { dose: PromptDose } => prompt.dose !== undefined && typeof prompt.dose.orderId === 'string' && typeof prompt.dose.scheduledTime === 'string';
