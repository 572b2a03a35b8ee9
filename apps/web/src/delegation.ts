import { INSULIN_PRODUCTS, type Instruction } from '@tandem/contracts';
import { ageOf, careTeamOf, frameworkOf, allFrameworks, personFor, practitionerFor, type Framework } from './directory';
import { html, type Html } from './html';
import { competenceTag, type CompetenceRow } from './passport';
import { backLink, choices, getJson, input, inset, renderStep, summaryList, textarea, type Step, type StepContext, type Values } from './steps';
import { dayOf, timeOf } from './time';
import type { FieldErrors } from './vitals';

/**
 * The district nurse's delegation, end to end, one decision a screen, all through the delegation
 * API: propose (the activity under its framework, the care worker, the instruction, then the
 * framework's eligibility, where Tandem lists every failing criterion at once and works out the
 * age from the record), the person's agreement, activation, review, suspension, withdrawal and
 * end; the care worker answers in her own view (`renderAnswer`). The framework's own words are
 * shown where she decides. docs/decisions/0026-delegation-passport-manager-in-the-app.md
 */

export interface NurseContext extends StepContext {
  readonly userId: string;
}

interface Delegation {
  readonly delegationId: string;
  readonly status: string;
  readonly frameworkId: string;
  readonly context: {
    readonly patientId?: string;
    readonly activityId?: string;
    readonly careWorker?: { practitionerId: string };
    readonly delegatedBy?: { practitionerId: string };
    readonly instruction?: Instruction;
    readonly personAgreed?: boolean;
    readonly reviewDueAt?: string;
    readonly reason?: string;
  };
  readonly events: readonly { type: string; data: Record<string, unknown>; occurredAt: string; actor?: { id?: string } }[];
}

const STATUS: Readonly<Record<string, { words: string; tag: string }>> = {
  proposed: { words: 'Proposed', tag: 'nhsuk-tag--blue' },
  accepted: { words: 'Accepted', tag: 'nhsuk-tag--blue' },
  declined: { words: 'Declined', tag: 'nhsuk-tag--grey' },
  active: { words: 'Active', tag: 'nhsuk-tag--green' },
  reviewDue: { words: 'Review due', tag: 'nhsuk-tag--yellow' },
  suspended: { words: 'Suspended', tag: 'nhsuk-tag--orange' },
  withdrawn: { words: 'Withdrawn', tag: 'nhsuk-tag--grey' },
  ended: { words: 'Ended', tag: 'nhsuk-tag--grey' },
};
export const delegationTag = (status: string) => {
  const s = STATUS[status] ?? { words: status, tag: 'nhsuk-tag--grey' };
  return html`<strong class="nhsuk-tag ${s.tag}">${s.words}</strong>`;
};

const STEP_WORDS: Readonly<Record<string, string>> = {
  DelegationProposed: 'Proposed',
  DelegationAccepted: 'Accepted by the care worker',
  DelegationDeclined: 'Declined by the care worker',
  PersonAgreementRecorded: "The person's agreement recorded",
  DelegationActivated: 'Activated',
  ReviewDue: 'Review fell due',
  DelegationReviewed: 'Reviewed',
  DelegationSuspended: 'Suspended',
  DelegationWithdrawn: 'Withdrawn',
  DelegationEnded: 'Ended',
};

const when = (iso: string) => `${dayOf(iso)}, ${timeOf(iso)}`;

/** The instruction in words, as the care worker will read it: the dose always in "units". */
export const instructionWords = (i: Instruction | undefined): string => {
  if (!i) return 'No instruction recorded';
  if (i.kind === 'general') return `${i.plan}${i.times?.length ? ` At ${i.times.join(', ')}.` : ''}`;
  return `${i.dose.value} units of ${i.product} by ${i.device} at ${i.times.join(', ')}; sites: ${i.sites.join(', ')}; blood glucose target ${i.glucoseTargets.lowMmolL} to ${i.glucoseTargets.highMmolL} mmol/L; at least ${i.minimumIntervalMinutes} minutes between doses. ${i.whenOutOfRange}`;
};

// ---------------------------------------------------------------------------------------------
// A person's delegations
// ---------------------------------------------------------------------------------------------

