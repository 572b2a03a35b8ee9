import { loadConfig, startTandem, type RunningTandem } from '@tandem/app';
import { mintToken, type MintClaims } from '@tandem/auth';
import { DMD_SYSTEM } from '@tandem/contracts';
import { OffsetClock, type DelegationService } from '@tandem/delegation';
import type { createRecordService } from '@tandem/record';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Page } from 'playwright-core';
import { DEMO, seedDemoData, seedDemoRotas } from '../../tandem/src/demo/demo-data';
import { DEMO_AMLODIPINE } from '../../tandem/src/demo/medicines-visits';
import { buildApp, chromiumMissing, demoSignIn, expectAccessible, launchPhone, screenshot } from './browser';

const missing = chromiumMissing();
if (missing) console.log(missing);
const describeInBrowser = missing ? describe.skip : describe;

/** Parkinson's: a time-critical medicine. dm+d code as the delegation service's tests use it (UNVERIFIED). */
const CO_CARELDOPA = { system: DMD_SYSTEM, code: '41963311000001103', display: 'Co-careldopa 25mg/100mg tablets' } as const;
/** As apps/tandem's medicines test (UNVERIFIED against the dm+d browser). */
const AMOXICILLIN = { system: DMD_SYSTEM, code: '39732411000001106', display: 'Amoxicillin 500mg capsules' } as const;

/**
 * The days start at 09:00 on Thursday 3 December 2026, a GMT day (England's clock is UTC's): the
 * server's clock runs from there at the pace of the real one and jumps when the test moves it, so
 * nothing waits real minutes and nothing depends on the time of day the test runs at.
 */
const START = '2026-12-03T09:00:00.000Z';
const at = (hhmm: string) => `2026-12-03T${hhmm}:00.000Z`;

/**
 * Issue 13's "Done when", its second half, in Debian's Chromium against a real embedded Tandem: Mr
 * Jones has an allergy to amoxicillin recorded by the nurse, and the care worker's chart shows it at
 * the top; a dose of amoxicillin stops her in clear words and records nothing; she confirms it was
 * already given, and it is recorded, flagged, and the nurse Sarah sees the escalation. A visit
 * nobody checked into passes its planned end and the registered manager Helen sees it (the person,
 * the planned time, the care worker) and acknowledges it. His 09:10 doses are left: the
 * time-critical co-careldopa passes its tolerance and the prompt is on Amira's phone, saying it is
 * time-critical; past its escalation deadline Sarah's caseload shows what dose, how late and what
 * to do. The amlodipine prompt comes later; Amira follows it to the dose, records it, and it goes.
 */
