import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/acr.js';
import { faceSignIn } from '../admin/helpers.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { Agent } from '../helpers/browserless.js';
import { ForcedChallenges, type FrameReply, newSitting, postFrame, RECORDING_FACE, recordingFrames, startChallenge } from '../helpers/challenge.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { authorizationUrl, discover, exchange, signIn } from '../helpers/flow.js';
import { requireOcrFont } from '../documents/helpers.js';
import { passportPhoto } from './documents.js';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:9/cb';
const CLAIMS = JSON.stringify({ id_token: { verified_claims: { verification: { trust_framework: null }, claims: { family_name: null, birthdate: null } } } });
const attr = (html: string, name: string) => new RegExp(`${name}="([^"]+)"`).exec(html)?.[1] ?? '';

/**
 * Two instances behind one load balancer (the same issuer, PostgreSQL, Redis keys and secret): the document is read
 * on one, the challenge's frames alternate between both, the proofing recorded lands in the shared database, and an
 * app signing in on the other instance receives the verified claims.
 */
describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis) && requireOcrFont())('identity proofing across two instances (PostgreSQL + Redis)', () => {
  const forced = new ForcedChallenges();
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let first: TestApp;
  let second: TestApp;
  let userId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    first = await startApp({ DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/11`, SECRET_KEY: TEST_SECRET_KEY, RATE_LIMIT_PER_IP_PER_MINUTE: '1000' }, { drawChallenge: forced.draw });
    second = await startApp(
      { DATABASE_URL: db.url, REDIS_URL: first.env.REDIS_URL, REDIS_KEY_PREFIX: first.env.REDIS_KEY_PREFIX, SECRET_KEY: TEST_SECRET_KEY, ISSUER: first.url, RATE_LIMIT_PER_IP_PER_MINUTE: '1000' },
      { drawChallenge: forced.draw },
    );
    userId = (await seedUser(first.services, { email: 'kate@example.com', name: 'Kate', password: PASSWORD, photos: [RECORDING_FACE] })).id;
    await first.services.settings.update({ proofingEnabled: true }, 'test');
  });

  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await db?.drop();
  });

  it('reads the document on one instance, judges the challenge on both, and serves the claims from the other', async () => {
    const agent = new Agent();
    const signedIn = await faceSignIn(agent, `${first.url}/account`, 'kate@example.com', readFileSync(RECORDING_FACE), recordingFrames());
    const csrf = attr(await signedIn.res.text(), 'name="_csrf" value');
    await first.services.proofing.giveConsent(userId);

    const form = new FormData();
    form.append('photo', new Blob([new Uint8Array(await passportPhoto(RECORDING_FACE))], { type: 'image/jpeg' }), 'passport.jpg');
    const sent = await agent.request(`${first.url}/account/proofing/document`, { method: 'POST', body: form, headers: { accept: 'application/json', 'x-csrf-token': csrf } });
    expect(sent.status, await sent.clone().text()).toBe(200);

    // The second instance finds the held document (sealed in Redis) and draws the challenge.
    const pageUrl = `${second.url}/account/proofing`;
    const html = await (await agent.request(pageUrl)).text();
    expect(html).toContain('data-testid="proofing-held"');
    await newSitting(first.services.kv, userId);
    const { id: challenge } = await startChallenge(agent, pageUrl, html);
    let reply: FrameReply = { status: 0, body: {} };
    for (const [i, frame] of recordingFrames().entries()) {
      reply = await postFrame(agent, `${i % 2 ? second.url : first.url}/account/proofing/challenge/frame`, csrf, challenge, frame);
      if (reply.body.redirect || reply.status >= 400) break;
      await new Promise((r) => setTimeout(r, 170));
    }
    expect(reply.body, JSON.stringify(reply.body)).toMatchObject({ redirect: '/account/proofing?done=proofed' });
    expect(await second.services.proofing.status(userId)).toMatchObject({ state: 'valid', documentType: 'passport' });

    // An app signing in through the second instance: released on the consent page, received in the ID token.
    const { client, clientSecret } = await first.services.clients.create({ name: 'Bank', redirectUris: [REDIRECT], allowPasswordOnly: true });
    const bank = await discover(first.url, client.clientId, clientSecret ?? undefined, REDIRECT);
    const start = await authorizationUrl(bank, { acr_values: ACR.password, claims: CLAIMS });
    const callback = await signIn(new Agent(), start, { email: 'kate@example.com', password: PASSWORD, consent: { share_verified_claims: 'yes' } }, second.url);
    const claims = (await exchange(bank, start, callback)).claims()!;
    expect(claims.verified_claims).toMatchObject({ claims: { family_name: 'HILL', birthdate: '1987-10-25' } });
  });
});