export const renderPersonDelegations = async (ctx: NurseContext, patientId: string) => {
  const person = await personFor(ctx, patientId);
  if (!person) return ctx.show('Not found', html`${backLink('/', 'Back to my caseload')}<h1>Person not found</h1><p>They are not one of your people.</p>`);
  const found = await getJson<{ delegations: { delegationId: string; activityId: string; frameworkId: string; careWorkerId: string; status: string; reviewDueAt?: string }[] }>(ctx, `/api/delegations?patientId=${encodeURIComponent(patientId)}`);
  const rows = found?.delegations ?? [];
  const names = new Map(await Promise.all(rows.map(async (d) => [d.careWorkerId, (await practitionerFor(ctx, d.careWorkerId)).name] as const)));
  ctx.show(
    `Delegations for ${person.name}`,
    html`${backLink('/', 'Back to my caseload')}
      <h1><span class="nhsuk-caption-l">${person.name}</span>Delegations</h1>
      <a class="nhsuk-button" href="/people/${patientId}/delegations/new" data-link>Delegate a task<span class="nhsuk-u-visually-hidden"> for ${person.name}</span></a>
      ${rows.length
        ? html`<ul class="nhsuk-list" id="delegations">${rows.map(
            (d) => html`<li class="nhsuk-card nhsuk-u-margin-bottom-3" data-delegation="${d.delegationId}"><div class="nhsuk-card__content">
              <p class="nhsuk-u-margin-bottom-1">${delegationTag(d.status)}</p>
              <h2 class="nhsuk-heading-s nhsuk-u-margin-bottom-1">${d.activityId}, to ${names.get(d.careWorkerId) ?? d.careWorkerId}</h2>
              ${d.reviewDueAt ? html`<p class="nhsuk-body-s nhsuk-u-margin-bottom-1">Review due ${dayOf(d.reviewDueAt)}</p>` : ''}
              <a href="/delegations/${d.delegationId}" data-link>Open the delegation<span class="nhsuk-u-visually-hidden"> of ${d.activityId} to ${names.get(d.careWorkerId) ?? d.careWorkerId}</span></a>
            </div></li>`,
          )}</ul>`
        : html`<p>Nothing is delegated for ${person.name} yet.</p>`}`,
  );
};

// ---------------------------------------------------------------------------------------------
// Proposing: activity, care worker, instruction, then eligibility (which sends it)
// ---------------------------------------------------------------------------------------------

/** What she has chosen so far, kept while she moves through the steps (on this page only). */
interface Draft {
  patientId: string;
  frameworkId?: string;
  activityId?: string;
  careWorkerId?: string;
  instruction?: Values;
  /** Errors Tandem gave for an earlier step's answers, shown when she goes back to it. */
  returned?: { errors: FieldErrors; general: string[] };
}
let draft: Draft | undefined;
const draftFor = (patientId: string): Draft => (draft?.patientId === patientId ? draft : (draft = { patientId }));

const newPath = (patientId: string, step = '') => `/people/${patientId}/delegations/new${step ? `/${step}` : ''}`;

