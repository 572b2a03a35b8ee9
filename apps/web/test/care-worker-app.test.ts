import { loadConfig, startTandem, type RunningTandem } from '@tandem/app';
import { mintToken, type MintClaims } from '@tandem/auth';
import type { createRecordService } from '@tandem/record';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { DEMO, seedDemoData } from '../../tandem/src/demo/demo-data';
import { runInsulinScenario } from '../../tandem/src/demo/insulin-scenario';
import { axeViolations, buildApp, chromiumMissing, launchPhone } from './browser';

const missing = chromiumMissing();
if (missing) console.log(missing);
const describeInBrowser = missing ? describe.skip : describe;

/**
 * The care worker's app in Debian's Chromium on a 360 px phone, against a real embedded Tandem:
 * Amira signs in through the development sign-in, sees her people and what is due, records vital
 * signs with the NEWS2 live, meets the server's refusal in the error summary, and records with no
 * signal: the entry waits on the phone and reaches the record exactly once.
 */
describeInBrowser("the care worker's app on a phone", () => {
  let dataDir: string;
  let tandem: RunningTandem;
  let closeBrowser: () => Promise<void>;
  let context: BrowserContext;
  let page: Page;
  let jonesId: string;
  /** The insulin forms her day offered for Mr Jones (given, not given), kept for the doses after the first. */
  let insulinForms: { given: string; notGiven: string } | undefined;
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const amiraClaims: MintClaims = { role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId };

  const fhir = async (path: string) => {
    const response = await fetch(`${tandem.url}${path}`, { headers: { authorization: `Bearer ${await token(amiraClaims)}`, 'x-tandem-min-position': String(await tandem.storage.store.headPosition()) } });
    expect(response.status).toBe(200);
    return (await response.json()) as { total?: number; entry?: { resource: Record<string, unknown> }[] };
  };
  /** A person's vital signs panels (LOINC 85353-1, one per set), as the GP reads them in FHIR. */
  const vitalSignsOf = async (patientId: string) => ((await fhir(`/fhir/Observation?patient=${patientId}&code=85353-1&_count=500`)).entry ?? []).map((e) => e.resource);

  const expectAccessible = async (what: string) => {
    const violations = await axeViolations(page);
    expect({ page: what, violations }).toEqual({ page: what, violations: [] });
  };

  const fillVitals = async (values: { resp: string; spo2: string; air: 'Air' | 'Oxygen'; systolic: string; diastolic: string; pulse: string; consciousness: string; temperature: string }) => {
    await page.getByLabel('Breathing rate').fill(values.resp);
    await page.getByLabel('Oxygen saturation (SpO2)').fill(values.spo2);
    await page.getByLabel(values.air, { exact: true }).check();
    await page.getByLabel('Blood pressure: top number (systolic)').fill(values.systolic);
    await page.getByLabel('Blood pressure: bottom number (diastolic)').fill(values.diastolic);
    await page.getByLabel('Pulse').fill(values.pulse);
    await page.getByLabel(values.consciousness, { exact: true }).check();
    await page.getByLabel('Temperature').fill(values.temperature);
  };

  beforeAll(async () => {
    buildApp();
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-web-'));
    // The test clock lets the scenario move time on (a re-escalation after 30 minutes) without waiting.
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', TANDEM_TEST_CLOCK: 'true' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    await seedDemoData(record.care, { patients: 3, days: 1, now: new Date() });
    const nurse = await token({ role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration });
    const head = await tandem.storage.store.headPosition();
    await fetch(`${tandem.url}/fhir/Patient?name=jones`, { headers: { authorization: `Bearer ${nurse}`, 'x-tandem-min-position': String(head) } });
    // Mr Jones's evening insulin is delegated to Amira (the README's scenario), so her day has something due.
    const scenario = await runInsulinScenario({ url: tandem.url, token, say: () => undefined, runId: 'web' });
    jonesId = scenario.patientId;
    ({ context, close: closeBrowser } = await launchPhone());
    // The scenario moved the server's test clock on; the phone keeps the same time as the server, as a
    // real phone and server do (the server refuses an answer dated before what it answers).
    const system = await token({ role: 'system', user: 'web-test-clock' });
    const serverNow = ((await (await fetch(`${tandem.url}/admin/clock/advance`, { method: 'POST', headers: { authorization: `Bearer ${system}`, 'content-type': 'application/json' }, body: JSON.stringify({ minutes: 0 }) })).json()) as { now: string }).now;
    await context.clock.install({ time: new Date(serverNow) });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    if (process.env.TANDEM_WEB_DEBUG) page.on('console', (m) => console.log(`browser: ${m.text()}`));
  }, 180_000);

  afterAll(async () => {
    await closeBrowser?.();
    await tandem?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('is served at / with its manifest and icons, and tells the app where to sign in', async () => {
    const index = await fetch(`${tandem.url}/`, { headers: { accept: 'text/html' } });
    expect(index.status).toBe(200);
    const page = await index.text();
    expect(page).toContain('<link rel="manifest" href="/manifest.webmanifest"');
    // Its JavaScript goes to a phone compressed (built .br beside each file).
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page)![1]!;
    const compressed = await fetch(`${tandem.url}${script}`, { headers: { 'accept-encoding': 'br' } });
    expect({ status: compressed.status, encoding: compressed.headers.get('content-encoding'), type: compressed.headers.get('content-type') }).toEqual({ status: 200, encoding: 'br', type: expect.stringMatching(/javascript/) });
    expect((await compressed.text()).length).toBeGreaterThan(10_000);
    const manifest = (await (await fetch(`${tandem.url}/manifest.webmanifest`)).json()) as { start_url: string; display: string; icons: { src: string; sizes: string }[] };
    expect(manifest).toMatchObject({ start_url: '/', display: 'standalone' });
    for (const icon of manifest.icons) expect((await fetch(`${tandem.url}${icon.src}`)).status).toBe(200);
    const config = (await (await fetch(`${tandem.url}/app-config.json`)).json()) as { demo: boolean; oidc: { authority: string; clientId: string; metadata: { issuer: string } } };
    expect(config).toMatchObject({ demo: true, oidc: { authority: `${tandem.url}/dev-sign-in`, clientId: 'tandem-web', metadata: { issuer: 'urn:tandem:dev-issuer' } } });
    // The API keeps its own answers: an unknown path, even asked for as a page, is still a problem+json 404.
    for (const path of ['/api/nowhere', '/nowhere']) {
      const unknown = await fetch(`${tandem.url}${path}`, { headers: { accept: 'text/html,*/*' } });
      expect({ path, status: unknown.status, type: unknown.headers.get('content-type') }).toEqual({ path, status: 404, type: expect.stringMatching(/problem\+json/) });
    }
  });

  it('signs Amira in through the demo sign-in (code + PKCE) and shows her people and what is due', async () => {
    await page.goto(tandem.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/dev-sign-in\/authorize\?.*code_challenge_method=S256/);
    expect(await page.getByText('This is a demo').isVisible()).toBe(true);
    await expectAccessible('demo sign-in');
    await page.getByRole('button', { name: 'Sign in as Amira Hassan' }).click();
    const jones = page.locator(`[data-person="${jonesId}"]`);
    await jones.waitFor();
    expect(await page.getByRole('heading', { name: 'My day' }).isVisible()).toBe(true);
    expect(await page.getByText('Signed in as Amira Hassan').isVisible()).toBe(true);
    expect(await jones.getByRole('heading', { name: 'Mr Arthur Jones' }).isVisible()).toBe(true);
    expect(await jones.getByText('Give insulin by pen as instructed').isVisible()).toBe(true);
    expect(await jones.getByText(/10 units of Humulin I KwikPen/).isVisible()).toBe(true);
    expect(await jones.locator('.nhsuk-tag').first().textContent()).toMatch(/^(Due now|Due later|Overdue|Done|Withheld)$/);
    // Her token is one Tandem's API accepts exactly like `npm run token`'s: same issuer, audience and claims.
    const accessToken = await page.evaluate(() => JSON.parse(localStorage.getItem(Object.keys(localStorage).find((k) => k.startsWith('oidc.user:'))!)!).access_token as string);
    const claims = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: 'urn:tandem:dev-issuer', aud: 'tandem', sub: 'cw-amira-hassan', role: 'care-worker', org: 'org-kindly-care', scope: 'user/*.cruds' });
    await expectAccessible('my day');
  });

  it('shows the NEWS2 as she types (incomplete until every parameter is in) and the server answers with the same score and "Call 999 now"', async () => {
    const before = (await vitalSignsOf(jonesId)).length;
    await page.getByRole('link', { name: 'Record vital signs for Mr Arthur Jones' }).click();
    await page.getByRole('heading', { name: 'Vital signs' }).waitFor();
    await page.getByLabel('Breathing rate').fill('28');
    const news2 = page.locator('#news2');
    expect(await news2.textContent()).toContain('NEWS2 incomplete');
    expect(await news2.textContent()).toContain('Still to enter');
    await fillVitals({ resp: '28', spo2: '88', air: 'Air', systolic: '88', diastolic: '50', pulse: '135', consciousness: 'Responds to voice only', temperature: '39.5' });
    await page.waitForFunction(() => document.querySelector('#news2')?.textContent?.includes('NEWS2 17'));
    expect(await news2.textContent()).toContain('high risk: emergency response');
    expect(await news2.textContent()).toContain('Call 999 now');
    await expectAccessible('vital signs form');
    await page.getByRole('button', { name: 'Save vital signs' }).click();
    await page.getByRole('heading', { name: 'Vital signs saved' }).waitFor();
    expect(await page.locator('#server-news2').textContent()).toContain('NEWS2 17');
    expect(await page.locator('.nhsuk-warning-callout').first().textContent()).toContain('Call 999 now');
    await expectAccessible('vital signs saved');
    expect((await vitalSignsOf(jonesId)).length).toBe(before + 1);
  });

  it('shows the server refusing an impossible value in the error summary, linked to its field, with the same words above it; nothing is stored', async () => {
    const before = (await vitalSignsOf(jonesId)).length;
    await page.getByRole('link', { name: 'Back to my day' }).click();
    await page.getByRole('link', { name: 'Record vital signs for Mr Arthur Jones' }).click();
    await fillVitals({ resp: '16', spo2: '97', air: 'Air', systolic: '124', diastolic: '78', pulse: '0', consciousness: 'Alert', temperature: '36.8' });
    await page.getByRole('button', { name: 'Save vital signs' }).click();
    const summary = page.locator('.nhsuk-error-summary');
    await summary.waitFor();
    expect(await page.title()).toMatch(/^Error: /);
    const link = summary.getByRole('link', { name: /No pulse: call 999/ });
    expect(await link.getAttribute('href')).toBe('#pulse');
    const message = (await link.textContent())!.trim();
    expect(await page.locator('#pulse-error').textContent()).toContain(message);
    expect(await page.getByLabel('Pulse').getAttribute('aria-describedby')).toContain('pulse-error');
    await link.click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('pulse');
    // What she typed is still there to correct.
    expect(await page.getByLabel('Breathing rate').inputValue()).toBe('16');
    await expectAccessible('vital signs with an error');
    expect((await vitalSignsOf(jonesId)).length).toBe(before);
  });

  it('records two entries with no signal: they wait on the phone (through a reload), are sent in order when the signal returns, and each is stored exactly once', async () => {
    await page.evaluate(() => navigator.serviceWorker.ready);
    // The service worker controls the page once it has been loaded under it.
    await page.reload();
    await page.getByRole('heading', { name: 'Vital signs' }).waitFor();
    expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    const before = (await vitalSignsOf(jonesId)).length;

    await context.setOffline(true);
    await page.getByLabel('Pulse').fill('72');
    await page.getByRole('button', { name: 'Save vital signs' }).click();
    await page.getByRole('heading', { name: 'Saved on this phone' }).waitFor();
    expect(await page.getByText('Waiting to send').first().isVisible()).toBe(true);
    expect(await page.locator('#waiting-link').textContent()).toContain('1 entry waiting to send');
    await expectAccessible('saved on this phone');
    // A second entry, still with no signal.
    await page.getByRole('link', { name: 'Back to my day' }).click();
    await page.getByRole('link', { name: 'Record vital signs for Mr Arthur Jones' }).click();
    await page.getByLabel('Breathing rate').fill('15');
    await page.getByRole('button', { name: 'Save vital signs' }).click();
    await page.getByRole('heading', { name: 'Saved on this phone' }).waitFor();
    expect(await page.locator('#waiting-link').textContent()).toContain('2 entries waiting to send');

    // A reload with no signal: the app opens from the phone and both entries are still waiting.
    await page.reload();
    await page.locator(`[data-person="${jonesId}"]`).waitFor();
    expect(await page.getByText('Kept on this phone', { exact: true }).isVisible()).toBe(true);
    expect(await page.getByText('Offline', { exact: true }).isVisible()).toBe(true);
    expect(await page.locator('#waiting-link').textContent()).toContain('2 entries waiting to send');
    expect((await vitalSignsOf(jonesId)).length).toBe(before);

    await context.setOffline(false);
    await page.waitForFunction(() => !document.querySelector('#waiting-link'));
    const stored = await vitalSignsOf(jonesId);
    expect(stored.length).toBe(before + 2);
    // Both, each once, with their bedside times, in the order she saved them.
    const saved = await page.evaluate(
      () =>
        new Promise<{ occurredAt: string; sentAt: string }[]>((resolve) => {
          const open = indexedDB.open('tandem');
          open.onsuccess = () => {
            const all = open.result.transaction('queue').objectStore('queue').getAll();
            all.onsuccess = () =>
              resolve(
                (all.result as { kind: string; savedAt: string; sentAt: string; body: { occurredAt: string } }[])
                  .filter((e) => e.kind === 'vital-signs')
                  .sort((a, b) => a.savedAt.localeCompare(b.savedAt))
                  .slice(-2)
                  .map((e) => ({ occurredAt: e.body.occurredAt, sentAt: e.sentAt })),
              );
          };
        }),
    );
    for (const { occurredAt } of saved) expect(stored.filter((o) => o.effectiveDateTime === occurredAt)).toHaveLength(1);
    expect(saved[0]!.sentAt <= saved[1]!.sentAt).toBe(true);

    // The entry as it is kept on the phone: its key and its bedside time.
    const entry = await page.evaluate(
      () =>
        new Promise<{ idempotencyKey: string; state: string; body: Record<string, unknown>; path: string }>((resolve, reject) => {
          const open = indexedDB.open('tandem');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const all = open.result.transaction('queue').objectStore('queue').getAll();
            all.onsuccess = () => resolve((all.result as { idempotencyKey: string; state: string; body: Record<string, unknown>; path: string; savedAt: string }[]).sort((a, b) => a.savedAt.localeCompare(b.savedAt)).at(-1)!);
          };
        }),
    );
    expect(entry.state).toBe('sent');
    const bedside = stored.filter((o) => o.effectiveDateTime === entry.body.occurredAt);
    expect(bedside).toHaveLength(1);

    // Sending it again (a lost answer, a second tab) is a replay: still stored once.
    const again = await fetch(`${tandem.url}${entry.path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await token(amiraClaims)}` }, body: JSON.stringify(entry.body) });
    expect(again.status).toBeLessThan(300);
    expect(await again.json()).toMatchObject({ replayed: true });
    expect((await vitalSignsOf(jonesId)).length).toBe(before + 2);

    await page.goto(`${tandem.url}/waiting`);
    expect(await page.locator(`[data-entry="${entry.idempotencyKey}"]`).getAttribute('data-state')).toBe('sent');
    await expectAccessible('entries on this phone');
  });

  it('shows a queued entry the server refuses when it reaches it, with the reason, and keeps it', async () => {
    const before = (await vitalSignsOf(jonesId)).length;
    await page.goto(tandem.url);
    await page.locator(`[data-person="${jonesId}"]`).waitFor();
    await context.setOffline(true);
    await page.getByRole('link', { name: 'Record vital signs for Mr Arthur Jones' }).click();
    await fillVitals({ resp: '16', spo2: '97', air: 'Air', systolic: '124', diastolic: '78', pulse: '0', consciousness: 'Alert', temperature: '36.8' });
    await page.getByRole('button', { name: 'Save vital signs' }).click();
    await page.getByRole('heading', { name: 'Saved on this phone' }).waitFor();
    await context.setOffline(false);
    await page.locator('#waiting-link', { hasText: '1 not accepted: see why' }).waitFor();
    await page.locator('#waiting-link').click();
    const refused = page.locator('[data-state="refused"]');
    expect(await refused.count()).toBe(1);
    expect(await refused.textContent()).toContain('Not accepted');
    expect(await refused.textContent()).toMatch(/pulse: No pulse: call 999/);
    expect((await vitalSignsOf(jonesId)).length).toBe(before);
    await expectAccessible('an entry not accepted');
  });

  it('keeps what she saved and what she was typing when her sign-in runs out, and sends it once she signs in again', async () => {
    const before = (await vitalSignsOf(jonesId)).length;
    await page.goto(tandem.url);
    await page.locator(`[data-person="${jonesId}"]`).waitFor();
    // Her sign-in runs out (the token's expiry, as the app keeps it, is now in the past).
    await page.evaluate(() => {
      const key = Object.keys(localStorage).find((k) => k.startsWith('oidc.user:'))!;
      const user = JSON.parse(localStorage.getItem(key)!) as { expires_at: number };
      user.expires_at = Math.floor(Date.now() / 1000) - 60;
      localStorage.setItem(key, JSON.stringify(user));
    });
    await page.reload();
    await page.locator(`[data-person="${jonesId}"]`).waitFor();
    expect(await page.getByText('Signed out', { exact: true }).isVisible()).toBe(true);
    await page.getByRole('link', { name: 'Record vital signs for Mr Arthur Jones' }).click();
    await fillVitals({ resp: '17', spo2: '96', air: 'Air', systolic: '131', diastolic: '82', pulse: '77', consciousness: 'Alert', temperature: '36.9' });
    await page.getByRole('button', { name: 'Save vital signs' }).click();
    await page.getByRole('heading', { name: 'Saved on this phone' }).waitFor();
    await page.getByRole('link', { name: 'Back to my day' }).click();
    await page.getByRole('link', { name: 'Record vital signs for Mr Arthur Jones' }).click();
    await page.getByLabel('Breathing rate').fill('19');
    expect((await vitalSignsOf(jonesId)).length).toBe(before);

    await page.getByRole('button', { name: 'Sign in again' }).click();
    await page.getByRole('button', { name: 'Sign in as Amira Hassan' }).click();
    // Back where she was, with what she was typing, and the saved entry sent.
    await page.getByRole('heading', { name: 'Vital signs' }).waitFor();
    expect(await page.getByLabel('Breathing rate').inputValue()).toBe('19');
    // (The entry refused earlier stays listed as not accepted; nothing is waiting any more.)
    await page.waitForFunction(() => !document.querySelector('#waiting-link')?.textContent?.includes('waiting to send'));
    expect((await vitalSignsOf(jonesId)).length).toBe(before + 1);
  });

  it('records Mr Jones’s insulin against the instruction in units; a second dose inside the minimum interval asks her to confirm first', async () => {
    const doses = async () => ((await fhir(`/fhir/MedicationAdministration?patient=${jonesId}`)).entry ?? []).map((e) => e.resource);
    const before = (await doses()).length;
    /** Gives the dose; answers the confirmations Tandem asked for (ticking each), until it is recorded. */
    /**
     * The first dose from her day; the second from the form's own address: once a dose is recorded
     * within two hours of 18:00 her day shows it done and offers no second (so whether the link is
     * still there depends on the time of day the test runs), but a second dose can still reach the
     * record (another phone, a queued entry), and that is what the server must catch.
     */
    const give = async (from: 'day' | 'form'): Promise<string[]> => {
      const asked: string[] = [];
      const start = (await doses()).length;
      if (from === 'day') {
        await page.goto(tandem.url);
        const given = page.getByRole('link', { name: 'Record insulin given for Mr Arthur Jones' });
        const notGiven = page.getByRole('link', { name: 'Insulin not given for Mr Arthur Jones' });
        insulinForms = { given: (await given.getAttribute('href'))!, notGiven: (await notGiven.getAttribute('href'))! };
        await given.click();
      } else {
        await page.goto(new URL(insulinForms!.given, tandem.url).href);
      }
      await page.getByRole('heading', { name: 'Insulin given' }).waitFor();
      expect(await page.getByLabel('Dose given').inputValue()).toBe('10');
      await page.getByLabel('Abdomen').check();
      const submit = async () => {
        // The summary on screen now is not the answer to this tap: only a new one is.
        await page.evaluate(() => document.querySelector('.nhsuk-error-summary')?.setAttribute('data-seen', ''));
        await page.getByRole('button', { name: 'Record insulin given' }).click();
      };
      await submit();
      for (let round = 0; round < 4; round++) {
        const outcome = await Promise.race([
          page.getByRole('heading', { name: 'Insulin given saved' }).waitFor().then(() => 'saved' as const),
          page.locator('.nhsuk-error-summary:not([data-seen])').waitFor().then(() => 'confirm' as const),
        ]);
        if (outcome === 'saved') return asked;
        const link = page.locator('.nhsuk-error-summary a').first();
        if (!(await link.count())) throw new Error(`refused: ${await page.locator('.nhsuk-error-summary').textContent()}`);
        expect(await link.getAttribute('href')).toBe('#confirm');
        asked.push((await link.textContent())!.trim());
        if (round === 0) await expectAccessible('insulin: confirmation needed');
        // Nothing is stored until she confirms.
        expect((await doses()).length).toBe(start);
        await page.getByLabel(/^Yes, /).check();
        await submit();
      }
      throw new Error(`not recorded after confirming: ${asked.join(' | ')}`);
    };
    await give('day');
    expect((await doses()).length).toBe(before + 1);
    const second = await give('form');
    expect(second.some((message) => /confirm this is not the same dose recorded twice/.test(message))).toBe(true);
    const recorded = await doses();
    expect(recorded.length).toBe(before + 2);
    expect(JSON.stringify(recorded)).toContain('"unit":"units"');
  });

  it('shows the hypo protocol as soon as she types a blood glucose of 3.4 mmol/L, and the server answers with it', async () => {
    await page.goto(tandem.url);
    await page.locator(`[data-person="${jonesId}"]`).waitFor();
    // Offered because Mr Jones's insulin is delegated to her: the glucose before each dose.
    await page.getByRole('link', { name: 'Record blood glucose for Mr Arthur Jones' }).click();
    await page.getByLabel('Blood glucose', { exact: true }).fill('3.4');
    const live = page.locator('#live-advice');
    await live.locator('.nhsuk-warning-callout').waitFor();
    expect(await live.textContent()).toContain('Hypo: blood glucose 3.4 mmol/L is below 4.0. Treat it now');
    expect(await live.textContent()).toContain('Do not give insulin');
    await expectAccessible('blood glucose form');
    await page.getByRole('button', { name: 'Save blood glucose' }).click();
    await page.getByRole('heading', { name: 'Blood glucose saved' }).waitFor();
    expect(await page.locator('.nhsuk-warning-callout').first().textContent()).toContain('Hypo: blood glucose 3.4 mmol/L');
    await expectAccessible('blood glucose saved');
  });

  it('shows the prompt the hypo started, addressed to her, and she acknowledges it', async () => {
    await page.goto(tandem.url);
    const prompt = page.locator(`[data-person="${jonesId}"] [data-prompt]`).first();
    await prompt.waitFor();
    const promptId = (await prompt.getAttribute('data-prompt'))!;
    await expectAccessible('my day with a prompt');
    await prompt.getByRole('button', { name: /^Acknowledge/ }).click();
    await page.locator(`[data-prompt="${promptId}"] .nhsuk-tag`, { hasText: 'Acknowledged' }).waitFor();
    // Acknowledged by her (the prompt stays open until the recheck is recorded).
    const open = (await fetch(`${tandem.url}/api/prompts?open=true`, { headers: { authorization: `Bearer ${await token(amiraClaims)}`, 'x-tandem-min-position': String(await tandem.storage.store.headPosition()) } }).then((r) => r.json())) as { prompts: { promptId: string; acknowledgedBy?: string }[] };
    expect(open.prompts.find((p) => p.promptId === promptId)).toMatchObject({ acknowledgedBy: 'cw-amira-hassan' });
    await page.reload();
    await page.locator(`[data-prompt="${promptId}"] .nhsuk-tag`, { hasText: 'Acknowledged' }).waitFor();
    expect(await page.locator(`[data-prompt="${promptId}"]`).getByText(/^Recheck the blood glucose by \d\d:\d\d/).isVisible()).toBe(true);
  });

  it('records insulin not given, with her reason, against the delegated instruction', async () => {
    const doses = async () => ((await fhir(`/fhir/MedicationAdministration?patient=${jonesId}`)).entry ?? []).map((e) => e.resource);
    const before = (await doses()).length;
    // From the address her day gave (earlier today's dose may show as done there, depending on the hour).
    await page.goto(new URL(insulinForms!.notGiven, tandem.url).href);
    await page.getByRole('button', { name: 'Record insulin not given' }).click();
    // No reason: the error summary links to the field.
    const link = page.locator('.nhsuk-error-summary').getByRole('link', { name: 'Enter why the insulin was not given' });
    expect(await link.getAttribute('href')).toBe('#reason');
    await page.getByLabel('Why was it not given?').fill('Blood glucose 3.4 mmol/L: the hypo protocol says do not give insulin now');
    await page.getByRole('button', { name: 'Record insulin not given' }).click();
    await page.getByRole('heading', { name: 'Insulin not given saved' }).waitFor();
    await expectAccessible('insulin not given saved');
    const recorded = await doses();
    expect(recorded.length).toBe(before + 1);
    expect(recorded.some((d) => d.status === 'not-done')).toBe(true);
  });

  it('shows an escalation that has reached her (NHS 111 / 999 advice) and she acknowledges it', async () => {
    await page.goto(tandem.url);
    const escalation = page.locator(`[data-person="${jonesId}"] [data-escalation]:has(button)`).first();
    await escalation.waitFor();
    const escalationId = (await escalation.getAttribute('data-escalation'))!;
    await escalation.getByRole('button', { name: /^Acknowledge/ }).click();
    await page.locator(`[data-escalation="${escalationId}"] .nhsuk-tag`, { hasText: 'Acknowledged' }).waitFor();
    const listed = (await fetch(`${tandem.url}/api/escalations?patientId=${jonesId}`, { headers: { authorization: `Bearer ${await token(amiraClaims)}`, 'x-tandem-min-position': String(await tandem.storage.store.headPosition()) } }).then((r) => r.json())) as { escalations: { escalationId: string; status: string }[] };
    expect(listed.escalations.find((e) => e.escalationId === escalationId)?.status).toBe('acknowledged');
    await expectAccessible('my day with an escalation acknowledged');
  });

  it('writes a note (kept as a draft as she types) and it reaches the record', async () => {
    await page.goto(tandem.url);
    await page.getByRole('link', { name: 'Write a note for Mr Arthur Jones' }).click();
    await page.getByLabel('Note').fill('Mr Jones ate all of his tea and says he feels well.');
    // The draft is written to the phone (IndexedDB) as she types; the page is reloaded once it is there,
    // as a phone killed by its battery would be a moment after the last key.
    await page.waitForFunction(
      (text) =>
        new Promise<boolean>((resolve) => {
          const opened = indexedDB.open('tandem');
          opened.onsuccess = () => {
            const all = opened.result.transaction('drafts').objectStore('drafts').getAll();
            all.onsuccess = () => resolve((all.result as { values?: Record<string, string> }[]).some((d) => Object.values(d.values ?? {}).includes(text)));
            all.onerror = () => resolve(false);
          };
          opened.onerror = () => resolve(false);
        }),
      'Mr Jones ate all of his tea and says he feels well.',
    );
    await page.reload();
    expect(await page.getByLabel('Note').inputValue()).toBe('Mr Jones ate all of his tea and says he feels well.');
    await expectAccessible('write a note');
    await page.getByRole('button', { name: 'Save note' }).click();
    await page.getByRole('heading', { name: 'Note saved' }).waitFor();
    await page.goto(`${tandem.url}/waiting`);
    await page.locator('#entries').waitFor();
    expect(await page.locator('[data-state="sent"]', { hasText: 'Note: Mr Arthur Jones' }).count()).toBe(1);
  });
  /** The last entry of this kind saved on the phone (the queue in IndexedDB), as sent. */
  const lastSaved = (kind: string) =>
    page.evaluate(
      (wanted) =>
        new Promise<{ state: string; body: { occurredAt: string }; reply?: { eventIds?: string[] } } | undefined>((resolve) => {
          const open = indexedDB.open('tandem');
          open.onsuccess = () => {
            const all = open.result.transaction('queue').objectStore('queue').getAll();
            all.onsuccess = () =>
              resolve(
                (all.result as { kind: string; savedAt: string; state: string; body: { occurredAt: string } }[])
                  .filter((e) => e.kind === wanted)
                  .sort((a, b) => a.savedAt.localeCompare(b.savedAt))
                  .at(-1),
              );
          };
        }),
      kind,
    );
  const observationsOf = async (patientId: string) => ((await fhir(`/fhir/Observation?patient=${patientId}&_count=1000`)).entry ?? []).map((e) => e.resource);
  /** The entry she just saved, as the GP reads it in FHIR: exactly one Observation at its bedside time. */
  const storedOnce = async (kind: string) => {
    const saved = await lastSaved(kind);
    expect(saved?.state).toBe('sent');
    const matching = (await observationsOf(jonesId)).filter((o) => o.effectiveDateTime === saved!.body.occurredAt);
    expect(matching).toHaveLength(1);
    return matching[0]!;
  };
  const components = (observation: Record<string, unknown>) => Object.fromEntries(((observation.component ?? []) as { code: { text?: string }; valueBoolean?: boolean; valueString?: string; valueInteger?: number }[]).map((c) => [c.code.text, c.valueBoolean ?? c.valueString ?? c.valueInteger]));

  it('records soft signs against his usual self: nothing answered is an error linked to the first box; once answered it is stored once', async () => {
    const before = (await observationsOf(jonesId)).length;
    await page.goto(tandem.url);
    await page.getByRole('link', { name: 'Record soft signs for Mr Arthur Jones' }).click();
    await page.getByRole('heading', { name: 'Soft signs (RESTORE2)' }).waitFor();
    await expectAccessible('soft signs form');
    await page.getByRole('button', { name: 'Save soft signs' }).click();
    const link = page.locator('.nhsuk-error-summary').getByRole('link', { name: /Select which of these apply, or “No emergency signs”/ });
    expect(await link.getAttribute('href')).toBe('#emergencySigns.chestPain');
    expect(await page.locator('[id="emergencySigns-error"]').textContent()).toContain((await link.textContent())!.trim());
    await link.click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('emergencySigns.chestPain');
    await expectAccessible('soft signs with an error');
    expect((await observationsOf(jonesId)).length).toBe(before);
    await page.getByLabel('No emergency signs').check();
    await page.getByLabel('New confusion').check();
    await page.getByLabel('Eating or drinking less').check();
    await page.getByRole('button', { name: 'Save soft signs' }).click();
    await page.getByRole('heading', { name: 'Soft signs saved' }).waitFor();
    await expectAccessible('soft signs saved');
    const stored = components(await storedOnce('soft-signs'));
    expect(stored).toMatchObject({ 'Soft sign: new confusion': true, 'Emergency sign: chest pain': false });
    expect(Object.values(stored).filter((v) => v === true)).toHaveLength(2);
  });

  it('screens his urinary symptoms with no dipstick (UKHSA, over 65) and it is stored once', async () => {
    await page.goto(tandem.url);
    await page.getByRole('link', { name: 'Screen for urinary symptoms for Mr Arthur Jones' }).click();
    await page.getByRole('heading', { name: 'Urinary symptoms' }).waitFor();
    expect(await page.getByText('Do not use a urine dipstick').isVisible()).toBe(true);
    expect(await page.getByLabel(/dipstick/i).count()).toBe(0);
    await page.getByRole('group', { name: 'Are any of these present?' }).getByLabel('None of these').check();
    await page.getByLabel('New incontinence').check();
    await page.getByRole('group', { name: 'Does the person have a urinary catheter?' }).getByLabel('No').check();
    await expectAccessible('urinary screen form');
    await page.getByRole('button', { name: 'Save urinary screen' }).click();
    await page.getByRole('heading', { name: 'Urinary screen saved' }).waitFor();
    const stored = components(await storedOnce('urinary-symptoms'));
    expect(stored).toMatchObject({ 'UTI sign: new incontinence': true, 'UTI sign: new dysuria': false, 'Urinary catheter in place': false });
  });

  it('records a drink; the server refusing 5000 ml is shown at the field in its words and nothing is stored; 250 ml is stored once', async () => {
    const before = (await observationsOf(jonesId)).length;
    await page.goto(tandem.url);
    await page.getByRole('link', { name: 'Record a drink for Mr Arthur Jones' }).click();
    await page.getByLabel('What did they drink?').fill('Tea');
    await page.getByLabel('How much?').fill('5000');
    await page.getByRole('button', { name: 'Save drink' }).click();
    const link = page.locator('.nhsuk-error-summary').getByRole('link', { name: /volume must be between 1 and 3000 ml/ });
    expect(await link.getAttribute('href')).toBe('#volumeMl');
    expect(await page.locator('[id="volumeMl-error"]').textContent()).toContain((await link.textContent())!.trim());
    expect(await page.getByLabel('What did they drink?').inputValue()).toBe('Tea');
    await expectAccessible('a drink refused');
    expect((await observationsOf(jonesId)).length).toBe(before);
    await page.getByLabel('How much?').fill('250');
    await page.getByRole('button', { name: 'Save drink' }).click();
    await page.getByRole('heading', { name: 'Drink saved' }).waitFor();
    const stored = await storedOnce('fluid-intake');
    expect(stored.valueQuantity).toMatchObject({ value: 250 });
    expect(components(stored)).toMatchObject({ Drink: 'Tea' });
  });

  it('checks his cellulitis: spread beyond a line never drawn is refused at that question in the server’s words; with the line drawn it is stored once', async () => {
    await page.goto(tandem.url);
    await page.getByRole('link', { name: 'Check the cellulitis for Mr Arthur Jones' }).click();
    await page.getByRole('heading', { name: 'Cellulitis check' }).waitFor();
    await page.getByRole('group', { name: 'Has a line been drawn around the red area?' }).getByLabel('No').check();
    await page.getByRole('group', { name: 'Has the redness spread beyond the line?' }).getByLabel('Yes').check();
    await page.getByLabel('Pain score').fill('4');
    await page.getByRole('group', { name: /skin tone/ }).getByLabel('No').check();
    await expectAccessible('cellulitis form');
    await page.getByRole('button', { name: 'Save cellulitis check' }).click();
    const link = page.locator('.nhsuk-error-summary').getByRole('link', { name: /needs a marked line/ });
    expect(await link.getAttribute('href')).toBe('#rednessBeyondMarkedLine');
    expect(await page.locator('[id="rednessBeyondMarkedLine-error"]').isVisible()).toBe(true);
    await page.getByRole('group', { name: 'Has a line been drawn around the red area?' }).getByLabel('Yes').check();
    await page.getByRole('button', { name: 'Save cellulitis check' }).click();
    await page.getByRole('heading', { name: 'Cellulitis check saved' }).waitFor();
    expect(components(await storedOnce('cellulitis-checks'))).toMatchObject({ 'Marked line drawn around the redness': true, 'Redness beyond the marked line': true, 'Pain score (0 to 10)': 4 });
  });
  it('changes the drink she recorded, with her reason: the server refusing the new amount is shown at its field; the same entry is amended, never duplicated', async () => {
    const drink = await storedOnce('fluid-intake');
    await page.goto(`${tandem.url}/waiting`);
    await page.getByRole('link', { name: /^Change it \(Drink for Mr Arthur Jones at \d\d:\d\d\)$/ }).click();
    await page.getByLabel('Why are you changing it?').waitFor();
    // What she recorded, to correct.
    expect(await page.getByLabel('How much?').inputValue()).toBe('250');
    expect(await page.getByLabel('What did they drink?').inputValue()).toBe('Tea');
    await page.getByLabel('How much?').fill('5000');
    await page.getByRole('button', { name: 'Save drink' }).click();
    // No reason: asked for first, linked to its field.
    const reasonLink = page.locator('.nhsuk-error-summary').getByRole('link', { name: 'Enter why you are changing it' });
    expect(await reasonLink.getAttribute('href')).toBe('#reason');
    await expectAccessible('changing an entry, no reason');
    await page.getByLabel('Why are you changing it?').fill('It was the big mug, not the small one');
    await page.getByRole('button', { name: 'Save drink' }).click();
    // The server's refusal of the replacement's amount is at the amount, in its words.
    const link = page.locator('.nhsuk-error-summary').getByRole('link', { name: /volume must be between 1 and 3000 ml/ });
    expect(await link.getAttribute('href')).toBe('#volumeMl');
    expect(await page.getByLabel('Why are you changing it?').inputValue()).toBe('It was the big mug, not the small one');
    await page.getByLabel('How much?').fill('350');
    await page.getByRole('button', { name: 'Save drink' }).click();
    await page.getByRole('heading', { name: 'Change saved' }).waitFor();
    await expectAccessible('change saved');
    const amended = await fhir(`/fhir/Observation/${String(drink.id)}`);
    expect(amended).toMatchObject({ status: 'amended', valueQuantity: { value: 350 } });
    expect(JSON.stringify(amended)).toContain('It was the big mug, not the small one');
    // Still one drink at that time: amended, not recorded twice.
    expect((await observationsOf(jonesId)).filter((o) => o.effectiveDateTime === drink.effectiveDateTime)).toHaveLength(1);
    await page.goto(`${tandem.url}/waiting`);
    await page.locator('[data-state="sent"]', { hasText: 'Drink: Mr Arthur Jones' }).getByText('Changed', { exact: true }).waitFor();
  });

  it('marks the cellulitis check she recorded as entered in error, with her reason; it stays in the record, marked, and is offered for correction no more', async () => {
    const check = await storedOnce('cellulitis-checks');
    await page.goto(`${tandem.url}/waiting`);
    await page.getByRole('link', { name: /^Mark as entered in error \(Cellulitis check for Mr Arthur Jones at \d\d:\d\d\)$/ }).click();
    await page.getByRole('heading', { name: 'Mark as entered in error' }).waitFor();
    await page.getByRole('button', { name: 'Mark as entered in error' }).click();
    const link = page.locator('.nhsuk-error-summary').getByRole('link', { name: 'Enter why it was entered in error' });
    expect(await link.getAttribute('href')).toBe('#reason');
    await expectAccessible('entered in error, no reason');
    await page.getByLabel('Why was it entered in error?').fill('Recorded for the wrong person');
    await page.getByRole('button', { name: 'Mark as entered in error' }).click();
    await page.getByRole('heading', { name: 'Marked as entered in error' }).waitFor();
    const marked = await fhir(`/fhir/Observation/${String(check.id)}`);
    expect(marked).toMatchObject({ status: 'entered-in-error' });
    expect(JSON.stringify(marked)).toContain('Recorded for the wrong person');
    await page.goto(`${tandem.url}/waiting`);
    const card = page.locator('[data-state="sent"]', { hasText: 'Cellulitis check: Mr Arthur Jones' });
    await card.getByText('Marked entered in error', { exact: true }).waitFor();
    expect(await card.getByRole('link').count()).toBe(0);
    await expectAccessible('entries on this phone, with corrections');
  });
  it('keeps her people’s latest observations and doses on the phone whenever her day is read with signal, and shows them with no signal, saying so', async () => {
    const since = new Date().toISOString();
    await page.goto(tandem.url);
    await page.locator(`[data-person="${jonesId}"]`).waitFor();
    // Read again as her day is read (she has recorded for him since), before she has opened his record at all.
    await page.waitForFunction(
      ({ id, after }) =>
        new Promise<boolean>((resolve) => {
          const open = indexedDB.open('tandem');
          open.onsuccess = () => {
            const all = open.result.transaction('cache').objectStore('cache').getAll();
            all.onsuccess = () => resolve((all.result as { id: string; fetchedAt: string }[]).some((c) => c.id.startsWith('record-fresh:') && c.id.endsWith(`:${id}`) && c.fetchedAt >= after));
          };
        }),
      { id: jonesId, after: since },
    );
    await context.setOffline(true);
    try {
      await page.getByRole('link', { name: 'Latest observations and doses for Mr Arthur Jones' }).click();
      await page.locator('#record-kept').waitFor();
      expect(await page.locator('#record-kept').textContent()).toMatch(/Kept on this phone As it was at \d\d:\d\d/);
      const lines = (await page.locator('#record-lines').textContent())!;
      // The drink as she changed it, the soft signs she ticked, the check she marked entered in error, his insulin in units.
      expect(lines).toMatch(/350 m[lL]/);
      expect(lines).toContain('Soft sign: new confusion');
      expect(lines).toContain('Entered in error');
      expect(lines).toMatch(/10 units/);
      await expectAccessible('latest observations kept on the phone');
    } finally {
      await context.setOffline(false);
    }
  });
  it('changes the vital signs she recorded (the pulse she mistyped), with her reason: the same set amended, no second set', async () => {
    const before = (await vitalSignsOf(jonesId)).length;
    await page.goto(`${tandem.url}/waiting`);
    await page.getByRole('link', { name: /^Change it \(Vital signs for Mr Arthur Jones at \d\d:\d\d\)$/ }).first().click();
    // (Only the form being changed asks why; the list's headings also say "Vital signs".)
    await page.getByLabel('Why are you changing it?').waitFor();
    await page.getByLabel('Why are you changing it?').fill('Typed 77 for a pulse of 87');
    await page.getByLabel('Pulse').fill('87');
    await page.getByRole('button', { name: 'Save vital signs' }).click();
    await page.getByRole('heading', { name: 'Change saved' }).waitFor();
    expect((await vitalSignsOf(jonesId)).length).toBe(before);
    const pulses = ((await fhir(`/fhir/Observation?patient=${jonesId}&code=8867-4&_count=500`)).entry ?? []).map((e) => e.resource);
    expect(pulses.some((p) => p.status === 'amended' && (p.valueQuantity as { value?: number } | undefined)?.value === 87)).toBe(true);
  });
});
