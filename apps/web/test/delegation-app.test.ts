import { loadConfig, startTandem, type RunningTandem } from '@tandem/app';
import { mintToken, type MintClaims } from '@tandem/auth';
import type { createRecordService } from '@tandem/record';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Page } from 'playwright-core';
import { DEMO, seedDemoData } from '../../tandem/src/demo/demo-data';
import { httpDesk, setUpInsulinDelegation } from '../../tandem/src/demo/insulin-delegation';
import { axeViolations, buildApp, chromiumMissing, launchPhone } from './browser';

const missing = chromiumMissing();
if (missing) console.log(missing);
const describeInBrowser = missing ? describe.skip : describe;

const SCREENSHOTS = process.env.TANDEM_WEB_SCREENSHOTS === '1' ? join(__dirname, '..', '..', '..', 'docs', 'screenshots') : undefined;

/**
 * Issue 11's delegation, skills passport and registered manager, in Debian's Chromium against a
 * real embedded Tandem with fresh demo data (one server for the file): Sarah delegates Mr Jones's
 * evening insulin to Amira in the app, one decision a screen (every failing criterion of the
 * framework listed at once), trains and signs Amira off in her own name and registration, records
 * Mr Jones's agreement; Amira accepts on her own phone; Sarah activates, reviews, suspends,
 * reactivates and ends it. Amira's skills passport shows the competence with who signed it and
 * prints without the app's controls. Helen, the care agency's registered manager, sees what nobody
 * has acknowledged, assigns Tom to Mr Jones and reads her team's competence matrix. Then Sarah
 * suspends a new delegation (Amira's day stops offering it) and withdraws it, and suspends Amira's
 * competence, which her skills passport shows with who and why (H94, H96).
 */
