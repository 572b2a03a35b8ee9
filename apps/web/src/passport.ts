import { frameworkOf, practitionerFor, registrationWords } from './directory';
import { html } from './html';
import { backLink, getJson, summaryList, type StepContext } from './steps';
import { dayOf, timeOf } from './time';

/**
 * The skills passport: a care worker's competences across frameworks and employers, each current,
 * expiring, expired, suspended (or still in training), with its history: every step, who took it
 * and their registration, read from the competence's own stream (GET
 * /api/competences/{careWorkerId}/{frameworkId}). Printable: the print stylesheet leaves out the
 * app's header, links and buttons (app.css).
 */

export interface CompetenceRow {
  readonly careWorkerId: string;
  readonly frameworkId: string;
  readonly status: string;
  readonly validUntil?: string;
  readonly signedOffBy?: string;
}

/** Signed off but due for reassessment within this many days: "Expiring". */
export const EXPIRING_DAYS = 30;

/** The competence in words and colour (never colour alone): what the passport, the matrix and the delegation screens say. */
export const competenceState = (c: Pick<CompetenceRow, 'status' | 'validUntil'> | undefined, now: Date): { words: string; tag: string } => {
  if (!c || c.status === 'notStarted') return { words: 'Not trained', tag: 'nhsuk-tag--grey' };
  const until = c.validUntil ? Date.parse(c.validUntil) : NaN;
  switch (c.status) {
    case 'signedOff':
      if (Number.isFinite(until) && until <= now.getTime()) return { words: 'Expired', tag: 'nhsuk-tag--red' };
      if (Number.isFinite(until) && until - now.getTime() < EXPIRING_DAYS * 86_400_000) return { words: 'Expiring', tag: 'nhsuk-tag--yellow' };
      return { words: 'Current', tag: 'nhsuk-tag--green' };
    case 'lapsed':
      return { words: 'Expired', tag: 'nhsuk-tag--red' };
    case 'suspended':
      return { words: 'Suspended', tag: 'nhsuk-tag--orange' };
    case 'revoked':
      return { words: 'Revoked', tag: 'nhsuk-tag--red' };
    case 'inTraining':
      return { words: 'In training', tag: 'nhsuk-tag--blue' };
    case 'supervisedPractice':
      return { words: 'Supervised practice', tag: 'nhsuk-tag--blue' };
    case 'readyForAssessment':
      return { words: 'Ready for assessment', tag: 'nhsuk-tag--blue' };
    default:
      return { words: c.status, tag: 'nhsuk-tag--grey' };
  }
};

export const competenceTag = (c: Pick<CompetenceRow, 'status' | 'validUntil'> | undefined, now: Date) => {
  const s = competenceState(c, now);
  return html`<strong class="nhsuk-tag ${s.tag}">${s.words}</strong>`;
};

export interface CompetenceDetail {
  readonly careWorkerId: string;
  readonly frameworkId: string;
  readonly status: string;
  readonly validUntil: string | null;
  readonly modulesCompleted: readonly string[];
  readonly satisfactoryPractices: number;
  readonly events: readonly { type: string; data: Record<string, unknown>; occurredAt: string; actor?: { id?: string; organisation?: string } }[];
}

type Person = { practitionerId?: string; registration?: { system: string; value: string } };

/** One step of a competence in words: what happened and who vouched for it (with their registration). */
export const competenceStepWords = async (ctx: StepContext, e: CompetenceDetail['events'][number], moduleTitle: (id: string) => string): Promise<string> => {
  const who = async (p: Person | undefined) => {
    if (!p?.practitionerId) return '';
    const name = (await practitionerFor(ctx, p.practitionerId)).name;
    return p.registration ? `${name} (${registrationWords(p.registration)})` : name;
  };
  const d = e.data;
  switch (e.type) {
    case 'TrainingStarted':
      return `Training started by ${await who((d.assessingTeam as { startedBy?: Person } | undefined)?.startedBy ?? { practitionerId: e.actor?.id ?? '' })}`;
    case 'TrainingModuleCompleted':
      return `Module completed: ${moduleTitle(String(d.moduleId))}`;
    case 'TrainingCompleted':
      return 'Training completed';
    case 'SupervisedPracticeRecorded':
      return `Supervised practice ${String(d.satisfactoryCount)} of ${String(d.required)}: ${d.outcome === 'satisfactory' ? 'satisfactory' : 'needs more practice'}, observed by ${await who(d.observer as Person)}`;
    case 'ReadyForAssessment':
      return 'Ready for assessment';
    case 'CompetenceSignedOff':
      return `Signed off by ${await who(d.assessor as Person)}, with the care worker's consent, valid until ${dayOf(String(d.validUntil))}`;
    case 'CompetenceAssessmentNotPassed':
      return `Assessment not passed (${await who(d.assessor as Person)}): ${String(d.feedback)}`;
    case 'CompetenceLapsed':
      return 'Lapsed: not reassessed in time';
    case 'CompetenceSuspended':
      return `Suspended by ${await who(d.by as Person)}: ${String(d.reason)}`;
    case 'CompetenceRevoked':
      return `Revoked by ${await who(d.by as Person)}: ${String(d.reason)}`;
    case 'CompetenceReinstated':
      return `Reinstated by ${await who(d.by as Person)}: ${String(d.reason)}`;
    default:
      return e.type;
  }
};

