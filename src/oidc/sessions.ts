import type Provider from 'oidc-provider';
import type { AdapterPayload } from 'oidc-provider';
import { hasAccountIndex, type AccountIndex } from './adapter.js';
import type { LogoutNotice, LogoutNotifier, LogoutReason } from './backchannel.js';
import { sha256Hex } from '../store/crypto.js';

export interface SessionView {
  /** A hash of the session id: the id itself is the browser's session cookie and never reaches a page. */
  ref: string;
  loginAt: Date | null;
  expiresAt: Date | null;
  amr: string[];
  acr: string | null;
  clientIds: string[];
}

export interface GrantView {
  ref: string;
  clientId: string;
  scopes: string[];
  grantedAt: Date | null;
  expiresAt: Date | null;
}

type Authorizations = Record<string, { sid?: string; grantId?: string }>;
const authorizationsOf = (payload: AdapterPayload) => (payload.authorizations ?? {}) as Authorizations;

const ref = (id: string) => sha256Hex(`admin-ref:${id}`).slice(0, 32);
const date = (epoch: unknown) => (typeof epoch === 'number' ? new Date(epoch * 1000) : null);

function index(model: { adapter: unknown }, name: string): AccountIndex {
  if (!hasAccountIndex(model.adapter)) throw new Error(`the ${name} adapter does not index entries by account`);
  return model.adapter;
}

/**
 * A person's provider sessions and grants, read through the adapters' account index. Ending a grant revokes every
 * token issued under it (access, refresh, codes); ending a session also ends the grants made in it. Every app whose
 * session or grant ends is told through `logouts` (back-channel logout, for the apps that registered for it).
 */
export class OidcSessions {
  constructor(
    private readonly provider: Provider,
    private readonly logouts: LogoutNotifier,
  ) {}

  private sessions(accountId: string) {
    return index(this.provider.Session, 'Session').findByAccount(accountId);
  }

  private grants(accountId: string) {
    return index(this.provider.Grant, 'Grant').findByAccount(accountId);
  }

  async list(accountId: string): Promise<{ sessions: SessionView[]; grants: GrantView[] }> {
    const sessions = (await this.sessions(accountId)).map(({ id, payload }) => ({
      ref: ref(id),
      loginAt: date(payload.loginTs),
      expiresAt: date(payload.exp),
      amr: Array.isArray(payload.amr) ? (payload.amr as string[]) : [],
      acr: typeof payload.acr === 'string' ? payload.acr : null,
      clientIds: Object.keys((payload.authorizations as Record<string, unknown> | undefined) ?? {}),
    }));
    const grants = (await this.grants(accountId)).map(({ id, payload }) => ({
      ref: ref(id),
      clientId: String(payload.clientId),
      scopes: String((payload.openid as { scope?: string } | undefined)?.scope ?? '').split(' ').filter(Boolean),
      grantedAt: date(payload.iat),
      expiresAt: date(payload.exp),
    }));
    const byLogin = (a: { loginAt: Date | null }, b: { loginAt: Date | null }) => (b.loginAt?.getTime() ?? 0) - (a.loginAt?.getTime() ?? 0);
    return { sessions: sessions.sort(byLogin), grants: grants.sort((a, b) => (b.grantedAt?.getTime() ?? 0) - (a.grantedAt?.getTime() ?? 0)) };
  }

  private async endGrant(grantId: string): Promise<void> {
    // The adapters index every token kind under one grant key, so one call revokes access, refresh and codes.
    await this.provider.AccessToken.revokeByGrantId(grantId);
    await this.provider.Grant.adapter.destroy(grantId);
  }

  /** Ends a session with its grants; one notice per app signed in through it. */
  private async endSession(accountId: string, id: string, payload: AdapterPayload): Promise<LogoutNotice[]> {
    const notices: LogoutNotice[] = [];
    for (const [clientId, { sid, grantId }] of Object.entries(authorizationsOf(payload))) {
      if (grantId) await this.endGrant(grantId);
      notices.push({ clientId, accountId, sid: sid ?? null });
    }
    await this.provider.Session.adapter.destroy(id);
    return notices;
  }

