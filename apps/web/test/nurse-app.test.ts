import { loadConfig, startTandem, type RunningTandem } from '@tandem/app';
import { mintToken, type MintClaims } from '@tandem/auth';
import type { createRecordService } from '@tandem/record';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Page } from 'playwright-core';
import { DEMO, seedDemoData } from '../../tandem/src/demo/demo-data';
import { runInsulinScenario } from '../../tandem/src/demo/insulin-scenario';
import { axeViolations, buildApp, chromiumMissing, launchPhone } from './browser';

const missing = chromiumMissing();
if (missing) console.log(missing);
const describeInBrowser = missing ? describe.skip : describe;

/** Screenshots of the nurse's screens go to docs/screenshots when asked for (TANDEM_WEB_SCREENSHOTS=1). */
const SCREENSHOTS = process.env.TANDEM_WEB_SCREENSHOTS === '1' ? join(__dirname, '..', '..', '..', 'docs', 'screenshots') : undefined;

/**
 * The district nurse's app (issue 11) in Debian's Chromium against a real embedded Tandem: Sarah
 * signs in and reads her caseload, most urgent first; opens an escalation (SBARD, tier, deadline),
 * acknowledges and resolves it; then, with her caseload open, Amira records a hypo on her own phone
 * and the new escalation appears on Sarah's screen without a reload, from the live stream. A nurse
 * outside the person's care is never told of it (H56). Sarah reads Mr Jones's chart (H57, H58), and
 * Mrs Davies's, on SpO2 scale 2, shaded as scale 2 by air or oxygen (H95).
 */