export const renderProposeStep = async (ctx: NurseContext, patientId: string, step: string) => {
  const person = await personFor(ctx, patientId);
  if (!person) return ctx.show('Not found', html`${backLink('/', 'Back to my caseload')}<h1>Person not found</h1><p>They are not one of your people.</p>`);
  const d = draftFor(patientId);
  const caption = `${person.name}: delegate a task`;
  const returned = d.returned;
  d.returned = undefined;
  const framework = d.frameworkId ? await frameworkOf(ctx, d.frameworkId) : undefined;
  // A later step opened without the earlier answers starts again at the first.
  if (step !== '' && (!framework || !d.activityId)) return ctx.navigate(newPath(patientId));
  if ((step === 'instruction' || step === 'eligibility') && !d.careWorkerId) return ctx.navigate(newPath(patientId, 'care-worker'));
  if (step === 'eligibility' && !d.instruction) return ctx.navigate(newPath(patientId, 'instruction'));

  if (step === '') {
    const frameworks = await allFrameworks(ctx);
    const options = frameworks.flatMap((f) => f.activities.map((a) => ({ value: `${f.id}|${a.id}`, label: a.title, hint: html`<strong>${f.title}</strong>: ${f.summary}` })));
    return renderStep(ctx, {
      title: 'Which task are you delegating?',
      caption,
      back: { href: `/people/${patientId}/delegations`, words: `Back to ${person.name}'s delegations` },
      fields: ['activity'],
      body: (v, e) => choices('radio', 'activity', 'The task, under its framework', options, v, e, 'Each framework says what may be delegated, to whom and for whom.'),
      submit: 'Continue',
      check: (v) => (v.activity ? {} : { activity: 'Choose the task you are delegating' }),
      done: (v) => {
        const [frameworkId, activityId] = (v.activity ?? '').split('|');
        if (frameworkId !== d.frameworkId) d.instruction = undefined;
        Object.assign(d, { frameworkId, activityId });
        return newPath(patientId, 'care-worker');
      },
    }, d.frameworkId && d.activityId ? { activity: `${d.frameworkId}|${d.activityId}` } : {});
  }
  const f = framework!;
  const activity = f.activities.find((a) => a.id === d.activityId)!;

  if (step === 'care-worker') {
    const team = (await careTeamOf(ctx, patientId)).filter((m) => m.teamRole === 'Care worker');
    const rows = await Promise.all(
      team.map(async (m) => {
        const who = await practitionerFor(ctx, m.practitionerId);
        const passport = await getJson<{ competences: CompetenceRow[] }>(ctx, `/api/competences/${encodeURIComponent(m.practitionerId)}`);
        const competence = passport?.competences.find((c) => c.frameworkId === f.id);
        return { value: m.practitionerId, label: who.name, hint: html`${competenceTag(competence, new Date())} for ${f.title}` };
      }),
    );
    if (!rows.length) return ctx.show('No care worker', html`${backLink(newPath(patientId), 'Back')}<h1>No care worker is on ${person.name}'s care team</h1><p>Ask the registered manager of the service caring for them to assign one.</p>`);
    return renderStep(ctx, {
      title: `Who are you delegating it to?`,
      caption,
      back: { href: newPath(patientId), words: 'Back' },
      intro: inset(html`<p>${activity.title}. ${f.title} is delegated only to ${f.mayReceive?.join(' or ') ?? 'care workers'}. The delegation can be proposed now; it is activated only once their competence is signed off.</p>`),
      fields: ['careWorker'],
      body: (v, e) => choices('radio', 'careWorker', `The care workers on ${person.name}'s care team`, rows, v, e),
      submit: 'Continue',
      check: (v) => (v.careWorker ? {} : { careWorker: 'Choose the care worker' }),
      done: (v) => {
        d.careWorkerId = v.careWorker;
        return newPath(patientId, 'instruction');
      },
    }, d.careWorkerId ? { careWorker: d.careWorkerId } : {});
  }

  if (step === 'instruction') return renderInstructionStep(ctx, d, f, activity, caption, returned);
  if (step === 'eligibility') return renderEligibilityStep(ctx, d, f, activity, person, caption, returned);
  ctx.navigate(newPath(patientId));
};

const SITES = [
  { value: 'abdomen', label: 'Abdomen' },
  { value: 'thigh', label: 'Thigh' },
  { value: 'buttock', label: 'Buttock' },
  { value: 'upper-arm', label: 'Upper arm' },
];

/** The instruction's fields by the command's own dotted paths, so Tandem's `errors[].field` finds its box. */
const INSULIN_FIELDS = ['instruction.product', 'instruction.dose.value', 'instruction.times', 'instruction.sites', 'instruction.glucoseTargets.lowMmolL', 'instruction.glucoseTargets.highMmolL', 'instruction.minimumIntervalMinutes', 'instruction.whenOutOfRange'] as const;
const GENERAL_FIELDS = ['instruction.plan', 'instruction.times'] as const;

const numberOrText = (text: string | undefined): number | string => {
  const t = (text ?? '').trim();
  return /^\d+(\.\d+)?$/.test(t) ? Number(t) : t;
};
const timesOf = (text: string | undefined) => (text ?? '').split(/[,\s]+/).map((t) => t.trim()).filter(Boolean);

