import { createServer, type Server } from 'node:http';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/acr.js';
import { RETRY_DELAYS } from '../../src/oidc/backchannel.js';
import { faceSignIn } from '../admin/helpers.js';
import { seedUser, startApp, type TestApp } from '../helpers/app.js';
import { Agent } from '../helpers/browserless.js';
import { ForcedChallenges, newSitting, RECORDING_FACE, recordingFrames } from '../helpers/challenge.js';
import { createTestDatabase, freePort, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY, uniqueRedisPrefix } from '../helpers/env.js';
import { authorizationUrl, discover, exchange, passwordSignIn, signIn, type RpClient } from '../helpers/flow.js';
import { ROOT, runCli } from '../helpers/server.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ADMIN = 'ada@example.com';
const PERSON = 'pat@example.com';
const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:9/cb';
const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'backchannel-logout');

interface Received {
  /** Which of the test RP's endpoints it reached (one per registered app). */
  app: string;
  at: number;
  header: Record<string, unknown>;
  claims: JWTPayload;
  token: string;
}

/**
 * A relying party's back-channel logout endpoint (Back-Channel Logout 1.0 §2.5–2.8): takes `logout_token` from a
 * form POST, verifies its signature against the provider's JWKS, its iss, aud, typ and the required claims, and
 * answers 200 — or 400 to a token it refuses. It can be down (not listening) and come up later on the same port.
 */
class TestRp {
  readonly received: Received[] = [];
  readonly refused: string[] = [];
  private server: Server | null = null;

  constructor(
    readonly port: number,
    private readonly issuer: string,
    private readonly audiences: Record<string, string>,
  ) {}

  uri(app: string) {
    return `http://127.0.0.1:${this.port}/backchannel/${app}`;
  }

