import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { decodeJwt } from 'jose';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRUST_FRAMEWORK } from '../../src/proofing/index.js';
import { accessibilityViolations } from '../helpers/a11y.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { ForcedChallenges, type FrameReply, newSitting, RECORDING_FACE, RECORDING_HOLDS, recordingFrames, SteerableCamera } from '../helpers/challenge.js';
import { CHROMIUM, createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { APP_ORIGIN, interceptApp } from '../helpers/face-capture.js';
import { authorizationUrl, discover, exchange, type RpClient } from '../helpers/flow.js';
import { ROOT } from '../helpers/server.js';
import { requireOcrFont } from '../documents/helpers.js';
import { passportPhoto } from './documents.js';

const EMAIL = 'katie@example.com';
const REDIRECT = `${APP_ORIGIN}/cb`;
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'proofing');
const OTHER_PERSON = path.join(ROOT, 'src', 'bench', 'sample', 'deepface-img1.jpg');
const SKIPPED = ['FRAME_IN_PROGRESS', 'FRAME_TOO_FAST', 'FRAME_OUT_OF_ORDER', 'RATE_LIMITED', 'OVERLOADED'];
const CLAIMS = JSON.stringify({
  id_token: {
    verified_claims: {
      verification: { trust_framework: null, time: null, evidence: [{ type: { value: 'document' }, check_details: null, document_details: { type: null, issuer: { country_code: null }, date_of_expiry: null } }] },
      claims: { given_name: null, family_name: null, birthdate: null, nationalities: null },
    },
  },
});

const ready = requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis) && requireService('Chromium', CHROMIUM !== null) && requireOcrFont();

/**
 * A synthetic person proofed end to end in Chromium: the bench recording's person (enrolled from its first frame)
 * signs in with their face to a bank that requires a confirmed identity and asks for verified_claims; the bank sends
 * them through the flow (consent, a synthetic passport whose portrait is that person, the head-movement challenge
 * played by the steerable camera), then back, where they release their verified identity to the bank and
 * openid-client receives it in a signed ID token. Screenshots of each step land in test-artifacts/proofing.
 */