  /**
   * Signs the apps `drop` selects out of a session that stays (their grants end; a next request from the app needs a
   * new authorization); the session keeps its other apps. One notice per app dropped.
   */
  private async dropApps(accountId: string, id: string, payload: AdapterPayload, drop: (clientId: string) => boolean): Promise<LogoutNotice[]> {
    const authorizations = authorizationsOf(payload);
    const dropped = Object.keys(authorizations).filter(drop);
    if (dropped.length === 0) return [];
    const notices: LogoutNotice[] = [];
    for (const clientId of dropped) {
      const { sid, grantId } = authorizations[clientId];
      if (grantId) await this.endGrant(grantId);
      delete authorizations[clientId];
      notices.push({ clientId, accountId, sid: sid ?? null });
    }
    const ttl = typeof payload.exp === 'number' ? payload.exp - Math.floor(Date.now() / 1000) : 0;
    if (ttl > 0) await this.provider.Session.adapter.upsert(id, { ...payload, authorizations }, ttl);
    return notices;
  }

  /** Ends grants made outside any session still alive; apps not told through a session get a `sub`-only notice. */
  private async endGrants(accountId: string, grants: { id: string; payload: AdapterPayload }[], told: LogoutNotice[]): Promise<LogoutNotice[]> {
    const notices: LogoutNotice[] = [];
    for (const g of grants) {
      await this.endGrant(g.id);
      const clientId = String(g.payload.clientId);
      if (!told.some((n) => n.clientId === clientId) && !notices.some((n) => n.clientId === clientId)) notices.push({ clientId, accountId, sid: null });
    }
    return notices;
  }

  /** Whether a provider session of the account still holds `sid` for `clientId` (the `sid` of an ID token it issued). */
  async holds(accountId: string, clientId: string, sid: string): Promise<boolean> {
    const sessions = await this.sessions(accountId);
    return sessions.some(({ payload }) => authorizationsOf(payload)[clientId]?.sid === sid);
  }

  /** Ends the grants of one app (its tokens with them) and signs it out of every session, as when the person's approval of the app is withdrawn. */
  async revokeApp(accountId: string, clientId: string): Promise<number> {
    const grants = (await this.grants(accountId)).filter((g) => g.payload.clientId === clientId);
    const notices: LogoutNotice[] = [];
    for (const s of await this.sessions(accountId)) notices.push(...(await this.dropApps(accountId, s.id, s.payload, (c) => c === clientId)));
    notices.push(...(await this.endGrants(accountId, grants, notices)));
    await this.logouts.notify(notices, 'app.revoke');
    return grants.length;
  }

  /** Ends one session or grant by its ref; false when it no longer exists. */
  async revoke(accountId: string, target: string): Promise<'session' | 'grant' | null> {
    const session = (await this.sessions(accountId)).find((s) => ref(s.id) === target);
    if (session) {
      await this.logouts.notify(await this.endSession(accountId, session.id, session.payload), 'session.revoke');
      return 'session';
    }
    const grant = (await this.grants(accountId)).find((g) => ref(g.id) === target);
    if (grant) {
      const notices: LogoutNotice[] = [];
      const made = (s: AdapterPayload) => (c: string) => authorizationsOf(s)[c]?.grantId === grant.id;
      for (const s of await this.sessions(accountId)) notices.push(...(await this.dropApps(accountId, s.id, s.payload, made(s.payload))));
      notices.push(...(await this.endGrants(accountId, [grant], notices)));
      await this.logouts.notify(notices, 'session.revoke');
      return 'grant';
    }
    return null;
  }

  /** Ends every session and grant of the account; returns how many of each. */
  async revokeAll(accountId: string, reason: LogoutReason = 'session.revoke'): Promise<{ sessions: number; grants: number }> {
    const sessions = await this.sessions(accountId);
    const notices: LogoutNotice[] = [];
    for (const s of sessions) notices.push(...(await this.endSession(accountId, s.id, s.payload)));
    const grants = await this.grants(accountId);
    notices.push(...(await this.endGrants(accountId, grants, notices)));
    await this.logouts.notify(notices, reason);
    return { sessions: sessions.length, grants: grants.length };
  }

  /**
   * The biometric consent behind the account's face sign-ins was withdrawn: every session whose sign-in used the face
   * ends, and its apps are told. The session of `keep` (the page where the person withdrew, by its client and `sid`)
   * stays for that page alone; its other apps are signed out of it. Returns how many apps were signed out.
   */
  async endFaceSignIns(accountId: string, keep?: { clientId: string; sid: string }): Promise<number> {
    const notices: LogoutNotice[] = [];
    for (const { id, payload } of await this.sessions(accountId)) {
      if (!(Array.isArray(payload.amr) && payload.amr.includes('face'))) continue;
      if (keep && authorizationsOf(payload)[keep.clientId]?.sid === keep.sid) notices.push(...(await this.dropApps(accountId, id, payload, (c) => c !== keep.clientId)));
      else notices.push(...(await this.endSession(accountId, id, payload)));
    }
    await this.logouts.notify(notices, 'consent.withdraw');
    return notices.length;
  }
}
