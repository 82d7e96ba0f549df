import { AccountError, hashPassword, normalizeEmail, type User, type UserStore } from '../accounts/users.js';
import { AttemptLimiter } from '../interaction/limits.js';
import type { Prisma } from '../store/database.js';
import type { KeyValueStore } from '../store/kv.js';
import type { OidcSessions } from './oidc-sessions.js';

export const PAGE_SIZE = 25;

export interface UserRow extends User {
  /** Templates usable with the running face model. */
  templates: number;
  /** Templates of another model, which need re-enrollment. */
  outdated: number;
}

export interface ProfileInput {
  email: string;
  name: string;
  admin: boolean;
  /** A new password, or null to keep the current one. */
  password: string | null;
  removePassword: boolean;
}

/** The account operations behind the Users pages; each leaves nothing half-done when it fails. */
export class AccountAdmin {
  private readonly faceAttempts: AttemptLimiter;

  constructor(
    private readonly prisma: Prisma,
    private readonly users: UserStore,
    private readonly sessions: OidcSessions,
    kv: KeyValueStore,
  ) {
    this.faceAttempts = new AttemptLimiter(kv, 'face');
  }

  async search(query: string, page: number, modelId: string): Promise<{ rows: UserRow[]; total: number }> {
    const where = query
      ? { OR: [{ email: { contains: query, mode: 'insensitive' as const } }, { name: { contains: query, mode: 'insensitive' as const } }] }
      : {};
    const [users, total] = await Promise.all([
      this.prisma.user.findMany({ where, orderBy: [{ name: 'asc' }, { email: 'asc' }], skip: (page - 1) * PAGE_SIZE, take: PAGE_SIZE }),
      this.prisma.user.count({ where }),
    ]);
    const counts = await this.prisma.faceTemplate.groupBy({ by: ['userId', 'modelId'], where: { userId: { in: users.map((u) => u.id) } }, _count: { _all: true } });
    const rows = users.map((u) => {
      const mine = counts.filter((c) => c.userId === u.id);
      const current = mine.find((c) => c.modelId === modelId)?._count._all ?? 0;
      const all = mine.reduce((n, c) => n + c._count._all, 0);
      return { ...u, templates: current, outdated: all - current };
    });
    return { rows, total };
  }

  /** Validates everything (including hashing a new password) before the single write. */
  async updateProfile(user: User, input: ProfileInput, self: boolean): Promise<User> {
    const email = normalizeEmail(input.email);
    const name = input.name.trim();
    if (!name || name.length > 200) throw new AccountError('INVALID_INPUT', 'A name of 1 to 200 characters is required.');
    if (self && !input.admin) throw new AccountError('INVALID_INPUT', 'You cannot remove your own admin role; ask another administrator.');
    const roles = input.admin ? [...new Set([...user.roles, 'admin'])] : user.roles.filter((r) => r !== 'admin');
    const passwordHash = input.removePassword ? null : input.password ? await hashPassword(input.password) : user.passwordHash;
    try {
      return await this.prisma.user.update({ where: { id: user.id }, data: { email, name, roles, passwordHash } });
    } catch (err) {
      if ((err as { code?: string }).code === 'P2002') throw new AccountError('EMAIL_TAKEN', `Another user already has the email ${email}.`);
      throw err;
    }
  }

  /** Disabling also ends the person's sessions and grants, so apps lose access at their next token refresh. */
  async setStatus(user: User, status: 'ACTIVE' | 'DISABLED'): Promise<void> {
    await this.prisma.user.update({ where: { id: user.id }, data: { status } });
    if (status === 'DISABLED') await this.sessions.revokeAll(user.id);
  }

  /** Consecutive failed face attempts (the counter the sign-in's delay and lockout read). */
  faceFailures(user: User): Promise<number> {
    return this.faceAttempts.failures(user.id);
  }

  /** Re-enables the face factor after a lockout: the durable flag and the consecutive-failure counters. */
  async unlockFace(user: User): Promise<void> {
    await this.prisma.user.update({ where: { id: user.id }, data: { faceLockedAt: null } });
    await this.faceAttempts.reset(user.id);
  }

  /**
   * Ends sessions first (they live outside the database), then deletes the row: templates, consents, stored images
   * and one-time links go with it by cascade. Returns what was erased, for the audit record.
   */
  async delete(user: User): Promise<{ templates: number; images: number; sessions: number; grants: number }> {
    const [templates, images] = await Promise.all([
      this.prisma.faceTemplate.count({ where: { userId: user.id } }),
      this.prisma.storedImage.count({ where: { userId: user.id } }),
    ]);
    const ended = await this.sessions.revokeAll(user.id);
    await this.users.delete(user.id);
    await this.faceAttempts.reset(user.id);
    return { templates, images, ...ended };
  }
}
