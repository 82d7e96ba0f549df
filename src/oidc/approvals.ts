import type { Prisma } from '../store/database.js';

/**
 * The apps a person approved (OIDC consent to scopes), remembered beyond the provider's grant lifetime so an app is
 * not approved again at every sign-in. Not to be confused with biometric consent (src/biometrics).
 */
export class AppApprovals {
  constructor(private readonly prisma: Prisma) {}

  async remember(userId: string, clientId: string, scopes: string[]): Promise<void> {
    const existing = await this.prisma.oidcConsent.findUnique({ where: { userId_clientId: { userId, clientId } } });
    const merged = [...new Set([...(existing?.scopes ?? []), ...scopes])];
    await this.prisma.oidcConsent.upsert({
      where: { userId_clientId: { userId, clientId } },
      create: { userId, clientId, scopes: merged },
      update: { scopes: merged, grantedAt: new Date() },
    });
  }

  /** True when every requested scope was approved before. */
  async covers(userId: string, clientId: string, scopes: string[]): Promise<boolean> {
    const existing = await this.prisma.oidcConsent.findUnique({ where: { userId_clientId: { userId, clientId } } });
    return !!existing && scopes.every((s) => existing.scopes.includes(s));
  }

  list(userId: string) {
    return this.prisma.oidcConsent.findMany({ where: { userId }, orderBy: { grantedAt: 'desc' } });
  }

  async revoke(userId: string, clientId?: string): Promise<number> {
    const { count } = await this.prisma.oidcConsent.deleteMany({ where: { userId, clientId } });
    return count;
  }
}
