import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM } from './env.js';

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * Debian's Chromium through playwright-core (shared/DESIGN.md §3). With `camera` (a Y4M file, see camera.ts) the
 * page gets it as the only webcam and camera permission is granted; without it there is no camera at all.
 */
export async function launchBrowser(opts: { camera?: string } = {}): Promise<TestBrowser> {
  if (!CHROMIUM) throw new Error('Chromium is not installed');
  const profile = await mkdtemp(path.join(os.tmpdir(), 'fo-chromium-'));
  const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  if (opts.camera) args.push('--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${opts.camera}`);
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args, viewport: { width: 480, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
