import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../helpers/browserless.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { passwordSignIn } from '../helpers/flow.js';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/server.js';

const PASSWORD = 'correct horse battery staple';
const EMAIL = 'mallory@example.com';

describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('built-in relying parties bind a sign-in to the browser that started it', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: ServerProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/12`, SECRET_KEY: TEST_SECRET_KEY };
    const user = await runCli(['user', 'create', '--email', EMAIL, '--name', 'Mallory', '--password', PASSWORD], env);
    expect(user.code, user.stderr).toBe(0);
    server = await startServerProcess(env);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  /** Starts a sign-in at the app in `agent` and returns the provider URL it redirects to. */
  async function start(agent: Agent, app: 'demo' | 'admin') {
    const res = await agent.request(`${server.url}/${app}/login`);
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location')!, server.url);
  }

  it('refuses a demo callback started in another browser (login CSRF), and completes one started in this browser', async () => {
    const attacker = new Agent();
    const callback = await passwordSignIn(attacker, { url: await start(attacker, 'demo') }, EMAIL, PASSWORD, undefined, '/demo/callback');
    // The attacker's finished sign-in, replayed in the victim's browser, must not sign the victim in as the attacker.
    const victim = new Agent();
    await victim.request(`${server.url}/demo`);
    const planted = await victim.request(callback.href);
    const body = await planted.text();
    console.log(`callbacks started in another browser that signed in: ${planted.status === 302 ? 1 : 0} of 1`);
    expect(planted.status).toBe(400);
    expect(body).toContain('SIGN_IN_OTHER_BROWSER');
    expect(await (await victim.request(`${server.url}/demo`)).text()).not.toContain('data-testid="demo-name"');

    const own = await passwordSignIn(attacker, { url: await start(attacker, 'demo') }, EMAIL, PASSWORD, undefined, '/demo/callback');
    const done = await attacker.request(own.href);
    expect([done.status, done.headers.get('location')]).toEqual([302, '/demo']);
    expect(await (await attacker.request(`${server.url}/demo`)).text()).toContain('data-testid="demo-name"');
  });

  it("refuses an admin console callback whose state belongs to another browser's sign-in", async () => {
    const first = new Agent();
    const state = (await start(first, 'admin')).searchParams.get('state')!;
    const other = new Agent();
    const res = await other.request(`${server.url}/admin/callback?code=anything&state=${encodeURIComponent(state)}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('SIGN_IN_OTHER_BROWSER');
  });
});
