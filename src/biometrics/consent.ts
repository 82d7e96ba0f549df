import type { Prisma } from '../store/database.js';
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
}

/**
 * Biometric consent (GDPR Art. 9(2)(a), BIPA 740 ILCS 14/15(b)): the notice, recording that a person agreed to a
 * version of it, checking that an agreement is in force, and withdrawal, which erases what the consent covered.
 */
export class BiometricConsent {
  readonly text = CONSENT_TEXT;
  readonly version = CONSENT_TEXT_VERSION;

  constructor(private readonly prisma: Prisma) {}

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

  /** Ends the consent and erases the templates and kept images it covered, in one transaction. */
  async withdraw(userId: string): Promise<Erased> {
    const [consents, templates, images] = await this.prisma.$transaction([
      this.prisma.biometricConsent.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: new Date() } }),
      this.prisma.faceTemplate.deleteMany({ where: { userId } }),
      this.prisma.storedImage.deleteMany({ where: { userId } }),
    ]);
    return { consents: consents.count, templates: templates.count, images: images.count };
  }
}
