import { problemOf, request, Unreachable } from './api';
import { fetchCaseload, type CaseloadRow, type OpenEscalation } from './caseload';
import { SignedOut } from './day';
import { personFor } from './directory';
import { html, type Html } from './html';
import type { LiveMessage } from './live';
import { BAND } from './news2';

import { dayOf, timeOf, uuid } from './time';
import { errorMessage, errorSummary, type FieldErrors } from './vitals';

/**
 * The district nurse's and the GP's screens: the caseload (most urgent first), one escalation
 * (SBARD, tier, deadline; acknowledge and resolve) and a person's chart. They read Tandem directly
 * (a clinician is not offline-first like the care worker): each refusal is shown in the error
 * summary. What is addressed to her arrives on the live stream and redraws the screen in place.
 * docs/decisions/0020-nurse-app-live-and-charts.md
 */
export interface ClinicianContext {
  readonly token: string;
  readonly userId: string;
  readonly role: string;
  readonly show: (title: string, content: Html) => void;
  readonly signedOut: () => Promise<void>;
  readonly navigate: (path: string) => void;
  /** The token's organisation (a manager's care workers are her organisation's). */
  readonly organisationId?: string;
}

export const CLINICIAN_ROLES: ReadonlySet<string> = new Set(['district-nurse', 'gp', 'registered-manager']);

/** The position of the last message the live stream told of: each read after it waits for the read model to hold it. */
let minPosition = 0;
let lastRows: readonly CaseloadRow[] = [];
/** Her name as the record has it (read once per user; another person signing in on the same page reads theirs). */
let myName: { readonly userId: string; readonly name: string } | undefined;

const URGENCY_TAG: Readonly<Record<string, { tag: string; words: string }>> = {
  emergency: { tag: 'nhsuk-tag--red', words: 'Emergency' },
  urgent: { tag: 'nhsuk-tag--orange', words: 'Urgent' },
  soon: { tag: 'nhsuk-tag--yellow', words: 'Soon' },
  routine: { tag: 'nhsuk-tag--blue', words: 'Routine' },
};
const urgencyTag = (urgency: string) => {
  const u = URGENCY_TAG[urgency] ?? { tag: 'nhsuk-tag--grey', words: urgency };
  return html`<strong class="nhsuk-tag ${u.tag}">${u.words}</strong>`;
};
const when = (iso: string) => `${dayOf(iso)}, ${timeOf(iso)}`;
const headers = (): Record<string, string> => (minPosition > 0 ? { 'x-tandem-min-position': String(minPosition) } : {});

/** The deadline in words: when it goes to the next tier if nobody acknowledges it. */
const deadline = (e: Pick<OpenEscalation, 'dueAt' | 'status'>, now: Date) => {
  if (e.status === 'acknowledged') return 'Acknowledged: it stays with you until it is resolved.';
  if (!e.dueAt) return 'Last tier: no further escalation.';
  const minutes = Math.round((Date.parse(e.dueAt) - now.getTime()) / 60_000);
  return minutes >= 0 ? `Goes to the next tier at ${timeOf(e.dueAt)} (in ${minutes} minutes) unless acknowledged.` : `Deadline passed at ${timeOf(e.dueAt)}.`;
};

const escalationCallout = (e: OpenEscalation, name: string, now: Date) =>
  html`<div class="nhsuk-warning-callout nhsuk-u-margin-top-2 nhsuk-u-margin-bottom-3" data-escalation="${e.escalationId}">
    <h3 class="nhsuk-warning-callout__label"><span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>Escalation, tier ${e.tierNumber}</span></h3>
    <p class="nhsuk-u-margin-bottom-1">${urgencyTag(e.urgency)} ${e.status === 'acknowledged' ? html`<strong class="nhsuk-tag nhsuk-tag--green">Acknowledged</strong>` : e.reachedYou ? html`<strong class="nhsuk-tag nhsuk-tag--purple">Sent to you</strong>` : ''}</p>
    <p class="nhsuk-u-margin-bottom-1">${e.sbard.situation}</p>
    ${e.sbard.recommendation ? html`<p class="nhsuk-u-margin-bottom-1" data-what-to-do><strong>What to do:</strong> ${e.sbard.recommendation}</p>` : ''}
    <p class="nhsuk-body-s nhsuk-u-margin-bottom-2">Raised at ${timeOf(e.raisedAt)}. ${deadline(e, now)}</p>
    <a href="/escalations/${e.escalationId}" data-link>Open the escalation<span class="nhsuk-u-visually-hidden"> for ${name}</span></a></div>`;

