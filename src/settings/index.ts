import { z } from 'zod';
import type { Config } from '../config/index.js';
import type { Prisma } from '../store/database.js';

/** Operator settings changed at run time from the admin UI; defaults come from the environment. */
export const settingsSchema = z.object({
  matchPreset: z.enum(['far-1e-3', 'far-1e-4', 'far-1e-5']),
  livenessThreshold: z.number().min(0).max(1),
  faceFailuresBeforeDelay: z.number().int().min(1).max(100),
  failureDelaySeconds: z.number().int().min(30).max(3600),
  faceFailuresBeforeLockout: z.number().int().min(2).max(10000),
  /** Password failures have their own thresholds, so a flood of wrong passwords never blocks the face factor (or the reverse). */
  passwordFailuresBeforeDelay: z.number().int().min(1).max(100),
  passwordFailuresBeforeLockout: z.number().int().min(2).max(10000),
  /** Templates of accounts without a sign-in for this many days are purged (BIPA: at most 3 years). */
  templateRetentionDays: z.number().int().min(1).max(1095),
  auditRetentionDays: z.number().int().min(1).max(3650),
  /** Keep enrollment and match images (sealed). Off by default: templates are enough to verify. */
  keepImages: z.boolean(),
  /** Face Match API decisions: similarity (0-100 score) at or above which a match is accepted / sent to review. */
  apiAcceptScore: z.number().min(0).max(100),
  apiReviewScore: z.number().min(0).max(100),
  /** The admin console asks administrators for a passkey and their face (acr face+passkey). */
  adminPasskeyRequired: z.boolean(),
  /** People may prove their identity with a document and their face on the account page (src/proofing). */
  proofingEnabled: z.boolean(),
  /** The end of an invitation's enrollment asks the person to confirm their identity right away (needs proofingEnabled). */
  proofingAfterInvite: z.boolean(),
  /** Keep the document number of a proofing, sealed (off: only its keyed hash). */
  proofingKeepDocumentNumber: z.boolean(),
  /** A proofing stays valid this many days (and never past the document's expiry). */
  proofingValidityDays: z.number().int().min(1).max(3650),
});

export type Settings = z.infer<typeof settingsSchema>;

const KEY = 'runtime';
const CACHE_MS = 5_000;

export function defaultSettings(config: Config): Settings {
  return {
    matchPreset: config.face.matchPreset,
    livenessThreshold: config.face.livenessThreshold,
    faceFailuresBeforeDelay: config.limits.faceFailuresBeforeDelay,
    failureDelaySeconds: config.limits.failureDelaySeconds,
    faceFailuresBeforeLockout: config.limits.faceFailuresBeforeLockout,
    passwordFailuresBeforeDelay: 5,
    passwordFailuresBeforeLockout: 20,
    templateRetentionDays: 365,
    auditRetentionDays: 365,
    keepImages: false,
    apiAcceptScore: 80,
    apiReviewScore: 70,
    adminPasskeyRequired: false,
    proofingEnabled: false,
    proofingAfterInvite: false,
    proofingKeepDocumentNumber: false,
    proofingValidityDays: 365,
  };
}

/**
 * Settings live in the database so every instance sees an admin's change; each instance re-reads them at most
 * every few seconds instead of on every request.
 */
export class SettingsStore {
  private cached: { value: Settings; at: number } | null = null;
  private readonly listeners: ((s: Settings) => void)[] = [];

  constructor(
    private readonly prisma: Prisma,
    private readonly defaults: Settings,
  ) {}

  async get(): Promise<Settings> {
    if (this.cached && Date.now() - this.cached.at < CACHE_MS) return this.cached.value;
    const row = await this.prisma.setting.findUnique({ where: { key: KEY } });
    const stored = settingsSchema.partial().safeParse(row?.value ?? {});
    const value = { ...this.defaults, ...(stored.success ? stored.data : {}) };
    const changed = JSON.stringify(value) !== JSON.stringify(this.cached?.value);
    this.cached = { value, at: Date.now() };
    if (changed) for (const listener of this.listeners) listener(value);
    return value;
  }

  /**
   * The stored settings as they are now, past the cache: for decisions an administrator's change must reach at once
   * on every instance (one read per call; e.g. once per drawn challenge).
   */
  async current(): Promise<Settings> {
    this.cached = null;
    return this.get();
  }

  /** Validates and stores a change; throws a ZodError describing the bad fields. */
  async update(patch: Partial<Settings>, by: string): Promise<Settings> {
    const next = settingsSchema.parse({ ...(await this.get()), ...patch });
    await this.prisma.setting.upsert({
      where: { key: KEY },
      create: { key: KEY, value: next, updatedBy: by },
      update: { value: next, updatedBy: by },
    });
    this.cached = null;
    return this.get();
  }

  /** Called whenever a read finds different settings (e.g. to push thresholds into the face engine). */
  onChange(listener: (s: Settings) => void): void {
    this.listeners.push(listener);
  }
}
