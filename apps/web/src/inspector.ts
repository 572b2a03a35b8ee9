import { indicatorById, type IndicatorId } from '@tandem/contracts';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { request, searchAllPages } from './api';
import { personFor, practitionerFor } from './directory';
import { html, type Html } from './html';
import { englandFieldValue, englandMonth, englandWhen, instantOfEnglandField, MONTH, monthBefore, monthBounds, monthWords, zoneWords } from './inspector-time';
import { recordLinesOf } from './record';
import { getJson, type StepContext } from './steps';
import { errorMessage, errorSummary, type FieldErrors } from './vitals';

/**
 * The inspector's screens (the `auditor` role, issue 15): the services she may inspect; a
 * service's indicators for a month with their charts over the months before; the entries behind a
 * figure; a person's record as it was known at a moment she chooses; the access trail; and the
 * printable mock-inspection report. Everything here reads: she records nothing, so no screen of
 * hers has a care-entry form. docs/decisions/0036-inspector-app.md
 */
export interface InspectorContext extends StepContext {
  readonly userId: string;
}

interface Figure {
  readonly id: IndicatorId;
  readonly title: string;
  readonly numerator: number;
  readonly denominator: number;
  readonly value: number | null;
  readonly medianMinutesToAcknowledge?: number | null;
  readonly numeratorText: string;
  readonly denominatorText: string;
  readonly entries: string;
}
interface Entry {
  readonly itemId: string;
  readonly patientId: string;
  readonly inNumerator: boolean;
  readonly minutes: number | null;
  readonly what: string;
  readonly at: string;
  readonly recordedBy: string;
}
interface VerifyAnswer {
  readonly ok: boolean;
  readonly checkedAt: string;
  readonly events: number;
  readonly streams: number;
  readonly findings: readonly { stream: string; detail: string }[];
  readonly digests: { readonly latest?: { sequence: number; upToPosition: number; eventCount: number; digest: string; sealedAt: string }; readonly unsealedEvents: number; readonly findings: readonly unknown[] };
}

/** How many months each indicator's chart goes back (the month chosen and the five before it). */
const CHART_MONTHS = 6;

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
/** A figure's numerator in words, as she would say it: "3 missed visits". */
const NUMERATOR_WORDS: Readonly<Record<IndicatorId, (n: number) => string>> = {
  'missed-visits': (n) => plural(n, 'missed visit', 'missed visits'),
  'short-visits': (n) => plural(n, 'visit shorter than planned', 'visits shorter than planned'),
  'scheduled-doses-on-time': (n) => plural(n, 'dose given on time', 'doses given on time'),
  'time-critical-doses-on-time': (n) => plural(n, 'time-critical dose given on time', 'time-critical doses given on time'),
  'news2-sets-complete': (n) => plural(n, 'complete NEWS2 set', 'complete NEWS2 sets'),
  'escalations-acknowledged-in-time': (n) => plural(n, 'escalation acknowledged in time', 'escalations acknowledged in time'),
  'late-entries': (n) => plural(n, 'entry recorded late', 'entries recorded late'),
};
const numeratorWords = (f: Pick<Figure, 'id' | 'numerator'>) => (NUMERATOR_WORDS[f.id] ?? ((n: number) => String(n)))(f.numerator);
const percent = (value: number | null) => (value === null ? 'nothing counted' : `${Math.round(value * 1000) / 10}%`);

const back = (href: string, words: string) => html`<div class="nhsuk-back-link app-no-print"><a class="nhsuk-back-link__link" href="${href}" data-link>${words}</a></div>`;
const enc = encodeURIComponent;

const organisationName = async (ctx: InspectorContext, organisationId: string) =>
  (await getJson<{ name?: string }>(ctx, `/fhir/Organization/${enc(organisationId)}`))?.name ?? organisationId;

const figuresOf = async (ctx: InspectorContext, organisationId: string, month: string): Promise<Figure[] | undefined> =>
  (await getJson<{ indicators: Figure[] }>(ctx, `/api/indicators?organisation=${enc(organisationId)}&period=${enc(month)}`))?.indicators;

const names = new Map<string, string>();
const personName = async (ctx: InspectorContext, patientId: string) => {
  if (!names.has(patientId)) names.set(patientId, (await personFor(ctx, patientId))?.name ?? patientId);
  return names.get(patientId)!;
};
const whoName = async (ctx: InspectorContext, userId: string) => (await practitionerFor(ctx, userId)).name;

// ---------------------------------------------------------------------------------------------
// Home: the services she may inspect.
// ---------------------------------------------------------------------------------------------

const TYPE_WORDS: Readonly<Record<string, string>> = { 'care-agency': 'Home-care provider', 'district-nursing-team': 'District nursing team', 'gp-practice': 'GP practice' };

