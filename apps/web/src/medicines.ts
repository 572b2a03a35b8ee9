import { dosePromptCallout, isDosePrompt, type Prompt, type PromptDose } from './day';
import { html, type Html } from './html';
import { backLink, choices, confirmationField, confirmedFlags, getJson, inset, renderStep, textarea, type Step, type StepContext, type Values } from './steps';
import { timeOf } from './time';

/**
 * A person's medicines in the care worker's app (issue 13, the MAR): what is due today from their
 * active orders (FHIR MedicationRequest), each scheduled dose's one outcome, a PRN dose with why it
 * was given and later its effect. Tandem decides (ADR 0023): a dose outside the schedule, inside
 * the minimum interval, over the 24-hour maximum or despite an allergy comes back asking her to
 * confirm in Tandem's own words; the dose and its unit are always the order's, never typed.
 * docs/decisions/0027-medicines-and-visits-in-the-app.md
 */

export interface Order {
  readonly id: string;
  readonly product: string;
  readonly dose: { readonly value: number; readonly unit: string };
  readonly text: string;
  readonly timeCritical: boolean;
  readonly timing: { readonly kind: 'scheduled'; readonly times: readonly string[] } | { readonly kind: 'prn'; readonly indication: string; readonly minimumIntervalMinutes: number; readonly maxDosesIn24Hours: number };
}

export interface Administration {
  readonly id: string;
  readonly orderId: string;
  readonly outcome: string;
  readonly at: string;
  readonly scheduledTime?: string;
  readonly effect?: string;
  readonly reasonText?: string;
  /** Given despite a recorded allergy (she confirmed it had been given): flagged, and the nurse told. */
  readonly despiteAllergy?: boolean;
}

/** An allergy as recorded (FHIR AllergyIntolerance): what, the reaction, and its criticality in the recorder's terms. */
export interface Allergy {
  readonly id: string;
  readonly substance: string;
  readonly reaction?: string;
  readonly criticality?: string;
}

type Resource = Record<string, unknown>;
type Bundle = { entry?: { resource?: Resource }[] };

/** An order from its MedicationRequest, as Tandem's projection writes it; undefined when it cannot be read as one. */
export const orderOf = (r: Resource): Order | undefined => {
  const dosage = (r.dosageInstruction as Resource[] | undefined)?.[0];
  const quantity = ((dosage?.doseAndRate as Resource[] | undefined)?.[0]?.doseQuantity ?? {}) as { value?: number; unit?: string };
  const repeat = ((dosage?.timing as Resource | undefined)?.repeat ?? {}) as { timeOfDay?: string[]; period?: number };
  const product = (r.medicationCodeableConcept as { text?: string; coding?: { display?: string }[] } | undefined) ?? {};
  if (typeof r.id !== 'string' || typeof quantity.value !== 'number' || typeof quantity.unit !== 'string') return undefined;
  const asNeeded = (dosage?.asNeededCodeableConcept as { text?: string } | undefined)?.text;
  const most = (dosage?.maxDosePerPeriod as { numerator?: { value?: number } } | undefined)?.numerator?.value;
  return {
    id: r.id,
    product: product.text ?? product.coding?.[0]?.display ?? 'Medicine',
    dose: { value: quantity.value, unit: quantity.unit },
    text: typeof dosage?.text === 'string' ? dosage.text : '',
    timeCritical: ((r.extension as { url: string; valueBoolean?: boolean }[] | undefined) ?? []).some((e) => e.url.endsWith('/time-critical-medicine') && e.valueBoolean === true),
    timing:
      asNeeded !== undefined
        ? { kind: 'prn', indication: asNeeded, minimumIntervalMinutes: repeat.period ?? 0, maxDosesIn24Hours: most ?? 0 }
        : { kind: 'scheduled', times: (repeat.timeOfDay ?? []).map((t) => t.slice(0, 5)) },
  };
};

