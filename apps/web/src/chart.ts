import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { request, searchAllPages } from './api';
import type { ClinicianContext } from './clinician';
import { personOf, type Person } from './day';
import { bandsOf, bandWords, dateRanges, breathingStretches, parametersFor, readingsOf, seriesOf, type Breathing, type Parameter, type Reading, type Score } from './chart-data';
import { html } from './html';
import { dayOf, timeOf } from './time';

/**
 * A person's chart in the manner of the RCP NEWS2 observation chart, drawn by uPlot (canvas, small
 * and fast: ADR 0020): one small chart per parameter on one shared time axis (the cursor moves on
 * all at once), the scoring bands shaded in the chart's colours, blood glucose with the 4 mmol/L
 * line and the person's high target, insulin doses below on the same axis. Late entries are ringed;
 * a corrected reading shows its earlier value greyed, and the table under the charts says the same
 * in words (time, value, late, changed with the reason and the earlier value), for a screen reader
 * and for anyone who cannot tell the colours apart.
 */

const DAYS = 90;
/** The RCP chart's shades for a score of 1, 2 and 3 (0 is unshaded), translucent so the grid shows; grey where the score is not known. */
const SHADE: Readonly<Record<Score, string | undefined>> = { 0: undefined, 1: 'rgba(255, 235, 59, 0.35)', 2: 'rgba(255, 152, 0, 0.35)', 3: 'rgba(229, 57, 53, 0.30)' };
const UNKNOWN_SHADE = 'rgba(118, 134, 146, 0.30)';
const LINE = '#005eb8';
const LATE = '#330072';
const EARLIER = '#768692';

type Resource = Record<string, unknown>;

/** Earlier versions of the corrected resources (their _history), by id: what a reading said before it was changed. */
const earlierVersions = async (token: string, corrected: readonly Resource[], headers: Record<string, string>): Promise<Map<string, Resource[]>> => {
  const byId = new Map<string, Resource[]>();
  for (const r of corrected.slice(0, 30)) {
    const response = await request(`/fhir/${String(r.resourceType)}/${encodeURIComponent(String(r.id))}/_history`, token, { headers });
    if (!response.ok) continue;
    const bundle = (await response.json()) as { entry?: { resource?: Resource }[] };
    const versions = (bundle.entry ?? []).map((e) => e.resource).filter((v): v is Resource => !!v && (v.meta as { versionId?: string } | undefined)?.versionId !== (r.meta as { versionId?: string } | undefined)?.versionId);
    byId.set(String(r.id), versions.sort((a, b) => Number((a.meta as { versionId?: string }).versionId) - Number((b.meta as { versionId?: string }).versionId)));
  }
  return byId;
};

const shadeBands = (parameter: Parameter, readings: readonly Reading[], range: readonly [number, number]): ((u: uPlot) => void) => {
  const stretches = breathingStretches(parameter, readings).map((s) => ({ ...s, bands: bandsOf(parameter, s.breathing, range) }));
  return (u: uPlot) => {
    const { ctx, bbox } = u;
    ctx.save();
    for (const stretch of stretches) {
      const left = Number.isFinite(stretch.from) ? Math.max(bbox.left, u.valToPos(stretch.from, 'x', true)) : bbox.left;
      const right = Number.isFinite(stretch.to) ? Math.min(bbox.left + bbox.width, u.valToPos(stretch.to, 'x', true)) : bbox.left + bbox.width;
      if (right <= left) continue;
      for (const band of stretch.bands) {
        const fill = band.score === null ? UNKNOWN_SHADE : SHADE[band.score];
        if (!fill) continue;
        const top = u.valToPos(band.to, 'y', true);
        const bottom = u.valToPos(band.from, 'y', true);
        ctx.fillStyle = fill;
        ctx.fillRect(left, top, right - left, bottom - top);
      }
    }
    ctx.restore();
  };
};

