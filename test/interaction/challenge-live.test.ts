import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { accessibilityViolations } from '../helpers/a11y.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import {
  answerChallenge,
  ForcedChallenges,
  type FrameReply,
  newSitting,
  RECORDING_FACE,
  RECORDING_HOLDS,
  recordingFrames,
  SteerableCamera,
} from '../helpers/challenge.js';
import { CHROMIUM, createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { APP_ORIGIN, FacePage, identify, interceptApp } from '../helpers/face-capture.js';
import { authorizationUrl, discover, type RpClient } from '../helpers/flow.js';
import { ROOT } from '../helpers/server.js';

const REDIRECT = `${APP_ORIGIN}/cb`;
/** Screenshots for the people reviewing the page (outside the repository when COORD_SCREENS is set). */
const SCREENS = process.env.COORD_SCREENS ?? path.join(ROOT, 'test-artifacts', 'challenge-live');
const face = (name: string) => path.join(ROOT, 'test', 'fixtures', 'faces', name);
const SKIPPED = ['FRAME_IN_PROGRESS', 'FRAME_TOO_FAST', 'FRAME_OUT_OF_ORDER'];
const LONG = 240_000;

const ready = requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis) && requireService('Chromium', CHROMIUM !== null);

/**
 * The live path of the head-movement challenge on PostgreSQL + Redis with two instances, through a relying party:
 * who a challenge belongs to, what the page streams, an administrator's threshold on the other instance, and the
 * console's view of the challenge in the field. The person of the bench recording ("up, right") is enrolled under
 * several accounts, one per scenario, so that attempt counters and replay memories stay apart.
 */
