import { randomToken, sha256Hex } from '../store/crypto.js';
import type { Prisma } from '../store/database.js';
import { type NewUser, UserStore } from './users.js';

const PURPOSE = 'bootstrap';
const TTL_MS = 3600_000;

export class BootstrapError extends Error {
  constructor(message: string) {
    super(message);
  }
}

/**
 * The first administrator. While no admin exists the server prints a one-time link (single use, one hour): whoever
 * can read the server's console creates the first admin account with it. Only a hash of the token is stored.
 */
export class FirstAdmin {
  constructor(private readonly prisma: Prisma) {}

  /** A new link, or null when an administrator exists already. */
  async issueLink(issuer: string): Promise<string | null> {
    if ((await new UserStore(this.prisma).countAdmins()) > 0) return null;
    const token = randomToken();
    await this.prisma.oneTimeToken.create({ data: { id: sha256Hex(token), purpose: PURPOSE, expiresAt: new Date(Date.now() + TTL_MS) } });
    return `${issuer}/bootstrap/${token}`;
  }

  /** The stored id of a live (unused, unexpired) link token, or null. */
  async open(token: string): Promise<string | null> {
    const id = sha256Hex(token);
    const row = await this.prisma.oneTimeToken.findUnique({ where: { id } });
    return row && row.purpose === PURPOSE && !row.usedAt && row.expiresAt >= new Date() ? id : null;
  }

  /** Claims the link and creates the admin: both succeed or neither does. Throws AccountError or BootstrapError. */
  async createAdmin(id: string, input: Omit<NewUser, 'roles'>): Promise<string> {
    return this.prisma.$transaction(async (tx) => {
      const claimed = await tx.oneTimeToken.updateMany({ where: { id, usedAt: null, expiresAt: { gt: new Date() } }, data: { usedAt: new Date() } });
      if (claimed.count !== 1) throw new BootstrapError('This bootstrap link was just used.');
      return (await new UserStore(tx).create({ ...input, roles: ['admin'] })).id;
    });
  }
}