/** A dose's outcome from its MedicationAdministration (statusReason holds Tandem's outcome code). */
export const administrationOf = (r: Resource): Administration | undefined => {
  const orderId = /^MedicationRequest\/(.+)$/.exec(String((r.request as { reference?: string } | undefined)?.reference ?? ''))?.[1];
  const reason = (r.statusReason as { coding?: { code?: string }[]; text?: string }[] | undefined)?.[0];
  const outcome = reason?.coding?.[0]?.code;
  if (typeof r.id !== 'string' || !orderId || !outcome || typeof r.effectiveDateTime !== 'string') return undefined;
  const scheduledTime = /\(the (\d\d:\d\d) dose\)/.exec(String((r.dosage as { text?: string } | undefined)?.text ?? ''))?.[1];
  const effect = ((r.note as { text?: string }[] | undefined) ?? []).map((n) => n.text ?? '').find((t) => t.startsWith('Effect: '));
  const despiteAllergy = ((r.supportingInformation as { reference?: string }[] | undefined) ?? []).some((x) => x.reference?.startsWith('AllergyIntolerance/'));
  return {
    id: r.id,
    orderId,
    outcome,
    at: r.effectiveDateTime,
    ...(scheduledTime ? { scheduledTime } : {}),
    ...(effect ? { effect: effect.slice('Effect: '.length) } : {}),
    ...(reason?.text ? { reasonText: reason.text } : {}),
    ...(despiteAllergy ? { despiteAllergy } : {}),
  };
};

/** An allergy from its AllergyIntolerance; undefined when it is not one, or no longer active (resolved, inactive). */
export const allergyOf = (r: Resource): Allergy | undefined => {
  const code = r.code as { text?: string; coding?: { display?: string }[] } | undefined;
  const substance = code?.text ?? code?.coding?.[0]?.display;
  const status = (r.clinicalStatus as { coding?: { code?: string }[] } | undefined)?.coding?.[0]?.code;
  if (typeof r.id !== 'string' || !substance || status === 'inactive' || status === 'resolved') return undefined;
  const reaction = ((r.reaction as { manifestation?: { text?: string; coding?: { display?: string }[] }[] }[] | undefined) ?? [])
    .flatMap((x) => x.manifestation ?? [])
    .map((m) => m.text ?? m.coding?.[0]?.display)
    .filter((t): t is string => Boolean(t))
    .join(', ');
  return { id: r.id, substance, ...(reaction ? { reaction } : {}), ...(typeof r.criticality === 'string' ? { criticality: r.criticality } : {}) };
};

/** FHIR's criticality in words: how likely a serious reaction is, as the clinician recorded it. */
const CRITICALITY_WORDS: Readonly<Record<string, string>> = {
  high: 'high risk of a serious reaction',
  low: 'low risk of a serious reaction',
  'unable-to-assess': 'risk not assessed',
};

/**
 * The person's allergies, over every medicine: a warning callout listing each as recorded; none
 * recorded is said as that (not "no allergies"); a read that failed is said too, never shown as none.
 */
export const allergiesCallout = (person: { name: string }, allergies: readonly Allergy[] | undefined): Html => {
  const label = (words: string) => html`<h2 class="nhsuk-warning-callout__label"><span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>${words}</span></h2>`;
  if (allergies === undefined)
    return html`<div class="nhsuk-warning-callout" id="allergies">${label('Allergies')}<p>${person.name}'s allergies could not be read. Check their record, or ask the nurse, before giving any medicine.</p></div>`;
  if (allergies.length === 0) return html`<div class="nhsuk-inset-text" id="allergies"><span class="nhsuk-u-visually-hidden">Information: </span><p>No allergies are recorded in Tandem for ${person.name}.</p></div>`;
  return html`<div class="nhsuk-warning-callout" id="allergies">${label(`Allergies: ${allergies.length}`)}
    <ul>${allergies.map((a) => html`<li data-allergy="${a.id}"><strong>${a.substance}</strong>${a.reaction ? `: ${a.reaction}` : ''}${a.criticality ? ` (${CRITICALITY_WORDS[a.criticality] ?? a.criticality})` : ''}</li>`)}</ul>
    <p class="nhsuk-body-s nhsuk-u-margin-bottom-0">Tandem stops you before recording a dose of a medicine that may contain one of these.</p></div>`;
};

