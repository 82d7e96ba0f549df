import { randomBytes, randomUUID } from 'node:crypto';
import { decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/accounts/users.js';
import { embeddingToBytes } from '../../src/face/index.js';
import { ACR } from '../../src/oidc/acr.js';
import { createSealer, sha256Hex } from '../../src/store/crypto.js';
import { migrate, MigrationError, readMigrations, type Migration } from '../../src/store/migrate.js';
import { pgSession } from '../../src/store/sql.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { Agent } from '../helpers/browserless.js';
import { createTestDatabase, hasPostgres, requireService, TEST_SECRET_KEY, testPool } from '../helpers/env.js';
import { authorizationUrl, discover, exchange, passwordSignIn } from '../helpers/flow.js';
import { startServerProcess } from '../helpers/server.js';

const sealer = createSealer(Buffer.from(TEST_SECRET_KEY, 'hex'));
const PASSWORD = 'correct horse battery staple';
const REDIRECT = 'http://127.0.0.1:9/cb';
const MODEL = 'legacy-model@1';

type Row = Record<string, unknown>;

/** Every row of every table (as JSON, so bytes, arrays and times compare exactly), by table name. */
async function snapshot(sql: pg.Pool): Promise<Map<string, Row[]>> {
  const { rows: tables } = await sql.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations' ORDER BY 1`,
  );
  const out = new Map<string, Row[]>();
  for (const { table_name } of tables) {
    out.set(table_name, (await sql.query<{ row: Row }>(`SELECT to_jsonb(t) AS row FROM "${table_name}" t`)).rows.map((r) => r.row));
  }
  return out;
}

const project = (row: Row, columns: string[]) => JSON.stringify(Object.fromEntries(columns.map((c) => [c, row[c]])));

/** What the first release wrote: users, templates, consents, clients, keys, settings, audit, tokens, records, images. */
async function fillFirstRelease(sql: pg.Pool) {
  const ids = { admin: randomUUID(), alice: randomUUID(), bob: randomUUID(), record: randomUUID(), matchImage: randomUUID() };
  const q = (text: string, values: unknown[]) => sql.query(text, values);
  const hash = await hashPassword(PASSWORD);
  await q(`INSERT INTO users (id, email, name, status, roles, password_hash, last_sign_in_at, updated_at) VALUES ($1, 'admin@example.com', 'Admin', 'ACTIVE', '{admin}', $2, now() - interval '2 days', now())`, [ids.admin, hash]);
  await q(`INSERT INTO users (id, email, name, status, roles, password_hash, face_locked_at, updated_at) VALUES ($1, 'alice@example.com', 'Alice', 'ACTIVE', '{}', $2, now() - interval '1 hour', now())`, [ids.alice, hash]);
  await q(`INSERT INTO users (id, email, name, status, updated_at) VALUES ($1, 'bob@example.com', 'Bob', 'DISABLED', now())`, [ids.bob]);

  const embeddings = [0, 1].map((seed) => Float32Array.from({ length: 512 }, (_, i) => Math.sin(i + seed) / 16));
  for (const e of embeddings) {
    await q(`INSERT INTO face_templates (id, user_id, embedding, model_id, quality, source) VALUES ($1, $2, $3, $4, 0.9, 'upload')`, [randomUUID(), ids.alice, sealer.seal(embeddingToBytes(e), `face-template:${ids.alice}`), MODEL]);
  }
  await q(`INSERT INTO biometric_consents (id, user_id, text_version, collected_by) VALUES ($1, $2, 'legacy-notice-1', $3)`, [randomUUID(), ids.alice, ids.admin]);

  const rpSecret = randomBytes(32).toString('base64url');
  const backendSecret = randomBytes(32).toString('base64url');
  await q(
    `INSERT INTO clients (client_id, name, secret, redirect_uris, grant_types, scopes, token_endpoint_auth_method, allow_password_only, updated_at)
     VALUES ('legacy-rp', 'Legacy RP', $1, $2, '{authorization_code}', '{openid,profile,email,offline_access}', 'client_secret_basic', true, now())`,
    [sealer.seal(Buffer.from(rpSecret), 'client-secret:legacy-rp'), [REDIRECT]],
  );
  await q(
    `INSERT INTO clients (client_id, name, secret, redirect_uris, grant_types, scopes, token_endpoint_auth_method, match_rules, updated_at)
     VALUES ('legacy-backend', 'Legacy backend', $1, '{}', '{client_credentials}', '{face:match}', 'client_secret_basic', '{"minSimilarity":75}', now())`,
    [sealer.seal(Buffer.from(backendSecret), 'client-secret:legacy-backend')],
  );

  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const kid = 'legacy-key';
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = privateJwk;
  await q(`INSERT INTO signing_keys (kid, alg, private_jwk, public_jwk) VALUES ($1, 'RS256', $2, $3)`, [kid, sealer.seal(Buffer.from(JSON.stringify(privateJwk)), `signing-key:${kid}`), publicJwk]);
  await q(`INSERT INTO secrets (name, value) VALUES ('cookie-keys', $1)`, [sealer.seal(Buffer.from(JSON.stringify([randomBytes(32).toString('base64url')])), 'cookie-keys')]);
  await q(`INSERT INTO settings (key, value, updated_at, updated_by) VALUES ('runtime', '{"matchPreset":"far-1e-3","keepImages":true,"templateRetentionDays":700}', now(), $1)`, [ids.admin]);

  await q(`INSERT INTO audit_events (type, outcome, user_id, actor_id, details) VALUES ('admin.user.create', 'success', $1, $2, '{"via":"console"}')`, [ids.alice, ids.admin]);
  await q(`INSERT INTO audit_events (type, outcome, reason, user_id, client_id, ip) VALUES ('signin.face', 'failure', 'NO_MATCH', $1, 'legacy-rp', '203.0.113.7')`, [ids.alice]);
  await q(`INSERT INTO oidc_consents (user_id, client_id, scopes) VALUES ($1, 'legacy-rp', '{openid,profile,email}')`, [ids.alice]);
  const invite = randomBytes(24).toString('base64url');
  await q(`INSERT INTO one_time_tokens (id, purpose, user_id, created_by, expires_at) VALUES ($1, 'enroll-invite', $2, $3, now() + interval '2 days')`, [sha256Hex(invite), ids.bob, ids.admin]);

  const result = { requestId: ids.record, decision: 'ACCEPTED', createdAt: new Date().toISOString(), similarity: 91 };
  await q(`INSERT INTO match_records (request_id, client_id, record_identifier, decision, result, updated_at) VALUES ($1, 'legacy-backend', 'case-17', 'ACCEPTED', $2, now())`, [ids.record, result]);
  const jpeg = randomBytes(64);
  await q(`INSERT INTO stored_images (key, kind, side, data, match_request_id) VALUES ($1, 'selfie', NULL, $2, $3)`, [ids.matchImage, sealer.seal(jpeg, `match-image:${ids.matchImage}`), ids.record]);
  await q(`INSERT INTO stored_images (key, kind, data, user_id) VALUES ('enrollment-1', 'enrollment', $1, $2)`, [sealer.seal(jpeg, `image:${ids.alice}`), ids.alice]);
  return { ids, embeddings, rpSecret, backendSecret, kid, invite, result, jpeg };
}