describe.runIf(ready)('identity proofing in the browser', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestApp;
  let browser: TestBrowser;
  let page: Page;
  let camera: SteerableCamera;
  let bank: RpClient;
  let userId: string;
  const replies: FrameReply[] = [];

  /** A screenshot of the step, and its accessibility (axe-core, WCAG 2.1 AA) checked as it is shown. */
  const shot = async (name: string) => {
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
    expect(await accessibilityViolations(page), name).toEqual([]);
  };
  const decision = () => replies.find((r) => r.body.redirect !== undefined || (r.status >= 400 && !SKIPPED.includes(r.body.error?.code ?? '')));

  async function sitting(): Promise<void> {
    await newSitting(server.services.kv, userId);
    camera.show(recordingFrames(), 6, RECORDING_HOLDS);
    replies.length = 0;
  }

  async function passChallenge(): Promise<void> {
    await page.getByTestId('face-challenge').waitFor();
    await expect.poll(decision, { timeout: 45_000 }).toBeDefined();
    expect(decision()).toMatchObject({ status: 200, body: { progress: { status: 'passed' }, redirect: expect.any(String) } });
  }

  async function upload(photo: Buffer): Promise<void> {
    await page.getByTestId('proofing-document-file').setInputFiles({ name: 'passport.jpg', mimeType: 'image/jpeg', buffer: photo });
    await page.getByTestId('proofing-document-send').click();
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    db = await createTestDatabase();
    server = await startApp({ DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/10`, SECRET_KEY: TEST_SECRET_KEY }, { drawChallenge: new ForcedChallenges().draw });
    userId = (await seedUser(server.services, { email: EMAIL, name: 'Katie', admin: true, photos: [RECORDING_FACE] })).id;
    await server.services.settings.update({ proofingEnabled: true }, 'test');
    const { client, clientSecret } = await server.services.clients.create({ name: 'Bank', redirectUris: [REDIRECT], requiresProofing: true });
    bank = await discover(server.url, client.clientId, clientSecret!, REDIRECT);
    browser = await launchBrowser();
    page = browser.page;
    await page.setViewportSize({ width: 1000, height: 900 });
    camera = await SteerableCamera.install(browser.context);
    await interceptApp(page);
    for (const pattern of ['**/interaction/*/face/challenge/frame', '**/account/proofing/challenge/frame**']) {
      await page.route(pattern, async (route) => {
        const response = await route.fetch();
        replies.push({ status: response.status(), body: (await response.json().catch(() => ({}))) as FrameReply['body'] });
        await route.fulfill({ response });
      });
    }
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await db?.drop();
  });

  it('proofs the person through the flow the bank sends them to, and the bank receives verified_claims', async () => {
    const start = await authorizationUrl(bank, { scope: 'openid profile', claims: CLAIMS });
    await sitting();
    await page.goto(start.url.href);
    await page.getByTestId('login-identifier').fill(EMAIL);
    await page.getByTestId('login-submit').click();
    await passChallenge();

    // The bank requires a confirmed identity: the sign-in stops and sends the person to the flow.
    await page.getByTestId('proofing-required').waitFor();
    await shot('1-bank-requires-identity');
    await page.getByTestId('proofing-required-start').click();

    await page.getByTestId('proofing-consent-text').waitFor();
    await shot('2-consent');
    await page.getByTestId('proofing-consent-check').check();
    await page.getByTestId('proofing-consent-give').click();

    // A passport whose portrait is someone else is refused with its own message.
    await page.getByTestId('proofing-document-file').waitFor();
    await shot('3-document');
    await upload(await passportPhoto(OTHER_PERSON));
    await expect.poll(() => page.getByTestId('proofing-document-status').textContent(), { timeout: 60_000 }).toMatch(/not of you/);
    await shot('4-refused-portrait-of-someone-else');

    // The person's own passport, then the challenge.
    await sitting();
    await upload(await passportPhoto(RECORDING_FACE));
    await page.getByTestId('proofing-held').waitFor({ timeout: 60_000 });
    await page.getByTestId('face-instruction').waitFor();
    await shot('5-challenge');
    await passChallenge();
    await page.getByTestId('proofing-return').waitFor({ timeout: 20_000 });
    await shot('6-confirmed');

    // Back to the bank's sign-in: continue, then release the verified identity to the bank.
    await page.getByTestId('proofing-return').click();
    await page.getByTestId('proofing-required-continue').click();
    await page.getByTestId('consent-share-verified').waitFor();
    await page.getByTestId('consent-share-verified').check();
    await shot('7-release-to-bank');
    await page.getByTestId('consent-approve').click();
    await page.waitForURL((u) => u.href.startsWith(APP_ORIGIN));

    const tokens = await exchange(bank, start, new URL(page.url()));
    const claims = decodeJwt(tokens.id_token!);
    const validate = new Ajv2020({ strict: true }).compile(JSON.parse(readFileSync(path.join(ROOT, 'src', 'proofing', 'verified-claims.schema.json'), 'utf8')) as object);
    expect(validate(claims.verified_claims), JSON.stringify(validate.errors)).toBe(true);
    expect(claims.verified_claims).toMatchObject({
      verification: { trust_framework: TRUST_FRAMEWORK, evidence: [{ type: 'document', document_details: { type: 'passport', issuer: { country_code: 'GBR' } } }] },
      claims: { given_name: 'KATIE ANN', family_name: 'HILL', birthdate: '1987-10-25', nationalities: ['GBR'] },
    });
    const discovery = await (await fetch(`${server.url}/.well-known/openid-configuration`)).json();
    writeFileSync(path.join(ARTIFACTS, 'id-token.json'), `${JSON.stringify({ header: JSON.parse(Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString()), payload: claims }, null, 2)}\n`);
    writeFileSync(path.join(ARTIFACTS, 'discovery.json'), `${JSON.stringify(discovery, null, 2)}\n`);
  });

  it('shows the proofing in the console', async () => {
    await sitting();
    await page.goto(`${server.url}/admin/users/${userId}`);
    const signIn = await page.getByTestId('login-identifier').isVisible().catch(() => false);
    if (signIn) {
      await page.getByTestId('login-identifier').fill(EMAIL);
      await page.getByTestId('login-submit').click();
      await passChallenge();
    }
    await page.getByTestId('user-proofing-panel').waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('user-proofing-state').textContent()).resolves.toContain('Confirmed');
    await shot('8-console-proofing');
  });
});