const instructionOf = (kind: 'insulin' | 'general', v: Values): Record<string, unknown> =>
  kind === 'insulin'
    ? {
        kind,
        product: v['instruction.product'] ?? '',
        device: 'pen',
        dose: { value: numberOrText(v['instruction.dose.value']), unit: 'units' },
        times: timesOf(v['instruction.times']),
        sites: (v['instruction.sites'] ?? '').split('\n').filter(Boolean),
        glucoseTargets: { lowMmolL: numberOrText(v['instruction.glucoseTargets.lowMmolL']), highMmolL: numberOrText(v['instruction.glucoseTargets.highMmolL']) },
        minimumIntervalMinutes: numberOrText(v['instruction.minimumIntervalMinutes']),
        whenOutOfRange: (v['instruction.whenOutOfRange'] ?? '').trim(),
      }
    : { kind, plan: (v['instruction.plan'] ?? '').trim(), ...(timesOf(v['instruction.times']).length ? { times: timesOf(v['instruction.times']) } : {}) };

const renderInstructionStep = (ctx: NurseContext, d: Draft, f: Framework, activity: Framework['activities'][number], caption: string, returned?: Draft['returned']) => {
  const insulin = activity.instruction === 'insulin';
  const step: Step = {
    title: 'The person-specific instruction',
    caption,
    back: { href: newPath(d.patientId, 'care-worker'), words: 'Back' },
    intro: inset(html`<p>${activity.title}. The care worker follows exactly this instruction; anything outside it reaches you.</p>`),
    fields: insulin ? INSULIN_FIELDS : GENERAL_FIELDS,
    body: (v, e) =>
      insulin
        ? html`${choices('radio', 'instruction.product', 'Insulin', INSULIN_PRODUCTS.map((p) => ({ value: p.name, label: p.name, hint: `${p.insulin}, ${p.action}` })), v, e, 'Given by pen only: never drawn from a pen with a syringe.')}
            ${input('instruction.dose.value', 'Dose, in units', v, e, { hint: 'The number of units, for example 10', width: 4, inputmode: 'decimal' })}
            ${input('instruction.times', 'Times of day', v, e, { hint: 'HH:MM, separated by commas, for example 08:00, 18:00', width: 10 })}
            ${choices('checkbox', 'instruction.sites', 'Injection sites', SITES, v, e, 'Choose every site the care worker may use')}
            ${input('instruction.glucoseTargets.lowMmolL', 'Blood glucose target: low, in mmol/L', v, e, { width: 4, inputmode: 'decimal' })}
            ${input('instruction.glucoseTargets.highMmolL', 'Blood glucose target: high, in mmol/L', v, e, { width: 4, inputmode: 'decimal' })}
            ${input('instruction.minimumIntervalMinutes', 'Minimum time between doses, in minutes', v, e, { width: 4, inputmode: 'numeric' })}
            ${textarea('instruction.whenOutOfRange', 'What to do when the blood glucose is out of range', v, e)}`
        : html`${textarea('instruction.plan', 'The agreed plan, in words', v, e)}${input('instruction.times', 'Times of day (optional)', v, e, { hint: 'HH:MM, separated by commas', width: 10 })}`,
    submit: 'Continue',
    check: (v) => {
      const errors: Record<string, string> = {};
      if (insulin) {
        if (!v['instruction.product']) errors['instruction.product'] = 'Choose the insulin';
        if (typeof numberOrText(v['instruction.dose.value']) !== 'number') errors['instruction.dose.value'] = 'Enter the dose as a number of units, like 10';
        if (!timesOf(v['instruction.times']).length) errors['instruction.times'] = 'Enter at least one time of day, like 18:00';
        if (!v['instruction.sites']) errors['instruction.sites'] = 'Choose at least one injection site';
        for (const [field, words] of [['instruction.glucoseTargets.lowMmolL', 'the low target'], ['instruction.glucoseTargets.highMmolL', 'the high target'], ['instruction.minimumIntervalMinutes', 'the minimum time between doses']] as const) {
          if (typeof numberOrText(v[field]) !== 'number') errors[field] = `Enter ${words} as a number`;
        }
        if (!v['instruction.whenOutOfRange']?.trim()) errors['instruction.whenOutOfRange'] = 'Say what to do when the blood glucose is out of range';
      } else if (!v['instruction.plan']?.trim()) errors['instruction.plan'] = 'Enter the agreed plan';
      return errors;
    },
    done: (v) => {
      d.instruction = v;
      return newPath(d.patientId, 'eligibility');
    },
  };
  renderStep(ctx, step, d.instruction ?? (insulin ? { 'instruction.glucoseTargets.lowMmolL': '', 'instruction.minimumIntervalMinutes': '' } : {}), returned?.errors ?? {}, returned?.general ?? []);
};