export const renderPassport = async (ctx: StepContext & { readonly home: { href: string; words: string } }, careWorkerId: string) => {
  const now = new Date();
  const [me, list, roles] = await Promise.all([
    practitionerFor(ctx, careWorkerId),
    getJson<{ competences: CompetenceRow[] }>(ctx, `/api/competences/${encodeURIComponent(careWorkerId)}`),
    getJson<{ entry?: { resource?: { organization?: { reference?: string } } }[] }>(ctx, `/fhir/PractitionerRole?practitioner=Practitioner/${encodeURIComponent(careWorkerId)}`),
  ]);
  if (!list) return ctx.show('Skills passport', html`${backLink(ctx.home.href, ctx.home.words)}<h1>Skills passport</h1><p>This passport could not be read.</p>`);
  const organisationName = async (ref: string | undefined) => {
    const id = ref?.replace(/^Organization\//, '');
    if (!id) return undefined;
    const org = await getJson<{ name?: string }>(ctx, `/fhir/Organization/${encodeURIComponent(id)}`);
    return org?.name ?? id;
  };
  const employers = (await Promise.all((roles?.entry ?? []).map((e) => organisationName(e.resource?.organization?.reference)))).filter((x): x is string => Boolean(x));
  const cards = await Promise.all(
    list.competences.map(async (c) => {
      const [framework, detail] = await Promise.all([frameworkOf(ctx, c.frameworkId), getJson<CompetenceDetail>(ctx, `/api/competences/${encodeURIComponent(careWorkerId)}/${encodeURIComponent(c.frameworkId)}`)]);
      const moduleTitle = (id: string) => framework?.competence.trainingModules.find((m) => m.id === id)?.title ?? id;
      const started = detail?.events.find((e) => e.type === 'TrainingStarted')?.data.assessingTeam as { organisationId?: string } | undefined;
      const team = started?.organisationId ? await organisationName(started.organisationId) : undefined;
      const signedOff = [...(detail?.events ?? [])].reverse().find((e) => e.type === 'CompetenceSignedOff');
      // Suspended: who suspended it and why, where the state is read (not only in the history).
      const suspended = c.status === 'suspended' ? [...(detail?.events ?? [])].reverse().find((e) => e.type === 'CompetenceSuspended') : undefined;
      const steps = await Promise.all((detail?.events ?? []).map(async (e) => ({ at: e.occurredAt, words: await competenceStepWords(ctx, e, moduleTitle) })));
      const state = competenceState(c, now);
      return html`<li class="nhsuk-card nhsuk-u-margin-bottom-4 app-passport-card" data-framework="${c.frameworkId}" data-state="${state.words}"><div class="nhsuk-card__content">
        <h2 class="nhsuk-card__heading nhsuk-heading-m">${framework?.title ?? c.frameworkId}</h2>
        <p class="nhsuk-u-margin-bottom-2">${competenceTag(c, now)}${c.validUntil ? ` ${state.words === 'Expired' ? 'Expired' : 'Valid until'} ${dayOf(c.validUntil)}` : ''}</p>
        ${suspended ? html`<p class="nhsuk-u-margin-bottom-2" data-suspended>${await competenceStepWords(ctx, suspended, moduleTitle)}, ${dayOf(suspended.occurredAt)}. Not to be delegated to until it is reinstated.</p>` : ''}
        ${summaryList([
          ['Signed off by', signedOff ? await competenceStepWords(ctx, signedOff, moduleTitle).then((w) => w.replace(/^Signed off by /, '').replace(/, with the care worker's consent.*$/, '')) : 'Not signed off'],
          ['Assessing team', team ?? 'Not recorded'],
        ])}
        <h3 class="nhsuk-heading-s">History</h3>
        <ol class="nhsuk-list nhsuk-list--number nhsuk-body-s">${steps.map((s) => html`<li>${dayOf(s.at)}, ${timeOf(s.at)}: ${s.words}</li>`)}</ol>
      </div></li>`;
    }),
  );
  ctx.show(
    `Skills passport: ${me.name}`,
    html`${backLink(ctx.home.href, ctx.home.words)}
      <h1><span class="nhsuk-caption-l">Skills passport</span>${me.name}</h1>
      <p>Employed by ${employers.length ? employers.join(', ') : 'no organisation recorded'}. Competences are the care worker's own: they go with them to every employer and every person they care for.</p>
      <p class="nhsuk-body-s">As Tandem held it on ${dayOf(now.toISOString())} at ${timeOf(now.toISOString())}.</p>
      <button class="nhsuk-button nhsuk-button--secondary app-no-print" type="button" id="print-passport">Print this passport</button>
      ${cards.length ? html`<ul class="nhsuk-list app-people" id="passport">${cards}</ul>` : html`<p id="passport-empty">No competences recorded yet.</p>`}`,
  );
  document.getElementById('print-passport')?.addEventListener('click', () => window.print());
};

