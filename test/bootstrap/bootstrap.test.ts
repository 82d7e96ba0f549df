import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../helpers/browserless.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { faceSignIn, fixture, photoForm } from '../admin/helpers.js';
import { readFileSync } from 'node:fs';
import { ForcedChallenges, RECORDING_FACE, recordingFrames } from '../helpers/challenge.js';

describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('first administrator', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    // The console's sign-in is the head-movement challenge: the first admin is the person of the recorded "up, right".
    server = await startApp({ DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/6`, SECRET_KEY: TEST_SECRET_KEY }, { drawChallenge: new ForcedChallenges().draw });
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('goes from the bootstrap link through face enrollment into the admin console', async () => {
    const link = (await server.bootstrapLink())!.replace(/^http:\/\/localhost:\d+/, server.url);
    const agent = new Agent();
    const form = await agent.request(link);
    const created = await agent.submit(link, await form.text(), new URL(link).pathname, {
      email: 'first@example.com',
      name: 'First Admin',
      password: 'a long enough password',
      password_confirm: 'a long enough password',
    });
    // The new admin lands on their own enrollment: the notice first.
    expect(new URL(created.url).pathname).toMatch(/^\/enroll\/[\w-]{40,}$/);
    const notice = await created.res.text();
    expect(notice).toContain('Hello <strong>First Admin</strong>');
    const agreed = await agent.submit(created.url, notice, /action="([^"]+consent)"/.exec(notice)![1], { agree: 'yes' });
    const capture = await agreed.res.text();
    const photoUrl = new URL(/data-photo-url="([^"]+)"/.exec(capture)![1], created.url).href;
    const sent = await agent.request(photoUrl, { method: 'POST', body: photoForm(readFileSync(RECORDING_FACE)), headers: { 'x-csrf-token': /data-csrf="([^"]+)"/.exec(capture)![1], accept: 'application/json' } });
    expect(sent.status).toBe(200);
    const done = await agent.follow(new URL((await sent.json()).redirect, created.url).href);
    expect(await done.res.text()).toContain('data-testid="admin-open"');

    const signedIn = await faceSignIn(agent, `${server.url}/admin/login`, 'first@example.com', fixture('admin-2.jpg'), recordingFrames());
    expect(new URL(signedIn.url).pathname).toBe('/admin/users');
    expect(await signedIn.res.text()).toContain('data-testid="admin-name">First Admin');
  });
});
