import type { Redis } from 'ioredis';
import type Provider from 'oidc-provider';
import type { Config } from '../config/index.js';
import { ConsentStore } from '../accounts/consents.js';
import { TemplateStore } from '../accounts/templates.js';
import { UserStore } from '../accounts/users.js';
import { AuditLog } from '../audit/index.js';
import { createFaceEngine, MATCH_PRESETS, type FaceEngine } from '../face/index.js';
import { createAdapterFactory } from '../oidc/adapter.js';
import { ClientStore } from '../oidc/clients.js';
import { loadCookieKeys, loadSigningKeys } from '../oidc/keys.js';
import { createProvider } from '../oidc/provider.js';
import { createLogger, type Logger } from '../ops/logger.js';
import { createMetrics, type Metrics } from '../ops/metrics.js';
import { defaultSettings, SettingsStore } from '../settings/index.js';
import { createSealer, type Sealer } from '../store/crypto.js';
import { openDatabase, type Database, type Prisma } from '../store/database.js';
import { connectRedis, memoryKeyValueStore, redisKeyValueStore, type KeyValueStore } from '../store/kv.js';
import { Csrf } from '../web/csrf.js';
import { embeddedSecretKey } from './secret-key.js';
import { ensureBuiltInClients } from './builtin-clients.js';
import { createHash } from 'node:crypto';

export interface Services {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  db: Database;
  prisma: Prisma;
  redis: Redis | null;
  kv: KeyValueStore;
  sealer: Sealer;
  csrf: Csrf;
  users: UserStore;
  templates: TemplateStore;
  consents: ConsentStore;
  clients: ClientStore;
  audit: AuditLog;
  settings: SettingsStore;
  close(): Promise<void>;
}

export interface ServerServices extends Services {
  engine: FaceEngine;
  provider: Provider;
}

/** Database (migrated), stores and crypto: what every CLI command and the server share. */
export async function openServices(config: Config, holder: string, logger = createLogger(config.logLevel)): Promise<Services> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, holder });
  const closers: (() => Promise<void>)[] = [() => db.close()];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    await db.migrate();
    const key = config.secretKey ?? embeddedSecretKey(config.dataDir);
    const sealer = createSealer(key);
    const redis = config.redisUrl ? connectRedis(config.redisUrl) : null;
    const kv = redis ? redisKeyValueStore(redis) : memoryKeyValueStore();
    closers.push(() => kv.close());
    const { prisma } = db;
    return {
      config,
      logger,
      metrics: createMetrics(),
      db,
      prisma,
      redis,
      kv,
      sealer,
      csrf: new Csrf(createHash('sha256').update(key).update('csrf').digest()),
      users: new UserStore(prisma),
      templates: new TemplateStore(prisma, sealer),
      consents: new ConsentStore(prisma),
      clients: new ClientStore(prisma, sealer),
      audit: new AuditLog(prisma),
      settings: new SettingsStore(prisma, defaultSettings(config)),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Everything the HTTP server needs on top: the face engine, keys, built-in clients and the OIDC provider. */
export async function openServerServices(config: Config, logger?: Logger): Promise<ServerServices> {
  const base = await openServices(config, 'the face-oidc server', logger);
  try {
    await ensureBuiltInClients(base.clients, config);
    const settings = await base.settings.get();
    const engine = await createFaceEngine({
      modelsDir: config.modelsDir,
      poolSize: config.face.poolSize,
      maxQueue: config.face.maxQueue,
      maxBytes: config.face.maxUploadBytes,
      maxPixels: config.face.maxPixels,
      matchThreshold: MATCH_PRESETS[settings.matchPreset],
      livenessThreshold: settings.livenessThreshold,
    });
    base.settings.onChange((s) => engine.setThresholds({ matchThreshold: MATCH_PRESETS[s.matchPreset], livenessThreshold: s.livenessThreshold }));
    const adapter = createAdapterFactory({ redis: base.redis, loadClient: (id) => base.clients.metadata(id) });
    // Retired signing keys stay published while ID tokens they signed may still be presented.
    const jwks = await loadSigningKeys(base.prisma, base.sealer, config.ttl.idToken + config.ttl.accessToken);
    const provider = createProvider({
      config,
      users: base.users,
      adapter: adapter.factory,
      jwks,
      cookieKeys: await loadCookieKeys(base.prisma, base.sealer),
      hasConsent: (accountId, clientId, scopes) => base.consents.covers(accountId, clientId, scopes),
    });
    const closeBase = base.close;
    return {
      ...base,
      engine,
      provider,
      async close() {
        await engine.close().catch(() => {});
        adapter.close();
        await closeBase();
      },
    };
  } catch (err) {
    await base.close();
    throw err;
  }
}
