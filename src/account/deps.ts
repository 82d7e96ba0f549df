import type { Context } from 'koa';
import type { User } from '../accounts/users.js';
import type { AuditLog } from '../audit/index.js';
import type { BiometricConsent, Enrollment, EnrollmentImages, TemplateStore } from '../biometrics/index.js';
import type { AppApprovals } from '../oidc/approvals.js';
import type { OidcSessions } from '../oidc/sessions.js';
import type { Passkeys } from '../passkeys/index.js';
import type { IdentityProofing, ProofingFlow } from '../proofing/index.js';
import type { Settings } from '../settings/index.js';
import type { FaceVerification } from '../verification/index.js';
import type { RateWindows } from '../web/rate-limit.js';
import type { RpSession } from '../web/relying-party.js';

/** What the account pages work with; the server composes it from the domain services. */
export interface AccountDeps {
  config: { face: { maxUploadBytes: number } };
  users: { byId(id: string): Promise<User | null> };
  consent: Pick<BiometricConsent, 'current' | 'history' | 'withdraw' | 'text' | 'version'>;
  templates: Pick<TemplateStore, 'summary'>;
  images: Pick<EnrollmentImages, 'count'>;
  enrollment: Pick<Enrollment, 'replace'>;
  verification: Pick<FaceVerification, 'hasFace' | 'attempts' | 'challenges' | 'devices' | 'enrolledTemplates' | 'verifyFrames'>;
  rate: Pick<RateWindows, 'enforce'>;
  passkeys: Pick<Passkeys, 'list' | 'count' | 'registrationOptions' | 'register' | 'rename' | 'remove' | 'authenticationOptions' | 'confirm' | 'proveFace' | 'faceProven' | 'takeFaceProof'>;
  audit: Pick<AuditLog, 'list'>;
  apps: { name(clientId: string): Promise<string | null>; find(clientId: string): Promise<{ name: string; builtIn: boolean } | null> };
  approvals: Pick<AppApprovals, 'list' | 'revoke'>;
  /** The person's provider sessions; `endFaceSignIns` keeps the account page's own session (its `sid`). */
  sessions: Pick<OidcSessions, 'list' | 'revokeApp'> & { endFaceSignIns(userId: string, keepSid: string | null): Promise<number> };
  settings: { get(): Promise<Settings> };
  proofing: Pick<IdentityProofing, 'export' | 'status' | 'consent' | 'giveConsent' | 'withdrawConsent' | 'consentText'>;
  /** Identity proofing's document and camera checks (src/proofing/flow.ts). */
  proofingFlow: Pick<ProofingFlow, 'examineDocument' | 'held' | 'discard' | 'complete'>;
}

/** The signed-in person and their session; the access check (access.ts) sets them before any account handler runs. */
export function accountOf(ctx: Context): { user: User; session: RpSession } {
  const account = ctx.state.account;
  if (!account) throw new Error('requireAccount must run before this handler');
  return account;
}

/** Request id, client address and user agent for the audit events the domain services write. */
export const contextOf = (ctx: Context) => ({ requestId: ctx.state.requestId, ip: ctx.ip, userAgent: ctx.get('user-agent'), clientId: null });