export const renderServices = async (ctx: InspectorContext) => {
  ctx.show('Services you may inspect', html`<h1>Services you may inspect</h1><p>Loading…</p>`);
  const organisations = await searchAllPages('/fhir/Organization?_count=200', ctx.token).catch(() => []);
  const month = englandMonth(new Date());
  ctx.show(
    'Services you may inspect',
    html`<h1 class="nhsuk-u-margin-bottom-2">Services you may inspect</h1>
      <p class="nhsuk-body-s">Signed in as ${ctx.userId} (inspector: you read, you record nothing). <button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0" type="button" id="sign-out">Sign out</button></p>
      <p><a href="/access-trail" data-link>The access trail: who read or wrote what</a></p>
      ${organisations.length
        ? html`<ul class="nhsuk-list app-people" id="services">${organisations.map((o) => {
            const id = String(o.id);
            const type = ((o.type as { coding?: { code?: string }[] }[] | undefined)?.[0]?.coding?.[0]?.code) ?? '';
            return html`<li class="nhsuk-card nhsuk-u-margin-bottom-3" data-organisation="${id}"><div class="nhsuk-card__content">
              <h2 class="nhsuk-card__heading nhsuk-heading-s">${String(o.name ?? id)}</h2>
              <p class="nhsuk-body-s nhsuk-u-margin-bottom-2">${TYPE_WORDS[type] ?? type}</p>
              <a href="/services/${enc(id)}?period=${month}" data-link>Inspect ${String(o.name ?? id)}: ${monthWords(month)}</a>
            </div></li>`;
          })}</ul>`
        : html`<p>No service is registered yet.</p>`}`,
  );
};

// ---------------------------------------------------------------------------------------------
// A service's month: each figure, its drill-down link and its chart over the months before.
// ---------------------------------------------------------------------------------------------

const periodChooser = (organisationId: string, month: string, errors: FieldErrors) => {
  const now = englandMonth(new Date());
  const months = Array.from({ length: 24 }, (_, i) => monthBefore(now, i));
  return html`<form id="period-form" class="app-no-print" novalidate method="get" action="/services/${enc(organisationId)}">
    <div class="nhsuk-form-group${errors.period ? ' nhsuk-form-group--error' : ''}">
      <label class="nhsuk-label nhsuk-label--s" for="period">Month</label>
      ${errorMessage('period', errors)}
      <select class="nhsuk-select${errors.period ? ' nhsuk-select--error' : ''}" id="period" name="period"${errors.period ? html` aria-describedby="period-error"` : ''}>
        ${months.map((m) => html`<option value="${m}"${m === month ? ' selected' : ''}>${monthWords(m)}</option>`)}
      </select>
      <button class="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0 nhsuk-u-margin-left-2" type="submit">Show this month</button>
    </div>
    <p class="nhsuk-body-s"><a href="/services/${enc(organisationId)}?period=${monthBefore(month, 1)}" data-link>Previous month<span class="nhsuk-u-visually-hidden">: ${monthWords(monthBefore(month, 1))}</span></a>${month < now ? html` · <a href="/services/${enc(organisationId)}?period=${monthBefore(month, -1)}" data-link>Next month<span class="nhsuk-u-visually-hidden">: ${monthWords(monthBefore(month, -1))}</span></a>` : ''}</p>
  </form>`;
};

const drillHref = (organisationId: string, id: string, month: string, counted: 'numerator' | 'denominator') => `/services/${enc(organisationId)}/indicators/${enc(id)}?period=${month}&counted=${counted}`;

const figureCard = (organisationId: string, month: string, f: Figure, series: readonly (number | null)[], months: readonly string[]) => html`<section class="nhsuk-card nhsuk-u-margin-bottom-4" data-indicator="${f.id}"><div class="nhsuk-card__content">
    <h2 class="nhsuk-card__heading nhsuk-heading-s">${f.title}</h2>
    <p class="nhsuk-u-margin-bottom-1" data-figure><a href="${drillHref(organisationId, f.id, month, 'numerator')}" data-link>${numeratorWords(f)}</a> of ${f.denominator} counted: <strong>${percent(f.value)}</strong></p>
    <p class="nhsuk-body-s nhsuk-u-margin-bottom-1">Numerator: ${f.numeratorText}. Denominator: ${f.denominatorText}.</p>
    ${f.medianMinutesToAcknowledge !== undefined ? html`<p class="nhsuk-body-s nhsuk-u-margin-bottom-1" data-median>Median time to acknowledge: ${f.medianMinutesToAcknowledge === null ? 'none acknowledged' : `${f.medianMinutesToAcknowledge} minutes`}</p>` : ''}
    <p class="nhsuk-body-s nhsuk-u-margin-bottom-2"><a href="${drillHref(organisationId, f.id, month, 'denominator')}" data-link>All ${f.denominator} counted<span class="nhsuk-u-visually-hidden"> for ${f.title}</span></a></p>
    <div class="app-chart" role="img" data-chart="${f.id}" aria-label="${f.title}, per month, ${monthWords(months[0]!)} to ${monthWords(months[months.length - 1]!)}: ${months.map((m, i) => `${monthWords(m)} ${percent(series[i] ?? null)}`).join('; ')}"></div>
    <details class="nhsuk-details nhsuk-u-margin-bottom-0"><summary class="nhsuk-details__summary"><span class="nhsuk-details__summary-text">The figures by month<span class="nhsuk-u-visually-hidden"> for ${f.title}</span></span></summary>
      <div class="nhsuk-details__text"><ul class="nhsuk-list">${months.map((m, i) => html`<li>${monthWords(m)}: ${percent(series[i] ?? null)}</li>`)}</ul></div></details>
  </div></section>`;

