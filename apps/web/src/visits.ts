import { problemOf, Unreachable } from './api';
import { html, type Html } from './html';
import { choices, getJson, inset, notePosition, postJson, renderStep, textarea, type Step, type StepContext, type Values } from './steps';
import { timeOf, uuid } from './time';

/**
 * Her visits today (issue 13, ADR 0025): each from its FHIR Appointment (planned time, tasks,
 * status), with Check in and Check out. The location goes with a check-in only when the phone gives
 * it, never asked for. A check-out the server refuses because a scheduled medicine has no outcome
 * shows Tandem's words in the error summary, and lets her say why.
 * docs/decisions/0027-medicines-and-visits-in-the-app.md
 */

export interface VisitTask {
  readonly taskId: string;
  readonly description: string;
}

export interface Visit {
  readonly id: string;
  readonly patientId: string;
  readonly status: string;
  readonly start: string;
  readonly end: string;
  readonly tasks: readonly VisitTask[];
}

/**
 * How long after the planned start a visit not checked in shows "Late": LOCAL, the record's default
 * (TANDEM_VISIT_LATE_TOLERANCE_MINUTES, 30). The Appointment does not carry a visit's own tolerance,
 * so the scheduler's notice (to the manager) is the authority; this tag only tells her.
 */
export const LATE_AFTER_MINUTES = 30;

const TASKS_EXTENSION = 'https://tandem.nhs.example/fhir/StructureDefinition/visit-tasks';

export const visitOf = (r: Record<string, unknown>, patientId: string): Visit | undefined => {
  if (typeof r.id !== 'string' || typeof r.start !== 'string' || typeof r.end !== 'string') return undefined;
  const tasks = ((r.extension as { url: string; extension?: { id?: string; url: string; valueString?: string }[] }[] | undefined) ?? [])
    .filter((e) => e.url === TASKS_EXTENSION)
    .flatMap((e) => e.extension ?? [])
    .filter((t) => t.url === 'task' && typeof t.id === 'string')
    .map((t) => ({ taskId: t.id!, description: (t.valueString ?? t.id!).replace(/ \(delegation [^)]+\)$/, '') }));
  return { id: r.id, patientId, status: String(r.status ?? 'booked'), start: r.start, end: r.end, tasks };
};

const participants = (r: Record<string, unknown>) => ((r.participant as { actor?: { reference?: string } }[] | undefined) ?? []).map((p) => p.actor?.reference);

/** Today's visits for her (she is a participant) to one person, earliest first. */
export const fetchVisits = async (ctx: StepContext, me: string, patientId: string, now = new Date()): Promise<Visit[]> => {
  const from = new Date(now.getTime() - 14 * 3_600_000).toISOString();
  const until = new Date(now.getTime() + 14 * 3_600_000).toISOString();
  const bundle = await getJson<{ entry?: { resource?: Record<string, unknown> }[] }>(ctx, `/fhir/Appointment?patient=${encodeURIComponent(patientId)}&date=ge${encodeURIComponent(from)}&date=le${encodeURIComponent(until)}&_count=50`);
  const englandDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' });
  const today = englandDate.format(now);
  return (bundle?.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is Record<string, unknown> => r?.resourceType === 'Appointment' && participants(r).includes(`Practitioner/${me}`))
    .map((r) => visitOf(r, patientId))
    .filter((v): v is Visit => v !== undefined && englandDate.format(new Date(v.start)) === today)
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
};

/** What the tag on a visit says. */
export const visitState = (v: Visit, now: Date): { words: string; tag: string } => {
  if (v.status === 'arrived') return { words: 'Checked in', tag: 'nhsuk-tag--blue' };
  if (v.status === 'fulfilled') return { words: 'Checked out', tag: 'nhsuk-tag--green' };
  if (v.status === 'cancelled') return { words: 'Cancelled', tag: 'nhsuk-tag--grey' };
  if (v.status === 'noshow' || now.getTime() > Date.parse(v.end)) return { words: 'Missed', tag: 'nhsuk-tag--red' };
  if (now.getTime() > Date.parse(v.start) + LATE_AFTER_MINUTES * 60_000) return { words: 'Late', tag: 'nhsuk-tag--red' };
  return { words: 'Planned', tag: 'nhsuk-tag--white' };
};

