import { html, type Html } from './html';
import { BAND, news2Advice, PARAMETER_WORDS, scoreNews2, type News2Result, type VitalSignsMeasurements } from './news2';

/** The fields of the vital signs form, in the order of the NEWS2 chart, with the words she reads. */
export const NUMBER_FIELDS = [
  { name: 'respirationRate', label: 'Breathing rate', hint: 'Breaths counted over one full minute', suffix: 'per minute', decimal: false },
  { name: 'spo2', label: 'Oxygen saturation (SpO2)', hint: 'From the pulse oximeter', suffix: '%', decimal: false },
  { name: 'systolic', label: 'Blood pressure: top number (systolic)', hint: '', suffix: 'mmHg', decimal: false },
  { name: 'diastolic', label: 'Blood pressure: bottom number (diastolic)', hint: '', suffix: 'mmHg', decimal: false },
  { name: 'pulse', label: 'Pulse', hint: 'Beats counted over one full minute', suffix: 'per minute', decimal: false },
  { name: 'temperatureC', label: 'Temperature', hint: '', suffix: '°C', decimal: true },
] as const;

export const CHOICE_FIELDS = [
  { name: 'airOrOxygen', legend: 'Is the person breathing air or on oxygen?', options: [['air', 'Air'], ['oxygen', 'Oxygen']] },
  {
    name: 'consciousness',
    legend: 'How alert is the person?',
    options: [
      ['A', 'Alert'],
      ['C', 'New confusion'],
      ['V', 'Responds to voice only'],
      ['P', 'Responds to pain only'],
      ['U', 'Unresponsive'],
    ],
  },
] as const;

export const VITALS_FIELDS: readonly string[] = [...NUMBER_FIELDS.map((f) => f.name), ...CHOICE_FIELDS.map((f) => f.name)];

export type FieldErrors = Readonly<Record<string, string>>;

/** What she typed, as the command's measurements; a value that is not a number is an error here. */
export const measurementsOf = (values: Record<string, string>): { measurements: Partial<VitalSignsMeasurements>; errors: Record<string, string> } => {
  const measurements: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of NUMBER_FIELDS) {
    const text = (values[field.name] ?? '').trim();
    if (text === '') continue;
    const value = Number(text);
    if (!Number.isFinite(value) || !(field.decimal ? /^-?\d+(\.\d+)?$/ : /^-?\d+$/).test(text)) {
      errors[field.name] = `Enter ${field.label.toLowerCase().replace(/^blood pressure: /, 'the ')} as a ${field.decimal ? 'number, like 37.2' : 'whole number, like 72'}`;
      continue;
    }
    measurements[field.name] = value;
  }
  for (const field of CHOICE_FIELDS) {
    const value = values[field.name];
    if (value) measurements[field.name] = value;
  }
  return { measurements: measurements as Partial<VitalSignsMeasurements>, errors };
};

/** The live NEWS2 as she enters the values: the record's scoring; incomplete until every parameter is in. */
export const news2Panel = (news2: News2Result): Html => {
  const band = BAND[news2.risk];
  const advice = news2Advice(news2).filter((a) => a.urgency !== 'routine');
  const missing = news2.missing.map((p) => PARAMETER_WORDS[p]);
  const summary =
    news2.total === null
      ? html`<p class="nhsuk-u-margin-bottom-2"><strong class="nhsuk-tag ${band.tag}">NEWS2 incomplete</strong></p>
          <p class="nhsuk-u-margin-bottom-2">Still to enter: ${missing.join(', ')}.</p>
          ${news2.partialTotal > 0 || news2.anySingleParameterThree ? html`<p class="nhsuk-u-margin-bottom-2">So far ${news2.partialTotal}: at least ${BAND[news2.riskAtLeast].words}.</p>` : ''}`
      : html`<p class="nhsuk-u-margin-bottom-2"><strong class="nhsuk-tag ${band.tag}">NEWS2 ${news2.total}</strong> ${band.words}</p>`;
  return html`<h2 class="nhsuk-heading-s nhsuk-u-margin-bottom-2">NEWS2</h2>${summary}${advice.map(
    (a) => html`<div class="nhsuk-warning-callout nhsuk-u-margin-top-3 nhsuk-u-margin-bottom-0"><h3 class="nhsuk-warning-callout__label"><span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>${a.urgency === 'emergency' ? 'Emergency' : 'Act now'}</span></h3><p>${a.text}</p></div>`,
  )}`;
};

