import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type Provider from 'oidc-provider';
import type { Config } from '../config/index.js';
import { FirstAdmin } from '../accounts/bootstrap.js';
import { AccountService } from '../accounts/service.js';
import { UserStore } from '../accounts/users.js';
import { AuditLog } from '../audit/index.js';
import type { Challenge } from '../challenge/index.js';
import { BiometricConsent, Enrollment, EnrollmentImages, InviteStore, TemplateStore } from '../biometrics/index.js';
import { DocumentReader } from '../documents/index.js';
import { createFaceEngine, MATCH_PRESETS, type FaceEngine } from '../face/index.js';
import { MatchRecords } from '../match-records/index.js';
import { createAdapterFactory } from '../oidc/adapter.js';
import { AppApprovals } from '../oidc/approvals.js';
import { BackchannelLogouts } from '../oidc/backchannel.js';
import { ClientStore } from '../oidc/clients.js';
import { loadCookieKeys, signingKeyTimes, SigningKeys, type KeyWatch } from '../oidc/keys.js';
import { replaceSigningKeys } from '../oidc/provider-keys.js';
import { createProvider } from '../oidc/provider.js';
import { OidcSessions } from '../oidc/sessions.js';
import { Passkeys, PasskeyStore } from '../passkeys/index.js';
import { IdentityProofing, ProofingFlow, ProofingStore } from '../proofing/index.js';
import { createLogger, type Logger } from '../ops/logger.js';
import { createMetrics, type Metrics } from '../ops/metrics.js';
import { Retention } from '../retention/index.js';
import { defaultSettings, SettingsStore } from '../settings/index.js';
import { InteractionStateStore } from '../sign-in/state.js';
import { createSealer, type Sealer } from '../store/crypto.js';
import { openDatabase, type Database } from '../store/database.js';
import { connectRedis, memoryKeyValueStore, redisKeyValueStore, type KeyValueStore } from '../store/kv.js';
import { type ChallengeEvent, ChallengeStats, FaceVerification, forgetFaceTraces } from '../verification/index.js';
import { Csrf } from '../web/csrf.js';
import { RateWindows } from '../web/rate-limit.js';
import { ensureBuiltInClients } from './builtin-clients.js';
import { embeddedSecretKey } from './secret-key.js';

/** Stores and domain services every CLI command and the server share (no face engine, no provider). */
export interface Services {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  db: Database;
  redis: Redis | null;
  kv: KeyValueStore;
  sealer: Sealer;
  csrf: Csrf;
  /** Signs device cookies (see verification/devices.ts). */
  deviceKey: Buffer;
  users: UserStore;
  templates: TemplateStore;
  consent: BiometricConsent;
  images: EnrollmentImages;
  invites: InviteStore;
  firstAdmin: FirstAdmin;
  approvals: AppApprovals;
  clients: ClientStore;
  audit: AuditLog;
  settings: SettingsStore;
  records: MatchRecords;
  retention: Retention;
  passkeys: Passkeys;
  /** Identity proofing: records, its consent, verified claims. */
  proofing: IdentityProofing;
  close(): Promise<void>;
}

/** Everything the HTTP server needs on top: the face engine and the services built on it, keys and the provider. */
export interface ServerServices extends Services {
  engine: FaceEngine;
  /** Identity-document reading (MRZ); its Tesseract workers start on the first read. */
  documents: Pick<DocumentReader, 'read' | 'close'>;
  enrollment: Enrollment;
  verification: FaceVerification;
  /** The challenge's daily field statistics (console). */
  challengeStats: ChallengeStats;
  /** Identity proofing's document and camera checks. */
  proofingFlow: ProofingFlow;
  provider: Provider;
  sessions: OidcSessions;
  /** The back-channel logout queue; `listen` starts draining it. */
  logouts: BackchannelLogouts;
  accounts: AccountService;
  states: InteractionStateStore;
  rate: RateWindows;
  /** Starts following signing-key rotations (what `listen` does): the provider picks them up without a restart. */
  followSigningKeys(): KeyWatch;
}

/** Parts a test (or the benchmark) may supply instead of the configured ones. */
export interface ServiceOverrides {
  logger?: Logger;
  /** A key-value store to use instead of REDIS_URL / memory. */
  kv?: KeyValueStore;
  engine?: FaceEngine;
  /** Draws the sign-in challenges instead of at random (tests force a sequence they can perform). */
  drawChallenge?: () => Challenge;
}