/** The visits on a person's card in her day. */
export const visitsPanel = (person: { id: string; name: string }, visits: readonly Visit[], now: Date): Html =>
  visits.length
    ? html`<h3 class="nhsuk-heading-s nhsuk-u-margin-bottom-2">Visits today</h3><ul class="nhsuk-list">${visits.map((v) => {
        const state = visitState(v, now);
        const when = `${timeOf(v.start)} to ${timeOf(v.end)}`;
        return html`<li class="nhsuk-u-margin-bottom-3" data-visit="${v.id}"><strong class="nhsuk-tag ${state.tag}">${state.words}</strong>
          <p class="nhsuk-u-margin-top-1 nhsuk-u-margin-bottom-1"><strong>Visit ${when}</strong></p>
          ${v.tasks.length ? html`<ul class="nhsuk-body-s nhsuk-u-margin-bottom-1">${v.tasks.map((t) => html`<li>${t.description}</li>`)}</ul>` : ''}
          <p class="nhsuk-error-message nhsuk-u-margin-bottom-1" id="visit-error-${v.id}" role="alert" hidden></p>
          ${v.status === 'booked' && state.words !== 'Missed' ? html`<button class="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-1" type="button" data-check-in="${v.id}" data-patient="${person.id}">Check in<span class="nhsuk-u-visually-hidden"> to the ${when} visit to ${person.name}</span></button>` : ''}
          ${v.status === 'arrived' ? html`<a class="nhsuk-button nhsuk-u-margin-bottom-1" href="/people/${person.id}/visits/${v.id}/check-out" data-link>Check out<span class="nhsuk-u-visually-hidden"> of the ${when} visit to ${person.name}</span></a>` : ''}
        </li>`;
      })}</ul>`
    : html``;

/** Where the phone is, if it says so within a few seconds; never asked for again, never required. */
const whereThePhoneIs = (): Promise<{ latitude: number; longitude: number; accuracyMetres?: number } | undefined> =>
  new Promise((resolve) => {
    if (!('geolocation' in navigator)) return resolve(undefined);
    const giveUp = setTimeout(() => resolve(undefined), 5_000);
    navigator.geolocation.getCurrentPosition(
      (p) => {
        clearTimeout(giveUp);
        resolve({ latitude: p.coords.latitude, longitude: p.coords.longitude, ...(Number.isFinite(p.coords.accuracy) ? { accuracyMetres: Math.min(p.coords.accuracy, 100_000) } : {}) });
      },
      () => {
        clearTimeout(giveUp);
        resolve(undefined);
      },
      { enableHighAccuracy: false, timeout: 5_000, maximumAge: 300_000 },
    );
  });

/** Checks in (the button on her day): sent straight to Tandem; a refusal is said beside the visit. */
export const checkIn = async (ctx: StepContext, patientId: string, visitId: string): Promise<boolean> => {
  const location = await whereThePhoneIs();
  const say = (words: string) => {
    const where = document.getElementById(`visit-error-${visitId}`);
    if (where) {
      where.hidden = false;
      where.textContent = words;
    }
  };
  try {
    const answer = await postJson(ctx.token, `/api/patients/${encodeURIComponent(patientId)}/visits/${encodeURIComponent(visitId)}/check-in`, { idempotencyKey: uuid(), occurredAt: new Date().toISOString(), ...(location ? { location } : {}) });
    if (answer.status === 401) {
      await ctx.signedOut();
      return false;
    }
    if (!answer.ok) {
      const problem = await problemOf(answer);
      say(`Not checked in: ${problem.errors?.[0]?.message ?? problem.detail ?? problem.title}`);
      return false;
    }
    const reply = (await answer.json().catch(() => ({}))) as Record<string, unknown>;
    notePosition(reply.position ?? Number(answer.headers.get('x-tandem-position')));
    return true;
  } catch (error) {
    if (error instanceof Unreachable) {
      say('Tandem could not be reached: you are not checked in yet. Try again when you have signal.');
      return false;
    }
    throw error;
  }
};

