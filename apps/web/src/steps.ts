import { problemOf, request, Unreachable } from './api';
import { html, type Html } from './html';
import { uuid } from './time';
import { errorMessage, errorSummary, type FieldErrors } from './vitals';

/**
 * One screen, one decision (the NHS.UK "question pages" pattern): a caption, the framework's own
 * words where she decides, the fields of that one decision, and one button. What she sends goes
 * straight to Tandem's API (a clinician reads and writes online); a refusal comes back as the
 * error summary, each error linked to the field the server names (`errors[].field`), and nothing
 * was stored. docs/decisions/0026-delegation-passport-manager-in-the-app.md
 */
export interface StepContext {
  readonly token: string;
  readonly show: (title: string, content: Html) => void;
  readonly signedOut: () => Promise<void>;
  readonly navigate: (path: string) => void;
}

export type Values = Record<string, string>;

export interface Step {
  readonly title: string;
  readonly caption: string;
  readonly back: { readonly href: string; readonly words: string };
  /** The framework's words, the facts she decides on: shown above the fields. */
  readonly intro?: Html;
  /** The fields' names in the order of the form (each is also its first control's id). */
  readonly fields: readonly string[];
  readonly body: (values: Values, errors: FieldErrors) => Html;
  readonly submit: string;
  readonly warning?: boolean;
  /** What is missing or malformed before anything is sent (the server checks again). */
  readonly check?: (values: Values) => Readonly<Partial<Record<string, string>>>;
  /** The request; undefined when the step only moves on (a choice kept for a later step). */
  readonly send?: (values: Values, idempotencyKey: string) => { readonly path: string; readonly body: Record<string, unknown> };
  /** A server's field name as this form's field (e.g. `agreement.representative.name`). */
  readonly fieldOf?: (serverField: string) => string | undefined;
  /**
   * What a refusal asks her to confirm (a 409, or a stop such as an allergy), by the problem's code:
   * the command's flag and what she confirms. She then sees Tandem's own words at the `confirm`
   * field (rendered by the body with `confirmationField`), and ticks it before it is sent again.
   */
  readonly confirmationOf?: (code: string | undefined) => { readonly flag: string; readonly words: string } | undefined;
  /** Where she goes next, with Tandem's answer (the position to read after). */
  readonly done: (values: Values, reply: Record<string, unknown>) => string | Promise<string>;
}

/** The position of her last write: the next read waits for the read models to hold it. */
let lastPosition = 0;
export const readAfter = (): Record<string, string> => (lastPosition > 0 ? { 'x-tandem-min-position': String(lastPosition) } : {});
export const notePosition = (position: unknown) => {
  if (typeof position === 'number' && Number.isFinite(position)) lastPosition = Math.max(lastPosition, position);
};

/** GET as JSON; undefined for a 404 or 403 (not one of hers), SignedOut-style 401 left to the caller. */
export const getJson = async <T>(ctx: StepContext, path: string): Promise<T | undefined> => {
  const response = await request(path, ctx.token, { headers: readAfter() });
  if (response.status === 401) {
    await ctx.signedOut();
    return undefined;
  }
  if (!response.ok) return undefined;
  return (await response.json()) as T;
};

export const postJson = async (token: string, path: string, body: Record<string, unknown>): Promise<Response> =>
  request(path, token, { method: 'POST', headers: { 'content-type': 'application/json', ...readAfter() }, body: JSON.stringify(body) });

const formValues = (form: HTMLFormElement): Values => {
  const values: Values = {};
  // A checkbox group's several answers are kept together, one a line.
  for (const [name, value] of new FormData(form).entries()) {
    const text = typeof value === 'string' ? value : '';
    values[name] = values[name] === undefined ? text : `${values[name]}\n${text}`;
  }
  return values;
};

export const backLink = (href: string, words: string) => html`<div class="nhsuk-back-link"><a class="nhsuk-back-link__link" href="${href}" data-link>${words}</a></div>`;

