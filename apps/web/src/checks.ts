import { html, type Html } from './html';
import { errorMessage, type FieldErrors } from './vitals';

/**
 * The bedside checks that are questions rather than numbers: RESTORE2 soft signs, the UKHSA
 * urinary screen at 65 and over, a drink, the cellulitis check. One form each, built from a
 * description; every field is named by the command's own dotted path (`softSigns.newConfusion`),
 * so the server's problem+json `errors[].field` links straight to it.
 */
export type Question =
  /** A list of signs she ticks; each one not ticked is false. "None of these" must be ticked when none is. */
  | { readonly kind: 'ticks'; readonly id: string; readonly legend: string; readonly hint?: string; readonly items: readonly (readonly [path: string, label: string])[]; readonly none: string }
  | { readonly kind: 'yes-no'; readonly path: string; readonly legend: string; readonly hint?: string; readonly optional?: boolean; readonly error: string }
  | { readonly kind: 'number'; readonly path: string; readonly label: string; readonly hint?: string; readonly suffix: string; readonly decimal: boolean; readonly optional?: boolean; readonly error: string }
  | { readonly kind: 'text'; readonly path: string; readonly label: string; readonly hint?: string; readonly error: string };

export interface CheckForm {
  /** The path after /api/patients/:patientId/ (and the queued entry's kind). */
  readonly kind: 'soft-signs' | 'urinary-symptoms' | 'fluid-intake' | 'cellulitis-checks';
  readonly title: string;
  readonly intro?: string;
  readonly link: string;
  readonly submit: string;
  readonly questions: readonly Question[];
  /**
   * Offered only to people this old or older, from the birth date in their record: the urinary
   * screen is the UKHSA tool for people aged 65 and over (the suspected-UTI framework's
   * eligibility, docs/clinical/reference.md section 3); below 65 the dipstick rules differ.
   */
  readonly fromAgeYears?: number;
}

