import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { scheduleRetention } from '../../src/retention/index.js';
import { openServices, type Services } from '../../src/server/services.js';
import { memoryKeyValueStore } from '../../src/store/kv.js';
import { createTestDatabase, hasPostgres, requireService, TEST_SECRET_KEY } from '../helpers/env.js';

const DAY = 86_400_000;
const NOW = new Date();
const ago = (days: number) => new Date(NOW.getTime() - days * DAY);

describe.runIf(requireService('PostgreSQL', hasPostgres))('retention job', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let s: Services;

  beforeAll(async () => {
    db = await createTestDatabase();
    s = await openServices(loadConfig({ ...process.env, DATABASE_URL: db.url, REDIS_URL: '', SECRET_KEY: TEST_SECRET_KEY, LOG_LEVEL: 'silent' }), 'retention test');
  });

  afterAll(async () => {
    await s?.close();
    await db?.drop();
  });

  async function user(email: string, createdAt: Date, lastSignInAt: Date | null) {
    return s.db.prisma.user.create({ data: { email, name: email, createdAt, lastSignInAt } });
  }

  async function template(userId: string, createdAt: Date) {
    const t = await s.templates.add(userId, { embedding: new Float32Array(512).fill(0.01), modelId: 'test@1', quality: 1, source: 'upload' });
    await s.db.prisma.faceTemplate.update({ where: { id: t.id }, data: { createdAt } });
    return t.id;
  }

  async function image(key: string, userId: string, createdAt: Date) {
    await s.db.prisma.storedImage.create({ data: { key, kind: 'enrollment', userId, data: new Uint8Array([1, 2, 3]), createdAt } });
  }

  it('purges what is due and nothing else', async () => {
    await s.settings.update({ templateRetentionDays: 30, auditRetentionDays: 90, keepImages: true }, 'test');

    // Dormant: last sign-in 40 days ago. Its old template goes; the one enrolled last week stays until it is due.
    const dormant = await user('dormant@example.com', ago(400), ago(40));
    const dormantOld = await template(dormant.id, ago(200));
    const dormantFresh = await template(dormant.id, ago(7));
    // Never signed in, created long ago: inactive since creation.
    const never = await user('never@example.com', ago(100), null);
    const neverOld = await template(never.id, ago(100));
    // Active: signed in yesterday; even a very old template stays.
    const active = await user('active@example.com', ago(400), ago(1));
    const activeOld = await template(active.id, ago(300));
    // New account that never signed in yet.
    const newcomer = await user('new@example.com', ago(3), null);
    const newcomerT = await template(newcomer.id, ago(3));

    await image('img-dormant-old', dormant.id, ago(200));
    await image('img-dormant-fresh', dormant.id, ago(7));
    await image('img-active-old', active.id, ago(300));

    const oldEvent = await s.db.prisma.auditEvent.create({ data: { type: 'signin.face', outcome: 'success', at: ago(91) } });
    const keptEvent = await s.db.prisma.auditEvent.create({ data: { type: 'signin.face', outcome: 'success', at: ago(89) } });

    await s.db.prisma.client.create({ data: { clientId: 'backend', name: 'Backend', redirectUris: [], grantTypes: ['client_credentials'], scopes: ['face:match'], tokenEndpointAuthMethod: 'client_secret_basic' } });
    const record = (requestId: string, createdAt: Date) =>
      s.db.prisma.matchRecord.create({ data: { requestId, clientId: 'backend', decision: 'accept', result: {}, createdAt } });
    await record('00000000-0000-4000-8000-000000000001', ago(120));
    await record('00000000-0000-4000-8000-000000000002', ago(10));

    const counts = await s.retention.run(NOW);
    expect(counts).toEqual({ templates: 2, images: 1, auditEvents: 1, matchRecords: 1 });

    const left = (await s.db.prisma.faceTemplate.findMany({ select: { id: true } })).map((t) => t.id).sort();
    expect(left).toEqual([dormantFresh, activeOld, newcomerT].sort());
    expect(left).not.toContain(dormantOld);
    expect(left).not.toContain(neverOld);
    expect((await s.db.prisma.storedImage.findMany({ select: { key: true } })).map((i) => i.key).sort()).toEqual(['img-active-old', 'img-dormant-fresh']);
    expect(await s.db.prisma.auditEvent.findUnique({ where: { id: oldEvent.id } })).toBeNull();
    expect(await s.db.prisma.auditEvent.findUnique({ where: { id: keptEvent.id } })).not.toBeNull();
    expect((await s.db.prisma.matchRecord.findMany()).map((r) => r.requestId)).toEqual(['00000000-0000-4000-8000-000000000002']);
    // Accounts and their consents are not the job's business: only biometric data and old records go.
    expect(await s.db.prisma.user.count()).toBe(4);
    // The purge is audited, without any biometric data.
    const purge = await s.db.prisma.auditEvent.findFirstOrThrow({ where: { type: 'retention.purge' } });
    expect(purge.details).toMatchObject({ templates: 2, images: 1, auditEvents: 1, matchRecords: 1, templateRetentionDays: 30 });

    // A second pass finds nothing due.
    expect(await s.retention.run(NOW)).toEqual({ templates: 0, images: 0, auditEvents: 0, matchRecords: 0 });

    // With keeping images turned off, every kept enrollment image is due.
    await s.settings.update({ keepImages: false }, 'test');
    expect((await s.retention.run(NOW)).images).toBe(2);
  });

  it('runs once per interval across instances sharing the store', async () => {
    const kv = memoryKeyValueStore();
    const runs: unknown[] = [];
    const logger = { info: (o: unknown) => runs.push(o), error: (o: unknown) => runs.push(o) } as never;
    const a = scheduleRetention({ prisma: s.db.prisma, settings: s.settings, audit: s.audit, records: s.records, kv, logger }, { intervalMs: 3_600_000, firstRunMs: 10 });
    const b = scheduleRetention({ prisma: s.db.prisma, settings: s.settings, audit: s.audit, records: s.records, kv, logger }, { intervalMs: 3_600_000, firstRunMs: 10 });
    await new Promise((r) => setTimeout(r, 500));
    await Promise.all([a.stop(), b.stop()]);
    await kv.close();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ retention: { templates: 0 } });
    const last = await s.db.prisma.setting.findUniqueOrThrow({ where: { key: 'retention.last-run' } });
    expect(last.value).toMatchObject({ templates: 0, auditEvents: 0 });
  });
});