  private async verify(app: string, token: string): Promise<Received> {
    const jwks = createRemoteJWKSet(new URL(`${this.issuer}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: this.issuer, audience: this.audiences[app], typ: 'logout+jwt', maxTokenAge: 120 });
    const events = payload.events as Record<string, unknown> | undefined;
    if (!events || typeof events[EVENT] !== 'object') throw new Error('no back-channel logout event');
    if (!payload.sub && !payload.sid) throw new Error('neither sub nor sid');
    if ('nonce' in payload) throw new Error('a logout token must not contain a nonce');
    if (typeof payload.jti !== 'string' || typeof payload.iat !== 'number') throw new Error('jti and iat are required');
    return { app, at: Date.now(), header: { ...protectedHeader }, claims: payload, token };
  }

  async up(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const app = /^\/backchannel\/(\w+)$/.exec(req.url ?? '')?.[1];
        const token = new URLSearchParams(body).get('logout_token');
        if (req.method !== 'POST' || !app || !token || req.headers['content-type'] !== 'application/x-www-form-urlencoded') {
          res.writeHead(400).end();
          return;
        }
        this.verify(app, token).then(
          (received) => {
            this.received.push(received);
            res.writeHead(200, { 'cache-control': 'no-store' }).end();
          },
          (err: Error) => {
            this.refused.push(err.message);
            res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_request' }));
          },
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Waits for the next logout token(s) at `app` after index `from`; throws after `timeoutMs`. */
  async next(app: string, from: number, timeoutMs: number): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.slice(from).find((r) => r.app === app);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no logout token reached ${app} within ${timeoutMs} ms (refused: ${this.refused.join('; ') || 'none'})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Back-channel logout on PostgreSQL + Redis with two instances: the person signs in on one, the administrator and the
 * account page act on the other, and a test RP verifies every logout token it receives.
 */
describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('back-channel logout across two instances', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  let first: TestApp;
  let second: TestApp;
  let rp: TestRp;
  /** Ledger requires `sid` in its logout tokens; Wiki does not. */
  let ledger: RpClient;
  let wiki: RpClient;
  const ids: Record<string, string> = {};
  let personId: string;
  const admin = new Agent();
  const forced = new ForcedChallenges();

  /** The person signs in to `app` with the password in `agent`'s browser (on the first instance); returns the ID token claims. */
  async function appSignIn(app: RpClient, agent: Agent) {
    const start = await authorizationUrl(app);
    const tokens = await exchange(app, start, await passwordSignIn(agent, start, PERSON, PASSWORD));
    return tokens.claims()!;
  }

  /** Signs `agent` in to the account page on the second instance, with the password or the face challenge. */
  async function accountSignIn(agent: Agent, how: 'password' | 'face') {
    if (how === 'face') {
      await newSitting(second.services.kv, personId);
      const { url } = await faceSignIn(agent, `${second.url}/account/login`, PERSON, readFileSync(RECORDING_FACE), recordingFrames());
      expect(new URL(url).pathname).toBe('/account');
      return;
    }
    const callback = await signIn(agent, { url: new URL(`${second.url}/account/login`) }, { email: PERSON, password: PASSWORD }, undefined, '/account/callback');
    const { url } = await agent.follow(callback.href);
    expect(new URL(url).pathname).toBe('/account');
  }

  /** Posts an account or console form with the page's CSRF token; returns the final URL and status. */
  async function post(agent: Agent, from: string, action: string, fields: Record<string, string> = {}) {
    const html = await (await agent.request(`${second.url}${from}`)).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const started = Date.now();
    const { res, url } = await agent.follow(`${second.url}${action}`, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, ...fields }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    return { status: res.status, url, started, html: await res.text() };
  }

  const audits = (type: string) => first.services.db.prisma.auditEvent.findMany({ where: { type, userId: personId }, orderBy: { id: 'asc' } });
  const queued = () => first.services.db.prisma.backchannelLogout.count();

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/8`, REDIS_KEY_PREFIX: uniqueRedisPrefix(), SECRET_KEY: TEST_SECRET_KEY };
    first = await startApp(env, { drawChallenge: forced.draw });
    second = await startApp({ ...env, ISSUER: first.url }, { drawChallenge: forced.draw });
    rp = new TestRp(await freePort(), first.url, ids);
    await rp.up();
    await seedUser(first.services, { email: ADMIN, name: 'Ada Admin', admin: true, photos: [RECORDING_FACE] });
    personId = (await seedUser(first.services, { email: PERSON, name: 'Pat Person', password: PASSWORD, photos: [RECORDING_FACE] })).id;
    const register = async (name: string, sessionRequired: boolean) => {
      const { client, clientSecret } = await first.services.clients.create({
        name,
        redirectUris: [REDIRECT],
        firstParty: true,
        allowPasswordOnly: true,
        backchannelLogoutUri: rp.uri(name.toLowerCase()),
        backchannelLogoutSessionRequired: sessionRequired,
      });
      ids[name.toLowerCase()] = client.clientId;
      return discover(first.url, client.clientId, clientSecret!, REDIRECT);
    };
    ledger = await register('Ledger', true);
    wiki = await register('Wiki', false);
    const adminId = (await first.services.users.byEmail(ADMIN))!.id;
    await newSitting(second.services.kv, adminId);
    const { url } = await faceSignIn(admin, `${second.url}/admin/login?next=/admin/users`, ADMIN, readFileSync(RECORDING_FACE), recordingFrames());
    expect(new URL(url).pathname).toBe('/admin/users');
  });

  afterAll(async () => {
    await rp?.down();
    await Promise.all([first?.stop(), second?.stop()]);
    await db?.drop();
  });

  it('advertises back-channel logout with sid in discovery, and the apps carry their settings', async () => {
    const meta = ledger.config.serverMetadata();
    expect(meta.backchannel_logout_supported).toBe(true);
    expect(meta.backchannel_logout_session_supported).toBe(true);
    const client = await first.services.provider.Client.find(ids.ledger);
    expect([client?.backchannelLogoutUri, client?.backchannelLogoutSessionRequired]).toEqual([rp.uri('ledger'), true]);
  });