/** Horizontal lines with their words (the 4 mmol/L line, the high target). */
const referenceLines = (lines: readonly { value: number; label: string; colour: string }[]) => (u: uPlot) => {
  const { ctx, bbox } = u;
  ctx.save();
  for (const line of lines) {
    const y = u.valToPos(line.value, 'y', true);
    ctx.strokeStyle = line.colour;
    ctx.lineWidth = 2 * uPlot.pxRatio;
    ctx.setLineDash([6 * uPlot.pxRatio, 4 * uPlot.pxRatio]);
    ctx.beginPath();
    ctx.moveTo(bbox.left, y);
    ctx.lineTo(bbox.left + bbox.width, y);
    ctx.stroke();
    ctx.fillStyle = line.colour;
    ctx.font = `${12 * uPlot.pxRatio}px sans-serif`;
    ctx.fillText(line.label, bbox.left + 4 * uPlot.pxRatio, y - 4 * uPlot.pxRatio);
  }
  ctx.restore();
};

const drawChart = (element: HTMLElement, width: number, parameter: Parameter, readings: readonly Reading[], span: [number, number], lines: readonly { value: number; label: string; colour: string }[]) => {
  const [lo, hi] = parameter.range;
  const values = readings.map((r) => r.value);
  const range: [number, number] = [Math.min(lo, ...values), Math.max(hi, ...values)];
  const insulin = parameter.key === 'insulin';
  const options: uPlot.Options = {
    width,
    height: 150,
    cursor: { sync: { key: 'tandem-chart' }, drag: { x: false, y: false } },
    legend: { show: false },
    scales: { x: { time: true, range: () => span }, y: { range: () => range } },
    axes: [{ stroke: '#4c6272', grid: { stroke: '#d8dde0' } }, { stroke: '#4c6272', grid: { stroke: '#d8dde0' }, size: 44 }],
    series: [
      {},
      insulin
        ? { label: parameter.title, stroke: LINE, fill: 'rgba(0, 94, 184, 0.5)', paths: uPlot.paths.bars!({ size: [0.6, 12] }), points: { show: false } }
        : { label: parameter.title, stroke: LINE, width: 2, spanGaps: true, points: { show: true, size: 6, fill: LINE } },
      { label: 'Recorded late', stroke: LATE, width: 0, paths: () => null, points: { show: true, size: 12, width: 2, stroke: LATE, fill: 'rgba(0,0,0,0)' } },
      { label: 'Before it was corrected, or entered in error', stroke: EARLIER, width: 0, paths: () => null, points: { show: true, size: 7, fill: EARLIER } },
    ],
    hooks: { drawClear: [shadeBands(parameter, readings, range)], draw: [referenceLines(lines)] },
  };
  return new uPlot(options, seriesOf(readings) as uPlot.AlignedData, element);
};

const BREATHING_WORDS: Readonly<Record<Breathing, string>> = { air: 'on air', oxygen: 'on oxygen' };
/** The reading's NEWS2 score in words; on scale 2, what it was taken on (the score depends on it from 93 %). */
const scoreWords = (parameter: Parameter, r: Reading) => {
  if (!parameter.score) return '';
  const score = parameter.score(r.value, r.breathing);
  const on = parameter.byBreathing ? (r.breathing ? `${BREATHING_WORDS[r.breathing]}, ` : 'air or oxygen not recorded, ') : '';
  return score === null ? `${on}score not known` : `${on}scores ${score}`;
};

const rowNotes = (r: Reading, parameter: Parameter) => {
  const words: string[] = [];
  if (r.late) words.push('Recorded late');
  if (r.status === 'amended') words.push(`Changed${r.earlier.length ? ` from ${r.earlier.join(', then ')} ${parameter.unit}` : ''}`);
  if (r.status === 'entered-in-error') words.push('Entered in error: not part of the record');
  return [...words, ...r.notes.filter((n) => /^(Amended|Entered in error|Removed)/.test(n))];
};

/**
 * A person's Observations since a day, oldest first: one search per range of days, asked for at
 * once rather than as pages one after another (the next page's address is only in the page
 * before), each range's own pages still all followed.
 */