export const liveNews2 = (values: Record<string, string>, spo2Scale: 1 | 2): News2Result => scoreNews2(measurementsOf(values).measurements, { spo2Scale });

export const errorMessage = (name: string, errors: FieldErrors) =>
  errors[name] ? html`<span class="nhsuk-error-message" id="${name}-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${errors[name]}</span>` : '';

/** The NHS.UK error summary: each error a link to its field, in the order of the form. */
export const errorSummary = (errors: FieldErrors, general: readonly string[] = [], fields: readonly string[] = VITALS_FIELDS, formId = 'vital-signs-form'): Html => {
  const fieldErrors = fields.filter((f) => errors[f]).map((f) => html`<li><a href="#${f}" data-field="${f}">${errors[f]}</a></li>`);
  const others = Object.entries(errors)
    .filter(([f]) => !fields.includes(f))
    .map(([, message]) => html`<li><a href="#${formId}" data-field="${formId}">${message}</a></li>`);
  const generalItems = general.map((g) => html`<li>${g}</li>`);
  if (!fieldErrors.length && !others.length && !generalItems.length) return html``;
  return html`<div class="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1" id="error-summary">
    <h2 class="nhsuk-error-summary__title" id="error-summary-title">There is a problem</h2>
    <div class="nhsuk-error-summary__body"><ul class="nhsuk-list nhsuk-error-summary__list">${fieldErrors}${others}${generalItems}</ul></div>
  </div>`;
};

export const vitalsForm = (values: Record<string, string>, errors: FieldErrors, spo2Scale: 1 | 2): Html => {
  const numbers = NUMBER_FIELDS.map((f) => {
    const described = [f.hint ? `${f.name}-hint` : '', errors[f.name] ? `${f.name}-error` : ''].filter(Boolean).join(' ');
    return html`<div class="nhsuk-form-group${errors[f.name] ? ' nhsuk-form-group--error' : ''}">
      <label class="nhsuk-label nhsuk-label--s" for="${f.name}">${f.label}</label>
      ${f.hint ? html`<div class="nhsuk-hint" id="${f.name}-hint">${f.hint}</div>` : ''}
      ${errorMessage(f.name, errors)}
      <div class="nhsuk-input-wrapper">
        <input class="nhsuk-input nhsuk-input--width-4${errors[f.name] ? ' nhsuk-input--error' : ''}" id="${f.name}" name="${f.name}" type="text" inputmode="${f.decimal ? 'decimal' : 'numeric'}" autocomplete="off" spellcheck="false"${described ? html` aria-describedby="${described}"` : ''} value="${values[f.name] ?? ''}">
        <div class="nhsuk-input-wrapper__suffix" aria-hidden="true">${f.suffix}</div>
      </div>
    </div>`;
  });
  const choices = CHOICE_FIELDS.map(
    (f) => html`<div class="nhsuk-form-group${errors[f.name] ? ' nhsuk-form-group--error' : ''}">
      <fieldset class="nhsuk-fieldset"${errors[f.name] ? html` aria-describedby="${f.name}-error"` : ''}>
        <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">${f.legend}</legend>
        ${errorMessage(f.name, errors)}
        <div class="nhsuk-radios${f.options.length === 2 ? ' nhsuk-radios--inline' : ''}">
          ${f.options.map(
            ([value, label], i) => html`<div class="nhsuk-radios__item">
              <input class="nhsuk-radios__input" id="${i === 0 ? f.name : `${f.name}-${i + 1}`}" name="${f.name}" type="radio" value="${value}"${values[f.name] === value ? html` checked` : ''}>
              <label class="nhsuk-label nhsuk-radios__label" for="${i === 0 ? f.name : `${f.name}-${i + 1}`}">${label}</label>
            </div>`,
          )}
        </div>
      </fieldset>
    </div>`,
  );
  // Air or oxygen sits after SpO2, as on the chart; consciousness after pulse.
  const [resp, spo2, systolic, diastolic, pulse, temperature] = numbers;
  const [air, consciousness] = choices;
  return html`<form id="vital-signs-form" novalidate tabindex="-1">
    ${resp}${spo2}${air}${systolic}${diastolic}${pulse}${consciousness}${temperature}
    <div class="nhsuk-card nhsuk-u-margin-bottom-5"><div class="nhsuk-card__content" id="news2" aria-live="polite" data-spo2-scale="${spo2Scale}">${news2Panel(liveNews2(values, spo2Scale))}</div></div>
    <button class="nhsuk-button" type="submit" data-module="nhsuk-button">Save vital signs</button>
  </form>`;
};
