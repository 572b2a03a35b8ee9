import { frameworkOf, personFor, practitionerFor, registrationWords, type Framework, type Practitioner } from './directory';
import { html } from './html';
import { competenceStepWords, competenceTag, type CompetenceDetail } from './passport';
import { backLink, choices, getJson, inset, renderStep, summaryList, textarea, type StepContext, type Values } from './steps';
import { dayOf, timeOf } from './time';

/**
 * A care worker's training for one framework, kept by the nurse: start it, each training module
 * (one screen each, the framework's own title), each supervised practice she observes (n of N),
 * then the sign-off in her name and registration (read from her own practitioner record, never
 * typed) with the care worker's consent, or "not passed" with feedback; later, suspending the
 * competence (every delegation that depends on it is suspended at once) and reinstating it. All
 * through /api/competences; Tandem decides each step (only a registered nurse of the framework
 * signs off or suspends).
 */

export interface TrainerContext extends StepContext {
  readonly userId: string;
}

const base = (careWorkerId: string, frameworkId: string) => `/care-workers/${careWorkerId}/competences/${frameworkId}`;

export const renderTraining = async (ctx: TrainerContext, careWorkerId: string, frameworkId: string) => {
  const [framework, careWorker, detail] = await Promise.all([
    frameworkOf(ctx, frameworkId),
    practitionerFor(ctx, careWorkerId),
    getJson<CompetenceDetail>(ctx, `/api/competences/${encodeURIComponent(careWorkerId)}/${encodeURIComponent(frameworkId)}`),
  ]);
  if (!framework) return ctx.show('Not found', html`${backLink('/', 'Back to my caseload')}<h1>Framework not found</h1>`);
  const status = detail?.status ?? 'notStarted';
  const path = base(careWorkerId, frameworkId);
  const modules = framework.competence.trainingModules;
  const done = new Set(detail?.modulesCompleted ?? []);
  const moduleTitle = (id: string) => modules.find((m) => m.id === id)?.title ?? id;
  const next =
    status === 'notStarted' || status === 'lapsed' || !detail
      ? html`<a class="nhsuk-button" href="${path}/start" data-link>Start ${careWorker.name}'s training</a>`
      : status === 'inTraining'
        ? html`<a class="nhsuk-button" href="${path}/module" data-link>Record the next module completed</a>`
        : status === 'supervisedPractice'
          ? html`<a class="nhsuk-button" href="${path}/supervised-practice" data-link>Record a supervised practice</a>`
          : status === 'readyForAssessment'
            ? html`<a class="nhsuk-button" href="${path}/sign-off" data-link>Assess and sign off</a><p><a href="${path}/assessment-not-passed" data-link>The assessment was not passed</a></p>`
            : status === 'signedOff'
              ? html`<p><a href="${path}/suspension" data-link>Suspend this competence</a></p>`
              : status === 'suspended'
                ? html`<a class="nhsuk-button" href="${path}/reinstatement" data-link>Reinstate the competence</a>`
                : '';
  const steps = await Promise.all((detail?.events ?? []).map(async (e) => html`<li>${dayOf(e.occurredAt)}, ${timeOf(e.occurredAt)}: ${await competenceStepWords(ctx, e, moduleTitle)}</li>`));
  ctx.show(
    `Training: ${careWorker.name}`,
    html`${backLink('/', 'Back to my caseload')}
      <h1><span class="nhsuk-caption-l">${careWorker.name}</span>${framework.title}: training and sign-off</h1>
      <p id="competence-status">${competenceTag(detail ? { status: detail.status, ...(detail.validUntil ? { validUntil: detail.validUntil } : {}) } : undefined, new Date())}${detail?.validUntil ? ` Valid until ${dayOf(detail.validUntil)}` : ''}</p>
      ${inset(html`<p>${framework.title} asks for ${modules.length} training modules, ${framework.competence.supervisedPractices} satisfactory supervised practices observed by a registered professional, then assessment and sign-off with the care worker's consent; reassessment every ${framework.competence.reassessmentMonths} months.</p>`)}
      <h2 class="nhsuk-heading-m">Training modules</h2>
      <ul class="nhsuk-list" id="modules">${modules.map((m) => html`<li>${done.has(m.id) || (status !== 'inTraining' && status !== 'notStarted' && detail) ? html`<strong class="nhsuk-tag nhsuk-tag--green">Done</strong>` : html`<strong class="nhsuk-tag nhsuk-tag--grey">To do</strong>`} ${m.title}</li>`)}</ul>
      <p>Satisfactory supervised practices: ${detail?.satisfactoryPractices ?? 0} of ${framework.competence.supervisedPractices}</p>
      ${next}
      <p><a href="/care-workers/${careWorkerId}/passport" data-link>${careWorker.name}'s skills passport</a></p>
      <h2 class="nhsuk-heading-m">History</h2>
      ${steps.length ? html`<ol class="nhsuk-list nhsuk-list--number" id="history">${steps}</ol>` : html`<p>Nothing recorded yet.</p>`}`,
  );
};

export const renderTrainingStep = async (ctx: TrainerContext, careWorkerId: string, frameworkId: string, verb: string) => {
  const [framework, careWorker, me, detail] = await Promise.all([
    frameworkOf(ctx, frameworkId),
    practitionerFor(ctx, careWorkerId),
    practitionerFor(ctx, ctx.userId),
    getJson<CompetenceDetail>(ctx, `/api/competences/${encodeURIComponent(careWorkerId)}/${encodeURIComponent(frameworkId)}`),
  ]);
  const path = base(careWorkerId, frameworkId);
  if (!framework) return ctx.navigate(path);
  const caption = `${careWorker.name}: ${framework.title}`;
  const back = { href: path, words: 'Back to the training record' };
  const api = `/api/competences/${encodeURIComponent(careWorkerId)}/${encodeURIComponent(frameworkId)}`;
  const you = `${me.name}, ${registrationWords(me.registration)}`;
  const done = () => path;

  if (verb === 'start') {
    return renderStep(ctx, {
      title: `Start ${careWorker.name}'s training`,
      caption,
      back,
      intro: html`${inset(html`<p>${framework.summary}</p>`)}${summaryList([['Training modules', html`<ul>${framework.competence.trainingModules.map((m) => html`<li>${m.title}</li>`)}</ul>`], ['Supervised practice', `${framework.competence.supervisedPractices} satisfactory practices`], ['Your team assesses', `Started by you (${you}): your team keeps this competence`]])}`,
      fields: [],
      body: () => html``,
      submit: 'Start the training',
      send: (_v, idempotencyKey) => ({ path: '/api/competences', body: { idempotencyKey, careWorker: { practitionerId: careWorkerId, role: 'care-worker' }, frameworkId } }),
      done,
    });
  }
  if (verb === 'module') {
    const outstanding = framework.competence.trainingModules.filter((m) => !(detail?.modulesCompleted ?? []).includes(m.id));
    const module = outstanding[0];
    if (!module || detail?.status !== 'inTraining') return ctx.navigate(path);
    const n = framework.competence.trainingModules.length - outstanding.length + 1;
    return renderStep(ctx, {
      title: `Has ${careWorker.name} completed this module?`,
      caption: `${caption}: module ${n} of ${framework.competence.trainingModules.length}`,
      back,
      intro: html`<p class="nhsuk-heading-s" id="module-title">${module.title}</p>`,
      fields: ['evidence'],
      body: (v, e) => textarea('evidence', 'Evidence (optional)', v, e, 'For example, e-learning certificate seen, workbook marked'),
      submit: 'Record the module completed',
      send: (v: Values, idempotencyKey) => ({ path: `${api}/modules`, body: { idempotencyKey, moduleId: module.id, ...(v.evidence?.trim() ? { evidence: v.evidence.trim() } : {}) } }),
      done: () => (outstanding.length > 1 ? `${path}/module` : path),
    });
  }
  if (verb === 'supervised-practice') {
    const n = (detail?.satisfactoryPractices ?? 0) + 1;
    return renderStep(ctx, {
      title: 'How did the supervised practice go?',
      caption: `${caption}: satisfactory practice ${n} of ${framework.competence.supervisedPractices} if it was`,
      back,
      intro: inset(html`<p>Observed by you: ${you}.</p>`),
      fields: ['outcome', 'notes'],
      body: (v, e) =>
        html`${choices('radio', 'outcome', 'The outcome', [{ value: 'satisfactory', label: 'Satisfactory' }, { value: 'needs-more-practice', label: 'Needs more practice' }], v, e)}${textarea('notes', 'What you observed (optional)', v, e, 'For example, pen primed, site rotated, dose checked aloud')}`,
      submit: 'Record the supervised practice',
      check: (v) => (v.outcome ? {} : { outcome: 'Choose the outcome' }),
      send: (v, idempotencyKey) => ({ path: `${api}/supervised-practice`, body: { idempotencyKey, outcome: v.outcome, ...(v.notes?.trim() ? { notes: v.notes.trim() } : {}) } }),
      done: (v) => (v.outcome === 'satisfactory' && n >= framework.competence.supervisedPractices ? path : `${path}/supervised-practice`),
    });
  }
  if (verb === 'sign-off') {
    return renderStep(ctx, {
      title: `Sign off ${careWorker.name} as competent`,
      caption,
      back,
      intro: html`${summaryList(
        [
          ['Signed off by', html`<span id="assessor">${you}</span><br><span class="nhsuk-body-s">From your own practitioner record</span>`],
          ['Valid for', `${framework.competence.reassessmentMonths} months, then reassessment (the framework's interval)`],
        ],
        'sign-off-summary',
      )}${inset(html`<p>Safe to practise unsupervised for ${framework.title}. The care worker must agree to the sign-off.</p>`)}`,
      fields: ['careWorkerConsent'],
      body: (v, e) => choices('checkbox', 'careWorkerConsent', 'Consent', [{ value: 'yes', label: `${careWorker.name} agrees to this sign-off` }], v, e),
      submit: 'Sign off the competence',
      check: (v) => (v.careWorkerConsent === 'yes' ? {} : { careWorkerConsent: `${careWorker.name} must agree before you sign off` }),
      send: (_v, idempotencyKey) => ({ path: `${api}/sign-off`, body: { idempotencyKey, careWorkerConsent: true } }),
      done,
    });
  }
  if (verb === 'assessment-not-passed') {
    return renderStep(ctx, {
      title: 'The assessment was not passed',
      caption,
      back,
      intro: inset(html`<p>Declining to sign off is normal: ${careWorker.name} goes back to supervised practice.</p>`),
      fields: ['feedback'],
      body: (v, e) => textarea('feedback', 'Your feedback to them', v, e),
      submit: 'Record the assessment',
      check: (v) => (v.feedback?.trim() ? {} : { feedback: 'Enter your feedback' }),
      send: (v, idempotencyKey) => ({ path: `${api}/assessment-not-passed`, body: { idempotencyKey, feedback: v.feedback!.trim() } }),
      done,
    });
  }
  if (verb === 'suspension' || verb === 'reinstatement') return renderCompetenceChange(ctx, { careWorkerId, framework, careWorker, you, detail, path, api, caption, back }, verb);
  ctx.navigate(path);
};

/**
 * Suspending a signed-off competence, or reinstating a suspended one: one screen each, with the
 * framework's words (who may decide, what it stops) and the delegations it touches; a reason always.
 */
const renderCompetenceChange = async (
  ctx: TrainerContext,
  c: { careWorkerId: string; framework: Framework; careWorker: Practitioner; you: string; detail: CompetenceDetail | undefined; path: string; api: string; caption: string; back: { href: string; words: string } },
  verb: 'suspension' | 'reinstatement',
) => {
  const { framework, careWorker, detail } = c;
  const suspending = verb === 'suspension';
  if (detail?.status !== (suspending ? 'signedOff' : 'suspended')) return ctx.navigate(c.path);
  const mine = await getJson<{ delegations: { delegationId: string; patientId: string; frameworkId: string; careWorkerId: string; activityId: string; status: string }[] }>(ctx, '/api/delegations');
  const touched = (mine?.delegations ?? []).filter((d) => d.careWorkerId === c.careWorkerId && d.frameworkId === framework.id && (suspending ? ['active', 'reviewDue'] : ['suspended']).includes(d.status));
  const people = await Promise.all(touched.map(async (d) => `${(await personFor(ctx, d.patientId))?.name ?? 'A person'}: ${framework.activities.find((a) => a.id === d.activityId)?.title ?? d.activityId}`));
  const suspension = [...detail.events].reverse().find((e) => e.type === 'CompetenceSuspended');
  const who = framework.competence.assessors?.length ? `a registered ${framework.competence.assessors.join(' or ')}` : 'a registered professional';
  const moduleTitle = (id: string) => framework.competence.trainingModules.find((m) => m.id === id)?.title ?? id;
  return renderStep(ctx, {
    title: suspending ? `Suspend ${careWorker.name}'s competence` : `Reinstate ${careWorker.name}'s competence`,
    caption: c.caption,
    back: c.back,
    intro: html`${summaryList(
      [
        ['Competence', html`${competenceTag({ status: detail.status, ...(detail.validUntil ? { validUntil: detail.validUntil } : {}) }, new Date())}${detail.validUntil ? ` valid until ${dayOf(detail.validUntil)}` : ''}`],
        ...(suspension && !suspending ? ([['Suspended', await competenceStepWords(ctx, suspension, moduleTitle)]] as [string, string][]) : []),
        [suspending ? 'Suspended by' : 'Reinstated by', html`<span id="decided-by">${c.you}</span><br><span class="nhsuk-body-s">From your own practitioner record</span>`],
        [suspending ? 'Delegations it suspends' : 'Delegations it restores', people.length ? html`<ul class="nhsuk-list">${people.map((p) => html`<li>${p}</li>`)}</ul>` : 'None of your delegations'],
      ],
      'competence-change-summary',
    )}
      ${inset(
        suspending
          ? html`<p>${framework.title}: ${framework.summary}</p><p>A competence is suspended by ${who} of the assessing team. While it is suspended ${careWorker.name} may not do this task for anyone: every delegation that depends on it is suspended at once, and ${careWorker.name}'s skills passport says who suspended it and why.</p>`
          : html`<p>Reinstating it makes the delegations its suspension suspended active again. It stays valid only until ${detail.validUntil ? dayOf(detail.validUntil) : 'its reassessment date'}: after that, reassess instead.</p>`,
      )}`,
    fields: ['reason'],
    body: (v, e) => textarea('reason', suspending ? 'Why are you suspending it?' : 'Why are you reinstating it?', v, e, suspending ? `For example, a dose given outside the instruction; ${careWorker.name} to repeat supervised practice` : 'For example, supervised practice repeated and observed satisfactory'),
    submit: suspending ? 'Suspend the competence' : 'Reinstate the competence',
    warning: suspending,
    check: (v) => (v.reason?.trim() ? {} : { reason: suspending ? 'Enter why you are suspending it' : 'Enter why you are reinstating it' }),
    send: (v, idempotencyKey) => ({ path: `${c.api}/${verb}`, body: { idempotencyKey, reason: v.reason!.trim() } }),
    done: () => c.path,
  });
};