describeInBrowser("the district nurse's app", () => {
  let dataDir: string;
  let tandem: RunningTandem;
  const closers: (() => Promise<void>)[] = [];
  let page: Page;
  let jonesId: string;
  let daviesId: string;
  let hypoEscalationId: string;
  const token = (claims: MintClaims) => mintToken(claims, { dataDir });
  const sarahClaims: MintClaims = { role: 'district-nurse', user: DEMO.nurse.practitionerId, org: DEMO.nursingTeam.organisationId, registration: DEMO.nurse.registration };
  const amiraClaims: MintClaims = { role: 'care-worker', user: DEMO.careWorkers[0]!.practitionerId, org: DEMO.careAgency.organisationId };
  const zoeClaims: MintClaims = { role: 'district-nurse', user: 'nurse-zoe-adams', org: 'org-south-district-nursing' };

  const api = async <T>(claims: MintClaims, method: string, path: string, body?: unknown): Promise<{ status: number; body: T; position?: string }> => {
    const response = await fetch(`${tandem.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${await token(claims)}`, 'content-type': 'application/json', 'x-tandem-min-position': String(await tandem.storage.store.headPosition()) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as T, position: response.headers.get('x-tandem-position') ?? undefined };
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

  /** A phone with the server's (test) clock, signed in as one of the demo's people through the demo sign-in. */
  const phoneSignedInAs = async (name: string, serverNow: Date) => {
    const { context, close } = await launchPhone();
    closers.push(close);
    await context.clock.install({ time: serverNow });
    const p = context.pages()[0] ?? (await context.newPage());
    p.setDefaultTimeout(15_000);
    if (process.env.TANDEM_WEB_DEBUG) p.on('console', (m) => console.log(`browser (${name}): ${m.text()}`));
    await p.goto(tandem.url);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('button', { name: `Sign in as ${name}` }).click();
    return { context, page: p };
  };

  /** Reads a live stream (as the app does: fetch, the token in a header) until `until` says stop; returns what it told. */
  const listen = async (claims: MintClaims) => {
    const abort = new AbortController();
    const response = await fetch(`${tandem.url}/api/events/stream`, { headers: { authorization: `Bearer ${await token(claims)}`, accept: 'text/event-stream' }, signal: abort.signal });
    if (response.status !== 200) throw new Error(`the stream answered ${response.status}: ${await response.text()}`);
    const frames: string[] = [];
    const waiters: (() => void)[] = [];
    const done = (async () => {
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      try {
        for (;;) {
          const { value, done: ended } = await reader.read();
          if (ended) return;
          buffer += value;
          const parts = buffer.split('\n\n');
          buffer = parts.pop()!;
          frames.push(...parts);
          for (const w of waiters.splice(0)) w();
        }
      } catch {
        // aborted
      }
    })();
    // A bound on waiting, so a message that never comes fails the test with what did come (not a timing assertion).
    const until = async (seen: (frames: readonly string[]) => boolean) => {
      const bound = Date.now() + 20_000;
      while (!seen(frames)) {
        if (Date.now() > bound) throw new Error(`the stream did not tell of it; it told:\n${frames.join('\n---\n')}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 1000);
        });
      }
    };
    await until((f) => f.some((x) => x.includes('event: ready')));
    closers.unshift(async () => abort.abort());
    return { status: response.status, frames, until, close: async () => (abort.abort(), await done) };
  };

  beforeAll(async () => {
    buildApp();
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-nurse-web-'));
    tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', TANDEM_TEST_CLOCK: 'true' }), pino({ level: 'silent' }));
    const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
    const seeded = await seedDemoData(record.care, { patients: 3, days: 2, now: new Date() });
    daviesId = seeded.patientIds[1]!;
    // The README's scenario: Sarah delegates Mr Jones's evening insulin to Amira; a hypo escalates to her and, unanswered, on to the next tier.
    const scenario = await runInsulinScenario({ url: tandem.url, token, say: () => undefined, runId: 'nurse-web' });
    jonesId = scenario.patientId;
    hypoEscalationId = scenario.escalationId;
    const system = await token({ role: 'system', user: 'web-test-clock' });
    const serverNow = ((await (await fetch(`${tandem.url}/admin/clock/advance`, { method: 'POST', headers: { authorization: `Bearer ${system}`, 'content-type': 'application/json' }, body: JSON.stringify({ minutes: 0 }) })).json()) as { now: string }).now;
    ({ page } = await phoneSignedInAs('Sarah Okafor', new Date(serverNow)));
  }, 240_000);

  afterAll(async () => {
    for (const close of closers) await close().catch(() => undefined);
    await tandem?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("shows Sarah her caseload, the most urgent first: the open escalation, the NEWS2 with its band in words, the latest glucose", async () => {
    await page.getByRole('heading', { name: 'My caseload' }).waitFor();
    const cards = page.locator('#caseload > li');
    await cards.first().waitFor();
    expect(await cards.count()).toBeGreaterThanOrEqual(3);
    // The people with an open escalation come first (Mr Jones has the hypo's), before anyone without one.
    const withEscalation = await cards.evaluateAll((lis) => lis.map((li) => li.querySelector('[data-escalation]') !== null));
    expect(withEscalation.indexOf(false) === -1 || withEscalation.slice(withEscalation.indexOf(false)).every((x) => !x)).toBe(true);
    expect(withEscalation[0]).toBe(true);
    const jones = page.locator(`[data-person="${jonesId}"]`);
    const escalation = jones.locator(`[data-escalation="${hypoEscalationId}"]`);
    expect(await escalation.textContent()).toMatch(/Escalation, tier \d/);
    expect(await escalation.textContent()).toMatch(/Urgent|Emergency/);
    // His latest blood glucose, with its time.
    expect(await jones.getByText(/^Blood glucose: \d+(\.\d)? mmol\/L, /).isVisible()).toBe(true);
    // Every NEWS2 shown says its band in words (never colour alone).
    const bands = page.locator('[data-news2]');
    expect(await bands.count()).toBeGreaterThan(0);
    for (const text of await bands.allTextContents()) expect(text).toMatch(/NEWS2 \d+ (low risk|low to medium risk|medium risk|high risk)/);
    await expectAccessible(page, 'nurse caseload');
    await screenshot(page, '10-nurse-caseload.png');
  });

  it('opens the escalation with its SBARD, tier and deadline; acknowledging and resolving are hers, and a resolution without an outcome is refused at its field', async () => {
    await page.locator(`[data-escalation="${hypoEscalationId}"]`).getByRole('link', { name: /Open the escalation/ }).click();
    // The escalation's own page (its h1), not the caseload's call-outs still drawn while it opens.
    await page.getByRole('heading', { level: 1, name: /Escalation, tier \d/ }).waitFor();
    const sbard = page.locator('#sbard');
    for (const part of ['Situation', 'Background', 'Assessment', 'Recommendation', 'Decision']) expect(await sbard.getByText(part, { exact: true }).isVisible()).toBe(true);
    expect(await sbard.textContent()).toMatch(/glucose/i);
    expect(await page.getByText(/Goes to the next tier at \d\d:\d\d|Deadline passed|Last tier/).isVisible()).toBe(true);
    await expectAccessible(page, 'escalation');
    await screenshot(page, '11-nurse-escalation.png');
    await page.getByLabel('Note (optional)').fill('Visiting within the hour');
    await page.getByRole('button', { name: 'Acknowledge the escalation' }).click();
    await page.locator('#escalation-state').getByText('Acknowledged').waitFor();
    // Resolving needs the outcome: the error summary links to the box, and nothing is sent.
    await page.getByRole('button', { name: 'Resolve the escalation' }).click();
    await page.locator('#error-summary').waitFor();
    expect(await page.locator('#error-summary a[data-field="outcome"]').textContent()).toBe('Enter the outcome');
    await expectAccessible(page, 'escalation with an error');
    await page.getByLabel('Outcome').fill('Visited: glucose 6.1 mmol/L after treatment; insulin plan reviewed');
    await page.getByRole('button', { name: 'Resolve the escalation' }).click();
    await page.locator('#escalation-state').getByText('Resolved').waitFor();
    const stored = await api<{ status: string; events: { type: string; actor: { id: string } }[] }>(sarahClaims, 'GET', `/api/escalations/${hypoEscalationId}`);
    expect(stored.body.status).toBe('resolved');
    expect(stored.body.events.filter((e) => e.type === 'EscalationAcknowledged' || e.type === 'EscalationResolved').map((e) => [e.type, e.actor.id])).toEqual([
      ['EscalationAcknowledged', DEMO.nurse.practitionerId],
      ['EscalationResolved', DEMO.nurse.practitionerId],
    ]);
  });

  it("shows a hypo Amira records on her own phone on Sarah's open caseload without a reload, and tells a nurse outside Mr Jones's care nothing of it (H56)", async () => {
    await page.getByRole('link', { name: 'Back to my caseload' }).click();
    await page.getByRole('heading', { name: 'My caseload' }).waitFor();
    await page.locator('#caseload').waitFor();
    // The page is marked: a reload would lose the mark.
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    const zoe = await listen(zoeClaims);
    const sarah = await listen(sarahClaims);
    expect([zoe.status, sarah.status]).toEqual([200, 200]);

    const serverNow = ((await (await fetch(`${tandem.url}/admin/clock/advance`, { method: 'POST', headers: { authorization: `Bearer ${await token({ role: 'system', user: 'web-test-clock' })}`, 'content-type': 'application/json' }, body: JSON.stringify({ minutes: 0 }) })).json()) as { now: string }).now;
    const amira = await phoneSignedInAs('Amira Hassan', new Date(serverNow));
    await amira.page.getByRole('link', { name: 'Record blood glucose for Mr Arthur Jones' }).click();
    await amira.page.getByLabel('Blood glucose', { exact: true }).fill('3.2');
    await amira.page.getByRole('button', { name: 'Save blood glucose' }).click();
    await amira.page.getByRole('heading', { name: 'Blood glucose saved' }).waitFor();

    // Sarah's stream tells of the new escalation, sent to her by name.
    await sarah.until((f) => f.some((x) => x.includes(jonesId) && x.includes('EscalationSentToTier')));
    const sent = JSON.parse(sarah.frames.find((x) => x.includes(jonesId) && x.includes('EscalationSentToTier'))!.split('data: ')[1]!) as { id: string; addressedTo: string[] };
    expect(sent.addressedTo).toContain(DEMO.nurse.practitionerId);
    const shownId = sent.id;
    expect(shownId).not.toBe(hypoEscalationId);
    // Sarah's screen: the new escalation appears in Mr Jones's card, with his glucose below 4 in words, and the page says so.
    const jones = page.locator(`[data-person="${jonesId}"]`);
    await jones.locator(`[data-escalation="${shownId}"]`).waitFor();
    await jones.getByText(/Blood glucose: 3.2 mmol\/L/).waitFor();
    expect(await jones.getByText(/Blood glucose: 3.2 mmol\/L/).textContent()).toContain('Below 4');
    expect(await page.locator('#live-news').textContent()).toContain('An escalation for Mr Arthur Jones');
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await expectAccessible(page, 'caseload with a live escalation');
    await screenshot(page, '12-nurse-live-escalation.png');
    await amira.context.close();

    // Zoe's stream (connected first, so decided first) told nothing about Mr Jones.
    expect(zoe.frames.filter((f) => f.includes(jonesId) || f.includes(String(shownId)))).toEqual([]);
    expect(zoe.frames.every((f) => f.startsWith('retry:') || f.startsWith(': keep-alive'))).toBe(true);
    await Promise.all([zoe.close(), sarah.close()]);

    // Each message sent is in the access trail, as Sarah's read of Mr Jones's escalation.
    await tandem.accessTrail.flush();
    const audit = await api<{ entry?: { resource: { entity?: { what?: { reference?: string } }[]; source?: { observer?: { display?: string } }; extension?: unknown[] } }[] }>(
      { role: 'auditor', user: 'auditor-cqc-1' },
      'GET',
      `/fhir/AuditEvent?agent=${DEMO.nurse.practitionerId}&patient=Patient/${jonesId}&_sort=-date&_count=100`,
    );
    expect(JSON.stringify(audit.body.entry ?? [])).toContain(`/api/events/stream#escalation/${shownId}`);
  }, 180_000);

  it("draws Mr Jones's chart with the scoring bands, glucose with its lines, insulin on the same time axis, and the same readings as a table: late entries and corrections in words", async () => {
    // Amira corrects a glucose she recorded (a typing slip), so the chart has a correction with its reason.
    const serverNow = Date.parse((await api<{ now: string }>({ role: 'system', user: 'web-test-clock' }, 'POST', '/admin/clock/advance', { minutes: 0 })).body.now);
    const glucose = await api<{ eventIds: string[]; eventTypes: string[] }>(amiraClaims, 'POST', `/api/patients/${jonesId}/blood-glucose`, { idempotencyKey: 'nurse-web-glucose-slip', occurredAt: new Date(serverNow - 60_000).toISOString(), glucoseMmolL: 12.4 });
    expect(glucose.status).toBe(201);
    const entryId = glucose.body.eventIds[glucose.body.eventTypes.indexOf('BloodGlucoseRecorded')]!;
    const amended = await api(amiraClaims, 'POST', `/api/patients/${jonesId}/entries/${entryId}/amendments`, {
      idempotencyKey: 'nurse-web-glucose-fix',
      occurredAt: new Date(serverNow).toISOString(),
      reason: 'Typed 12.4 for 7.4',
      replacement: { type: 'BloodGlucoseRecorded', data: { glucoseMmolL: 7.4 } },
    });
    expect(amended.status).toBe(201);

    await page.goto(`${tandem.url}/people/${jonesId}/chart`);
    await page.getByRole('heading', { name: /Chart: the last 90 days/ }).waitFor();
    for (const key of ['respirationRate', 'spo2', 'systolic', 'pulse', 'temperatureC', 'news2', 'glucose', 'insulin']) {
      await page.locator(`[data-chart="${key}"] canvas`).first().waitFor();
    }
    expect(await page.locator('[data-parameter="glucose"]').textContent()).toContain('Lines: 4 mmol/L and the high target');
    // Every reading, each once (H125): the chart's days are read as ranges at once, and its pulse chart holds every pulse the record has.
    const pulses = await api<{ total: number }>(sarahClaims, 'GET', `/fhir/Observation?patient=${jonesId}&code=http://loinc.org%7C8867-4&_summary=count`);
    expect(pulses.body.total).toBeGreaterThan(0);
    expect(await page.locator('[data-chart="pulse"]').getAttribute('aria-label')).toContain(`: ${pulses.body.total} readings;`);
    const table = page.locator('#chart-table');
    expect(await table.locator('tbody tr').count()).toBeGreaterThan(10);
    // The seeded history was loaded late: those rows say so in words.
    expect(await table.locator('tr[data-late="true"]').first().textContent()).toContain('Recorded late');
    // The correction: the value now, the earlier value and the reason.
    const corrected = table.locator('tr[data-status="amended"]').filter({ hasText: 'Blood glucose' });
    expect(await corrected.textContent()).toMatch(/7\.4 mmol\/L.*Changed from 12\.4 mmol\/L.*Amended: Typed 12\.4 for 7\.4/s);
    // Insulin doses in units, never "U" or "IU".
    expect(await table.locator('tr', { hasText: 'Insulin given' }).first().textContent()).toMatch(/\d+ units/);
    await expectAccessible(page, 'chart');
    await screenshot(page, '13-nurse-chart.png');
  });

  it("shades Mrs Davies's oxygen saturation as SpO2 Scale 2, prescribed by her GP, by whether each reading was on air or on oxygen, and says so (H95)", async () => {
    const gpClaims: MintClaims = { role: 'gp', user: DEMO.gp.practitionerId, org: DEMO.gpPractice.organisationId, registration: DEMO.gp.registration };
    const serverNow = Date.parse((await api<{ now: string }>({ role: 'system', user: 'web-test-clock' }, 'POST', '/admin/clock/advance', { minutes: 0 })).body.now);
    const baseline = await api(gpClaims, 'POST', `/api/patients/${daviesId}/baseline`, {
      idempotencyKey: 'nurse-web-scale-2',
      occurredAt: new Date(serverNow - 4 * 3_600_000).toISOString(),
      baseline: { spo2Scale: 2, spo2Scale2PrescribedBy: { practitionerId: DEMO.gp.practitionerId, registration: DEMO.gp.registration } },
    });
    expect({ status: baseline.status, body: baseline.status === 201 ? {} : baseline.body }).toEqual({ status: 201, body: {} });
    const usual = { respirationRate: 16, systolic: 130, diastolic: 75, pulse: 72, consciousness: 'A', temperatureC: 36.8 };
    for (const [n, spo2, airOrOxygen] of [[3, 95, 'oxygen'], [2, 95, 'air'], [1, 89, 'oxygen']] as const) {
      const set = await api(sarahClaims, 'POST', `/api/patients/${daviesId}/vital-signs`, { idempotencyKey: `nurse-web-scale-2-${n}`, occurredAt: new Date(serverNow - n * 3_600_000).toISOString(), spo2, airOrOxygen, ...(airOrOxygen === 'oxygen' ? { oxygenFlowLPerMin: 2 } : {}), ...usual });
      expect({ status: set.status, body: set.status === 201 ? {} : set.body }).toEqual({ status: 201, body: {} });
    }
    await page.goto(`${tandem.url}/people/${daviesId}/chart`);
    await page.getByRole('heading', { name: /Chart: the last 90 days/ }).waitFor();
    await page.locator('[data-chart="spo2"] canvas').first().waitFor();
    const panel = page.locator('[data-parameter="spo2"]');
    expect(await panel.getByRole('heading').textContent()).toBe('Oxygen saturation, SpO2 Scale 2 (%)');
    expect(await panel.locator('#spo2-scale strong').getByText('Scale 2', { exact: true }).isVisible()).toBe(true);
    // The bands in words, as the RCP chart has them for scale 2.
    const words = (await panel.locator('#spo2-scale').textContent()) ?? '';
    expect(words).toContain('On air: 83% or less scores 3, 84 to 85% scores 2, 86 to 87% scores 1, 88% or more scores 0.');
    expect(words).toContain('On oxygen: 83% or less scores 3, 84 to 85% scores 2, 86 to 87% scores 1, 88 to 92% scores 0, 93 to 94% scores 1, 95 to 96% scores 2, 97% or more scores 3.');
    // Each reading's score, and what it was taken on, in the table: 95% scores 2 on oxygen, 0 on air.
    const rows = await page.locator('#chart-table tbody tr', { hasText: 'Oxygen saturation' }).evaluateAll((trs) => trs.slice(0, 3).map((tr) => tr.querySelectorAll('td')[2]!.textContent!.replace(/\s+/g, ' ').trim()));
    expect(rows).toEqual(['89 %on oxygen, scores 0', '95 %on air, scores 0', '95 %on oxygen, scores 2']);
    await expectAccessible(page, 'chart on SpO2 scale 2');
    await screenshot(page, '13b-nurse-chart-scale-2.png');
    // Mr Jones is on scale 1: his panel says so, shaded as before.
    await page.goto(`${tandem.url}/people/${jonesId}/chart`);
    await page.locator('[data-chart="spo2"] canvas').first().waitFor();
    expect(await page.locator('[data-parameter="spo2"]').getByRole('heading').textContent()).toBe('Oxygen saturation, SpO2 Scale 1 (%)');
    expect(await page.locator('#spo2-scale').count()).toBe(0);
  });

  it('gives Dr Shah the same caseload view of his registered patients', async () => {
    const serverNow = ((await api<{ now: string }>({ role: 'system', user: 'web-test-clock' }, 'POST', '/admin/clock/advance', { minutes: 0 })).body.now);
    const gp = await phoneSignedInAs('Dr David Shah', new Date(serverNow));
    await gp.page.getByRole('heading', { name: 'My caseload' }).waitFor();
    await gp.page.locator(`#caseload [data-person="${jonesId}"]`).waitFor();
    expect(await gp.page.getByText('Signed in as Dr David Shah').isVisible()).toBe(true);
    expect(await gp.page.locator(`[data-person="${jonesId}"]`).getByRole('link', { name: 'Chart and record for Mr Arthur Jones' }).isVisible()).toBe(true);
    await expectAccessible(gp.page, 'GP caseload');
    await gp.context.close();
  });
});