const englandMinutes = (iso: string) => {
  const [h, m] = timeOf(iso).split(':').map(Number);
  return h! * 60 + m!;
};

/**
 * The outcome of each scheduled time today. A dose taken names its time (in its dosage text); an
 * outcome without a dose (refused, not given) is the nearest time not yet answered: the server keeps
 * one outcome per time, so this only decides which line shows it.
 */
export const scheduledOutcomes = (order: Order, today: readonly Administration[]): Map<string, Administration> => {
  const byTime = new Map<string, Administration>();
  if (order.timing.kind !== 'scheduled') return byTime;
  const times = order.timing.times;
  const mine = today.filter((a) => a.orderId === order.id);
  for (const a of mine) if (a.scheduledTime) byTime.set(a.scheduledTime, a);
  for (const a of mine.filter((x) => !x.scheduledTime)) {
    const open = times.filter((t) => !byTime.has(t));
    const at = englandMinutes(a.at);
    const nearest = open.sort((x, y) => Math.abs(Number(x.slice(0, 2)) * 60 + Number(x.slice(3)) - at) - Math.abs(Number(y.slice(0, 2)) * 60 + Number(y.slice(3)) - at))[0];
    if (nearest) byTime.set(nearest, a);
  }
  return byTime;
};

export const OUTCOME_WORDS: Readonly<Record<string, string>> = {
  given: 'Given',
  'self-administered': 'Took it themselves',
  'already-taken': 'Already taken',
  refused: 'Refused',
  'not-given': 'Not given',
  missed: 'Missed',
};

/** Midnight today in England, as an instant (the MAR's day). */
const startOfTodayInEngland = (now: Date): string => {
  const minutes = englandMinutes(now.toISOString());
  return new Date(Math.floor(now.getTime() / 60_000) * 60_000 - minutes * 60_000).toISOString();
};

/** The chart: active orders, today's outcomes, the allergies (undefined when they could not be read). */
export interface Chart {
  readonly orders: Order[];
  readonly today: Administration[];
  readonly allergies?: Allergy[];
}

export const fetchMedicines = async (ctx: StepContext, patientId: string, now = new Date()): Promise<Chart | undefined> => {
  const person = encodeURIComponent(patientId);
  const [requests, administrations, allergies] = await Promise.all([
    getJson<Bundle>(ctx, `/fhir/MedicationRequest?patient=${person}&status=active&_count=100`),
    getJson<Bundle>(ctx, `/fhir/MedicationAdministration?patient=${person}&effective-time=ge${encodeURIComponent(startOfTodayInEngland(now))}&_count=500`),
    getJson<Bundle>(ctx, `/fhir/AllergyIntolerance?patient=${person}&_count=100`),
  ]);
  if (!requests) return undefined;
  const resources = (b: Bundle | undefined) => (b?.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r !== undefined);
  return {
    orders: resources(requests).filter((r) => r.resourceType === 'MedicationRequest').map(orderOf).filter((o): o is Order => o !== undefined),
    today: resources(administrations).filter((r) => r.resourceType === 'MedicationAdministration').map(administrationOf).filter((a): a is Administration => a !== undefined),
    ...(allergies ? { allergies: resources(allergies).filter((r) => r.resourceType === 'AllergyIntolerance').map(allergyOf).filter((a): a is Allergy => a !== undefined) } : {}),
  };
};

/** Her dose-overdue prompts for the person, as her worklist holds them (the server's; none when it cannot be read). */
const dosePromptsFor = async (ctx: StepContext & { readonly userId?: string }, patientId: string): Promise<(Prompt & { dose: PromptDose })[]> => {
  if (!ctx.userId) return [];
  const worklist = await getJson<{ prompts?: Prompt[] }>(ctx, `/api/worklist?careWorkerId=${encodeURIComponent(ctx.userId)}`);
  return (worklist?.prompts ?? []).filter((p) => p.patientId === patientId).filter(isDosePrompt);
};

