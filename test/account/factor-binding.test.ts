import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faceSignIn } from '../admin/helpers.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { Agent } from '../helpers/browserless.js';
import { answerChallenge, ForcedChallenges, newSitting, RECORDING_FACE, recordingFrames } from '../helpers/challenge.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';

const PASSWORD = 'correct horse battery';
const attr = (html: string, name: string) => new RegExp(`${name}="([^"]+)"`).exec(html)?.[1] ?? '';

/**
 * Binding a factor authenticates at the level the factor will serve (NIST SP 800-63B; README "Adding a sign-in
 * factor"): one pass of the face adds no passkey, the first key needs a challenge passed now and the password, a
 * further key one of the account's keys, and the admin console refuses a key bound by a face check alone until an
 * administrator approves it.
 */
describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('factor binding', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestApp;
  const soft = () => new SoftAuthenticator('localhost', server.url);
  const prisma = () => server.services.db.prisma;

  /** The account page after a face sign-in (the head-movement challenge), as a browser holds it. */
  async function accountSession(email: string) {
    const agent = new Agent();
    const userId = (await server.services.users.byEmail(email))!.id;
    await newSitting(server.services.kv, userId);
    const { url } = await faceSignIn(agent, `${server.url}/account`, email, readFileSync(RECORDING_FACE), recordingFrames());
    expect(new URL(url).pathname).toBe('/account');
    const home = await (await agent.request(`${server.url}/account`)).text();
    const csrf = attr(home, 'name="_csrf" value');
    const post = async (path: string, body: unknown) => {
      const res = await agent.request(`${server.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf } });
      return { status: res.status, body: await res.json() };
    };
    /** The first key's face check: the challenge page, answered by the enrolled person in a new sitting. */
    const passChallenge = async () => {
      await newSitting(server.services.kv, userId);
      const { res, url: pageUrl } = await agent.follow(`${server.url}/account/passkeys/new`);
      const html = await res.text();
      expect(html).toContain('data-testid="face-challenge"');
      return answerChallenge(agent, pageUrl, html, recordingFrames());
    };
    return { agent, userId, post, passChallenge };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startApp({ DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/7`, SECRET_KEY: TEST_SECRET_KEY, RATE_LIMIT_PER_IP_PER_MINUTE: '1000' }, { drawChallenge: new ForcedChallenges().draw });
    // Reservations count in advance: the race below would otherwise reach the delay after the two wrong passwords.
    await server.services.settings.update({ passwordFailuresBeforeDelay: 10 }, 'test');
    await seedUser(server.services, { email: 'kim@example.com', name: 'Kim', password: PASSWORD, photos: [RECORDING_FACE] });
    await seedUser(server.services, { email: 'ada@example.com', name: 'Ada Admin', admin: true, photos: [RECORDING_FACE] });
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('binds the first passkey only after a challenge passed now and the password, once per challenge', async () => {
    const kim = await accountSession('kim@example.com');
    // A face sign-in a moment ago is not enough.
    expect(await kim.post('/account/passkeys/options', {})).toMatchObject({ status: 403, body: { error: { code: 'FACE_CHALLENGE_REQUIRED' }, redirect: '/account/passkeys/new' } });
    expect(await kim.passChallenge()).toMatchObject({ status: 200, body: { progress: { status: 'passed' }, redirect: '/account/passkeys/new' } });
    const ready = await (await kim.agent.request(`${server.url}/account/passkeys/new`)).text();
    expect(ready).toContain('data-testid="passkey-password"');

    expect(await kim.post('/account/passkeys/options', {})).toMatchObject({ status: 401, body: { error: { code: 'PASSWORD_MISMATCH' } } });
    expect(await kim.post('/account/passkeys/options', { password: 'wrong password here' })).toMatchObject({ status: 401, body: { error: { code: 'PASSWORD_MISMATCH' } } });
    // One challenge binds one key, however many requests race for it.
    const raced = await Promise.all(Array.from({ length: 4 }, () => kim.post('/account/passkeys/options', { password: PASSWORD })));
    expect(raced.map((r) => r.status).sort()).toEqual([200, 403, 403, 403]);
    const { options } = raced.find((r) => r.status === 200)!.body;
    const key = soft();
    const added = await kim.post('/account/passkeys', { response: key.register(options), name: 'Phone' });
    expect(added).toMatchObject({ status: 200, body: { redirect: '/account?done=passkey-added' } });
    expect(await prisma().passkey.findMany({ where: { userId: kim.userId }, select: { name: true, boundWith: true, approvedAt: true } })).toEqual([{ name: 'Phone', boundWith: 'face', approvedAt: null }]);
    expect(await prisma().auditEvent.findFirst({ where: { type: 'passkey.register', userId: kim.userId, outcome: 'success' } })).toMatchObject({ details: { boundWith: 'face', adminReady: false } });

    // The account page shows the new factor with a way to remove it.
    const home = await (await kim.agent.request(`${server.url}/account`)).text();
    expect(home).toMatch(/data-kind="passkey-added">\s*New passkey <strong>Phone<\/strong> added/);
    expect(home).toContain('data-testid="factor-change-remove"');
  });

  it('adds a further passkey only with an assertion of one of the account’s keys, never with the face alone', async () => {
    const kim = await accountSession('kim@example.com');
    const [phone] = await prisma().passkey.findMany({ where: { userId: kim.userId } });
    const before = await prisma().passkey.count({ where: { userId: kim.userId } });
    // The face sign-in alone gets no registration options, only the assertion the account's keys must answer.
    const asked = await kim.post('/account/passkeys/options', {});
    expect(asked.status).toBe(200);
    expect(asked.body.options).toBeUndefined();
    expect(asked.body.confirm.allowCredentials.map((c: { id: string }) => c.id)).toEqual([phone.credentialId]);
    // Nor does the password: the page for the first key's face check is not offered either.
    expect((await kim.post('/account/passkeys/options', { password: PASSWORD })).body.options).toBeUndefined();
    expect((await kim.agent.request(`${server.url}/account/passkeys/new`)).headers.get('location')).toBe('/account#passkeys-h');
    // Someone else's key does not vouch for this account.
    expect(await kim.post('/account/passkeys/options', { assertion: soft().authenticate(asked.body.confirm) })).toMatchObject({ status: 401, body: { error: { code: 'PASSKEY_UNKNOWN' } } });
    expect(await prisma().passkey.count({ where: { userId: kim.userId } })).toBe(before);
  });

  it('refuses a face-bound key at the admin console until an administrator approves it', async () => {
    const ada = await accountSession('ada@example.com');
    await ada.passChallenge();
    const { body } = await ada.post('/account/passkeys/options', {});
    const key = soft();
    expect((await ada.post('/account/passkeys', { response: key.register(body.options), name: 'Laptop' })).status).toBe(200);
    // The setting as another administrator turned it on: the console now asks for passkey + face.
    await server.services.settings.update({ adminPasskeyRequired: true }, 'test');
    try {
      const consoleLogin = async () => {
        const agent = new Agent();
        let { res, url } = await agent.follow(`${server.url}/admin/login`);
        let html = await res.text();
        ({ res, url } = await agent.submit(url, html, /action="([^"]+identify)"/.exec(html)![1], { email: 'ada@example.com' }));
        html = await res.text();
        const post = async (path: string, payload: unknown) => {
          const r = await agent.request(new URL(path, url).href, { method: 'POST', body: JSON.stringify(payload), headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': attr(html, 'data-csrf') } });
          return { status: r.status, body: await r.json() };
        };
        const opts = await post(attr(html, 'data-options-url'), {});
        return post(attr(html, 'data-verify-url'), { response: key.authenticate(opts.body.options) });
      };
      expect(await consoleLogin()).toMatchObject({ status: 403, body: { error: { code: 'PASSKEY_NOT_APPROVED' } } });
      const [laptop] = await prisma().passkey.findMany({ where: { userId: ada.userId } });
      await server.services.passkeys.approve(ada.userId, laptop.id, ada.userId, {});
      expect(await consoleLogin()).toMatchObject({ status: 200, body: { redirect: expect.stringMatching(/^\/interaction\//) } });
      // An approved key vouches for the next one, which inherits the approval.
      const next = await ada.post('/account/passkeys/options', {});
      const vouched = await ada.post('/account/passkeys/options', { assertion: key.authenticate(next.body.confirm) });
      expect(vouched.status).toBe(200);
      expect((await ada.post('/account/passkeys', { response: soft().register(vouched.body.options), name: 'Key 2' })).status).toBe(200);
      expect(await prisma().passkey.findFirst({ where: { userId: ada.userId, name: 'Key 2' }, select: { boundWith: true, approvedAt: true } })).toMatchObject({ boundWith: 'passkey', approvedAt: expect.any(Date) });
    } finally {
      await server.services.settings.update({ adminPasskeyRequired: false }, 'test');
    }
  });
});