export const renderStep = (ctx: StepContext, step: Step, values: Values = {}, errors: FieldErrors = {}, general: string[] = []): void => {
  const hasErrors = Object.keys(errors).length > 0 || general.length > 0;
  const key = uuid();
  ctx.show(
    `${hasErrors ? 'Error: ' : ''}${step.title}`,
    html`${backLink(step.back.href, step.back.words)}
      ${errorSummary(errors, general, step.fields, 'step-form')}
      <h1><span class="nhsuk-caption-l">${step.caption}</span>${step.title}</h1>
      ${step.intro ?? ''}
      <form id="step-form" novalidate tabindex="-1">
        ${step.body(values, errors)}
        <button class="nhsuk-button${step.warning ? ' nhsuk-button--warning' : ''}" type="submit">${step.submit}</button>
      </form>`,
  );
  const form = document.getElementById('step-form') as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const typed = formValues(form);
    const local = Object.fromEntries(Object.entries(step.check?.(typed) ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
    if (Object.keys(local).length) return renderStep(ctx, step, typed, local);
    const button = form.querySelector('button[type=submit]') as HTMLButtonElement;
    button.disabled = true;
    void (async () => {
      if (!step.send) return ctx.navigate(await step.done(typed, {}));
      const { path, body } = step.send(typed, key);
      let answer: Response;
      try {
        answer = await postJson(ctx.token, path, body);
      } catch (error) {
        if (error instanceof Unreachable) return renderStep(ctx, step, typed, {}, ['Tandem could not be reached: nothing was sent. Try again when you have signal.']);
        throw error;
      }
      if (answer.status === 401) return ctx.signedOut();
      if (answer.ok) {
        const reply = (await answer.json().catch(() => ({}))) as Record<string, unknown>;
        notePosition(reply.position ?? Number(answer.headers.get('x-tandem-position')));
        return ctx.navigate(await step.done(typed, reply));
      }
      const problem = await problemOf(answer);
      const confirmation = step.confirmationOf?.(problem.code);
      if (confirmation && !confirmedFlags(typed).includes(confirmation.flag)) {
        // Flags she confirmed before this one stay confirmed (an interval first, then a 24-hour maximum).
        const kept = confirmedFlags(typed).join('\n');
        return renderStep(ctx, step, { ...typed, confirmed: kept, confirmFlag: confirmation.flag, confirmWords: confirmation.words, confirm: '' }, { confirm: askedInHerWords(problem.errors?.[0]?.message ?? problem.detail ?? problem.title) });
      }
      const fieldErrors: Record<string, string> = {};
      const rest: string[] = [];
      for (const e of problem.errors ?? []) {
        const field = step.fieldOf?.(e.field) ?? (step.fields.includes(e.field) ? e.field : undefined);
        if (field && !fieldErrors[field]) fieldErrors[field] = e.message;
        // An answer of an earlier step (or no field of this form): said with the field Tandem named.
        else rest.push(e.field && !e.message.includes(e.field) ? `${e.field}: ${e.message}` : e.message);
      }
      if (!Object.keys(fieldErrors).length && !rest.length) rest.push(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
      renderStep(ctx, step, typed, fieldErrors, rest);
    })();
  });
  if (hasErrors) document.getElementById('error-summary')?.focus();
};

/** The command's confirmation flags she has ticked (earlier ones kept, and the one asked now when ticked). */
export const confirmedFlags = (values: Values): string[] => [
  ...(values.confirmed ?? '').split('\n').filter(Boolean),
  ...(values.confirmFlag && values.confirm === 'yes' ? [values.confirmFlag] : []),
];

/**
 * Tandem's question as she reads it: its facts and advice as the server said them, but the part
 * written for a client ("send it again with confirmedX true") said as what she does here (tick the
 * box), and a record id (AllergyIntolerance/…) left out. Anything else is left as it came.
 */
export const askedInHerWords = (message: string): string =>
  message
    .replace(/\b[A-Z][A-Za-z]+\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12},\s*/g, '')
    .replace(/[;.]?\s*if ([^;.]*?), send it again with \w+ true(?::| and) (.*)$/i, (_all, when: string, then: string) => `. If ${when}, tick the box below: ${then}`);

/** Tandem's question, in its words (the error at `confirm`), and the box she ticks to confirm it. */
export const confirmationField = (values: Values, errors: FieldErrors): Html =>
  values.confirmFlag
    ? html`<input type="hidden" name="confirmed" value="${values.confirmed ?? ''}"><input type="hidden" name="confirmFlag" value="${values.confirmFlag}"><input type="hidden" name="confirmWords" value="${values.confirmWords ?? ''}">
      <div class="${groupClass('confirm', errors)}"><fieldset class="nhsuk-fieldset"${errors.confirm ? html` aria-describedby="confirm-error"` : ''}>
        <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Confirm before it is recorded</legend>
        ${errorMessage('confirm', errors)}
        <div class="nhsuk-checkboxes"><div class="nhsuk-checkboxes__item">
          <input class="nhsuk-checkboxes__input" id="confirm" name="confirm" type="checkbox" value="yes"${values.confirm === 'yes' ? ' checked' : ''}>
          <label class="nhsuk-label nhsuk-checkboxes__label" for="confirm">${values.confirmWords ?? 'Yes, record it'}</label>
        </div></div>
      </fieldset></div>`
    : html``;

