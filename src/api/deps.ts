import type { TemplateStore } from '../accounts/templates.js';
import type { UserStore } from '../accounts/users.js';
import type { AuditLog } from '../audit/index.js';
import type { Config } from '../config/index.js';
import type { FaceEngine } from '../face/index.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { SettingsStore } from '../settings/index.js';
import type { Sealer } from '../store/crypto.js';
import type { Prisma } from '../store/database.js';
import type { KeyValueStore } from '../store/kv.js';

export interface ApiDeps {
  config: Config;
  prisma: Prisma;
  engine: FaceEngine;
  kv: KeyValueStore;
  sealer: Sealer;
  settings: SettingsStore;
  users: UserStore;
  templates: TemplateStore;
  audit: AuditLog;
  metrics: Metrics;
  logger: Logger;
  /** Resolves a Bearer access token from the client_credentials grant; null when unknown, expired or revoked. */
  authenticate(token: string): Promise<{ clientId: string; scopes: string[] } | null>;
  appVersion: string;
}

/** The authenticated caller; its decision rules are read from Client.matchRules. */
export interface ApiClient {
  clientId: string;
  matchRules: unknown;
}
