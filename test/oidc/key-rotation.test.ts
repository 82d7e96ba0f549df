import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/acr.js';
import { rotateSigningKeys, SigningKeys, type KeyTimes } from '../../src/oidc/keys.js';
import { createSealer } from '../../src/store/crypto.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { Agent } from '../helpers/browserless.js';
import { createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY } from '../helpers/env.js';
import { authorizationUrl, discover, exchange, passwordSignIn } from '../helpers/flow.js';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/server.js';
import { eventually } from '../helpers/wait.js';

const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:9/cb';
const sealer = createSealer(Buffer.from(TEST_SECRET_KEY, 'hex'));

async function jwks(instance: { url: string }): Promise<JSONWebKeySet> {
  return (await (await fetch(`${instance.url}/jwks`)).json()) as JSONWebKeySet;
}
const kids = (set: JSONWebKeySet) => set.keys.map((k) => k.kid);

describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis))('signing keys on PostgreSQL + Redis', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  describe('two running instances', () => {
    let env: Record<string, string>;
    let a: ServerProcess;
    let b: ServerProcess;
    let clientId: string;
    let clientSecret: string;

    beforeAll(async () => {
      env = { DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/8`, SECRET_KEY: TEST_SECRET_KEY, KEY_REFRESH_SECONDS: '1' };
      const [user, client] = await Promise.all([
        runCli(['user', 'create', '--email', 'alice@example.com', '--name', 'Alice', '--password', PASSWORD, '--json'], env),
        runCli(['client', 'create', '--name', 'Rotation RP', '--redirect-uri', REDIRECT, '--allow-password', '--json'], env),
      ]);
      for (const r of [user, client]) expect(r.code, r.stderr).toBe(0);
      ({ client_id: clientId, client_secret: clientSecret } = JSON.parse(client.stdout) as { client_id: string; client_secret: string });
      a = await startServerProcess(env);
      b = await startServerProcess({ ...env, ISSUER: a.url });
    });

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
    });

    /** A refresh on one instance: its ID token is signed by whatever key that instance signs with now. */
    async function refreshAt(instance: ServerProcess, refreshToken: string): Promise<{ idToken: string; refreshToken: string }> {
      const res = await fetch(`${instance.url}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      });
      const body = (await res.json()) as { id_token: string; refresh_token: string };
      expect(res.status, JSON.stringify(body)).toBe(200);
      return { idToken: body.id_token, refreshToken: body.refresh_token };
    }

    const verifies = async (idToken: string, set: JSONWebKeySet) =>
      jwtVerify(idToken, createLocalJWKSet(set), { issuer: a.url, audience: clientId }).then(
        () => true,
        () => false,
      );

    it('sign with the new key after `keys rotate` without a restart, publish the retired one until its tokens expire, then drop it', async () => {
      const rp = await discover(a.url, clientId, clientSecret, REDIRECT);
      const start = await authorizationUrl(rp, { acr_values: ACR.password });
      const tokens = await exchange(rp, start, await passwordSignIn(new Agent(), start, 'alice@example.com', PASSWORD));
      const oldKid = decodeProtectedHeader(tokens.id_token!).kid!;
      expect(kids(await jwks(a))).toEqual([oldKid]);
      expect(kids(await jwks(b))).toEqual([oldKid]);
      let refresh = tokens.refresh_token!;

      const rotated = await runCli(['keys', 'rotate', '--json'], env);
      expect(rotated.code, rotated.stderr).toBe(0);
      const { kid: newKid, retired } = JSON.parse(rotated.stdout) as { kid: string; retired: string[] };
      expect(retired).toEqual([oldKid]);

      // Both instances, never restarted, end up signing with the new key and still publishing the old one.
      for (const instance of [a, b]) {
        await eventually(async () => kids(await jwks(instance)), (published) => published.join() === [newKid, oldKid].join(), `${instance.url} signing with the new key`);
        const next = await refreshAt(instance, refresh);
        refresh = next.refreshToken;
        expect(decodeProtectedHeader(next.idToken).kid).toBe(newKid);
        expect(await verifies(next.idToken, await jwks(instance))).toBe(true);
        // The ID token the old key signed before the rotation still verifies against this instance's JWKS.
        expect(await verifies(tokens.id_token!, await jwks(instance))).toBe(true);
      }
      const listed = await runCli(['keys', 'list', '--json'], env);
      expect(JSON.parse(listed.stdout)).toMatchObject([
        { kid: newKid, state: 'signing' },
        { kid: oldKid, state: 'retired' },
      ]);

      // Once the old key's tokens have expired (its retirement is older than their lifetime), every instance drops it.
      const sql = new pg.Client({ connectionString: db.url });
      await sql.connect();
      try {
        await sql.query(`UPDATE signing_keys SET retired_at = now() - interval '1 day' WHERE kid = $1`, [oldKid]);
      } finally {
        await sql.end();
      }
      for (const instance of [a, b]) {
        await eventually(async () => kids(await jwks(instance)), (published) => published.join() === newKid, `${instance.url} dropping the expired key`);
        expect(await verifies(tokens.id_token!, await jwks(instance))).toBe(false);
        const next = await refreshAt(instance, refresh);
        refresh = next.refreshToken;
        expect(decodeProtectedHeader(next.idToken).kid).toBe(newKid);
      }
    }, 120_000);
  });

  describe('the key schedule', () => {
    const times: KeyTimes = { refreshSeconds: 10, keepRetiredSeconds: 100 };

    it('publishes a new key before it signs, and drops a retired key when its window ends without any change in the database', async () => {
      const fresh = await createTestDatabase();
      const d = await openDatabase({ databaseUrl: fresh.url, dataDir: '', holder: 'test' });
      try {
        await d.migrate();
        const t0 = Date.now();
        let now = new Date(t0);
        const keys = new SigningKeys(d.prisma, sealer, times, () => now);
        const [first] = await keys.load();
        let applied: string[] | null = null;
        const apply = (set: { kid?: string }[]) => (applied = set.map((k) => k.kid!));

        const rotation = await rotateSigningKeys(d.prisma, sealer, times, now);
        expect(rotation.signsFrom.getTime()).toBe(t0 + 20_000);
        now = new Date(t0 + 1_000);
        expect(await keys.refresh(apply)).toBe(true);
        expect(applied).toEqual([first.kid, rotation.kid]); // published, not yet signing
        now = new Date(t0 + 20_001);
        expect(await keys.refresh(apply)).toBe(true);
        expect(applied).toEqual([rotation.kid, first.kid]);
        now = new Date(t0 + 20_000 + 99_000);
        expect(await keys.refresh(apply)).toBe(false);
        now = new Date(t0 + 20_000 + 100_001);
        expect(await keys.refresh(apply)).toBe(true);
        expect(applied).toEqual([rotation.kid]);
        // The next rotation removes the expired key from the database.
        expect((await rotateSigningKeys(d.prisma, sealer, times, now)).deleted).toEqual([first.kid]);
      } finally {
        await d.close();
        await fresh.drop();
      }
    });

    it('leaves exactly one key not retired after concurrent rotations', async () => {
      const fresh = await createTestDatabase();
      let dbs: Database[] = [];
      try {
        dbs = await Promise.all(Array.from({ length: 6 }, () => openDatabase({ databaseUrl: fresh.url, dataDir: '', holder: 'test' })));
        await dbs[0].migrate();
        const first = (await new SigningKeys(dbs[0].prisma, sealer, times).load())[0].kid;
        // Six instances (own connection pools) rotating at once.
        const rotations = await Promise.all(dbs.map((d) => rotateSigningKeys(d.prisma, sealer, times)));
        const rows = await dbs[0].prisma.signingKey.findMany({ select: { kid: true, retiredAt: true } });
        expect(rows.map((r) => r.kid).sort()).toEqual([first, ...rotations.map((r) => r.kid)].sort());
        const active = rows.filter((r) => r.retiredAt === null).map((r) => r.kid);
        expect(active).toHaveLength(1);
        // The one left is the last rotation's key, and every earlier key retires no later than it takes over.
        const last = rotations.find((r) => r.kid === active[0])!;
        for (const r of rows.filter((row) => row.retiredAt !== null)) expect(r.retiredAt!.getTime()).toBeLessThanOrEqual(last.signsFrom.getTime());
      } finally {
        await Promise.all(dbs.map((d) => d.close()));
        await fresh.drop();
      }
    });
  });
});
