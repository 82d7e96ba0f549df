import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/index.js';
import type { MatchRecords } from '../match-records/index.js';
import type { Logger } from '../ops/logger.js';
import type { SettingsStore } from '../settings/index.js';
import type { Prisma } from '../store/database.js';
import type { Prisma as P } from '../store/generated/client.js';
import type { KeyValueStore } from '../store/kv.js';

const DAY_MS = 86_400_000;
const LAST_RUN_KEY = 'retention.last-run';

export interface RetentionDeps {
  prisma: Prisma;
  settings: SettingsStore;
  audit: AuditLog;
  records: Pick<MatchRecords, 'purgeBefore'>;
}

export interface RetentionCounts {
  /** Face templates of accounts without a sign-in for `templateRetentionDays`. */
  templates: number;
  /** Enrollment images that are due (same rule), or all of them while keeping images is off. */
  images: number;
  /** Face crops kept with Face Match API records, all of them while keeping images is off. */
  matchImages: number;
  /** Biometric consents ended: inactive accounts with none of the face data they covered left. */
  consents: number;
  auditEvents: number;
  /** Face Match API records (and their images) older than `auditRetentionDays`. */
  matchRecords: number;
  /** Invite and bootstrap links past their expiry, used or not. */
  oneTimeTokens: number;
  /** Identity proofings (their sealed identity data) that expired or were revoked more than `auditRetentionDays` ago. */
  proofings: number;
}

export interface RetentionRun extends RetentionCounts {
  at: string;
}

/**
 * One purge pass (BIPA: a published retention schedule, applied automatically). An account is inactive when its
 * last sign-in — or, if it never signed in, its creation — is older than the cutoff; only its templates and images
 * made before the cutoff go, so a fresh enrollment of a dormant account survives until it too is due. When nothing
 * of an inactive account's face data is left, the consent that covered it ends (the record stays, as after a
 * withdrawal), so enrolling again asks for consent again.
 * Everything is a plain conditional write: running twice, or on two instances at once, purges nothing twice.
 */
export async function runRetention(deps: RetentionDeps, now: Date = new Date()): Promise<RetentionCounts> {
  const s = await deps.settings.get();
  const templateCutoff = new Date(now.getTime() - s.templateRetentionDays * DAY_MS);
  const auditCutoff = new Date(now.getTime() - s.auditRetentionDays * DAY_MS);
  const inactive: P.UserWhereInput = {
    OR: [{ lastSignInAt: { lt: templateCutoff } }, { lastSignInAt: null, createdAt: { lt: templateCutoff } }],
  };
  const dueTemplates: P.FaceTemplateWhereInput = { createdAt: { lt: templateCutoff }, user: inactive };
  const enrollmentImages: P.StoredImageWhereInput = { kind: 'enrollment', userId: { not: null } };
  const dueImages: P.StoredImageWhereInput = s.keepImages ? { ...enrollmentImages, createdAt: { lt: templateCutoff }, user: inactive } : enrollmentImages;
  const dueConsents: P.BiometricConsentWhereInput = {
    revokedAt: null,
    givenAt: { lt: templateCutoff },
    user: { AND: [inactive, { templates: { none: {} } }, { images: { none: {} } }] },
  };

  const templates = (await deps.prisma.faceTemplate.deleteMany({ where: dueTemplates })).count;
  const images = (await deps.prisma.storedImage.deleteMany({ where: dueImages })).count;
  const matchImages = s.keepImages ? 0 : (await deps.prisma.storedImage.deleteMany({ where: { matchRequestId: { not: null } } })).count;
  const consents = (await deps.prisma.biometricConsent.updateMany({ where: dueConsents, data: { revokedAt: now } })).count;
  const auditEvents = (await deps.prisma.auditEvent.deleteMany({ where: { at: { lt: auditCutoff } } })).count;
  const matchRecords = await deps.records.purgeBefore(auditCutoff);
  const oneTimeTokens = (await deps.prisma.oneTimeToken.deleteMany({ where: { expiresAt: { lt: now } } })).count;
  // An ended proofing stays visible (expired, revoked) for as long as the audit trail about it, then goes.
  const proofings = (await deps.prisma.identityProofing.deleteMany({ where: { OR: [{ validUntil: { lt: auditCutoff } }, { revokedAt: { lt: auditCutoff } }] } })).count;
  const counts = { templates, images, matchImages, consents, auditEvents, matchRecords, oneTimeTokens, proofings };
  if (Object.values(counts).some((n) => n > 0)) {
    await deps.audit.record({ type: 'retention.purge', outcome: 'info', details: { ...counts, templateRetentionDays: s.templateRetentionDays, auditRetentionDays: s.auditRetentionDays } });
  }
  return counts;
}

/** The last pass of the scheduled job (any instance), for the settings page. */
export async function lastRetentionRun(prisma: Prisma): Promise<RetentionRun | null> {
  const row = await prisma.setting.findUnique({ where: { key: LAST_RUN_KEY } });
  return row ? (row.value as unknown as RetentionRun) : null;
}

export interface RetentionSchedule {
  /** Stops the timer and waits for a pass in progress, so the database is not closed under it. */
  stop(): Promise<void>;
}

export interface ScheduleOptions {
  intervalMs?: number;
  /** Delay of the first pass after start, so a booting instance serves requests first. */
  firstRunMs?: number;
}

/**
 * Runs the purge every interval. With several instances each tick is claimed in the shared store, so one instance
 * runs per interval; the timers are unref'd and never keep the process alive.
 */
export function scheduleRetention(
  deps: RetentionDeps & { kv: KeyValueStore; logger: Logger },
  { intervalMs = 3600_000, firstRunMs = 60_000 }: ScheduleOptions = {},
): RetentionSchedule {
  const instance = randomUUID();
  let running: Promise<void> | null = null;
  let stopped = false;

  const tick = () => {
    if (stopped || running) return;
    running = (async () => {
      const slot = Math.floor(Date.now() / intervalMs);
      if (!(await deps.kv.setIfAbsent(`retention:slot:${slot}`, instance, Math.ceil(intervalMs / 1000)))) {
        deps.logger.debug({ slot }, 'retention pass skipped: another instance runs this interval');
        return;
      }
      const counts = await runRetention(deps);
      const run: RetentionRun = { at: new Date().toISOString(), ...counts };
      await deps.prisma.setting.upsert({
        where: { key: LAST_RUN_KEY },
        create: { key: LAST_RUN_KEY, value: { ...run }, updatedBy: 'retention' },
        update: { value: { ...run }, updatedBy: 'retention' },
      });
      deps.logger.info({ retention: counts, slot }, 'retention pass finished');
    })()
      .catch((err) => deps.logger.error({ err }, 'retention pass failed'))
      .finally(() => {
        running = null;
      });
  };

  const first = setTimeout(tick, firstRunMs);
  const every = setInterval(tick, intervalMs);
  first.unref();
  every.unref();
  return {
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(every);
      await running;
    },
  };
}

/** The retention job as the console and the server use it: one pass now, the last scheduled pass, the schedule. */
export class Retention {
  constructor(private readonly deps: RetentionDeps & { kv: KeyValueStore; logger: Logger }) {}

  run(now?: Date): Promise<RetentionCounts> {
    return runRetention(this.deps, now);
  }

  lastRun(): Promise<RetentionRun | null> {
    return lastRetentionRun(this.deps.prisma);
  }

  schedule(opts?: ScheduleOptions): RetentionSchedule {
    return scheduleRetention(this.deps, opts);
  }
}
