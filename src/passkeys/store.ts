import { z } from 'zod';
import type { Prisma } from '../store/database.js';
import type { Passkey } from '../store/generated/client.js';

export type { Passkey };

export interface NewPasskey {
  credentialId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  counter: number;
  transports: string[];
  aaguid: string;
  backupEligible: boolean;
  backedUp: boolean;
  name: string;
  boundWith: 'face' | 'passkey' | 'invite';
  /** Set for a key bound with another key that was approved (it inherits the approval). */
  approvedAt: Date | null;
}

const isId = (id: string) => z.uuid().safeParse(id).success;

/** Passkey rows; only public keys are stored, so nothing here is secret. */
export class PasskeyStore {
  constructor(private readonly prisma: Pick<Prisma, 'passkey'>) {}

  /** null when the credential is registered already (to any account). */
  async add(userId: string, key: NewPasskey): Promise<Passkey | null> {
    try {
      return await this.prisma.passkey.create({ data: { userId, ...key, counter: BigInt(key.counter) } });
    } catch (err) {
      if ((err as { code?: string }).code === 'P2002') return null;
      throw err;
    }
  }

  byCredentialId(credentialId: string): Promise<Passkey | null> {
    return this.prisma.passkey.findUnique({ where: { credentialId } });
  }

  forUser(userId: string): Promise<Passkey[]> {
    return this.prisma.passkey.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });
  }

  count(userId: string): Promise<number> {
    return this.prisma.passkey.count({ where: { userId } });
  }

  /**
   * Stores the counter of a use, only if no other use got there first (compare-and-set on the old counter): two
   * answers carrying the same counter cannot both be accepted.
   */
  async recordUse(id: string, from: bigint, counter: number, backedUp: boolean): Promise<boolean> {
    const { count } = await this.prisma.passkey.updateMany({ where: { id, counter: from }, data: { counter: BigInt(counter), backedUp, lastUsedAt: new Date() } });
    return count === 1;
  }

  /** Records an administrator's approval; false when the account has no such key. */
  async approve(userId: string, id: string, adminId: string): Promise<boolean> {
    if (!isId(id)) return false;
    const { count } = await this.prisma.passkey.updateMany({ where: { id, userId }, data: { approvedAt: new Date(), approvedBy: adminId } });
    return count === 1;
  }

  async rename(userId: string, id: string, name: string): Promise<boolean> {
    if (!isId(id)) return false;
    const { count } = await this.prisma.passkey.updateMany({ where: { id, userId }, data: { name } });
    return count === 1;
  }

  /** The removed row, or null when the account has no such passkey. */
  async remove(userId: string, id: string): Promise<Passkey | null> {
    if (!isId(id)) return null;
    const row = await this.prisma.passkey.findFirst({ where: { id, userId } });
    if (!row) return null;
    const { count } = await this.prisma.passkey.deleteMany({ where: { id, userId } });
    return count === 1 ? row : null;
  }
}