describeInBrowser('overdue doses, their prompt and escalation, a missed visit, allergies: in the app', () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let clock: OffsetClock;
  let jonesId: string;
  const phones: (() => Promise<void>)[] = [];
  const VISIT_ID = 'visit-web-nobody-came';
  const orders: Record<'coCareldopa' | 'amlodipine' | 'amoxicillin', string> = { coCareldopa: '', amlodipine: '', amoxicillin: '' };
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const nurse: MintClaims = { role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration };
  const manager: MintClaims = { role: 'registered-manager', user: DEMO.manager.practitionerId, org: DEMO.careAgency.organisationId };
  let n = 0;
  const post = async (claims: MintClaims, path: string, body: Record<string, unknown>) => {
    const response = await fetch(`${tandem.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await token(claims)}` }, body: JSON.stringify({ idempotencyKey: `mar-prompts-${++n}`, occurredAt: clock.now().toISOString(), ...body }) });
    expect({ path, status: response.status }).toEqual({ path, status: 201 });
    return (await response.json()) as { id?: string };
  };
  /** Moves the server's clock on to an England time today: its timers fire and what they started is in the read models when this returns. */
  const clockTo = async (hhmm: string) => {
    const minutes = Math.max(0, (Date.parse(at(hhmm)) - clock.now().getTime()) / 60_000);
    const response = await fetch(`${tandem.url}/admin/clock/advance`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await token({ role: 'system', user: 'web-test-clock' })}` }, body: JSON.stringify({ minutes }) });
    expect(response.status).toBe(200);
  };
  /** A phone keeping the server's time, signed in as one of the demo's people (each sign-in lasts an hour of the phone's time). */
  const phoneSignedInAs = async (name: string): Promise<Page> => {
    const { context, close } = await launchPhone();
    phones.push(close);
    await context.clock.install({ time: clock.now() });
    return demoSignIn(context, tandem.url, name);
  };
  const putDown = async () => {
    for (const close of phones.splice(0)) await close();
  };
  /** Amira's phone once the server's clock has reached an England time today. */
  const amiraAt = async (hhmm: string) => {
    await clockTo(hhmm);
    return phoneSignedInAs('Amira Hassan');
  };
  /** The prompt about an order's 09:10 dose, wherever it is drawn. */
  const dosePrompt = (page: Page, order: keyof typeof orders) => page.locator(`[data-dose-prompt="${orders[order]} 09:10"]`);
  /** What the record holds of one order's doses today, read as the nurse reads it (FHIR). */
  const dosesRecorded = async (orderId: string) => {
    const response = await fetch(`${tandem.url}/fhir/MedicationAdministration?patient=${jonesId}&_count=100`, { headers: { authorization: `Bearer ${await token(nurse)}`, 'x-tandem-min-position': String(await tandem.storage.store.headPosition()) } });
    const bundle = (await response.json()) as { entry?: { resource: { request?: { reference?: string } } }[] };
    return (bundle.entry ?? []).filter((e) => e.resource.request?.reference === `MedicationRequest/${orderId}`).length;
  };
  const openMedicines = async (page: Page) => {
    await page.getByRole('link', { name: 'Medicines for Mr Arthur Jones' }).click();
    await page.locator('#medicines').waitFor();
  };

  beforeAll(async () => {
    buildApp();
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-mar-prompts-'));
    const realStart = Date.now();
    clock = new OffsetClock(() => Date.parse(START) + (Date.now() - realStart));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false' }), pino({ level: 'silent' }), { clock });
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    // The demo's first person is Mr Arthur Jones, in Amira's care.
    jonesId = (await seedDemoData(record.care, { patients: 3, days: 1, now: clock.now() })).patientIds[0]!;
    // Sarah on call for her team by day, the GP by night: who an escalation reaches after its first tier; Helen for her agency.
    await seedDemoRotas((tandem.services.find((s) => s.name === 'delegation') as DelegationService).commands);
    const medicines = `/api/patients/${jonesId}/medication-orders`;
    const started = new Date(Date.parse(START) - 7 * 24 * 3_600_000).toISOString();
    const scheduled = (times: string[]) => ({ kind: 'scheduled', times });
    orders.coCareldopa = (await post(nurse, medicines, { product: CO_CARELDOPA, dose: { value: 1, unit: 'tablet' }, route: 'oral', timing: scheduled(['09:10']), timeCritical: true, start: started })).id!;
    orders.amlodipine = (await post(nurse, medicines, { product: DEMO_AMLODIPINE, dose: { value: 1, unit: 'tablet' }, route: 'oral', timing: scheduled(['09:10']), start: started })).id!;
    orders.amoxicillin = (await post(nurse, medicines, { product: AMOXICILLIN, dose: { value: 1, unit: 'capsule' }, route: 'oral', timing: scheduled(['09:05']), start: started })).id!;
    await post(nurse, `/api/patients/${jonesId}/allergies`, { substance: { system: 'http://snomed.info/sct', code: '294505008', display: 'Amoxicillin' }, category: 'medication', criticality: 'high', reaction: 'widespread rash' });
    // The demo's rotas (above) name Helen her agency's registered manager: a late or missed visit of the agency goes to her first.
    // The morning visit nobody will check into: missed at its planned end, 09:30.
    await post(manager, `/api/patients/${jonesId}/visits`, {
      visitId: VISIT_ID,
      providerOrganisationId: DEMO.careAgency.organisationId,
      plannedStart: at('09:05'),
      plannedEnd: at('09:30'),
      careWorkerIds: [DEMO.careWorkers[0]!.practitionerId],
      tasks: [{ taskId: 'wash', description: 'Help with washing and dressing' }],
    });
  }, 180_000);

  afterEach(putDown);
  afterAll(async () => {
    await putDown();
    await tandem?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("shows the person's allergies at the top of the Medicines screen, as the nurse recorded them; nothing is overdue yet", async () => {
    const amira = await phoneSignedInAs('Amira Hassan');
    await amira.locator(`[data-visit="${VISIT_ID}"]`).waitFor();
    expect(await amira.locator('[data-dose-prompt]').count()).toBe(0);
    await openMedicines(amira);
    const allergies = amira.locator('#allergies');
    expect(await allergies.getByRole('heading').textContent()).toContain('Allergies: 1');
    expect((await allergies.locator('li').textContent())?.trim()).toBe('Amoxicillin: widespread rash (high risk of a serious reaction)');
    // The allergies come before the medicines on the screen.
    expect(await amira.evaluate(() => document.getElementById('allergies')!.compareDocumentPosition(document.getElementById('medicines')!) & Node.DOCUMENT_POSITION_FOLLOWING)).toBeTruthy();
    await expectAccessible(amira, 'medicines with allergies');
    await screenshot(amira, '25-medicines-allergies.png');
  });

  it('a dose of the product she is allergic to stops the care worker in clear words, records nothing; confirmed as already given it is recorded and flagged', async () => {
    const amira = await phoneSignedInAs('Amira Hassan');
    await openMedicines(amira);
    await amira.getByRole('link', { name: 'Record the 09:05 dose of Amoxicillin 500mg capsules' }).click();
    // The allergies are on the dose step too, before she decides.
    expect(await amira.locator('#allergies').textContent()).toContain('Amoxicillin: widespread rash');
    await amira.getByLabel('Given: 1 capsule').check();
    await amira.getByRole('button', { name: 'Record the dose' }).click();
    const stop = amira.locator('#allergy-stop');
    await stop.waitFor();
    expect(await stop.getByRole('heading').textContent()).toContain('Stop: do not give Amoxicillin 500mg capsules');
    expect(await stop.textContent()).toContain('Call the nurse or GP now');
    const summary = (await amira.locator('#error-summary').textContent()) ?? '';
    expect(summary).toMatch(/STOP: the record holds an allergy to Amoxicillin \(criticality high, reaction: widespread rash\)/);
    // Tandem's question in her words: what she does here, not what a client sends.
    expect(summary).toContain('If it has already been given, tick the box below: it is recorded, flagged and escalated to the nurse');
    expect(summary).not.toContain('confirmedDespiteAllergy');
    const confirm = amira.getByLabel('It has already been given: record it, flag it and tell the nurse now');
    expect(await confirm.isChecked()).toBe(false);
    expect(await dosesRecorded(orders.amoxicillin)).toBe(0);
    await expectAccessible(amira, 'the allergy stop');
    await screenshot(amira, '26-dose-allergy-stop.png');

    await confirm.check();
    await amira.getByRole('button', { name: 'Record the dose' }).click();
    await amira.locator('#medicines').waitFor();
    const line = amira.locator(`[data-order="${orders.amoxicillin}"] [data-time="09:05"]`);
    expect(await line.textContent()).toMatch(/Given\s+Despite an allergy: the nurse is told/);
    expect(await dosesRecorded(orders.amoxicillin)).toBe(1);
  });

  it("the nurse sees the allergy dose's escalation on her caseload: what happened and what to do", async () => {
    const sarah = await phoneSignedInAs('Sarah Okafor');
    const jones = sarah.locator(`#caseload > li[data-person="${jonesId}"]`);
    const escalation = jones.locator('[data-escalation]', { hasText: 'A medicine given despite an allergy recorded to it' });
    await escalation.waitFor();
    expect(await escalation.textContent()).toContain('Urgent');
    expect(await escalation.locator('[data-what-to-do]').textContent()).toMatch(/What to do: .*assess the person now for a reaction/);
  });

  it('the visit nobody checked into is on the registered manager\'s screen with the person, its planned time and the care worker; she acknowledges it', async () => {
    await clockTo('09:31');
    const helen = await phoneSignedInAs('Helen Clarke');
    const missed = helen.locator('#unacknowledged [data-escalation]', { hasText: 'Visit missed' });
    await missed.waitFor();
    expect(await missed.getByRole('heading').textContent()).toBe('Mr Arthur Jones');
    expect(await missed.textContent()).toContain('Visit missed: nobody checked in before its planned end');
    expect(await missed.locator('[data-visit-planned]').textContent()).toMatch(/^Visit planned 09:05 to 09:30, Thursday 3 December$/);
    expect(await missed.locator('[data-visit-care-workers]').textContent()).toBe('Care workers: Amira Hassan');
    const escalationId = (await missed.getAttribute('data-escalation'))!;
    await expectAccessible(helen, 'my service with a missed visit');
    await screenshot(helen, '28-manager-missed-visit.png');

    await missed.getByRole('link', { name: /^Open and acknowledge it/ }).click();
    await helen.getByRole('heading', { name: /Escalation, tier 1/ }).waitFor();
    expect(await helen.locator('#escalation-state').textContent()).toContain('Waiting for acknowledgement');
    await expectAccessible(helen, "the manager's escalation");
    await helen.getByRole('button', { name: 'Acknowledge the escalation' }).click();
    await helen.locator('#escalation-state', { hasText: 'Acknowledged' }).waitFor();
    await helen.getByRole('link', { name: 'Back to my service' }).click();
    await helen.getByRole('heading', { name: 'Nobody has acknowledged' }).waitFor();
    await helen.locator('#service-people').waitFor();
    expect(await helen.locator(`[data-escalation="${escalationId}"]`).count()).toBe(0);
  });

  it("the time-critical dose left past its tolerance is a prompt on Amira's day and her Medicines screen, in plain words, linking to the dose", async () => {
    const amira = await amiraAt('09:41');
    await dosePrompt(amira, 'coCareldopa').waitFor();
    const words = await dosePrompt(amira, 'coCareldopa').textContent();
    expect(words).toContain('The 09:10 dose of Co-careldopa 25mg/100mg tablets is overdue: give it or record why not');
    expect(words).toContain('Time-critical');
    expect(words).toContain('the nursing team is told at 09:55');
    // The amlodipine at the same time is not time-critical: its tolerance (60 minutes) has not passed.
    expect(await dosePrompt(amira, 'amlodipine').count()).toBe(0);
    await expectAccessible(amira, 'my day with an overdue dose');
    await screenshot(amira, '27-day-dose-overdue.png');

    await openMedicines(amira);
    const onChart = dosePrompt(amira, 'coCareldopa');
    expect(await onChart.textContent()).toContain('The 09:10 dose of Co-careldopa 25mg/100mg tablets is overdue');
    expect(await amira.locator(`[data-order="${orders.coCareldopa}"] [data-time="09:10"] .nhsuk-tag`).textContent()).toBe('Overdue');
    await expectAccessible(amira, 'medicines with an overdue dose');
    await onChart.getByRole('link', { name: 'Record the 09:10 dose now of Co-careldopa 25mg/100mg tablets' }).click();
    await amira.getByRole('heading', { name: /The 09:10 dose of Co-careldopa 25mg\/100mg tablets/ }).waitFor();
    expect(await amira.getByLabel('Given: 1 tablet').isVisible()).toBe(true);
  });

  it("past its escalation deadline, the nurse's caseload shows the dose: what, how late, what to do", async () => {
    await clockTo('09:56');
    const sarah = await phoneSignedInAs('Sarah Okafor');
    const jones = sarah.locator(`#caseload > li[data-person="${jonesId}"]`);
    const escalation = jones.locator('[data-escalation]', { hasText: 'Co-careldopa' });
    await escalation.waitFor();
    const text = (await escalation.textContent()) ?? '';
    expect(text).toMatch(/Dose with no outcome \d+ minutes after it was due: Co-careldopa 25mg\/100mg tablets, 1 tablet oral, due 09:10/);
    expect(text).toContain('Urgent');
    expect(await escalation.locator('[data-what-to-do]').textContent()).toMatch(/^What to do: Decide now whether the dose is to be given late, and by whom/);
    await expectAccessible(sarah, 'the caseload with an overdue dose');
    await screenshot(sarah, '29-caseload-dose-escalation.png');
    await escalation.getByRole('link', { name: /Open the escalation/ }).click();
    await sarah.locator('#sbard').waitFor();
    expect(await sarah.locator('#sbard').textContent()).toContain('a time-critical medicine');
  });

  it('the amlodipine prompt comes at its own tolerance; she follows it to the dose, records it, and that prompt goes (the one still without an outcome stays)', async () => {
    const amira = await amiraAt('10:11');
    const amlodipine = dosePrompt(amira, 'amlodipine');
    await amlodipine.waitFor();
    expect(await amlodipine.textContent()).toMatch(/^\s*Important: Dose overdue\s*The 09:10 dose of Amlodipine 5mg tablets is overdue: give it or record why not\s*If nothing/);
    await amlodipine.getByRole('link', { name: 'Record the 09:10 dose now of Amlodipine 5mg tablets' }).click();
    await amira.getByLabel('Given: 1 tablet').check();
    await amira.getByRole('button', { name: 'Record the dose' }).click();
    await amira.locator('#medicines').waitFor();
    expect(await amira.locator(`[data-order="${orders.amlodipine}"] [data-time="09:10"] .nhsuk-tag`).textContent()).toBe('Given');
    expect(await dosePrompt(amira, 'amlodipine').count()).toBe(0);
    expect(await dosePrompt(amira, 'coCareldopa').count()).toBe(1);
    await amira.getByRole('link', { name: 'Back to my day' }).click();
    await dosePrompt(amira, 'coCareldopa').waitFor();
    expect(await dosePrompt(amira, 'amlodipine').count()).toBe(0);
  });
});
