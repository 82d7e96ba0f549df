import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/acr.js';
import { fixture, FIXTURES } from '../admin/helpers.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { Agent } from '../helpers/browserless.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { authorizationUrl, discover, type RpClient } from '../helpers/flow.js';

const REDIRECT = 'http://127.0.0.1:9/cb';
const PASSWORD = 'the right password 42';

/** Attacks on the sign-in limits, against a running server on PostgreSQL + Redis with real parallel requests. */
describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('sign-in attempt limits under attack', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestApp;
  let rp: RpClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    // A generous per-IP form limit: these tests are about the per-account counting behind it.
    server = await startApp({ DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/10`, SECRET_KEY: TEST_SECRET_KEY, RATE_LIMIT_PER_IP_PER_MINUTE: '10000' });
    // These attacks are on the single-frame capture, which only apps allowed the passive acr have.
    const app = await server.services.clients.create({ name: 'Lenient app', redirectUris: [REDIRECT], allowPasswordOnly: true, firstParty: true, allowPassiveFace: true });
    rp = await discover(server.url, app.client.clientId, app.clientSecret!, REDIRECT);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  /** Walks to the password page of a new sign-in and returns where to post and the form's token. */
  async function passwordPage(email: string) {
    const agent = new Agent();
    const start = await authorizationUrl(rp, { acr_values: ACR.password });
    let { res, url } = await agent.follow(start.url.href);
    let html = await res.text();
    ({ res, url } = await agent.submit(url, html, /action="([^"]+identify)"/.exec(html)![1], { email }));
    html = await res.text();
    if (!html.includes('data-testid="password-input"')) {
      ({ res, url } = await agent.submit(url, html, /action="([^"]+use-password)"/.exec(html)![1], {}));
      html = await res.text();
    }
    const action = new URL(/action="([^"]+password)"/.exec(html)![1], url).href;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1];
    return { agent, action, csrf };
  }

  it('checks no more than five of 60 parallel password guesses; the others wait', async () => {
    const victim = await seedUser(server.services, { email: 'pat@example.com', name: 'Pat', password: PASSWORD });
    const { agent, action, csrf } = await passwordPage(victim.email);
    const statuses = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        agent.request(action, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, password: `guess number ${i}` }), headers: { 'content-type': 'application/x-www-form-urlencoded' } }).then((r) => r.status),
      ),
    );
    const checked = (await server.services.audit.list({ userId: victim.id, type: 'signin.password' }, 100)).length;
    console.log(`password guesses checked in a burst of 60: ${checked}`);
    expect(checked).toBe(5);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(55);
  });

  /** A new sign-in at the face page: where to post frames, the form token and the page's capture token. */
  async function facePage(email: string) {
    const agent = new Agent();
    const start = await authorizationUrl(rp);
    let { res, url } = await agent.follow(start.url.href);
    let html = await res.text();
    ({ res, url } = await agent.submit(url, html, /action="([^"]+identify)"/.exec(html)![1], { email }));
    html = await res.text();
    return { agent, url, capture: new URL(/data-capture-url="([^"]+)"/.exec(html)![1], url).href, csrf: /data-csrf="([^"]+)"/.exec(html)![1], token: /data-capture-token="([^"]+)"/.exec(html)![1] };
  }

  async function post(page: Awaited<ReturnType<typeof facePage>>, frame: Buffer, token = page.token) {
    const form = new FormData();
    form.append('_csrf', page.csrf);
    form.append('capture_token', token);
    form.append('frame', new Blob([new Uint8Array(frame)], { type: 'image/jpeg' }), 'frame.jpg');
    const reply = (await (await page.agent.request(page.capture, { method: 'POST', body: form, headers: { accept: 'application/json' } })).json()) as { redirect?: string; error?: { code: string }; captureToken?: string };
    if (reply.captureToken) page.token = reply.captureToken;
    return reply;
  }

  it('counts guesses sent to two instances at once against one budget', async () => {
    const victim = await seedUser(server.services, { email: 'ray@example.com', name: 'Ray', password: PASSWORD });
    const second = await startApp({ DATABASE_URL: db.url, REDIS_URL: server.env.REDIS_URL, REDIS_KEY_PREFIX: server.env.REDIS_KEY_PREFIX, SECRET_KEY: TEST_SECRET_KEY, RATE_LIMIT_PER_IP_PER_MINUTE: '10000' });
    try {
      const { agent, action, csrf } = await passwordPage(victim.email);
      const onSecond = new URL(new URL(action).pathname, second.url).href;
      const statuses = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          agent.request(i % 2 ? onSecond : action, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, password: `guess ${i}` }), headers: { 'content-type': 'application/x-www-form-urlencoded' } }).then((r) => r.status),
        ),
      );
      expect(statuses.filter((s) => s === 401)).toHaveLength(5);
      expect((await server.services.audit.list({ userId: victim.id, type: 'signin.password' }, 100)).length).toBe(5);
    } finally {
      await second.stop();
    }
  });

  it('never counts or locks on uploads without a face, however many an anonymous sender repeats', async () => {
    const admin = await seedUser(server.services, { email: 'root@example.com', name: 'Root', admin: true, photos: [path.join(FIXTURES, 'admin-1.jpg')] });
    const blank = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#6a6a6a' } }).jpeg().toBuffer();
    const codes = [];
    // The same faceless picture, ten times in each of six sign-ins (each sign-in may send 12 captures a minute).
    for (let s = 0; s < 6; s++) {
      const page = await facePage(admin.email);
      for (let i = 0; i < 10; i++) codes.push((await post(page, blank)).error?.code);
    }
    expect(new Set(codes)).toEqual(new Set(['FACE_NOT_FOUND']));
    expect(await server.services.verification.attempts.faceFailures(admin.id)).toBe(0);
    expect((await server.services.users.byId(admin.id))!.faceLockedAt).toBeNull();
    // And the administrator still signs in.
    expect((await post(await facePage(admin.email), fixture('admin-2.jpg'))).redirect).toBeTruthy();
  });

  it('gives one live capture token per sign-in: opening the page many times does not give parallel attempts', async () => {
    const victim = await seedUser(server.services, { email: 'quin@example.com', name: 'Quin', photos: [path.join(FIXTURES, 'member.jpg')] });
    const page = await facePage(victim.email);
    // Twelve page loads, then a capture with each of their tokens (a sign-in's capture budget for a minute): the first
    // alone, the other eleven at once.
    const tokens = [];
    for (let i = 0; i < 12; i++) tokens.push(/data-capture-token="([^"]+)"/.exec(await (await page.agent.request(page.url)).text())![1]);
    // A stale page is refused without ending the live token (else any old tab, or a burst, could cut off the current one).
    const stale = await post(page, fixture('user-1.jpg'), tokens[0]);
    expect(stale).toMatchObject({ error: { code: 'CAPTURE_TOKEN_INVALID', message: expect.stringMatching(/another tab/) } });
    expect(stale.captureToken).toBeUndefined();
    const replies = await Promise.all(tokens.slice(1).map((token) => post(page, fixture('user-1.jpg'), token)));
    const codes = replies.map((r) => r.error?.code);
    // Only the latest token was live: one attempt was verified (and refused); the rest never reached the engine.
    expect(codes.filter((c) => c === 'NO_MATCH'), `codes: ${codes.join(', ')}`).toHaveLength(1);
    expect(codes.filter((c) => c === 'CAPTURE_TOKEN_INVALID')).toHaveLength(10);
    expect(await server.services.verification.attempts.faceFailures(victim.id)).toBe(1);
  });
});
