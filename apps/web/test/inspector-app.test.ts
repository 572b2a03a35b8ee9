import { loadConfig, startTandem, type RunningTandem } from '@tandem/app';
import { mintToken, type MintClaims } from '@tandem/auth';
import type { Actor } from '@tandem/contracts';
import { ManualClock, type DelegationService } from '@tandem/delegation';
import type { createRecordService } from '@tandem/record';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Page } from 'playwright-core';
import { DEMO, seedDemoData, seedDemoRotas } from '../../tandem/src/demo/demo-data';
import { buildApp, chromiumMissing, expectAccessible, launchPhone, screenshot } from './browser';

const missing = chromiumMissing();
if (missing) console.log(missing);
const describeInBrowser = missing ? describe.skip : describe;

const AGENCY = DEMO.careAgency.organisationId;
const at = (day: '01' | '02' | '03', hhmm: string) => `2026-12-${day}T${hhmm}:00.000Z`;

/**
 * Issue 15's inspector's view (docs/decisions/0036-inspector-app.md) in Debian's Chromium against a
 * real embedded Tandem on a fixed clock. December is GMT, so England's noon is 12:00 UTC.
 *
 * Given, on Tuesday 1 December 2026, Kindly Care at Home's four visits planned by Helen Clarke:
 * v1 (person 0, 08:00-08:30), v2 (person 1, 09:00-09:30) and v3 (person 2, 10:00-10:30), at which
 * nobody checks in (missed: the seeded, known 3), and v4 (person 0, 11:00-11:30) attended in full;
 * person 0's vital signs at 11:10 (pulse 72, before noon) and at 14:00 (pulse 111, after noon);
 * a digest sealed on 3 December, the day the inspector signs in.
 * When Grace Adeyemi, CQC inspector, signs in through the demo sign-in, she sees the service's
 * indicators for December ("3 missed visits" of 4), drills down to v1-v3 with who planned them,
 * opens person 0's record as it was known on Tuesday at noon (the 11:10 reading there, the 14:00
 * one absent, England's time with its offset said: H114, H115), sees verify's result with the
 * digest, filters the access trail and pages it, and opens the printable report (print media).
 * Her browser runs on New York's clock, so nothing she reads or types in England's time can lean on
 * the browser's zone.
 * No screen of hers has a care-entry form (H116). axe-core is clean on each screen.
 */