const drawSeries = (element: HTMLElement, width: number, title: string, months: readonly string[], series: readonly (number | null)[]) => {
  const xs = months.map((m) => Date.parse(`${m}-15T12:00:00Z`) / 1000);
  const options: uPlot.Options = {
    width,
    height: 160,
    legend: { show: false },
    scales: { x: { time: true }, y: { range: [0, 100] } },
    axes: [{ values: (_u, splits) => splits.map((s) => new Intl.DateTimeFormat('en-GB', { month: 'short', timeZone: 'UTC' }).format(new Date(s * 1000))) }, { values: (_u, splits) => splits.map((s) => `${s}%`) }],
    series: [{}, { label: title, stroke: '#005eb8', width: 2, spanGaps: false, points: { show: true, size: 6, fill: '#005eb8' } }],
  };
  return new uPlot(options, [xs, series.map((v) => (v === null ? null : Math.round(v * 1000) / 10))] as uPlot.AlignedData, element);
};

export const renderService = async (ctx: InspectorContext, organisationId: string, periodAsked: string | null) => {
  const errors: FieldErrors = periodAsked !== null && !MONTH.test(periodAsked) ? { period: 'Choose a month, for example December 2026' } : {};
  const month = periodAsked && MONTH.test(periodAsked) ? periodAsked : englandMonth(new Date());
  ctx.show('Indicators', html`<h1>Indicators</h1><p>Loading…</p>`);
  const months = Array.from({ length: CHART_MONTHS }, (_, i) => monthBefore(month, CHART_MONTHS - 1 - i));
  // The API gives a month's figures; the chart's months are read alongside (docs/decisions/0036).
  const [name, ...byMonth] = await Promise.all([organisationName(ctx, organisationId), ...months.map((m) => figuresOf(ctx, organisationId, m))]);
  const figures = byMonth[byMonth.length - 1];
  const title = `${errors.period ? 'Error: ' : ''}${name}: ${monthWords(month)}`;
  if (!figures) return ctx.show(title, html`${back('/', 'Back to the services')}<h1>${name}</h1><p>The indicators could not be read: Tandem could not be reached, or you may not inspect this service.</p>`);
  ctx.show(
    title,
    html`${back('/', 'Back to the services')}
      ${errorSummary(errors, [], ['period'], 'period-form')}
      <h1><span class="nhsuk-caption-l">Inspection</span>${name}</h1>
      ${periodChooser(organisationId, month, errors)}
      <p id="period-shown">Indicators for <strong>${monthWords(month)}</strong>, each from the events recorded (none typed in). Each chart shows the month and the ${CHART_MONTHS - 1} before it.</p>
      <p><a class="nhsuk-button nhsuk-button--secondary" href="/services/${enc(organisationId)}/report?period=${month}" data-link>The mock-inspection report for ${monthWords(month)}</a></p>
      <div id="indicators">${figures.map((f) => figureCard(organisationId, month, f, byMonth.map((b) => b?.find((x) => x.id === f.id)?.value ?? null), months))}</div>`,
  );
  const width = Math.max(260, document.querySelector<HTMLElement>('[data-chart]')?.clientWidth || 300);
  for (const f of figures) {
    const element = document.querySelector<HTMLElement>(`[data-chart="${f.id}"]`);
    if (element) drawSeries(element, width, f.title, months, byMonth.map((b) => b?.find((x) => x.id === f.id)?.value ?? null));
  }
  // The month chosen moves within the app (no page load), as every link does.
  const form = document.getElementById('period-form') as HTMLFormElement | null;
  form?.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.navigate(`/services/${enc(organisationId)}?period=${enc((form.elements.namedItem('period') as HTMLSelectElement).value)}`);
  });
  if (errors.period) document.getElementById('error-summary')?.focus();
};

// ---------------------------------------------------------------------------------------------
// The entries behind a figure.
// ---------------------------------------------------------------------------------------------

const entriesOf = async (ctx: InspectorContext, organisationId: string, id: string, month: string, counted: 'numerator' | 'denominator') =>
  (await getJson<{ entries: Entry[] }>(ctx, `/api/indicators/${enc(id)}/entries?organisation=${enc(organisationId)}&period=${enc(month)}&counted=${counted}`))?.entries;

const asKnownHref = (patientId: string, at: string) => `/people/${enc(patientId)}/as-known?at=${enc(at)}`;

const entryRows = async (ctx: InspectorContext, entries: readonly Entry[]) =>
  Promise.all(
    entries.map(async (e) => {
      const [person, who] = await Promise.all([personName(ctx, e.patientId), whoName(ctx, e.recordedBy)]);
      return html`<tr class="nhsuk-table__row" data-entry="${e.itemId}"><td class="nhsuk-table__cell">${person}</td><td class="nhsuk-table__cell">${englandWhen(e.at)}</td>
        <td class="nhsuk-table__cell">${e.what}${e.minutes !== null ? html`<br><span class="nhsuk-body-s">${e.minutes} minutes</span>` : ''}</td><td class="nhsuk-table__cell">${who}</td>
        <td class="nhsuk-table__cell app-no-print"><a href="${asKnownHref(e.patientId, e.at)}" data-link>${person}'s record as it was then<span class="nhsuk-u-visually-hidden"> (${englandWhen(e.at)})</span></a></td></tr>`;
    }),
  );

const entriesTable = (caption: string, rows: readonly Html[], id = 'entries') => html`<div class="app-table-scroll"><table class="nhsuk-table" id="${id}">
    <caption class="nhsuk-table__caption">${caption}</caption>
    <thead class="nhsuk-table__head"><tr class="nhsuk-table__row"><th scope="col" class="nhsuk-table__header">Person</th><th scope="col" class="nhsuk-table__header">When (England)</th><th scope="col" class="nhsuk-table__header">What</th><th scope="col" class="nhsuk-table__header">Recorded by</th><th scope="col" class="nhsuk-table__header app-no-print">Record</th></tr></thead>
    <tbody class="nhsuk-table__body">${rows}</tbody></table></div>`;

