import type { Prisma, Tx } from '../store/database.js';
import { CONSENT_TEXT, CONSENT_TEXT_VERSION } from './consent-text.js';

/**
 * Who collected a biometric consent: an administrator (by account id), the person themselves through an invite
 * link, or an operator on the command line. Stored as one string column; this module is the only one that reads it.
 */
export type Collector = { kind: 'admin'; adminId: string } | { kind: 'self' } | { kind: 'cli' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCollector(c: Collector): string {
  return c.kind === 'admin' ? c.adminId : c.kind;
}

export function decodeCollector(stored: string): Collector {
  if (UUID.test(stored)) return { kind: 'admin', adminId: stored };
  return stored === 'self' ? { kind: 'self' } : { kind: 'cli' };
}

/** The account id behind a collector, for audit actor columns; null when nobody with an account collected it. */
export const collectorAccount = (c: Collector): string | null => (c.kind === 'admin' ? c.adminId : null);

export interface ConsentRecord {
  id: string;
  textVersion: string;
  givenAt: Date;
  collector: Collector;
}

export interface Erased {
  consents: number;
  templates: number;
  images: number;
  /** Face Match API records that named the person (their sealed face crops go with them). */
  matchRecords: number;
  /** Replay fingerprints (perceptual hashes of recent frames) in the shared store. */
  replayHashes: number;
}

/**
 * The lock every biometric write of an account takes, and withdrawal too: the account's row, for the rest of the
 * transaction. A writer that gets it after a withdrawal sees the consent ended and writes nothing.
 */
async function lockAccount(tx: Tx, userId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM users WHERE id = ${userId}::uuid FOR UPDATE`;
}

/**
 * Biometric consent (GDPR Art. 9(2)(a), BIPA 740 ILCS 14/15(b)): the notice, recording that a person agreed to a
 * version of it, checking that an agreement is in force, and withdrawal, which erases what the consent covered.
 */
export class BiometricConsent {
  readonly text = CONSENT_TEXT;
  readonly version = CONSENT_TEXT_VERSION;

  constructor(
    private readonly prisma: Prisma,
    /** Erases the account's face traces outside the database (replay fingerprints, challenges in flight); their count. */
    private readonly forgetTraces: (userId: string) => Promise<number> = async () => 0,
  ) {}

  /** The consent in force (the latest not withdrawn), or null. */
  async current(userId: string): Promise<ConsentRecord | null> {
    const row = await this.prisma.biometricConsent.findFirst({ where: { userId, revokedAt: null }, orderBy: { givenAt: 'desc' } });
    return row ? { id: row.id, textVersion: row.textVersion, givenAt: row.givenAt, collector: decodeCollector(row.collectedBy) } : null;
  }

  /** Every consent the person gave, newest first, with when it was withdrawn (what a data download lists). */
  async history(userId: string): Promise<(ConsentRecord & { revokedAt: Date | null })[]> {
    const rows = await this.prisma.biometricConsent.findMany({ where: { userId }, orderBy: { givenAt: 'desc' } });
    return rows.map((r) => ({ id: r.id, textVersion: r.textVersion, givenAt: r.givenAt, collector: decodeCollector(r.collectedBy), revokedAt: r.revokedAt }));
  }

  async inForce(userId: string): Promise<boolean> {
    return (await this.prisma.biometricConsent.count({ where: { userId, revokedAt: null } })) > 0;
  }

  /** Records agreement to the current notice unless one is already in force; true when this call recorded it. */
  async record(userId: string, collector: Collector): Promise<boolean> {
    if (await this.inForce(userId)) return false;
    await this.prisma.biometricConsent.create({ data: { userId, collectedBy: encodeCollector(collector), textVersion: this.version } });
    return true;
  }

  /**
   * Runs `write` (a template or kept photo of the account) in a transaction that holds the account's lock and only
   * while a consent is in force; null, having written nothing, when none is. Enrollment checks the consent early too,
   * but only this check, under the lock, decides: a withdrawal between the two wins.
   */
  async whileInForce<T>(userId: string, write: (tx: Tx) => Promise<T>): Promise<T | null> {
    return this.prisma.$transaction(async (tx) => {
      await lockAccount(tx, userId);
      if ((await tx.biometricConsent.count({ where: { userId, revokedAt: null } })) === 0) return null;
      return write(tx);
    });
  }

  /**
   * Ends the consent and erases everything the notice says it covers, in one transaction under the account's lock:
   * templates, kept enrollment photos, and Face Match API records that named the person with their sealed crops. An
   * enrollment or re-enrollment in flight then finds no consent and writes nothing (whileInForce). The face traces
   * in the shared store (replay fingerprints, challenges in flight) go right after the commit. Audit events stay:
   * they hold no biometric data (README "What withdrawal erases").
   */
  async withdraw(userId: string): Promise<Erased> {
    const erased = await this.prisma.$transaction(async (tx) => {
      await lockAccount(tx, userId);
      const consents = await tx.biometricConsent.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: new Date() } });
      const templates = await tx.faceTemplate.deleteMany({ where: { userId } });
      const images = await tx.storedImage.deleteMany({ where: { userId } });
      const matchRecords = await tx.matchRecord.deleteMany({ where: { subjectUserId: userId } });
      return { consents: consents.count, templates: templates.count, images: images.count, matchRecords: matchRecords.count };
    });
    return { ...erased, replayHashes: await this.forgetTraces(userId) };
  }
}
