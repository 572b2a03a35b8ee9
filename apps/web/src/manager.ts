import { personOf, type Person } from './day';
import { allFrameworks, careTeamOf, personFor, practitionerFor, staffOf } from './directory';
import { html } from './html';
import { competenceState, competenceTag, type CompetenceRow } from './passport';
import { backLink, choices, getJson, inset, renderStep, type StepContext } from './steps';
import { dayOf, timeOf } from './time';

/**
 * The registered manager of a care service: what nobody has acknowledged (the service's prompts
 * and escalations still waiting), the people the service cares for with their care workers (and
 * assigning one: AddCareTeamMember, the record's own command), and the team's competence matrix
 * (care worker x framework, with expiry). Her reach is the policy's: the people someone of her
 * organisation cares for, or whom she registered.
 */

export interface ManagerContext extends StepContext {
  readonly userId: string;
  /** Her organisation (the token's `org`): the care workers she assigns are its own. */
  readonly organisationId?: string;
}

interface OpenEscalation {
  readonly escalationId: string;
  readonly patientId: string;
  readonly ruleId?: string;
  readonly urgency: string;
  readonly status: string;
  readonly tierNumber?: number;
  readonly tier?: number;
  readonly raisedAt: string;
  readonly dueAt?: string;
  readonly sbard?: { situation?: string };
}
interface OpenPrompt {
  readonly promptId: string;
  readonly patientId: string;
  readonly careWorkerId: string;
  readonly title: string;
  readonly issuedAt: string;
  readonly acknowledgedBy?: string;
}

/** A late or missed visit as the manager acts on it: when it was planned, and who was to go. */
interface VisitAtIssue {
  readonly start: string;
  readonly end: string;
  readonly careWorkerIds: readonly string[];
}

/** What the record's visit rules raise (services/delegation care-visits ruleset): said in the manager's words. */
const VISIT_WORDS: Readonly<Record<string, string>> = {
  'visit.missed': 'Visit missed: nobody checked in before its planned end',
  'visit.late': 'Visit late: nobody has checked in yet',
};

/**
 * The visit a late or missed visit's escalation is about: its id is in the escalation's raising
 * (GET /api/escalations/:id), its planned time and care workers in its FHIR Appointment.
 */
const visitAtIssue = async (ctx: StepContext, escalationId: string): Promise<VisitAtIssue | undefined> => {
  const detail = await getJson<{ events?: { type: string; data: { visitId?: string } }[] }>(ctx, `/api/escalations/${encodeURIComponent(escalationId)}`);
  const visitId = detail?.events?.find((e) => e.type === 'EscalationRaised')?.data.visitId;
  const appointment = visitId ? await getJson<{ start?: string; end?: string; participant?: { actor?: { reference?: string } }[] }>(ctx, `/fhir/Appointment/${encodeURIComponent(visitId)}`) : undefined;
  if (!appointment?.start || !appointment.end) return undefined;
  const careWorkerIds = (appointment.participant ?? []).map((p) => /^Practitioner\/(.+)$/.exec(p.actor?.reference ?? '')?.[1]).filter((id): id is string => Boolean(id));
  return { start: appointment.start, end: appointment.end, careWorkerIds };
};

const peopleOf = async (ctx: StepContext): Promise<Person[]> => {
  const bundle = await getJson<{ entry?: { resource?: Record<string, unknown> }[] }>(ctx, '/fhir/Patient?_count=500');
  return (bundle?.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is Record<string, unknown> => r?.resourceType === 'Patient')
    .map(personOf)
    .sort((a, b) => a.name.localeCompare(b.name));
};