export const renderEntries = async (ctx: InspectorContext, organisationId: string, id: string, monthAsked: string | null, countedAsked: string | null) => {
  const definition = indicatorById(id);
  const month = monthAsked && MONTH.test(monthAsked) ? monthAsked : englandMonth(new Date());
  const counted = countedAsked === 'denominator' ? 'denominator' : 'numerator';
  const home = back(`/services/${enc(organisationId)}?period=${month}`, 'Back to the indicators');
  if (!definition) return ctx.show('Indicator not found', html`${home}<h1>There is no such indicator</h1>`);
  ctx.show(definition.title, html`${home}<h1>${definition.title}</h1><p>Loading…</p>`);
  const [name, figures, entries] = await Promise.all([organisationName(ctx, organisationId), figuresOf(ctx, organisationId, month), entriesOf(ctx, organisationId, id, month, counted)]);
  const figure = figures?.find((f) => f.id === id);
  if (!figure || !entries) return ctx.show(definition.title, html`${home}<h1>${definition.title}</h1><p>The entries could not be read: Tandem could not be reached, or you may not inspect this service.</p>`);
  const heading = counted === 'numerator' ? numeratorWords(figure) : `All ${figure.denominator} counted: ${definition.title.toLowerCase()}`;
  const rows = await entryRows(ctx, entries);
  ctx.show(
    `${heading} - ${name}`,
    html`${home}
      <h1><span class="nhsuk-caption-l">${name}, ${monthWords(month)}</span>${heading}</h1>
      <p>${counted === 'numerator' ? `Counted: ${definition.numerator}.` : `Counted: ${definition.denominator}.`} Each entry with the person, when (England's time), and who recorded it.</p>
      ${entries.length ? entriesTable(`${heading}, oldest first`, rows) : html`<p id="no-entries">Nothing was counted.</p>`}`,
  );
};

// ---------------------------------------------------------------------------------------------
// The audit verify result, and a person's record as it was known at a moment.
// ---------------------------------------------------------------------------------------------

const readVerify = async (ctx: InspectorContext): Promise<VerifyAnswer | undefined> => getJson<VerifyAnswer>(ctx, '/api/audit/verify');

const verifyPanel = (v: VerifyAnswer | undefined) =>
  v
    ? html`<section id="verify" data-verify="${v.ok ? 'intact' : 'broken'}" class="nhsuk-u-margin-bottom-4"><h2 class="nhsuk-heading-m">The record's integrity (audit verify)</h2>
        <p>${v.ok ? html`<strong class="nhsuk-tag nhsuk-tag--green">Chain intact</strong>` : html`<strong class="nhsuk-tag nhsuk-tag--red">Chain broken</strong>`} Checked ${englandWhen(v.checkedAt)}: ${v.events} events in ${v.streams} streams${v.ok ? ', every hash chain and sealed digest as recorded.' : html`; ${v.findings.length + v.digests.findings.length} findings: ${v.findings.slice(0, 5).map((f) => `${f.stream}: ${f.detail}`).join('; ')}`}</p>
        ${v.digests.latest
          ? html`<p class="nhsuk-body-s" id="verify-digest">Latest sealed digest: number ${v.digests.latest.sequence}, covering ${v.digests.latest.eventCount} events to position ${v.digests.latest.upToPosition}, sealed ${englandWhen(v.digests.latest.sealedAt)}. SHA-256: <code class="app-digest">${v.digests.latest.digest}</code>${v.digests.unsealedEvents ? `. ${v.digests.unsealedEvents} events since are checked by their streams' chains until the next seal.` : ''}</p>`
          : html`<p class="nhsuk-body-s" id="verify-digest">No digest has been sealed yet: the streams' hash chains were checked.</p>`}
      </section>`
    : html`<section id="verify" data-verify="unknown"><h2 class="nhsuk-heading-m">The record's integrity (audit verify)</h2><p><strong class="nhsuk-tag nhsuk-tag--grey">Not checked</strong> Tandem did not answer the check.</p></section>`;

type Resource = Record<string, unknown>;

/** What the record held about the person then: observations as the care worker's record shows them, doses, notes and the rest by type. */
const asKnownLines = (resources: readonly Resource[]) => {
  const bundle = { entry: resources.map((resource) => ({ resource })) };
  const observations = recordLinesOf(bundle, {});
  const doses = resources
    .filter((r) => r.resourceType === 'MedicationAdministration')
    .map((d) => {
      const medicine = d.medicationCodeableConcept as { text?: string; coding?: { display?: string }[] } | undefined;
      const dose = (d.dosage as { dose?: { value?: number; unit?: string } } | undefined)?.dose;
      return { what: `Dose: ${medicine?.text ?? medicine?.coding?.[0]?.display ?? 'a medicine'}`, value: d.status === 'not-done' ? 'Not given' : dose?.value !== undefined ? `${dose.value} ${dose.unit ?? ''}`.trim() : 'Given', ...(typeof d.effectiveDateTime === 'string' ? { at: d.effectiveDateTime } : {}) };
    });
  return [...observations, ...doses].sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));
};

const SLIDER_STEP_MINUTES = 15;

