import http from 'node:http';
import os from 'node:os';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/acr.js';
import { Agent } from '../helpers/browserless.js';
import { createTestDatabase, freePort, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { authorizationUrl, discover, exchange, passwordSignIn, type RpClient } from '../helpers/flow.js';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/server.js';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:9/cb';
const WEB_ORIGIN = 'https://app.example.test';
const EVIL_ORIGIN = 'https://evil.example';
const METRICS_TOKEN = 'metrics-token-for-the-hardening-test';

interface Created {
  client_id: string;
  client_secret: string;
}

/** A raw request, so that Host and other headers fetch would not let us set reach the server as written. */
function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** An address of this machine that is not loopback, to reach the server as a remote visitor would. */
function externalAddress(): string | null {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

const URL_FIELDS = ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint', 'end_session_endpoint', 'introspection_endpoint', 'revocation_endpoint'];

describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('provider hardening', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  let server: ServerProcess;
  let rp: RpClient;
  let rpA: Created;
  let rpB: Created;
  let rs: Created;
  let web: { client_id: string };

  async function client(args: string[]) {
    const r = await runCli(['client', 'create', ...args, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/11`, SECRET_KEY: TEST_SECRET_KEY };
    const user = await runCli(['user', 'create', '--email', 'hard@example.com', '--name', 'Hard Ening', '--password', PASSWORD], env);
    expect(user.code, user.stderr).toBe(0);
    rpA = await client(['--name', 'App A', '--redirect-uri', REDIRECT, '--allow-password']);
    rpB = await client(['--name', 'App B', '--redirect-uri', 'https://b.example.test/cb']);
    rs = await client(['--name', 'Resource server', '--grant', 'client_credentials', '--scope', 'face:match', '--resource-server']);
    web = await client(['--name', 'SPA', '--public', '--redirect-uri', `${WEB_ORIGIN}/callback`]);
    server = await startServerProcess(env);
    rp = await discover(server.url, rpA.client_id, rpA.client_secret, REDIRECT);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('requires PKCE (S256) of confidential clients too', async () => {
    const url = new URL(`${server.url}/auth`);
    url.search = new URLSearchParams({ client_id: rpA.client_id, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT, state: 'st' }).toString();
    const { url: landed } = await new Agent().follow(url.href, {}, (u) => u.port === '9');
    const back = new URL(landed);
    expect(back.pathname).toBe('/cb');
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('error_description')).toMatch(/PKCE/);
    const plain = await authorizationUrl(rp, { code_challenge_method: 'plain' });
    const refused = new URL((await new Agent().follow(plain.url.href, {}, (u) => u.port === '9')).url);
    expect(refused.searchParams.get('error')).toBe('invalid_request');
  });

  it("answers introspection only to the token's own client and to resource servers", async () => {
    const start = await authorizationUrl(rp, { acr_values: ACR.password });
    const tokens = await exchange(rp, start, await passwordSignIn(new Agent(), start, 'hard@example.com', PASSWORD));
    const as = async (c: Created) => oidc.tokenIntrospection((await discover(server.url, c.client_id, c.client_secret, REDIRECT)).config, tokens.access_token);
    expect((await as(rpA)).active).toBe(true);
    expect(await as(rpB)).toEqual({ active: false });
    expect(await as(rs)).toMatchObject({ active: true, client_id: rpA.client_id, sub: tokens.claims()!.sub });
    const list = await runCli(['client', 'list', '--json'], env);
    const rows = JSON.parse(list.stdout) as { client_id: string; resource_server: boolean }[];
    expect(rows.find((r) => r.client_id === rs.client_id)?.resource_server).toBe(true);
    expect(rows.find((r) => r.client_id === rpB.client_id)?.resource_server).toBe(false);
    const publicRs = await runCli(['client', 'create', '--name', 'bad', '--public', '--redirect-uri', REDIRECT, '--resource-server'], env);
    expect(publicRs.code).toBe(1);
    expect(publicRs.stderr).toMatch(/resource server/i);
  });

  it("lets a client revoke its own tokens and a resource server those it may introspect, and no one else", async () => {
    const signIn = async () => {
      const start = await authorizationUrl(rp, { acr_values: ACR.password });
      return (await exchange(rp, start, await passwordSignIn(new Agent(), start, 'hard@example.com', PASSWORD))).access_token;
    };
    const revoke = (token: string, c: { client_id: string; client_secret?: string }) =>
      raw(`${server.url}/token/revocation`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, client_id: c.client_id, ...(c.client_secret ? { client_secret: c.client_secret } : {}) }).toString(),
      });
    const active = async (token: string) => (await oidc.tokenIntrospection((await discover(server.url, rs.client_id, rs.client_secret, REDIRECT)).config, token)).active;

    // Another app, authenticated: told it may not; a public app: RFC 7009's 200, and in both cases nothing revoked.
    const token = await signIn();
    const other = await revoke(token, rpB);
    expect([other.status, JSON.parse(other.body).error]).toEqual([400, 'invalid_request']);
    expect((await revoke(token, web)).status).toBe(200);
    expect(await active(token)).toBe(true);
    // The app's own token, and a token a resource server revokes.
    expect((await revoke(token, rpA)).status).toBe(200);
    expect(await active(token)).toBe(false);
    const second = await signIn();
    expect((await revoke(second, rs)).status).toBe(200);
    expect(await active(second)).toBe(false);
  });

  it('allows CORS only for origins of registered redirect URIs', async () => {
    const tokenCall = (origin: string, clientId: string) =>
      raw(`${server.url}/token`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: 'nope', redirect_uri: `${WEB_ORIGIN}/callback`, client_id: clientId, code_verifier: 'x'.repeat(43) }).toString(),
      });
    expect((await tokenCall(WEB_ORIGIN, web.client_id)).headers['access-control-allow-origin']).toBe(WEB_ORIGIN);
    const evil = await tokenCall(EVIL_ORIGIN, web.client_id);
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();

    const discovery = (origin: string) => raw(`${server.url}/.well-known/openid-configuration`, { headers: { origin } });
    expect((await discovery(WEB_ORIGIN)).headers['access-control-allow-origin']).toBe(WEB_ORIGIN);
    const evilDiscovery = await discovery(EVIL_ORIGIN);
    expect(evilDiscovery.status).toBe(200);
    expect(evilDiscovery.headers['access-control-allow-origin']).toBeUndefined();

    const preflight = (origin: string) => raw(`${server.url}/token`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    expect((await preflight(WEB_ORIGIN)).headers['access-control-allow-origin']).toBe(WEB_ORIGIN);
    expect((await preflight(EVIL_ORIGIN)).headers['access-control-allow-origin']).toBeUndefined();
    const userinfo = await raw(`${server.url}/me`, { headers: { origin: EVIL_ORIGIN, authorization: 'Bearer nope' } });
    expect(userinfo.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('publishes discovery for ISSUER whatever the Host header says', async () => {
    const res = await raw(`${server.url}/.well-known/openid-configuration`, { headers: { host: 'evil.example:1234', 'x-forwarded-host': 'evil.example' } });
    const meta = JSON.parse(res.body) as Record<string, string>;
    expect(meta.issuer).toBe(server.url);
    for (const field of URL_FIELDS) expect(meta[field], field).toMatch(new RegExp(`^${server.url}/`));
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('serves /metrics and readiness details only to the machine itself', async () => {
    expect((await raw(`${server.url}/metrics`)).status).toBe(200);
    const ready = JSON.parse((await raw(`${server.url}/readyz`)).body);
    expect(ready).toMatchObject({ status: 'ready', checks: { database: true, store: true, models: true } });
    // A proxy on the same host forwards visitors from loopback: it says so with X-Forwarded-For.
    expect((await raw(`${server.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.7' } })).status).toBe(404);
    const forwardedReady = await raw(`${server.url}/readyz`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect([forwardedReady.status, JSON.parse(forwardedReady.body)]).toEqual([200, { status: 'ready' }]);
    const external = externalAddress();
    if (!external) {
      console.warn('\n⚠ no non-loopback IPv4 address on this machine: /metrics was not tried from one.\n');
      return;
    }
    const remote = `http://${external}:${server.port}`;
    expect((await raw(`${remote}/metrics`)).status).toBe(404);
    expect(JSON.parse((await raw(`${remote}/readyz`)).body)).toEqual({ status: 'ready' });
  });
});

describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('hardening behind a TLS proxy', () => {
  const ISSUER = 'https://idp.example.test';
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: ServerProcess;
  let metricsPort: number;

  beforeAll(async () => {
    db = await createTestDatabase();
    metricsPort = await freePort();
    server = await startServerProcess({
      DATABASE_URL: db.url,
      REDIS_URL: `${REDIS_URL}/11`,
      SECRET_KEY: TEST_SECRET_KEY,
      ISSUER,
      TRUST_PROXY: '1',
      METRICS_TOKEN,
      METRICS_PORT: String(metricsPort),
    });
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('sends HSTS on every response when ISSUER is https', async () => {
    const proxied = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' };
    for (const path of ['/healthz', '/.well-known/openid-configuration', '/demo', '/no-such-page']) {
      const res = await raw(`${server.url}${path}`, { headers: proxied });
      expect(res.headers['strict-transport-security'], path).toMatch(/^max-age=31536000/);
    }
  });

  it('fixes every published URL to ISSUER, ignoring X-Forwarded-Host', async () => {
    const res = await raw(`${server.url}/.well-known/openid-configuration`, { headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http', 'x-forwarded-for': '203.0.113.7' } });
    const meta = JSON.parse(res.body) as Record<string, string>;
    expect(meta.issuer).toBe(ISSUER);
    for (const field of URL_FIELDS) expect(meta[field], field).toMatch(new RegExp(`^${ISSUER}/`));
  });

  it('serves /metrics on its own address behind the bearer token, and nothing of it on the public port', async () => {
    expect((await raw(`${server.url}/metrics`)).status).toBe(404);
    const metrics = `http://127.0.0.1:${metricsPort}/metrics`;
    const missing = await raw(metrics);
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await raw(metrics, { headers: { authorization: 'Bearer wrong-token-of-the-same-length!!!!' } })).status).toBe(401);
    const ok = await raw(metrics, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('http_request_duration_seconds');
    const details = JSON.parse((await raw(`http://127.0.0.1:${metricsPort}/readyz`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).body);
    expect(details).toMatchObject({ status: 'ready', checks: { database: true } });
    expect(JSON.parse((await raw(`${server.url}/readyz`)).body)).toEqual({ status: 'ready' });
  });
});