// ---------------------------------------------------------------------------------------------
// The NHS.UK form components, as markup (nhsuk-frontend's CSS styles them).
// ---------------------------------------------------------------------------------------------

const groupClass = (name: string, errors: FieldErrors) => `nhsuk-form-group${errors[name] ? ' nhsuk-form-group--error' : ''}`;
const describedBy = (name: string, hint: string | undefined, errors: FieldErrors) => [hint ? `${name}-hint` : '', errors[name] ? `${name}-error` : ''].filter(Boolean).join(' ');

export const textarea = (name: string, label: string, values: Values, errors: FieldErrors, hint?: string): Html => {
  const by = describedBy(name, hint, errors);
  return html`<div class="${groupClass(name, errors)}">
    <label class="nhsuk-label nhsuk-label--s" for="${name}">${label}</label>
    ${hint ? html`<div class="nhsuk-hint" id="${name}-hint">${hint}</div>` : ''}
    ${errorMessage(name, errors)}
    <textarea class="nhsuk-textarea${errors[name] ? ' nhsuk-textarea--error' : ''}" id="${name}" name="${name}" rows="3"${by ? html` aria-describedby="${by}"` : ''}>${values[name] ?? ''}</textarea>
  </div>`;
};

export const input = (name: string, label: string, values: Values, errors: FieldErrors, options: { hint?: string; width?: number; inputmode?: string } = {}): Html => {
  const by = describedBy(name, options.hint, errors);
  return html`<div class="${groupClass(name, errors)}">
    <label class="nhsuk-label nhsuk-label--s" for="${name}">${label}</label>
    ${options.hint ? html`<div class="nhsuk-hint" id="${name}-hint">${options.hint}</div>` : ''}
    ${errorMessage(name, errors)}
    <input class="nhsuk-input${options.width ? ` nhsuk-input--width-${options.width}` : ''}${errors[name] ? ' nhsuk-input--error' : ''}" id="${name}" name="${name}" type="text"${options.inputmode ? html` inputmode="${options.inputmode}"` : ''} value="${values[name] ?? ''}"${by ? html` aria-describedby="${by}"` : ''}>
  </div>`;
};

export interface Choice {
  readonly value: string;
  readonly label: string;
  readonly hint?: string | Html;
}

/** Radios (one answer) or checkboxes (several): the first control's id is the field's name, so the error summary's link reaches it. */
export const choices = (kind: 'radio' | 'checkbox', name: string, legend: string, options: readonly Choice[], values: Values, errors: FieldErrors, hint?: string | Html): Html => {
  const chosen = new Set((values[name] ?? '').split('\n'));
  const cls = kind === 'radio' ? 'nhsuk-radios' : 'nhsuk-checkboxes';
  return html`<div class="${groupClass(name, errors)}"><fieldset class="nhsuk-fieldset"${hint || errors[name] ? html` aria-describedby="${describedBy(name, hint ? 'y' : undefined, errors)}"` : ''}>
    <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">${legend}</legend>
    ${hint ? html`<div class="nhsuk-hint" id="${name}-hint">${hint}</div>` : ''}
    ${errorMessage(name, errors)}
    <div class="${cls}">${options.map((o, i) => {
      const id = i === 0 ? name : `${name}-${i + 1}`;
      return html`<div class="${cls}__item"><input class="${cls}__input" id="${id}" name="${name}" type="${kind}" value="${o.value}"${chosen.has(o.value) ? ' checked' : ''}${o.hint ? html` aria-describedby="${id}-item-hint"` : ''}>
        <label class="nhsuk-label ${cls}__label" for="${id}">${o.label}</label>${o.hint ? html`<div class="nhsuk-hint ${cls}__hint" id="${id}-item-hint">${o.hint}</div>` : ''}</div>`;
    })}</div>
  </fieldset></div>`;
};

export const summaryList = (rows: readonly (readonly [string, string | Html])[], id?: string): Html =>
  html`<dl class="nhsuk-summary-list"${id ? html` id="${id}"` : ''}>${rows.map(([k, v]) => html`<div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">${k}</dt><dd class="nhsuk-summary-list__value">${v}</dd></div>`)}</dl>`;

export const inset = (content: Html) => html`<div class="nhsuk-inset-text"><span class="nhsuk-u-visually-hidden">Information: </span>${content}</div>`;