describeInBrowser('delegation, the skills passport and the registered manager in the app', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  const closers: (() => Promise<void>)[] = [];
  let sarah: Page;
  let jonesId: string;
  let delegationPath: string;
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const AMIRA = DEMO.careWorkers[0]!;
  const amiraClaims: MintClaims = { role: 'care-worker', user: AMIRA.practitionerId, org: DEMO.careAgency.organisationId };
  const sarahClaims: MintClaims = { role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration };

  const api = async <T>(claims: MintClaims, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${tandem.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${await token(claims)}`, 'content-type': 'application/json', 'x-tandem-min-position': String(await tandem.storage.store.headPosition()) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  const expectAccessible = async (p: Page, what: string) => {
    const violations = await axeViolations(p);
    expect({ page: what, violations }).toEqual({ page: what, violations: [] });
  };
  const screenshot = async (p: Page, name: string) => {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await p.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
  };
  const phoneSignedInAs = async (name: string) => {
    const { context, close } = await launchPhone();
    closers.push(close);
    const p = context.pages()[0] ?? (await context.newPage());
    p.setDefaultTimeout(15_000);
    if (process.env.TANDEM_WEB_DEBUG) p.on('console', (m) => console.log(`browser (${name}): ${m.text()}`));
    await p.goto(tandem.url);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('button', { name: `Sign in as ${name}` }).click();
    return { context, page: p };
  };
  const heading = (p: Page, name: string | RegExp) => p.getByRole('heading', { level: 1, name }).waitFor();
  const submit = (p: Page, name: string) => p.getByRole('button', { name, exact: true }).click();

  beforeAll(async () => {
    buildApp();
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-delegation-web-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    const { patientIds } = await seedDemoData(record.care, { patients: 3, days: 2, now: new Date() });
    jonesId = patientIds[0]!;
    ({ page: sarah } = await phoneSignedInAs('Sarah Okafor'));
  }, 240_000);

  afterAll(async () => {
    for (const close of closers) await close().catch(() => undefined);
    await tandem?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("lets Sarah propose Mr Jones's evening insulin for Amira one decision a screen, with every criterion the framework finds unmet listed at once", async () => {
    await heading(sarah, 'My caseload');
    await sarah.getByRole('link', { name: 'Delegations for Mr Arthur Jones' }).click();
    await heading(sarah, /Delegations/);
    await sarah.getByRole('link', { name: 'Delegate a task for Mr Arthur Jones' }).click();
    await heading(sarah, 'Which task are you delegating?');
    // The framework's own words beside the choice.
    expect(await sarah.locator('#step-form').textContent()).toContain('A district nurse delegates giving insulin by pen to a trained, signed-off care worker');
    await expectAccessible(sarah, 'choose the task');
    await sarah.getByLabel('Give insulin by pen as instructed').check();
    await submit(sarah, 'Continue');
    await heading(sarah, 'Who are you delegating it to?');
    // Amira is on his care team, not trained yet: the delegation can be proposed, not activated.
    expect(await sarah.locator('#step-form').textContent()).toMatch(/Amira Hassan\s*Not trained/);
    await sarah.getByLabel('Amira Hassan').check();
    await submit(sarah, 'Continue');
    await heading(sarah, 'The person-specific instruction');
    // Nothing typed: each missing answer is named at its field.
    await submit(sarah, 'Continue');
    await sarah.locator('#error-summary').waitFor();
    expect(await sarah.locator('#error-summary a[data-field="instruction.dose.value"]').textContent()).toBe('Enter the dose as a number of units, like 10');
    await expectAccessible(sarah, 'instruction with errors');
    await sarah.getByLabel('Humulin I KwikPen').check();
    await sarah.getByLabel('Dose, in units').fill('10');
    await sarah.getByLabel('Times of day').fill('18:00');
    await sarah.getByLabel('Abdomen').check();
    await sarah.getByLabel('Thigh').check();
    await sarah.getByLabel('Blood glucose target: low, in mmol/L').fill('6');
    await sarah.getByLabel('Blood glucose target: high, in mmol/L').fill('10');
    await sarah.getByLabel('Minimum time between doses, in minutes').fill('240');
    await sarah.getByLabel('What to do when the blood glucose is out of range').fill('Below 4.0 mmol/L: follow the hypo protocol, do not give insulin, tell the nurse.');
    await submit(sarah, 'Continue');
    await heading(sarah, "Does Mr Arthur Jones meet the framework's criteria?");
    // The age is the record's, from his birth date: never asked.
    expect(await sarah.locator('#from-record').textContent()).toMatch(/An adult \(18 or over\)\s*\d+ years old, from the birth date in the record/);
    expect(await sarah.getByLabel(/ageYears|age/i).count()).toBe(0);
    await sarah.getByRole('group', { name: 'Diabetes is stable, as judged by the delegating nurse' }).getByLabel('No').check();
    await sarah.getByRole('group', { name: 'Insulin is given by pen' }).getByLabel('No').check();
    await submit(sarah, 'Propose the delegation');
    // Tandem refuses it, naming both unmet criteria at once, each linked to its question.
    await sarah.locator('#error-summary').waitFor();
    const errors = await sarah.locator('#error-summary li').allTextContents();
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain('Diabetes is stable, as judged by the delegating nurse');
    expect(errors[1]).toContain('Insulin is given by pen');
    expect(await sarah.locator('#error-summary a[data-field]').evaluateAll((as) => as.map((a) => (a as HTMLElement).dataset.field))).toEqual(['eligibility.diabetesStable', 'eligibility.insulinDevice']);
    expect((await api<{ delegations: unknown[] }>(sarahClaims, 'GET', `/api/delegations?patientId=${jonesId}`)).body.delegations).toEqual([]);
    await expectAccessible(sarah, 'eligibility refused');
    await screenshot(sarah, '14-nurse-eligibility-refused.png');
    await sarah.getByRole('group', { name: 'Diabetes is stable, as judged by the delegating nurse' }).getByLabel('Yes').check();
    await sarah.getByRole('group', { name: 'Insulin is given by pen' }).getByLabel('Yes').check();
    await submit(sarah, 'Propose the delegation');
    await heading(sarah, 'Give insulin by pen as instructed');
    delegationPath = new URL(sarah.url()).pathname;
    expect(await sarah.locator('#delegation-status').textContent()).toContain('Proposed');
    expect(await sarah.locator('#delegation-summary').textContent()).toContain('10 units of Humulin I KwikPen by pen at 18:00');
    expect(await sarah.locator('#waiting-for').textContent()).toBe('Waiting for Amira Hassan to accept or decline it in their app.');
    await expectAccessible(sarah, 'delegation proposed');
  }, 120_000);

  it('lets Sarah train Amira, observe her supervised doses and sign her off in her own name and registration, with her consent', async () => {
    await sarah.getByRole('link', { name: 'Training and sign-off for Amira Hassan' }).click();
    await heading(sarah, /Insulin administration by pen: training and sign-off/);
    await sarah.getByRole('link', { name: "Start Amira Hassan's training" }).click();
    await heading(sarah, "Start Amira Hassan's training");
    await submit(sarah, 'Start the training');
    await heading(sarah, /training and sign-off/);
    await sarah.getByRole('link', { name: 'Record the next module completed' }).click();
    const titles: string[] = [];
    for (let i = 0; i < 5; i++) {
      await heading(sarah, 'Has Amira Hassan completed this module?');
      titles.push((await sarah.locator('#module-title').textContent()) ?? '');
      if (i === 0) await expectAccessible(sarah, 'training module');
      await submit(sarah, 'Record the module completed');
      // Each module is its own screen: wait for the next one (or the record) before going on.
      await sarah.waitForFunction((seen) => document.querySelector('#module-title')?.textContent !== seen, titles[i]);
    }
    expect(titles[0]).toBe('Diabetes awareness (e-learning)');
    expect(new Set(titles).size).toBe(5);
    await heading(sarah, /training and sign-off/);
    for (let n = 0; n < 20 && (await sarah.getByRole('link', { name: 'Assess and sign off' }).count()) === 0; n++) {
      await sarah.getByRole('link', { name: 'Record a supervised practice' }).click();
      await heading(sarah, 'How did the supervised practice go?');
      expect(await sarah.getByText('Observed by you: Sarah Okafor, NMC 12A3456E.').isVisible()).toBe(true);
      await sarah.getByLabel('Satisfactory').check();
      await submit(sarah, 'Record the supervised practice');
      await sarah.waitForFunction(() => !document.querySelector('button[type=submit]')?.hasAttribute('disabled'));
      if (await sarah.getByRole('heading', { level: 1, name: 'How did the supervised practice go?' }).count()) await sarah.getByRole('link', { name: 'Back to the training record' }).click();
      await heading(sarah, /training and sign-off/);
    }
    await sarah.getByRole('link', { name: 'Assess and sign off' }).click();
    await heading(sarah, 'Sign off Amira Hassan as competent');
    // Her registration is read from her own record, not typed.
    expect(await sarah.locator('#assessor').textContent()).toBe('Sarah Okafor, NMC 12A3456E');
    await submit(sarah, 'Sign off the competence');
    expect(await sarah.locator('#error-summary a[data-field="careWorkerConsent"]').textContent()).toBe('Amira Hassan must agree before you sign off');
    await expectAccessible(sarah, 'sign-off with an error');
    await sarah.getByLabel('Amira Hassan agrees to this sign-off').check();
    await screenshot(sarah, '15-nurse-sign-off.png');
    await submit(sarah, 'Sign off the competence');
    await sarah.locator('#competence-status').getByText('Current').waitFor();
    expect(await sarah.locator('#history').textContent()).toContain("Signed off by Sarah Okafor (NMC 12A3456E), with the care worker's consent");
    await expectAccessible(sarah, 'training record signed off');
  }, 120_000);

  it("records Mr Jones's agreement; Amira accepts on her own phone; Sarah activates, reviews, suspends, reactivates and ends it", async () => {
    await sarah.goto(`${tandem.url}${delegationPath}`);
    await heading(sarah, 'Give insulin by pen as instructed');
    await sarah.getByRole('link', { name: "Record Mr Arthur Jones's agreement" }).click();
    await heading(sarah, 'Has Mr Arthur Jones agreed to Amira Hassan doing this?');
    await expectAccessible(sarah, 'agreement');
    await sarah.getByLabel('Mr Arthur Jones agreed').check();
    await submit(sarah, 'Record the agreement');
    await heading(sarah, 'Give insulin by pen as instructed');
    expect(await sarah.locator('#delegation-summary').textContent()).toContain("Person's agreementRecorded");

    const amira = await phoneSignedInAs('Amira Hassan');
    await heading(amira.page, 'My day');
    const waiting = amira.page.locator('[data-awaiting]');
    await waiting.waitFor();
    expect(await waiting.textContent()).toContain('Mr Arthur Jones');
    await waiting.getByRole('link', { name: /Read it and answer/ }).click();
    await heading(amira.page, 'Will you take on this delegation?');
    expect(await amira.page.locator('#answer-summary').textContent()).toMatch(/Delegated bySarah Okafor.*10 units of Humulin I KwikPen/s);
    await expectAccessible(amira.page, 'care worker answers a delegation');
    await screenshot(amira.page, '16-care-worker-answer.png');
    await amira.page.getByLabel('Yes, I accept it').check();
    await submit(amira.page, 'Send my answer');
    await heading(amira.page, 'My day');
    await amira.context.close();

    await sarah.reload();
    await heading(sarah, 'Give insulin by pen as instructed');
    expect(await sarah.locator('#delegation-status').textContent()).toContain('Accepted');
    await sarah.getByRole('link', { name: 'Activate the delegation' }).click();
    await heading(sarah, 'Activate the delegation');
    expect(await sarah.locator('#step-form').count()).toBe(1);
    expect(await sarah.getByText(/Amira Hassan's competence\s*Current/).count()).toBeGreaterThan(0);
    await submit(sarah, 'Activate the delegation');
    await sarah.locator('#delegation-status').getByText('Active').waitFor();
    expect(await sarah.locator('#delegation-summary').textContent()).toMatch(/Review due/);

    await sarah.getByRole('link', { name: 'Review the delegation' }).click();
    await submit(sarah, 'Record the review');
    expect(await sarah.locator('#error-summary a[data-field="notes"]').textContent()).toBe('Enter what you reviewed and found');
    await sarah.getByLabel('What you reviewed and found').fill('Glucose in range, technique observed');
    await submit(sarah, 'Record the review');
    await sarah.locator('#history').getByText(/Reviewed, .*: Glucose in range, technique observed/).waitFor();

    await sarah.getByRole('link', { name: 'Suspend it' }).click();
    await heading(sarah, 'Suspend the delegation');
    await expectAccessible(sarah, 'suspend');
    await sarah.getByLabel('Why').fill('Admitted to hospital overnight');
    await submit(sarah, 'Suspend the delegation');
    await sarah.locator('#delegation-status').getByText('Suspended').waitFor();
    expect(await sarah.locator('#delegation-status').textContent()).toContain('Admitted to hospital overnight');
    await sarah.getByRole('link', { name: 'Reactivate the delegation' }).click();
    await submit(sarah, 'Reactivate the delegation');
    await sarah.locator('#delegation-status').getByText('Active').waitFor();
    await screenshot(sarah, '17-nurse-delegation.png');

    await sarah.getByRole('link', { name: 'End it', exact: true }).click();
    await sarah.getByLabel('Why').fill('Mr Jones now gives his own insulin');
    await submit(sarah, 'End the delegation');
    await sarah.locator('#delegation-status').getByText('Ended').waitFor();
    const stored = await api<{ status: string; events: { type: string; actor: { id: string } }[] }>(sarahClaims, 'GET', `/api/delegations/${delegationPath.split('/').pop()}`);
    expect(stored.body.status).toBe('ended');
    expect(stored.body.events.map((e) => e.type)).toEqual([
      'DelegationProposed',
      'PersonAgreementRecorded',
      'DelegationAccepted',
      'DelegationActivated',
      'DelegationReviewed',
      'DelegationSuspended',
      'DelegationActivated',
      'DelegationEnded',
    ]);
    expect(stored.body.events.find((e) => e.type === 'DelegationAccepted')?.actor.id).toBe(AMIRA.practitionerId);
  }, 120_000);

  it("shows Amira's skills passport with her competence current, who signed it and its history, and prints it without the app's controls", async () => {
    await sarah.getByRole('link', { name: 'Skills passport of Amira Hassan' }).click();
    await heading(sarah, 'Amira Hassan');
    const card = sarah.locator('[data-framework="insulin-administration"]');
    expect(await card.getAttribute('data-state')).toBe('Current');
    const text = (await card.textContent()) ?? '';
    expect(text).toMatch(/Valid until/);
    expect(text).toContain('Signed off bySarah Okafor (NMC 12A3456E)');
    expect(text).toContain('North Leeds District Nursing Team');
    expect(text).toContain('Module completed: Diabetes awareness (e-learning)');
    expect(text).toMatch(/Supervised practice 1 of \d+: satisfactory, observed by Sarah Okafor/);
    expect(await sarah.getByText('Employed by Kindly Care at Home.', { exact: false }).isVisible()).toBe(true);
    await expectAccessible(sarah, 'skills passport');
    await screenshot(sarah, '18-skills-passport.png');
    await sarah.emulateMedia({ media: 'print' });
    expect(await sarah.locator('#print-passport').isVisible()).toBe(false);
    expect(await sarah.locator('.nhsuk-back-link').isVisible()).toBe(false);
    expect(await card.isVisible()).toBe(true);
    await sarah.emulateMedia({ media: 'screen' });
    // Amira reads the same passport as her own.
    const amira = await phoneSignedInAs('Amira Hassan');
    await amira.page.getByRole('link', { name: 'My skills passport' }).click();
    await heading(amira.page, 'Amira Hassan');
    expect(await amira.page.locator('[data-framework="insulin-administration"]').getAttribute('data-state')).toBe('Current');
    await amira.context.close();
  }, 60_000);

  it("shows Helen, the registered manager, what nobody has acknowledged, lets her assign Tom to Mr Jones, and her team's competence matrix", async () => {
    // A hypo Amira records: the hypo protocol prompt (for her) and an escalation, neither acknowledged yet.
    const low = await api(amiraClaims, 'POST', `/api/patients/${jonesId}/blood-glucose`, { idempotencyKey: 'manager-web-hypo', occurredAt: new Date().toISOString(), glucoseMmolL: 3.1 });
    expect(low.status).toBe(201);
    const helen = await phoneSignedInAs('Helen Clarke');
    await heading(helen.page, 'My service');
    const unacknowledged = helen.page.locator('#unacknowledged');
    await unacknowledged.waitFor();
    expect(await unacknowledged.locator('[data-escalation]').filter({ hasText: 'Mr Arthur Jones' }).count()).toBeGreaterThan(0);
    expect(await unacknowledged.locator('[data-prompt]').filter({ hasText: 'Mr Arthur Jones' }).textContent()).toContain('For Amira Hassan');
    const jones = helen.page.locator(`#service-people [data-person="${jonesId}"]`);
    expect(await jones.locator('[data-care-workers]').textContent()).toBe('Care workers: Amira Hassan');
    await expectAccessible(helen.page, 'manager service');
    await screenshot(helen.page, '19-manager-service.png');

    await jones.getByRole('link', { name: 'Assign a care worker to Mr Arthur Jones' }).click();
    await heading(helen.page, 'Who will care for Mr Arthur Jones?');
    expect(await helen.page.getByLabel('Amira Hassan').count()).toBe(0);
    await expectAccessible(helen.page, 'assign a care worker');
    await helen.page.getByLabel('Tom Baker').check();
    await submit(helen.page, 'Assign the care worker');
    await heading(helen.page, 'My service');
    await helen.page.locator(`#service-people [data-person="${jonesId}"] [data-care-workers]`).getByText('Care workers: Amira Hassan, Tom Baker').waitFor();

    await helen.page.getByRole('link', { name: "The team's competences" }).click();
    await heading(helen.page, "The team's competences");
    const cell = (who: string) => helen.page.locator(`#matrix tr[data-care-worker="${who}"] td[data-framework="insulin-administration"]`);
    expect(await cell(AMIRA.practitionerId).getAttribute('data-state')).toBe('Current');
    expect(await cell(AMIRA.practitionerId).textContent()).toMatch(/Current\s*until /);
    expect(await cell(DEMO.careWorkers[1]!.practitionerId).getAttribute('data-state')).toBe('Not trained');
    expect(await helen.page.locator('#matrix thead th').allTextContents()).toEqual(expect.arrayContaining(['Care worker', 'Insulin administration by pen']));
    await expectAccessible(helen.page, 'competence matrix');
    await screenshot(helen.page, '20-manager-matrix.png');
    await helen.context.close();
  }, 90_000);

  it("lets Sarah suspend a delegation, so Amira's day no longer offers the task, then withdraw it; and suspend Amira's competence, which her skills passport shows with who suspended it and why (H94, H96)", async () => {
    // Set up through the API (its screens are tested above): Mr Jones's evening insulin delegated to Amira again, active.
    const set = await setUpInsulinDelegation(httpDesk({ url: tandem.url, nurse: await token(sarahClaims), careWorker: await token(amiraClaims) }), { patientId: jonesId, now: new Date() });
    expect(set.status).toBe('active');
    const amira = await phoneSignedInAs('Amira Hassan');
    const jones = amira.page.locator(`[data-person="${jonesId}"]`);
    await jones.getByText('Give insulin by pen as instructed').waitFor();
    expect(await jones.getByRole('link', { name: 'Record insulin given for Mr Arthur Jones' }).count()).toBe(1);

    await sarah.goto(`${tandem.url}/delegations/${set.delegationId}`);
    await heading(sarah, 'Give insulin by pen as instructed');
    await sarah.getByRole('link', { name: 'Suspend it' }).click();
    await heading(sarah, 'Suspend the delegation');
    expect(await sarah.locator('main').textContent()).toContain('it leaves their day at once');
    // No reason: refused at its field, and nothing is stored.
    await submit(sarah, 'Suspend the delegation');
    expect(await sarah.locator('#error-summary a[data-field="reason"]').textContent()).toBe('Enter why');
    await expectAccessible(sarah, 'suspend with an error');
    expect((await api<{ status: string }>(sarahClaims, 'GET', `/api/delegations/${set.delegationId}`)).body.status).toBe('active');
    await sarah.getByLabel('Why').fill('Mr Jones unwell: insulin plan under review');
    await submit(sarah, 'Suspend the delegation');
    await sarah.locator('#delegation-status').getByText('Suspended').waitFor();

    // Amira's day, read again once the read model holds the suspension: the task is no longer offered.
    await api(amiraClaims, 'GET', `/api/worklist?careWorkerId=${AMIRA.practitionerId}`);
    await amira.page.reload();
    await heading(amira.page, 'My day');
    await jones.waitFor();
    expect(await jones.getByText('Give insulin by pen as instructed').count()).toBe(0);
    expect(await jones.getByRole('link', { name: 'Record insulin given for Mr Arthur Jones' }).count()).toBe(0);

    await sarah.getByRole('link', { name: 'Withdraw it' }).click();
    await heading(sarah, 'Withdraw the delegation');
    // The framework's words and what withdrawing means, where she decides.
    const withdrawal = (await sarah.locator('main').textContent()) ?? '';
    expect(withdrawal).toContain('A district nurse delegates giving insulin by pen to a trained, signed-off care worker');
    expect(withdrawal).toContain('A withdrawn delegation cannot be restarted');
    await expectAccessible(sarah, 'withdraw');
    await sarah.getByLabel('Why').fill('Mr Jones moves to a care home with nursing');
    await submit(sarah, 'Withdraw the delegation');
    await sarah.locator('#delegation-status').getByText('Withdrawn').waitFor();
    expect(await sarah.locator('#delegation-status').textContent()).toContain('Mr Jones moves to a care home with nursing');
    // Ended: nothing is left to decide on it.
    expect(await sarah.getByRole('link', { name: /Reactivate|Suspend it|Withdraw it|End it/ }).count()).toBe(0);
    expect((await api<{ status: string }>(sarahClaims, 'GET', `/api/delegations/${set.delegationId}`)).body.status).toBe('withdrawn');

    await sarah.getByRole('link', { name: 'Training and sign-off for Amira Hassan' }).click();
    await heading(sarah, /Insulin administration by pen: training and sign-off/);
    await sarah.getByRole('link', { name: 'Suspend this competence' }).click();
    await heading(sarah, "Suspend Amira Hassan's competence");
    // The framework's words where she decides, and her own name and registration from her record.
    expect(await sarah.locator('main').textContent()).toContain('every delegation that depends on it is suspended at once');
    expect(await sarah.locator('#decided-by').textContent()).toBe('Sarah Okafor, NMC 12A3456E');
    await submit(sarah, 'Suspend the competence');
    expect(await sarah.locator('#error-summary a[data-field="reason"]').textContent()).toBe('Enter why you are suspending it');
    await expectAccessible(sarah, 'suspend a competence with an error');
    await sarah.getByLabel('Why are you suspending it?').fill('Dose given outside the instruction: repeat supervised practice');
    await submit(sarah, 'Suspend the competence');
    await sarah.locator('#competence-status').getByText('Suspended').waitFor();
    expect(await sarah.getByRole('link', { name: 'Reinstate the competence' }).count()).toBe(1);

    await sarah.getByRole('link', { name: "Amira Hassan's skills passport" }).click();
    await heading(sarah, 'Amira Hassan');
    const card = sarah.locator('[data-framework="insulin-administration"]');
    expect(await card.getAttribute('data-state')).toBe('Suspended');
    expect(await card.locator('[data-suspended]').textContent()).toMatch(/^Suspended by Sarah Okafor \(NMC 12A3456E\): Dose given outside the instruction: repeat supervised practice, /);
    await expectAccessible(sarah, 'skills passport, suspended');
    // Amira reads the same on her own passport.
    await amira.page.getByRole('link', { name: 'My skills passport' }).click();
    await heading(amira.page, 'Amira Hassan');
    const own = amira.page.locator('[data-framework="insulin-administration"]');
    expect(await own.getAttribute('data-state')).toBe('Suspended');
    expect(await own.locator('[data-suspended]').textContent()).toContain('Suspended by Sarah Okafor (NMC 12A3456E): Dose given outside the instruction');
    await amira.context.close();
  }, 120_000);
});
