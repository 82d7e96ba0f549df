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
  const [consents, templates, keptImages, passkeys, approvals, attempts, events, proofing] = await Promise.all([
    deps.consent.history(user.id),
    deps.templates.summary(user.id),
    deps.images.count(user.id),
    deps.passkeys.list(user.id),
    deps.approvals.list(user.id),
    signIns(deps, user.id, MAX_EXPORT_EVENTS),
    deps.audit.list({ userId: user.id }, MAX_EXPORT_EVENTS),
    deps.proofing.export(user.id),
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
    identityProofing: proofing,
    appApprovals: approvals.map((a) => ({ app: a.clientId, scopes: a.scopes, claims: a.claims, grantedAt: a.grantedAt })),
    signIns: attempts,
    activity: events.filter((e) => !e.type.startsWith('signin.')).map((e) => activityRow(e, user.id)),
  };
}

type Event = Awaited<ReturnType<AccountDeps['audit']['list']>>[number];

/**
 * Whether an event's address and browser are the person's own: events someone else caused about them (an
 * administrator's action, a Face Match API call, a change by another account) carry that other person's or
 * service's, which are not the person's data to download.
 */
const ownRequest = (e: Event, userId: string) => (e.actorId === null || e.actorId === userId) && !/^(admin|api)\./.test(e.type);

/** One activity entry: time, type, outcome and app always; the address and device only when the request was the person's. */
export function activityRow(e: Event, userId: string) {
  const row = { at: e.at, type: e.type, outcome: e.outcome, reason: e.reason, app: e.clientId };
  return ownRequest(e, userId) ? { ...row, ip: e.ip, device: device(e.userAgent) } : { ...row, by: e.actorId === null ? 'a service' : 'an administrator' };
}

/** Changes to how the account signs in, shown on the account page for this long (README "Adding a sign-in factor"). */
const CHANGES_SHOWN_DAYS = 30;
const CHANGE_TYPES: Record<string, string> = {
  'passkey.register': 'passkey-added',
  'passkey.remove': 'passkey-removed',
  'passkey.approve': 'passkey-approved',
  'enroll.face': 'face-enrolled',
  'consent.biometric.withdraw': 'face-erased',
  'admin.consent.withdraw': 'face-erased',
};

export interface FactorChange {
  at: Date;
  kind: string;
  /** The passkey's name and id, for passkey changes; `present` while the key is still registered (it can be removed). */
  passkey: { id: string; name: string; present: boolean } | null;
  by: 'you' | 'an administrator' | 'an operator';
  device: string | null;
}

/**
 * Every factor added or removed recently, newest first, from the audit trail: a key added by someone else is seen
 * at the next visit, with a way to remove it ("New passkey added on …, not you? Remove it").
 */
export async function factorChanges(deps: Pick<AccountDeps, 'audit'>, userId: string, present: { id: string }[]): Promise<FactorChange[]> {
  const from = new Date(Date.now() - CHANGES_SHOWN_DAYS * 86_400_000);
  const lists = await Promise.all(Object.keys(CHANGE_TYPES).map((type) => deps.audit.list({ userId, type, outcome: 'success', from }, 10)));
  const keys = new Set(present.map((p) => p.id));
  return lists
    .flat()
    .filter((e) => CHANGE_TYPES[e.type])
    .sort((a, b) => b.at.getTime() - a.at.getTime())
    .slice(0, 10)
    .map((e) => {
      const details = (e.details ?? {}) as Record<string, unknown>;
      const id = typeof details.passkeyId === 'string' ? details.passkeyId : null;
      const name = typeof details.name === 'string' ? details.name : 'Passkey';
      // Without an actor account it was the person (an invitation) or an operator (the command line).
      const by = e.actorId === userId ? 'you' : e.actorId ? 'an administrator' : details.source === 'cli' ? 'an operator' : 'you';
      return { at: e.at, kind: CHANGE_TYPES[e.type], passkey: id ? { id, name, present: keys.has(id) } : null, by, device: ownRequest(e, userId) ? device(e.userAgent) : null };
    });
}
