import type { Prisma, Tx } from '../store/database.js';
import type { Prisma as P } from '../store/generated/client.js';

export type { IdentityProofing as ProofingRow, ProofingConsent as ProofingConsentRow } from '../store/generated/client.js';

export type ProofingInsert = Omit<P.IdentityProofingUncheckedCreateInput, 'id' | 'revokedAt' | 'revokedBy' | 'revokeReason'>;

/** The queries of identity proofing: records and consents. No rules here; the library (service.ts) owns them. */
export class ProofingStore {
  constructor(readonly prisma: Prisma) {}

  /** The account's row for the rest of the transaction: a proofing and a withdrawal of the same account serialise. */
  async lockAccount(tx: Tx, userId: string): Promise<void> {
    await tx.$queryRaw`SELECT id FROM users WHERE id = ${userId}::uuid FOR UPDATE`;
  }

  record(userId: string) {
    return this.prisma.identityProofing.findUnique({ where: { userId } });
  }

  records(userIds: string[]) {
    return this.prisma.identityProofing.findMany({ where: { userId: { in: userIds } } });
  }

  /** A record of another account for the same document that has not been revoked. */
  otherHolder(tx: Tx, documentNumberHash: string, userId: string) {
    return tx.identityProofing.findFirst({ where: { documentNumberHash, userId: { not: userId }, revokedAt: null } });
  }

  /** Replaces the account's record (one per account: a new proofing supersedes the last). */
  replace(tx: Tx, data: ProofingInsert) {
    const { userId, ...rest } = data;
    return tx.identityProofing.upsert({
      where: { userId },
      create: data,
      update: { ...rest, documentNumber: rest.documentNumber ?? null, verifiedAt: new Date(), revokedAt: null, revokedBy: null, revokeReason: null },
    });
  }

  async revoke(userId: string, by: string, reason: string): Promise<boolean> {
    const { count } = await this.prisma.identityProofing.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: new Date(), revokedBy: by, revokeReason: reason } });
    return count > 0;
  }

  consentInForce(db: Prisma | Tx, userId: string) {
    return db.proofingConsent.findFirst({ where: { userId, withdrawnAt: null }, orderBy: { givenAt: 'desc' } });
  }

  consents(userId: string) {
    return this.prisma.proofingConsent.findMany({ where: { userId }, orderBy: { givenAt: 'desc' } });
  }

  createConsent(userId: string, textVersion: string) {
    return this.prisma.proofingConsent.create({ data: { userId, textVersion } });
  }

  /** Ends the consent and deletes the record and the apps' release of verified claims, in one transaction. */
  withdraw(userId: string) {
    return this.prisma.$transaction(async (tx) => {
      await this.lockAccount(tx, userId);
      const consents = await tx.proofingConsent.updateMany({ where: { userId, withdrawnAt: null }, data: { withdrawnAt: new Date() } });
      const records = await tx.identityProofing.deleteMany({ where: { userId } });
      const apps = await tx.$executeRaw`UPDATE oidc_consents SET claims = array_remove(claims, 'verified_claims') WHERE user_id = ${userId}::uuid AND 'verified_claims' = ANY(claims)`;
      return { consents: consents.count, records: records.count, apps };
    });
  }
}