describe.runIf(ready)('the live challenge (PostgreSQL + Redis, two instances, Chromium)', () => {
  const forced = new ForcedChallenges();
  const recording = recordingFrames();
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let first: TestApp;
  let second: TestApp;
  let rp: RpClient;
  let browser: TestBrowser | null = null;

  const ids: Record<string, string> = {};
  const failures = (name: string) => first.services.verification.attempts.faceFailures(ids[name]);

  /** A Chromium whose steerable camera plays the recording once a step shows; every frame reply and posted picture is kept. */
  async function browserPlaying(opts: { fps?: number; holds?: boolean } = {}) {
    browser = await launchBrowser();
    const camera = await SteerableCamera.install(browser.context);
    camera.show(recording, opts.fps ?? 6, opts.holds === false ? {} : RECORDING_HOLDS);
    await browser.context.grantPermissions(['camera']);
    const { page } = browser;
    await page.setViewportSize({ width: 480, height: 900 });
    await interceptApp(page);
    const replies: FrameReply[] = [];
    const posted: { at: number; sha256: string }[] = [];
    page.on('request', (req) => {
      if (!req.url().endsWith('/face/challenge/frame')) return;
      // The JPEG inside the multipart body (the boundary differs per request).
      const body = req.postDataBuffer() ?? Buffer.alloc(0);
      const jpeg = body.subarray(body.indexOf(Buffer.from([0xff, 0xd8, 0xff])), body.lastIndexOf(Buffer.from([0xff, 0xd9])) + 2);
      posted.push({ at: Date.now(), sha256: createHash('sha256').update(jpeg).digest('hex') });
    });
    page.on('response', async (res) => {
      if (!res.url().endsWith('/face/challenge/frame')) return;
      replies.push({ status: res.status(), body: (await res.json().catch(() => ({}))) as FrameReply['body'] });
    });
    return { page, camera, replies, posted };
  }

  const refusedCode = (replies: FrameReply[]) => replies.find((r) => r.status >= 400 && !SKIPPED.includes(r.body.error?.code ?? ''))?.body.error?.code;
  const failedState = (page: Page) => page.locator('[data-testid="face-challenge"][data-state="failed"]').waitFor({ timeout: 120_000 });

  async function screenshot(page: Page, camera: SteerableCamera | null, name: string, fullPage = false) {
    camera?.hold(true);
    await page.screenshot({ path: path.join(SCREENS, `${name}.png`), fullPage });
    camera?.hold(false);
  }

  beforeAll(async () => {
    mkdirSync(SCREENS, { recursive: true });
    db = await createTestDatabase();
    first = await startApp({ DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/6`, SECRET_KEY: TEST_SECRET_KEY }, { drawChallenge: forced.draw });
    // The same issuer, database, Redis keys and secret: a second instance behind the same load balancer.
    second = await startApp({ DATABASE_URL: db.url, REDIS_URL: first.env.REDIS_URL, REDIS_KEY_PREFIX: first.env.REDIS_KEY_PREFIX, SECRET_KEY: TEST_SECRET_KEY, ISSUER: first.url }, { drawChallenge: forced.draw });
    for (const name of ['vera', 'posy', 'tess']) ids[name] = (await seedUser(first.services, { email: `${name}@example.com`, name, photos: [RECORDING_FACE] })).id;
    ids.xan = (await seedUser(first.services, { email: 'xan@example.com', name: 'xan', photos: [face('deepface-img2.jpg')] })).id;
    ids.ada = (await seedUser(first.services, { email: 'ada@example.com', name: 'Ada Admin', admin: true, photos: [RECORDING_FACE] })).id;
    const { client, clientSecret } = await first.services.clients.create({ name: 'Live app', redirectUris: [REDIRECT] });
    rp = await discover(first.url, client.clientId, clientSecret!, REDIRECT);
  });

  afterEach(async () => {
    forced.movements = ['up', 'right'];
    forced.lifetimeMs = 45_000;
    await browser?.close();
    browser = null;
  });

  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await db?.drop();
  });

  it(
    'ends a challenge when the sign-in switches to another identifier, charged to the account whose templates it used',
    async () => {
      const { page, camera, replies } = await browserPlaying();
      const start = await authorizationUrl(rp);
      await identify(page, start.url, 'vera@example.com');
      // Once a frame was judged (the attempt is reserved for vera, her templates in use)…
      await expect.poll(() => replies.some((r) => r.status === 200), { timeout: 120_000 }).toBe(true);
      // …the same browser tells the sign-in it is someone else (what a script would post).
      const uid = new URL(page.url()).pathname.split('/')[2];
      const csrf = (await page.getByTestId('face-challenge').getAttribute('data-csrf'))!;
      const switched = await page.request.post(`${first.url}/interaction/${uid}/identify`, { form: { _csrf: csrf, email: 'xan@example.com' }, maxRedirects: 0 });
      expect(switched.status()).toBe(302);
      await failedState(page);
      expect(refusedCode(replies)).toBe('IDENTIFIER_CHANGED');
      await expect(page.getByTestId('face-status').textContent()).resolves.toMatch(/another account/);
      await screenshot(page, camera, 'refused-identifier-changed');
      expect([await failures('vera'), await failures('xan')]).toEqual([1, 0]);
      const [event] = await first.services.audit.list({ userId: ids.vera, type: 'signin.face' }, 1);
      expect(event).toMatchObject({ outcome: 'failure', reason: 'IDENTIFIER_CHANGED', details: { method: 'challenge' } });
      expect(await first.services.audit.list({ userId: ids.xan, type: 'signin.face' }, 1)).toEqual([]);
      // Both instances export the count; this one judged the frame.
      const metrics = await (await fetch(`${first.url}/metrics`)).text();
      expect(metrics).toMatch(/face_challenge_outcomes_total\{surface="signin",outcome="refused",reason="identifier_changed"\} 1/);
    },
    LONG,
  );

  it(
    'paces the stream at 6–8 new pictures a second and sends none of a stalled camera\'s repeats',
    async () => {
      const { page, camera, posted } = await browserPlaying();
      // The server's judgement is stubbed (instant, always "look straight"): this measures the page alone.
      await page.route('**/face/challenge/frame', (route) =>
        route.fulfill({ contentType: 'application/json', body: JSON.stringify({ progress: { status: 'in_progress', step: 'frontal', stepIndex: 0, total: 2, hint: 'Look straight at the camera', remainingMs: 40_000 } }) }),
      );
      const start = await authorizationUrl(rp);
      await identify(page, start.url, 'posy@example.com');
      await page.locator('[data-testid="face-challenge"][data-state="streaming"]').waitFor({ timeout: 120_000 });
      await new Promise((r) => setTimeout(r, 3000));
      const stalledAt = Date.now();
      camera.stall(true);
      await new Promise((r) => setTimeout(r, 1500));
      camera.stall(false);
      const resumedAt = Date.now();
      await new Promise((r) => setTimeout(r, 1500));
      const before = posted.filter((p) => p.at < stalledAt);
      const rate = (before.length - 1) / ((before.at(-1)!.at - before[0].at) / 1000);
      // Never above the page's pace; below it only when the browser itself is starved (a loaded machine).
      console.info(`page pace: ${rate.toFixed(2)} frames/s over ${before.length} frames`);
      expect(rate).toBeGreaterThanOrEqual(1);
      expect(rate).toBeLessThanOrEqual(8.5);
      // Stalled (past the camera's poll and a frame already being encoded): at most the one picture it froze on.
      expect(posted.filter((p) => p.at > stalledAt + 400 && p.at < resumedAt).length).toBeLessThanOrEqual(1);
      expect(posted.filter((p) => p.at > resumedAt + 300).length).toBeGreaterThan(2);
      expect(new Set(posted.map((p) => p.sha256)).size).toBe(posted.length);
    },
    LONG,
  );

  it(
    "applies an administrator's new liveness threshold to the next challenge on the other instance",
    async () => {
      // The other instance judges a challenge with the threshold in force (0.7): it passes.
      const warm = await FacePage.open(await authorizationUrl(rp), 'tess@example.com');
      const onSecond = new URL(new URL(warm.url).pathname, second.url).href;
      const passed = await answerChallenge(warm.agent, onSecond, warm.html.replaceAll(first.url, second.url), recording);
      expect(passed, JSON.stringify(passed.body)).toMatchObject({ status: 200, body: { redirect: expect.any(String) } });

      // An administrator raises it on the first instance: no face reads as live with certainty.
      await first.services.settings.update({ livenessThreshold: 1 }, ids.ada);
      try {
        await newSitting(first.services.kv, ids.tess);
        // The same answer, the next challenge, on the other instance: refused on liveness (or, with a verifier that
        // looks again after a failed final frame, when no look succeeds).
        const next = await FacePage.open(await authorizationUrl(rp), 'tess@example.com');
        const refused = await answerChallenge(next.agent, new URL(new URL(next.url).pathname, second.url).href, next.html, recording);
        expect(refused.body.redirect, JSON.stringify(refused.body)).toBeUndefined();
        expect(refused.body.error?.code).toMatch(/^(LIVENESS_FAILED|NO_RETURN|CHALLENGE_EXPIRED)$/);
        const [event] = await first.services.audit.list({ userId: ids.tess, type: 'signin.face' }, 1);
        expect(event).toMatchObject({ outcome: 'failure', reason: refused.body.error?.code, details: { method: 'challenge' } });
      } finally {
        await first.services.settings.update({ livenessThreshold: 0.7 }, ids.ada);
      }
    },
    LONG,
  );

  it(
    "shows the console's challenge page with a refusal by its reason after it happened",
    async () => {
      const { page } = await browserPlaying();
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(`${first.url}/admin/challenges`);
      await page.getByTestId('login-identifier').fill('ada@example.com');
      await page.getByTestId('login-submit').click();
      await page.waitForURL((u) => u.pathname === '/admin/challenges', { timeout: 150_000 });
      const row = page.getByTestId('reason-IDENTIFIER_CHANGED');
      await expect(row.textContent()).resolves.toMatch(/Sign-in switched to another account[\s\S]*IDENTIFIER_CHANGED[\s\S]*1/);
      expect(Number(await page.getByTestId('total-refused').textContent())).toBeGreaterThanOrEqual(2);
      expect(Number(await page.getByTestId('total-passed').textContent())).toBeGreaterThanOrEqual(2);
      expect(await page.getByTestId('chart-outcomes').count()).toBe(1);
      expect(await accessibilityViolations(page)).toEqual([]);
      await screenshot(page, null, 'console-challenges', true);
    },
    LONG,
  );
});
