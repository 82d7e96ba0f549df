import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES } from './helpers.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { writeFakeCamera } from '../helpers/camera.js';
import { ForcedChallenges, RECORDING_FACE, RECORDING_HOLDS, recordingFrames, SteerableCamera } from '../helpers/challenge.js';
import { CHROMIUM, createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { ROOT } from '../helpers/server.js';

const ADMIN = 'ada@example.com';
const MEMBER = 'mo@example.com';
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'admin');
const WIDE = { width: 1280, height: 900 };

const ready = requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis) && requireService('Chromium', CHROMIUM !== null);

/** The admin console as people use it: headless Chromium, fake cameras fed with face photos. */
describe.runIf(ready)('admin console in the browser', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestApp;
  let tmp: string;
  let admin: TestBrowser;
  const browsers: TestBrowser[] = [];

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  async function camera(photo: string, seed: number): Promise<string> {
    const file = path.join(tmp, `${path.basename(photo, '.jpg')}-${seed}.y4m`);
    await writeFakeCamera(path.join(FIXTURES, photo), file, { seed, frames: 40 });
    return file;
  }

  async function browser(photo: string | null, seed = 1): Promise<TestBrowser> {
    const b = await launchBrowser(photo ? { camera: await camera(photo, seed) } : {});
    browsers.push(b);
    await b.page.setViewportSize(WIDE);
    return b;
  }

  /**
   * A browser for signing in to the console, which asks for the head-movement challenge: its camera plays the
   * recorded "up, right" answer (the person the accounts are also enrolled from), the challenge forced to match.
   */
  async function signInBrowser(): Promise<TestBrowser> {
    const b = await launchBrowser();
    browsers.push(b);
    const camera = await SteerableCamera.install(b.context);
    camera.show(recordingFrames(), 6, RECORDING_HOLDS);
    await b.context.grantPermissions(['camera']);
    await b.page.setViewportSize(WIDE);
    return b;
  }

  /** Identifier, then the face page streams the challenge by itself. */
  async function signIn(page: Page, email: string): Promise<void> {
    await page.goto(`${server.url}/admin/users`);
    await page.getByTestId('login-identifier').fill(email);
    await page.getByTestId('login-submit').click();
    await page.waitForURL((u) => u.pathname.startsWith('/admin/'), { timeout: 30_000 });
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    tmp = mkdtempSync(path.join(os.tmpdir(), 'fo-admin-e2e-'));
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/7`, SECRET_KEY: TEST_SECRET_KEY };
    server = await startApp(env, { drawChallenge: new ForcedChallenges().draw });
    await seedUser(server.services, { email: ADMIN, name: 'Ada Admin', admin: true, photos: [path.join(FIXTURES, 'admin-1.jpg'), RECORDING_FACE] });
    await seedUser(server.services, { email: MEMBER, name: 'Mo Member', photos: [path.join(FIXTURES, 'member.jpg'), RECORDING_FACE] });
    admin = await signInBrowser();
  });

  afterAll(async () => {
    for (const b of browsers) await b.close().catch(() => {});
    await server?.stop();
    await db?.drop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('signs the admin in with their face', async () => {
    await signIn(admin.page, ADMIN);
    expect(new URL(admin.page.url()).pathname).toBe('/admin/users');
    await expect(admin.page.getByTestId('admin-name').textContent()).resolves.toBe('Ada Admin');
    await shot(admin.page, 'users-list');
  });

  let userUrl: string;

  it('creates a user, records the consent and enrolls photos by upload with a verdict for each', async () => {
    const { page } = admin;
    await page.getByTestId('user-new').click();
    await page.getByTestId('user-email').fill('dana@example.com');
    await page.getByTestId('user-name').fill('Dana Doe');
    await page.getByTestId('user-create').click();
    await page.waitForURL(/\/admin\/users\/[0-9a-f-]{36}\/enroll\?done=user-created$/);
    userUrl = page.url().replace(/\?.*$/, '');
    await expect(page.getByTestId('notice').textContent()).resolves.toContain('User created');
    await shot(page, 'enroll-consent');

    await page.getByTestId('consent-confirm').check();
    await page.getByTestId('consent-record').click();
    await expect(page.getByTestId('consent-status').textContent()).resolves.toContain('by Ada Admin');
    await page.locator('#enroll[data-ready=true]').waitFor();

    await page.getByTestId('enroll-file').setInputFiles([path.join(FIXTURES, 'two-faces.jpg'), path.join(FIXTURES, 'user-1.jpg')]);
    const cards = page.getByTestId('preview-card');
    await expect.poll(async () => (await page.getByTestId('preview-status').allTextContents()).filter((t) => !t.startsWith('Checking')).length, { timeout: 20_000 }).toBe(2);
    const twoFaces = cards.filter({ hasText: 'two-faces.jpg' });
    await expect(twoFaces.getByTestId('preview-status').textContent()).resolves.toContain('2 faces found');
    await expect(twoFaces.locator('code').first().textContent()).resolves.toBe('MULTIPLE_FACES');
    await expect(twoFaces.getByTestId('preview-accept').isDisabled()).resolves.toBe(true);
    const good = cards.filter({ hasText: 'user-1.jpg' });
    await expect(good.getByTestId('preview-status').textContent()).resolves.toContain('Good photo');
    await shot(page, 'enroll-upload-verdicts');

    await good.getByTestId('preview-accept').click();
    await page.waitForURL(/done=enrolled$/);
    await expect(page.getByTestId('template-row').count()).resolves.toBe(1);
  });

  it('enrolls a second photo with the camera', async () => {
    // The person now sits in front of the admin's camera: another browser with their face, same admin session.
    const desk = await browser('user-2.jpg', 2);
    await desk.context.addCookies(await admin.context.cookies());
    const { page } = desk;
    await page.goto(userUrl);
    await page.locator('#enroll[data-ready=true]').waitFor();
    await page.getByTestId('enroll-camera-start').click();
    await expect.poll(() => page.getByTestId('enroll-capture').isEnabled(), { timeout: 15_000 }).toBe(true);
    await page.getByTestId('enroll-capture').click();
    const card = page.getByTestId('preview-card');
    await expect.poll(() => card.getByTestId('preview-status').textContent(), { timeout: 20_000 }).toContain('Good photo');
    await shot(page, 'enroll-camera');
    await card.getByTestId('preview-accept').click();
    await page.waitForURL(/done=enrolled$/);
    await expect(page.getByTestId('template-row').count()).resolves.toBe(2);
    await expect(page.locator('[data-testid=template-row] td:nth-child(2)').allTextContents()).resolves.toEqual(['upload', 'camera']);
  });

  it('lets a person enroll their own face from an invite link', async () => {
    const { page } = admin;
    await page.goto(`${server.url}/admin/users/new`);
    await page.getByTestId('user-email').fill('ivy@example.com');
    await page.getByTestId('user-name').fill('Ivy Invite');
    await page.getByTestId('user-create').click();
    await page.getByTestId('invite-create').click();
    const link = await page.getByTestId('invite-link').inputValue();
    await shot(page, 'invite-created');

    const person = await browser('user-2.jpg', 4);
    await person.page.setViewportSize({ width: 480, height: 900 });
    await person.page.goto(link);
    await person.page.getByTestId('consent-confirm').check();
    await person.page.getByTestId('consent-record').click();
    await expect.poll(() => person.page.getByTestId('enroll-capture').isEnabled(), { timeout: 15_000 }).toBe(true);
    await shot(person.page, 'invite-capture');
    await person.page.getByTestId('enroll-capture').click();
    await person.page.getByTestId('enroll-done').waitFor({ timeout: 20_000 });
    await shot(person.page, 'invite-done');
    await person.page.goto(link);
    await expect(person.page.getByTestId('error-code').textContent()).resolves.toBe('ENROLL_LINK_INVALID');
  });

  it('registers an app and shows its secret once', async () => {
    const { page } = admin;
    await page.getByTestId('nav-apps').click();
    await page.getByTestId('app-new').click();
    await page.getByTestId('app-name').fill('Acme Portal');
    await page.getByTestId('app-redirect-uris').fill('not a url');
    await page.getByTestId('app-save').click();
    await expect(page.getByTestId('form-error').textContent()).resolves.toContain('is not an absolute URL');
    await page.getByTestId('app-redirect-uris').fill('https://portal.acme.test/callback');
    await page.getByTestId('app-save').click();
    await expect(page.getByTestId('app-client-secret').inputValue()).resolves.toMatch(/^[\w-]{40,}$/);
    await shot(page, 'app-secret');
    await page.getByTestId('nav-apps').click();
    await expect(page.getByTestId('app-row').filter({ hasText: 'Acme Portal' }).count()).resolves.toBe(1);
    await shot(page, 'apps-list');
  });

  it('gives a non-admin a 403 page, then shows the attempt in the audit log and revokes that session', async () => {
    const memberBrowser = await signInBrowser();
    await signIn(memberBrowser.page, MEMBER);
    await expect(memberBrowser.page.getByTestId('forbidden').isVisible()).resolves.toBe(true);
    await shot(memberBrowser.page, 'forbidden');

    const { page } = admin;
    await page.getByTestId('nav-audit').click();
    await page.getByTestId('audit-user').fill(MEMBER);
    await page.getByTestId('audit-type').selectOption('signin.');
    await page.getByTestId('audit-filter').click();
    const row = page.locator('[data-testid=audit-row][data-type="signin.face"]').first();
    await expect(row.textContent()).resolves.toContain('success');
    await shot(page, 'audit-list');
    await row.locator('a').click();
    await expect(page.getByTestId('audit-details').textContent()).resolves.toMatch(/similarity\s*0\.\d+/);
    await shot(page, 'audit-detail');

    await page.getByTestId('nav-users').click();
    await page.getByRole('link', { name: 'Mo Member' }).click();
    await page.getByTestId('tab-sessions').click();
    await expect(page.getByTestId('session-row').count()).resolves.toBe(1);
    await shot(page, 'sessions');
    await page.getByTestId('session-revoke').click();
    await expect(page.getByTestId('sessions-empty').isVisible()).resolves.toBe(true);
    // The member's sign-in session at the provider is gone: the next sign-in starts over.
    await memberBrowser.page.goto(`${server.url}/admin/login`);
    await expect(memberBrowser.page.getByTestId('login-identifier').isVisible()).resolves.toBe(true);
  });

  it('refuses a form posted without its CSRF token', async () => {
    const { page } = admin;
    await page.goto(`${server.url}/admin/users/new`);
    await page.getByTestId('user-email').fill('csrf@example.com');
    await page.getByTestId('user-name').fill('No Token');
    await page.locator('form[action="/admin/users"] input[name=_csrf]').evaluate((input) => input.remove());
    await page.getByTestId('user-create').click();
    await expect(page.getByTestId('error-code').textContent()).resolves.toBe('CSRF_TOKEN_INVALID');
    await shot(page, 'csrf-refused');
    await page.goto(`${server.url}/admin/users?q=csrf`);
    await expect(page.getByTestId('empty').isVisible()).resolves.toBe(true);
    await page.goto(`${server.url}/admin/settings`);
    await shot(page, 'settings');
  });
});
