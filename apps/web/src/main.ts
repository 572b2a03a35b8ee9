import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import './app.css';
import { Workbox } from 'workbox-window';
import { createAuth, loadAppConfig, type AppConfig, type Auth } from './auth';
import { dosePromptCallout, dueState, fetchDay, isDosePrompt, SignedOut, type Day, type Person } from './day';
import { html, type Html } from './html';
import { BAND } from './news2';
import { flushQueue, sendEntry } from './sender';
import { drafts, queue, type Draft, type Problem, type QueuedEntry } from './store';
import { dayOf, lateness, timeOf, uuid } from './time';
import { fetchRecord, keepRecords, recordChanged } from './record';
import { CLINICIAN_ROLES, clinicianRoute, onLiveMessage, onLiveReady, type ClinicianContext } from './clinician';
import { openLiveStream } from './live';
import { checkIn, fetchVisits, renderCheckOut, visitsPanel, type Visit } from './visits';
import { INSULIN_FIELD_NAMES, instructionOf, insulinForm, insulinOf, withheldForm, withheldOf } from './insulin';
import { CHECK_FORMS, type CheckForm, checkErrorFields, checkFieldNames, checkFormHtml, checkFormOf, checkOf, checkOffered, checkValuesOf } from './checks';
import { GLUCOSE_FIELD_NAMES, glucoseForm, glucoseOf, glucosePanel } from './glucose';
import { errorMessage, errorSummary, liveNews2, measurementsOf, news2Panel, vitalsForm, VITALS_FIELDS, type FieldErrors } from './vitals';

/**
 * The care worker's app: her day (the people she cares for and what is due), recording vital
 * signs with the NEWS2 live, and the entries kept on the phone until they reach Tandem. The same
 * app serves each role its own screens. The app's decisions: docs/decisions/0014-care-worker-app.md
 * (the care worker), 0020 (the nurse's caseload, live stream and chart), 0026 (delegation, passport,
 * manager), 0027 and 0029 (visits, medicines, prompts), 0030 (SpO2 scale 2 on the chart) and
 * 0036-inspector-app.md (the inspector, role auditor).
 */

interface Session {
  readonly token: string;
  readonly userId: string;
  /** The token's role: a clinician (nurse, GP, manager) sees her caseload, a care worker her day. */
  readonly role: string;
  /** The token's organisation (`org` claim), when it names one. */
  readonly organisationId?: string;
  readonly expired: boolean;
}

let config: AppConfig | undefined;
let auth: Auth | undefined;
let session: Session | undefined;
let lastDay: Day | undefined;

const main = () => document.getElementById('maincontent')!;
const status = () => document.getElementById('status')!;

const show = (title: string, content: Html) => {
  document.title = `${title} - Tandem`;
  main().innerHTML = content.value;
};

const focusMain = () => main().focus({ preventScroll: false });

const address = () => location.pathname + location.search;
/**
 * `show` for a screen begun at this address: it draws only while the page is still there. A screen
 * read slowly (a live redraw of the caseload) must not draw over the one she has opened since.
 */
const showHere = () => {
  const begunAt = address();
  return (title: string, content: Html) => {
    if (address() === begunAt) show(title, content);
  };
};

const navigate = (path: string) => {
  history.pushState({}, '', path);
  void route();
};

// Links inside the app move without a page load (and so without a network).
document.addEventListener('click', (event) => {
  const target = event.target as HTMLElement | null;
  const link = target?.closest('a[data-link]') as HTMLAnchorElement | null;
  if (link && link.origin === location.origin) {
    event.preventDefault();
    navigate(link.pathname + link.search);
    return;
  }
  // The error summary's links move to their field (NHS.UK pattern), never change the page.
  const field = target?.closest('a[data-field]') as HTMLAnchorElement | null;
  if (field) {
    event.preventDefault();
    const input = document.getElementById(field.dataset.field!);
    input?.focus();
    (input?.closest('.nhsuk-form-group') ?? input)?.scrollIntoView({ block: 'start' });
  }
});
window.addEventListener('popstate', () => void route());

/** Acknowledging a prompt or an escalation is an entry like any other: queued with its key and time, sent once. */
document.addEventListener('click', (event) => {
  const button = (event.target as HTMLElement | null)?.closest('button[data-acknowledge]') as HTMLButtonElement | null;
  if (!button || !session) return;
  const promptId = button.dataset.acknowledge!;
  const escalation = button.dataset.what === 'escalation';
  const person = lastDay?.people.find((p) => p.id === button.dataset.patient);
  const idempotencyKey = uuid();
  const occurredAt = new Date().toISOString();
  const entry: QueuedEntry = {
    idempotencyKey,
    owner: session.userId,
    patientId: button.dataset.patient ?? '',
    patientName: person?.name ?? '',
    kind: escalation ? 'escalation-acknowledgement' : 'prompt-acknowledgement',
    promptId,
    path: `/api/${escalation ? 'escalations' : 'prompts'}/${encodeURIComponent(promptId)}/acknowledgement`,
    body: { idempotencyKey, occurredAt },
    savedAt: occurredAt,
    state: 'waiting',
    attempts: 0,
  };
  button.disabled = true;
  void queue.put(entry).then(async () => {
    if (session && !session.expired) await sendEntry(entry, session.token);
    await renderStatus();
    if (location.pathname === '/') await renderDay();
  });
});

/** Her own online screens (her answer, passport, medicines, check-out): sent straight to Tandem. */
const ownContext = () =>
  session && !session.expired ? { token: session.token, userId: session.userId, show: showHere(), navigate, signedOut: async () => { await auth?.signOut(); session = undefined; signInPage(); } } : undefined;

/** Check in: the button on a visit in her day (the location only if the phone gives it). */
document.addEventListener('click', (event) => {
  const button = (event.target as HTMLElement | null)?.closest('button[data-check-in]') as HTMLButtonElement | null;
  const ctx = ownContext();
  if (!button || !ctx) return;
  button.disabled = true;
  void checkIn(ctx, button.dataset.patient!, button.dataset.checkIn!).then((done) => {
    if (done) return renderDay({ quiet: true });
    button.disabled = false;
  });
});

const refreshSession = async () => {
  const user = auth ? await auth.user() : null;
  const org = (user?.profile as { org?: unknown } | undefined)?.org;
  session = user
    ? { token: user.access_token, userId: String(user.profile.sub), role: String((user.profile as { role?: unknown }).role ?? 'care-worker'), ...(typeof org === 'string' ? { organisationId: org } : {}), expired: user.expired === true }
    : undefined;
};

const clinician = (): ClinicianContext | undefined =>
  session && !session.expired && CLINICIAN_ROLES.has(session.role)
    ? { token: session.token, userId: session.userId, role: session.role, ...(session.organisationId ? { organisationId: session.organisationId } : {}), show: showHere(), navigate, signedOut: async () => { await auth?.signOut(); session = undefined; signInPage(); } }
    : undefined;

/** The live stream: what is addressed to her redraws her screen in place (docs/decisions/0020). */
let stopLive: (() => void) | undefined;
const startLive = () => {
  stopLive?.();
  stopLive = undefined;
  // The inspector's screens are read when she opens them: nothing is addressed to her on the stream.
  if (!session || session.expired || session.role === 'auditor') return;
  stopLive = openLiveStream(() => (session && !session.expired ? session.token : undefined), {
    onReady: (position) => {
      const ctx = clinician();
      if (ctx) void onLiveReady(ctx, position);
    },
    onMessage: (message) => {
      const ctx = clinician();
      if (ctx) return void onLiveMessage(ctx, message);
      // The care worker's day: a prompt or escalation for one of her people; her day is read again.
      if (location.pathname === '/' && !document.activeElement?.closest('form')) void renderDay({ quiet: true });
    },
    onSignedOut: () => void refreshSession().then(renderStatus),
  });
};

