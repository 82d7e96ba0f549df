import argon2 from 'argon2';
import { z } from 'zod';
import type { Prisma } from '../store/database.js';
import type { User } from '../store/generated/client.js';

export type { User };

export class AccountError extends Error {
  constructor(
    readonly code: 'EMAIL_TAKEN' | 'NOT_FOUND' | 'INVALID_INPUT' | 'WEAK_PASSWORD',
    message: string,
  ) {
    super(message);
  }
}

const emailSchema = z.string().trim().toLowerCase().pipe(z.email());

export function normalizeEmail(input: string): string {
  const parsed = emailSchema.safeParse(input);
  if (!parsed.success) throw new AccountError('INVALID_INPUT', `"${input}" is not a valid email address`);
  return parsed.data;
}

export const MIN_PASSWORD_LENGTH = 10;

export async function hashPassword(password: string): Promise<string> {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AccountError('WEAK_PASSWORD', `passwords need at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  // OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
  return argon2.hash(password, { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });
}

/** A fixed hash verified for unknown accounts so that timing does not reveal which emails exist. */
let decoyHash: Promise<string> | null = null;

export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  decoyHash ??= argon2.hash('decoy-password-for-timing', { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });
  try {
    return await argon2.verify(hash ?? (await decoyHash), password) && hash !== null;
  } catch {
    return false;
  }
}

const validName = (input: string): string => {
  const name = input.trim();
  if (!name || name.length > 200) throw new AccountError('INVALID_INPUT', 'a name of 1 to 200 characters is required');
  return name;
};

const emailTaken = (err: unknown, message: string) => ((err as { code?: string }).code === 'P2002' ? new AccountError('EMAIL_TAKEN', message) : err);

export interface NewUser {
  email: string;
  name: string;
  password?: string | null;
  roles?: string[];
}

export interface ProfileChange {
  email: string;
  name: string;
  roles: string[];
  /** A new password, null to remove it, undefined to keep the current one. */
  password?: string | null;
}

export const USERS_PAGE_SIZE = 25;

/** Account rows; every create and update goes through the same validation. */
export class UserStore {
  constructor(private readonly prisma: Pick<Prisma, 'user'>) {}

  async create(input: NewUser): Promise<User> {
    const email = normalizeEmail(input.email);
    const name = validName(input.name);
    const passwordHash = input.password ? await hashPassword(input.password) : null;
    try {
      return await this.prisma.user.create({ data: { email, name, passwordHash, roles: input.roles ?? [] } });
    } catch (err) {
      throw emailTaken(err, `a user with email ${email} already exists`);
    }
  }

  /** Validates everything (including hashing a new password) before the single write. */
  async update(id: string, change: ProfileChange): Promise<User> {
    const email = normalizeEmail(change.email);
    const name = validName(change.name);
    const data = { email, name, roles: change.roles, ...(change.password === undefined ? {} : { passwordHash: change.password ? await hashPassword(change.password) : null }) };
    try {
      return await this.prisma.user.update({ where: { id }, data });
    } catch (err) {
      throw emailTaken(err, `another user already has the email ${email}`);
    }
  }

  /** A page of accounts whose email or name contains `query` (case-insensitive), by name. */
  async search(query: string, page: number): Promise<{ users: User[]; total: number }> {
    const where = query
      ? { OR: [{ email: { contains: query, mode: 'insensitive' as const } }, { name: { contains: query, mode: 'insensitive' as const } }] }
      : {};
    const [users, total] = await Promise.all([
      this.prisma.user.findMany({ where, orderBy: [{ name: 'asc' }, { email: 'asc' }], skip: (page - 1) * USERS_PAGE_SIZE, take: USERS_PAGE_SIZE }),
      this.prisma.user.count({ where }),
    ]);
    return { users, total };
  }

  /** Every account with its template count, oldest first (the CLI's list). */
  listWithTemplateCounts() {
    return this.prisma.user.findMany({ orderBy: { createdAt: 'asc' }, include: { _count: { select: { templates: true } } } });
  }

  /** Emails of the accounts among `ids` that still exist. */
  async emails(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.prisma.user.findMany({ where: { id: { in: ids } }, select: { id: true, email: true } });
    return new Map(rows.map((u) => [u.id, u.email]));
  }

  async setStatus(id: string, status: 'ACTIVE' | 'DISABLED'): Promise<void> {
    await this.prisma.user.update({ where: { id }, data: { status } });
  }

  byId(id: string): Promise<User | null> {
    return z.uuid().safeParse(id).success ? this.prisma.user.findUnique({ where: { id } }) : Promise.resolve(null);
  }

  byEmail(email: string): Promise<User | null> {
    const parsed = emailSchema.safeParse(email);
    return parsed.success ? this.prisma.user.findUnique({ where: { email: parsed.data } }) : Promise.resolve(null);
  }

  async require(idOrEmail: string): Promise<User> {
    const user = idOrEmail.includes('@') ? await this.byEmail(idOrEmail) : await this.byId(idOrEmail);
    if (!user) throw new AccountError('NOT_FOUND', `no user ${idOrEmail}`);
    return user;
  }

  async countAdmins(): Promise<number> {
    return this.prisma.user.count({ where: { roles: { has: 'admin' } } });
  }

  /** Disables the face factor until an administrator re-enables it (NIST SP 800-63B-4 lockout). */
  async lockFace(id: string): Promise<void> {
    await this.prisma.user.update({ where: { id }, data: { faceLockedAt: new Date() } });
  }

  async unlockFace(id: string): Promise<void> {
    await this.prisma.user.update({ where: { id }, data: { faceLockedAt: null } });
  }

  async recordSignIn(id: string): Promise<void> {
    await this.prisma.user.update({ where: { id }, data: { lastSignInAt: new Date() } });
  }

  /** Deletes the account; templates, consents, images and one-time tokens go with it (cascade). */
  async delete(id: string): Promise<User> {
    try {
      return await this.prisma.user.delete({ where: { id } });
    } catch (err) {
      if ((err as { code?: string }).code === 'P2025') throw new AccountError('NOT_FOUND', `no user ${id}`);
      throw err;
    }
  }
}