const news2Line = (row: CaseloadRow) => {
  if (!row.news2) return html`<p class="nhsuk-u-margin-bottom-1">NEWS2: none in the last 14 days</p>`;
  const band = BAND[row.news2.band];
  return html`<p class="nhsuk-u-margin-bottom-1" data-news2="${row.news2.band}"><strong class="nhsuk-tag ${band.tag}">NEWS2 ${row.news2.value}</strong> ${band.words}, ${when(row.news2.at)}${row.news2.late ? html` <strong class="nhsuk-tag nhsuk-tag--grey">Late entry</strong>` : ''}</p>`;
};

const caseloadCard = (row: CaseloadRow, now: Date) => {
  const { person } = row;
  return html`<li class="nhsuk-card nhsuk-u-margin-bottom-4" data-person="${person.id}"><div class="nhsuk-card__content">
    <h2 class="nhsuk-card__heading nhsuk-heading-m">${person.name}</h2>
    ${person.address ? html`<p class="nhsuk-body-s nhsuk-u-margin-bottom-2">${person.address}</p>` : ''}
    ${row.escalations.map((e) => escalationCallout(e, person.name, now))}
    ${news2Line(row)}
    <p class="nhsuk-u-margin-bottom-1">Blood glucose: ${row.glucose ? html`${row.glucose.value} mmol/L, ${when(row.glucose.at)}${row.glucose.value < 4 ? html` <strong class="nhsuk-tag nhsuk-tag--red">Below 4</strong>` : ''}` : 'none in the last 14 days'}</p>
    ${row.monitoringOverdue.map((m) => html`<p class="nhsuk-u-margin-bottom-1"><strong class="nhsuk-tag nhsuk-tag--red">Monitoring overdue</strong> ${m}</p>`)}
    ${row.reviewsDue.map((r) => html`<p class="nhsuk-u-margin-bottom-1"><strong class="nhsuk-tag nhsuk-tag--yellow">Review due</strong> Delegation of ${r.activityId} by ${dayOf(r.reviewDueAt)}</p>`)}
    ${row.competencesLapsing.map((c) => html`<p class="nhsuk-u-margin-bottom-1"><strong class="nhsuk-tag nhsuk-tag--yellow">Competence lapsing</strong> ${c.careWorkerId}'s ${c.frameworkId} competence, valid until ${dayOf(c.validUntil)}</p>`)}
    <ul class="nhsuk-list nhsuk-u-margin-top-2 nhsuk-u-margin-bottom-0"><li><a href="/people/${person.id}/chart" data-link>Chart and record<span class="nhsuk-u-visually-hidden"> for ${person.name}</span></a></li>
      <li><a href="/people/${person.id}/delegations" data-link>Delegations<span class="nhsuk-u-visually-hidden"> for ${person.name}</span></a></li></ul>
  </div></li>`;
};

const notificationsControl = () => {
  if (typeof Notification === 'undefined') return html``;
  if (Notification.permission === 'granted') return html`<p class="nhsuk-body-s">This browser tells you of a new escalation sent to you.</p>`;
  if (Notification.permission === 'denied') return html`<p class="nhsuk-body-s">Notifications are turned off for Tandem in this browser: new escalations still appear on this page.</p>`;
  return html`<button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small" type="button" id="allow-notifications">Tell me of new escalations when this page is in the background</button>`;
};

