import { html, type Html } from './html';
import type { WorklistItem } from './day';
import { errorMessage, type FieldErrors } from './vitals';

/**
 * Insulin given against the delegated instruction: the product and device as the instruction
 * says, the dose in the word "units" (never "U" or "IU"), the site from the instruction's sites.
 * A dose the server wants confirmed (a second dose inside the minimum interval, a dose that
 * differs from the instruction, a product it does not know) comes back as 409 "Confirmation
 * needed": she sees why and confirms, and only then is it recorded (and flagged).
 */
export interface InsulinInstruction {
  readonly product: string;
  readonly device?: string;
  readonly dose?: { readonly value: number; readonly unit: string };
  readonly sites?: readonly string[];
  readonly times?: readonly string[];
}

export const instructionOf = (item: WorklistItem): InsulinInstruction | undefined => {
  const i = (item as WorklistItem & { instruction?: Partial<InsulinInstruction> & { kind?: string } }).instruction;
  return i && i.kind === 'insulin' && typeof i.product === 'string' ? (i as InsulinInstruction) : undefined;
};

/** The confirmation each 409 code asks for: the command's flag, and what she is confirming. */
export const CONFIRMATIONS: Readonly<Record<string, { flag: string; words: string }>> = {
  'insulin.possible-duplicate': { flag: 'confirmedNotDuplicate', words: 'Yes, this is a second dose, not the same dose recorded twice' },
  'insulin.differs-from-instruction': { flag: 'confirmedAgainstInstruction', words: 'Yes, this is what I gave, although it differs from the instruction (the nurse is told)' },
  'insulin.unknown-product': { flag: 'confirmedUnknownProduct', words: 'Yes, it really was this product (it is flagged and the nurse is told)' },
  'time.late-entry': { flag: 'confirmedLate', words: 'Yes, it happened then: record it as a late entry' },
};

export const INSULIN_FIELD_NAMES: readonly string[] = ['dose', 'site', 'confirm'];

const SITE_WORDS: Readonly<Record<string, string>> = { abdomen: 'Abdomen', thigh: 'Thigh', buttock: 'Buttock', 'upper-arm': 'Upper arm' };

export const insulinForm = (instruction: InsulinInstruction, values: Record<string, string>, errors: FieldErrors, confirmation?: { code: string; message: string }): Html => {
  const sites = instruction.sites?.length ? instruction.sites : Object.keys(SITE_WORDS);
  const confirm = confirmation ? CONFIRMATIONS[confirmation.code] : undefined;
  return html`<form id="entry-form" novalidate tabindex="-1">
    <div class="nhsuk-inset-text"><span class="nhsuk-u-visually-hidden">Information: </span>
      <p><strong>${instruction.product}</strong>${instruction.device ? ` by ${instruction.device}` : ''}${instruction.dose ? html`: <strong>${instruction.dose.value} units</strong>` : ''}${instruction.times?.length ? ` at ${instruction.times.join(', ')}` : ''}</p>
    </div>
    <div class="nhsuk-form-group${errors.dose ? ' nhsuk-form-group--error' : ''}">
      <label class="nhsuk-label nhsuk-label--s" for="dose">Dose given</label>
      <div class="nhsuk-hint" id="dose-hint">In units, as dialled on the pen</div>
      ${errorMessage('dose', errors)}
      <div class="nhsuk-input-wrapper">
        <input class="nhsuk-input nhsuk-input--width-3${errors.dose ? ' nhsuk-input--error' : ''}" id="dose" name="dose" type="text" inputmode="decimal" autocomplete="off" spellcheck="false" aria-describedby="dose-hint${errors.dose ? ' dose-error' : ''}" value="${values.dose ?? (instruction.dose ? String(instruction.dose.value) : '')}">
        <div class="nhsuk-input-wrapper__suffix" aria-hidden="true">units</div>
      </div>
    </div>
    <div class="nhsuk-form-group${errors.site ? ' nhsuk-form-group--error' : ''}">
      <fieldset class="nhsuk-fieldset"${errors.site ? html` aria-describedby="site-error"` : ''}>
        <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Where did you inject it?</legend>
        ${errorMessage('site', errors)}
        <div class="nhsuk-radios">
          ${sites.map(
            (site, i) => html`<div class="nhsuk-radios__item">
              <input class="nhsuk-radios__input" id="${i === 0 ? 'site' : `site-${i + 1}`}" name="site" type="radio" value="${site}"${values.site === site ? html` checked` : ''}>
              <label class="nhsuk-label nhsuk-radios__label" for="${i === 0 ? 'site' : `site-${i + 1}`}">${SITE_WORDS[site] ?? site}</label>
            </div>`,
          )}
        </div>
      </fieldset>
    </div>
    ${
      confirmation
        ? html`<div class="nhsuk-form-group${errors.confirm ? ' nhsuk-form-group--error' : ''}">
          <fieldset class="nhsuk-fieldset" aria-describedby="confirm-error">
            <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Confirm before it is recorded</legend>
            ${errorMessage('confirm', errors)}
            <div class="nhsuk-checkboxes">
              <div class="nhsuk-checkboxes__item">
                <input class="nhsuk-checkboxes__input" id="confirm" name="confirm" type="checkbox" value="${confirm?.flag ?? ''}" data-code="${confirmation.code}">
                <label class="nhsuk-label nhsuk-checkboxes__label" for="confirm">${confirm?.words ?? 'Yes, record it'}</label>
              </div>
            </div>
          </fieldset>
        </div>`
        : ''
    }
    <button class="nhsuk-button" type="submit">Record insulin given</button>
  </form>`;
};

