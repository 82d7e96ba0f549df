import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ProofingError } from '../../src/proofing/index.js';
import { openServices, type Services } from '../../src/server/services.js';
import { DAY, evidence, isoDay } from './helpers.js';

describe('identity proofing records (embedded database)', () => {
  let s: Services;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'proofing-'));
    s = await openServices(loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent' }), 'proofing records test');
  });

  afterAll(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const account = (email: string) => s.users.create({ email, name: email, password: null, roles: [] } as never);

  it('records only under a proofing consent, seals the identity data and keeps a keyed hash of the number, not the number', async () => {
    const user = await account('ada@example.com');
    await expect(s.proofing.record(user.id, evidence())).rejects.toMatchObject({ code: 'CONSENT_REQUIRED' });
    expect(await s.proofing.giveConsent(user.id)).toBe(true);
    expect(await s.proofing.giveConsent(user.id)).toBe(false);

    const summary = await s.proofing.record(user.id, evidence());
    expect(summary).toMatchObject({ state: 'valid', documentType: 'passport', issuingCountry: 'GBR' });

    const row = await s.db.prisma.identityProofing.findUniqueOrThrow({ where: { userId: user.id } });
    const raw = JSON.stringify({ ...row, claims: Buffer.from(row.claims).toString('latin1') });
    expect(raw).not.toContain('X1234567');
    expect(raw).not.toContain('LOVELACE');
    expect(row.documentNumberHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.documentNumberHash).toBe(s.proofing.documentHash('GBR', 'passport', 'x1234567'));

    const verified = await s.proofing.verified(user.id);
    expect(verified?.claims).toEqual({ given_name: 'ADA', family_name: 'LOVELACE', birthdate: '1990-12-10', nationalities: ['GBR'] });
    expect(verified?.verification.evidence[0].check_details.map((c) => c.check_method)).toEqual(['vri', 'bvr']);

    const types = (await s.audit.list({ userId: user.id }, 20)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['proofing.consent', 'proofing.record']));
  });

  it('keeps the document number sealed only where the administrator keeps numbers, and gives it only to an app that asks', async () => {
    const user = await account('kept@example.com');
    await s.proofing.giveConsent(user.id);
    await s.settings.update({ proofingKeepDocumentNumber: true }, 'test');
    const kept = await s.proofing.record(user.id, evidence({ number: 'K7654321' }));
    expect(kept.documentNumberKept).toBe(true);
    const row = await s.db.prisma.identityProofing.findUniqueOrThrow({ where: { userId: user.id } });
    expect(Buffer.from(row.documentNumber!).toString('latin1')).not.toContain('K7654321');
    expect((await s.proofing.export(user.id)).record?.documentNumber).toBe('K7654321');
    expect((await s.proofing.verified(user.id))?.verification.evidence[0].document_details.document_number).toBe('K7654321');

    await s.settings.update({ proofingKeepDocumentNumber: false }, 'test');
    const dropped = await s.proofing.record(user.id, evidence({ number: 'K7654321' }));
    expect(dropped.documentNumberKept).toBe(false);
    expect((await s.db.prisma.identityProofing.findUniqueOrThrow({ where: { userId: user.id } })).documentNumber).toBeNull();
    expect((await s.proofing.verified(user.id))?.verification.evidence[0].document_details).not.toHaveProperty('document_number');
  });

  it('is valid for the configured period and never past the document expiry', async () => {
    await s.settings.update({ proofingValidityDays: 30 }, 'test');
    const user = await account('grace@example.com');
    await s.proofing.giveConsent(user.id);
    const long = await s.proofing.record(user.id, evidence({ number: 'G1' }));
    expect(Math.abs(long.validUntil.getTime() - (Date.now() + 30 * DAY))).toBeLessThan(60_000);

    const soon = await s.proofing.record(user.id, evidence({ number: 'G1', expiry: isoDay(Date.now() + 3 * DAY) }));
    expect(soon.validUntil.toISOString().slice(0, 10)).toBe(isoDay(Date.now() + 4 * DAY));
    // After that day the proofing has expired: no verified claims.
    expect(await s.proofing.verified(user.id, Date.now() + 5 * DAY)).toBeNull();
    expect((await s.proofing.status(user.id, Date.now() + 5 * DAY))?.state).toBe('expired');
    await s.settings.update({ proofingValidityDays: 365 }, 'test');
  });

  it('refuses a document that already proves another account', async () => {
    const first = await account('first@example.com');
    const second = await account('second@example.com');
    for (const u of [first, second]) await s.proofing.giveConsent(u.id);
    await s.proofing.record(first.id, evidence({ number: 'SAME1' }));
    const err = await s.proofing.record(second.id, evidence({ number: 'SAME1' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProofingError);
    expect((err as ProofingError).code).toBe('DOCUMENT_IN_USE');
    // Once the first is revoked, the document is free.
    expect(await s.proofing.revoke(first.id, first.id, 'test')).toBe(true);
    await expect(s.proofing.record(second.id, evidence({ number: 'SAME1' }))).resolves.toMatchObject({ state: 'valid' });
  });

  it('revocation ends the verified claims and keeps the summary; withdrawal erases the record and the apps release at once', async () => {
    const user = await account('revoke@example.com');
    await s.proofing.giveConsent(user.id);
    await s.proofing.record(user.id, evidence({ number: 'R1' }));
    expect(await s.proofing.revoke(user.id, user.id, 'document reported stolen')).toBe(true);
    expect(await s.proofing.verified(user.id)).toBeNull();
    expect(await s.proofing.status(user.id)).toMatchObject({ state: 'revoked', revokeReason: 'document reported stolen' });

    await s.proofing.record(user.id, evidence({ number: 'R1' }));
    expect(await s.proofing.verified(user.id)).not.toBeNull();
    const client = await s.clients.create({ name: 'Bank', redirectUris: ['http://127.0.0.1:9/cb'] });
    await s.approvals.remember(user.id, client.client.clientId, ['openid'], ['verified_claims']);
    expect((await s.proofing.export(user.id)).record?.claims.family_name).toBe('LOVELACE');

    expect(await s.proofing.withdrawConsent(user.id)).toEqual({ records: 1, apps: 1 });
    expect(await s.proofing.status(user.id)).toBeNull();
    expect(await s.proofing.verified(user.id)).toBeNull();
    expect((await s.approvals.list(user.id))[0].claims).toEqual([]);
    const exported = await s.proofing.export(user.id);
    expect(exported.record).toBeNull();
    expect(exported.consents[0].withdrawnAt).toBeInstanceOf(Date);
    await expect(s.proofing.record(user.id, evidence({ number: 'R1' }))).rejects.toMatchObject({ code: 'CONSENT_REQUIRED' });
    expect((await s.audit.list({ userId: user.id, type: 'proofing.withdraw' }, 5)).length).toBe(1);
  });
});
