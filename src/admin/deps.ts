import type { Context } from 'koa';
import type { AccountService } from '../accounts/service.js';
import type { User, UserStore } from '../accounts/users.js';
import type { AuditLog } from '../audit/index.js';
import type { BiometricConsent, Enrollment, InviteStore, TemplateStore } from '../biometrics/index.js';
import type { FaceEngine } from '../face/index.js';
import type { AppApprovals } from '../oidc/approvals.js';
import type { ClientStore } from '../oidc/clients.js';
import type { OidcSessions } from '../oidc/sessions.js';
import type { Passkeys } from '../passkeys/index.js';
import type { IdentityProofing } from '../proofing/index.js';
import type { Retention } from '../retention/index.js';
import type { SettingsStore } from '../settings/index.js';
import type { AttemptAccounting, ChallengeStats } from '../verification/index.js';
import { HttpError } from '../web/errors.js';

/** What the console's route modules work with; the server composes it from the domain services. */
export interface AdminDeps {
  config: { issuer: string; face: { maxUploadBytes: number } };
  accounts: AccountService;
  users: Pick<UserStore, 'byId' | 'byEmail' | 'search' | 'emails'>;
  consent: BiometricConsent;
  enrollment: Pick<Enrollment, 'preview' | 'enroll'>;
  templates: Pick<TemplateStore, 'summary' | 'remove' | 'removeOutdated' | 'countsByUser'>;
  invites: Pick<InviteStore, 'create' | 'pending'>;
  attempts: Pick<AttemptAccounting, 'throttling' | 'unlockFace'>;
  sessions: OidcSessions;
  approvals: AppApprovals;
  clients: ClientStore;
  audit: Pick<AuditLog, 'list' | 'count' | 'find' | 'page'>;
  settings: SettingsStore;
  retention: Pick<Retention, 'run' | 'lastRun'>;
  engine: Pick<FaceEngine, 'modelId'>;
  passkeys: Pick<Passkeys, 'list' | 'count' | 'remove' | 'approve'>;
  challengeStats: Pick<ChallengeStats, 'daily'>;
  proofing: Pick<IdentityProofing, 'status' | 'statuses' | 'revoke'>;
}

/** The user named by the `:id` route parameter, or a 404 page. */
export async function userParam(ctx: Context, deps: Pick<AdminDeps, 'users'>): Promise<User> {
  const user = await deps.users.byId(String(ctx.params.id));
  if (!user) throw new HttpError(404, 'USER_NOT_FOUND', 'This user does not exist (any more).');
  return user;
}
