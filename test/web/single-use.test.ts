import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Challenges } from '../../src/passkeys/challenges.js';
import { connectRedis, memoryKeyValueStore, redisKeyValueStore, type KeyValueStore } from '../../src/store/kv.js';
import { CaptureTokens } from '../../src/verification/capture-tokens.js';
import { fixture, photoForm } from '../admin/helpers.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { Agent } from '../helpers/browserless.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { APP_ORIGIN } from '../helpers/face-capture.js';
import { authorizationUrl, discover } from '../helpers/flow.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';

const N = 5;
const attr = (html: string, name: string) => new RegExp(`${name}="([^"]+)"`).exec(html)?.[1] ?? '';
const statuses = (replies: { status: number }[]) => replies.map((r) => r.status).sort();
const json = async (res: Response) => ({ status: res.status, body: await res.json() });

/**
 * Every one-time grant is claimed atomically (UPDATE … WHERE used_at IS NULL, GETDEL, compare-and-delete): of N
 * parallel uses of one grant exactly one succeeds, and nothing is written twice.
 */
describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('single-use grants under concurrency', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestApp;
  const prisma = () => server.services.db.prisma;
  const soft = () => new SoftAuthenticator('localhost', server.url);

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startApp({ DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/11`, SECRET_KEY: TEST_SECRET_KEY, RATE_LIMIT_PER_IP_PER_MINUTE: '1000' });
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('the bootstrap link creates one administrator', async () => {
    const link = (await server.bootstrapLink())!.replace(/^http:\/\/localhost:\d+/, server.url);
    const agent = new Agent();
    const csrf = attr(await (await agent.request(link)).text(), 'name="_csrf" value');
    const replies = await Promise.all(
      Array.from({ length: N }, (_, i) => {
        const body = new URLSearchParams({ _csrf: csrf, email: `first${i}@example.com`, name: `First ${i}`, password: 'a long enough password', password_confirm: 'a long enough password' });
        return agent.request(link, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      }),
    );
    expect(statuses(replies)).toEqual([302, ...Array(N - 1).fill(410)]);
    expect(await server.services.users.countAdmins()).toBe(1);
  });

  it('an invitation enrolls once, and its passkey grant registers one passkey', async () => {
    const ivy = await seedUser(server.services, { email: 'ivy@example.com', name: 'Ivy' });
    const { token } = await server.services.invites.create(ivy.id, ivy.id);
    const link = `${server.url}/enroll/${token}`;
    const person = new Agent();
    const agreed = await person.submit(link, await (await person.request(link)).text(), `/enroll/${token}/consent`, { agree: 'yes' });
    const csrf = attr(await agreed.res.text(), 'data-csrf');
    const photo = fixture('user-2.jpg');
    const sent = await Promise.all(Array.from({ length: N }, () => person.request(`${link}/photo`, { method: 'POST', body: photoForm(photo), headers: { 'x-csrf-token': csrf, accept: 'application/json' } })));
    expect(statuses(sent)).toEqual([200, ...Array(N - 1).fill(410)]);
    expect(await prisma().faceTemplate.count({ where: { userId: ivy.id } })).toBe(1);

    // The browser that enrolled holds the grant: parallel option requests, then parallel answers of N authenticators.
    const done = await (await person.request(`${link}/done`)).text();
    const post = (path: string, body: unknown) =>
      person.request(`${link}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': attr(done, 'data-csrf') } }).then(json);
    const options = await Promise.all(Array.from({ length: N }, () => post('/passkey/options', {})));
    expect(statuses(options)).toEqual(Array(N).fill(200));
    const answers = await Promise.all(options.map(({ body }) => post('/passkey', { response: soft().register(body.options) })));
    expect(statuses(answers)).toEqual([200, ...Array(N - 1).fill(403)]);
    expect(answers.filter((a) => a.status === 403).map((a) => a.body.error.code)).toEqual(Array(N - 1).fill('PASSKEY_GRANT_INVALID'));
    expect(await prisma().passkey.findMany({ where: { userId: ivy.id }, select: { boundWith: true } })).toEqual([{ boundWith: 'invite' }]);
  });

  it('a passkey sign-in challenge is answered once', async () => {
    const kim = await seedUser(server.services, { email: 'kim@example.com', name: 'Kim' });
    const key = soft();
    const options = await server.services.passkeys.registrationOptions(kim, 'setup', { with: 'invite' });
    await server.services.passkeys.register(kim, 'setup', key.register(options), 'Key', { kind: 'self' }, {});
    const { client, clientSecret } = await server.services.clients.create({ name: 'Portal', redirectUris: [`${APP_ORIGIN}/cb`] });
    const app = await discover(server.url, client.clientId, clientSecret!, `${APP_ORIGIN}/cb`);
    const agent = new Agent();
    const { res, url } = await agent.follow((await authorizationUrl(app, {})).url.href);
    const html = await res.text();
    const post = (path: string, body: unknown) =>
      agent.request(new URL(path, url).href, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': attr(html, 'data-csrf') } }).then(json);
    const { body } = await post(attr(html, 'data-options-url'), {});
    const answer = key.authenticate(body.options);
    const replies = await Promise.all(Array.from({ length: N }, () => post(attr(html, 'data-verify-url'), { response: answer })));
    expect(statuses(replies)).toEqual([200, ...Array(N - 1).fill(400)]);
    expect(new Set(replies.filter((r) => r.status === 400).map((r) => r.body.error.code))).toEqual(new Set(['PASSKEY_CHALLENGE_INVALID']));
    expect(await prisma().auditEvent.count({ where: { type: 'signin.passkey', outcome: 'success', userId: kim.id } })).toBe(1);
  });

  for (const [name, make] of [
    ['Redis', () => redisKeyValueStore(connectRedis(`${REDIS_URL}/11`), `single-use-${randomBytes(4).toString('hex')}:`)],
    ['memory', memoryKeyValueStore],
  ] as const) {
    describe(`in the ${name} store`, () => {
      let kv: KeyValueStore;
      beforeAll(() => {
        kv = make();
      });
      afterAll(() => kv.close());

      it('a capture token and a passkey challenge are taken once', async () => {
        const tokens = new CaptureTokens(kv);
        const token = await tokens.issue('uid-1');
        expect((await Promise.all(Array.from({ length: N * 2 }, () => tokens.consume(token, 'uid-1')))).filter(Boolean)).toHaveLength(1);
        const challenges = new Challenges(kv);
        const challenge = await challenges.issue({ kind: 'authenticate', binding: 'ix' });
        expect((await Promise.all(Array.from({ length: N * 2 }, () => challenges.take(challenge)))).filter(Boolean)).toHaveLength(1);
      });
    });
  }
});
