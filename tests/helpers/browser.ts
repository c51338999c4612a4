import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Debian's Chromium driven by Playwright's library (no browser download), one per test file: headless,
 * no sandbox (tests run as root), no background networking (the machine has no internet), and a fresh
 * profile every time (launch() starts Chromium with a new temporary --user-data-dir of its own and removes it on close).
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface TestBrowser { browser: Browser; close(): Promise<void> }

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
  return { browser, close: () => browser.close() };
}

/**
 * A page of the console in its own context (its own storage: one operator's desk) with the browser's
 * language, and a record of every tone the console plays (the oscillator frequencies, per severity).
 */
export async function consolePage(b: TestBrowser, base: string, locale = 'pl-PL'): Promise<{ context: BrowserContext; page: Page; tones(): Promise<number[]> }> {
  const context = await b.browser.newContext({ locale, timezoneId: 'UTC', viewport: { width: 1400, height: 900 }, baseURL: base });
  await context.addInitScript(() => {
    const w = window as unknown as { __tones: number[] };
    w.__tones = [];
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (this: OscillatorNode, when?: number) {
      w.__tones.push(this.frequency.value);
      start.call(this, when);
    };
  });
  const page = await context.newPage();
  await page.goto('/');
  return { context, page, tones: () => page.evaluate(() => (window as unknown as { __tones: number[] }).__tones.slice()) };
}

/** Logs in through the form, as a person would. */
export async function logIn(page: Page, user: { username: string; password: string }, labels: { user: string; password: string; submit: string }): Promise<void> {
  await page.getByLabel(labels.user).fill(user.username);
  await page.getByLabel(labels.password, { exact: true }).fill(user.password);
  await page.getByRole('button', { name: labels.submit, exact: true }).click();
}
