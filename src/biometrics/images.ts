import type { Sealer } from '../store/crypto.js';
import { randomToken } from '../store/crypto.js';
import type { Prisma, Tx } from '../store/database.js';

/** Enrollment photos kept (sealed) when the operator turns that on; templates alone are enough to verify. */
export class EnrollmentImages {
  constructor(
    private readonly prisma: Prisma,
    private readonly sealer: Sealer,
  ) {}

  /** `db`: the transaction of the write's consent check (BiometricConsent.whileInForce). */
  async keep(userId: string, image: Uint8Array, db: Tx | Prisma = this.prisma): Promise<void> {
    await db.storedImage.create({
      data: { key: randomToken(18), kind: 'enrollment', userId, data: this.sealer.seal(image, `image:${userId}`) },
    });
  }

  /** Deletes the account's kept enrollment photos (a re-enrollment makes them obsolete). */
  async removeEnrollment(userId: string, db: Tx | Prisma = this.prisma): Promise<number> {
    const { count } = await db.storedImage.deleteMany({ where: { userId, kind: 'enrollment' } });
    return count;
  }

  count(userId: string): Promise<number> {
    return this.prisma.storedImage.count({ where: { userId } });
  }
}