export const renderService = async (ctx: ManagerContext) => {
  ctx.show('My service', html`<h1>My service</h1><p>Loading…</p>`);
  const people = await peopleOf(ctx);
  const [escalations, prompts, teams] = await Promise.all([
    getJson<{ escalations: OpenEscalation[] }>(ctx, '/api/escalations?open=true'),
    Promise.all(people.map((p) => getJson<{ prompts: OpenPrompt[] }>(ctx, `/api/prompts?patientId=${encodeURIComponent(p.id)}&open=true`))),
    Promise.all(people.map((p) => careTeamOf(ctx, p.id))),
  ]);
  const nameOfPerson = (id: string) => people.find((p) => p.id === id)?.name ?? 'A person';
  // Nobody has acknowledged: an escalation still waiting at its tier, a prompt no care worker has acknowledged.
  const waiting = (escalations?.escalations ?? []).filter((e) => e.status === 'sentToTier' || e.status === 'raised');
  const unacknowledgedPrompts = prompts.flatMap((p) => p?.prompts ?? []).filter((p) => !p.acknowledgedBy);
  const visits = new Map(await Promise.all(waiting.filter((e) => e.ruleId && VISIT_WORDS[e.ruleId]).map(async (e) => [e.escalationId, await visitAtIssue(ctx, e.escalationId)] as const)));
  const workerNames = new Map(
    await Promise.all(
      [...new Set([...teams.flat().map((m) => m.practitionerId), ...unacknowledgedPrompts.map((p) => p.careWorkerId), ...[...visits.values()].flatMap((v) => v?.careWorkerIds ?? [])])].map(async (id) => [id, (await practitionerFor(ctx, id)).name] as const),
    ),
  );
  const me = await practitionerFor(ctx, ctx.userId);
  ctx.show(
    'My service',
    html`<h1 class="nhsuk-u-margin-bottom-2">My service</h1>
      <p class="nhsuk-body-s">Signed in as ${me.name}. <button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small nhsuk-u-margin-bottom-0" type="button" id="sign-out">Sign out</button></p>
      <p><a href="/team/competences" data-link>The team's competences</a></p>
      <h2 class="nhsuk-heading-m">Nobody has acknowledged</h2>
      ${waiting.length || unacknowledgedPrompts.length
        ? html`<ul class="nhsuk-list" id="unacknowledged">
            ${waiting.map((e) => {
              const visit = visits.get(e.escalationId);
              const visitWords = e.ruleId ? VISIT_WORDS[e.ruleId] : undefined;
              return html`<li class="nhsuk-card nhsuk-u-margin-bottom-3" data-escalation="${e.escalationId}"><div class="nhsuk-card__content">
                <p class="nhsuk-u-margin-bottom-1"><strong class="nhsuk-tag ${e.urgency === 'emergency' ? 'nhsuk-tag--red' : e.urgency === 'urgent' ? 'nhsuk-tag--orange' : 'nhsuk-tag--blue'}">Escalation: ${e.urgency}</strong> <strong class="nhsuk-tag nhsuk-tag--red">Not acknowledged</strong></p>
                <h3 class="nhsuk-heading-s nhsuk-u-margin-bottom-1">${nameOfPerson(e.patientId)}</h3>
                <p class="nhsuk-u-margin-bottom-1">${visitWords ?? e.sbard?.situation ?? ''}</p>
                ${visit
                  ? html`<p class="nhsuk-u-margin-bottom-1" data-visit-planned>Visit planned ${timeOf(visit.start)} to ${timeOf(visit.end)}, ${dayOf(visit.start)}</p>
                      <p class="nhsuk-u-margin-bottom-1" data-visit-care-workers>Care workers: ${visit.careWorkerIds.length ? visit.careWorkerIds.map((id) => workerNames.get(id) ?? id).join(', ') : 'none planned'}</p>`
                  : ''}
                <p class="nhsuk-body-s nhsuk-u-margin-bottom-2">Raised ${dayOf(e.raisedAt)}, ${timeOf(e.raisedAt)}${e.tierNumber ? `; with tier ${e.tierNumber}` : ''}${e.dueAt ? `, until ${timeOf(e.dueAt)}` : ''}.</p>
                <a href="/escalations/${e.escalationId}" data-link>Open and acknowledge it<span class="nhsuk-u-visually-hidden"> (${nameOfPerson(e.patientId)})</span></a>
              </div></li>`;
            })}
            ${unacknowledgedPrompts.map(
              (p) => html`<li class="nhsuk-card nhsuk-u-margin-bottom-3" data-prompt="${p.promptId}"><div class="nhsuk-card__content">
                <p class="nhsuk-u-margin-bottom-1"><strong class="nhsuk-tag nhsuk-tag--yellow">Prompt</strong> <strong class="nhsuk-tag nhsuk-tag--red">Not acknowledged</strong></p>
                <h3 class="nhsuk-heading-s nhsuk-u-margin-bottom-1">${nameOfPerson(p.patientId)}: ${p.title}</h3>
                <p class="nhsuk-body-s nhsuk-u-margin-bottom-0">For ${workerNames.get(p.careWorkerId) ?? p.careWorkerId}, since ${dayOf(p.issuedAt)}, ${timeOf(p.issuedAt)}.</p>
              </div></li>`,
            )}</ul>`
        : html`<p id="unacknowledged-none">Everything has been acknowledged.</p>`}
      <h2 class="nhsuk-heading-m">The people your service cares for</h2>
      <ul class="nhsuk-list app-people" id="service-people">${people.map((p, i) => {
        const workers = (teams[i] ?? []).filter((m) => m.teamRole === 'Care worker').map((m) => workerNames.get(m.practitionerId) ?? m.practitionerId);
        return html`<li class="nhsuk-card nhsuk-u-margin-bottom-3" data-person="${p.id}"><div class="nhsuk-card__content">
          <h3 class="nhsuk-card__heading nhsuk-heading-s">${p.name}</h3>
          <p class="nhsuk-u-margin-bottom-2" data-care-workers>Care workers: ${workers.length ? workers.join(', ') : 'none assigned'}</p>
          <a href="/people/${p.id}/care-team/new" data-link>Assign a care worker<span class="nhsuk-u-visually-hidden"> to ${p.name}</span></a>
        </div></li>`;
      })}</ul>`,
  );
};