const observationsSince = async (id: string, since: string, token: string, headers: Record<string, string>): Promise<Resource[]> => {
  const ranges = dateRanges(since, DAYS);
  const found = await Promise.all(
    ranges.map(({ ge, lt }) => searchAllPages(`/fhir/Observation?patient=${id}&date=ge${ge}${lt ? `&date=lt${lt}` : ''}&_sort=date&_count=1000`, token, headers)),
  );
  return found.flat();
};

export const renderChart = async (ctx: ClinicianContext, patientId: string, known: Person | undefined, headers: Record<string, string>) => {
  const back = html`<div class="nhsuk-back-link"><a class="nhsuk-back-link__link" href="/" data-link>Back to my caseload</a></div>`;
  ctx.show('Chart', html`${back}<h1>Chart</h1><p>Loading the last ${DAYS} days…</p>`);
  const id = encodeURIComponent(patientId);
  let person = known;
  let observations: Resource[];
  let doses: Resource[];
  let highTarget: number | undefined;
  try {
    if (!person) {
      const answer = await request(`/fhir/Patient/${id}`, ctx.token, { headers });
      if (!answer.ok) throw new Error('not found');
      person = personOf((await answer.json()) as Resource);
    }
    const since = new Date(Date.now() - DAYS * 86_400_000).toISOString().slice(0, 10);
    let delegations: Response;
    // The person's high glucose target comes from an insulin delegation's instruction (none: only the 4 line); read alongside.
    [observations, doses, delegations] = await Promise.all([
      observationsSince(id, since, ctx.token, headers),
      searchAllPages(`/fhir/MedicationAdministration?patient=${id}&_sort=-date&_count=500`, ctx.token, headers, 2),
      request(`/api/delegations?patientId=${id}`, ctx.token, { headers }),
    ]);
    if (delegations.ok) {
      const list = ((await delegations.json()) as { delegations?: { status?: string; instruction?: { glucoseTargets?: { highMmolL?: number } } }[] }).delegations ?? [];
      highTarget = list.find((d) => d.status === 'active' && typeof d.instruction?.glucoseTargets?.highMmolL === 'number')?.instruction?.glucoseTargets?.highMmolL;
    }
  } catch {
    return ctx.show('Chart', html`${back}<h1>Chart</h1><p>This person's record could not be read: they are not one of your people, or Tandem could not be reached.</p>`);
  }
  const corrected = [...observations, ...doses].filter((r) => r.status === 'amended' || r.status === 'entered-in-error' || Number((r.meta as { versionId?: string } | undefined)?.versionId ?? 1) > 1);
  const earlier = await earlierVersions(ctx.token, corrected, headers);
  const started = performance.now();
  const since = Date.now() - DAYS * 86_400_000;
  const recent = (rs: Reading[]) => rs.filter((r) => r.at >= since);
  const parameters = parametersFor(person.spo2Scale);
  const all = parameters.map((p) => ({ parameter: p, readings: recent(readingsOf(p.key, p.key === 'insulin' ? doses : observations, earlier)) }));
  const times = all.flatMap((a) => a.readings.map((r) => r.at / 1000));
  const span: [number, number] = times.length ? [Math.min(...times) - 3600, Math.max(...times) + 3600] : [since / 1000, Date.now() / 1000];
  const shown = all.filter((a) => a.readings.length > 0);
  const table = all.flatMap(({ parameter, readings }) => readings.map((r) => ({ parameter, r }))).sort((a, b) => b.r.at - a.r.at);
  ctx.show(
    `Chart for ${person.name}`,
    html`${back}
      <h1><span class="nhsuk-caption-l">${person.name}</span>Chart: the last ${DAYS} days</h1>
      <p class="nhsuk-body-s" id="chart-key">Key: the shading is the NEWS2 score a value gets (yellow 1, orange 2, red 3; unshaded 0). A ringed point was recorded late. A grey point is a value before it was corrected, or one entered in error. Every reading is also in the table below.</p>
      ${shown.length === 0 ? html`<p>Nothing recorded in the last ${DAYS} days.</p>` : ''}
      ${shown.map(
        ({ parameter, readings }) => html`<section class="nhsuk-u-margin-bottom-4" data-parameter="${parameter.key}">
          <h2 class="nhsuk-heading-s nhsuk-u-margin-bottom-1">${parameter.title} (${parameter.unit})</h2>
          ${parameter.byBreathing ? html`<p class="nhsuk-body-s nhsuk-u-margin-bottom-1" id="spo2-scale"><strong class="nhsuk-tag nhsuk-tag--purple">Scale 2</strong> Prescribed for ${person.name} (hypercapnic respiratory failure). Shaded as NEWS2 SpO2 scale 2, by whether each reading was taken on air or on oxygen${readings.some((r) => !r.breathing) ? ' (grey where that was not recorded: the score is not known)' : ''}. On air: ${bandWords(parameter, 'air', [0, 100], '%')}. On oxygen: ${bandWords(parameter, 'oxygen', [0, 100], '%')}.</p>` : ''}
          <p class="nhsuk-body-s nhsuk-u-margin-bottom-1">Latest: ${readings[readings.length - 1]!.value} ${parameter.unit}, ${dayOf(new Date(readings[readings.length - 1]!.at).toISOString())} ${timeOf(new Date(readings[readings.length - 1]!.at).toISOString())}${parameter.key === 'glucose' ? `. Lines: 4 mmol/L${highTarget !== undefined ? ` and the high target, ${highTarget} mmol/L` : ' (no high target recorded)'}` : ''}.</p>
          <div class="app-chart" role="img" aria-label="${parameter.title} over the last ${DAYS} days: ${readings.length} readings; the same readings are in the table below" data-chart="${parameter.key}"></div>
        </section>`,
      )}
      <h2 class="nhsuk-heading-m">The same readings as a table</h2>
      <div class="app-table-scroll" tabindex="0" role="region" aria-label="Readings, newest first">
      <table class="nhsuk-table" id="chart-table">
        <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">Readings, newest first</caption>
        <thead class="nhsuk-table__head"><tr class="nhsuk-table__row"><th scope="col" class="nhsuk-table__header">When</th><th scope="col" class="nhsuk-table__header">What</th><th scope="col" class="nhsuk-table__header">Value</th><th scope="col" class="nhsuk-table__header">Notes</th></tr></thead>
        <tbody class="nhsuk-table__body">${table.map(
          ({ parameter, r }) => html`<tr class="nhsuk-table__row" data-reading="${r.id}" data-status="${r.status}"${r.late ? html` data-late="true"` : ''}><td class="nhsuk-table__cell">${dayOf(new Date(r.at).toISOString())} ${timeOf(new Date(r.at).toISOString())}</td><td class="nhsuk-table__cell">${parameter.title}</td><td class="nhsuk-table__cell">${r.status === 'entered-in-error' ? html`<s>${r.value}</s>` : r.value} ${parameter.unit}${scoreWords(parameter, r) ? html`<br><span class="nhsuk-body-s">${scoreWords(parameter, r)}</span>` : ''}</td><td class="nhsuk-table__cell">${rowNotes(r, parameter).map((n, i) => html`${i ? html`<br>` : ''}${n}`)}</td></tr>`,
        )}</tbody>
      </table></div>`,
  );
  // Every chart is as wide as the first: its width is read once, since each read after a chart is
  // drawn would lay the whole page out again (with 90 days' table, most of the drawing time).
  const width = Math.max(280, document.querySelector<HTMLElement>('[data-chart]')?.clientWidth || 320);
  for (const { parameter, readings } of shown) {
    const element = document.querySelector<HTMLElement>(`[data-chart="${parameter.key}"]`);
    if (!element) continue;
    const lines = parameter.key === 'glucose' ? [{ value: 4, label: '4 mmol/L', colour: '#d5281b' }, ...(highTarget !== undefined ? [{ value: highTarget, label: `High ${highTarget} mmol/L`, colour: '#ed8b00' }] : [])] : [];
    drawChart(element, width, parameter, readings, span, lines);
  }
  // For the benchmark (bench/): how long drawing took once the data was in.
  document.body.dataset.chartMs = String(Math.round(performance.now() - started));
};