/** The check-out: each planned task done or not (with why); a medicine left without an outcome is Tandem's to name, hers to explain. */
export const checkOutStep = (person: { id: string; name: string }, visit: Visit): Step => {
  const taskField = (t: VisitTask) => `task-${t.taskId}`;
  const reasonField = (t: VisitTask) => `reason-${t.taskId}`;
  const medicines = `/people/${encodeURIComponent(person.id)}/medicines`;
  return {
    title: 'Check out',
    caption: `${person.name}: visit ${timeOf(visit.start)} to ${timeOf(visit.end)}`,
    back: { href: '/', words: 'Back to my day' },
    intro: inset(html`<p>Before you leave, record each medicine due in this visit.</p><p><a href="${medicines}" data-link>${person.name}'s medicines</a></p>`),
    fields: [...visit.tasks.flatMap((t) => [taskField(t), reasonField(t)]), 'unrecordedDosesReason'],
    body: (values: Values, errors) =>
      html`${visit.tasks.map(
        (t) => html`${choices('radio', taskField(t), t.description, [{ value: 'done', label: 'Done' }, { value: 'not-done', label: 'Not done' }], values, errors)}
          ${values[taskField(t)] === 'not-done' || errors[reasonField(t)] ? textarea(reasonField(t), `Why was "${t.description}" not done?`, values, errors) : ''}`,
      )}
      ${errors.unrecordedDosesReason || values.unrecordedDosesReason !== undefined ? textarea('unrecordedDosesReason', 'Why can the medicine not be recorded?', values, errors, 'Or go back and record it: given, refused or not given with the reason') : ''}`,
    submit: 'Check out',
    check: (v) => ({
      ...Object.fromEntries(visit.tasks.filter((t) => !v[taskField(t)]).map((t) => [taskField(t), `Select whether "${t.description}" was done`])),
      ...Object.fromEntries(visit.tasks.filter((t) => v[taskField(t)] === 'not-done' && v[reasonField(t)] !== undefined && !v[reasonField(t)]!.trim()).map((t) => [reasonField(t), `Enter why "${t.description}" was not done`])),
      ...(v.unrecordedDosesReason !== undefined && !v.unrecordedDosesReason.trim() ? { unrecordedDosesReason: 'Enter why the medicine cannot be recorded, or go back and record it' } : {}),
    }),
    send: (v, idempotencyKey) => ({
      path: `/api/patients/${encodeURIComponent(person.id)}/visits/${encodeURIComponent(visit.id)}/check-out`,
      body: {
        idempotencyKey,
        occurredAt: new Date().toISOString(),
        tasks: visit.tasks.map((t) => ({ taskId: t.taskId, outcome: v[taskField(t)], ...(v[taskField(t)] === 'not-done' && v[reasonField(t)]?.trim() ? { reason: v[reasonField(t)]!.trim() } : {}) })),
        ...(v.unrecordedDosesReason?.trim() ? { unrecordedDosesReason: v.unrecordedDosesReason.trim() } : {}),
      },
    }),
    // The server names a task by its place in the list (tasks.1.reason): the form names it by its id.
    fieldOf: (field) => {
      const m = /^tasks\.(\d+)(?:\.(reason|outcome))?$/.exec(field);
      const task = m ? visit.tasks[Number(m[1])] : undefined;
      return task ? (m![2] === 'reason' ? reasonField(task) : taskField(task)) : undefined;
    },
    done: () => '/',
  };
};

export const renderCheckOut = async (ctx: StepContext, me: string, person: { id: string; name: string }, visitId: string): Promise<void> => {
  const visit = (await fetchVisits(ctx, me, person.id)).find((v) => v.id === visitId);
  if (!visit || visit.status !== 'arrived') return ctx.show('Check out', html`<h1>Check out</h1><p>This visit is not one you are checked in to. <a href="/" data-link>Back to my day</a></p>`);
  renderStep(ctx, checkOutStep(person, visit));
};