/** The banners over every page: no signal, sign-in ended, entries waiting to send. */
const renderStatus = async () => {
  const entries = session ? (await queue.all()).filter((e) => e.owner === session!.userId) : [];
  const waiting = entries.filter((e) => e.state === 'waiting').length;
  const refused = entries.filter((e) => e.state === 'refused').length;
  const parts: Html[] = [];
  if (!navigator.onLine) parts.push(html`<p class="nhsuk-u-margin-bottom-2"><strong class="nhsuk-tag nhsuk-tag--grey">Offline</strong> No signal: what you save is kept on this phone and sent when the signal returns.</p>`);
  if (session?.expired) parts.push(html`<p class="nhsuk-u-margin-bottom-2"><strong class="nhsuk-tag nhsuk-tag--yellow">Signed out</strong> Your sign-in has ended. Nothing you saved is lost. <button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0" type="button" id="sign-in-again">Sign in again</button></p>`);
  if (waiting || refused)
    parts.push(
      html`<p class="nhsuk-u-margin-bottom-2"><a href="/waiting" data-link id="waiting-link">${waiting ? `${waiting} ${waiting === 1 ? 'entry' : 'entries'} waiting to send` : ''}${waiting && refused ? ', ' : ''}${refused ? `${refused} not accepted: see why` : ''}</a></p>`,
    );
  status().innerHTML = parts.length ? html`<div class="app-status nhsuk-u-padding-top-3" role="status">${parts}</div>`.value : '';
  document.getElementById('sign-in-again')?.addEventListener('click', () => void auth?.signIn(location.pathname));
};

const sync = async () => {
  if (!session || session.expired) return;
  await flushQueue(session.token, session.userId, () => void renderStatus());
  await renderStatus();
  if (location.pathname === '/waiting') await renderWaiting();
};

