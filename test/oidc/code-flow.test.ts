import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/acr.js';
import { Agent } from '../helpers/browserless.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY, uniqueRedisPrefix } from '../helpers/env.js';
import { authorizationUrl, discover, exchange, passwordSignIn, type RpClient } from '../helpers/flow.js';
import { startApp } from '../helpers/app.js';
import { runCli, startServerProcess } from '../helpers/server.js';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:9/cb';

describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('OIDC code flow on PostgreSQL + Redis', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  /** In-process at first; the restart tests replace it with `face-oidc start` processes. */
  let server: { url: string; port: number; stop(): Promise<unknown> };
  let rp: RpClient;
  let clientId: string;
  let clientSecret: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/3`, REDIS_KEY_PREFIX: uniqueRedisPrefix(), SECRET_KEY: TEST_SECRET_KEY };
    const app = await startApp(env);
    server = app;
    await app.services.accounts.create({ email: 'alice@example.com', name: 'Alice Example', password: PASSWORD });
    const created = await app.services.clients.create({ name: 'Test RP', redirectUris: [REDIRECT], postLogoutRedirectUris: ['http://127.0.0.1:9/bye'], allowPasswordOnly: true });
    clientId = created.client.clientId;
    clientSecret = created.clientSecret!;
    rp = await discover(server.url, clientId, clientSecret, REDIRECT);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('advertises the product acr values, amr/acr claims and S256 PKCE', async () => {
    const meta = rp.config.serverMetadata();
    expect(meta.acr_values_supported).toEqual([ACR.password, ACR.facePassive, ACR.face, ACR.mfa, ACR.passkey]);
    expect(meta.claims_supported).toEqual(expect.arrayContaining(['sub', 'acr', 'amr', 'auth_time', 'email', 'name']));
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']));
  });

  it('signs in with a password: signed ID token with amr pwd and acr, refresh with rotation, introspection, revocation, logout', async () => {
    const agent = new Agent();
    const start = await authorizationUrl(rp, { acr_values: ACR.password });
    const callback = await passwordSignIn(agent, start, 'alice@example.com', PASSWORD);
    const tokens = await exchange(rp, start, callback);

    const jwks = createRemoteJWKSet(new URL(`${server.url}/jwks`));
    const { payload } = await jwtVerify(tokens.id_token!, jwks, { issuer: server.url, audience: clientId });
    expect(payload.amr).toEqual(['pwd']);
    expect(payload.acr).toBe(ACR.password);
    expect(typeof payload.auth_time).toBe('number');
    // Scope claims come from userinfo when an access token is issued (OIDC Core 5.4).
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, payload.sub!);
    expect(info).toMatchObject({ email: 'alice@example.com', email_verified: true, name: 'Alice Example', preferred_username: 'alice@example.com' });

    // Refresh tokens rotate: the new one works, the old one is refused.
    const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    const active = await oidc.tokenIntrospection(rp.config, refreshed.access_token);
    expect(active.active).toBe(false); // reusing a rotated refresh token revoked the whole grant

    // A fresh sign-in, then revocation of its access token.
    const agent2 = new Agent();
    const start2 = await authorizationUrl(rp, { acr_values: ACR.password });
    const tokens2 = await exchange(rp, start2, await passwordSignIn(agent2, start2, 'alice@example.com', PASSWORD));
    expect((await oidc.tokenIntrospection(rp.config, tokens2.access_token)).active).toBe(true);
    await oidc.tokenRevocation(rp.config, tokens2.access_token);
    expect((await oidc.tokenIntrospection(rp.config, tokens2.access_token)).active).toBe(false);

    // RP-initiated logout ends the provider session.
    const logoutUrl = oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens2.id_token!, post_logout_redirect_uri: 'http://127.0.0.1:9/bye' });
    const { res, url } = await agent2.follow(logoutUrl.href);
    const html = await res.text();
    expect(html).toContain('data-testid="logout-confirm"');
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1];
    const action = /action="([^"]+)"/.exec(html)![1];
    const done = await agent2.follow(new URL(action, url).href, { method: 'POST', body: new URLSearchParams({ xsrf, logout: 'yes' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (u) => u.port === '9');
    expect(done.url).toBe('http://127.0.0.1:9/bye');
    // Signed out: a prompt=none request now needs a login.
    const silent = await authorizationUrl(rp, { prompt: 'none' });
    const after = await agent2.follow(silent.url.href, {}, (u) => u.port === '9');
    expect(new URL(after.url).searchParams.get('error')).toBe('login_required');
  });

  it('refuses bad input with standard errors and no stack traces', async () => {
    const agent = new Agent();
    // Unknown client: an error page, not a redirect.
    const unknown = await agent.follow(`${server.url}/auth?client_id=nope&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}`);
    expect(unknown.res.status).toBe(400);
    const unknownHtml = await unknown.res.text();
    expect(unknownHtml).toContain('invalid_client');
    expect(unknownHtml).not.toMatch(/at .*\.js:\d+/);

    // Redirect URI not registered: an error page, never a redirect to it.
    const badRedirect = await authorizationUrl(rp, { redirect_uri: 'https://evil.example/cb' });
    const bad = await agent.follow(badRedirect.url.href, {}, () => true);
    expect(bad.res.status).toBe(400);
    expect(await bad.res.text()).toContain('redirect_uri');

    // Wrong PKCE verifier and a replayed code: invalid_grant.
    const start = await authorizationUrl(rp, { acr_values: ACR.password });
    const callback = await passwordSignIn(agent, start, 'alice@example.com', PASSWORD);
    await expect(exchange(rp, { ...start, verifier: oidc.randomPKCECodeVerifier() }, callback)).rejects.toMatchObject({ error: 'invalid_grant' });
    const start2 = await authorizationUrl(rp, { acr_values: ACR.password });
    const callback2 = await passwordSignIn(agent, start2, 'alice@example.com', PASSWORD);
    await exchange(rp, start2, callback2);
    await expect(exchange(rp, start2, callback2)).rejects.toMatchObject({ error: 'invalid_grant' });

    // An expired or unknown interaction: a clear page.
    const expired = await agent.request(`${server.url}/interaction/does-not-exist`);
    expect(expired.status).toBe(400);
    expect(await expired.text()).toContain('INTERACTION_EXPIRED');
  });

  it('keeps signing keys and sessions across a restart, and completes an authorization on another instance', async () => {
    const agent = new Agent();
    const start = await authorizationUrl(rp, { acr_values: ACR.password });
    const tokens = await exchange(rp, start, await passwordSignIn(agent, start, 'alice@example.com', PASSWORD));
    const kid = decodeProtectedHeader(tokens.id_token!).kid;

    await server.stop();
    server = await startServerProcess(env, { port: server.port });
    const jwks = (await (await fetch(`${server.url}/jwks`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toContain(kid);
    // The provider session (Redis) survived: prompt=none succeeds without signing in again.
    const silent = await authorizationUrl(rp, { prompt: 'none', acr_values: ACR.password });
    const back = await agent.follow(silent.url.href, {}, (u) => u.port === '9');
    expect(new URL(back.url).searchParams.get('code')).toBeTruthy();
    const again = await exchange(rp, silent, new URL(back.url));
    expect(decodeProtectedHeader(again.id_token!).kid).toBe(kid);

    // Two instances sharing PostgreSQL and Redis: start on one, finish on the other.
    const second = await startServerProcess({ ...env, ISSUER: server.url });
    try {
      const fresh = new Agent();
      const start2 = await authorizationUrl(rp, { acr_values: ACR.password });
      const callback = await passwordSignIn(fresh, start2, 'alice@example.com', PASSWORD, second.url);
      const t = await exchange(rp, start2, callback);
      expect(t.claims()!.amr).toEqual(['pwd']);
    } finally {
      await second.stop();
    }
  });

  it('issues client_credentials tokens limited to the registered scopes', async () => {
    const created = await runCli(['client', 'create', '--name', 'Backend', '--grant', 'client_credentials', '--scope', 'face:match', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    const { client_id, client_secret } = JSON.parse(created.stdout);
    const backend = await discover(server.url, client_id, client_secret, REDIRECT);
    const token = await oidc.clientCredentialsGrant(backend.config, { scope: 'face:match' });
    expect(token.scope).toBe('face:match');
    expect(await oidc.tokenIntrospection(backend.config, token.access_token)).toMatchObject({ active: true, client_id, scope: 'face:match' });
    await expect(oidc.clientCredentialsGrant(backend.config, { scope: 'openid' })).rejects.toMatchObject({ error: 'invalid_scope' });
  });
});
