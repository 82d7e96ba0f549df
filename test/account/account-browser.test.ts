import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/acr.js';
import { VirtualAuthenticator } from '../helpers/authenticator.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { CHROMIUM, createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { ForcedChallenges, type FrameReply, newSitting, RECORDING_FACE, RECORDING_HOLDS, recordingFrames, SteerableCamera } from '../helpers/challenge.js';
import { APP_ORIGIN, backAtApp, interceptApp } from '../helpers/face-capture.js';
import { authorizationUrl, discover, exchange, type AuthStart, type RpClient } from '../helpers/flow.js';
import { ROOT } from '../helpers/server.js';

const EMAIL = 'pat@example.com';
const PASSWORD = 'correct horse battery staple';
const REDIRECT = `${APP_ORIGIN}/cb`;
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'account');
/** Frame replies the challenge page skips over (it sends the next frame); any other 4xx decides the challenge. */
const SKIPPED = ['FRAME_IN_PROGRESS', 'FRAME_TOO_FAST', 'FRAME_OUT_OF_ORDER', 'RATE_LIMITED', 'OVERLOADED'];

const ready = requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis) && requireService('Chromium', CHROMIUM !== null);

/**
 * One person (the bench recording's, enrolled from its first frame, with a password) in one Chromium whose virtual
 * authenticator holds their passkey, signing in to the account page and to an app through openid-client. Every face
 * step is the head-movement challenge, forced to the recording's movements (up, right); each face sign-in plays the
 * recording to the camera again, as a new sitting (the account's replay memory forgotten first).
 */