describe.runIf(requireService('PostgreSQL', hasPostgres))('upgrades on PostgreSQL', () => {
  let all: Migration[];

  beforeAll(async () => {
    all = await readMigrations();
  });

  describe('a database of the first release, filled, upgraded by every later migration', () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    let pool: pg.Pool;
    let app: TestApp | undefined;

    beforeAll(async () => {
      db = await createTestDatabase();
      pool = testPool(db.url);
    });

    afterAll(async () => {
      await app?.stop();
      await pool?.end();
      await db?.drop();
    });

    it('keeps every row, and the app reads them', async () => {
      expect(all[0].name).toBe('20261126100000_init');
      const session = await pgSession(pool);
      let data: Awaited<ReturnType<typeof fillFirstRelease>>;
      let before: Map<string, Row[]>;
      try {
        expect((await migrate(session, all.slice(0, 1))).applied).toEqual([all[0].name]);
        data = await fillFirstRelease(pool);
        before = await snapshot(pool);
        // Every table of the first release holds data, so every later migration meets rows in every table.
        for (const [table, rows] of before) expect(rows.length, table).toBeGreaterThan(0);
        expect((await migrate(session, all)).applied).toEqual(all.slice(1).map((m) => m.name));
      } finally {
        await session.release();
      }

      const after = await snapshot(pool);
      for (const [table, rows] of before) {
        const columns = Object.keys(rows[0]);
        const kept = (after.get(table) ?? []).map((r) => project(r, columns)).sort();
        expect(kept, table).toEqual(rows.map((r) => project(r, columns)).sort());
      }

      // The app on the upgraded database: no migration left, the stored keys, secrets and sealed data open.
      app = await startApp({ DATABASE_URL: db.url, REDIS_URL: '', SECRET_KEY: TEST_SECRET_KEY });
      const s = app.services;
      const jwks = (await (await fetch(`${app.url}/jwks`)).json()) as { keys: { kid: string }[] };
      expect(jwks.keys.map((k) => k.kid)).toEqual([data.kid]);
      expect(await s.users.byEmail('bob@example.com')).toMatchObject({ id: data.ids.bob, status: 'DISABLED' });
      expect(await s.users.byEmail('alice@example.com')).toMatchObject({ id: data.ids.alice, faceLockedAt: expect.any(Date) });
      expect((await s.templates.forUser(data.ids.alice, MODEL)).map((t) => Array.from(t.embedding))).toEqual(data.embeddings.map((e) => Array.from(e)));
      expect(await s.consent.current(data.ids.alice)).toMatchObject({ textVersion: 'legacy-notice-1', collector: { kind: 'admin', adminId: data.ids.admin } });
      expect(await s.approvals.covers(data.ids.alice, 'legacy-rp', ['openid', 'profile', 'email'])).toBe(true);
      expect(await s.settings.get()).toMatchObject({ matchPreset: 'far-1e-3', keepImages: true, templateRetentionDays: 700 });
      expect(await s.invites.open(data.invite)).toMatchObject({ userId: data.ids.bob });
      expect(await s.images.count(data.ids.alice)).toBe(1);

      // The first release's app signs its users in with its key; its backend reads its match record and image.
      const rp = await discover(app.url, 'legacy-rp', data.rpSecret, REDIRECT);
      const start = await authorizationUrl(rp, { acr_values: ACR.password });
      const tokens = await exchange(rp, start, await passwordSignIn(new Agent(), start, 'admin@example.com', PASSWORD));
      expect(decodeProtectedHeader(tokens.id_token!).kid).toBe(data.kid);
      const tokenRes = await fetch(`${app.url}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`legacy-backend:${data.backendSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'face:match' }),
      });
      expect(tokenRes.status).toBe(200);
      const bearer = { authorization: `Bearer ${((await tokenRes.json()) as { access_token: string }).access_token}` };
      const record = (await (await fetch(`${app.url}/api/v1/face/match/${data.ids.record}`, { headers: bearer })).json()) as { result: unknown[] };
      expect(record.result).toEqual([data.result]);
      const image = await fetch(`${app.url}/api/v1/images/${data.ids.matchImage}`, { headers: bearer });
      expect(image.status).toBe(200);
      expect(Buffer.from(await image.arrayBuffer()).equals(data.jpeg)).toBe(true);
    });
  });

  describe('a migration file changed after it was applied', () => {
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    let pool: pg.Pool;

    beforeAll(async () => {
      db = await createTestDatabase();
      pool = testPool(db.url);
      const session = await pgSession(pool);
      await migrate(session).finally(() => session.release());
    });

    afterAll(async () => {
      await pool?.end();
      await db?.drop();
    });

    it('is reported by name and nothing further is applied', async () => {
      const changed = all.map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\n-- edited`, checksum: sha256Hex(`${m.sql}\n-- edited`) } : m));
      const pending: Migration = { name: '29990101000000_pending', sql: 'CREATE TABLE pending_marker (id int)', checksum: sha256Hex('CREATE TABLE pending_marker (id int)') };
      const session = await pgSession(pool);
      try {
        const err = await migrate(session, [...changed, pending]).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(MigrationError);
        expect((err as Error).message).toContain(`prisma/migrations/${all[0].name}/migration.sql changed after it was applied`);
      } finally {
        await session.release();
      }
      const { rows } = await pool.query(`SELECT to_regclass('pending_marker') AS t`);
      expect(rows[0].t).toBeNull();
    });

    it('stops `face-oidc start` with an error naming the migration', async () => {
      const last = all[all.length - 1].name;
      await pool.query(`UPDATE _prisma_migrations SET checksum = $1 WHERE migration_name = $2`, [sha256Hex('what an older build shipped'), last]);
      const started = await startServerProcess({ DATABASE_URL: db.url, REDIS_URL: '', SECRET_KEY: TEST_SECRET_KEY }).then(
        async (server) => {
          await server.stop();
          return 'started';
        },
        (err: Error) => err.message,
      );
      expect(started).toMatch(/^server exited with 1/);
      expect(started).toContain(`prisma/migrations/${last}/migration.sql changed after it was applied to this database`);
    });
  });

  it('serialises instances migrating one fresh database at once: each migration applied once', async () => {
    const db = await createTestDatabase();
    const pools = Array.from({ length: 4 }, () => testPool(db.url));
    try {
      const sessions = await Promise.all(pools.map((p) => pgSession(p)));
      const reports = await Promise.all(sessions.map((s) => migrate(s).finally(() => s.release())));
      expect(reports.flatMap((r) => r.applied).sort()).toEqual(all.map((m) => m.name));
      for (const r of reports) expect([...r.applied, ...r.alreadyApplied].sort()).toEqual(all.map((m) => m.name));
      const { rows } = await pools[0].query<{ migration_name: string; finished: boolean }>(
        'SELECT migration_name, finished_at IS NOT NULL AS finished FROM _prisma_migrations ORDER BY migration_name',
      );
      expect(rows).toEqual(all.map((m) => ({ migration_name: m.name, finished: true })));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await db.drop();
    }
  });
});
