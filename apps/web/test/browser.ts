import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

/** Debian's Chromium; `.ci/run` installs it when missing (`apt-get install -y chromium`). */
export const CHROMIUM = process.env.TANDEM_CHROMIUM ?? '/usr/bin/chromium';
export const chromiumMissing = (): string | undefined => (existsSync(CHROMIUM) ? undefined : `Chromium is not installed at ${CHROMIUM}: the browser tests are skipped (apt-get install -y chromium)`);

/** Builds the app as `npm start` does, so the test serves what a user gets (Jest's NODE_ENV=test would leave out the service worker). */
export const buildApp = (): void => {
  // Built once for the whole run by jest's globalSetup (test/build-once.js); a file run on its own outside jest builds here.
  if (process.env.TANDEM_WEB_BUILT === '1') return;
  const vite = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'error'], { cwd: join(__dirname, '..'), encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } });
  if (result.status !== 0) throw new Error(`vite build failed:\n${result.stdout}\n${result.stderr}`);
};

/** Chromium with a fresh profile (its own user-data-dir), as a phone (in another time zone, when a test asks: what England's times must not depend on). */
export const launchPhone = async (overrides: { readonly timezoneId?: string } = {}): Promise<{ context: BrowserContext; close: () => Promise<void> }> => {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'tandem-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ...PHONE,
    ...overrides,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
};

/** A 360 px wide phone, used with one hand. */
export const PHONE = { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'en-GB', timezoneId: 'Europe/London' } as const;

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { target: readonly string[] }[];
}

/** axe-core on the page as it is now, for WCAG 2.0-2.2 A and AA (injected over CDP, so the page's CSP stays on). */
export const axeViolations = async (page: Page): Promise<AxeViolation[]> => {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document, options: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations;
};

/** The page has no axe-core violation; a failure names the page and lists what axe found. */
export const expectAccessible = async (page: Page, what: string): Promise<void> => {
  const violations = await axeViolations(page);
  expect({ page: what, violations }).toEqual({ page: what, violations: [] });
};

/** Screenshots for the docs, only when asked for (TANDEM_WEB_SCREENSHOTS=1), into docs/screenshots. */
export const screenshot = async (page: Page, name: string): Promise<void> => {
  if (process.env.TANDEM_WEB_SCREENSHOTS !== '1') return;
  const folder = join(__dirname, '..', '..', '..', 'docs', 'screenshots');
  mkdirSync(folder, { recursive: true });
  await page.screenshot({ path: join(folder, name), fullPage: true });
};

/** The phone's first page, signed in through the embedded demo sign-in as one of the demo's people (its button names them). */
export const demoSignIn = async (context: BrowserContext, url: string, name: string): Promise<Page> => {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  if (process.env.TANDEM_WEB_DEBUG) page.on('console', (m) => console.log(`browser (${name}): ${m.text()}`));
  await page.goto(url);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: `Sign in as ${name}` }).click();
  return page;
};