/** Database (migrated), stores and crypto: what every CLI command and the server share. */
export async function openServices(config: Config, holder: string, overrides: ServiceOverrides = {}): Promise<Services> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, holder });
  const closers: (() => Promise<void>)[] = [() => db.close()];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    await db.migrate();
    const key = config.secretKey ?? embeddedSecretKey(config.dataDir);
    const sealer = createSealer(key);
    const redis = !overrides.kv && config.redisUrl ? connectRedis(config.redisUrl, config.redisKeyPrefix) : null;
    const kv = overrides.kv ?? (redis ? redisKeyValueStore(redis) : memoryKeyValueStore());
    closers.push(() => kv.close());
    const { prisma } = db;
    const settings = new SettingsStore(prisma, defaultSettings(config));
    const audit = new AuditLog(prisma);
    const records = new MatchRecords(prisma, sealer);
    const users = new UserStore(prisma);
    return {
      config,
      logger,
      metrics: createMetrics(),
      db,
      redis,
      kv,
      sealer,
      csrf: new Csrf(createHash('sha256').update(key).update('csrf').digest()),
      deviceKey: createHash('sha256').update(key).update('device').digest(),
      users,
      templates: new TemplateStore(prisma, sealer),
      consent: new BiometricConsent(prisma, (userId) => forgetFaceTraces(kv, userId)),
      images: new EnrollmentImages(prisma, sealer),
      invites: new InviteStore(prisma),
      firstAdmin: new FirstAdmin(prisma),
      approvals: new AppApprovals(prisma),
      clients: new ClientStore(prisma, sealer, { allowHttpLoopback: new URL(config.issuer).protocol === 'http:' }),
      audit,
      settings,
      records,
      retention: new Retention({ prisma, settings, audit, records, kv, logger }),
      passkeys: new Passkeys({ issuer: config.issuer, rpName: 'face-oidc', store: new PasskeyStore(prisma), kv, users, audit }),
      proofing: new IdentityProofing({ store: new ProofingStore(prisma), sealer, documentKey: createHash('sha256').update(key).update('proofing-document').digest(), settings, audit }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The challenge's field statistics as Prometheus metrics (the same events the console's daily counters get). */
function countChallenge(metrics: Metrics, event: ChallengeEvent): void {
  const { surface } = event;
  if (event.kind === 'started') return void metrics.challengesStarted.inc({ surface });
  metrics.challengeOutcomes.inc({ surface, outcome: event.kind, reason: event.kind === 'refused' ? event.reason.toLowerCase() : 'verified' });
  if (event.kind === 'passed') metrics.challengeDuration.observe({ surface }, event.durationMs / 1000);
  if (event.kind === 'passed' && event.afterRefusal) metrics.challengeRetries.inc({ surface, event: 'passed_after_refusal' });
  if (event.kind === 'refused' && event.firstRefusal) metrics.challengeRetries.inc({ surface, event: 'first_refusal' });
}

/** The face engine with the operator's thresholds, following settings changes at run time. */
export async function openFaceEngine(config: Config, settings: SettingsStore, poolSize = config.face.poolSize): Promise<FaceEngine> {
  const current = await settings.get();
  const engine = await createFaceEngine({
    modelsDir: config.modelsDir,
    poolSize,
    maxQueue: config.face.maxQueue,
    maxWaitMs: config.face.maxWaitMs,
    maxBytes: config.face.maxUploadBytes,
    maxPixels: config.face.maxPixels,
    matchThreshold: MATCH_PRESETS[current.matchPreset],
    livenessThreshold: current.livenessThreshold,
  });
  settings.onChange((s) => engine.setThresholds({ matchThreshold: MATCH_PRESETS[s.matchPreset], livenessThreshold: s.livenessThreshold }));
  return engine;
}

/** Enrollment as every surface uses it, on a given engine. */
export function enrollmentService(s: Services, engine: FaceEngine): Enrollment {
  return new Enrollment({ engine, consent: s.consent, templates: s.templates, images: s.images, settings: s.settings, audit: s.audit });
}

/** Everything the HTTP server needs: the shared services plus engine, keys, built-in clients and the provider. */
export async function openServerServices(config: Config, overrides: ServiceOverrides = {}): Promise<ServerServices> {
  const base = await openServices(config, 'the face-oidc server', overrides);
  try {
    await ensureBuiltInClients(base.clients, config);
    const engine = overrides.engine ?? (await openFaceEngine(config, base.settings));
    const adapter = createAdapterFactory({ redis: base.redis, loadClient: (id) => base.clients.metadata(id) });
    const signingKeys = new SigningKeys(base.db.prisma, base.sealer, signingKeyTimes(config));
    const provider = createProvider({
      config,
      users: base.users,
      adapter: adapter.factory,
      jwks: await signingKeys.load(),
      cookieKeys: await loadCookieKeys(base.db.prisma, base.sealer),
      approval: (accountId, clientId, scopes) => base.approvals.approved(accountId, clientId, scopes),
      verifiedClaims: (accountId) => base.proofing.verified(accountId),
    });
    const documents = await DocumentReader.lazy({ modelsDir: config.modelsDir, workers: config.documents.workers, maxPixels: config.face.maxPixels });
    const challengeStats = new ChallengeStats(base.db.prisma);
    const verification = new FaceVerification({
      engine,
      templates: base.templates,
      users: base.users,
      settings: base.settings,
      kv: base.kv,
      deviceKey: base.deviceKey,
      drawChallenge: overrides.drawChallenge,
      recordChallenge: async (event) => {
        countChallenge(base.metrics, event);
        await challengeStats.record(event);
      },
    });
    const logouts = new BackchannelLogouts({ prisma: base.db.prisma, provider, audit: base.audit, logger: base.logger, metrics: base.metrics });
    const sessions = new OidcSessions(provider, logouts);
    const closeBase = base.close;
    return {
      ...base,
      engine,
      documents,
      enrollment: enrollmentService(base, engine),
      verification,
      proofingFlow: new ProofingFlow({
        documents,
        engine,
        templates: (userId) => verification.enrolledTemplates(userId),
        matchesEnrolled: (embedding, templates) => verification.compare(embedding, templates).match,
        kv: base.kv,
        sealer: base.sealer,
        proofing: base.proofing,
        portraitThreshold: MATCH_PRESETS[config.proofing.portraitMatchPreset],
      }),
      challengeStats,
      provider,
      sessions,
      logouts,
      accounts: new AccountService({
        users: base.users,
        sessions,
        biometrics: { erase: (id) => base.consent.withdraw(id) },
        passkeys: base.passkeys,
        attempts: verification.attempts,
      }),
      states: new InteractionStateStore(base.kv, config.ttl.interaction),
      rate: new RateWindows(base.kv),
      followSigningKeys: () => signingKeys.watch((jwks) => replaceSigningKeys(provider, jwks), base.logger),
      async close() {
        await engine.close().catch(() => {});
        await documents.close().catch(() => {});
        adapter.close();
        await closeBase();
      },
    };
  } catch (err) {
    await base.close();
    throw err;
  }
}
