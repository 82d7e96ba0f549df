import type { ServerServices } from '../server/services.js';

/** The server's stores the API works with, plus how it authenticates callers. */
export type ApiDeps = Pick<ServerServices, 'config' | 'prisma' | 'engine' | 'kv' | 'sealer' | 'settings' | 'users' | 'templates' | 'audit' | 'metrics' | 'logger'> & {
  /** Resolves a Bearer access token from the client_credentials grant; null when unknown, expired or revoked. */
  authenticate(token: string): Promise<{ clientId: string; scopes: string[] } | null>;
  appVersion: string;
};

/** The authenticated caller; its decision rules are read from Client.matchRules. */
export interface ApiClient {
  clientId: string;
  matchRules: unknown;
}