/** The command's fields from the form; typing errors in her words. */
export const insulinOf = (instruction: InsulinInstruction, values: Record<string, string>): { fields: Record<string, unknown>; errors: Record<string, string> } => {
  const errors: Record<string, string> = {};
  const text = (values.dose ?? '').trim();
  const dose = Number(text);
  if (text === '') errors.dose = 'Enter the dose given, in units';
  else if (!/^\d+(\.5|\.0)?$/.test(text) || !Number.isFinite(dose)) errors.dose = 'Enter the dose in whole or half units, like 10';
  if (!values.site) errors.site = 'Select where you injected it';
  return {
    fields: { product: instruction.product, device: instruction.device ?? 'pen', dose: { value: dose, unit: 'units' }, ...(values.site ? { site: values.site } : {}) },
    errors,
  };
};

/** Insulin not given: the planned dose from the instruction and her reason, in her words. */
export const withheldForm = (instruction: InsulinInstruction, values: Record<string, string>, errors: FieldErrors): Html =>
  html`<form id="entry-form" novalidate tabindex="-1">
    <div class="nhsuk-inset-text"><span class="nhsuk-u-visually-hidden">Information: </span>
      <p>Not given: <strong>${instruction.product}</strong>${instruction.dose ? html`, <strong>${instruction.dose.value} units</strong>` : ''}${instruction.times?.length ? ` due at ${instruction.times.join(', ')}` : ''}</p>
    </div>
    <div class="nhsuk-form-group${errors.reason ? ' nhsuk-form-group--error' : ''}">
      <label class="nhsuk-label nhsuk-label--s" for="reason">Why was it not given?</label>
      <div class="nhsuk-hint" id="reason-hint">For example: blood glucose 3.4 mmol/L, the hypo protocol says not to give it</div>
      ${errorMessage('reason', errors)}
      <textarea class="nhsuk-textarea${errors.reason ? ' nhsuk-textarea--error' : ''}" id="reason" name="reason" rows="4" aria-describedby="reason-hint${errors.reason ? ' reason-error' : ''}">${values.reason ?? ''}</textarea>
    </div>
    <button class="nhsuk-button" type="submit">Record insulin not given</button>
  </form>`;

export const withheldOf = (instruction: InsulinInstruction, values: Record<string, string>): { fields: Record<string, unknown>; errors: Record<string, string> } => {
  const reason = (values.reason ?? '').trim();
  const errors: Record<string, string> = reason ? {} : { reason: 'Enter why the insulin was not given' };
  return { fields: { product: instruction.product, plannedDose: { value: instruction.dose?.value ?? 0, unit: 'units' }, reason }, errors };
};
