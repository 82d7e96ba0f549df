import type { User } from '../accounts/users.js';
import { summarizeAgent } from '../web/device.js';
import type { AccountDeps } from './deps.js';

const METHODS: Record<string, string> = { 'signin.face': 'Face', 'signin.password': 'Password', 'signin.passkey': 'Passkey' };

export interface SignInRow {
  at: Date;
  app: string | null;
  method: string;
  outcome: string;
  reason: string | null;
  device: string | null;
  ip: string | null;
}

/** A parsed user agent as one phrase, e.g. "Chrome 124 on Android 14 (mobile Samsung SM-S918B)". */
function device(userAgent: string | null): string | null {
  const { browser, os, device: hardware } = summarizeAgent(userAgent);
  const base = [browser, os].filter(Boolean).join(' on ');
  return [base, hardware ? `(${hardware})` : ''].filter(Boolean).join(' ') || null;
}

/** The account's sign-in attempts from the audit trail, newest first, with the app's name and the device. */
export async function signIns(deps: Pick<AccountDeps, 'audit' | 'apps'>, userId: string, take: number): Promise<SignInRow[]> {
  const events = await deps.audit.list({ userId, type: 'signin.' }, take);
  const names = new Map<string, string | null>();
  for (const id of new Set(events.map((e) => e.clientId).filter((c): c is string => !!c))) names.set(id, await deps.apps.name(id));
  return events.map((e) => ({
    at: e.at,
    app: e.clientId ? (names.get(e.clientId) ?? e.clientId) : null,
    method: METHODS[e.type] ?? e.type,
    outcome: e.outcome,
    reason: e.reason,
    device: device(e.userAgent),
    ip: e.ip,
  }));
}

const MAX_EXPORT_EVENTS = 1000;

/**
 * Everything the service holds about the person, for the data download (GDPR Art. 15 and 20): profile, biometric
 * consents, template and photo metadata, passkeys, app approvals, sign-ins and other account events. No secrets:
 * no password hash, no template, no key material, no session or token.
 */
export async function exportData(deps: AccountDeps, user: User) {
  const [consents, templates, keptImages, passkeys, approvals, attempts, events] = await Promise.all([
    deps.consent.history(user.id),
    deps.templates.summary(user.id),
    deps.images.count(user.id),
    deps.passkeys.list(user.id),
    deps.approvals.list(user.id),
    signIns(deps, user.id, MAX_EXPORT_EVENTS),
    deps.audit.list({ userId: user.id }, MAX_EXPORT_EVENTS),
  ]);
  return {
    exportedAt: new Date(),
    account: {
      id: user.id,
      email: user.email,
      name: user.name,
      roles: user.roles,
      status: user.status,
      hasPassword: user.passwordHash !== null,
      createdAt: user.createdAt,
      lastSignInAt: user.lastSignInAt,
      faceLockedAt: user.faceLockedAt,
    },
    biometrics: {
      consents: consents.map((c) => ({ textVersion: c.textVersion, givenAt: c.givenAt, collectedBy: c.collector.kind, withdrawnAt: c.revokedAt })),
      templates: templates.map((t) => ({ id: t.id, modelId: t.modelId, source: t.source, quality: t.quality, createdAt: t.createdAt })),
      keptImages,
    },
    passkeys: passkeys.map((p) => ({ id: p.id, name: p.name, kind: p.kind, backedUp: p.backedUp, transports: p.transports, aaguid: p.aaguid, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt })),
    appApprovals: approvals.map((a) => ({ app: a.clientId, scopes: a.scopes, grantedAt: a.grantedAt })),
    signIns: attempts,
    activity: events
      .filter((e) => !e.type.startsWith('signin.'))
      .map((e) => ({ at: e.at, type: e.type, outcome: e.outcome, reason: e.reason, app: e.clientId, ip: e.ip, device: device(e.userAgent) })),
  };
}