describe.runIf(ready)('account page and passkeys in the browser', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestApp;
  let browser: TestBrowser;
  let page: Page;
  let camera: SteerableCamera;
  let authenticator: VirtualAuthenticator;
  let app: RpClient;
  let userId: string;
  const tokens: Record<string, unknown> = {};
  const forced = new ForcedChallenges();
  /** The server's replies to the challenge frames of the current sitting. */
  const replies: FrameReply[] = [];

  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  const prisma = () => server.services.db.prisma;

  /** From the next face page on, the camera plays the recording once the challenge shows; the person sits down anew. */
  async function sitting(): Promise<void> {
    await newSitting(server.services.kv, userId);
    camera.show(recordingFrames(), 6, RECORDING_HOLDS);
    replies.length = 0;
  }

  /** The reply that decided the current sitting's challenge: its redirect, or a refusal. */
  const decision = () => replies.find((r) => r.body.redirect !== undefined || (r.status >= 400 && !SKIPPED.includes(r.body.error?.code ?? '')));

  /** The face step on the current page: the head-movement challenge, which the recording must pass. */
  async function face(): Promise<void> {
    await page.getByTestId('face-challenge').waitFor();
    await expect.poll(decision, { timeout: 30_000 }).toBeDefined();
    expect(decision()).toMatchObject({ status: 200, body: { progress: { status: 'passed', step: 'done' }, redirect: expect.any(String) } });
  }

  async function signInToApp(start: AuthStart): Promise<Record<string, unknown>> {
    const callback = await backAtApp(page);
    return { ...(await exchange(app, start, callback)).claims()! };
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    db = await createTestDatabase();
    server = await startApp({ DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/9`, SECRET_KEY: TEST_SECRET_KEY }, { drawChallenge: forced.draw });
    userId = (await seedUser(server.services, { email: EMAIL, name: 'Pat Passkey', password: PASSWORD, photos: [RECORDING_FACE] })).id;
    const { client, clientSecret } = await server.services.clients.create({ name: 'Portal', redirectUris: [REDIRECT] });
    app = await discover(server.url, client.clientId, clientSecret!, REDIRECT);
    browser = await launchBrowser();
    page = browser.page;
    await page.setViewportSize({ width: 1100, height: 900 });
    camera = await SteerableCamera.install(browser.context);
    authenticator = await VirtualAuthenticator.attach(page);
    await interceptApp(page);
    // Read through a route: after the deciding frame the page navigates away before a response listener could read it.
    await page.route('**/interaction/*/face/challenge/frame', async (route) => {
      const response = await route.fetch();
      const body = (await response.json().catch(() => ({}))) as FrameReply['body'];
      replies.push({ status: response.status(), body });
      await route.fulfill({ response });
    });
  });

  afterAll(async () => {
    writeFileSync(path.join(ARTIFACTS, 'id-tokens.json'), `${JSON.stringify(tokens, null, 2)}\n`);
    await browser?.close();
    await server?.stop();
    await db?.drop();
  });

  it('signs in to the account page with the face and registers a passkey there', async () => {
    await sitting();
    await page.goto(`${server.url}/account`);
    await page.getByTestId('login-identifier').fill(EMAIL);
    await page.getByTestId('login-submit').click();
    await face();
    await page.waitForURL(`${server.url}/account`);
    const [signedIn] = await server.services.audit.list({ userId, type: 'signin.face' }, 1);
    expect(signedIn).toMatchObject({ outcome: 'success', details: { method: 'challenge', challenge: 'up,right', completed: 'up,right' } });
    await expect(page.getByTestId('account-email').textContent()).resolves.toBe(EMAIL);
    await expect(page.getByTestId('face-templates').textContent()).resolves.toBe('1');
    await expect(page.getByTestId('consent-version').textContent()).resolves.toBe(server.services.consent.version);
    await expect(page.getByTestId('passkeys-empty').isVisible()).resolves.toBe(true);
    await expect(page.getByTestId('signin-row').first().textContent()).resolves.toMatch(/Your face-oidc account\s*Face\s*Signed in/);
    await shot('account-page');

    // The first passkey: the face checked now (the challenge again, a new sitting) and the password, then the key.
    await sitting();
    await page.getByTestId('first-passkey-add').click();
    await page.getByTestId('face-challenge').waitFor();
    await shot('first-passkey-challenge');
    await page.getByTestId('passkey-password').waitFor({ timeout: 30_000 });
    await page.getByTestId('passkey-password').fill(PASSWORD);
    await page.getByTestId('passkey-name').fill('Work laptop');
    await expect.poll(() => page.getByTestId('passkey-register').isEnabled()).toBe(true);
    await page.getByTestId('passkey-register').click();
    await page.waitForURL(/done=passkey-added/);
    await expect(page.getByTestId('factor-change').first().textContent()).resolves.toMatch(/New passkey\s+Work laptop\s+added/);
    const rows = page.getByTestId('passkey-list').getByTestId('passkey-row');
    await expect(rows.count()).resolves.toBe(1);
    await expect(rows.first().textContent()).resolves.toMatch(/Work laptop\s*Device-bound/);
    await shot('passkey-registered');

    const stored = await prisma().passkey.findMany({ where: { userId } });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ name: 'Work laptop', backupEligible: false, lastUsedAt: null });
    const [credential] = await authenticator.credentials();
    expect(credential).toMatchObject({ isResidentCredential: true, rpId: 'localhost' });
    expect(Buffer.from(credential.credentialId, 'base64').toString('base64url')).toBe(stored[0].credentialId);
    expect(await prisma().auditEvent.count({ where: { type: 'passkey.register', outcome: 'success', userId } })).toBe(1);

    // Re-enrollment answers a challenge of its own, in front of the same camera, and replaces the template.
    const before = await prisma().faceTemplate.findMany({ where: { userId } });
    await sitting();
    await page.goto(`${server.url}/account/face/reenroll`);
    await page.getByTestId('face-challenge').waitFor();
    await expect.poll(() => page.getByTestId('face-challenge').getAttribute('data-step'), { timeout: 30_000 }).toBe('up');
    await shot('reenroll-challenge');
    await page.waitForURL(`${server.url}/account?done=reenrolled`, { timeout: 30_000 });
    await expect(page.getByText('Your face was enrolled again').isVisible()).resolves.toBe(true);
    const after = await prisma().faceTemplate.findMany({ where: { userId } });
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ source: 'account' });
    expect(before.map((t) => t.id)).not.toContain(after[0].id);
  });

  it('asks an app for the face alone, then face and password: the ID tokens say what ran', async () => {
    const faceOnly = await authorizationUrl(app, { prompt: 'login' });
    await sitting();
    await page.goto(faceOnly.url.href);
    await page.getByTestId('login-identifier').fill(EMAIL);
    await page.getByTestId('login-submit').click();
    await face();
    tokens.face = await signInToApp(faceOnly);
    expect(tokens.face).toMatchObject({ amr: ['face', 'liveness'], acr: ACR.face });

    const withPassword = await authorizationUrl(app, { prompt: 'login', acr_values: ACR.mfa });
    await sitting();
    await page.goto(withPassword.url.href);
    await page.getByTestId('login-identifier').fill(EMAIL);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('password-input').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
    await face();
    tokens.facePassword = await signInToApp(withPassword);
    expect(tokens.facePassword).toMatchObject({ amr: ['face', 'liveness', 'pwd', 'mfa'], acr: ACR.mfa });
  });

  it('signs in with passkey and face when the app asks for that acr', async () => {
    expect(app.config.serverMetadata().acr_values_supported).toContain(ACR.passkey);
    const start = await authorizationUrl(app, { acr_values: ACR.passkey });
    await sitting();
    await page.goto(start.url.href);
    await page.getByTestId('login-identifier').fill(EMAIL);
    await page.getByTestId('login-submit').click();
    await expect.poll(() => page.getByTestId('passkey-authenticate').isEnabled()).toBe(true);
    await shot('passkey-step');
    await page.getByTestId('passkey-authenticate').click();
    await page.getByTestId('face-challenge').waitFor();
    // The face is the second step now, and the page says so.
    await expect(page.locator('h1').textContent()).resolves.toBe('Now look at the camera');
    await shot('passkey-then-challenge');
    await face();
    tokens.facePasskey = await signInToApp(start);
    expect(tokens.facePasskey).toMatchObject({ amr: ['face', 'liveness', 'hwk', 'mfa'], acr: ACR.passkey });
    const [key] = await prisma().passkey.findMany({ where: { userId } });
    expect(key.lastUsedAt).toBeInstanceOf(Date);
    expect(Number(key.counter)).toBeGreaterThan(0);
  });

  it('signs in with a passkey without typing an email, then the face', async () => {
    const start = await authorizationUrl(app, { prompt: 'login' });
    await sitting();
    await page.goto(start.url.href);
    await shot('identifier-passkey');
    await page.getByTestId('passkey-signin').click();
    await page.getByTestId('face-challenge').waitFor();
    await expect(page.locator('.lead').textContent()).resolves.toContain(EMAIL);
    await face();
    tokens.usernameless = await signInToApp(start);
    expect(tokens.usernameless).toMatchObject({ sub: userId, amr: ['face', 'liveness', 'hwk', 'mfa'], acr: ACR.passkey });
  });

  it('needs a fresh sign-in for changes, then removes the passkey, which no longer signs in', async () => {
    // Age the account session's sign-in past the step-up window, as if the page had stayed open.
    const sid = (await browser.context.cookies()).find((c) => c.name === 'fo_account')!.value;
    const key = `rpsess:account:${sid}`;
    const session = JSON.parse((await server.services.kv.get(key))!);
    session.claims.auth_time -= 3600;
    await server.services.kv.set(key, JSON.stringify(session), 3600);

    await page.goto(`${server.url}/account`);
    await expect(page.getByTestId('stale').isVisible()).resolves.toBe(true);
    await expect(page.getByTestId('passkey-remove').isDisabled()).resolves.toBe(true);
    const direct = await page.evaluate(async () => {
      const id = document.querySelector('[data-passkey-id]')!.getAttribute('data-passkey-id');
      const csrf = (document.querySelector('input[name=_csrf]') as HTMLInputElement).value;
      const res = await fetch(`/account/passkeys/${id}/remove`, { method: 'POST', headers: { accept: 'application/json', 'x-csrf-token': csrf } });
      return { status: res.status, body: await res.json() };
    });
    expect(direct).toMatchObject({ status: 403, body: { error: { code: 'STEP_UP_REQUIRED' }, redirect: '/account/verify?next=%2Faccount' } });
    expect(await prisma().passkey.count({ where: { userId } })).toBe(1);

    await sitting();
    await page.getByTestId('step-up').click();
    await expect(page.getByTestId('login-identifier').inputValue()).resolves.toBe(EMAIL);
    await page.getByTestId('login-submit').click();
    await face();
    await page.waitForURL(`${server.url}/account`);
    await expect(page.getByTestId('fresh').isVisible()).resolves.toBe(true);
    await page.getByTestId('passkey-remove').click();
    await page.waitForURL(/done=passkey-removed/);
    await expect(page.getByTestId('passkeys-empty').isVisible()).resolves.toBe(true);
    expect(await prisma().passkey.count({ where: { userId } })).toBe(0);
    expect(await prisma().auditEvent.count({ where: { type: 'passkey.remove', userId, actorId: userId } })).toBe(1);

    // The authenticator still offers the key, but the provider no longer knows it.
    expect(await authenticator.credentials()).toHaveLength(1);
    const start = await authorizationUrl(app, { prompt: 'login' });
    await page.goto(start.url.href);
    await page.getByTestId('passkey-signin').click();
    const status = page.getByTestId('passkey-status');
    await expect.poll(() => status.textContent()).toBe('This passkey is not registered here.');
    expect(new URL(page.url()).pathname).toMatch(/^\/interaction\//);
    expect(await prisma().auditEvent.count({ where: { type: 'signin.passkey', outcome: 'failure', reason: 'PASSKEY_UNKNOWN' } })).toBe(1);
  });

  it('downloads the person’s data with their sign-ins and without secrets', async () => {
    const res = await page.request.get(`${server.url}/account/data.json`);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-disposition']).toMatch(/^attachment; filename="face-oidc-account-/);
    const text = await res.text();
    const data = JSON.parse(text);
    expect(data.account).toMatchObject({ id: userId, email: EMAIL, hasPassword: true });
    const methods = (data.signIns as { method: string; outcome: string; app: string }[]).map((s) => `${s.method}:${s.outcome}`);
    expect(methods).toEqual(expect.arrayContaining(['Face:success', 'Password:success', 'Passkey:success']));
    expect(data.signIns.find((s: { app: string }) => s.app === 'Portal')).toBeTruthy();
    expect(data.biometrics.templates).toHaveLength(1);
    expect(data.biometrics.consents[0]).toMatchObject({ textVersion: server.services.consent.version, withdrawnAt: null });
    expect(data.activity.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['passkey.register', 'passkey.remove']));
    const user = (await prisma().user.findUnique({ where: { id: userId } }))!;
    const cookies = (await browser.context.cookies()).map((c) => c.value).filter((v) => v.length > 12);
    for (const secret of [user.passwordHash!, '$argon2', 'passwordHash', 'embedding', 'publicKey', 'credentialId', ...cookies]) expect(text).not.toContain(secret);
  });

  it('withdraws the biometric consent: templates erased at once, and the next face sign-in is refused', async () => {
    await page.goto(`${server.url}/account`);
    await page.getByTestId('account-withdraw-consent').click();
    await shot('withdraw-consent');
    await page.getByTestId('withdraw-check').check();
    await page.getByTestId('withdraw-confirm').click();
    await page.waitForURL(/done=consent-withdrawn/);
    await expect(page.getByTestId('face-none').isVisible()).resolves.toBe(true);
    expect(await prisma().faceTemplate.count({ where: { userId } })).toBe(0);
    expect(await prisma().biometricConsent.count({ where: { userId, revokedAt: null } })).toBe(0);
    await shot('consent-withdrawn');

    const start = await authorizationUrl(app, { prompt: 'login' });
    await page.goto(start.url.href);
    await page.getByTestId('login-identifier').fill(EMAIL);
    await page.getByTestId('login-submit').click();
    await expect(page.getByTestId('face-status').textContent()).resolves.toBe('No face is enrolled for this account yet. Ask an administrator to enroll you.');
  });
});