const renderEligibilityStep = (ctx: NurseContext, d: Draft, f: Framework, activity: Framework['activities'][number], person: { id: string; name: string; birthDate?: string }, caption: string, returned?: Draft['returned']) => {
  const now = new Date();
  const age = ageOf(person.birthDate, now);
  const asked = f.eligibility.filter((c) => c.fact !== 'ageYears');
  const fromRecord = f.eligibility.filter((c) => c.fact === 'ageYears');
  const fieldName = (fact: string) => `eligibility.${fact}`;
  const answerOf = (c: Framework['eligibility'][number], yes: boolean): unknown => {
    if (typeof c.equals === 'boolean') return yes ? c.equals : !c.equals;
    if (c.equals !== undefined) return yes ? c.equals : 'other';
    return yes;
  };
  const step: Step = {
    title: `Does ${person.name} meet the framework's criteria?`,
    caption,
    back: { href: newPath(d.patientId, 'instruction'), words: 'Back' },
    intro: html`${inset(html`<p><strong>${f.title}</strong>: ${f.summary}</p>`)}
      ${fromRecord.length
        ? summaryList(
            fromRecord.map((c) => [c.description, age === undefined ? 'No birth date in the record: Tandem will say so' : `${age} years old, from the birth date in the record (${person.birthDate})`]),
            'from-record',
          )
        : ''}
      <p class="nhsuk-body-s">Tandem checks every criterion when you propose it, and lists each one that is not met.</p>`,
    fields: [...fromRecord.map((c) => fieldName(c.fact)), ...asked.map((c) => fieldName(c.fact))],
    body: (v, e) =>
      html`${fromRecord.map((c) => (e[fieldName(c.fact)] ? html`<div class="nhsuk-form-group nhsuk-form-group--error"><span class="nhsuk-error-message" id="${fieldName(c.fact)}" tabindex="-1"><span class="nhsuk-u-visually-hidden">Error:</span> ${e[fieldName(c.fact)]}</span></div>` : ''))}
        ${asked.map((c) => choices('radio', fieldName(c.fact), c.description, [{ value: 'yes', label: 'Yes' }, { value: 'no', label: 'No' }], v, e, c.source ? `From ${c.source.reference}` : undefined))}`,
    submit: 'Propose the delegation',
    check: (v) => Object.fromEntries(asked.filter((c) => !v[fieldName(c.fact)]).map((c) => [fieldName(c.fact), `Answer yes or no: ${c.description}`])),
    send: (v, idempotencyKey) => ({
      path: '/api/delegations',
      body: {
        idempotencyKey,
        patientId: d.patientId,
        frameworkId: f.id,
        activityId: activity.id,
        careWorker: { practitionerId: d.careWorkerId, role: 'care-worker' },
        instruction: instructionOf(activity.instruction, d.instruction ?? {}),
        eligibility: Object.fromEntries(asked.map((c) => [c.fact, answerOf(c, v[fieldName(c.fact)] === 'yes')])),
      },
    }),
    fieldOf: (field) => (field.startsWith('eligibility.') ? field : undefined),
    done: (_v, reply) => {
      draft = undefined;
      return `/delegations/${String(reply.delegationId)}`;
    },
  };
  renderStep(ctx, step, {}, returned?.errors ?? {}, returned?.general ?? []);
};

// ---------------------------------------------------------------------------------------------
// One delegation: where it is, the next decision, the history
// ---------------------------------------------------------------------------------------------

const loadDelegation = (ctx: StepContext, id: string) => getJson<Delegation>(ctx, `/api/delegations/${encodeURIComponent(id)}`);