  it("tells every app within 5 s of an administrator disabling the account: sid where the app asked for it, signed with the provider's key", async () => {
    const browser = new Agent();
    const atLedger = await appSignIn(ledger, browser);
    const atWiki = await appSignIn(wiki, browser);
    expect(atLedger.sid).toEqual(expect.any(String));
    const from = rp.received.length;

    const { status, url, started } = await post(admin, `/admin/users/${personId}`, `/admin/users/${personId}/status`, { status: 'disabled' });
    expect([status, new URL(url).search]).toEqual([200, '?done=user-disabled']);
    const [toLedger, toWiki] = await Promise.all([rp.next('ledger', from, 5000), rp.next('wiki', from, 5000)]);
    expect(toLedger.at - started).toBeLessThan(5000);
    expect(toWiki.at - started).toBeLessThan(5000);

    expect(toLedger.header).toMatchObject({ typ: 'logout+jwt', alg: 'RS256', kid: expect.any(String) });
    expect(toLedger.claims).toEqual({
      iss: first.url,
      aud: ids.ledger,
      sub: personId,
      sid: atLedger.sid,
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.any(String),
      events: { [EVENT]: {} },
    });
    expect(toLedger.claims.exp! - toLedger.claims.iat!).toBeLessThanOrEqual(120);
    // Wiki did not ask for sid: its token names the person only.
    expect(toWiki.claims).toMatchObject({ aud: ids.wiki, sub: atWiki.sub, events: { [EVENT]: {} } });
    expect(toWiki.claims).not.toHaveProperty('sid');
    expect(decodeProtectedHeader(toWiki.token).kid).toBe(toLedger.header.kid);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(path.join(ARTIFACTS, 'logout-tokens.json'), `${JSON.stringify([toLedger, toWiki].map(({ app, at, header, claims, token }) => ({ app, msAfterDisable: at - started, header, claims, token })), null, 2)}\n`);

    await expect.poll(() => audits('oidc.backchannel_logout'), { timeout: 5000 }).toHaveLength(2);
    expect((await audits('oidc.backchannel_logout')).map((e) => [e.clientId, e.outcome, e.details])).toEqual(
      expect.arrayContaining([
        [ids.ledger, 'success', { reason: 'account.disable', attempt: 1, sid: true }],
        [ids.wiki, 'success', { reason: 'account.disable', attempt: 1, sid: false }],
      ]),
    );
    expect(await queued()).toBe(0);
    // Operators see deliveries per instance in /metrics; the two instances together delivered both.
    const delivered = async (url: string) => Number(/backchannel_logout_attempts_total\{outcome="delivered"\} (\d+)/.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? 0);
    expect((await delivered(first.url)) + (await delivered(second.url))).toBe(2);
    expect((await post(admin, `/admin/users/${personId}`, `/admin/users/${personId}/status`, { status: 'active' })).status).toBe(200);
  });

  it('retries while the app is down and delivers once it is up; each failed attempt is in the audit log', async () => {
    const before = (await audits('oidc.backchannel_logout')).length;
    const atLedger = await appSignIn(ledger, new Agent());
    await rp.down();
    const from = rp.received.length;
    const { status } = await post(admin, `/admin/users/${personId}/sessions`, `/admin/users/${personId}/sessions/revoke-all`);
    expect(status).toBe(200);
    // The first attempt fails at once (connection refused) and is recorded; the notice waits in the queue.
    await expect.poll(async () => (await audits('oidc.backchannel_logout')).slice(before).filter((e) => e.outcome === 'failure').length, { timeout: 5000 }).toBeGreaterThan(0);
    expect(await queued()).toBe(1);
    await new Promise((r) => setTimeout(r, 2500));
    await rp.up();
    const late = await rp.next('ledger', from, (RETRY_DELAYS[0] + RETRY_DELAYS[1] + RETRY_DELAYS[2]) * 1000 + 5000);
    expect(late.claims).toMatchObject({ sub: personId, sid: atLedger.sid, aud: ids.ledger });

    // The app answers before the provider records the success.
    await expect.poll(async () => (await audits('oidc.backchannel_logout')).at(-1)?.outcome, { timeout: 5000 }).toBe('success');
    const events = (await audits('oidc.backchannel_logout')).slice(before);
    const failures = events.filter((e) => e.outcome === 'failure');
    expect(failures[0]).toMatchObject({ clientId: ids.ledger, reason: 'will_retry', details: { reason: 'session.revoke', attempt: 1, retryInSeconds: RETRY_DELAYS[0], error: expect.any(String) } });
    expect(failures.map((e) => e.details)).toEqual(failures.map((_, i) => expect.objectContaining({ attempt: i + 1, retryInSeconds: RETRY_DELAYS[i] })));
    expect(events.at(-1)).toMatchObject({ outcome: 'success', details: { reason: 'session.revoke', attempt: failures.length + 1 } });
    expect(await queued()).toBe(0);
  });

