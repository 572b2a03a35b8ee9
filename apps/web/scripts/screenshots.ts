/**
 * Screenshots of the main screens for docs/screenshots (a 360 px phone, Debian's Chromium), taken
 * against a running Tandem: `npx tsx scripts/screenshots.ts http://127.0.0.1:8080`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchPhone } from '../test/browser';

const main = async () => {
  const url = process.argv[2] ?? 'http://127.0.0.1:8080';
  const out = join(__dirname, '../../../docs/screenshots');
  mkdirSync(out, { recursive: true });
  const { context, close } = await launchPhone();
  const page = context.pages()[0] ?? (await context.newPage());
  const shot = (name: string) => page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
  try {
    await page.goto(url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign in as Amira Hassan' }).waitFor();
    await shot('1-demo-sign-in');
    await page.getByRole('button', { name: 'Sign in as Amira Hassan' }).click();
    await page.locator('[data-person]').first().waitFor();
    await shot('2-my-day');
    await page.getByRole('link', { name: /^Record vital signs for / }).first().click();
    await page.getByLabel('Breathing rate').fill('24');
    await page.getByLabel('Oxygen saturation (SpO2)').fill('93');
    await page.getByLabel('Air', { exact: true }).check();
    await page.getByLabel('Pulse').fill('112');
    await shot('3-vital-signs-incomplete');
    await page.getByLabel('Blood pressure: top number (systolic)').fill('98');
    await page.getByLabel('Blood pressure: bottom number (diastolic)').fill('60');
    await page.getByLabel('Responds to voice only', { exact: true }).check();
    await page.getByLabel('Temperature').fill('38.9');
    await shot('4-vital-signs-news2');
    await page.getByRole('button', { name: 'Save vital signs' }).click();
    await page.getByRole('heading', { name: 'Vital signs saved' }).waitFor();
    await shot('5-saved-call-999');
    await page.getByRole('link', { name: 'Back to my day' }).click();
    await page.getByRole('link', { name: /^Record vital signs for / }).first().click();
    await page.getByLabel('Pulse').fill('0');
    await page.getByRole('button', { name: 'Save vital signs' }).click();
    await page.locator('.nhsuk-error-summary').waitFor();
    await shot('6-error-summary');
    // Insulin, where her worklist has it delegated (after `npm run scenario`).
    await page.getByRole('link', { name: 'Back to my day' }).click();
    await page.locator('[data-person]').first().waitFor();
    const insulin = page.getByRole('link', { name: /^Record insulin given for / }).first();
    if (await insulin.count()) {
      await insulin.click();
      await page.getByLabel('Abdomen').check();
      await shot('8-insulin');
      await page.getByRole('button', { name: 'Record insulin given' }).click();
      await page.locator('.nhsuk-error-summary').waitFor();
      await shot('9-insulin-confirmation-needed');
      await page.getByRole('link', { name: 'Back to my day' }).click();
    }
    await page.getByRole('link', { name: /^Record vital signs for / }).first().click();
    await context.setOffline(true);
    await page.getByLabel('Pulse').fill('88');
    await page.getByRole('button', { name: 'Save vital signs' }).click();
    await page.getByRole('heading', { name: 'Saved on this phone' }).waitFor();
    await shot('7-offline-waiting-to-send');
    await context.setOffline(false);
  } finally {
    await close();
  }
};

void main();