export const CHECK_FORMS: readonly CheckForm[] = [
  {
    kind: 'soft-signs',
    title: 'Soft signs (RESTORE2)',
    intro: 'Compare the person with their usual self. Emergency signs mean calling 999 now.',
    link: 'Record soft signs',
    submit: 'Save soft signs',
    questions: [
      {
        kind: 'ticks',
        id: 'emergencySigns',
        legend: 'Are any of these emergency signs present?',
        hint: 'If so, call 999 now, then record it',
        items: [
          ['emergencySigns.chestPain', 'Chest pain'],
          ['emergencySigns.strokeSigns', 'Signs of a stroke (face, arms, speech)'],
          ['emergencySigns.prolongedSeizure', 'A seizure lasting 5 minutes or more'],
          ['emergencySigns.unresponsive', 'Unresponsive'],
        ],
        none: 'No emergency signs',
      },
      {
        kind: 'ticks',
        id: 'softSigns',
        legend: 'Which of these are new or worse than their usual self?',
        hint: 'Select all that apply',
        items: [
          ['softSigns.newConfusion', 'New confusion'],
          ['softSigns.reducedEatingOrDrinking', 'Eating or drinking less'],
          ['softSigns.breathlessness', 'Breathless'],
          ['softSigns.unsteadiness', 'Unsteady or falls'],
          ['softSigns.distress', 'Distressed or agitated'],
          ['softSigns.withdrawal', 'Withdrawn'],
          ['softSigns.tiredness', 'More tired or sleepy'],
        ],
        none: 'None of these: as usual',
      },
    ],
  },
  {
    kind: 'urinary-symptoms',
    title: 'Urinary symptoms',
    intro: 'For people aged 65 and over (UKHSA). Do not use a urine dipstick: at this age it is not evidence of an infection. Record the signs instead.',
    link: 'Screen for urinary symptoms',
    fromAgeYears: 65,
    submit: 'Save urinary screen',
    questions: [
      {
        kind: 'ticks',
        id: 'sepsisSigns',
        legend: 'Are any of these present?',
        hint: 'Signs of a kidney infection or sepsis: these need help urgently',
        items: [
          ['sepsisSigns.kidneyPain', 'Pain in the side or back (kidney pain)'],
          ['sepsisSigns.newMyalgia', 'New aching muscles'],
          ['sepsisSigns.nauseaOrVomiting', 'Feeling sick or being sick'],
          ['sepsisSigns.rigors', 'Shaking or shivering (rigors)'],
        ],
        none: 'None of these',
      },
      {
        kind: 'ticks',
        id: 'signs',
        legend: 'Which of these are new?',
        hint: 'Select all that apply',
        items: [
          ['signs.newDysuria', 'Pain or burning when passing urine'],
          ['signs.temperatureRaised', 'Temperature 1.5°C above their normal'],
          ['signs.newFrequencyOrUrgency', 'Needing to pass urine more often or more urgently'],
          ['signs.newIncontinence', 'New incontinence'],
          ['signs.newOrWorseDelirium', 'New or worse confusion (delirium)'],
          ['signs.newSuprapubicPain', 'Pain low in the tummy (above the pubic bone)'],
          ['signs.visibleHaematuria', 'Blood in the urine that you can see'],
        ],
        none: 'None of these',
      },
      { kind: 'yes-no', path: 'catheter.inPlace', legend: 'Does the person have a urinary catheter?', error: 'Select yes if the person has a urinary catheter' },
    ],
  },
  {
    kind: 'fluid-intake',
    title: 'A drink',
    link: 'Record a drink',
    submit: 'Save drink',
    questions: [
      { kind: 'text', path: 'drink', label: 'What did they drink?', hint: 'For example, tea', error: 'Enter what they drank' },
      { kind: 'number', path: 'volumeMl', label: 'How much?', hint: 'A mug is about 250 ml', suffix: 'ml', decimal: false, error: 'Enter how much they drank, in ml, like 250' },
    ],
  },
  {
    kind: 'cellulitis-checks',
    title: 'Cellulitis check',
    intro: 'The daily check of the red area against the line drawn around it (NICE NG141).',
    link: 'Check the cellulitis',
    submit: 'Save cellulitis check',
    questions: [
      { kind: 'yes-no', path: 'markedLineDrawn', legend: 'Has a line been drawn around the red area?', error: 'Select yes if a line has been drawn around the red area' },
      { kind: 'yes-no', path: 'rednessBeyondMarkedLine', legend: 'Has the redness spread beyond the line?', error: 'Select yes if the redness has spread beyond the line' },
      { kind: 'number', path: 'pain', label: 'Pain score', hint: 'Ask the person: 0 is no pain, 10 the worst pain they can imagine', suffix: 'out of 10', decimal: false, error: 'Enter the pain score as a whole number from 0 to 10' },
      { kind: 'number', path: 'temperatureC', label: 'Temperature (if measured)', hint: 'Leave empty if not measured', suffix: '°C', decimal: true, optional: true, error: 'Enter the temperature as a number, like 37.2' },
      { kind: 'yes-no', path: 'limbElevated', legend: 'Is the limb raised?', optional: true, error: 'Select yes if the limb is raised' },
      { kind: 'yes-no', path: 'skinToneLimitsAssessment', legend: 'Does the person’s skin tone make the redness hard to see?', hint: 'Redness can be harder to see on darker skin: say so, so the nurse knows', error: 'Select yes if the skin tone makes the redness hard to see' },
    ],
  },
];

export const checkFormOf = (kind: string): CheckForm | undefined => CHECK_FORMS.find((f) => f.kind === kind);

/** Whole years from a birth date (YYYY-MM-DD) to a day in England. */
const yearsOn = (birthDate: string, day: string): number => {
  const [by, bm, bd] = birthDate.split('-').map(Number) as [number, number, number];
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
};

/**
 * Whether the form is offered for this person today: a form with an age from which it applies is
 * offered from that birthday on (England's date); when the record holds no birth date it is
 * offered, since a screen withheld for want of a date could hide an infection.
 */
export const checkOffered = (form: CheckForm, person: { readonly birthDate?: string }, now: Date): boolean => {
  if (form.fromAgeYears === undefined || !person.birthDate || !/^\d{4}-\d{2}-\d{2}$/.test(person.birthDate)) return true;
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  return yearsOn(person.birthDate, today) >= form.fromAgeYears;
};

