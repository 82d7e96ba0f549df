import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/acr.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { Agent } from '../helpers/browserless.js';
import { cameraFrames, writeFakeCamera, type FakeCameraOptions } from '../helpers/camera.js';
import { CHROMIUM, requireService } from '../helpers/env.js';
import { authorizationUrl, discover, exchange, type RpClient } from '../helpers/flow.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { ROOT } from '../helpers/server.js';
import { APP_ORIGIN, backAtApp, cameraReady, captureFace, FacePage, identify, interceptApp } from '../helpers/face-capture.js';

const REDIRECT = `${APP_ORIGIN}/cb`;
const PASSWORD = 'correct horse battery staple';
const face = (name: string) => path.join(ROOT, 'test', 'fixtures', 'faces', name);
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const hasChromium = requireService('Chromium', CHROMIUM !== null);

/**
 * People: alice (enrolled from deepface img1, has a password) signs in with other photos of herself; erin (enrolled
 * from img1 too) is attacked by another person (img17); carol (enrolled from her live selfie) is attacked with the
 * tablet replay of her face; dora and fay take the direct posts. Separate accounts keep attempt counters and replay
 * memories apart; the same account signs in from a different photo each time, as a new sitting would look.
 */
describe('face sign-in (embedded database, in-memory state)', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fo-face-'));
  const env = { DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '', SECRET_KEY: '' };
  let server: TestApp;
  let faceOnly: RpClient;
  let withPassword: RpClient;
  let browser: TestBrowser | null = null;
  let cameraSeed = 1;

  async function createUser(email: string, photo: string, password?: string) {
    await seedUser(server.services, { email, name: email.split('@')[0], photos: [face(photo)], password });
  }

  async function createClient(name: string, opts: { allowPasswordOnly?: boolean; allowPassiveFace?: boolean }) {
    const { client, clientSecret } = await server.services.clients.create({ name, redirectUris: [REDIRECT], ...opts });
    return { client_id: client.clientId, client_secret: clientSecret! };
  }

  /** A browser whose webcam shows `photo`; closed after the test. */
  async function browserWithCamera(photo: string, opts: FakeCameraOptions = {}) {
    // One file, rewritten per test: the previous test's browser is closed by then.
    const file = path.join(dataDir, 'camera.y4m');
    await writeFakeCamera(face(photo), file, { seed: cameraSeed++, ...opts });
    browser = await launchBrowser({ camera: file });
    await interceptApp(browser.page);
    return browser.page;
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startApp(env);
    await createUser('alice@example.com', 'deepface-img1.jpg', PASSWORD);
    await createUser('erin@example.com', 'deepface-img1.jpg');
    await createUser('carol@example.com', 'silent-face-T1.jpg');
    await createUser('dora@example.com', 'deepface-img1.jpg');
    await createUser('fay@example.com', 'deepface-img1.jpg');
    // Both apps allow the passive capture these tests drive (face-challenge.test.ts has the challenge).
    const a = await createClient('Face app', { allowPassiveFace: true });
    const b = await createClient('Lenient app', { allowPasswordOnly: true, allowPassiveFace: true });
    faceOnly = await discover(server.url, a.client_id, a.client_secret, REDIRECT);
    withPassword = await discover(server.url, b.client_id, b.client_secret, REDIRECT);
  });

  // Also after a failed test, so its browser never leaks into the next one.
  afterEach(async () => {
    await browser?.close();
    browser = null;
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.runIf(hasChromium)('signs the enrolled person in with one passive capture: amr face only and the passive acr', async () => {
    expect(faceOnly.config.serverMetadata().acr_values_supported).toEqual(expect.arrayContaining([ACR.facePassive, ACR.face, ACR.mfa]));
    const page = await browserWithCamera('deepface-img2.jpg');
    const start = await authorizationUrl(faceOnly);
    await identify(page, start.url, 'alice@example.com');
    await cameraReady(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'face-capture.png') });
    const reply = await captureFace(page);
    expect(reply).toMatchObject({ redirect: expect.any(String) });
    const tokens = await exchange(faceOnly, start, await backAtApp(page));
    const claims = tokens.claims()!;
    expect(claims.amr).toEqual(['face']);
    expect(claims.acr).toBe(ACR.facePassive);
    expect(JSON.stringify(claims)).not.toMatch(/similarity|liveness_score|score/);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/signin_outcomes_total\{factor="face",outcome="success",reason="verified"\} 1/);
    expect(metrics).toMatch(/face_verification_seconds_count 1/);
  });

  it.runIf(hasChromium)('refuses another person with a message and no code, lets them retry, and delays after five failures', async () => {
    const page = await browserWithCamera('deepface-img17.jpg');
    const start = await authorizationUrl(faceOnly);
    await identify(page, start.url, 'erin@example.com');
    await cameraReady(page);
    const first = await captureFace(page);
    expect(first).toMatchObject({ error: { code: 'NO_MATCH' }, captureToken: expect.any(String) });
    expect(JSON.stringify(first)).not.toMatch(/similarity|score|0\.\d{3}/);
    const status = page.getByTestId('face-status');
    await expect(status.textContent()).resolves.toMatch(/could not verify that this is you/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'face-refused.png') });
    expect(page.url()).toContain('/interaction/');

    for (let attempt = 2; attempt <= 5; attempt++) {
      const reply = await captureFace(page);
      expect(reply).toMatchObject({ error: { code: 'NO_MATCH' }, captureToken: expect.any(String) });
      if (attempt < 5) expect(reply).not.toHaveProperty('retryAfter');
      else expect(reply).toMatchObject({ retryAfter: 30 });
    }
    await expect(status.textContent()).resolves.toMatch(/Wait 30 seconds/);
    expect(await page.getByTestId('face-capture').isDisabled()).toBe(true);

    // A sixth attempt inside the 30 s is refused before any analysis, from a fresh page too.
    await page.reload();
    await expect(page.getByTestId('face-status').textContent()).resolves.toMatch(/Wait \d+ seconds/);
    const token = await page.locator('[data-face-capture]').getAttribute('data-capture-token');
    const csrf = await page.locator('[data-face-capture]').getAttribute('data-csrf');
    const [frame] = await cameraFrames(face('deepface-img17.jpg'), 1, { seed: 99 });
    const sixth = await page.evaluate(
      async ({ token, csrf, frame }) => {
        const form = new FormData();
        form.append('capture_token', token!);
        form.append('_csrf', csrf!);
        form.append('frame', new Blob([Uint8Array.from(atob(frame), (c) => c.charCodeAt(0))], { type: 'image/jpeg' }), 'f.jpg');
        const res = await fetch(`${location.pathname}/face`, { method: 'POST', body: form, headers: { accept: 'application/json' } });
        return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
      },
      { token, csrf, frame: frame.toString('base64') },
    );
    expect(sixth.status).toBe(429);
    expect(sixth.body).toMatchObject({ error: { code: 'FACE_DELAYED' } });
    expect(Number(sixth.retryAfter)).toBeGreaterThan(20);
    expect(page.url().startsWith(APP_ORIGIN)).toBe(false);
  });

  it.runIf(hasChromium)('refuses a replayed photo of the enrolled person by liveness', async () => {
    const page = await browserWithCamera('silent-face-F2.jpg', { fit: 'contain' });
    const start = await authorizationUrl(faceOnly);
    await identify(page, start.url, 'carol@example.com');
    await cameraReady(page);
    const reply = await captureFace(page);
    expect(reply).toMatchObject({ error: { code: 'LIVENESS_FAILED' }, captureToken: expect.any(String) });
    await expect(page.getByTestId('face-status').textContent()).resolves.toMatch(/live person/);
    expect(page.url().startsWith(APP_ORIGIN)).toBe(false);
    // The replay showed the enrolled person: it matched, and liveness alone refused it.
    const carol = (await server.services.users.byEmail('carol@example.com'))!;
    const [event] = await server.services.audit.list({ userId: carol.id, type: 'signin.face' }, 1);
    const details = event.details as { similarity: number; liveness: number };
    expect(event.reason).toBe('LIVENESS_FAILED');
    expect(details.similarity).toBeGreaterThanOrEqual(server.services.engine.thresholds.matchThreshold);
    expect(details.liveness).toBeLessThan(server.services.engine.thresholds.livenessThreshold);
  });

  it.runIf(hasChromium)('without a camera explains why, and offers the password only where the app allows it', async () => {
    browser = await launchBrowser();
    const { page } = browser;
    await interceptApp(page);
    const strict = await authorizationUrl(faceOnly);
    await identify(page, strict.url, 'alice@example.com');
    await page.locator('[data-face-capture][data-state="no-camera"]').waitFor();
    await expect(page.getByTestId('face-status').textContent()).resolves.toMatch(/camera/i);
    expect(await page.getByTestId('use-password').count()).toBe(0);
    expect(await page.locator('[data-camera-required]').isVisible()).toBe(true);

    const lenient = await authorizationUrl(withPassword);
    await identify(page, lenient.url, 'alice@example.com');
    await page.locator('[data-face-capture][data-state="no-camera"]').waitFor();
    await expect(page.getByTestId('face-status').textContent()).resolves.toMatch(/use your password instead/);
    await page.getByTestId('use-password').click();
    await page.getByTestId('password-input').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
    const claims = (await exchange(withPassword, lenient, await backAtApp(page))).claims()!;
    expect(claims).toMatchObject({ amr: ['pwd'], acr: ACR.password });
  });

  it('refuses a reused capture token and a replayed frame, and the interaction stays usable', async () => {
    const frames = await cameraFrames(face('deepface-img2.jpg'), 4, { seed: 7 });
    const start = await authorizationUrl(faceOnly);
    const page = await FacePage.open(start, 'dora@example.com');
    // A refusal that does not count (no face in the picture) uses the token up and hands out the next one.
    const used = page.token;
    const blank = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#777' } }).jpeg().toBuffer();
    const noFace = await page.post([blank]);
    expect(noFace).toMatchObject({ status: 422, body: { error: { code: 'FACE_NOT_FOUND' }, captureToken: expect.any(String) } });
    expect((noFace.body as { captureToken?: string }).captureToken).not.toBe(used);
    // The used token again, in the same sign-in (a recorded upload sent twice): refused as used up.
    const reused = await page.post([frames[3]], { token: used });
    expect(reused).toMatchObject({ status: 400, body: { error: { code: 'CAPTURE_TOKEN_INVALID' } } });
    const ok = await page.post(frames.slice(0, 3));
    expect(ok).toMatchObject({ status: 200, body: { redirect: expect.any(String) } });

    const again = await FacePage.open(await authorizationUrl(faceOnly), 'dora@example.com');
    // The same bytes with a valid token, in another sign-in: a replay.
    const replayed = await again.post([frames[0]]);
    expect(replayed).toMatchObject({ status: 401, body: { error: { code: 'FRAME_REPLAYED' }, captureToken: expect.any(String) } });
    // A re-encoded copy is still the same picture.
    const reencoded = await sharp(frames[1]).jpeg({ quality: 75 }).toBuffer();
    expect(await again.post([reencoded])).toMatchObject({ body: { error: { code: 'FRAME_REPLAYED' } } });
    // The interaction is still usable: fresh frames (another photo, as a new sitting would be) go through.
    const fresh = await cameraFrames(face('deepface-img1.jpg'), 2, { seed: 8 });
    expect(await again.post(fresh)).toMatchObject({ status: 200, body: { redirect: expect.any(String) } });
  });

  it('answers bad input with a clear 4xx, and the interaction stays usable', async () => {
    const page = await FacePage.open(await authorizationUrl(faceOnly), 'fay@example.com');
    const notImage = await page.post(['this is not a picture']);
    expect(notImage).toMatchObject({ status: 415, body: { error: { code: 'UNSUPPORTED_IMAGE', message: expect.stringMatching(/not a supported image/) } } });
    expect(notImage.body).toHaveProperty('captureToken');

    const huge = await sharp({ create: { width: 1600, height: 1200, channels: 3, background: '#888' } }).jpeg().toBuffer();
    expect(await page.post([huge])).toMatchObject({ status: 413, body: { error: { code: 'IMAGE_TOO_LARGE' } } });
    const heavy = Buffer.concat([huge, Buffer.alloc(2.5 * 1024 * 1024)]);
    expect(await page.post([heavy])).toMatchObject({ status: 413, body: { error: { code: 'IMAGE_TOO_LARGE' } } });
    expect(await page.post([])).toMatchObject({ status: 400, body: { error: { code: 'FRAME_MISSING' } } });
    const [one] = await cameraFrames(face('deepface-img2.jpg'), 1, { seed: 21 });
    expect(await page.post([one, one, one, one])).toMatchObject({ status: 400, body: { error: { code: 'INVALID_UPLOAD' } } });
    expect(await page.post([one], { csrf: 'forged' })).toMatchObject({ status: 403, body: { error: { code: 'CSRF_TOKEN_INVALID' } } });

    const expired = await new Agent().request(`${server.url}/interaction/no-such-interaction/face`, { method: 'POST', body: new FormData(), headers: { accept: 'application/json' } });
    expect(expired.status).toBe(400);
    expect(await expired.json()).toMatchObject({ error: { code: 'INTERACTION_EXPIRED', message: expect.stringMatching(/expired/) } });

    const good = await cameraFrames(face('deepface-img2.jpg'), 1, { seed: 22 });
    expect(await page.post(good)).toMatchObject({ status: 200, body: { redirect: expect.any(String) } });
  });

  it('treats an unknown identifier like a known account until the face step', async () => {
    const known = await FacePage.open(await authorizationUrl(faceOnly), 'dora@example.com');
    const unknown = await FacePage.open(await authorizationUrl(faceOnly), 'nobody@example.com');
    const shape = (html: string) => html.replace(/(data-csrf|data-capture-token|value)="[^"]+"|\/interaction\/[\w-]+|dora|nobody/g, '');
    expect(shape(unknown.html)).toBe(shape(known.html));
    const frames = await cameraFrames(face('deepface-img17.jpg'), 2, { seed: 31 });
    const reply = await unknown.post(frames);
    expect(reply).toMatchObject({ status: 401, body: { error: { code: 'NO_MATCH' }, captureToken: expect.any(String) } });
  });

  it('gives live guidance from quality codes only', async () => {
    const page = await FacePage.open(await authorizationUrl(faceOnly), 'dora@example.com');
    const [good] = await cameraFrames(face('deepface-img2.jpg'), 1, { seed: 41 });
    expect(await page.post([good], { path: 'face/check' })).toEqual({ status: 200, body: { ok: true, code: null, hint: 'Hold still…' } });
    const group = await sharp(face('deepface-couple.jpg')).resize(640, 480, { fit: 'cover' }).jpeg().toBuffer();
    const crowded = await page.post([group], { path: 'face/check' });
    expect(crowded.body).toMatchObject({ ok: false, code: 'MULTIPLE_FACES', hint: 'Only one face, please' });
    const dark = await sharp(good).linear(0.15, 0).jpeg().toBuffer();
    expect((await page.post([dark], { path: 'face/check' })).body).toMatchObject({ ok: false, code: 'TOO_DARK' });
  });
});