  it("sends it when the person signs out of the provider from the account page (RP-initiated logout), without waiting for the app", async () => {
    const browser = new Agent();
    await accountSignIn(browser, 'password');
    const atLedger = await appSignIn(ledger, browser);
    const from = rp.received.length;

    const { url, html } = await post(browser, '/account', '/account/logout');
    // The provider's end_session asks whether to sign out of face-oidc too; "Yes" ends the session for every app in it.
    const form = /<form id="op.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"\/>/.exec(html);
    expect(form, `${url}: ${html.slice(0, 300)}`).not.toBeNull();
    const done = await browser.follow(new URL(form![1], url).href.replace(first.url, second.url), {
      method: 'POST',
      body: new URLSearchParams({ xsrf: form![2], logout: 'yes' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(new URL(done.url).pathname).toBe('/account/signed-out');
    const received = await rp.next('ledger', from, 5000);
    expect(received.claims).toMatchObject({ sub: personId, sid: atLedger.sid });
    await expect.poll(async () => (await audits('oidc.backchannel_logout')).at(-1), { timeout: 5000 }).toMatchObject({ outcome: 'success', details: { reason: 'signout', sid: true } });
  });

  it("sends it when the person revokes the app on the account page; the account page and other apps stay signed in", async () => {
    const browser = new Agent();
    await accountSignIn(browser, 'password');
    const atLedger = await appSignIn(ledger, browser);
    await appSignIn(wiki, browser);
    const home = await (await browser.request(`${second.url}/account`)).text();
    expect(home).toContain(`data-client-id="${ids.ledger}"`);
    const from = rp.received.length;

    const { url } = await post(browser, '/account', `/account/apps/${ids.ledger}/revoke`);
    expect(new URL(url).search).toBe('?done=app-revoked');
    const received = await rp.next('ledger', from, 5000);
    expect(received.claims).toMatchObject({ sub: personId, sid: atLedger.sid, aud: ids.ledger });
    await new Promise((r) => setTimeout(r, 1000));
    expect(rp.received.slice(from).map((r) => r.app)).toEqual(['ledger']);
    const after = await browser.request(`${second.url}/account`);
    expect(after.status).toBe(200);
    expect(await after.text()).not.toContain(`data-client-id="${ids.ledger}"`);
    const [revoked] = await second.services.audit.list({ userId: personId, type: 'account.app.revoke' }, 1);
    expect(revoked).toMatchObject({ clientId: ids.ledger, details: { grants: 1 } });
  });

  it('sends it to the apps signed in with the face when the person withdraws the biometric consent; the account page stays', async () => {
    const browser = new Agent();
    await accountSignIn(browser, 'face');
    // The app joins the face-verified provider session without a new sign-in.
    const start = await authorizationUrl(ledger);
    const claims = (await exchange(ledger, start, await signIn(browser, start, { email: PERSON }))).claims()!;
    expect(claims).toMatchObject({ acr: ACR.face, amr: ['face', 'liveness'] });
    const from = rp.received.length;

    const { url } = await post(browser, '/account/face/withdraw', '/account/face/withdraw', { confirm: 'yes' });
    expect(new URL(url).search).toBe('?done=consent-withdrawn');
    const received = await rp.next('ledger', from, 5000);
    expect(received.claims).toMatchObject({ sub: personId, sid: claims.sid });
    await expect.poll(async () => (await audits('oidc.backchannel_logout')).at(-1), { timeout: 5000 }).toMatchObject({ outcome: 'success', details: { reason: 'consent.withdraw' } });
    expect((await browser.request(`${second.url}/account`)).status).toBe(200);
    expect(await first.services.db.prisma.faceTemplate.count({ where: { userId: personId } })).toBe(0);
  });

  it('registers the URI in the console and from the CLI, refusing one that is not https with a clear message', async () => {
    const form = (fields: Record<string, string>) =>
      post(admin, '/admin/apps/new', '/admin/apps', { name: 'Console app', redirect_uris: REDIRECT, grant_types: 'authorization_code', scopes: 'openid', client_type: 'confidential', ...fields });
    const refused = await form({ backchannel_logout_uri: 'http://rp.example/bcl', backchannel_logout_session_required: 'on' });
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('Back-channel logout URI &#34;http://rp.example/bcl&#34; must use https (http only to localhost or a loopback address).');
    expect(refused.html).toContain('value="http://rp.example/bcl"');
    const saved = await form({ backchannel_logout_uri: 'https://rp.example/bcl', backchannel_logout_session_required: 'on' });
    expect(saved.status).toBe(200);
    const stored = await first.services.db.prisma.client.findFirst({ where: { name: 'Console app' } });
    expect(stored).toMatchObject({ backchannelLogoutUri: 'https://rp.example/bcl', backchannelLogoutSessionRequired: true });
    const shown = await (await admin.request(`${second.url}/admin/apps/${encodeURIComponent(stored!.clientId)}`)).text();
    expect(shown).toContain('value="https://rp.example/bcl"');

    const cliEnv = { ...env, ISSUER: first.url };
    const bad = await runCli(['client', 'backchannel-logout', '--client-id', stored!.clientId, '--backchannel-logout-uri', 'https://rp.example/bcl#frag'], cliEnv);
    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stderr.trim().split('\n').at(-1)).toBe('face-oidc client backchannel-logout: back-channel logout URI "https://rp.example/bcl#frag" must not contain a fragment');
    const on = await runCli(['client', 'backchannel-logout', '--client-id', stored!.clientId, '--backchannel-logout-uri', rp.uri('console'), '--backchannel-logout-session-required', '--json'], cliEnv);
    expect(on.code, on.stderr).toBe(0);
    expect(JSON.parse(on.stdout)).toMatchObject({ backchannel_logout_uri: rp.uri('console'), backchannel_logout_session_required: true });
    const created = await runCli(['client', 'create', '--name', 'CLI app', '--redirect-uri', REDIRECT, '--backchannel-logout-uri', 'https://cli.example/bcl', '--json'], cliEnv);
    expect(created.code, created.stderr).toBe(0);
    expect(await first.services.db.prisma.client.findUnique({ where: { clientId: JSON.parse(created.stdout).client_id } })).toMatchObject({ backchannelLogoutUri: 'https://cli.example/bcl', backchannelLogoutSessionRequired: false });
    // Three CLI processes, each opening the database: slow on a loaded machine.
  }, 180_000);

  it('delivers a notice whose instance died mid-delivery from another instance once its claim runs out', async () => {
    // The first instance stops draining (as if it had crashed); a notice it had claimed is left with its lease.
    await first.services.logouts.stop();
    const from = rp.received.length;
    await first.services.db.prisma.backchannelLogout.create({
      data: { clientId: ids.ledger, accountId: personId, sid: 'sid-of-a-lost-session', reason: 'account.disable', attempts: 1, dueAt: new Date(Date.now() + 1500) },
    });
    const received = await rp.next('ledger', from, 8000);
    expect(received.claims).toMatchObject({ sub: personId, sid: 'sid-of-a-lost-session' });
    await expect.poll(async () => (await audits('oidc.backchannel_logout')).at(-1), { timeout: 5000 }).toMatchObject({ outcome: 'success', details: { reason: 'account.disable', attempt: 2 } });
    expect(await queued()).toBe(0);
  });

  it('gives up after the fifth attempt, recording the final failure, and drops notices of apps that stopped listening', async () => {
    const { client } = await first.services.clients.create({ name: 'Gone', redirectUris: [REDIRECT], backchannelLogoutUri: `http://127.0.0.1:${await freePort()}/bcl` });
    const queue = first.services.db.prisma.backchannelLogout;
    // A notice on its last attempt (four failed before), and one for an app that no longer listens.
    await queue.create({ data: { clientId: client.clientId, accountId: personId, sid: null, reason: 'account.delete', attempts: RETRY_DELAYS.length, dueAt: new Date() } });
    await first.services.clients.update(ids.wiki, { backchannelLogoutUri: null });
    await queue.create({ data: { clientId: ids.wiki, accountId: personId, sid: null, reason: 'account.delete', dueAt: new Date() } });
    await expect.poll(() => queue.count(), { timeout: 8000 }).toBe(0);
    const [last] = await first.services.audit.list({ userId: personId, clientId: client.clientId, type: 'oidc.backchannel_logout' }, 1);
    expect(last).toMatchObject({ outcome: 'failure', reason: 'gave_up', details: { reason: 'account.delete', attempt: RETRY_DELAYS.length + 1, retryInSeconds: null, error: expect.any(String) } });
    expect(await first.services.audit.count({ userId: personId, clientId: ids.wiki, type: 'oidc.backchannel_logout', outcome: 'failure' })).toBe(0);
    expect(await (await fetch(`${second.url}/metrics`)).text()).toMatch(/backchannel_logout_attempts_total\{outcome="gave_up"\} 1/);
  });
});