const signInPage = () =>
  show(
    'Sign in',
    html`<h1>Sign in</h1><p>Sign in to see the people you care for today and what is due.</p>
      ${config?.demo ? html`<div class="nhsuk-inset-text"><span class="nhsuk-u-visually-hidden">Information: </span><p>This is Tandem's demo: you choose one of its made-up people on the next page.</p></div>` : ''}
      <button class="nhsuk-button" type="button" id="sign-in">Sign in</button>`,
  );

const personHeading = (p: Person) => html`<h2 class="nhsuk-card__heading nhsuk-heading-m">${p.name}</h2>${p.address ? html`<p class="nhsuk-body-s nhsuk-u-margin-bottom-2">${p.address}</p>` : ''}`;

const renderDay = async (options: { quiet?: boolean } = {}) => {
  if (!session) return signInPage();
  if (!options.quiet) show('My day', html`<h1>My day</h1><p>Loading the people you care for…</p>`);
  let result: Awaited<ReturnType<typeof fetchDay>>;
  try {
    result = await fetchDay(session.token, session.userId);
  } catch (error) {
    if (error instanceof SignedOut) {
      await auth?.signOut();
      session = undefined;
      return signInPage();
    }
    return show('My day', html`<h1>My day</h1><p>Your day could not be loaded and none is kept on this phone yet. Try again when you have signal.</p>`);
  }
  const { day, fetchedAt, fromPhone } = result;
  lastDay = day;
  // With signal, her people's latest records are kept on the phone for when there is none.
  if (!fromPhone) void keepRecords(session.token, session.userId, day.people.map((p) => p.id));
  const now = new Date();
  // Her visits today, from each person's Appointments (with signal; none shown without).
  const visitsOf = new Map<string, readonly Visit[]>();
  if (!fromPhone) {
    const ctx = ownContext();
    await Promise.all(day.people.map(async (p) => visitsOf.set(p.id, ctx ? await fetchVisits(ctx, session!.userId, p.id, now).catch(() => []) : [])));
  }
  // Prompts she has acknowledged on this phone (sent or waiting), until the server's list drops them.
  const acknowledged = new Set((await queue.all()).filter((e) => (e.kind === 'prompt-acknowledgement' || e.kind === 'escalation-acknowledgement') && e.state !== 'refused' && e.owner === session!.userId).map((e) => e.promptId));
  const cards = day.people.map((person) => {
    const items = day.items.filter((i) => i.patientId === person.id);
    const monitoring = day.monitoring.filter((m) => m.patientId === person.id);
    const prompts = day.prompts.filter((p) => p.patientId === person.id);
    const escalations = day.escalations.filter((e) => e.patientId === person.id);
    const due = [
      ...items.map((item) => {
        const state = dueState(item, now);
        return html`<li class="nhsuk-u-margin-bottom-3"><strong class="nhsuk-tag ${state.tag}">${state.words}</strong>
          <p class="nhsuk-u-margin-top-1 nhsuk-u-margin-bottom-1"><strong>${item.activity ?? item.activityId ?? 'Delegated activity'}</strong>${item.dueAt ? ` at ${timeOf(item.dueAt)}` : ''}</p>
          ${item.instructionText ? html`<p class="nhsuk-body-s nhsuk-u-margin-bottom-1">${item.instructionText}</p>` : ''}
          ${item.doNotDo ? html`<p class="nhsuk-body-s nhsuk-u-margin-bottom-1"><strong>Do not do this now:</strong> ${item.doNotDo}</p>` : ''}</li>`;
      }),
      ...monitoring.map((m) => {
        const state = dueState({ status: m.missedAt && Date.parse(m.missedAt) < now.getTime() ? 'overdue' : 'due', ...(m.dueAt ? { dueAt: m.dueAt } : {}) }, now);
        return html`<li class="nhsuk-u-margin-bottom-3"><strong class="nhsuk-tag ${state.tag}">${state.words}</strong> <p class="nhsuk-u-margin-top-1 nhsuk-u-margin-bottom-1">${m.title ?? 'Monitoring'}${m.dueAt ? ` by ${timeOf(m.dueAt)}` : ''}</p></li>`;
      }),
    ];
    const waiting = [
      ...prompts.filter(isDosePrompt).map((p) => dosePromptCallout(person.id, p)),
      ...prompts.filter((p) => !isDosePrompt(p)).map(
        (p) => html`<div class="nhsuk-warning-callout nhsuk-u-margin-top-2 nhsuk-u-margin-bottom-3" data-prompt="${p.promptId}"><h3 class="nhsuk-warning-callout__label"><span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>${p.title ?? 'A prompt for you'}</span></h3>${p.steps?.length ? html`<ol>${p.steps.map((s) => html`<li>${s}</li>`)}</ol>` : ''}
          ${p.recheck?.dueAt && p.recheckStatus === 'pending' ? html`<p>Recheck the ${p.recheck.observation === 'glucose' ? 'blood glucose' : (p.recheck.observation ?? 'reading')} by ${timeOf(p.recheck.dueAt)} and record it.</p>` : ''}
          ${acknowledged.has(p.promptId) || p.acknowledgedBy ? html`<p><strong class="nhsuk-tag nhsuk-tag--green">Acknowledged</strong></p>` : html`<button class="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" type="button" data-acknowledge="${p.promptId}" data-patient="${person.id}">Acknowledge<span class="nhsuk-u-visually-hidden"> ${p.title ?? 'this prompt'}</span></button>`}</div>`,
      ),
      ...escalations.map(
        (e) => html`<div class="nhsuk-warning-callout nhsuk-u-margin-top-2 nhsuk-u-margin-bottom-3" data-escalation="${e.escalationId}"><h3 class="nhsuk-warning-callout__label"><span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>Escalation: ${e.urgency ?? 'open'}</span></h3><p>${e.advice ?? 'An escalation is open for this person.'}</p>
          ${acknowledged.has(e.escalationId) || e.status === 'acknowledged' ? html`<p><strong class="nhsuk-tag nhsuk-tag--green">Acknowledged</strong></p>` : html`<button class="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" type="button" data-acknowledge="${e.escalationId}" data-what="escalation" data-patient="${person.id}">Acknowledge<span class="nhsuk-u-visually-hidden"> the ${e.urgency ?? ''} escalation</span></button>`}</div>`,
      ),
    ];
    return html`<li class="nhsuk-card nhsuk-u-margin-bottom-4" data-person="${person.id}"><div class="nhsuk-card__content">
      ${personHeading(person)}
      ${waiting}
      ${due.length ? html`<h3 class="nhsuk-heading-s nhsuk-u-margin-bottom-2">Due today</h3><ul class="nhsuk-list">${due}</ul>` : html`<p class="nhsuk-body-s">Nothing delegated is due today.</p>`}
      ${visitsPanel(person, visitsOf.get(person.id) ?? [], now)}
      ${items
        .filter((i) => i.status !== 'done' && i.record?.some((r) => r.entry === 'InsulinAdministered') && instructionOf(i))
        .map(
          (i) => html`<a class="nhsuk-button nhsuk-u-margin-bottom-3" href="/people/${person.id}/insulin-administrations?delegation=${i.delegationId ?? ''}" data-link>Record insulin given<span class="nhsuk-u-visually-hidden"> for ${person.name}</span></a>
            <p class="nhsuk-u-margin-bottom-3"><a href="/people/${person.id}/insulin-withheld?delegation=${i.delegationId ?? ''}" data-link>Insulin not given<span class="nhsuk-u-visually-hidden"> for ${person.name}</span></a></p>`,
        )}
      ${items.some((i) => i.record?.some((r) => r.entry === 'BloodGlucoseRecorded')) ? html`<a class="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-3" href="/people/${person.id}/blood-glucose" data-link>Record blood glucose<span class="nhsuk-u-visually-hidden"> for ${person.name}</span></a>` : ''}
      <a class="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-3" href="/people/${person.id}/medicines" data-link>Medicines<span class="nhsuk-u-visually-hidden"> for ${person.name}</span></a>
      <a class="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-3" href="/people/${person.id}/vital-signs" data-link>Record vital signs<span class="nhsuk-u-visually-hidden"> for ${person.name}</span></a>
      <ul class="nhsuk-list nhsuk-u-margin-bottom-0">
        ${CHECK_FORMS.filter((f) => checkOffered(f, person, new Date())).map((f) => html`<li><a href="/people/${person.id}/${f.kind}" data-link>${f.link}<span class="nhsuk-u-visually-hidden"> for ${person.name}</span></a></li>`)}
        <li><a href="/people/${person.id}/notes" data-link>Write a note<span class="nhsuk-u-visually-hidden"> for ${person.name}</span></a></li>
        <li><a href="/people/${person.id}/record" data-link>Latest observations and doses<span class="nhsuk-u-visually-hidden"> for ${person.name}</span></a></li>
      </ul>
    </div></li>`;
  });
  show(
    'My day',
    html`<h1 class="nhsuk-u-margin-bottom-2">My day</h1>
      <p class="nhsuk-body-s">${dayOf(now.toISOString())}. Signed in as ${day.me.name}. <button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0" type="button" id="sign-out">Sign out</button></p>
      ${fromPhone ? html`<p class="nhsuk-body-s"><strong class="nhsuk-tag nhsuk-tag--grey">Kept on this phone</strong> As it was at ${timeOf(fetchedAt)}.</p>` : ''}
      <p class="nhsuk-body-s"><a href="/passport" data-link>My skills passport</a></p>
      ${(day.awaitingAnswer ?? []).map(
        (a) => html`<div class="nhsuk-card nhsuk-card--feature nhsuk-u-margin-bottom-4" data-awaiting="${a.delegationId}"><div class="nhsuk-card__content nhsuk-card__content--feature">
          <h2 class="nhsuk-card__heading nhsuk-card__heading--feature nhsuk-heading-m">A delegation for you to answer</h2>
          <p class="nhsuk-u-margin-bottom-1"><strong>${day.people.find((p) => p.id === a.patientId)?.name ?? 'A person you care for'}</strong>: ${a.instructionText ?? a.activityId ?? ''}</p>
          <a href="/delegations/${a.delegationId}/answer" data-link>Read it and answer<span class="nhsuk-u-visually-hidden"> (${day.people.find((p) => p.id === a.patientId)?.name ?? ''})</span></a>
        </div></div>`,
      )}
      ${day.people.length ? html`<ul class="nhsuk-list app-people">${cards}</ul>` : html`<p>Nobody is on your list today.</p>`}`,
  );
};

const draftId = (patientId: string) => `vital-signs:${patientId}`;

/** The event type that records each kind of entry: what a correction names (its replacement's type). */
const ENTRY_TYPES: Partial<Record<QueuedEntry['kind'], string>> = {
  'vital-signs': 'VitalSignsRecorded',
  'blood-glucose': 'BloodGlucoseRecorded',
  'soft-signs': 'SoftSignsRecorded',
  'urinary-symptoms': 'UrinarySymptomsScreened',
  'fluid-intake': 'FluidIntakeRecorded',
  'cellulitis-checks': 'CellulitisChecked',
  notes: 'NoteWritten',
  'insulin-administrations': 'InsulinAdministered',
  'insulin-withheld': 'InsulinWithheld',
};
/** Insulin is corrected by marking it entered in error and recording it again (its form depends on the delegation). */
const AMENDABLE: ReadonlySet<string> = new Set(['vital-signs', 'blood-glucose', 'soft-signs', 'urinary-symptoms', 'fluid-intake', 'cellulitis-checks', 'notes']);

/** The entry's id in the record: the id of the event that recorded it, from Tandem's answer. */
const entryIdOf = (entry: QueuedEntry): string | undefined => {
  const ids = entry.reply?.eventIds;
  const types = entry.reply?.eventTypes;
  if (!Array.isArray(ids) || !Array.isArray(types)) return undefined;
  const id: unknown = ids[types.indexOf(ENTRY_TYPES[entry.kind])];
  return typeof id === 'string' ? id : undefined;
};

/** The entry she is changing (the form opened from "Change it"), and the reason she has typed. */
let amending: QueuedEntry | undefined;
let amendReason = '';
document.addEventListener('input', (event) => {
  const target = event.target as HTMLTextAreaElement | null;
  if (amending && target?.id === 'reason') amendReason = target.value;
});
const keepDraft = (draft: Draft) => (amending ? Promise.resolve() : drafts.put(draft));

/** The form's values as she sent them, to change. */
const amendValues = (): Record<string, string> | undefined => {
  if (!amending) return undefined;
  const check = checkFormOf(amending.kind);
  if (check) return checkValuesOf(check, amending.body);
  return Object.fromEntries(
    Object.entries(amending.body)
      .filter(([k, v]) => k !== 'idempotencyKey' && k !== 'occurredAt' && (typeof v === 'number' || typeof v === 'string'))
      .map(([k, v]) => [k, String(v)]),
  );
};
const amendFields = (fields: readonly string[]): readonly string[] => (amending ? ['reason', ...fields] : fields);

const amendBlock = (errors: FieldErrors): Html =>
  amending
    ? html`<div class="nhsuk-inset-text"><span class="nhsuk-u-visually-hidden">Information: </span><p>You are changing what you recorded at ${timeOf(String(amending.body.occurredAt))}. The earlier version stays in the record, with your reason.</p></div>
      <div class="nhsuk-form-group${errors.reason ? ' nhsuk-form-group--error' : ''}">
        <label class="nhsuk-label nhsuk-label--s" for="reason">Why are you changing it?</label>
        <div class="nhsuk-hint" id="reason-hint">For example, the wrong number was typed</div>
        ${errorMessage('reason', errors)}
        <textarea class="nhsuk-textarea${errors.reason ? ' nhsuk-textarea--error' : ''}" id="reason" name="reason" rows="3" aria-describedby="reason-hint${errors.reason ? ' reason-error' : ''}">${amendReason}</textarea>
      </div>`
    : html``;

const personFor = async (patientId: string): Promise<Person | undefined> => {
  if (!lastDay && session) lastDay = (await fetchDay(session.token, session.userId).catch(() => undefined))?.day;
  return lastDay?.people.find((p) => p.id === patientId);
};

/** The values in the form, as typed (kept as a draft on every change). */
const formValues = (form: HTMLFormElement, fields: readonly string[] = VITALS_FIELDS): Record<string, string> => {
  const data = new FormData(form);
  const values: Record<string, string> = {};
  for (const name of fields) {
    const value = data.get(name);
    if (typeof value === 'string' && value !== '') values[name] = value;
  }
  return values;
};

const renderVitals = async (patientId: string, values?: Record<string, string>, errors: FieldErrors = {}, general: string[] = []) => {
  if (!session) return signInPage();
  const person = await personFor(patientId);
  if (!person) return show('Not found', html`<h1>Person not found</h1><p>This person is not on your list. <a href="/" data-link>Go back to my day</a></p>`);
  const kept = values ?? amendValues() ?? (await drafts.get(draftId(patientId)))?.values ?? {};
  const hasErrors = Object.keys(errors).length > 0 || general.length > 0;
  show(
    `${hasErrors ? 'Error: ' : ''}Vital signs for ${person.name}`,
    html`<div class="nhsuk-back-link"><a class="nhsuk-back-link__link" href="/" data-link>Back to my day</a></div>
      ${errorSummary(errors, general, amendFields(VITALS_FIELDS))}
      <h1><span class="nhsuk-caption-l">${person.name}</span>Vital signs</h1>
      <p class="nhsuk-body-s">Enter what you measured. The NEWS2 is worked out as you go; it stays incomplete until every part is in.</p>
      ${amendBlock(errors)}
      ${vitalsForm(kept, errors, person.spo2Scale)}`,
  );
  const form = document.getElementById('vital-signs-form') as HTMLFormElement;
  const panel = document.getElementById('news2')!;
  form.addEventListener('input', () => {
    const typed = formValues(form);
    panel.innerHTML = news2Panel(liveNews2(typed, person.spo2Scale)).value;
    void keepDraft({ id: draftId(patientId), values: typed, updatedAt: new Date().toISOString() });
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void saveVitals(person, formValues(form));
  });
  if (hasErrors) document.getElementById('error-summary')?.focus();
};

/**
 * Saving: the entry goes into the phone's queue first (with its idempotency key and the bedside
 * time), then is sent if there is signal. Refused at once: back to the form with the server's
 * words, linked to each field; nothing was stored, so the entry leaves the queue.
 */
const saveEntry = async (
  person: Person,
  kind: QueuedEntry['kind'],
  measurements: Record<string, unknown>,
  values: Record<string, string>,
  rerender: (values: Record<string, string>, errors: FieldErrors, general: string[], problem?: Problem) => Promise<void>,
  correction?: { readonly kind: 'entered-in-error'; readonly original: QueuedEntry; readonly reason: string },
) => {
  if (!session) return signInPage();
  const formPath = location.pathname + location.search;
  const idempotencyKey = uuid();
  const occurredAt = new Date().toISOString();
  // Changing her own entry: the same form, sent as an amendment of it with her reason (the earlier version stays).
  const amended = amending && amending.kind === kind && amending.patientId === person.id ? amending : undefined;
  if (amended && !amendReason.trim()) return rerender(values, { reason: 'Enter why you are changing it' }, []);
  const original = correction?.original ?? amended;
  const entryId = original ? entryIdOf(original) : undefined;
  const base = `/api/patients/${encodeURIComponent(person.id)}`;
  const entry: QueuedEntry = {
    idempotencyKey,
    owner: session.userId,
    patientId: person.id,
    patientName: person.name,
    kind: correction ? correction.kind : amended ? 'amendment' : kind,
    ...(original ? { corrects: original.idempotencyKey } : {}),
    path: correction ? `${base}/entries/${encodeURIComponent(entryId ?? '')}/entered-in-error` : amended ? `${base}/entries/${encodeURIComponent(entryId ?? '')}/amendments` : `${base}/${kind}`,
    body: correction
      ? { idempotencyKey, occurredAt, reason: correction.reason }
      : amended
        ? { idempotencyKey, occurredAt, reason: amendReason.trim(), replacement: { type: ENTRY_TYPES[kind], data: measurements } }
        : { idempotencyKey, occurredAt, ...measurements },
    savedAt: occurredAt,
    state: 'waiting',
    attempts: 0,
  };
  await Promise.all([queue.put(entry), original ? undefined : drafts.remove(`${kind}:${person.id}`), recordChanged(session.userId, person.id)]);
  // Kept on the phone from here: she sees it saved at once, and Tandem's answer when it comes.
  const savedPath = `/people/${person.id}/${kind}/saved`;
  const trying = !session.expired && navigator.onLine;
  history.pushState({}, '', savedPath);
  renderSaved(entry, trying ? 'sending' : 'waiting');
  if (!trying) {
    void renderStatus();
    return;
  }
  const outcome = await sendEntry(entry, session.token);
  const stillHere = location.pathname === savedPath;
  if (outcome === 'refused' && stillHere) {
    // Nothing was stored: back to the form with Tandem's words; a corrected entry is a new one, with a new key.
    await queue.remove(idempotencyKey);
    if (!original) await drafts.put({ id: `${kind}:${person.id}`, values, updatedAt: new Date().toISOString() });
    const fieldErrors: Record<string, string> = {};
    // An amendment's fields are the entry's own, inside replacement.data.
    for (const e of entry.problem?.errors ?? []) fieldErrors[e.field.replace(/^replacement\.data\./, '')] ??= e.message;
    history.replaceState({}, '', formPath);
    await renderStatus();
    return rerender(values, fieldErrors, entry.problem?.errors?.length ? [] : [entry.problem?.detail ?? entry.problem?.title ?? 'Tandem did not accept this entry'], entry.problem);
  }
  if (stillHere) renderSaved(entry, outcome === 'sent' ? 'sent' : 'waiting');
  void renderStatus();
  void sync();
};

const saveVitals = async (person: Person, values: Record<string, string>) => {
  const { measurements, errors } = measurementsOf(values);
  if (Object.keys(errors).length) return renderVitals(person.id, values, errors);
  if (Object.keys(measurements).length === 0) return renderVitals(person.id, values, { respirationRate: 'Enter at least one measurement' });
  await saveEntry(person, 'vital-signs', measurements, values, (v, e, g) => renderVitals(person.id, v, e, g));
};

const renderWithheld = async (patientId: string, values: Record<string, string> = {}, errors: FieldErrors = {}, general: string[] = []) => {
  if (!session) return signInPage();
  const person = await personFor(patientId);
  const delegationId = new URLSearchParams(location.search).get('delegation') ?? '';
  const item = lastDay?.items.find((i) => i.patientId === patientId && i.delegationId === delegationId && instructionOf(i));
  const instruction = item ? instructionOf(item) : undefined;
  if (!person || !instruction) return show('Not delegated', html`<h1>Insulin is not delegated to you for this person</h1><p><a href="/" data-link>Go back to my day</a></p>`);
  const hasErrors = Object.keys(errors).length > 0 || general.length > 0;
  show(
    `${hasErrors ? 'Error: ' : ''}Insulin not given for ${person.name}`,
    html`<div class="nhsuk-back-link"><a class="nhsuk-back-link__link" href="/" data-link>Back to my day</a></div>
      ${errorSummary(errors, general, ['reason'], 'entry-form')}
      <h1><span class="nhsuk-caption-l">${person.name}</span>Insulin not given</h1>
      ${withheldForm(instruction, values, errors)}`,
  );
  const form = document.getElementById('entry-form') as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const typed = formValues(form, ['reason']);
    const { fields, errors: typing } = withheldOf(instruction, typed);
    if (Object.keys(typing).length) return void renderWithheld(patientId, typed, typing);
    void saveEntry(person, 'insulin-withheld', fields, typed, (v, e, g) => renderWithheld(patientId, v, e, g));
  });
  if (hasErrors) document.getElementById('error-summary')?.focus();
};

/** A note in her own words: kept as a draft as she types, queued and sent like any entry. */
const renderNote = async (patientId: string, values?: Record<string, string>, errors: FieldErrors = {}, general: string[] = []) => {
  if (!session) return signInPage();
  const person = await personFor(patientId);
  if (!person) return show('Not found', html`<h1>Person not found</h1><p>This person is not on your list. <a href="/" data-link>Go back to my day</a></p>`);
  const kept = values ?? amendValues() ?? (await drafts.get(`notes:${patientId}`))?.values ?? {};
  const hasErrors = Object.keys(errors).length > 0 || general.length > 0;
  show(
    `${hasErrors ? 'Error: ' : ''}Note for ${person.name}`,
    html`<div class="nhsuk-back-link"><a class="nhsuk-back-link__link" href="/" data-link>Back to my day</a></div>
      ${errorSummary(errors, general, amendFields(['text']), 'entry-form')}
      <h1><span class="nhsuk-caption-l">${person.name}</span>Write a note</h1>
      ${amendBlock(errors)}
      <form id="entry-form" novalidate tabindex="-1">
        <div class="nhsuk-form-group${errors.text ? ' nhsuk-form-group--error' : ''}">
          <label class="nhsuk-label nhsuk-label--s" for="text">Note</label>
          <div class="nhsuk-hint" id="text-hint">What you saw, did or were told, in plain words</div>
          ${errors.text ? html`<span class="nhsuk-error-message" id="text-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${errors.text}</span>` : ''}
          <textarea class="nhsuk-textarea${errors.text ? ' nhsuk-textarea--error' : ''}" id="text" name="text" rows="6" aria-describedby="text-hint${errors.text ? ' text-error' : ''}">${kept.text ?? ''}</textarea>
        </div>
        <button class="nhsuk-button" type="submit">Save note</button>
      </form>`,
  );
  const form = document.getElementById('entry-form') as HTMLFormElement;
  form.addEventListener('input', () => void keepDraft({ id: `notes:${patientId}`, values: formValues(form, ['text']), updatedAt: new Date().toISOString() }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const typed = formValues(form, ['text']);
    const text = (typed.text ?? '').trim();
    if (!text) return void renderNote(patientId, typed, { text: 'Enter the note' });
    void saveEntry(person, 'notes', { text }, typed, (v, e, g) => renderNote(patientId, v, e, g));
  });
  if (hasErrors) document.getElementById('error-summary')?.focus();
};

/** Soft signs, the urinary screen, a drink, the cellulitis check: one form each, kept as a draft as she answers. */
const renderCheck = async (check: CheckForm, patientId: string, values?: Record<string, string>, errors: FieldErrors = {}, general: string[] = []) => {
  if (!session) return signInPage();
  const person = await personFor(patientId);
  if (!person) return show('Not found', html`<h1>Person not found</h1><p>This person is not on your list. <a href="/" data-link>Go back to my day</a></p>`);
  const draft = `${check.kind}:${patientId}`;
  const kept = values ?? amendValues() ?? (await drafts.get(draft))?.values ?? {};
  const hasErrors = Object.keys(errors).length > 0 || general.length > 0;
  show(
    `${hasErrors ? 'Error: ' : ''}${check.title} for ${person.name}`,
    html`<div class="nhsuk-back-link"><a class="nhsuk-back-link__link" href="/" data-link>Back to my day</a></div>
      ${errorSummary(errors, general, amendFields(checkErrorFields(check)), 'entry-form')}
      <h1><span class="nhsuk-caption-l">${person.name}</span>${check.title}</h1>
      ${check.intro ? html`<p class="nhsuk-body-s">${check.intro}</p>` : ''}
      ${amendBlock(errors)}
      ${checkFormHtml(check, kept, errors)}`,
  );
  const form = document.getElementById('entry-form') as HTMLFormElement;
  const names = checkFieldNames(check);
  form.addEventListener('input', () => void keepDraft({ id: draft, values: formValues(form, names), updatedAt: new Date().toISOString() }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const typed = formValues(form, names);
    const { fields, errors: typing } = checkOf(check, typed);
    if (Object.keys(typing).length) return void renderCheck(check, patientId, typed, typing);
    void saveEntry(person, check.kind, fields, typed, (v, e, g) => renderCheck(check, patientId, v, e, g));
  });
  if (hasErrors) document.getElementById('error-summary')?.focus();
};

/** The confirmations given for the dose on screen; a fresh form starts with none. */
let insulinConfirmed: Record<string, true> = {};

const renderInsulin = async (patientId: string, values: Record<string, string> = {}, errors: FieldErrors = {}, general: string[] = [], problem?: Problem) => {
  if (!session) return signInPage();
  const person = await personFor(patientId);
  const delegationId = new URLSearchParams(location.search).get('delegation') ?? '';
  const item = lastDay?.items.find((i) => i.patientId === patientId && i.delegationId === delegationId && instructionOf(i));
  const instruction = item ? instructionOf(item) : undefined;
  if (!person || !item || !instruction) return show('Not delegated', html`<h1>Insulin is not delegated to you for this person</h1><p>Only what you are delegated and signed off for is offered. <a href="/" data-link>Go back to my day</a></p>`);
  const confirmation = problem?.status === 409 && problem.code ? { code: problem.code, message: problem.errors?.[0]?.message ?? problem.detail ?? problem.title } : undefined;
  // A confirmation is asked for at the checkbox, with the server's words.
  const shown: Record<string, string> = confirmation ? { ...Object.fromEntries(Object.entries(errors).filter(([f]) => INSULIN_FIELD_NAMES.includes(f))), confirm: confirmation.message } : { ...errors };
  const hasErrors = Object.keys(shown).length > 0 || general.length > 0;
  show(
    `${hasErrors ? 'Error: ' : ''}Insulin for ${person.name}`,
    html`<div class="nhsuk-back-link"><a class="nhsuk-back-link__link" href="/" data-link>Back to my day</a></div>
      ${errorSummary(shown, confirmation ? [] : general, INSULIN_FIELD_NAMES, 'entry-form')}
      <h1><span class="nhsuk-caption-l">${person.name}</span>Insulin given</h1>
      ${item.instructionText ? html`<p class="nhsuk-body-s">${item.instructionText}</p>` : ''}
      ${item.doNotDo ? html`<div class="nhsuk-warning-callout"><h2 class="nhsuk-warning-callout__label"><span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>Do not give it now</span></h2><p>${item.doNotDo}</p></div>` : ''}
      ${insulinForm(instruction, values, shown, confirmation)}`,
  );
  const form = document.getElementById('entry-form') as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const typed = formValues(form, ['dose', 'site']);
    const { fields, errors: typing } = insulinOf(instruction, typed);
    const box = document.getElementById('confirm') as HTMLInputElement | null;
    if (box && !box.checked) typing.confirm = `${confirmation?.message ?? 'Confirm'}: tick the box to record it, or check the dose`;
    if (Object.keys(typing).length) return void renderInsulin(patientId, typed, typing, [], box ? problem : undefined);
    // Every confirmation she has given for this dose goes with it (a second 409 asks for the next).
    if (box?.checked && box.value) insulinConfirmed[box.value] = true;
    void saveEntry(person, 'insulin-administrations', { ...fields, ...(delegationId ? { delegationId } : {}), ...insulinConfirmed }, typed, (v, e, g, p) => renderInsulin(patientId, v, e, g, p));
  });
  if (hasErrors) document.getElementById('error-summary')?.focus();
};

const renderGlucose = async (patientId: string, values?: Record<string, string>, errors: FieldErrors = {}, general: string[] = []) => {
  if (!session) return signInPage();
  const person = await personFor(patientId);
  if (!person) return show('Not found', html`<h1>Person not found</h1><p>This person is not on your list. <a href="/" data-link>Go back to my day</a></p>`);
  const kept = values ?? amendValues() ?? (await drafts.get(`blood-glucose:${patientId}`))?.values ?? {};
  const hasErrors = Object.keys(errors).length > 0 || general.length > 0;
  show(
    `${hasErrors ? 'Error: ' : ''}Blood glucose for ${person.name}`,
    html`<div class="nhsuk-back-link"><a class="nhsuk-back-link__link" href="/" data-link>Back to my day</a></div>
      ${errorSummary(errors, general, amendFields(GLUCOSE_FIELD_NAMES), 'entry-form')}
      <h1><span class="nhsuk-caption-l">${person.name}</span>Blood glucose</h1>
      ${amendBlock(errors)}
      ${glucoseForm(kept, errors)}`,
  );
  const form = document.getElementById('entry-form') as HTMLFormElement;
  form.addEventListener('input', () => {
    const typed = formValues(form, GLUCOSE_FIELD_NAMES);
    document.getElementById('live-advice')!.innerHTML = glucosePanel(typed).value;
    void keepDraft({ id: `blood-glucose:${patientId}`, values: typed, updatedAt: new Date().toISOString() });
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const typed = formValues(form, GLUCOSE_FIELD_NAMES);
    const { measurements, errors: typing } = glucoseOf(typed);
    if (Object.keys(typing).length) return void renderGlucose(patientId, typed, typing);
    void saveEntry(person, 'blood-glucose', measurements, typed, (v, e, g) => renderGlucose(patientId, v, e, g));
  });
  if (hasErrors) document.getElementById('error-summary')?.focus();
};

/** The answer to an entry: what Tandem stored, the NEWS2 and what to do now (read defensively). */
const answerOf = (entry: QueuedEntry): Html => {
  const reply = entry.reply ?? {};
  const news2 = reply.news2 as { total?: number | null; band?: string; risk?: string } | undefined;
  const advice = Array.isArray(reply.advice) ? (reply.advice as { urgency?: string; text?: string }[]).filter((a) => typeof a.text === 'string') : [];
  const band = (news2?.band ?? news2?.risk) as keyof typeof BAND | undefined;
  const urgent = advice.filter((a) => a.urgency !== 'routine');
  const routine = advice.filter((a) => a.urgency === 'routine');
  const started = [...(Array.isArray(reply.promptIds) ? reply.promptIds : []), ...(Array.isArray(reply.escalationIds) ? reply.escalationIds : [])];
  return html`${news2 && band && BAND[band] ? html`<p id="server-news2"><strong class="nhsuk-tag ${BAND[band].tag}">NEWS2 ${news2.total ?? 'incomplete'}</strong> ${BAND[band].words}</p>` : ''}
    ${urgent.map((a) => html`<div class="nhsuk-warning-callout" data-urgency="${a.urgency ?? ''}"><h2 class="nhsuk-warning-callout__label"><span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>What to do now</span></h2><p>${a.text}</p></div>`)}
    ${routine.map((a) => html`<p>${a.text}</p>`)}
    ${started.length ? html`<p>Tandem has told the people who need to know (${started.length} ${started.length === 1 ? 'alert' : 'alerts'} started).</p>` : ''}`;
};

const KIND_WORDS: Readonly<Record<QueuedEntry['kind'], string>> = { 'vital-signs': 'Vital signs', 'blood-glucose': 'Blood glucose', 'insulin-administrations': 'Insulin given', 'insulin-withheld': 'Insulin not given', notes: 'Note', 'soft-signs': 'Soft signs', 'urinary-symptoms': 'Urinary screen', 'fluid-intake': 'Drink', 'cellulitis-checks': 'Cellulitis check', amendment: 'Change', 'entered-in-error': 'Entered in error', 'prompt-acknowledgement': 'Prompt acknowledged', 'escalation-acknowledgement': 'Escalation acknowledged' };

const renderSaved = (entry: QueuedEntry, state: 'sent' | 'sending' | 'waiting') => {
  const sent = state === 'sent';
  const title = entry.kind === 'entered-in-error' ? 'Marked as entered in error' : `${KIND_WORDS[entry.kind]} saved`;
  const typed = Object.fromEntries(Object.entries(entry.body).map(([k, v]) => [k, String(v)]));
  show(
    sent ? title : 'Saved on this phone',
    html`<h1>${sent ? title : 'Saved on this phone'}</h1>
      <p>${entry.patientName}, taken at ${timeOf(String(entry.body.occurredAt))}.</p>
      ${sent ? answerOf(entry) : html`<div class="nhsuk-inset-text" role="status"><span class="nhsuk-u-visually-hidden">Information: </span>${state === 'sending' ? html`<p><strong class="nhsuk-tag nhsuk-tag--blue">Sending</strong> Sending it to Tandem now.</p>` : html`<p><strong class="nhsuk-tag nhsuk-tag--grey">Waiting to send</strong> There is no signal (or your sign-in has ended). This entry is kept on the phone and sent, once, when it can be.</p>`}</div>${entry.kind === 'vital-signs' ? news2Panel(liveNews2(typed, lastDay?.people.find((p) => p.id === entry.patientId)?.spo2Scale ?? 1)) : entry.kind === 'blood-glucose' ? glucosePanel(typed) : ''}`}
      <a class="nhsuk-button" href="/" data-link>Back to my day</a>`,
  );
  focusMain();
};

const stateTag = (entry: QueuedEntry) =>
  entry.state === 'sent'
    ? html`<strong class="nhsuk-tag nhsuk-tag--green">Sent</strong>`
    : entry.state === 'refused'
      ? html`<strong class="nhsuk-tag nhsuk-tag--red">Not accepted</strong>`
      : html`<strong class="nhsuk-tag nhsuk-tag--grey">Waiting to send</strong>`;

/** A person's latest observations and insulin doses: read from Tandem, or as kept on the phone when there is no signal. */
const renderRecord = async (patientId: string) => {
  if (!session) return signInPage();
  const person = await personFor(patientId);
  if (!person) return show('Not found', html`<h1>Person not found</h1><p>This person is not on your list. <a href="/" data-link>Go back to my day</a></p>`);
  show(`Latest for ${person.name}`, html`<h1><span class="nhsuk-caption-l">${person.name}</span>Latest observations and doses</h1><p>Loading…</p>`);
  let result: Awaited<ReturnType<typeof fetchRecord>>;
  try {
    result = await fetchRecord(session.token, session.userId, patientId);
  } catch {
    return show(`Latest for ${person.name}`, html`<div class="nhsuk-back-link"><a class="nhsuk-back-link__link" href="/" data-link>Back to my day</a></div><h1><span class="nhsuk-caption-l">${person.name}</span>Latest observations and doses</h1><p>Nothing about this person is kept on this phone yet. Open it once with signal.</p>`);
  }
  const { record, fetchedAt, fromPhone } = result;
  const STATUS: Readonly<Record<string, string>> = { 'entered-in-error': 'Entered in error', amended: 'Changed', 'not-done': 'Not given' };
  show(
    `Latest for ${person.name}`,
    html`<div class="nhsuk-back-link"><a class="nhsuk-back-link__link" href="/" data-link>Back to my day</a></div>
      <h1><span class="nhsuk-caption-l">${person.name}</span>Latest observations and doses</h1>
      ${fromPhone ? html`<p class="nhsuk-body-s" id="record-kept"><strong class="nhsuk-tag nhsuk-tag--grey">Kept on this phone</strong> As it was at ${timeOf(fetchedAt)}: anything recorded since is not shown.</p>` : html`<p class="nhsuk-body-s">From Tandem at ${timeOf(fetchedAt)}.</p>`}
      ${record.lines.length
        ? html`<dl class="nhsuk-summary-list" id="record-lines">${record.lines.map(
            (line) => html`<div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">${line.what}${line.at ? html`<br><span class="nhsuk-body-s">${dayOf(line.at)}, ${timeOf(line.at)}</span>` : ''}</dt>
              <dd class="nhsuk-summary-list__value">${line.status && STATUS[line.status] ? html`<strong class="nhsuk-tag nhsuk-tag--grey">${STATUS[line.status]}</strong> ` : ''}${line.value}</dd></div>`,
          )}</dl>`
        : html`<p>Nothing recorded yet.</p>`}`,
  );
};

/** Marking her own entry entered in error, with the reason: it stays in the record, marked, never deleted. */
const renderEnteredInError = async (key: string, values: Record<string, string> = {}, errors: FieldErrors = {}, general: string[] = []) => {
  if (!session) return signInPage();
  const original = await queue.get(key);
  if (!original || original.owner !== session.userId || !entryIdOf(original)) return show('Not found', html`<h1>Entry not found</h1><p>Only an entry you recorded on this phone and Tandem stored can be marked here. <a href="/waiting" data-link>Go back to your entries</a></p>`);
  const hasErrors = Object.keys(errors).length > 0 || general.length > 0;
  show(
    `${hasErrors ? 'Error: ' : ''}Mark as entered in error`,
    html`<div class="nhsuk-back-link"><a class="nhsuk-back-link__link" href="/waiting" data-link>Back to your entries</a></div>
      ${errorSummary(errors, general, ['reason'], 'entry-form')}
      <h1><span class="nhsuk-caption-l">${original.patientName}</span>Mark as entered in error</h1>
      <p>${KIND_WORDS[original.kind]}, taken at ${timeOf(String(original.body.occurredAt))}.</p>
      <div class="nhsuk-inset-text"><span class="nhsuk-u-visually-hidden">Information: </span><p>It stays in the record, marked as entered in error with your reason, so nobody reads it as true.</p></div>
      <form id="entry-form" novalidate tabindex="-1">
        <div class="nhsuk-form-group${errors.reason ? ' nhsuk-form-group--error' : ''}">
          <label class="nhsuk-label nhsuk-label--s" for="reason">Why was it entered in error?</label>
          <div class="nhsuk-hint" id="reason-hint">For example, it was recorded for the wrong person</div>
          ${errorMessage('reason', errors)}
          <textarea class="nhsuk-textarea${errors.reason ? ' nhsuk-textarea--error' : ''}" id="reason" name="reason" rows="3" aria-describedby="reason-hint${errors.reason ? ' reason-error' : ''}">${values.reason ?? ''}</textarea>
        </div>
        <button class="nhsuk-button nhsuk-button--warning" type="submit">Mark as entered in error</button>
      </form>`,
  );
  const form = document.getElementById('entry-form') as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const typed = formValues(form, ['reason']);
    const reason = (typed.reason ?? '').trim();
    if (!reason) return void renderEnteredInError(key, typed, { reason: 'Enter why it was entered in error' });
    const person: Person = { id: original.patientId, name: original.patientName, spo2Scale: 1 };
    void saveEntry(person, original.kind, {}, typed, (v, e, g) => renderEnteredInError(key, v, e, g), { kind: 'entered-in-error', original, reason });
  });
  if (hasErrors) document.getElementById('error-summary')?.focus();
};

/** What she can do with an entry Tandem stored today: change it, or mark it entered in error (once). */
const correctionLinks = (e: QueuedEntry, all: readonly QueuedEntry[]): Html => {
  const corrections = all.filter((c) => c.corrects === e.idempotencyKey && c.state !== 'refused');
  const inError = corrections.some((c) => c.kind === 'entered-in-error');
  const changed = corrections.some((c) => c.kind === 'amendment');
  const today = dayOf(String(e.body.occurredAt)) === dayOf(new Date().toISOString());
  const which = html`<span class="nhsuk-u-visually-hidden"> (${KIND_WORDS[e.kind]} for ${e.patientName} at ${timeOf(String(e.body.occurredAt))})</span>`;
  return html`${inError ? html`<p class="nhsuk-u-margin-bottom-1"><strong class="nhsuk-tag nhsuk-tag--orange">Marked entered in error</strong></p>` : changed ? html`<p class="nhsuk-u-margin-bottom-1"><strong class="nhsuk-tag nhsuk-tag--blue">Changed</strong></p>` : ''}
    ${e.state === 'sent' && today && !inError && entryIdOf(e)
      ? html`<ul class="nhsuk-list nhsuk-u-margin-bottom-0">
          ${AMENDABLE.has(e.kind) ? html`<li><a href="/people/${e.patientId}/${e.kind}?amend=${e.idempotencyKey}" data-link>Change it${which}</a></li>` : ''}
          <li><a href="/entries/${e.idempotencyKey}/entered-in-error" data-link>Mark as entered in error${which}</a></li>
        </ul>`
      : ''}`;
};

const renderWaiting = async () => {
  if (!session) return signInPage();
  const entries = (await queue.all()).filter((e) => e.owner === session!.userId).reverse();
  show(
    'Entries on this phone',
    html`<div class="nhsuk-back-link"><a class="nhsuk-back-link__link" href="/" data-link>Back to my day</a></div>
      <h1>Entries on this phone</h1>
      ${entries.length === 0 ? html`<p>Nothing saved on this phone yet.</p>` : ''}
      <ul class="nhsuk-list" id="entries">${entries.map((e) => {
        const late = e.sentAt ? lateness(String(e.body.occurredAt), e.sentAt) : undefined;
        return html`<li class="nhsuk-card nhsuk-u-margin-bottom-3" data-entry="${e.idempotencyKey}" data-state="${e.state}"><div class="nhsuk-card__content">
          <p class="nhsuk-u-margin-bottom-1">${stateTag(e)} ${late ? html`<strong class="nhsuk-tag nhsuk-tag--yellow">Sent late</strong>` : ''}</p>
          <h2 class="nhsuk-heading-s nhsuk-u-margin-bottom-1">${KIND_WORDS[e.kind]}: ${e.patientName}</h2>
          <p class="nhsuk-body-s nhsuk-u-margin-bottom-1">Taken at ${timeOf(String(e.body.occurredAt))}${e.sentAt ? `, sent at ${timeOf(e.sentAt)}` : ''}${late ? ` (${late} after it was taken)` : ''}.</p>
          ${correctionLinks(e, entries)}
          ${e.state === 'refused' ? html`<div class="nhsuk-error-message"><span class="nhsuk-u-visually-hidden">Error:</span> ${e.problem?.title ?? 'Not accepted'}${e.problem?.errors?.length ? html`<ul>${e.problem.errors.map((x) => html`<li>${x.field}: ${x.message}</li>`)}</ul>` : e.problem?.detail ? `: ${e.problem.detail}` : ''}</div>` : ''}
        </div></li>`;
      })}</ul>`,
  );
};

const route = async () => {
  const path = location.pathname;
  const begunAt = address();
  await refreshSession();
  await renderStatus();
  const amendKey = new URLSearchParams(location.search).get('amend');
  const candidate = amendKey && session ? await queue.get(amendKey) : undefined;
  const nextAmending = candidate && candidate.owner === session?.userId && AMENDABLE.has(candidate.kind) && entryIdOf(candidate) ? candidate : undefined;
  if (nextAmending?.idempotencyKey !== amending?.idempotencyKey) amendReason = '';
  amending = nextAmending;
  // She moved on while the session was read: the newer route draws its own screen.
  if (address() !== begunAt) return;
  // The inspector (role auditor) reads only: her screens are hers alone, and no care-entry screen is reached (docs/decisions/0036).
  if (session && !session.expired && session.role === 'auditor') {
    const inspector = { token: session.token, userId: session.userId, show: showHere(), navigate, signedOut: async () => { await auth?.signOut(); session = undefined; signInPage(); } };
    await (await import('./inspector')).inspectorRoute(inspector, path, location.search);
    document.getElementById('sign-out')?.addEventListener('click', () => void auth?.signOut().then(() => navigate('/')));
    return;
  }
  const ctx = clinician();
  if (ctx && (await clinicianRoute(ctx, path))) {
    document.getElementById('sign-out')?.addEventListener('click', () => void auth?.signOut().then(() => { stopLive?.(); navigate('/'); }));
    return;
  }
  // Her answer to a delegation proposed to her, and her own skills passport (docs/decisions/0026).
  const answerPage = /^\/delegations\/([^/]+)\/answer$/.exec(path);
  if (session && !session.expired && (answerPage || path === '/passport')) {
    const own = { token: session.token, userId: session.userId, show: showHere(), navigate, signedOut: async () => { await auth?.signOut(); session = undefined; signInPage(); } };
    if (answerPage) await (await import('./delegation')).renderAnswer(own, decodeURIComponent(answerPage[1]!));
    else await (await import('./passport')).renderPassport({ ...own, home: { href: '/', words: 'Back to my day' } }, session.userId);
    return;
  }
  // A person's medicines (the MAR) and a visit's check-out (issue 13, docs/decisions/0027).
  const medicinesPage = /^\/people\/([^/]+)\/medicines(?:\/([^/]+))?$/.exec(path);
  const effectPage = /^\/people\/([^/]+)\/medicine-doses\/([^/]+)\/effect$/.exec(path);
  const checkOutPage = /^\/people\/([^/]+)\/visits\/([^/]+)\/check-out$/.exec(path);
  const own = ownContext();
  if (own && (medicinesPage || effectPage || checkOutPage)) {
    const patientId = decodeURIComponent((medicinesPage ?? effectPage ?? checkOutPage)![1]!);
    const person = await personFor(patientId);
    if (!person) return show('Not found', html`<h1>Person not found</h1><p>This person is not on your list. <a href="/" data-link>Go back to my day</a></p>`);
    const medicines = await import('./medicines');
    if (checkOutPage) await renderCheckOut(own, own.userId, person, decodeURIComponent(checkOutPage[2]!));
    else if (effectPage) await medicines.renderMedicineRoute(own, person, { doseId: decodeURIComponent(effectPage[2]!) });
    else if (medicinesPage![2]) await medicines.renderMedicineRoute(own, person, { orderId: decodeURIComponent(medicinesPage![2]), time: new URLSearchParams(location.search).get('time') ?? undefined });
    else await medicines.renderMedicines(own, person);
    return;
  }
  const recordPage = /^\/people\/([^/]+)\/record$/.exec(path);
  const correctionPage = /^\/entries\/([^/]+)\/entered-in-error$/.exec(path);
  const entryPage = /^\/people\/([^/]+)\/(vital-signs|blood-glucose|insulin-administrations|insulin-withheld|notes|soft-signs|urinary-symptoms|fluid-intake|cellulitis-checks)(\/saved)?$/.exec(path);
  if (entryPage) {
    if (entryPage[3]) return navigate('/');
    const patientId = decodeURIComponent(entryPage[1]!);
    await (entryPage[2] === 'blood-glucose' ? renderGlucose(patientId) : entryPage[2] === 'insulin-administrations' ? ((insulinConfirmed = {}), renderInsulin(patientId)) : entryPage[2] === 'insulin-withheld' ? renderWithheld(patientId) : entryPage[2] === 'notes' ? renderNote(patientId) : checkFormOf(entryPage[2]!) ? renderCheck(checkFormOf(entryPage[2]!)!, patientId) : renderVitals(patientId));
  } else if (recordPage) await renderRecord(decodeURIComponent(recordPage[1]!));
  else if (correctionPage) await renderEnteredInError(decodeURIComponent(correctionPage[1]!));
  else if (path === '/waiting') await renderWaiting();
  else await renderDay();
  document.getElementById('sign-in')?.addEventListener('click', () => void auth?.signIn(path));
  document.getElementById('sign-out')?.addEventListener('click', () => void auth?.signOut().then(() => navigate('/')));
};

const start = async () => {
  config = await loadAppConfig();
  if (!config) return show('Tandem', html`<h1>Tandem cannot be reached</h1><p>Open the app once with signal so it can be kept on this phone.</p>`);
  auth = createAuth(config);
  if (location.pathname === '/signin-callback') {
    try {
      const returnTo = await auth.completeSignIn();
      history.replaceState({}, '', returnTo);
    } catch (error) {
      history.replaceState({}, '', '/');
      show('Sign in', html`<h1>Sign-in did not finish</h1><p>${error instanceof Error ? error.message : 'Try again.'}</p><button class="nhsuk-button" type="button" id="sign-in">Sign in</button>`);
      document.getElementById('sign-in')?.addEventListener('click', () => void auth?.signIn('/'));
      return;
    }
  }
  await route();
  startLive();
  void sync();
  window.addEventListener('online', () => void sync().then(renderStatus));
  window.addEventListener('offline', () => void renderStatus());
  // Entries still waiting are tried again now and then while the app is open.
  setInterval(() => void sync(), 30_000);
  // What is addressed to her (prompts, escalations, what is due) appears without her reloading.
  setInterval(() => {
    if (location.pathname === '/' && session?.role !== 'auditor' && navigator.onLine && document.visibilityState === 'visible' && !document.activeElement?.closest('form')) void renderDay({ quiet: true });
  }, 60_000);
  if ('serviceWorker' in navigator && import.meta.env.PROD) void new Workbox('/sw.js').register();
};

void start();