export const renderDelegation = async (ctx: NurseContext, delegationId: string) => {
  const d = await loadDelegation(ctx, delegationId);
  if (!d) return ctx.show('Not found', html`${backLink('/', 'Back to my caseload')}<h1>Delegation not found</h1><p>It is not one of your people's, or Tandem could not be reached.</p>`);
  const f = await frameworkOf(ctx, d.frameworkId);
  const patientId = d.context.patientId ?? '';
  const [person, careWorker] = await Promise.all([personFor(ctx, patientId), practitionerFor(ctx, d.context.careWorker?.practitionerId ?? '')]);
  const activity = f?.activities.find((a) => a.id === d.context.activityId);
  const actors = new Map(await Promise.all([...new Set(d.events.map((e) => e.actor?.id ?? ''))].filter(Boolean).map(async (id) => [id, (await practitionerFor(ctx, id)).name] as const)));
  const base = `/delegations/${delegationId}`;
  const s = d.status;
  const next: Html[] = [];
  if ((s === 'proposed' || s === 'accepted') && !d.context.personAgreed) next.push(html`<a class="nhsuk-button" href="${base}/person-agreement" data-link>Record ${person?.name ?? 'the person'}'s agreement</a>`);
  if (s === 'proposed') next.push(html`<p id="waiting-for">Waiting for ${careWorker.name} to accept or decline it in their app.</p>`);
  if (s === 'accepted' && d.context.personAgreed) next.push(html`<a class="nhsuk-button" href="${base}/activation" data-link>Activate the delegation</a>`);
  if (s === 'suspended') next.push(html`<a class="nhsuk-button" href="${base}/activation" data-link>Reactivate the delegation</a>`);
  if (s === 'active' || s === 'reviewDue') next.push(html`<a class="nhsuk-button" href="${base}/review" data-link>Review the delegation</a>`);
  const others: Html[] = [];
  if (s === 'active' || s === 'reviewDue') others.push(html`<li><a href="${base}/suspension" data-link>Suspend it</a></li>`);
  if (['proposed', 'accepted', 'active', 'reviewDue', 'suspended'].includes(s)) others.push(html`<li><a href="${base}/withdrawal" data-link>Withdraw it</a></li>`);
  if (['active', 'reviewDue', 'suspended'].includes(s)) others.push(html`<li><a href="${base}/end" data-link>End it</a></li>`);
  ctx.show(
    `Delegation for ${person?.name ?? 'your patient'}`,
    html`${backLink(`/people/${patientId}/delegations`, `Back to ${person?.name ?? 'the person'}'s delegations`)}
      <h1><span class="nhsuk-caption-l">${person?.name ?? ''}</span>${activity?.title ?? d.context.activityId}</h1>
      <p id="delegation-status">${delegationTag(s)}${d.context.reason && (s === 'suspended' || s === 'withdrawn' || s === 'ended' || s === 'declined') ? html` ${d.context.reason}` : ''}</p>
      ${summaryList(
        [
          ['Framework', f ? `${f.title} (version ${f.version})` : d.frameworkId],
          ['Care worker', html`${careWorker.name} <br><a href="/care-workers/${careWorker.id}/competences/${d.frameworkId}" data-link>Training and sign-off<span class="nhsuk-u-visually-hidden"> for ${careWorker.name}</span></a> · <a href="/care-workers/${careWorker.id}/passport" data-link>Skills passport<span class="nhsuk-u-visually-hidden"> of ${careWorker.name}</span></a>`],
          ['Instruction', instructionWords(d.context.instruction)],
          ["Person's agreement", d.context.personAgreed ? 'Recorded' : 'Not recorded yet'],
          ...(d.context.reviewDueAt ? ([['Review due', dayOf(d.context.reviewDueAt)]] as [string, string][]) : []),
        ],
        'delegation-summary',
      )}
      ${next}
      ${others.length ? html`<ul class="nhsuk-list">${others}</ul>` : ''}
      <h2 class="nhsuk-heading-m">History</h2>
      <ol class="nhsuk-list nhsuk-list--number" id="history">${d.events.map((e) => html`<li>${STEP_WORDS[e.type] ?? e.type}, ${when(e.occurredAt)}${e.actor?.id ? `, by ${actors.get(e.actor.id) ?? e.actor.id}` : ''}${typeof e.data.reason === 'string' ? `: ${e.data.reason}` : typeof e.data.notes === 'string' ? `: ${e.data.notes}` : ''}</li>`)}</ol>`,
  );
};

// ---------------------------------------------------------------------------------------------
// Each decision on a delegation: one screen
// ---------------------------------------------------------------------------------------------

const REASON_STEPS: Readonly<Record<string, { title: string; submit: string; hint: string; words: (f?: Framework) => string; warning?: boolean }>> = {
  suspension: { title: 'Suspend the delegation', submit: 'Suspend the delegation', hint: 'For example, a change in the person’s condition until you have reviewed the plan', words: () => 'While it is suspended the care worker may not do the task: it leaves their day at once. You can reactivate it.', warning: true },
  withdrawal: { title: 'Withdraw the delegation', submit: 'Withdraw the delegation', hint: 'For example, the task is no longer needed', words: () => 'A withdrawn delegation cannot be restarted: propose a new one if it is needed again.', warning: true },
  end: { title: 'End the delegation', submit: 'End the delegation', hint: 'For example, the person has moved to a care home', words: () => 'An ended delegation cannot be restarted.', warning: true },
};

export const renderDelegationStep = async (ctx: NurseContext, delegationId: string, verb: string) => {
  const d = await loadDelegation(ctx, delegationId);
  if (!d) return ctx.show('Not found', html`${backLink('/', 'Back to my caseload')}<h1>Delegation not found</h1>`);
  const f = await frameworkOf(ctx, d.frameworkId);
  const person = await personFor(ctx, d.context.patientId ?? '');
  const careWorker = await practitionerFor(ctx, d.context.careWorker?.practitionerId ?? '');
  const base = `/delegations/${delegationId}`;
  const caption = `${person?.name ?? ''}: ${f?.activities.find((a) => a.id === d.context.activityId)?.title ?? d.context.activityId}`;
  const back = { href: base, words: 'Back to the delegation' };
  const done = () => base;
  const post = (path: string, extra: (v: Values) => Record<string, unknown>) => (v: Values, idempotencyKey: string) => ({ path: `/api${base}/${path}`, body: { idempotencyKey, ...extra(v) } });

  if (verb === 'person-agreement') {
    return renderStep(ctx, {
      title: `Has ${person?.name ?? 'the person'} agreed to ${careWorker.name} doing this?`,
      caption,
      back,
      intro: inset(html`<p>${instructionWords(d.context.instruction)}</p>`),
      fields: ['agreedBy', 'representativeName', 'representativeRelationship'],
      body: (v, e) =>
        html`${choices('radio', 'agreedBy', 'Who agreed', [{ value: 'person', label: `${person?.name ?? 'The person'} agreed` }, { value: 'representative', label: 'Their representative agreed for them' }], v, e)}
          ${input('representativeName', "The representative's name (if a representative agreed)", v, e)}
          ${input('representativeRelationship', 'Their relationship to the person (if a representative agreed)', v, e, { hint: 'For example, daughter, holds lasting power of attorney for health' })}`,
      submit: 'Record the agreement',
      check: (v) => {
        if (!v.agreedBy) return { agreedBy: 'Choose who agreed' };
        if (v.agreedBy === 'representative' && !v.representativeName?.trim()) return { representativeName: "Enter the representative's name" };
        if (v.agreedBy === 'representative' && !v.representativeRelationship?.trim()) return { representativeRelationship: 'Enter their relationship to the person' };
        return {};
      },
      send: post('person-agreement', (v) => ({
        agreement: v.agreedBy === 'representative' ? { agreedBy: 'representative', representative: { name: v.representativeName!.trim(), relationship: v.representativeRelationship!.trim() } } : { agreedBy: 'person' },
      })),
      fieldOf: (field) => (field.startsWith('agreement.representative.name') ? 'representativeName' : field.startsWith('agreement.representative') ? 'representativeRelationship' : field.startsWith('agreement') ? 'agreedBy' : undefined),
      done,
    });
  }
  if (verb === 'activation') {
    const passport = await getJson<{ competences: CompetenceRow[] }>(ctx, `/api/competences/${encodeURIComponent(careWorker.id)}`);
    const competence = passport?.competences.find((c) => c.frameworkId === d.frameworkId);
    return renderStep(ctx, {
      title: d.status === 'suspended' ? 'Reactivate the delegation' : 'Activate the delegation',
      caption,
      back,
      intro: html`${summaryList([
          [`${careWorker.name}'s competence`, html`${competenceTag(competence, new Date())}${competence?.validUntil ? ` valid until ${dayOf(competence.validUntil)}` : ''}`],
          ["Person's agreement", d.context.personAgreed ? 'Recorded' : 'Not recorded'],
          ['First review', f?.review?.intervalDays ? `In ${f.review.intervalDays} days (the framework's review interval)` : "At the framework's review interval"],
        ])}
        ${inset(html`<p>Tandem reads ${careWorker.name}'s competence from their own record when you activate: it must be signed off and current.</p>`)}`,
      fields: [],
      body: () => html``,
      submit: d.status === 'suspended' ? 'Reactivate the delegation' : 'Activate the delegation',
      send: post('activation', () => ({})),
      done,
    });
  }
  if (verb === 'review') {
    return renderStep(ctx, {
      title: 'Review the delegation',
      caption,
      back,
      intro: inset(html`<p>${instructionWords(d.context.instruction)}</p><p>After this review it stays active until the next one${f?.review?.intervalDays ? `, in ${f.review.intervalDays} days` : ''}.</p>`),
      fields: ['notes'],
      body: (v, e) => textarea('notes', 'What you reviewed and found', v, e, 'For example, glucose readings in range, technique observed, the person content'),
      submit: 'Record the review',
      check: (v) => (v.notes?.trim() ? {} : { notes: 'Enter what you reviewed and found' }),
      send: post('review', (v) => ({ notes: v.notes!.trim() })),
      done,
    });
  }
  const reasonStep = REASON_STEPS[verb];
  if (reasonStep) {
    return renderStep(ctx, {
      title: reasonStep.title,
      caption,
      back,
      // The framework's own words beside the decision: what was delegated, under what.
      intro: inset(html`${f ? html`<p>${f.title}: ${f.summary}</p>` : ''}<p>${reasonStep.words(f)}</p>`),
      fields: ['reason'],
      body: (v, e) => textarea('reason', 'Why', v, e, reasonStep.hint),
      submit: reasonStep.submit,
      warning: reasonStep.warning ?? false,
      check: (v) => (v.reason?.trim() ? {} : { reason: 'Enter why' }),
      send: post(verb, (v) => ({ reason: v.reason!.trim() })),
      done,
    });
  }
  ctx.navigate(base);
};

// ---------------------------------------------------------------------------------------------
// The care worker's answer: accept or decline, with the instruction in full
// ---------------------------------------------------------------------------------------------

export const renderAnswer = async (ctx: NurseContext, delegationId: string) => {
  const d = await loadDelegation(ctx, delegationId);
  if (!d || d.status !== 'proposed') return ctx.show('Not found', html`${backLink('/', 'Back to my day')}<h1>Nothing to answer</h1><p>This delegation is not waiting for your answer.</p>`);
  const f = await frameworkOf(ctx, d.frameworkId);
  const person = await personFor(ctx, d.context.patientId ?? '');
  const nurse = await practitionerFor(ctx, d.context.delegatedBy?.practitionerId ?? '');
  renderStep(ctx, {
    title: 'Will you take on this delegation?',
    caption: `${person?.name ?? ''}: ${f?.activities.find((a) => a.id === d.context.activityId)?.title ?? ''}`,
    back: { href: '/', words: 'Back to my day' },
    intro: html`${summaryList([
        ['Delegated by', nurse.name],
        ['Framework', f?.title ?? d.frameworkId],
        ['The instruction', instructionWords(d.context.instruction)],
      ], 'answer-summary')}
      ${inset(html`<p>Only take it on if you feel able to. Declining is normal, and you do not have to give a reason.</p>`)}`,
    fields: ['answer', 'reason'],
    body: (v, e) => html`${choices('radio', 'answer', 'Your answer', [{ value: 'accept', label: 'Yes, I accept it' }, { value: 'decline', label: 'No, I decline it' }], v, e)}${textarea('reason', 'If you decline, why (optional)', v, e)}`,
    submit: 'Send my answer',
    check: (v) => (v.answer ? {} : { answer: 'Choose whether you accept it' }),
    send: (v, idempotencyKey) => ({
      path: `/api/delegations/${delegationId}/${v.answer === 'accept' ? 'acceptance' : 'decline'}`,
      body: { idempotencyKey, ...(v.answer === 'decline' && v.reason?.trim() ? { reason: v.reason.trim() } : {}) },
    }),
    done: () => '/',
  });
};

export { STEP_WORDS as DELEGATION_STEP_WORDS };
