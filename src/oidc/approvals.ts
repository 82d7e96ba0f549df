import type { Prisma } from '../store/database.js';

/**
 * The apps a person approved (OIDC consent to scopes, and to claims beyond them such as verified_claims), remembered
 * beyond the provider's grant lifetime so an app is not approved again at every sign-in. Not to be confused with
 * biometric consent (src/biometrics) or the identity-proofing consent (src/proofing).
 */
export class AppApprovals {
  constructor(private readonly prisma: Prisma) {}

  async remember(userId: string, clientId: string, scopes: string[], claims: string[] = []): Promise<void> {
    const existing = await this.prisma.oidcConsent.findUnique({ where: { userId_clientId: { userId, clientId } } });
    const merged = [...new Set([...(existing?.scopes ?? []), ...scopes])];
    const mergedClaims = [...new Set([...(existing?.claims ?? []), ...claims])];
    await this.prisma.oidcConsent.upsert({
      where: { userId_clientId: { userId, clientId } },
      create: { userId, clientId, scopes: merged, claims: mergedClaims },
      update: { scopes: merged, claims: mergedClaims, grantedAt: new Date() },
    });
  }

  /** True when every requested scope was approved before. */
  async covers(userId: string, clientId: string, scopes: string[]): Promise<boolean> {
    return (await this.approved(userId, clientId, scopes)) !== null;
  }

  /** The claims released to the app beyond its scopes when every requested scope was approved before; else null. */
  async approved(userId: string, clientId: string, scopes: string[]): Promise<{ claims: string[] } | null> {
    const existing = await this.prisma.oidcConsent.findUnique({ where: { userId_clientId: { userId, clientId } } });
    if (!existing || !scopes.every((s) => existing.scopes.includes(s))) return null;
    return { claims: existing.claims };
  }

  list(userId: string) {
    return this.prisma.oidcConsent.findMany({ where: { userId }, orderBy: { grantedAt: 'desc' } });
  }

  async revoke(userId: string, clientId?: string): Promise<number> {
    const { count } = await this.prisma.oidcConsent.deleteMany({ where: { userId, clientId } });
    return count;
  }
}
