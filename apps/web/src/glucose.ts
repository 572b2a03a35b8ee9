import { bedsideAnswer } from '@tandem/contracts';
import { html, type Html } from './html';
import { errorMessage, type FieldErrors } from './vitals';

/**
 * Blood glucose, with the hypoglycaemia protocol shown as soon as the value is below 4.0 mmol/L:
 * the record's own bedside advice (contracts/src/care/bedside-advice.ts), so it is there offline.
 */
export const GLUCOSE_FIELDS = [
  { name: 'glucoseMmolL', label: 'Blood glucose', hint: 'From the meter, for example 6.4', suffix: 'mmol/L' },
  { name: 'ketonesMmolL', label: 'Blood ketones (if measured)', hint: 'Leave empty if not measured', suffix: 'mmol/L' },
] as const;
export const GLUCOSE_FIELD_NAMES: readonly string[] = GLUCOSE_FIELDS.map((f) => f.name);

export const glucoseOf = (values: Record<string, string>): { measurements: Record<string, number>; errors: Record<string, string> } => {
  const measurements: Record<string, number> = {};
  const errors: Record<string, string> = {};
  for (const field of GLUCOSE_FIELDS) {
    const text = (values[field.name] ?? '').trim();
    if (text === '') continue;
    if (!/^\d+(\.\d+)?$/.test(text)) {
      errors[field.name] = `Enter ${field.label.replace(/ \(if measured\)$/, '').toLowerCase()} as a number, like 5.6`;
      continue;
    }
    measurements[field.name] = Number(text);
  }
  if (measurements.glucoseMmolL === undefined && !errors.glucoseMmolL) errors.glucoseMmolL = 'Enter the blood glucose';
  return { measurements, errors };
};

/** What to do now for the value she has typed (nothing until it is a number). */
export const glucosePanel = (values: Record<string, string>): Html => {
  const { measurements } = glucoseOf(values);
  if (measurements.glucoseMmolL === undefined) return html``;
  const advice = bedsideAnswer([{ type: 'BloodGlucoseRecorded', data: measurements }]).advice;
  return html`${advice.map(
    (a) => html`<div class="nhsuk-warning-callout nhsuk-u-margin-bottom-4"><h2 class="nhsuk-warning-callout__label"><span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>${a.text.startsWith('Hypo') ? 'Hypo: treat it now' : 'What to do now'}</span></h2><p>${a.text}</p></div>`,
  )}`;
};

export const glucoseForm = (values: Record<string, string>, errors: FieldErrors): Html =>
  html`<form id="entry-form" novalidate tabindex="-1">
    ${GLUCOSE_FIELDS.map((f) => {
      const described = [`${f.name}-hint`, errors[f.name] ? `${f.name}-error` : ''].filter(Boolean).join(' ');
      return html`<div class="nhsuk-form-group${errors[f.name] ? ' nhsuk-form-group--error' : ''}">
        <label class="nhsuk-label nhsuk-label--s" for="${f.name}">${f.label}</label>
        <div class="nhsuk-hint" id="${f.name}-hint">${f.hint}</div>
        ${errorMessage(f.name, errors)}
        <div class="nhsuk-input-wrapper">
          <input class="nhsuk-input nhsuk-input--width-4${errors[f.name] ? ' nhsuk-input--error' : ''}" id="${f.name}" name="${f.name}" type="text" inputmode="decimal" autocomplete="off" spellcheck="false" aria-describedby="${described}" value="${values[f.name] ?? ''}">
          <div class="nhsuk-input-wrapper__suffix" aria-hidden="true">${f.suffix}</div>
        </div>
      </div>`;
    })}
    <div id="live-advice" aria-live="polite">${glucosePanel(values)}</div>
    <button class="nhsuk-button" type="submit">Save blood glucose</button>
  </form>`;