describeInBrowser("the inspector's app", () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let page: Page;
  let close: (() => Promise<void>) | undefined;
  let patientIds: string[];
  let sealedDigest: string;
  const clock = new ManualClock(at('01', '07:00'));
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const helen: Actor = { id: DEMO.manager.practitionerId, role: 'registered-manager', organisation: AGENCY };
  const amira: Actor = { id: DEMO.careWorkers[0]!.practitionerId, role: 'care-worker', organisation: AGENCY };
  let n = 0;
  const key = () => `inspector-web-${++n}`;
  const delegation = () => tandem.services.find((s) => s.name === 'delegation') as DelegationService;
  const record = () => (tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>).care;
  const runner = () => (tandem.services.find((s) => s.name === 'projections') as unknown as { runner: { waitFor(position: number, ms: number): Promise<boolean> } }).runner;
  const moveTo = async (instant: string) => {
    clock.set(instant);
    await delegation().scheduler.runDue();
    await delegation().processor.settle(60_000);
  };
  /** Her forms are the month chooser, the moment chooser and the trail's filters: nothing that records care. */
  const careEntryForms = () => page.locator('form:not(#period-form):not(#as-known-form):not(#trail-form), textarea, input[type=checkbox], input[type=radio]').count();

  beforeAll(async () => {
    buildApp();
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-inspector-web-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }), { clock });
    ({ patientIds } = await seedDemoData(record(), { patients: 3, days: 0, now: clock.now() }));
    await seedDemoRotas(delegation().commands);
    const care = record();
    const now = () => clock.now().toISOString();
    const [p0, p1, p2] = patientIds as [string, string, string];
    for (const [visitId, patientId, start, end] of [
      ['v1', p0, '08:00', '08:30'],
      ['v2', p1, '09:00', '09:30'],
      ['v3', p2, '10:00', '10:30'],
      ['v4', p0, '11:00', '11:30'],
    ] as const) {
      await care.visits.plan({ idempotencyKey: key(), occurredAt: now(), patientId, visitId, providerOrganisationId: AGENCY, plannedStart: at('01', start), plannedEnd: at('01', end), careWorkerIds: [amira.id], tasks: [{ taskId: 'care', description: 'Personal care' }] }, helen);
    }
    const vitals = (pulse: number) => care.recordCare('RecordVitalSigns', { idempotencyKey: key(), occurredAt: now(), patientId: p0, respirationRate: 16, spo2: 97, airOrOxygen: 'air', systolic: 128, diastolic: 76, pulse, consciousness: 'A', temperatureC: 36.8 }, amira);
    // The scheduler looks after each planned end: nobody came to v1, v2 or v3.
    for (const time of ['08:31', '09:31', '10:31']) await moveTo(at('01', time));
    await moveTo(at('01', '11:00'));
    await care.visits.checkIn({ idempotencyKey: key(), occurredAt: now(), patientId: p0, visitId: 'v4' }, amira);
    await moveTo(at('01', '11:10'));
    await vitals(72);
    await moveTo(at('01', '11:30'));
    await care.visits.checkOut({ idempotencyKey: key(), occurredAt: now(), patientId: p0, visitId: 'v4', tasks: [{ taskId: 'care', outcome: 'done' }] }, amira);
    await moveTo(at('01', '14:00'));
    await vitals(111);
    await moveTo(at('03', '10:00'));
    await delegation().processor.settle(60_000);
    expect(await runner().waitFor(await tandem.storage.store.headPosition(), 30_000)).toBe(true);
    // Amira reads Mr Jones's record once through the API: the one care worker's access on the trail.
    expect((await fetch(`${tandem.url}/fhir/Patient/${p0}`, { headers: { authorization: `Bearer ${await token({ role: 'care-worker', user: amira.id, org: AGENCY })}` } })).status).toBe(200);
    const sealed = await fetch(`${tandem.url}/api/audit/seal`, { method: 'POST', headers: { authorization: `Bearer ${await token({ role: 'auditor', user: DEMO.inspector.userId })}` } });
    expect(sealed.status).toBe(200);
    sealedDigest = ((await sealed.json()) as { sealed: { digest: string }[] }).sealed.at(-1)!.digest;

    // Her laptop's clock is on New York time: every England time she reads or types must not depend on it (H115).
    const phone = await launchPhone({ timezoneId: 'America/New_York' });
    close = phone.close;
    await phone.context.clock.install({ time: clock.now() });
    page = phone.context.pages()[0] ?? (await phone.context.newPage());
    page.setDefaultTimeout(20_000);
    if (process.env.TANDEM_WEB_DEBUG) page.on('console', (m) => console.log(`browser (inspector): ${m.text()}`));
    await page.goto(tandem.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign in as Grace Adeyemi' }).click();
  }, 300_000);

  afterAll(async () => {
    await close?.().catch(() => undefined);
    await tandem?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs Grace in to the services she may inspect, with no care-entry form', async () => {
    await page.getByRole('heading', { level: 1, name: 'Services you may inspect' }).waitFor();
    expect(await page.locator(`[data-organisation="${AGENCY}"]`).textContent()).toContain('Kindly Care at Home');
    expect(await careEntryForms()).toBe(0);
    await expectAccessible(page, 'inspector home');
  });

  it("shows Kindly Care's indicators for December 2026: 3 missed visits of 4, each figure with its numerator and denominator and a chart by month", async () => {
    await page.getByRole('link', { name: 'Inspect Kindly Care at Home: December 2026' }).click();
    await page.getByRole('heading', { level: 1, name: /Kindly Care at Home/ }).waitFor();
    expect(await page.locator('#period-shown').textContent()).toContain('December 2026');
    const missed = page.locator('[data-indicator="missed-visits"]');
    expect(await missed.locator('[data-figure]').textContent()).toBe('3 missed visits of 4 counted: 75%');
    expect(await page.locator('[data-indicator="short-visits"] [data-figure]').textContent()).toBe('0 visits shorter than planned of 1 counted: 0%');
    // Nothing counted is said so, never shown as 0% (no doses due is not "every dose on time").
    expect(await page.locator('[data-indicator="scheduled-doses-on-time"] [data-figure]').textContent()).toContain('nothing counted');
    // Each indicator's chart over the six months to December, drawn by uPlot, and said in words.
    expect(await page.locator('[data-chart] canvas').count()).toBe(7);
    expect(await missed.locator('[data-chart]').getAttribute('aria-label')).toContain('December 2026 75%');
    expect(await careEntryForms()).toBe(0);
    await expectAccessible(page, 'service indicators');
    await screenshot(page, '60-inspector-indicators.png');
  });

  it('moves month by month: November has no visits counted', async () => {
    await page.getByLabel('Month', { exact: true }).selectOption('2026-11');
    await page.getByRole('button', { name: 'Show this month' }).click();
    await page.locator('#period-shown', { hasText: 'November 2026' }).waitFor();
    expect(await page.locator('[data-indicator="missed-visits"] [data-figure]').textContent()).toBe('0 missed visits of 0 counted: nothing counted');
    await page.getByRole('link', { name: /Next month/ }).click();
    await page.locator('#period-shown', { hasText: 'December 2026' }).waitFor();
  });

  it('drills from "3 missed visits" to the visits themselves, each with the person, when in England, and who recorded it', async () => {
    await page.getByRole('link', { name: '3 missed visits' }).click();
    await page.getByRole('heading', { level: 1, name: /3 missed visits/ }).waitFor();
    const rows = page.locator('#entries tbody tr');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-entry')))).toEqual(['v1', 'v2', 'v3']);
    const first = await rows.first().locator('td').allTextContents();
    expect(first[0]).toBe('Mr Arthur Jones');
    expect(first[1]).toBe('Tuesday 1 December 2026, 08:00 GMT (UTC+00:00)');
    expect(first[3]).toBe('Helen Clarke');
    expect(await careEntryForms()).toBe(0);
    await expectAccessible(page, 'missed visits drill-down');
  });

  it("opens Mr Jones's record as it was known on Tuesday at noon: the 11:10 reading is there, the 14:00 one is not, and verify's result with the digest", async () => {
    await page.locator('#entries tbody tr').first().getByRole('link', { name: /record as it was then/ }).click();
    await page.getByRole('heading', { level: 1, name: /The record as it was known at a moment/ }).waitFor();
    // A moment that has not come is refused in the error summary, and nothing is shown as "then".
    await page.getByLabel(/Exact date and time, in England/).fill('2026-12-25T12:00');
    await page.getByRole('button', { name: 'Show the record as it was then' }).click();
    await page.locator('#error-summary').waitFor();
    expect(await page.locator('#error-summary a[data-field="at"]').textContent()).toBe('The date and time must be in the past: the record is not yet known after now');
    await expectAccessible(page, 'record as known, with an error');
    // The slider moves the exact field by its steps of 15 minutes.
    const before = await page.getByLabel(/Exact date and time, in England/).inputValue();
    await page.getByLabel('Move through December 2026').focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.getByLabel(/Exact date and time, in England/).inputValue()).not.toBe(before);
    await page.getByLabel(/Exact date and time, in England/).fill('2026-12-01T12:00');
    await page.getByRole('button', { name: 'Show the record as it was then' }).click();
    await page.locator(`#as-known-banner[data-as-known="${at('01', '12:00')}"]`).waitFor();
    expect(await page.locator('#as-known-banner').textContent()).toContain('Not the current record');
    expect(await page.locator('#as-known-banner').textContent()).toContain('Tuesday 1 December 2026, 12:00 GMT (UTC+00:00)');
    const lines = (await page.locator('#as-known-lines').textContent()) ?? '';
    expect(lines).toContain('72');
    expect(lines).toContain('Tuesday 1 December 2026, 11:10 GMT');
    expect(lines).not.toContain('111');
    expect(lines).not.toContain('14:00');
    expect(await page.locator('#verify').getAttribute('data-verify')).toBe('intact');
    expect(await page.locator('#verify').textContent()).toContain('Chain intact');
    expect(await page.locator('#verify-digest').textContent()).toContain(sealedDigest);
    expect(await careEntryForms()).toBe(0);
    await expectAccessible(page, 'record as known at a moment');
    await screenshot(page, '61-inspector-record-as-known.png');
  });

  it('filters the access trail by user and role (her own reads), refuses a date range that ends before it starts, and pages', async () => {
    await page.goto(`${tandem.url}/access-trail`);
    await page.getByRole('heading', { level: 1, name: 'The access trail' }).waitFor();
    await page.getByLabel('User').fill(DEMO.inspector.userId);
    await page.getByLabel('Role').selectOption('auditor');
    await page.getByRole('button', { name: 'Show the accesses' }).click();
    await page.locator('#trail tbody tr').first().waitFor();
    const roles = await page.locator('#trail [data-role]').allTextContents();
    expect(roles.length).toBe(20);
    expect(new Set(roles)).toEqual(new Set(['auditor']));
    const firstPage = await page.locator('#trail tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-access')));
    await page.getByRole('link', { name: 'Next 20 accesses' }).click();
    await page.locator('#trail caption', { hasText: 'a later page' }).waitFor();
    const secondPage = await page.locator('#trail tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-access')));
    expect(secondPage.length).toBeGreaterThan(0);
    expect(secondPage.some((id) => firstPage.includes(id))).toBe(false);
    // Another role: only the care worker's one read of Mr Jones's record, with whom it was about.
    await page.getByLabel('User').fill('');
    await page.getByLabel('Role').selectOption('care-worker');
    await page.getByRole('button', { name: 'Show the accesses' }).click();
    await page.locator('#trail caption', { hasText: /^Accesses$/ }).waitFor();
    await page.locator('#trail [data-role]', { hasText: 'care-worker' }).first().waitFor();
    const careWorkerRows = await page.locator('#trail tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent?.trim())));
    expect(careWorkerRows).toEqual([[expect.any(String), `${amira.id}care-worker`, 'Mr Arthur Jones', `GET /fhir/Patient/${patientIds[0]}`, 'success (HTTP 200)']]);
    // A person and an outcome narrow it further: nothing of Amira's was refused.
    await page.getByLabel('Person').selectOption(patientIds[0]!);
    await page.getByLabel('Outcome').selectOption('denied');
    await page.getByRole('button', { name: 'Show the accesses' }).click();
    await page.locator('#trail-none').waitFor();
    await page.getByLabel('From (England)').fill('2026-12-03');
    await page.getByLabel('To (England)').fill('2026-12-01');
    await page.getByRole('button', { name: 'Show the accesses' }).click();
    await page.locator('#error-summary').waitFor();
    expect(await page.locator('#error-summary a[data-field="to"]').textContent()).toBe('The last day must be the same as or after the first day');
    expect(await page.locator('#trail').count()).toBe(0);
    expect(await careEntryForms()).toBe(0);
    await expectAccessible(page, 'access trail with an error');
  });

  it('opens the printable mock-inspection report: the service, the period, every indicator, the worst entries, verify, and when and by whom it was made', async () => {
    await page.goto(`${tandem.url}/services/${AGENCY}/report?period=2026-12`);
    await page.getByRole('heading', { level: 1, name: /Kindly Care at Home/ }).waitFor();
    await page.emulateMedia({ media: 'print' });
    const facts = (await page.locator('#report-facts').textContent()) ?? '';
    expect(facts).toContain('Kindly Care at Home (org-kindly-care)');
    expect(facts).toContain('December 2026');
    expect(await page.locator('#report-made').textContent()).toBe(`Thursday 3 December 2026, 10:00 GMT (UTC+00:00), by ${DEMO.inspector.userId}`);
    expect(await page.locator('#report-indicators tbody tr').count()).toBe(7);
    expect(await page.locator('#report-indicators [data-indicator="missed-visits"] [data-figure]').textContent()).toBe('3 missed visits of 4: 75%');
    expect(await page.locator('#worst-missed-visits tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-entry')))).toEqual(['v1', 'v2', 'v3']);
    expect(await page.locator('#verify').textContent()).toContain('Chain intact');
    // On paper: no button, no back link, no links to the records.
    expect(await page.getByRole('button', { name: 'Print the report' }).isVisible()).toBe(false);
    expect(await page.locator('.nhsuk-back-link').isVisible()).toBe(false);
    expect(await careEntryForms()).toBe(0);
    await expectAccessible(page, 'mock-inspection report (print)');
    await screenshot(page, '62-inspector-report.png');
    await page.emulateMedia({ media: 'screen' });
    expect(await page.getByRole('button', { name: 'Print the report' }).isVisible()).toBe(true);
  });
});