export const renderCaseload = async (ctx: ClinicianContext, options: { quiet?: boolean } = {}) => {
  if (!options.quiet) ctx.show('My caseload', html`<h1>My caseload</h1><p>Loading your people…</p>`);
  let rows: CaseloadRow[];
  try {
    rows = await fetchCaseload(ctx.token, new Date(), headers());
  } catch (error) {
    if (error instanceof SignedOut) return ctx.signedOut();
    return ctx.show('My caseload', html`<h1>My caseload</h1><p>Your caseload could not be loaded${error instanceof Unreachable ? ': there is no signal' : ''}. Try again shortly.</p>`);
  }
  lastRows = rows;
  if (myName?.userId !== ctx.userId) {
    const me = await request(`/fhir/Practitioner/${encodeURIComponent(ctx.userId)}`, ctx.token).catch(() => undefined);
    const name = me?.ok ? ((await me.json()) as { name?: { prefix?: string[]; given?: string[]; family?: string }[] }).name?.[0] : undefined;
    myName = { userId: ctx.userId, name: (name ? [...(name.prefix ?? []), ...(name.given ?? []), name.family].filter(Boolean).join(' ') : '') || ctx.userId };
  }
  const now = new Date();
  const news = document.getElementById('live-news')?.innerHTML ?? '';
  ctx.show(
    'My caseload',
    html`<h1 class="nhsuk-u-margin-bottom-2">My caseload</h1>
      <p class="nhsuk-body-s">${dayOf(now.toISOString())}. Signed in as ${myName.name}. <button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0" type="button" id="sign-out">Sign out</button></p>
      ${notificationsControl()}
      <div id="live-news" role="status" aria-live="polite"></div>
      <p class="nhsuk-body-s">The most urgent first: open escalations, then the NEWS2 band, then monitoring overdue, reviews and competences about to lapse.</p>
      ${rows.length ? html`<ul class="nhsuk-list app-people" id="caseload">${rows.map((r) => caseloadCard(r, now))}</ul>` : html`<p>Nobody is on your caseload.</p>`}`,
  );
  // What the live stream last said stays said across the redraw it caused.
  const region = document.getElementById('live-news');
  if (region && news) region.innerHTML = news;
  document.getElementById('allow-notifications')?.addEventListener('click', () => void Notification.requestPermission().then(() => renderCaseload(ctx, { quiet: true })));
};

// ---------------------------------------------------------------------------------------------
// One escalation: SBARD, tier, deadline and steps; acknowledge, then resolve.
// ---------------------------------------------------------------------------------------------

interface EscalationDetail {
  readonly escalationId: string;
  readonly status: string;
  readonly tierNumber: number;
  readonly dueAt: string | null;
  readonly events: readonly { type: string; data: Record<string, unknown>; occurredAt: string; actor?: { id?: string } }[];
}

const STEP_WORDS: Readonly<Record<string, string>> = {
  EscalationRaised: 'Raised',
  EscalationSentToTier: 'Sent to a tier',
  EscalationAcknowledged: 'Acknowledged',
  EscalationReEscalated: 'Went to the next tier (not acknowledged in time)',
  EscalationResolved: 'Resolved',
};

