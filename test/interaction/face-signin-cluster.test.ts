import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACR } from '../../src/oidc/acr.js';
import { launchBrowser } from '../helpers/browser.js';
import { cameraFrames, writeFakeCamera } from '../helpers/camera.js';
import { CHROMIUM, createTestDatabase, hasPostgres, hasRedis, REDIS_URL, requireService, TEST_SECRET_KEY, uniqueRedisPrefix } from '../helpers/env.js';
import { authorizationUrl, discover, exchange, type RpClient } from '../helpers/flow.js';
import { ROOT, runCli, startServerProcess, type ServerProcess } from '../helpers/server.js';
import { APP_ORIGIN, backAtApp, cameraReady, captureFace, FacePage, identify, interceptApp } from '../helpers/face-capture.js';

const REDIRECT = `${APP_ORIGIN}/cb`;
const face = (name: string) => path.join(ROOT, 'test', 'fixtures', 'faces', name);
const LOCKOUT_AFTER = 3;

describe.runIf(requireService('PostgreSQL', hasPostgres) && requireService('Redis', hasRedis) && requireService('Chromium', CHROMIUM !== null))(
  'face sign-in on PostgreSQL + Redis with two instances',
  () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'fo-face-cluster-'));
    let db: Awaited<ReturnType<typeof createTestDatabase>>;
    let sql: pg.Client;
    let first: ServerProcess;
    let second: ServerProcess;
    let rp: RpClient;

    beforeAll(async () => {
      db = await createTestDatabase();
      const env = { DATABASE_URL: db.url, REDIS_URL: `${REDIS_URL}/5`, REDIS_KEY_PREFIX: uniqueRedisPrefix(), SECRET_KEY: TEST_SECRET_KEY, FACE_FAILURES_BEFORE_LOCKOUT: String(LOCKOUT_AFTER) };
      // PostgreSQL takes concurrent writers: set up both accounts and the app at once.
      const [alice, lena, client] = await Promise.all([
        runCli(['user', 'create', '--email', 'alice@example.com', '--name', 'Alice', '--photo', face('deepface-img1.jpg'), '--json'], env),
        runCli(['user', 'create', '--email', 'lena@example.com', '--name', 'Lena', '--photo', face('deepface-img1.jpg'), '--json'], env),
        runCli(['client', 'create', '--name', 'Cluster app', '--redirect-uri', REDIRECT, '--allow-passive-face', '--json'], env),
      ]);
      for (const r of [alice, lena, client]) expect(r.code, r.stderr).toBe(0);
      const { client_id, client_secret } = JSON.parse(client.stdout) as { client_id: string; client_secret: string };
      [first] = await Promise.all([startServerProcess(env), writeFakeCamera(face('deepface-img2.jpg'), path.join(tmp, 'camera.y4m'), { seed: 5 })]);
      second = await startServerProcess({ ...env, ISSUER: first.url });
      rp = await discover(first.url, client_id, client_secret, REDIRECT);
      sql = new pg.Client({ connectionString: db.url });
      await sql.connect();
    });

    afterAll(async () => {
      await sql?.end();
      await Promise.all([first?.stop(), second?.stop()]);
      await db?.drop();
      rmSync(tmp, { recursive: true, force: true });
    });

    it('starts a sign-in on one instance and finishes it on the other; the attempt is audited', async () => {
      const browser = await launchBrowser({ camera: path.join(tmp, 'camera.y4m') });
      try {
        const { page } = browser;
        await interceptApp(page);
        const start = await authorizationUrl(rp);
        await identify(page, start.url, 'alice@example.com');
        await cameraReady(page);
        // The same interaction, its state and capture tokens continue on the other instance (shared Redis).
        await page.goto(new URL(new URL(page.url()).pathname, second.url).href);
        await cameraReady(page);
        expect(await captureFace(page)).toMatchObject({ redirect: expect.any(String) });
        const callback = await backAtApp(page);
        expect(callback.searchParams.get('iss')).toBe(first.url);
        const claims = (await exchange(rp, start, callback)).claims()!;
        // One passive picture (the app allows it): the face factor, not liveness, and the passive acr.
        expect(claims).toMatchObject({ amr: ['face'], acr: ACR.facePassive });
      } finally {
        await browser.close();
      }
      // The verification itself ran on the second instance, not on the one that started the sign-in.
      const verified = (url: string) => fetch(`${url}/metrics`).then((r) => r.text()).then((t) => /signin_outcomes_total\{factor="face",outcome="success",reason="verified"\} 1/.test(t));
      expect([await verified(first.url), await verified(second.url)]).toEqual([false, true]);

      const { rows } = await sql.query(
        `SELECT a.outcome, a.reason, a.ip, a.user_agent, a.details, a.client_id, u.last_sign_in_at
           FROM audit_events a JOIN users u ON u.id = a.user_id
          WHERE a.type = 'signin.face' AND u.email = 'alice@example.com'`,
      );
      expect(rows).toHaveLength(1);
      const [event] = rows;
      expect(event).toMatchObject({ outcome: 'success', reason: null, client_id: rp.config.clientMetadata().client_id });
      expect(event.ip).toBeTruthy();
      expect(event.user_agent).toMatch(/Chrome/);
      expect(event.last_sign_in_at).toBeInstanceOf(Date);
      expect(event.details).toMatchObject({ method: 'passive', frames: 3, codes: [], agent: { browser: expect.stringMatching(/Chrom/) } });
      expect(event.details.similarity).toBeGreaterThan(0.411);
      expect(event.details.liveness).toBeGreaterThan(0.7);
      expect(event.details.durationMs).toBeGreaterThan(0);
    });

    it(`counts failures across instances; at ${LOCKOUT_AFTER} unknown devices wait an hour, the account is not locked`, async () => {
      const frames = await cameraFrames(face('deepface-img17.jpg'), LOCKOUT_AFTER + 1, { seed: 11 });
      const page = await FacePage.open(await authorizationUrl(rp), 'lena@example.com');
      const replies = [];
      // Alternate instances: the counters live in Redis, not in either process.
      for (const [i, frame] of frames.entries()) replies.push(await page.post([frame], { base: i % 2 ? second.url : first.url }));
      expect(replies.slice(0, LOCKOUT_AFTER).map((r) => r.body.error?.code)).toEqual(Array(LOCKOUT_AFTER).fill('NO_MATCH'));
      expect(replies[LOCKOUT_AFTER - 1].body.error?.message).toMatch(/from this device: wait an hour/);
      expect(replies.at(-1)).toMatchObject({ status: 429, body: { error: { code: 'FACE_DELAYED' } } });
      expect(Number((replies.at(-1)!.body as { retryAfter?: number }).retryAfter)).toBeGreaterThan(3500);

      // Anonymous failures never lock the factor for good.
      const { rows } = await sql.query(`SELECT face_locked_at FROM users WHERE email = 'lena@example.com'`);
      expect(rows[0].face_locked_at).toBeNull();
      // Another unknown device on either instance waits too: the unknown devices' counter is the account's, in Redis.
      for (const base of [first.url, second.url]) {
        const other = await FacePage.open(await authorizationUrl(rp), 'lena@example.com');
        const [frame] = await cameraFrames(face('deepface-img17.jpg'), 1, { seed: base === first.url ? 12 : 13 });
        expect(await other.post([frame], { base })).toMatchObject({ status: 429, body: { error: { code: 'FACE_DELAYED' } } });
      }
    });
  },
);