const doseWords = (order: Order) => `${order.dose.value} ${order.dose.unit}`;
const outcomeTag = (a: Administration) =>
  html`<strong class="nhsuk-tag ${a.outcome === 'given' || a.outcome === 'self-administered' || a.outcome === 'already-taken' ? 'nhsuk-tag--green' : 'nhsuk-tag--grey'}">${OUTCOME_WORDS[a.outcome] ?? a.outcome}</strong>${a.despiteAllergy ? html` <strong class="nhsuk-tag nhsuk-tag--red">Despite an allergy: the nurse is told</strong>` : ''}`;

/** The person's medicines today: each scheduled time with its outcome or a link to record it; PRN doses and their effects. */
export const renderMedicines = async (ctx: StepContext & { readonly userId?: string }, person: { id: string; name: string }): Promise<void> => {
  const title = `Medicines for ${person.name}`;
  ctx.show(title, html`${backLink('/', 'Back to my day')}<h1><span class="nhsuk-caption-l">${person.name}</span>Medicines</h1><p>Loading…</p>`);
  const [chart, prompts] = await Promise.all([fetchMedicines(ctx, person.id), dosePromptsFor(ctx, person.id)]);
  if (!chart) return ctx.show(title, html`${backLink('/', 'Back to my day')}<h1><span class="nhsuk-caption-l">${person.name}</span>Medicines</h1><p>The medicines could not be read. Try again when you have signal.</p>`);
  const base = `/people/${encodeURIComponent(person.id)}`;
  const cards = chart.orders.map((order) => {
    const hidden = html`<span class="nhsuk-u-visually-hidden"> of ${order.product}</span>`;
    if (order.timing.kind === 'scheduled') {
      const outcomes = scheduledOutcomes(order, chart.today);
      return html`<li class="nhsuk-card nhsuk-u-margin-bottom-3" data-order="${order.id}"><div class="nhsuk-card__content">
        <h2 class="nhsuk-heading-s nhsuk-u-margin-bottom-1">${order.product}</h2>
        <p class="nhsuk-body-s nhsuk-u-margin-bottom-2">${order.text}${order.timeCritical ? html` <strong class="nhsuk-tag nhsuk-tag--orange">Time-critical</strong>` : ''}</p>
        <ul class="nhsuk-list nhsuk-u-margin-bottom-0">${order.timing.times.map((time) => {
          const done = outcomes.get(time);
          const overdue = !done && prompts.some((p) => p.dose.orderId === order.id && p.dose.scheduledTime === time);
          return html`<li data-time="${time}">${time}: ${done ? html`${outcomeTag(done)}${done.reasonText && done.outcome !== 'given' ? html` <span class="nhsuk-body-s">${done.reasonText}</span>` : ''}` : html`${overdue ? html`<strong class="nhsuk-tag nhsuk-tag--red">Overdue</strong> ` : ''}<a href="${base}/medicines/${encodeURIComponent(order.id)}?time=${time}" data-link>Record the ${time} dose${hidden}</a>`}</li>`;
        })}</ul></div></li>`;
    }
    const prn = chart.today.filter((a) => a.orderId === order.id).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    return html`<li class="nhsuk-card nhsuk-u-margin-bottom-3" data-order="${order.id}"><div class="nhsuk-card__content">
      <h2 class="nhsuk-heading-s nhsuk-u-margin-bottom-1">${order.product} <strong class="nhsuk-tag nhsuk-tag--blue">When required</strong></h2>
      <p class="nhsuk-body-s nhsuk-u-margin-bottom-2">${order.text}</p>
      ${prn.length ? html`<ul class="nhsuk-list">${prn.map((a) => html`<li data-dose="${a.id}">${timeOf(a.at)}: ${outcomeTag(a)} ${a.effect ? html`<span class="nhsuk-body-s">Effect: ${a.effect}</span>` : html`<a href="${base}/medicine-doses/${encodeURIComponent(a.id)}/effect?order=${encodeURIComponent(order.id)}" data-link>Record its effect<span class="nhsuk-u-visually-hidden"> (${order.product} at ${timeOf(a.at)})</span></a>`}</li>`)}</ul>` : html`<p class="nhsuk-body-s">None given today.</p>`}
      <a class="nhsuk-button nhsuk-button--secondary nhsuk-u-margin-bottom-0" href="${base}/medicines/${encodeURIComponent(order.id)}" data-link>Record a dose${hidden}</a>
    </div></li>`;
  });
  ctx.show(
    title,
    html`${backLink('/', 'Back to my day')}<h1><span class="nhsuk-caption-l">${person.name}</span>Medicines</h1>
      ${allergiesCallout(person, chart.allergies)}
      ${prompts.map((p) => dosePromptCallout(person.id, p, 2))}
      ${chart.orders.length ? html`<ul class="nhsuk-list" id="medicines">${cards}</ul>` : html`<p>No medicines are prescribed for ${person.name} in Tandem.</p>`}`,
  );
};