export const renderEscalation = async (ctx: ClinicianContext, escalationId: string, errors: FieldErrors = {}, general: string[] = [], values: Record<string, string> = {}) => {
  const response = await request(`/api/escalations/${encodeURIComponent(escalationId)}`, ctx.token, { headers: headers() }).catch(() => undefined);
  if (response?.status === 401) return ctx.signedOut();
  if (!response?.ok) return ctx.show('Escalation not found', html`<div class="nhsuk-back-link"><a class="nhsuk-back-link__link" href="/" data-link>Back to my caseload</a></div><h1>Escalation not found</h1><p>It is not one of your people's, or Tandem could not be reached.</p>`);
  const detail = (await response.json()) as EscalationDetail;
  const raised = detail.events.find((e) => e.type === 'EscalationRaised')?.data as { patientId?: string; urgency?: string; sbard?: Record<string, string> } | undefined;
  const tier = [...detail.events].reverse().find((e) => e.type === 'EscalationSentToTier')?.data as { advice?: string; recipients?: { practitionerId: string; reason: string }[] } | undefined;
  // A manager opens it from her service's screen, with no caseload read: the person is read as the record holds them.
  const person = lastRows.find((r) => r.person.id === raised?.patientId)?.person ?? (raised?.patientId ? await personFor(ctx, raised.patientId) : undefined);
  const name = person?.name ?? 'Your patient';
  const home = ctx.role === 'registered-manager' ? 'Back to my service' : 'Back to my caseload';
  const sbard = raised?.sbard ?? {};
  const hasErrors = Object.keys(errors).length > 0 || general.length > 0;
  const open = detail.status !== 'resolved';
  const acknowledged = detail.status === 'acknowledged';
  ctx.show(
    `${hasErrors ? 'Error: ' : ''}Escalation for ${name}`,
    html`<div class="nhsuk-back-link"><a class="nhsuk-back-link__link" href="/" data-link>${home}</a></div>
      ${errorSummary(errors, general, ['note', 'outcome'], 'escalation-form')}
      <h1><span class="nhsuk-caption-l">${name}</span>Escalation, tier ${detail.tierNumber}</h1>
      <p id="escalation-state">${urgencyTag(raised?.urgency ?? '')} <strong class="nhsuk-tag ${detail.status === 'resolved' ? 'nhsuk-tag--green' : acknowledged ? 'nhsuk-tag--blue' : 'nhsuk-tag--red'}">${detail.status === 'resolved' ? 'Resolved' : acknowledged ? 'Acknowledged' : 'Waiting for acknowledgement'}</strong></p>
      <p>${deadline({ status: detail.status, ...(detail.dueAt ? { dueAt: detail.dueAt } : {}) }, new Date())}</p>
      ${tier?.advice ? html`<div class="nhsuk-inset-text"><span class="nhsuk-u-visually-hidden">Information: </span><p>${tier.advice}</p></div>` : ''}
      <h2 class="nhsuk-heading-m">SBARD</h2>
      <dl class="nhsuk-summary-list" id="sbard">
        ${(['situation', 'background', 'assessment', 'recommendation', 'decision'] as const).map((k) => html`<div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">${k[0]!.toUpperCase() + k.slice(1)}</dt><dd class="nhsuk-summary-list__value">${sbard[k] ?? ''}</dd></div>`)}
      </dl>
      ${tier?.recipients?.length ? html`<p class="nhsuk-body-s">Sent to: ${tier.recipients.map((r) => `${r.practitionerId} (${r.reason})`).join(', ')}.</p>` : ''}
      ${open
        ? html`<form id="escalation-form" novalidate tabindex="-1">
            ${acknowledged
              ? html`<div class="nhsuk-form-group${errors.outcome ? ' nhsuk-form-group--error' : ''}">
                  <label class="nhsuk-label nhsuk-label--s" for="outcome">Outcome</label>
                  <div class="nhsuk-hint" id="outcome-hint">What was done and what happens next</div>
                  ${errorMessage('outcome', errors)}
                  <textarea class="nhsuk-textarea${errors.outcome ? ' nhsuk-textarea--error' : ''}" id="outcome" name="outcome" rows="3" aria-describedby="outcome-hint${errors.outcome ? ' outcome-error' : ''}">${values.outcome ?? ''}</textarea>
                </div>
                <button class="nhsuk-button" type="submit" data-action="resolution">Resolve the escalation</button>`
              : html`<div class="nhsuk-form-group${errors.note ? ' nhsuk-form-group--error' : ''}">
                  <label class="nhsuk-label nhsuk-label--s" for="note">Note (optional)</label>
                  <div class="nhsuk-hint" id="note-hint">For example, visiting within the hour</div>
                  ${errorMessage('note', errors)}
                  <textarea class="nhsuk-textarea${errors.note ? ' nhsuk-textarea--error' : ''}" id="note" name="note" rows="2" aria-describedby="note-hint${errors.note ? ' note-error' : ''}">${values.note ?? ''}</textarea>
                </div>
                <button class="nhsuk-button" type="submit" data-action="acknowledgement">Acknowledge the escalation</button>`}
          </form>`
        : ''}
      <h2 class="nhsuk-heading-m">Steps</h2>
      <ol class="nhsuk-list nhsuk-list--number" id="steps">${detail.events.map((e) => html`<li>${STEP_WORDS[e.type] ?? e.type}, ${when(e.occurredAt)}${e.actor?.id ? ` (${e.actor.id})` : ''}</li>`)}</ol>`,
  );
  const form = document.getElementById('escalation-form') as HTMLFormElement | null;
  form?.addEventListener('submit', (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]') as HTMLButtonElement;
    const action = button.dataset.action as 'acknowledgement' | 'resolution';
    const typed = { note: (form.elements.namedItem('note') as HTMLTextAreaElement | null)?.value ?? '', outcome: (form.elements.namedItem('outcome') as HTMLTextAreaElement | null)?.value ?? '' };
    if (action === 'resolution' && !typed.outcome.trim()) return void renderEscalation(ctx, escalationId, { outcome: 'Enter the outcome' }, [], typed);
    button.disabled = true;
    const body = { idempotencyKey: uuid(), occurredAt: new Date().toISOString(), ...(action === 'acknowledgement' && typed.note.trim() ? { note: typed.note.trim() } : {}), ...(action === 'resolution' ? { outcome: typed.outcome.trim() } : {}) };
    void request(`/api/escalations/${encodeURIComponent(escalationId)}/${action}`, ctx.token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      .then(async (answer) => {
        if (answer.ok) {
          const position = Number(answer.headers.get('x-tandem-position'));
          if (Number.isSafeInteger(position)) minPosition = Math.max(minPosition, position);
          return renderEscalation(ctx, escalationId);
        }
        const problem = await problemOf(answer);
        const fields: FieldErrors = Object.fromEntries((problem.errors ?? []).filter((e) => e.field === 'note' || e.field === 'outcome').map((e) => [e.field, e.message]));
        const rest = (problem.errors ?? []).filter((e) => e.field !== 'note' && e.field !== 'outcome').map((e) => `${e.field}: ${e.message}`);
        return renderEscalation(ctx, escalationId, fields, [...(Object.keys(fields).length || rest.length ? [] : [problem.detail ? `${problem.title}: ${problem.detail}` : problem.title]), ...rest], typed);
      })
      .catch(() => renderEscalation(ctx, escalationId, {}, ['Tandem could not be reached: nothing was sent. Try again when you have signal.'], typed));
  });
  if (hasErrors) document.getElementById('error-summary')?.focus();
};

// ---------------------------------------------------------------------------------------------
// What the live stream says, on whichever screen she is.
// ---------------------------------------------------------------------------------------------

const notify = (message: LiveMessage, ctx: ClinicianContext) => {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (message.type !== 'EscalationSentToTier' || !message.addressedTo?.includes(ctx.userId)) return;
  const name = lastRows.find((r) => r.person.id === message.patientId)?.person.name ?? 'one of your people';
  // The notification names the person only to her, on her own device (she may already read their record).
  new Notification('Tandem: an escalation for you', { body: `For ${name}. Open Tandem to see it.`, tag: message.id });
};

export const onLiveMessage = async (ctx: ClinicianContext, message: LiveMessage) => {
  minPosition = Math.max(minPosition, message.position);
  const path = location.pathname;
  // A form she is typing in is not redrawn under her (her words would go).
  const busy = Boolean(document.activeElement?.closest('form'));
  if (path === '/' && !busy && ctx.role === 'registered-manager') {
    const { renderService } = await import('./manager');
    await renderService(ctx);
  } else if (path === '/' && !busy) {
    await renderCaseload(ctx, { quiet: true });
    const name = lastRows.find((r) => r.person.id === message.patientId)?.person.name;
    const region = document.getElementById('live-news');
    if (region && message.kind === 'escalation' && message.type === 'EscalationSentToTier') region.innerHTML = html`<p class="nhsuk-u-margin-bottom-2"><strong class="nhsuk-tag nhsuk-tag--red">New</strong> An escalation for ${name ?? 'one of your people'} at ${timeOf(new Date().toISOString())}.</p>`.value;
  } else if (path === `/escalations/${message.id}` && !busy) await renderEscalation(ctx, message.id);
  notify(message, ctx);
};

export const onLiveReady = async (ctx: ClinicianContext, position: number) => {
  minPosition = Math.max(minPosition, position);
  if (location.pathname === '/' && lastRows.length > 0) await renderCaseload(ctx, { quiet: true });
};

/** The delegation, training, passport and manager's screens (docs/decisions/0026). */
const workRoute = async (ctx: ClinicianContext, path: string): Promise<boolean> => {
  const m = (re: RegExp) => re.exec(path)?.slice(1).map((x) => (x === undefined ? '' : decodeURIComponent(x)));
  const manager = ctx.role === 'registered-manager';
  // Loaded when first opened, like the chart: the care worker's first screen stays small.
  const [{ renderDelegation, renderDelegationStep, renderPersonDelegations, renderProposeStep }, { renderAssign, renderMatrix, renderService }, { renderPassport }, { renderTraining, renderTrainingStep }] = await Promise.all([
    import('./delegation'),
    import('./manager'),
    import('./passport'),
    import('./training'),
  ]);
  let p: string[] | undefined;
  if (manager && path === '/') await renderService(ctx);
  else if (manager && path === '/team/competences') await renderMatrix(ctx);
  else if (manager && (p = m(/^\/people\/([^/]+)\/care-team\/new$/))) await renderAssign(ctx, p[0]!);
  else if ((p = m(/^\/care-workers\/([^/]+)\/passport$/))) await renderPassport({ ...ctx, home: { href: '/', words: manager ? 'Back to my service' : 'Back to my caseload' } }, p[0]!);
  else if (manager) return false;
  else if ((p = m(/^\/people\/([^/]+)\/delegations$/))) await renderPersonDelegations(ctx, p[0]!);
  else if ((p = m(/^\/people\/([^/]+)\/delegations\/new(?:\/([a-z-]+))?$/))) await renderProposeStep(ctx, p[0]!, p[1] ?? '');
  else if ((p = m(/^\/delegations\/([^/]+)$/))) await renderDelegation(ctx, p[0]!);
  else if ((p = m(/^\/delegations\/([^/]+)\/([a-z-]+)$/))) await renderDelegationStep(ctx, p[0]!, p[1]!);
  else if ((p = m(/^\/care-workers\/([^/]+)\/competences\/([^/]+)$/))) await renderTraining(ctx, p[0]!, p[1]!);
  else if ((p = m(/^\/care-workers\/([^/]+)\/competences\/([^/]+)\/([a-z-]+)$/))) await renderTrainingStep(ctx, p[0]!, p[1]!, p[2]!);
  else return false;
  return true;
};

export const clinicianRoute = async (ctx: ClinicianContext, path: string): Promise<boolean> => {
  if (await workRoute(ctx, path)) return true;
  const escalation = /^\/escalations\/([^/]+)$/.exec(path);
  const chart = /^\/people\/([^/]+)\/chart$/.exec(path);
  if (escalation) await renderEscalation(ctx, decodeURIComponent(escalation[1]!));
  else if (chart) {
    // The chart library is loaded only when a chart is opened: the care worker's first screen stays small.
    const { renderChart } = await import('./chart');
    await renderChart(ctx, decodeURIComponent(chart[1]!), lastRows.find((r) => r.person.id === decodeURIComponent(chart[1]!))?.person, headers());
  } else if (path === '/') await renderCaseload(ctx);
  else return false;
  return true;
};
