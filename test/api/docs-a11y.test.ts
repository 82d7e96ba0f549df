import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, requireService } from '../helpers/env.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { startHarness, type Harness } from './harness.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: { target: string[] }[];
}

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
    // Through the DevTools protocol: the page's CSP (script-src 'self') rightly refuses an inline script tag.
    await page.evaluate(AXE);
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: Document, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
      const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
    });
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
  }, 60_000);
});