export const renderAsKnown = async (ctx: InspectorContext, patientId: string, atAsked: string | null, typed?: string, fieldErrors: FieldErrors = {}) => {
  const now = new Date();
  const at = atAsked && !Number.isNaN(Date.parse(atAsked)) && Date.parse(atAsked) <= now.getTime() ? new Date(atAsked).toISOString() : undefined;
  const errors: FieldErrors = { ...(atAsked !== null && !at && !fieldErrors.at ? { at: 'Enter a date and time that has passed, for example 1 December 2026 12:00' } : {}), ...fieldErrors };
  const home = back('/', 'Back to the services');
  ctx.show('A record as it was known', html`${home}<h1>A record as it was known</h1><p>Loading…</p>`);
  const name = await personName(ctx, patientId);
  const shown = at ?? now.toISOString();
  const month = englandMonth(new Date(shown));
  const { start } = monthBounds(month);
  const stepMs = SLIDER_STEP_MINUTES * 60_000;
  const steps = Math.max(1, Math.floor((Math.min(now.getTime(), Date.parse(monthBounds(month).end)) - Date.parse(start)) / stepMs));
  const position = Math.min(steps, Math.max(0, Math.round((Date.parse(shown) - Date.parse(start)) / stepMs)));
  const [resources, verify] = await Promise.all([
    at ? searchAllPages(`/fhir/Patient/${enc(patientId)}/$everything?_at=${enc(at)}&_count=500`, ctx.token, {}, 10).catch(() => undefined) : Promise.resolve([]),
    readVerify(ctx),
  ]);
  const hasErrors = Object.keys(errors).length > 0;
  const lines = resources ? asKnownLines(resources) : [];
  ctx.show(
    `${hasErrors ? 'Error: ' : ''}${name}'s record as it was known`,
    html`${home}
      ${errorSummary(errors, [], ['at'], 'as-known-form')}
      <h1><span class="nhsuk-caption-l">${name}</span>The record as it was known at a moment</h1>
      <form id="as-known-form" novalidate tabindex="-1">
        <div class="nhsuk-form-group">
          <label class="nhsuk-label nhsuk-label--s" for="moment">Move through ${monthWords(month)}</label>
          <div class="nhsuk-hint" id="moment-hint">Each step is ${SLIDER_STEP_MINUTES} minutes; the exact date and time below follows it</div>
          <input class="app-slider" type="range" id="moment" name="moment" min="0" max="${steps}" step="1" value="${position}" aria-describedby="moment-hint" aria-valuetext="${englandWhen(new Date(Date.parse(start) + position * stepMs).toISOString())}" data-start="${start}" data-step="${stepMs}">
        </div>
        <div class="nhsuk-form-group${errors.at ? ' nhsuk-form-group--error' : ''}">
          <label class="nhsuk-label nhsuk-label--s" for="at">Exact date and time, in England (${zoneWords(shown)})</label>
          <div class="nhsuk-hint" id="at-hint">For example, 1 December 2026 at 12:00. England's clock: GMT in winter, BST (UTC+01:00) in summer</div>
          ${errorMessage('at', errors)}
          <input class="nhsuk-input nhsuk-input--width-20${errors.at ? ' nhsuk-input--error' : ''}" type="datetime-local" id="at" name="at" value="${typed ?? (at ? englandFieldValue(at) : '')}" aria-describedby="at-hint${errors.at ? ' at-error' : ''}">
        </div>
        <button class="nhsuk-button" type="submit">Show the record as it was then</button>
      </form>
      ${at && resources
        ? html`<div class="nhsuk-warning-callout" id="as-known-banner" data-as-known="${at}">
            <h2 class="nhsuk-warning-callout__label"><span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>Not the current record</span></h2>
            <p>As it was known at <strong>${englandWhen(at)}</strong> (${at.replace('.000Z', 'Z')} UTC). Anything recorded after that moment, even about earlier care, is not shown.</p>
          </div>
          <h2 class="nhsuk-heading-m">What the record held then</h2>
          ${lines.length
            ? html`<dl class="nhsuk-summary-list" id="as-known-lines">${lines.map(
                (l) => html`<div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">${l.what}${l.at ? html`<br><span class="nhsuk-body-s">${englandWhen(l.at)}</span>` : ''}</dt><dd class="nhsuk-summary-list__value">${l.value}</dd></div>`,
              )}</dl>`
            : html`<p id="as-known-lines">Nothing about ${name}'s care had been recorded by then.</p>`}
          <p class="nhsuk-body-s">${resources.length} resources in the record then (${[...new Set(resources.map((r) => String(r.resourceType)))].join(', ')}).</p>`
        : at
          ? html`<p>The record as it was then could not be read: Tandem could not be reached.</p>`
          : html`<p id="as-known-none">Choose a moment to see ${name}'s record as it was known then.</p>`}
      ${verifyPanel(verify)}`,
  );
  const slider = document.getElementById('moment') as HTMLInputElement | null;
  const field = document.getElementById('at') as HTMLInputElement | null;
  slider?.addEventListener('input', () => {
    const instant = new Date(Date.parse(slider.dataset.start!) + Number(slider.value) * Number(slider.dataset.step)).toISOString();
    slider.setAttribute('aria-valuetext', englandWhen(instant));
    if (field) field.value = englandFieldValue(instant);
  });
  document.getElementById('as-known-form')?.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = field?.value ?? '';
    const instant = instantOfEnglandField(value);
    if (!instant) return void renderAsKnown(ctx, patientId, at ?? null, value, { at: value.trim() ? 'Enter a real date and time, for example 1 December 2026 12:00' : 'Enter the date and time to see the record as it was then' });
    if (Date.parse(instant) > Date.now()) return void renderAsKnown(ctx, patientId, at ?? null, value, { at: 'The date and time must be in the past: the record is not yet known after now' });
    ctx.navigate(asKnownHref(patientId, instant));
  });
  if (hasErrors) document.getElementById('error-summary')?.focus();
};

// ---------------------------------------------------------------------------------------------
// The access trail, with its filters, paged.
// ---------------------------------------------------------------------------------------------

const ROLES = ['care-worker', 'district-nurse', 'gp', 'registered-manager', 'auditor', 'system'] as const;
const OUTCOMES = ['success', 'denied', 'unauthenticated', 'throttled', 'refused', 'failed'] as const;
const TRAIL_FIELDS = ['patient', 'user', 'role', 'outcome', 'from', 'to'] as const;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const PAGE = 20;

export const renderTrail = async (ctx: InspectorContext, query: URLSearchParams) => {
  const asked = Object.fromEntries(TRAIL_FIELDS.map((f) => [f, (query.get(f) ?? '').trim()])) as Record<(typeof TRAIL_FIELDS)[number], string>;
  const errors: Record<string, string> = {};
  if (asked.role && !(ROLES as readonly string[]).includes(asked.role)) errors.role = 'Choose a role from the list';
  if (asked.outcome && !(OUTCOMES as readonly string[]).includes(asked.outcome)) errors.outcome = 'Choose an outcome from the list';
  if (asked.from && !DAY.test(asked.from)) errors.from = 'The first day must be a real date, for example 2026-12-01';
  if (asked.to && !DAY.test(asked.to)) errors.to = 'The last day must be a real date, for example 2026-12-31';
  if (!errors.from && !errors.to && asked.from && asked.to && asked.from > asked.to) errors.to = 'The last day must be the same as or after the first day';
  ctx.show('The access trail', html`${back('/', 'Back to the services')}<h1>The access trail</h1><p>Loading…</p>`);
  const people = (await searchAllPages('/fhir/Patient?_count=500', ctx.token).catch(() => [])).map((p) => ({ id: String(p.id), name: (p.name as { given?: string[]; family?: string; prefix?: string[] }[] | undefined)?.map((n) => [...(n.prefix ?? []), ...(n.given ?? []), n.family].filter(Boolean).join(' '))[0] ?? String(p.id) }));
  const search = new URLSearchParams({ _count: String(PAGE) });
  if (asked.patient) search.set('patient', `Patient/${asked.patient}`);
  if (asked.user) search.set('altid', asked.user);
  if (asked.role) search.set('role', asked.role);
  if (asked.outcome) search.set('outcome', asked.outcome);
  // Days are England's days: the bounds are England's midnights, sent as instants.
  if (asked.from && !errors.from) search.append('date', `ge${monthBoundsOfDay(asked.from).start}`);
  if (asked.to && !errors.to) search.append('date', `lt${monthBoundsOfDay(asked.to).end}`);
  const cursor = query.get('cursor');
  if (cursor) search.set('_cursor', cursor);
  let rows: Resource[] = [];
  let next: string | undefined;
  const general: string[] = [];
  if (Object.keys(errors).length === 0) {
    const response = await request(`/fhir/AuditEvent?${search.toString()}`, ctx.token).catch(() => undefined);
    if (response?.status === 401) return ctx.signedOut();
    if (response?.ok) {
      const bundle = (await response.json()) as { entry?: { resource: Resource }[]; link?: { relation: string; url: string }[] };
      rows = (bundle.entry ?? []).map((e) => e.resource);
      const nextUrl = bundle.link?.find((l) => l.relation === 'next')?.url;
      next = nextUrl ? (new URL(nextUrl, location.origin).searchParams.get('_cursor') ?? undefined) : undefined;
    } else if (response) {
      const outcome = (await response.json().catch(() => ({}))) as { issue?: { diagnostics?: string }[] };
      general.push(...(outcome.issue ?? []).map((i) => i.diagnostics ?? 'Tandem refused the search'));
    } else general.push('Tandem could not be reached. Try again shortly.');
  }
  const hasErrors = Object.keys(errors).length > 0 || general.length > 0;
  const filters = new URLSearchParams(Object.entries(asked).filter(([, v]) => v));
  const nameOfPerson = (ref: string) => people.find((p) => `Patient/${p.id}` === ref)?.name ?? ref;
  const select = (field: string, label: string, options: readonly { value: string; label: string }[]) => html`<div class="nhsuk-form-group${errors[field] ? ' nhsuk-form-group--error' : ''}">
      <label class="nhsuk-label" for="${field}">${label}</label>${errorMessage(field, errors)}
      <select class="nhsuk-select${errors[field] ? ' nhsuk-select--error' : ''}" id="${field}" name="${field}"${errors[field] ? html` aria-describedby="${field}-error"` : ''}><option value="">Any</option>${options.map((o) => html`<option value="${o.value}"${asked[field as keyof typeof asked] === o.value ? ' selected' : ''}>${o.label}</option>`)}</select></div>`;
  const input = (field: string, label: string, type: string, hint: string) => html`<div class="nhsuk-form-group${errors[field] ? ' nhsuk-form-group--error' : ''}">
      <label class="nhsuk-label" for="${field}">${label}</label><div class="nhsuk-hint" id="${field}-hint">${hint}</div>${errorMessage(field, errors)}
      <input class="nhsuk-input nhsuk-input--width-20${errors[field] ? ' nhsuk-input--error' : ''}" type="${type}" id="${field}" name="${field}" value="${asked[field as keyof typeof asked]}" aria-describedby="${field}-hint${errors[field] ? ` ${field}-error` : ''}"></div>`;
  ctx.show(
    `${hasErrors ? 'Error: ' : ''}The access trail`,
    html`${back('/', 'Back to the services')}
      ${errorSummary(errors, general, TRAIL_FIELDS, 'trail-form')}
      <h1>The access trail</h1>
      <p>Every request made to Tandem: who, with what role, about whom, and what came of it. Newest first, ${PAGE} at a time.</p>
      <form id="trail-form" method="get" action="/access-trail" novalidate>
        ${select('patient', 'Person', people.map((p) => ({ value: p.id, label: p.name })))}
        ${input('user', 'User', 'text', 'Their user id, for example cw-amira-hassan')}
        ${select('role', 'Role', ROLES.map((r) => ({ value: r, label: r })))}
        ${select('outcome', 'Outcome', OUTCOMES.map((o) => ({ value: o, label: o })))}
        ${input('from', 'From (England)', 'date', 'The first day, included')}
        ${input('to', 'To (England)', 'date', 'The last day, included')}
        <button class="nhsuk-button" type="submit">Show the accesses</button>
      </form>
      ${hasErrors
        ? ''
        : rows.length
          ? html`<div class="app-table-scroll"><table class="nhsuk-table" id="trail">
              <caption class="nhsuk-table__caption">Accesses${cursor ? ' (a later page)' : ''}</caption>
              <thead class="nhsuk-table__head"><tr class="nhsuk-table__row"><th scope="col" class="nhsuk-table__header">When (England)</th><th scope="col" class="nhsuk-table__header">Who</th><th scope="col" class="nhsuk-table__header">About</th><th scope="col" class="nhsuk-table__header">What</th><th scope="col" class="nhsuk-table__header">Outcome</th></tr></thead>
              <tbody class="nhsuk-table__body">${rows.map((r) => {
                const agent = (r.agent as { altId?: string; name?: string; role?: { coding?: { code?: string }[] }[] }[] | undefined)?.[0];
                const entities = (r.entity as { what?: { reference?: string }; description?: string }[] | undefined) ?? [];
                const about = entities.map((e) => e.what?.reference).filter((ref): ref is string => Boolean(ref?.startsWith('Patient/')));
                return html`<tr class="nhsuk-table__row" data-access="${String(r.id)}"><td class="nhsuk-table__cell">${typeof r.recorded === 'string' ? englandWhen(r.recorded) : ''}</td>
                  <td class="nhsuk-table__cell">${agent?.altId ?? agent?.name ?? 'unverified caller'}${agent?.role?.[0]?.coding?.[0]?.code ? html`<br><span class="nhsuk-body-s" data-role>${agent.role[0].coding[0].code}</span>` : ''}</td>
                  <td class="nhsuk-table__cell">${about.map(nameOfPerson).join(', ')}</td>
                  <td class="nhsuk-table__cell">${entities.find((e) => e.description)?.description ?? ''}</td>
                  <td class="nhsuk-table__cell" data-outcome>${String(r.outcomeDesc ?? r.outcome ?? '')}</td></tr>`;
              })}</tbody></table></div>
            ${next ? html`<p><a href="/access-trail?${new URLSearchParams([...filters, ['cursor', next]]).toString()}" data-link id="trail-next">Next ${PAGE} accesses</a></p>` : ''}
            ${cursor ? html`<p><a href="/access-trail?${filters.toString()}" data-link>Back to the newest</a></p>` : ''}`
          : html`<p id="trail-none">No access matches these filters.</p>`}`,
  );
  // The filters move within the app (no page load), as every link does.
  const form = document.getElementById('trail-form') as HTMLFormElement | null;
  form?.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = new URLSearchParams();
    for (const f of TRAIL_FIELDS) {
      const value = ((form.elements.namedItem(f) as HTMLInputElement | HTMLSelectElement | null)?.value ?? '').trim();
      if (value) chosen.set(f, value);
    }
    ctx.navigate(`/access-trail${chosen.size ? `?${chosen.toString()}` : ''}`);
  });
  if (hasErrors) document.getElementById('error-summary')?.focus();
};

/** An England day's first instant and the next day's. */
const monthBoundsOfDay = (day: string) => {
  const next = new Date(`${day}T12:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return { start: instantOfEnglandField(`${day}T00:00`) ?? `${day}T00:00:00Z`, end: instantOfEnglandField(`${next.toISOString().slice(0, 10)}T00:00`) ?? `${day}T23:59:59Z` };
};

