import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Adapter } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdapterFactory } from '../../src/oidc/adapter.js';
import { ACR } from '../../src/oidc/acr.js';
import { connectRedis } from '../../src/store/kv.js';
import { Agent } from '../helpers/browserless.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { authorizationUrl, discover, exchange, passwordSignIn } from '../helpers/flow.js';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/server.js';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:9/cb';
/** Requests in flight at once, all presenting the same refresh token. */
const BURST = 50;

interface TestClient {
  client_id: string;
  client_secret: string;
}

function basic(client: TestClient) {
  return `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`;
}

async function post(server: ServerProcess, endpoint: string, client: TestClient, params: Record<string, string>) {
  const res = await fetch(`${server.url}${endpoint}`, {
    method: 'POST',
    headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/**
 * One refresh token redeemed by BURST parallel /token requests (RFC 9700 §4.14): exactly one rotation may win,
 * and the reuse the others represent revokes the grant, so the winner's new tokens stop working too.
 */
function refreshReuse(label: string, setup: () => Promise<{ env: Record<string, string>; cleanup(): Promise<void> }>) {
  describe(`refresh token reuse on ${label}`, () => {
    let server: ServerProcess;
    let client: TestClient;
    let cleanup: () => Promise<void>;
    const email = `reuse-${randomBytes(4).toString('hex')}@example.com`;

    beforeAll(async () => {
      const ready = await setup();
      cleanup = ready.cleanup;
      const user = await runCli(['user', 'create', '--email', email, '--name', 'Reuse Test', '--password', PASSWORD], ready.env);
      expect(user.code, user.stderr).toBe(0);
      const created = await runCli(['client', 'create', '--name', 'Reuse RP', '--redirect-uri', REDIRECT, '--allow-password', '--json'], ready.env);
      expect(created.code, created.stderr).toBe(0);
      client = JSON.parse(created.stdout);
      server = await startServerProcess(ready.env);
    });

    afterAll(async () => {
      await server?.stop();
      await cleanup?.();
    });

    it(`lets exactly one of ${BURST} concurrent redemptions rotate the token and revokes the grant`, async () => {
      const rp = await discover(server.url, client.client_id, client.client_secret, REDIRECT);
      const start = await authorizationUrl(rp, { acr_values: ACR.password });
      const tokens = await exchange(rp, start, await passwordSignIn(new Agent(), start, email, PASSWORD));
      expect(tokens.refresh_token).toBeTruthy();

      const results = await Promise.all(
        Array.from({ length: BURST }, () => post(server, '/token', client, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! })),
      );
      const winners = results.filter((r) => r.status === 200);
      console.log(`concurrent refresh redemptions that succeeded (${label}): ${winners.length} of ${BURST}`);
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => r.status !== 200).every((r) => r.status === 400 && r.body.error === 'invalid_grant')).toBe(true);

      const won = winners[0].body as { access_token: string; refresh_token: string };
      const again = await post(server, '/token', client, { grant_type: 'refresh_token', refresh_token: won.refresh_token });
      expect([again.status, again.body.error]).toEqual([400, 'invalid_grant']);
      const introspected = await post(server, '/token/introspection', client, { token: won.access_token });
      expect(introspected.body.active).toBe(false);
      const userinfo = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${won.access_token}` } });
      expect(userinfo.status).toBe(401);
    });
  });
}

if (requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis)) {
  refreshReuse('PostgreSQL + Redis', async () => {
    const db = await createTestDatabase();
    return { env: { DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/8`, SECRET_KEY: TEST_SECRET_KEY }, cleanup: () => db.drop() };
  });
}

refreshReuse('the embedded default (in-memory state)', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fo-reuse-'));
  return { env: { DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '', SECRET_KEY: '' }, cleanup: async () => rmSync(dataDir, { recursive: true, force: true }) };
});

/** The adapters themselves: a consumable entry is consumed once, whatever the interleaving of callers. */
function adapterContract(label: string, make: () => { factory: (name: string) => Adapter; close(): Promise<void> }) {
  describe(`${label} adapter consume`, () => {
    const handle = make();
    afterAll(() => handle.close());

    it('consumes once under concurrent calls and revokes the grant on every other call', async () => {
      const refresh = handle.factory('RefreshToken');
      const access = handle.factory('AccessToken');
      const grants = handle.factory('Grant');
      const grantId = `g-${randomBytes(8).toString('hex')}`;
      const rt = `rt-${randomBytes(8).toString('hex')}`;
      const at = `at-${randomBytes(8).toString('hex')}`;
      await grants.upsert(grantId, { jti: grantId, kind: 'Grant', accountId: 'acct', clientId: 'c' }, 600);
      await refresh.upsert(rt, { jti: rt, kind: 'RefreshToken', grantId, accountId: 'acct', clientId: 'c' }, 600);
      await access.upsert(at, { jti: at, kind: 'AccessToken', grantId, accountId: 'acct', clientId: 'c' }, 600);

      const settled = await Promise.allSettled(Array.from({ length: BURST }, () => refresh.consume(rt)));
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
      const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as { error?: string }] : []));
      expect(errors.every((e) => e.error === 'invalid_grant')).toBe(true);
      expect(await grants.find(grantId)).toBeUndefined();
      expect(await access.find(at)).toBeUndefined();
      expect(await refresh.find(rt)).toBeUndefined();
    });

    it('consumes a single use normally and keeps the grant', async () => {
      const codes = handle.factory('AuthorizationCode');
      const grants = handle.factory('Grant');
      const grantId = `g-${randomBytes(8).toString('hex')}`;
      const code = `c-${randomBytes(8).toString('hex')}`;
      await grants.upsert(grantId, { jti: grantId, kind: 'Grant', accountId: 'acct', clientId: 'c' }, 600);
      await codes.upsert(code, { jti: code, kind: 'AuthorizationCode', grantId, accountId: 'acct', clientId: 'c' }, 600);
      await codes.consume(code);
      expect((await codes.find(code))?.consumed).toEqual(expect.any(Number));
      expect(await grants.find(grantId)).toBeDefined();
    });
  });
}

adapterContract('memory', () => {
  const handle = createAdapterFactory({ redis: null, loadClient: async () => undefined });
  return { factory: handle.factory, close: async () => handle.close() };
});

if (requireService('Redis', hasRedis)) {
  adapterContract('Redis', () => {
    const redis = connectRedis(`${REDIS_URL}/8`);
    const handle = createAdapterFactory({ redis, loadClient: async () => undefined });
    return {
      factory: handle.factory,
      async close() {
        handle.close();
        await redis.quit();
      },
    };
  });
}
