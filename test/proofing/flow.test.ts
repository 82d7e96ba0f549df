import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faceSignIn } from '../admin/helpers.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { Agent } from '../helpers/browserless.js';
import { cameraFrames } from '../helpers/camera.js';
import { answerChallenge, ForcedChallenges, newSitting, RECORDING_FACE, recordingFrames } from '../helpers/challenge.js';
import { requireOcrFont } from '../documents/helpers.js';
import { passportPhoto } from './documents.js';

const OTHER_PERSON = path.resolve(import.meta.dirname, '../../src/bench/sample/deepface-img1.jpg');
const attr = (html: string, name: string) => new RegExp(`${name}="([^"]+)"`).exec(html)?.[1] ?? '';

/**
 * The proofing flow on the account page over HTTP, as its pages drive it: consent, the document photo, the
 * head-movement challenge (the recording of a real person answering "up, right"), and the refusals, each with its
 * own code and message.
 */
describe.runIf(requireOcrFont())('identity proofing on the account page', () => {
  let app: TestApp;
  let dir: string;
  let agent: Agent;
  let userId: string;
  let csrf: string;
  const challenges = new ForcedChallenges();

  const proofingPage = async () => {
    const { res, url } = await agent.follow(`${app.url}/account/proofing`);
    return { html: await res.text(), url, status: res.status };
  };
  const sendDocument = async (photo: Buffer) => {
    const form = new FormData();
    form.append('photo', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'passport.jpg');
    const res = await agent.request(`${app.url}/account/proofing/document`, { method: 'POST', body: form, headers: { accept: 'application/json', 'x-csrf-token': csrf } });
    return { status: res.status, body: (await res.json()) as { redirect?: string; error?: { code: string; message: string } } };
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'proofing-flow-'));
    app = await startApp({ DATA_DIR: dir, RATE_LIMIT_PER_IP_PER_MINUTE: '1000' }, { drawChallenge: challenges.draw });
    const user = await seedUser(app.services, { email: 'katie@example.com', name: 'Katie', photos: [RECORDING_FACE] });
    userId = user.id;
    agent = new Agent();
    const signedIn = await faceSignIn(agent, `${app.url}/account`, 'katie@example.com', readFileSync(RECORDING_FACE), recordingFrames());
    expect(new URL(signedIn.url).pathname).toBe('/account');
    csrf = attr(await signedIn.res.text(), 'name="_csrf" value');
  });

  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is not offered until an administrator turns it on', async () => {
    expect((await proofingPage()).html).toContain('data-testid="proofing-disabled"');
    expect((await sendDocument(Buffer.from('x'))).body.error?.code).toBe('PROOFING_DISABLED');
    await app.services.settings.update({ proofingEnabled: true }, 'test');
  });

  it('asks for the proofing consent before any document', async () => {
    const page = await proofingPage();
    expect(page.html).toContain('data-step="consent"');
    expect((await sendDocument(await passportPhoto(RECORDING_FACE))).body.error?.code).toBe('CONSENT_REQUIRED');
    const res = await agent.request(`${app.url}/account/proofing/consent`, {
      method: 'POST',
      body: new URLSearchParams({ _csrf: csrf, confirm: 'yes' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    expect((await proofingPage()).html).toContain('data-step="document"');
  });

  it('refuses a broken check digit, an expired document and a portrait of someone else, each with its own message', async () => {
    const failuresBefore = await app.services.verification.attempts.faceFailures(userId);
    const broken = await sendDocument(await passportPhoto(RECORDING_FACE, { brokenCheckDigit: true }));
    const expired = await sendDocument(await passportPhoto(RECORDING_FACE, { expired: true }));
    const someoneElse = await sendDocument(await passportPhoto(OTHER_PERSON));
    expect([broken.status, broken.body.error?.code]).toEqual([422, 'MRZ_CHECK_FAILED']);
    expect([expired.status, expired.body.error?.code]).toEqual([422, 'DOCUMENT_EXPIRED']);
    expect([someoneElse.status, someoneElse.body.error?.code]).toEqual([422, 'PORTRAIT_MISMATCH']);
    const messages = [broken, expired, someoneElse].map((r) => r.body.error!.message);
    expect(new Set(messages).size).toBe(3);
    expect(messages[0]).toMatch(/check digit/);
    expect(messages[1]).toMatch(/expired/);
    expect(messages[2]).toMatch(/not of you/);
    // The portrait comparison that failed is a failed face attempt; the document checks are not.
    expect(await app.services.verification.attempts.faceFailures(userId)).toBe(failuresBefore + 1);
    expect(await app.services.proofing.status(userId)).toBeNull();
    const reasons = (await app.services.audit.list({ userId, type: 'proofing.document' }, 10)).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['MRZ_CHECK_FAILED', 'DOCUMENT_EXPIRED', 'PORTRAIT_MISMATCH']));
  });

  it('refuses a still photo answering the challenge and records nothing', async () => {
    expect((await sendDocument(await passportPhoto(RECORDING_FACE))).status).toBe(200);
    const page = await proofingPage();
    expect(page.html).toContain('data-step="challenge"');
    await newSitting(app.services.kv, userId);
    // A photo held to the camera never turns: the challenge runs out with the step not reached (a short one here).
    challenges.lifetimeMs = 5_000;
    const still = await cameraFrames(RECORDING_FACE, 60, { width: 360, height: 360, seed: 5 });
    const reply = await answerChallenge(agent, page.url, page.html, still).finally(() => (challenges.lifetimeMs = 45_000));
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.body.redirect).toBeUndefined();
    expect(reply.body.error?.code).toBe('STILL_FACE');
    expect(reply.body.error?.message).toMatch(/a photo or a screen cannot pass/);
    expect(await app.services.proofing.status(userId)).toBeNull();
    const [event] = await app.services.audit.list({ userId, type: 'proofing.challenge', outcome: 'failure' }, 1);
    expect(event).toMatchObject({ reason: 'STILL_FACE' });
  });

  it('proofs the person: document, then the live challenge whose face matches the portrait and the enrolled face', async () => {
    const page = await proofingPage();
    expect(page.html).toContain('data-testid="proofing-held"');
    await newSitting(app.services.kv, userId);
    const reply = await answerChallenge(agent, page.url, page.html, recordingFrames());
    expect(reply.body, JSON.stringify(reply.body)).toMatchObject({ redirect: '/account/proofing?done=proofed' });

    const summary = await app.services.proofing.status(userId);
    expect(summary).toMatchObject({ state: 'valid', documentType: 'passport', issuingCountry: 'GBR' });
    expect(summary!.checks.map((c) => c.check)).toEqual(['mrz_check_digits', 'document_not_expired', 'portrait_vs_enrolled', 'liveness_challenge', 'live_face_vs_enrolled', 'live_face_vs_portrait']);
    const verified = await app.services.proofing.verified(userId);
    expect(verified?.claims).toEqual({ given_name: 'KATIE ANN', family_name: 'HILL', birthdate: '1987-10-25', nationalities: ['GBR'] });
    expect((await proofingPage()).html).toContain('data-step="done"');
    // The held document was used once.
    expect((await proofingPage()).html).not.toContain('data-testid="proofing-held"');
  });

  it('shows what is held in the data download, without the document number', async () => {
    const res = await agent.request(`${app.url}/account/data.json`);
    const data = (await res.json()) as { identityProofing: { consents: unknown[]; record: { state: string; claims: Record<string, unknown>; documentNumber: string } } };
    expect(data.identityProofing.record).toMatchObject({ state: 'valid', documentType: 'passport', claims: { family_name: 'HILL', birthdate: '1987-10-25' } });
    expect(data.identityProofing.record.documentNumber).toMatch(/not kept/);
    expect(data.identityProofing.consents).toHaveLength(1);
    expect(JSON.stringify(data)).not.toContain('X1234567C');
  });

  it('withdrawal from the account page erases the proofing, even once the flow is no longer offered', async () => {
    await app.services.settings.update({ proofingEnabled: false }, 'test');
    const page = await proofingPage();
    expect(page.html).toContain('data-testid="proofing-disabled"');
    expect(page.html).toContain('data-testid="proofing-record"');
    expect(page.html).toContain('data-testid="proofing-withdraw"');
    const res = await agent.request(`${app.url}/account/proofing/withdraw`, {
      method: 'POST',
      body: new URLSearchParams({ _csrf: csrf, confirm: 'yes' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    expect(await app.services.proofing.status(userId)).toBeNull();
    await app.services.settings.update({ proofingEnabled: true }, 'test');
    expect((await proofingPage()).html).toContain('data-step="consent"');
  });
});