// ---------------------------------------------------------------------------------------------
// The mock-inspection report: one printable page.
// ---------------------------------------------------------------------------------------------

/** How many entries of each figure the report lists: the worst, those that count against the service. */
const WORST = 5;

export const renderReport = async (ctx: InspectorContext, organisationId: string, monthAsked: string | null) => {
  const month = monthAsked && MONTH.test(monthAsked) ? monthAsked : englandMonth(new Date());
  const home = back(`/services/${enc(organisationId)}?period=${month}`, 'Back to the indicators');
  ctx.show('Mock-inspection report', html`${home}<h1>Mock-inspection report</h1><p>Loading…</p>`);
  const [name, figures, verify] = await Promise.all([organisationName(ctx, organisationId), figuresOf(ctx, organisationId, month), readVerify(ctx)]);
  if (!figures) return ctx.show('Mock-inspection report', html`${home}<h1>Mock-inspection report</h1><p>The indicators could not be read: Tandem could not be reached, or you may not inspect this service.</p>`);
  // The entries that count against the service: the numerator where lower is better, the rest of the denominator where higher is.
  const worst = await Promise.all(
    figures.map(async (f) => {
      const higherIsBetter = indicatorById(f.id)?.higherIsBetter ?? true;
      const entries = (await entriesOf(ctx, organisationId, f.id, month, higherIsBetter ? 'denominator' : 'numerator')) ?? [];
      return (higherIsBetter ? entries.filter((e) => !e.inNumerator) : entries).slice(0, WORST);
    }),
  );
  const worstRows = await Promise.all(worst.map((entries) => entryRows(ctx, entries)));
  const madeAt = new Date().toISOString();
  ctx.show(
    `Mock-inspection report: ${name}, ${monthWords(month)}`,
    html`${home}
      <article class="app-report" id="report">
      <h1><span class="nhsuk-caption-l">Mock-inspection report</span>${name}</h1>
      <dl class="nhsuk-summary-list" id="report-facts">
        <div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">Service</dt><dd class="nhsuk-summary-list__value">${name} (${organisationId})</dd></div>
        <div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">Period</dt><dd class="nhsuk-summary-list__value">${monthWords(month)}</dd></div>
        <div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">Made</dt><dd class="nhsuk-summary-list__value" id="report-made">${englandWhen(madeAt)}, by ${ctx.userId}</dd></div>
      </dl>
      <button class="nhsuk-button app-no-print" type="button" id="print-report">Print the report</button>
      <h2 class="nhsuk-heading-m">The indicators</h2>
      <div class="app-table-scroll"><table class="nhsuk-table" id="report-indicators">
        <caption class="nhsuk-table__caption">Every indicator for ${monthWords(month)}, computed from the events recorded</caption>
        <thead class="nhsuk-table__head"><tr class="nhsuk-table__row"><th scope="col" class="nhsuk-table__header">Indicator</th><th scope="col" class="nhsuk-table__header">Figure</th><th scope="col" class="nhsuk-table__header">Target and notes</th></tr></thead>
        <tbody class="nhsuk-table__body">${figures.map((f) => {
          const d = indicatorById(f.id);
          return html`<tr class="nhsuk-table__row" data-indicator="${f.id}"><th scope="row" class="nhsuk-table__cell">${f.title}</th>
            <td class="nhsuk-table__cell" data-figure>${numeratorWords(f)} of ${f.denominator}: ${percent(f.value)}${f.medianMinutesToAcknowledge !== undefined ? html`<br>Median to acknowledge: ${f.medianMinutesToAcknowledge === null ? 'none acknowledged' : `${f.medianMinutesToAcknowledge} minutes`}` : ''}</td>
            <td class="nhsuk-table__cell"><span class="nhsuk-body-s">${d?.higherIsBetter ? 'Higher is better' : 'Lower is better'}; no national target is set in Tandem. ${d?.tolerance ? `${d.tolerance.text}. ` : ''}Source: ${d?.sources.join('; ') ?? ''}</span></td></tr>`;
        })}</tbody></table></div>
      <h2 class="nhsuk-heading-m">The worst entries behind the figures</h2>
      ${figures.map((f, i) =>
        worst[i]!.length
          ? html`<section class="app-report-section" data-worst="${f.id}"><h3 class="nhsuk-heading-s">${f.title}</h3>${entriesTable(`${f.title}: up to ${WORST} entries that count against the service`, worstRows[i]!, `worst-${f.id}`)}</section>`
          : '',
      )}
      ${worst.every((w) => w.length === 0) ? html`<p>No entry counts against the service this month.</p>` : ''}
      ${verifyPanel(verify)}
      </article>`,
  );
  document.getElementById('print-report')?.addEventListener('click', () => window.print());
};

// ---------------------------------------------------------------------------------------------
// The inspector's routes.
// ---------------------------------------------------------------------------------------------

/** Her screens; anything else is her home. She has no care-entry screen, so none is routed to. */
export const inspectorRoute = async (ctx: InspectorContext, path: string, search: string): Promise<void> => {
  const query = new URLSearchParams(search);
  const m = (re: RegExp) => re.exec(path)?.slice(1).map((x) => decodeURIComponent(x));
  let p: string[] | undefined;
  if ((p = m(/^\/services\/([^/]+)$/))) await renderService(ctx, p[0]!, query.get('period'));
  else if ((p = m(/^\/services\/([^/]+)\/indicators\/([^/]+)$/))) await renderEntries(ctx, p[0]!, p[1]!, query.get('period'), query.get('counted'));
  else if ((p = m(/^\/services\/([^/]+)\/report$/))) await renderReport(ctx, p[0]!, query.get('period'));
  else if ((p = m(/^\/people\/([^/]+)\/as-known$/))) await renderAsKnown(ctx, p[0]!, query.get('at'));
  else if (path === '/access-trail') await renderTrail(ctx, query);
  else await renderServices(ctx);
};
