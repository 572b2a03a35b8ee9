/**
 * The care worker's app against issue 10's performance targets, in Debian's Chromium as a phone:
 * - first visit over a throttled connection (400 kbit/s, 400 ms round trip): time until the first
 *   screen can be used (the Sign in button), and the JavaScript it took, compressed, as sent;
 * - with a 4x CPU slowdown, the time from the tap on "Save vital signs" until the screen shows the
 *   entry as saved: with no signal (kept on the phone) and online (Tandem's answer on screen).
 * `npm run bench -w @tandem/web`; prints the figures (recorded in docs/benchmarks.md).
 */
import { loadConfig, startTandem } from '@tandem/app';
import type { createRecordService } from '@tandem/record';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Page } from 'playwright-core';
import { DEMO, seedDemoData } from '../../tandem/src/demo/demo-data';
import { buildApp, chromiumMissing, launchPhone } from '../test/browser';

const RUNS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** From the tap to "Saved on this phone" and, online, to Tandem's answer ("Vital signs saved"), measured in the page. */
const tapToSaved = async (page: Page, online: boolean): Promise<{ phone: number; answer?: number }> => {
  await page.evaluate(() => {
    const w = window as unknown as { tapAt?: number; phoneAt?: number; answerAt?: number };
    delete w.tapAt;
    delete w.phoneAt;
    delete w.answerAt;
    document.addEventListener('pointerdown', () => (w.tapAt = performance.now()), { capture: true, once: true });
    const observer = new MutationObserver(() => {
      const h1 = document.querySelector('main h1')?.textContent ?? '';
      if (h1 === 'Saved on this phone') w.phoneAt ??= performance.now();
      if (h1 === 'Vital signs saved') {
        w.phoneAt ??= performance.now();
        w.answerAt = performance.now();
      }
    });
    observer.observe(document.getElementById('maincontent')!, { childList: true, subtree: true });
  });
  await page.getByRole('button', { name: 'Save vital signs' }).click();
  await page.waitForFunction((online) => {
    const w = window as unknown as { phoneAt?: number; answerAt?: number };
    return online ? w.answerAt !== undefined : w.phoneAt !== undefined;
  }, online);
  return page.evaluate(() => {
    const w = window as unknown as { tapAt: number; phoneAt: number; answerAt?: number };
    return { phone: w.phoneAt - w.tapAt, ...(w.answerAt === undefined ? {} : { answer: w.answerAt - w.tapAt }) };
  });
};

const main = async () => {
  const missing = chromiumMissing();
  if (missing) {
    console.log(missing);
    return;
  }
  buildApp();
  const dataDir = mkdtempSync(join(tmpdir(), 'tandem-web-bench-'));
  const tandem = await startTandem(loadConfig({ PORT: '0', TANDEM_DATA_DIR: dataDir, TANDEM_DEMO_DATA: 'false', TANDEM_RATE_LIMIT_PER_MINUTE: '0' }), pino({ level: 'silent' }));
  const record = tandem.services.find((s) => s.name === 'record') as ReturnType<typeof createRecordService>;
  await seedDemoData(record.care, { patients: 3, days: 1, now: new Date() });
  try {
    const firstVisit: number[] = [];
    const scriptBytes: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const { context, close } = await launchPhone();
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.enable');
        await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 400, downloadThroughput: 400_000 / 8, uploadThroughput: 400_000 / 8 });
        const types = new Map<string, string>();
        let script = 0;
        cdp.on('Network.responseReceived', (e: { requestId: string; type: string }) => void types.set(e.requestId, e.type));
        cdp.on('Network.loadingFinished', (e: { requestId: string; encodedDataLength: number }) => {
          if (types.get(e.requestId) === 'Script') script += e.encodedDataLength;
        });
        const started = Date.now();
        await page.goto(tandem.url, { waitUntil: 'commit' });
        await page.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: 60_000 });
        firstVisit.push(Date.now() - started);
        scriptBytes.push(script);
      } finally {
        await close();
      }
    }

    const { context, close } = await launchPhone();
    const offline: number[] = [];
    const online: number[] = [];
    const answered: number[] = [];
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(tandem.url);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: `Sign in as ${DEMO.careWorkers[0]!.name.given[0]} ${DEMO.careWorkers[0]!.name.family}` }).click();
      await page.locator('[data-person]').first().waitFor();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
      for (const [signal, times] of [[false, offline], [true, online]] as const) {
        await context.setOffline(!signal);
        for (let run = 0; run < RUNS; run++) {
          await page.getByRole('link', { name: /^Record vital signs for / }).first().click();
          await page.getByLabel('Breathing rate').fill('18');
          await page.getByLabel('Pulse').fill(String(70 + run));
          const measured = await tapToSaved(page, signal);
          times.push(measured.phone);
          if (measured.answer !== undefined) answered.push(measured.answer);
          await page.getByRole('link', { name: 'Back to my day' }).click();
          await page.locator('[data-person]').first().waitFor();
        }
      }
      await context.setOffline(false);
    } finally {
      await close();
    }
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
    console.log(`First visit at 400 kbit/s, 400 ms round trip: Sign in usable after ${median(firstVisit)} ms (median of ${RUNS}; ${firstVisit.join(', ')} ms); target 5000 ms`);
    console.log(`JavaScript for the first screen, compressed as sent: ${kb(median(scriptBytes))}; target 150 kB`);
    const ms = (xs: number[]) => `${median(xs).toFixed(0)} ms (${xs.map((t) => t.toFixed(0)).join(', ')})`;
    console.log(`4x CPU slowdown, tap on Save to "Saved on this phone": no signal ${ms(offline)}, online ${ms(online)}; target 100 ms`);
    console.log(`4x CPU slowdown, online, tap on Save to Tandem's answer on screen (NEWS2 and advice; a local Tandem): ${ms(answered)}`);
  } finally {
    await tandem.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

void main();