/** What each confirmation Tandem asks for means to her, and the command's flag. */
const CONFIRMATIONS: Readonly<Record<string, { flag: string; words: string }>> = {
  'mar.outside-schedule': { flag: 'confirmedOutsideSchedule', words: 'Yes, it was given outside the prescribed times (the nurse is told)' },
  'mar.inside-minimum-interval': { flag: 'confirmedInsideMinimumInterval', words: 'Yes, it has been given, sooner than the minimum interval (the nurse is told)' },
  'mar.over-daily-maximum': { flag: 'confirmedOverDailyMaximum', words: 'Yes, it has been given, over the most in 24 hours (the nurse is told)' },
  'mar.allergy': { flag: 'confirmedDespiteAllergy', words: 'It has already been given: record it, flag it and tell the nurse now' },
};

/** The stop, in her words, when Tandem refused a dose for an allergy: nothing is recorded unless she confirms it was already given. */
const allergyStop = (person: { name: string }, order: Order): Html =>
  html`<div class="nhsuk-warning-callout" id="allergy-stop"><h2 class="nhsuk-warning-callout__label"><span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>Stop: do not give ${order.product}</span></h2>
    <p>${person.name} has an allergy recorded to something ${order.product} may contain. Do not give it. Call the nurse or GP now.</p>
    <p>Nothing has been recorded. Only if it has already been given: tick the box below and record it. It is flagged and the nurse is told at once.</p></div>`;

const SCHEDULED_OUTCOMES = ['given', 'refused', 'not-given', 'self-administered', 'already-taken'] as const;
const PRN_OUTCOMES = ['given', 'self-administered'] as const;

