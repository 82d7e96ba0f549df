import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { Agent } from '../helpers/browserless.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';

const PASSWORD = 'a long enough password';
const ADMIN_IP = '203.0.113.77';
const ADMIN_BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AdminConsoleBrowser/99.0';
const CALLER_IP = '198.51.100.23';
const CALLER_AGENT = 'backend-http-client/7.1';

/**
 * The data download (GDPR Art. 15/20) holds the person's own data: events others caused about them (an
 * administrator's action, a Face Match API call) keep their time, type and outcome, not the other party's address
 * or browser.
 */
describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('account data download', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startApp({ DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/10`, SECRET_KEY: TEST_SECRET_KEY });
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('keeps other people’s addresses and browsers out of the events about the person', async () => {
    const pat = await seedUser(server.services, { email: 'pat@example.com', name: 'Pat', password: PASSWORD });
    const admin = await seedUser(server.services, { email: 'boss@example.com', name: 'Boss', admin: true });
    await server.services.audit.record({ type: 'admin.user.update', outcome: 'success', userId: pat.id, actorId: admin.id, ip: ADMIN_IP, userAgent: ADMIN_BROWSER, details: { changed: ['name'] } });
    await server.services.audit.record({ type: 'api.match', outcome: 'failure', reason: 'DECLINED', userId: pat.id, clientId: 'backend', ip: CALLER_IP, userAgent: CALLER_AGENT, details: { similarity: 0.2 } });
    await server.services.audit.record({ type: 'passkey.remove', outcome: 'success', userId: pat.id, actorId: admin.id, ip: ADMIN_IP, userAgent: ADMIN_BROWSER, details: {} });

    // Pat has no face enrolled: the account pages accept the password alone.
    const agent = new Agent();
    let { res, url } = await agent.follow(`${server.url}/account`);
    let html = await res.text();
    ({ res, url } = await agent.submit(url, html, /action="([^"]+identify)"/.exec(html)![1], { email: 'pat@example.com' }));
    html = await res.text();
    ({ url } = await agent.submit(url, html, /action="([^"]+password)"/.exec(html)![1], { password: PASSWORD }));
    expect(new URL(url).pathname).toBe('/account');

    const download = await agent.request(`${server.url}/account/data.json`, { headers: { 'user-agent': 'PatBrowser/1.0' } });
    expect(download.status).toBe(200);
    const text = await download.text();
    for (const foreign of [ADMIN_IP, 'AdminConsoleBrowser', CALLER_IP, 'backend-http-client']) expect(text).not.toContain(foreign);
    const data = JSON.parse(text) as { activity: Record<string, unknown>[]; signIns: Record<string, unknown>[] };
    const byType = (type: string) => data.activity.find((e) => e.type === type)!;
    expect(byType('admin.user.update')).toEqual({ at: expect.any(String), type: 'admin.user.update', outcome: 'success', reason: null, app: null, by: 'an administrator' });
    expect(byType('api.match')).toEqual({ at: expect.any(String), type: 'api.match', outcome: 'failure', reason: 'DECLINED', app: 'backend', by: 'a service' });
    expect(byType('passkey.remove')).not.toHaveProperty('ip');
    // The person's own requests keep theirs.
    expect(byType('account.signin')).toMatchObject({ ip: expect.any(String) });
    expect(data.signIns[0]).toMatchObject({ method: 'Password', outcome: 'success', ip: expect.any(String) });
  });
});