/** Every field of the form, in order: what a draft keeps and what the error summary links to. */
export const checkFieldNames = (form: CheckForm): string[] =>
  form.questions.flatMap((q) => (q.kind === 'ticks' ? [...q.items.map(([path]) => path), `${q.id}.none`] : [q.path]));

/** The error summary's order: a fieldset's error is linked to its first box. */
export const checkErrorFields = (form: CheckForm): string[] => form.questions.flatMap((q) => (q.kind === 'ticks' ? [q.items[0]![0], ...q.items.slice(1).map(([p]) => p)] : [q.path]));

const setAt = (target: Record<string, unknown>, path: string, value: unknown) => {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys.at(-1)!] = value;
};

/** What she answered, as the command's fields; a question left unanswered is an error here. */
export const checkOf = (form: CheckForm, values: Record<string, string>): { fields: Record<string, unknown>; errors: Record<string, string> } => {
  const fields: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const q of form.questions) {
    if (q.kind === 'ticks') {
      const ticked = q.items.filter(([path]) => values[path] === 'yes');
      if (!ticked.length && values[`${q.id}.none`] !== 'yes') errors[q.items[0]![0]] = `Select which of these apply, or “${q.none}”`;
      else if (ticked.length && values[`${q.id}.none`] === 'yes') errors[q.items[0]![0]] = `Select the signs that apply, or “${q.none}”, not both`;
      for (const [path] of q.items) setAt(fields, path, values[path] === 'yes');
    } else if (q.kind === 'yes-no') {
      const value = values[q.path];
      if (value === 'yes' || value === 'no') setAt(fields, q.path, value === 'yes');
      else if (!q.optional) errors[q.path] = q.error;
    } else if (q.kind === 'number') {
      const text = (values[q.path] ?? '').trim();
      if (text === '') {
        if (!q.optional) errors[q.path] = q.error;
      } else if (!(q.decimal ? /^\d+(\.\d+)?$/ : /^\d+$/).test(text)) errors[q.path] = q.error;
      else setAt(fields, q.path, Number(text));
    } else {
      const text = (values[q.path] ?? '').trim();
      if (text === '') errors[q.path] = q.error;
      else setAt(fields, q.path, text);
    }
  }
  return { fields, errors };
};

/** The answers an entry was sent with, as the form's values again (for amending it). */
export const checkValuesOf = (form: CheckForm, body: Readonly<Record<string, unknown>>): Record<string, string> => {
  const at = (path: string): unknown => path.split('.').reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined), body);
  const values: Record<string, string> = {};
  for (const q of form.questions) {
    if (q.kind === 'ticks') {
      for (const [path] of q.items) if (at(path) === true) values[path] = 'yes';
      if (!q.items.some(([path]) => at(path) === true)) values[`${q.id}.none`] = 'yes';
    } else {
      const value = at(q.path);
      if (typeof value === 'boolean') values[q.path] = value ? 'yes' : 'no';
      else if (value !== undefined) values[q.path] = String(value);
    }
  }
  return values;
};

/** The error for a question: a fieldset of boxes shows the first error of any of its boxes. */
const ticksError = (q: Extract<Question, { kind: 'ticks' }>, errors: FieldErrors): string | undefined => q.items.map(([p]) => errors[p]).find(Boolean);

