import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaceEngine } from '../../src/face/index.js';
import { faceSignIn } from '../admin/helpers.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { Agent } from '../helpers/browserless.js';
import { answerChallenge, ForcedChallenges, newSitting, RECORDING_FACE, recordingFrames } from '../helpers/challenge.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';

const attr = (html: string, name: string) => new RegExp(`${name}="([^"]+)"`).exec(html)?.[1] ?? '';

/**
 * Withdrawal and deletion erase every trace the consent notice names (README "What withdrawal erases"): templates,
 * kept photos, Face Match API records naming the person with their sealed crops, the replay fingerprints in the
 * shared store, and a re-enrollment in flight, which takes the account's lock to write and then finds no consent.
 */
describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('erasure on withdrawal and deletion', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestApp;
  let token: string;
  const prisma = () => server.services.db.prisma;

  /** A Face Match API call comparing the recording's face with the enrolled account (crops are kept: keepImages). */
  async function matchRecord(userId: string) {
    const form = new FormData();
    form.append('selfie', new Blob([new Uint8Array(readFileSync(RECORDING_FACE))], { type: 'image/jpeg' }), 'selfie.jpg');
    form.append('user_id', userId);
    const res = await fetch(`${server.url}/api/v1/face/match`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
  }

  /** Everything of the account that the notice covers, counted where it lives. */
  async function traces(userId: string) {
    const records = await prisma().matchRecord.findMany({ where: { clientId: 'backend' }, select: { requestId: true, result: true } });
    const naming = records.filter((r) => (r.result as { reference: { user_id: string | null } }).reference.user_id === userId).map((r) => r.requestId);
    return {
      templates: await prisma().faceTemplate.count({ where: { userId } }),
      keptPhotos: await prisma().storedImage.count({ where: { userId } }),
      records: naming.length,
      crops: await prisma().storedImage.count({ where: { matchRequestId: { in: naming } } }),
      replayHashes: (await server.services.kv.get(`replay:${userId}`)) === null ? 0 : 1,
    };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startApp({ DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/8`, SECRET_KEY: TEST_SECRET_KEY, RATE_LIMIT_PER_IP_PER_MINUTE: '1000', API_RATE_LIMIT_PER_MINUTE: '1000' }, { drawChallenge: new ForcedChallenges().draw });
    await server.services.settings.update({ keepImages: true }, 'test');
    const { clientSecret } = await server.services.clients.create({ name: 'Backend', grantTypes: ['client_credentials'], scopes: ['face:match'], matchEnrolledUsers: true }, { clientId: 'backend' });
    const res = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`backend:${encodeURIComponent(clientSecret!)}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'face:match' }),
    });
    token = ((await res.json()) as { access_token: string }).access_token;
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('withdrawal while a re-enrollment is in flight leaves no template, no API record naming the person and no replay hashes', async () => {
    const kim = await seedUser(server.services, { email: 'kim@example.com', name: 'Kim', photos: [RECORDING_FACE] });
    await matchRecord(kim.id);
    const agent = new Agent();
    await newSitting(server.services.kv, kim.id);
    expect(new URL((await faceSignIn(agent, `${server.url}/account`, 'kim@example.com', readFileSync(RECORDING_FACE), recordingFrames())).url).pathname).toBe('/account');
    const csrf = attr(await (await agent.request(`${server.url}/account`)).text(), 'name="_csrf" value');

    // The re-enrollment's challenge passes; while its deciding frame is being checked for enrollment (its consent
    // check behind it, its template not yet written), the person withdraws from another tab.
    const engine = server.services.engine as FaceEngine;
    const analyze = engine.analyze.bind(engine);
    let withdrawal: Promise<Response> | null = null;
    engine.analyze = (async (image: Uint8Array, purpose: Parameters<FaceEngine['analyze']>[1], opts?: Parameters<FaceEngine['analyze']>[2]) => {
      if (purpose === 'enroll' && !withdrawal) {
        withdrawal = agent.request(`${server.url}/account/face/withdraw`, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, confirm: 'yes' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        expect((await withdrawal).status).toBe(302);
      }
      return analyze(image, purpose, opts);
    }) as FaceEngine['analyze'];
    try {
      await newSitting(server.services.kv, kim.id);
      const { res, url } = await agent.follow(`${server.url}/account/face/reenroll`);
      const html = await res.text();
      // Before the deciding frame: the live challenge has written fingerprints, the account has all its traces.
      const reply = await answerChallenge(agent, url, html, recordingFrames());
      expect(withdrawal).not.toBeNull();
      expect(reply).toMatchObject({ status: 409, body: { error: { code: 'CONSENT_REQUIRED' } } });
    } finally {
      engine.analyze = analyze;
    }
    expect(await traces(kim.id)).toEqual({ templates: 0, keptPhotos: 0, records: 0, crops: 0, replayHashes: 0 });
    const [event] = await server.services.audit.list({ userId: kim.id, type: 'consent.biometric.withdraw' }, 1);
    expect(event.details).toMatchObject({ by: 'self', consents: 1, matchRecords: 1, replayHashes: expect.any(Number) });
    expect(await prisma().biometricConsent.count({ where: { userId: kim.id, revokedAt: null } })).toBe(0);
  });

  it('account deletion erases the Face Match records naming the person and the replay hashes too', async () => {
    const lee = await seedUser(server.services, { email: 'lee@example.com', name: 'Lee', photos: [RECORDING_FACE] });
    await matchRecord(lee.id);
    await server.services.kv.set(`replay:${lee.id}`, JSON.stringify([{ s: 'x', d: '0', u: 'uid', t: Math.floor(Date.now() / 1000) }]), 600);
    const before = await traces(lee.id);
    expect(before).toMatchObject({ templates: 1, keptPhotos: 1, records: 1, replayHashes: 1 });
    expect(before.crops).toBeGreaterThan(0);
    expect(await server.services.accounts.delete(lee)).toMatchObject({ templates: 1, images: 1, matchRecords: 1, replayHashes: 1 });
    expect(await traces(lee.id)).toEqual({ templates: 0, keptPhotos: 0, records: 0, crops: 0, replayHashes: 0 });
  });
});
