import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openServices, type Services } from '../../src/server/services.js';
import { createTestDatabase, hasPostgres, requireService, TEST_SECRET_KEY } from '../helpers/env.js';

const DAY = 86_400_000;
const NOW = new Date();
const ago = (days: number) => new Date(NOW.getTime() - days * DAY);
const OLD_RECORD = '00000000-0000-4000-8000-000000000001';
const YOUNG_RECORD = '00000000-0000-4000-8000-000000000002';

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

  async function consent(userId: string, givenAt: Date) {
    await s.db.prisma.biometricConsent.create({ data: { userId, textVersion: 'v1', collectedBy: 'cli', givenAt } });
  }

  /** A Face Match record with one kept face crop. */
  async function record(requestId: string, createdAt: Date, cropKey: string) {
    await s.db.prisma.matchRecord.create({
      data: { requestId, clientId: 'backend', decision: 'ACCEPTED', result: {}, createdAt, images: { create: [{ key: cropKey, kind: 'selfie', data: new Uint8Array([4, 5, 6]), createdAt }] } },
    });
  }

  async function link(purpose: string, userId: string | null, expiresAt: Date, usedAt: Date | null) {
    const id = randomUUID();
    await s.db.prisma.oneTimeToken.create({ data: { id, purpose, userId, expiresAt, usedAt } });
    return id;
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
    // Dormant, no template left, but consented again last week (an enrollment is on its way).
    const returning = await user('returning@example.com', ago(400), ago(60));

    // Consents: `never` loses everything its consent covered, so its consent ends; the others keep theirs.
    for (const u of [dormant, never, active, newcomer]) await consent(u.id, ago(200));
    await consent(returning.id, ago(5));

    await image('img-dormant-old', dormant.id, ago(200));
    await image('img-dormant-fresh', dormant.id, ago(7));
    await image('img-active-old', active.id, ago(300));

    const oldEvent = await s.db.prisma.auditEvent.create({ data: { type: 'signin.face', outcome: 'success', at: ago(91) } });
    const keptEvent = await s.db.prisma.auditEvent.create({ data: { type: 'signin.face', outcome: 'success', at: ago(89) } });

    await s.db.prisma.client.create({ data: { clientId: 'backend', name: 'Backend', redirectUris: [], grantTypes: ['client_credentials'], scopes: ['face:match'], tokenEndpointAuthMethod: 'client_secret_basic' } });
    await record(OLD_RECORD, ago(120), 'crop-old');
    await record(YOUNG_RECORD, ago(10), 'crop-young');

    // One-time links: expired ones go whether used or not; live ones stay.
    const links = {
      expiredInvite: await link('enroll-invite', dormant.id, ago(1), null),
      usedExpiredInvite: await link('enroll-invite', active.id, ago(2), ago(3)),
      liveInvite: await link('enroll-invite', newcomer.id, new Date(NOW.getTime() + DAY), null),
      expiredBootstrap: await link('bootstrap', null, new Date(NOW.getTime() - 60_000), null),
      liveBootstrap: await link('bootstrap', null, new Date(NOW.getTime() + 3600_000), null),
    };

    // Identity proofings: one ended (expired) 100 days ago goes; one revoked 10 days ago and a valid one stay.
    const proofing = (userId: string, validUntil: Date, revokedAt: Date | null) =>
      s.db.prisma.identityProofing.create({ data: { userId, documentType: 'passport', issuingCountry: 'GBR', documentExpiry: validUntil, documentNumberHash: randomUUID(), claims: new Uint8Array([1]), checks: [], validUntil, revokedAt } });
    await proofing(dormant.id, ago(100), null);
    await proofing(active.id, new Date(NOW.getTime() + 100 * DAY), ago(10));
    await proofing(newcomer.id, new Date(NOW.getTime() + 100 * DAY), null);

    // What is there before the pass, so every count below is of things that existed.
    expect(await s.db.prisma.storedImage.count()).toBe(5);
    expect(await s.db.prisma.oneTimeToken.count()).toBe(5);

    const counts = await s.retention.run(NOW);
    expect(counts).toEqual({ templates: 2, images: 1, matchImages: 0, consents: 1, auditEvents: 1, matchRecords: 1, oneTimeTokens: 3, proofings: 1 });
    expect((await s.db.prisma.identityProofing.findMany({ select: { userId: true } })).map((p) => p.userId).sort()).toEqual([active.id, newcomer.id].sort());

    const left = (await s.db.prisma.faceTemplate.findMany({ select: { id: true } })).map((t) => t.id).sort();
    expect(left).toEqual([dormantFresh, activeOld, newcomerT].sort());
    expect(left).not.toContain(dormantOld);
    expect(left).not.toContain(neverOld);
    expect((await s.db.prisma.storedImage.findMany({ select: { key: true } })).map((i) => i.key).sort()).toEqual(['crop-young', 'img-active-old', 'img-dormant-fresh']);
    expect(await s.db.prisma.auditEvent.findUnique({ where: { id: oldEvent.id } })).toBeNull();
    expect(await s.db.prisma.auditEvent.findUnique({ where: { id: keptEvent.id } })).not.toBeNull();
    expect((await s.db.prisma.matchRecord.findMany()).map((r) => r.requestId)).toEqual([YOUNG_RECORD]);
    expect((await s.db.prisma.oneTimeToken.findMany({ select: { id: true } })).map((t) => t.id).sort()).toEqual([links.liveInvite, links.liveBootstrap].sort());
    // The ended consent is kept as a record, ended at the pass; enrolling `never` again needs a new consent.
    expect(await s.consent.inForce(never.id)).toBe(false);
    expect(await s.db.prisma.biometricConsent.findFirstOrThrow({ where: { userId: never.id } })).toMatchObject({ revokedAt: NOW });
    for (const u of [dormant, active, newcomer, returning]) expect(await s.consent.inForce(u.id), u.email).toBe(true);
    // Accounts themselves are not the job's business: only biometric data, old records and dead links go.
    expect(await s.db.prisma.user.count()).toBe(5);
    // The purge is audited, without any biometric data.
    const purge = await s.db.prisma.auditEvent.findFirstOrThrow({ where: { type: 'retention.purge' } });
    expect(purge.details).toMatchObject({ ...counts, templateRetentionDays: 30 });

    // A second pass finds nothing due.
    expect(await s.retention.run(NOW)).toEqual({ templates: 0, images: 0, matchImages: 0, consents: 0, auditEvents: 0, matchRecords: 0, oneTimeTokens: 0, proofings: 0 });

    // With keeping images turned off, every kept image is due: enrollment photos and the crops of live records.
    await s.settings.update({ keepImages: false }, 'test');
    expect(await s.retention.run(NOW)).toMatchObject({ images: 2, matchImages: 1, matchRecords: 0 });
    expect(await s.db.prisma.storedImage.count()).toBe(0);
    expect((await s.db.prisma.matchRecord.findMany()).map((r) => r.requestId)).toEqual([YOUNG_RECORD]);
  });
});
