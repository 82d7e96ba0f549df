import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, requireService } from '../helpers/env.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { accessibilityViolations } from '../helpers/a11y.js';
import { startHarness, type Harness } from './harness.js';

/** The API docs page under axe-core's WCAG 2.1 A and AA rules, in Chromium, at a phone's width. */
describe.runIf(requireService('Chromium', CHROMIUM !== null))('API docs page accessibility', () => {
  let h: Harness;
  let browser: TestBrowser;

  beforeAll(async () => {
    h = await startHarness();
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('has no serious or critical WCAG 2.1 A/AA finding', async () => {
    const { page } = browser;
    await page.goto(`${h.url}/api/docs`);
    const violations = await accessibilityViolations(page);
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
  }, 60_000);
});