/** One dose's outcome: the order's dose and unit shown (never typed), the outcome, the reason where one is needed. */
export const doseStep = (person: { id: string; name: string }, order: Order, time: string | undefined, allergies?: readonly Allergy[]): Step => {
  const back = { href: `/people/${encodeURIComponent(person.id)}/medicines`, words: 'Back to the medicines' };
  const prn = order.timing.kind === 'prn';
  const outcomes = prn ? PRN_OUTCOMES : SCHEDULED_OUTCOMES;
  return {
    title: prn ? `A dose of ${order.product}` : `The ${time} dose of ${order.product}`,
    caption: person.name,
    back,
    // Every recorded allergy before she decides: whether this product contains one is Tandem's to say (the stop below).
    intro: html`${allergies?.length ? allergiesCallout(person, allergies) : ''}${inset(html`<p><strong>${doseWords(order)}</strong> of ${order.product}</p><p class="nhsuk-body-s">${order.text}</p>`)}`,
    fields: prn ? ['outcome', 'prnReason', 'confirm'] : ['outcome', 'reason', 'confirm'],
    body: (values: Values, errors) =>
      html`${values.confirmFlag === CONFIRMATIONS['mar.allergy']!.flag ? allergyStop(person, order) : ''}
        ${choices('radio', 'outcome', prn ? 'Who took it?' : 'What happened?', outcomes.map((o) => ({ value: o, label: o === 'given' ? `Given: ${doseWords(order)}` : o === 'self-administered' ? `Took it themselves: ${doseWords(order)}` : OUTCOME_WORDS[o]! })), values, errors)}
        ${prn ? textarea('prnReason', 'Why was it needed?', values, errors, order.timing.kind === 'prn' ? `Prescribed when required for ${order.timing.indication}` : undefined) : textarea('reason', 'Why? (needed when not given)', values, errors, 'For example: said she felt sick and would take it later')}
        ${confirmationField(values, errors)}`,
    submit: 'Record the dose',
    check: (v) => ({
      ...(v.outcome ? {} : { outcome: prn ? 'Select who took it' : 'Select what happened' }),
      ...(!prn && v.outcome === 'not-given' && !(v.reason ?? '').trim() ? { reason: 'Enter why it was not given' } : {}),
      ...(prn && !(v.prnReason ?? '').trim() ? { prnReason: 'Enter why it was needed' } : {}),
      ...(v.confirmFlag && v.confirm !== 'yes' ? { confirm: 'Tick to confirm, or go back: nothing is recorded until you do' } : {}),
    }),
    send: (v, idempotencyKey) => {
      const taken = v.outcome === 'given' || v.outcome === 'self-administered';
      const reason = (v.reason ?? '').trim();
      return {
        path: `/api/patients/${encodeURIComponent(person.id)}/medicine-doses`,
        body: {
          idempotencyKey,
          occurredAt: new Date().toISOString(),
          orderId: order.id,
          outcome: v.outcome,
          ...(time ? { scheduledTime: time } : {}),
          ...(taken ? { dose: order.dose } : {}),
          ...(!prn && !taken && reason ? { reason } : {}),
          ...(prn ? { prnReason: (v.prnReason ?? '').trim() } : {}),
          ...Object.fromEntries(confirmedFlags(v).map((flag) => [flag, true])),
        },
      };
    },
    fieldOf: (field) => (field === 'dose' || field === 'dose.unit' ? 'outcome' : undefined),
    confirmationOf: (code) => (code ? CONFIRMATIONS[code] : undefined),
    done: () => back.href,
  };
};

export const effectStep = (person: { id: string; name: string }, order: Order | undefined, doseId: string): Step => {
  const back = { href: `/people/${encodeURIComponent(person.id)}/medicines`, words: 'Back to the medicines' };
  return {
    title: 'What did the dose do?',
    caption: `${person.name}${order ? `: ${order.product}` : ''}`,
    back,
    fields: ['effect'],
    body: (values, errors) => textarea('effect', 'The effect', values, errors, 'For example: pain down from 7 to 2 within the hour'),
    submit: 'Record the effect',
    check: (v) => ((v.effect ?? '').trim() ? {} : { effect: 'Enter what the dose did' }),
    send: (v, idempotencyKey) => ({ path: `/api/patients/${encodeURIComponent(person.id)}/medicine-doses/${encodeURIComponent(doseId)}/effects`, body: { idempotencyKey, occurredAt: new Date().toISOString(), effect: (v.effect ?? '').trim() } }),
    done: () => back.href,
  };
};

/** /people/:id/medicines/:orderId (?time=HH:MM) and /people/:id/medicine-doses/:doseId/effect */
export const renderMedicineRoute = async (ctx: StepContext, person: { id: string; name: string }, what: { orderId?: string; doseId?: string; time?: string }): Promise<Html | void> => {
  const chart = await fetchMedicines(ctx, person.id);
  const order = chart?.orders.find((o) => o.id === what.orderId);
  if (what.doseId) return renderStep(ctx, effectStep(person, order, what.doseId));
  if (!order) return ctx.show('Not found', html`<h1>Medicine not found</h1><p>It is not on ${person.name}'s chart (it may have been stopped). <a href="/people/${person.id}/medicines" data-link>Back to the medicines</a></p>`);
  renderStep(ctx, doseStep(person, order, order.timing.kind === 'scheduled' ? what.time : undefined, chart?.allergies));
};
