import { randomToken, sha256Hex } from '../store/crypto.js';
import type { Prisma } from '../store/database.js';

const PURPOSE = 'enroll-invite';
export const INVITE_TTL_HOURS = 72;

export interface Invite {
  /** SHA-256 of the token: what the database keeps and what CSRF tokens bind to. */
  id: string;
  userId: string;
  expiresAt: Date;
}

/**
 * Single-use links with which a person enrolls their own face (camera and liveness check). Only a hash of the
 * token is stored; the link itself is shown once, to the administrator who creates it.
 */
export class InviteStore {
  constructor(private readonly prisma: Prisma) {}

  /** A new link; earlier unused links of the same person stop working, so only one is ever live. */
  async create(userId: string, createdBy: string, ttlHours = INVITE_TTL_HOURS): Promise<{ token: string; expiresAt: Date }> {
    const token = randomToken();
    const expiresAt = new Date(Date.now() + ttlHours * 3600_000);
    await this.prisma.$transaction([
      this.prisma.oneTimeToken.deleteMany({ where: { purpose: PURPOSE, userId, usedAt: null } }),
      this.prisma.oneTimeToken.create({ data: { id: sha256Hex(token), purpose: PURPOSE, userId, createdBy, expiresAt } }),
    ]);
    return { token, expiresAt };
  }

  /** The invite behind a live (unused, unexpired) link, or null. */
  async open(token: string): Promise<Invite | null> {
    const row = await this.prisma.oneTimeToken.findUnique({ where: { id: sha256Hex(token) } });
    if (!row || row.purpose !== PURPOSE || !row.userId || row.usedAt || row.expiresAt <= new Date()) return null;
    return { id: row.id, userId: row.userId, expiresAt: row.expiresAt };
  }

  /** The account of a link that was used to enroll, for the confirmation page. */
  async usedBy(token: string): Promise<string | null> {
    const row = await this.prisma.oneTimeToken.findUnique({ where: { id: sha256Hex(token) } });
    return row?.purpose === PURPOSE && row.usedAt ? row.userId : null;
  }

  /** Marks the link used; false when another request got there first. */
  async claim(id: string): Promise<boolean> {
    const { count } = await this.prisma.oneTimeToken.updateMany({ where: { id, usedAt: null, expiresAt: { gt: new Date() } }, data: { usedAt: new Date() } });
    return count === 1;
  }

  /** Gives a claimed link back after a capture that was not accepted, so the person can try again. */
  async release(id: string): Promise<void> {
    await this.prisma.oneTimeToken.updateMany({ where: { id }, data: { usedAt: null } });
  }

  /** The live link of a person, if any (its expiry, not the token). */
  pending(userId: string) {
    return this.prisma.oneTimeToken.findFirst({
      where: { purpose: PURPOSE, userId, usedAt: null, expiresAt: { gt: new Date() } },
      select: { expiresAt: true, createdAt: true },
      orderBy: { createdAt: 'desc' },
    });
  }
}