export const checkFormHtml = (form: CheckForm, values: Record<string, string>, errors: FieldErrors): Html =>
  html`<form id="entry-form" novalidate tabindex="-1">
    ${form.questions.map((q) => {
      if (q.kind === 'ticks') {
        const error = ticksError(q, errors);
        const errorId = `${q.id}-error`;
        const described = [q.hint ? `${q.id}-hint` : '', error ? errorId : ''].filter(Boolean).join(' ');
        return html`<div class="nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}">
          <fieldset class="nhsuk-fieldset"${described ? html` aria-describedby="${described}"` : ''}>
            <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">${q.legend}</legend>
            ${q.hint ? html`<div class="nhsuk-hint" id="${q.id}-hint">${q.hint}</div>` : ''}
            ${error ? html`<span class="nhsuk-error-message" id="${errorId}"><span class="nhsuk-u-visually-hidden">Error:</span> ${error}</span>` : ''}
            <div class="nhsuk-checkboxes">
              ${q.items.map(
                ([path, label]) => html`<div class="nhsuk-checkboxes__item">
                  <input class="nhsuk-checkboxes__input" id="${path}" name="${path}" type="checkbox" value="yes"${values[path] === 'yes' ? html` checked` : ''}>
                  <label class="nhsuk-label nhsuk-checkboxes__label" for="${path}">${label}</label>
                </div>`,
              )}
              <div class="nhsuk-checkboxes__divider">or</div>
              <div class="nhsuk-checkboxes__item">
                <input class="nhsuk-checkboxes__input" id="${q.id}.none" name="${q.id}.none" type="checkbox" value="yes"${values[`${q.id}.none`] === 'yes' ? html` checked` : ''}>
                <label class="nhsuk-label nhsuk-checkboxes__label" for="${q.id}.none">${q.none}</label>
              </div>
            </div>
          </fieldset>
        </div>`;
      }
      if (q.kind === 'yes-no') {
        const described = [q.hint ? `${q.path}-hint` : '', errors[q.path] ? `${q.path}-error` : ''].filter(Boolean).join(' ');
        return html`<div class="nhsuk-form-group${errors[q.path] ? ' nhsuk-form-group--error' : ''}">
          <fieldset class="nhsuk-fieldset"${described ? html` aria-describedby="${described}"` : ''}>
            <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">${q.legend}</legend>
            ${q.hint ? html`<div class="nhsuk-hint" id="${q.path}-hint">${q.hint}</div>` : ''}
            ${errorMessage(q.path, errors)}
            <div class="nhsuk-radios nhsuk-radios--inline">
              <div class="nhsuk-radios__item">
                <input class="nhsuk-radios__input" id="${q.path}" name="${q.path}" type="radio" value="yes"${values[q.path] === 'yes' ? html` checked` : ''}>
                <label class="nhsuk-label nhsuk-radios__label" for="${q.path}">Yes</label>
              </div>
              <div class="nhsuk-radios__item">
                <input class="nhsuk-radios__input" id="${q.path}-2" name="${q.path}" type="radio" value="no"${values[q.path] === 'no' ? html` checked` : ''}>
                <label class="nhsuk-label nhsuk-radios__label" for="${q.path}-2">No</label>
              </div>
            </div>
          </fieldset>
        </div>`;
      }
      const described = [q.hint ? `${q.path}-hint` : '', errors[q.path] ? `${q.path}-error` : ''].filter(Boolean).join(' ');
      const input =
        q.kind === 'number'
          ? html`<div class="nhsuk-input-wrapper">
              <input class="nhsuk-input nhsuk-input--width-4${errors[q.path] ? ' nhsuk-input--error' : ''}" id="${q.path}" name="${q.path}" type="text" inputmode="${q.decimal ? 'decimal' : 'numeric'}" autocomplete="off" spellcheck="false"${described ? html` aria-describedby="${described}"` : ''} value="${values[q.path] ?? ''}">
              <div class="nhsuk-input-wrapper__suffix" aria-hidden="true">${q.suffix}</div>
            </div>`
          : html`<input class="nhsuk-input nhsuk-input--width-20${errors[q.path] ? ' nhsuk-input--error' : ''}" id="${q.path}" name="${q.path}" type="text" autocomplete="off"${described ? html` aria-describedby="${described}"` : ''} value="${values[q.path] ?? ''}">`;
      return html`<div class="nhsuk-form-group${errors[q.path] ? ' nhsuk-form-group--error' : ''}">
        <label class="nhsuk-label nhsuk-label--s" for="${q.path}">${q.label}</label>
        ${q.hint ? html`<div class="nhsuk-hint" id="${q.path}-hint">${q.hint}</div>` : ''}
        ${errorMessage(q.path, errors)}
        ${input}
      </div>`;
    })}
    <button class="nhsuk-button" type="submit">${form.submit}</button>
  </form>`;
