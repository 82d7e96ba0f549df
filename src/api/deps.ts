import type { User } from '../accounts/users.js';
import type { AuditInput } from '../audit/index.js';
import type { DocumentReader } from '../documents/index.js';
import type { FaceEngine } from '../face/index.js';
import type { MatchRecords } from '../match-records/index.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { Settings } from '../settings/index.js';
import type { AttemptAccounting, FaceVerification } from '../verification/index.js';
import type { RateWindows } from '../web/rate-limit.js';

/** What the Face Match API works with; the server composes it from the domain services. */
export interface ApiDeps {
  config: {
    issuer: string;
    face: { maxUploadBytes: number };
    limits: { apiPerClientPerMinute: number; apiConcurrentPerClient: number };
  };
  engine: Pick<FaceEngine, 'analyze' | 'admit' | 'compare' | 'modelId'>;
  /** Reads identity documents' MRZ (src/documents). */
  documents: Pick<DocumentReader, 'read'>;
  verification: Pick<FaceVerification, 'enrolledTemplates'>;
  /** Failed matches against an account count against the client's budget for it and the account's sign-in limits. */
  attempts: Pick<AttemptAccounting, 'begin'>;
  users: { byId(id: string): Promise<User | null>; byEmail(email: string): Promise<User | null> };
  /** The calling client's decision rules and last secret rotation; null when the client no longer exists. */
  clients: { apiCaller(clientId: string): Promise<{ matchRules: unknown; secretRotatedAt: Date | null; matchEnrolledUsers: boolean } | null> };
  records: Pick<MatchRecords, 'save' | 'find' | 'openImage'>;
  settings: { get(): Promise<Settings> };
  audit: { record(event: AuditInput): Promise<void> };
  rate: RateWindows;
  metrics: Metrics;
  logger: Logger;
  /**
   * Resolves an access token from the client_credentials grant; null when unknown, expired or revoked. `jkt` is the
   * DPoP key thumbprint a DPoP-bound token is bound to (cnf.jkt).
   */
  authenticate(token: string): Promise<{ clientId: string; scopes: string[]; issuedAt: Date; jkt?: string } | null>;
  /** DPoP proofs (src/api/dpop.ts): the algorithms the provider advertises, and a shared memory of used proof ids. */
  dpop: { algorithms: readonly string[]; firstUse(key: string, ttlSeconds: number): Promise<boolean> };
  appVersion: string;
}

/** The authenticated caller; its decision rules are read from Client.matchRules. */
export interface ApiClient {
  clientId: string;
  matchRules: unknown;
  /** Allowed by an administrator to match against enrolled accounts. */
  matchEnrolledUsers: boolean;
}