export const renderAssign = async (ctx: ManagerContext, patientId: string) => {
  const person = await personFor(ctx, patientId);
  if (!person) return ctx.show('Not found', html`${backLink('/', 'Back to my service')}<h1>Person not found</h1><p>Your service does not care for them.</p>`);
  const [team, staff] = await Promise.all([careTeamOf(ctx, patientId), ctx.organisationId ? staffOf(ctx, ctx.organisationId, 'Care worker') : Promise.resolve([])]);
  const already = new Set(team.filter((m) => m.teamRole === 'Care worker').map((m) => m.practitionerId));
  const options = staff.filter((s) => !already.has(s.id)).map((s) => ({ value: s.id, label: s.name }));
  if (!options.length) return ctx.show('Assign a care worker', html`${backLink('/', 'Back to my service')}<h1>Every care worker of your service is already on ${person.name}'s care team</h1>`);
  renderStep(ctx, {
    title: `Who will care for ${person.name}?`,
    caption: 'Assign a care worker',
    back: { href: '/', words: 'Back to my service' },
    intro: inset(html`<p>They join ${person.name}'s care team: they see ${person.name} on their day and may record their care. A nurse delegates any healthcare task separately.</p>`),
    fields: ['practitionerId'],
    body: (v, e) => choices('radio', 'practitionerId', 'Care workers of your service', options, v, e),
    submit: 'Assign the care worker',
    check: (v) => (v.practitionerId ? {} : { practitionerId: 'Choose a care worker' }),
    send: (v, idempotencyKey) => ({ path: `/api/patients/${encodeURIComponent(patientId)}/care-team`, body: { idempotencyKey, occurredAt: new Date().toISOString(), practitionerId: v.practitionerId, teamRole: 'care-worker' } }),
    done: () => '/',
  });
};

export const renderMatrix = async (ctx: ManagerContext) => {
  const now = new Date();
  const [frameworks, staff] = await Promise.all([allFrameworks(ctx), ctx.organisationId ? staffOf(ctx, ctx.organisationId, 'Care worker') : Promise.resolve([])]);
  const passports = await Promise.all(staff.map((s) => getJson<{ competences: CompetenceRow[] }>(ctx, `/api/competences/${encodeURIComponent(s.id)}`)));
  ctx.show(
    "The team's competences",
    html`${backLink('/', 'Back to my service')}
      <h1>The team's competences</h1>
      <p class="nhsuk-body-s">Each care worker's competence for each framework, with the date it must be reassessed by. Expiring: within 30 days.</p>
      <div class="app-table-scroll"><table class="nhsuk-table" id="matrix">
        <caption class="nhsuk-table__caption nhsuk-u-visually-hidden">Care workers by framework</caption>
        <thead class="nhsuk-table__head"><tr class="nhsuk-table__row"><th scope="col" class="nhsuk-table__header">Care worker</th>${frameworks.map((f) => html`<th scope="col" class="nhsuk-table__header">${f.title}</th>`)}</tr></thead>
        <tbody class="nhsuk-table__body">${staff.map((s, i) => html`<tr class="nhsuk-table__row" data-care-worker="${s.id}">
          <th scope="row" class="nhsuk-table__cell"><a href="/care-workers/${s.id}/passport" data-link>${s.name}<span class="nhsuk-u-visually-hidden">'s skills passport</span></a></th>
          ${frameworks.map((f) => {
            const c = passports[i]?.competences.find((x) => x.frameworkId === f.id);
            return html`<td class="nhsuk-table__cell" data-framework="${f.id}" data-state="${competenceState(c, now).words}">${competenceTag(c, now)}${c?.validUntil ? html`<br><span class="nhsuk-body-s">until ${dayOf(c.validUntil)}</span>` : ''}</td>`;
          })}</tr>`)}</tbody>
      </table></div>`,
  );
};
