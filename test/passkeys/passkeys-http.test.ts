import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/acr.js';
import { IP_POLICY } from '../../src/verification/index.js';
import { fixture, faceSignIn, photoForm } from '../admin/helpers.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { Agent } from '../helpers/browserless.js';
import { answerChallenge, ForcedChallenges, newSitting, postFrame, RECORDING_FACE, RECORDING_MOVEMENTS, recordingFrames } from '../helpers/challenge.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { APP_ORIGIN } from '../helpers/face-capture.js';
import { authorizationUrl, discover, type RpClient } from '../helpers/flow.js';
import { ROOT } from '../helpers/server.js';
import { SoftAuthenticator, type Tamper } from '../helpers/soft-authenticator.js';

const REDIRECT = `${APP_ORIGIN}/cb`;
const face = (name: string) => path.join(ROOT, 'test', 'fixtures', 'faces', name);
const attr = (html: string, name: string) => new RegExp(`${name}="([^"]+)"`).exec(html)?.[1] ?? '';

/** A sign-in page with a passkey button, as passkey-kit.js drives it: options, then the authenticator's answer. */
class PasskeyPage {
  constructor(
    readonly agent: Agent,
    readonly url: string,
    readonly html: string,
  ) {}

  private async post(url: string, body: unknown, csrf = attr(this.html, 'data-csrf')) {
    const res = await this.agent.request(new URL(url, this.url).href, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
  }

  options() {
    return this.post(attr(this.html, 'data-options-url'), {});
  }

  answer(response: unknown, csrf?: string) {
    return this.post(attr(this.html, 'data-verify-url'), { response }, csrf);
  }

  /** Options, then the key's (possibly tampered) answer. */
  async use(key: SoftAuthenticator, tamper: Tamper = {}) {
    const { body } = await this.options();
    return this.answer(key.authenticate(body.options, tamper));
  }
}

/** Passkey sign-in, account and console surfaces over plain HTTP, with a software authenticator. */
describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('passkeys (HTTP)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestApp;
  let app: RpClient;
  let kimId: string;
  let kimKey: SoftAuthenticator;

  const challenges = new ForcedChallenges();
  const soft = () => new SoftAuthenticator('localhost', server.url);
  const prisma = () => server.services.db.prisma;

  /** Registers a key for an account the way the account page does (options, then the answer), under one binding. */
  async function enroll(userId: string, key = soft()) {
    const user = (await server.services.users.byId(userId))!;
    const options = await server.services.passkeys.registrationOptions(user, 'test-setup', { with: 'face' });
    await server.services.passkeys.register(user, 'test-setup', key.register(options), 'Test key', { kind: 'self' }, {});
    return key;
  }

  /**
   * Identifier, then the face step of a built-in client (account page, console), which must be the head-movement
   * challenge: it is answered with the recording, as a new sitting of the person (the server refuses a sequence it
   * has seen for the account). The passive photo faceSignIn would post instead is another person's, so a passive
   * face step could not sign anyone in here.
   */
  async function challengeSignIn(agent: Agent, start: string, email: string) {
    await newSitting(server.services.kv, (await server.services.users.byEmail(email))!.id);
    return faceSignIn(agent, start, email, readFileSync(face('deepface-img17.jpg')), recordingFrames());
  }

  /** A new sign-in at the app: the identifier page, or with `email` the page after it. */
  async function open(params: Record<string, string>, email?: string, agent = new Agent()): Promise<PasskeyPage> {
    const start = await authorizationUrl(app, params);
    let { res, url } = await agent.follow(start.url.href);
    let html = await res.text();
    if (email) {
      ({ res, url } = await agent.submit(url, html, /action="([^"]+identify)"/.exec(html)![1], { email }));
      html = await res.text();
    }
    return new PasskeyPage(agent, url, html);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    // The per-minute flood limit per address is not what these tests look at (the last one sends many answers).
    // Every challenge drawn is the recording's "up, right": the only answer the tests have (test/helpers/challenge.ts).
    server = await startApp({ DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/5`, SECRET_KEY: TEST_SECRET_KEY, RATE_LIMIT_PER_IP_PER_MINUTE: '1000' }, { drawChallenge: challenges.draw });
    // Passkeys follow the password thresholds; seven failures before the delay, so one account shows every refusal first.
    await server.services.settings.update({ passwordFailuresBeforeDelay: 7 }, 'test');
    // Enrolled from the recording's frontal frame: the people who sign in with their face here answer the challenge with it.
    kimId = (await seedUser(server.services, { email: 'kim@example.com', name: 'Kim Key', photos: [RECORDING_FACE] })).id;
    kimKey = await enroll(kimId);
    const { client, clientSecret } = await server.services.clients.create({ name: 'Portal', redirectUris: [REDIRECT] });
    app = await discover(server.url, client.clientId, clientSecret!, REDIRECT);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('goes from the passkey step to the face step, and answers every bad passkey post with a 4xx code, storing nothing', async () => {
    const first = await open({ acr_values: ACR.passkey }, 'kim@example.com');
    expect(first.html).toContain('data-testid="passkey-authenticate"');
    const { body: opts } = await first.options();
    const valid = kimKey.authenticate(opts.options);
    const ok = await first.answer(valid);
    expect(ok).toMatchObject({ status: 200, body: { redirect: expect.stringMatching(/^\/interaction\//) } });
    const facePage = await (await first.agent.request(new URL(ok.body.redirect, first.url).href)).text();
    expect(facePage).toContain('data-face-challenge');
    expect(facePage).not.toContain('data-capture-url');
    // The step is done: a second answer in the same sign-in is not expected.
    expect(await first.options()).toMatchObject({ status: 409, body: { error: { code: 'STEP_NOT_EXPECTED' } } });
    expect(await first.answer(kimKey.authenticate(opts.options))).toMatchObject({ status: 409, body: { error: { code: 'STEP_NOT_EXPECTED' } } });
    const before = await prisma().passkey.findFirstOrThrow({ where: { userId: kimId } });

    const page = await open({ acr_values: ACR.passkey }, 'kim@example.com');
    const refusals = [
      [await page.answer('not a credential'), 400, 'PASSKEY_RESPONSE_INVALID'],
      [await page.answer(valid), 400, 'PASSKEY_CHALLENGE_INVALID'],
      [await page.use(kimKey, { origin: 'https://evil.example.net' }), 400, 'PASSKEY_ORIGIN_MISMATCH'],
      [await page.use(kimKey, { rpId: 'evil.example.net' }), 400, 'PASSKEY_RP_ID_MISMATCH'],
      [await page.use(kimKey, { counter: 1 }), 401, 'PASSKEY_COUNTER_REGRESSED'],
      [await page.use(soft()), 401, 'PASSKEY_UNKNOWN'],
      [await page.use(kimKey, { badSignature: true }), 401, 'PASSKEY_SIGNATURE_INVALID'],
    ] as const;
    for (const [reply, status, code] of refusals) {
      expect(reply).toMatchObject({ status, body: { error: { code, message: expect.any(String), requestId: expect.any(String) } } });
    }
    expect(await prisma().passkey.findFirstOrThrow({ where: { userId: kimId } })).toEqual(before);
    expect(await page.answer(valid, 'forged')).toMatchObject({ status: 403, body: { error: { code: 'CSRF_TOKEN_INVALID' } } });

    // Seven failures in a row: the account's passkey attempts from this device now wait (NIST SP 800-63B-4).
    const delayed = await page.options();
    expect(delayed).toMatchObject({ status: 429, body: { error: { code: 'PASSKEY_DELAYED' }, retryAfter: 30 } });
    expect(Number(delayed.retryAfter)).toBeGreaterThan(20);
    expect(await prisma().auditEvent.count({ where: { type: 'signin.passkey', outcome: 'failure', userId: kimId } })).toBe(7);
    await server.services.verification.attempts.forget(kimId);
  });

  it('signs in without an email to the key’s account, and refuses the key of a disabled account', async () => {
    const page = await open({});
    expect(page.html).toContain('data-testid="passkey-signin"');
    const ok = await page.use(kimKey);
    expect(ok).toMatchObject({ status: 200, body: { redirect: expect.stringMatching(/^\/interaction\//) } });
    const next = await (await page.agent.request(new URL(ok.body.redirect, page.url).href)).text();
    expect(next).toContain('data-face-challenge');
    expect(next).not.toContain('data-capture-url');
    expect(next).toContain('kim@example.com');

    const dee = await seedUser(server.services, { email: 'dee@example.com', name: 'Dee', photos: [face('deepface-img1.jpg')] });
    const deeKey = await enroll(dee.id);
    await server.services.accounts.setStatus(dee, 'DISABLED');
    const before = await prisma().passkey.findFirstOrThrow({ where: { userId: dee.id } });
    expect(await (await open({})).use(deeKey)).toMatchObject({ status: 403, body: { error: { code: 'PASSKEY_ACCOUNT_DISABLED' } } });
    expect(await prisma().passkey.findFirstOrThrow({ where: { userId: dee.id } })).toEqual(before);
  });

  it('lets an administrator see and revoke a person’s passkey, and removes passkeys with the account', async () => {
    const ada = await seedUser(server.services, { email: 'ada@example.com', name: 'Ada Admin', admin: true, photos: [RECORDING_FACE] });
    const admin = new Agent();
    expect(new URL((await challengeSignIn(admin, `${server.url}/admin/users`, 'ada@example.com')).url).pathname).toBe('/admin/users');
    const shown = await (await admin.request(`${server.url}/admin/users/${kimId}`)).text();
    expect(shown).toContain('data-testid="admin-passkey-row"');
    expect(shown).toContain('Test key');
    const action = /action="([^"]+\/revoke)"/.exec(shown)![1];
    const revoked = await admin.follow(`${server.url}${action}`, { method: 'POST', body: new URLSearchParams({ _csrf: attr(shown, 'name="_csrf" value') }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(revoked.url).toMatch(/done=passkey-revoked$/);
    expect(await prisma().passkey.count({ where: { userId: kimId } })).toBe(0);
    expect(await prisma().auditEvent.count({ where: { type: 'passkey.remove', userId: kimId, actorId: ada.id } })).toBe(1);
    expect(await (await open({})).use(kimKey)).toMatchObject({ status: 401, body: { error: { code: 'PASSKEY_UNKNOWN', message: 'This passkey is not registered here.' } } });

    const leaving = await seedUser(server.services, { email: 'lee@example.com', name: 'Lee' });
    await enroll(leaving.id);
    expect(await server.services.accounts.delete(leaving)).toMatchObject({ passkeys: 1 });
    expect(await prisma().passkey.count({ where: { userId: leaving.id } })).toBe(0);
  });

  it('requires face + passkey for administrators once the setting is on, and only after the admin has a passkey', async () => {
    const admin = new Agent();
    expect(new URL((await challengeSignIn(admin, `${server.url}/admin/users`, 'ada@example.com')).url).pathname).toBe('/admin/users');
    const settings = await (await admin.request(`${server.url}/admin/settings`)).text();
    /** The settings form as shown (inputs, ticked boxes, selected options), with `extra` changed. */
    const form = (extra: Record<string, string>) => {
      const body = new URLSearchParams();
      const start = settings.indexOf('<form method="post" action="/admin/settings"');
      const main = settings.slice(start, settings.indexOf('</form>', start));
      for (const [tag] of main.matchAll(/<input[^>]*>/g)) {
        const name = attr(tag, 'name');
        if (name && (!tag.includes('type="checkbox"') || tag.includes(' checked'))) body.set(name, attr(tag, 'value') || 'on');
      }
      for (const [, name, options] of main.matchAll(/<select[^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/select>/g)) body.set(name, /<option value="([^"]+)" selected/.exec(options)![1]);
      for (const [k, v] of Object.entries(extra)) body.set(k, v);
      return admin.follow(`${server.url}/admin/settings`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    };
    const refused = await form({ adminPasskeyRequired: 'on' });
    expect(refused.res.status).toBe(400);
    expect(await refused.res.text()).toContain('Add a passkey to your own account first');
    expect((await server.services.settings.get()).adminPasskeyRequired).toBe(false);

    const adaId = (await server.services.users.byEmail('ada@example.com'))!.id;
    const adaKey = await enroll(adaId);
    // A key bound by a face check alone opens the console only once an administrator approved it.
    expect((await form({ adminPasskeyRequired: 'on' })).res.status).toBe(400);
    const own = await (await admin.request(`${server.url}/admin/users/${adaId}`)).text();
    const approve = /action="([^"]+\/approve)"/.exec(own)![1];
    const approved = await admin.follow(`${server.url}${approve}`, { method: 'POST', body: new URLSearchParams({ _csrf: attr(own, 'name="_csrf" value') }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(approved.url).toMatch(/done=passkey-approved$/);
    expect(await prisma().auditEvent.count({ where: { type: 'passkey.approve', userId: adaId, actorId: adaId } })).toBe(1);
    expect((await form({ adminPasskeyRequired: 'on' })).url).toMatch(/done=settings-saved/);
    // The face-only session is no longer enough; a new sign-in asks for the passkey, then the face.
    const stale = await admin.request(`${server.url}/admin/users`);
    expect(stale.status).toBe(403);
    expect(await stale.text()).toContain('data-testid="admin-step-up"');
    const login = await admin.request(`${server.url}/admin/login`);
    expect(new URL(login.headers.get('location')!).searchParams.get('acr_values')).toBe(ACR.passkey);

    let { res, url } = await admin.follow(login.headers.get('location')!);
    let html = await res.text();
    ({ res, url } = await admin.submit(url, html, /action="([^"]+identify)"/.exec(html)![1], { email: 'ada@example.com' }));
    const step = new PasskeyPage(admin, url, await res.text());
    const passed = await step.use(adaKey);
    expect(passed.status).toBe(200);
    ({ res, url } = await admin.follow(new URL(passed.body.redirect, url).href));
    html = await res.text();
    // Then the face step: the head-movement challenge, answered by Ada in a new sitting.
    expect(html).toContain('data-face-challenge');
    await newSitting(server.services.kv, adaId);
    const reply = await answerChallenge(admin, url, html, recordingFrames());
    expect(reply).toMatchObject({ status: 200, body: { progress: { status: 'passed' }, redirect: expect.any(String) } });
    ({ res, url } = await admin.follow(new URL(reply.body.redirect!, url).href));
    expect(new URL(url).pathname).toBe('/admin/users');
    expect(res.status).toBe(200);
    const signin = await prisma().auditEvent.findFirstOrThrow({ where: { type: 'admin.signin', userId: adaId, outcome: 'success' }, orderBy: { id: 'desc' } });
    expect(signin.details).toMatchObject({ acr: ACR.passkey, amr: ['face', 'liveness', 'hwk', 'mfa'] });
    await server.services.settings.update({ adminPasskeyRequired: false }, adaId);
  });

  it('offers a passkey at the end of an invite enrollment, once, in the browser that enrolled', async () => {
    const ivy = await seedUser(server.services, { email: 'ivy@example.com', name: 'Ivy Invite' });
    const { token } = await server.services.invites.create(ivy.id, ivy.id);
    const link = `${server.url}/enroll/${token}`;
    const person = new Agent();
    const first = await person.request(link);
    const agreed = await person.submit(link, await first.text(), `/enroll/${token}/consent`, { agree: 'yes' });
    const capture = await agreed.res.text();
    const sent = await person.request(`${link}/photo`, { method: 'POST', body: photoForm(fixture('user-2.jpg')), headers: { 'x-csrf-token': attr(capture, 'data-csrf'), accept: 'application/json' } });
    expect(sent.status).toBe(200);
    const done = await person.request(`${link}/done`);
    const page = new PasskeyPage(person, `${link}/done`, await done.text());
    expect(page.html).toContain('data-testid="passkey-register"');
    // Another browser with the used link gets no offer.
    expect(await (await new Agent().request(`${link}/done`)).text()).not.toContain('data-passkey-register');

    const key = soft();
    const { body } = await page.options();
    const registered = await page.answer(key.register(body.options));
    expect(registered).toMatchObject({ status: 200, body: { redirect: `/enroll/${token}/done?passkey=added`, passkey: { kind: 'hwk' } } });
    expect(await prisma().passkey.count({ where: { userId: ivy.id } })).toBe(1);
    expect(await page.options()).toMatchObject({ status: 403, body: { error: { code: 'PASSKEY_GRANT_INVALID' } } });
  });

  it('re-enrolls the face from the account page through a challenge that the enrolled face answers, replacing the templates', async () => {
    const agent = new Agent();
    const { url } = await challengeSignIn(agent, `${server.url}/account`, 'kim@example.com');
    expect(new URL(url).pathname).toBe('/account');
    const reenroll = async () => {
      // The sign-in's frames are remembered: the re-enrollment is another sitting in front of the camera.
      await newSitting(server.services.kv, kimId);
      const { res, url: pageUrl } = await agent.follow(`${server.url}/account/face/reenroll`);
      const html = await res.text();
      expect(html).toContain('data-testid="face-challenge"');
      return answerChallenge(agent, pageUrl, html, recordingFrames());
    };

    // The enrolled face is someone else's: the live person answers the movements but does not match it.
    const swap = (photo: string) => server.services.enrollment.replace({ userId: kimId, image: readFileSync(photo), source: 'cli', actor: { kind: 'cli' } });
    await swap(face('deepface-img2.jpg'));
    const other = await prisma().faceTemplate.findMany({ where: { userId: kimId } });
    expect(await reenroll()).toMatchObject({ status: 401, body: { error: { code: 'NO_MATCH' }, progress: { status: 'failed' } } });
    expect(await prisma().faceTemplate.findMany({ where: { userId: kimId } })).toEqual(other);
    await swap(RECORDING_FACE);
    const before = await prisma().faceTemplate.findMany({ where: { userId: kimId } });

    // The movements answered in another order than drawn (the recording tilts up first): refused and counted, nothing replaced.
    challenges.movements = ['left', 'up'];
    try {
      expect(await reenroll()).toMatchObject({ status: 401, body: { error: { code: 'WRONG_MOVEMENT' }, progress: { status: 'failed' } } });
    } finally {
      challenges.movements = RECORDING_MOVEMENTS;
    }
    expect(await prisma().faceTemplate.findMany({ where: { userId: kimId } })).toEqual(before);

    expect(await reenroll()).toMatchObject({ status: 200, body: { redirect: '/account?done=reenrolled', progress: { status: 'passed' } } });
    const after = await prisma().faceTemplate.findMany({ where: { userId: kimId } });
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ source: 'account' });
    expect(before.map((t) => t.id)).not.toContain(after[0].id);
    expect(await prisma().auditEvent.findMany({ where: { type: 'enroll.face', userId: kimId, details: { path: ['source'], equals: 'account' } }, orderBy: { id: 'asc' }, select: { outcome: true, reason: true } })).toEqual([
      { outcome: 'failure', reason: 'NO_MATCH' },
      { outcome: 'failure', reason: 'WRONG_MOVEMENT' },
      { outcome: 'success', reason: null },
    ]);
    // The same answer re-encoded (other bytes, the same picture) in the next attempt, without sitting down anew: every
    // re-enrollment challenge is its own sitting, so the near-duplicate screening refuses it.
    const reencoded = await Promise.all(recordingFrames().map((f) => sharp(f).jpeg({ quality: 80 }).toBuffer()));
    const { res: again, url: againUrl } = await agent.follow(`${server.url}/account/face/reenroll`);
    expect(await answerChallenge(agent, againUrl, await again.text(), reencoded)).toMatchObject({ status: 401, body: { error: { code: 'FRAME_REPLAYED' } } });

    // Without a fresh sign-in, changes are refused with the way back.
    const key = `rpsess:account:${decodeURIComponent(agent.cookie('fo_account')!)}`;
    const session = JSON.parse((await server.services.kv.get(key))!);
    session.claims.auth_time -= 3600;
    await server.services.kv.set(key, JSON.stringify(session), 600);
    const html = await (await agent.request(`${server.url}/account`)).text();
    const stale = await postFrame(agent, `${server.url}/account/face/reenroll/challenge/frame`, attr(html, 'name="_csrf" value'), 'any', recordingFrames()[0]);
    expect(stale).toMatchObject({ status: 403, body: { error: { code: 'STEP_UP_REQUIRED' }, redirect: expect.stringMatching(/^\/account\/verify\?next=/) } });
    const page = await agent.request(`${server.url}/account/face/reenroll`);
    expect([page.status, page.headers.get('location')]).toEqual([302, '/account/verify?next=%2Faccount%2Fface%2Freenroll']);
  });

  it('explains and confirms a change that takes the last way to sign in, and refuses forms without the CSRF token', async () => {
    const noa = await seedUser(server.services, { email: 'noa@example.com', name: 'Noa', photos: [RECORDING_FACE] });
    await enroll(noa.id);
    const agent = new Agent();
    expect(new URL((await challengeSignIn(agent, `${server.url}/account`, 'noa@example.com')).url).pathname).toBe('/account');
    const form = async (action: string, fields: Record<string, string>, csrf?: string) => {
      const home = await (await agent.request(`${server.url}/account`)).text();
      const body = new URLSearchParams({ _csrf: csrf ?? attr(home, 'name="_csrf" value'), ...fields });
      const { res, url } = await agent.follow(`${server.url}${action}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      return { status: res.status, url, html: await res.text() };
    };

    const forged = await form('/account/face/withdraw', { confirm: 'yes' }, 'forged');
    expect(forged.status).toBe(403);
    expect(forged.html).toContain('CSRF_TOKEN_INVALID');
    expect(await prisma().faceTemplate.count({ where: { userId: noa.id } })).toBe(1);

    // No password: the face is Noa's only way in (the passkey always goes with it), and the page says so.
    expect(await (await agent.request(`${server.url}/account/face/withdraw`)).text()).toContain('data-testid="last-factor-warning"');
    expect((await form('/account/face/withdraw', {})).status).toBe(400);
    expect(await prisma().faceTemplate.count({ where: { userId: noa.id } })).toBe(1);
    expect((await form('/account/face/withdraw', { confirm: 'yes' })).url).toMatch(/done=consent-withdrawn$/);
    expect(await prisma().faceTemplate.count({ where: { userId: noa.id } })).toBe(0);

    // Now the passkey is the last factor left: removing it asks first.
    const [key] = await prisma().passkey.findMany({ where: { userId: noa.id } });
    const asked = await form(`/account/passkeys/${key.id}/remove`, {});
    expect(asked.status).toBe(200);
    expect(asked.html).toContain('data-testid="last-factor-warning"');
    expect(await prisma().passkey.count({ where: { userId: noa.id } })).toBe(1);
    expect((await form(`/account/passkeys/${key.id}/rename`, { name: 'Old phone' })).url).toMatch(/done=passkey-renamed$/);
    expect((await prisma().passkey.findFirstOrThrow({ where: { id: key.id } })).name).toBe('Old phone');
    expect((await form(`/account/passkeys/${key.id}/rename`, { name: '' })).status).toBe(400);
    expect((await form(`/account/passkeys/${key.id}/remove`, { confirm: 'yes' })).url).toMatch(/done=passkey-removed$/);
    expect(await prisma().passkey.count({ where: { userId: noa.id } })).toBe(0);
  });

  it('counts passkey failures without an email per client address', async () => {
    const stranger = soft();
    let reply;
    // Every refusal in this file counted against the address too; the address bucket stops it within its budget.
    for (let i = 0; i <= IP_POLICY.failuresBeforeDelay; i++) {
      reply = await (await open({})).use(stranger);
      if (reply.status !== 401) break;
      expect(reply.body).toMatchObject({ error: { code: 'PASSKEY_UNKNOWN' } });
    }
    expect(reply).toMatchObject({ status: 429, body: { error: { code: 'PASSKEY_DELAYED' } } });
  });
});
