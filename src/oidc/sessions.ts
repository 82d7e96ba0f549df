import type Provider from 'oidc-provider';
import type { AdapterPayload } from 'oidc-provider';
import { hasAccountIndex, type AccountIndex } from './adapter.js';
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

const ref = (id: string) => sha256Hex(`admin-ref:${id}`).slice(0, 32);
const date = (epoch: unknown) => (typeof epoch === 'number' ? new Date(epoch * 1000) : null);

function index(model: { adapter: unknown }, name: string): AccountIndex {
  if (!hasAccountIndex(model.adapter)) throw new Error(`the ${name} adapter does not index entries by account`);
  return model.adapter;
}

/**
 * A person's provider sessions and grants, read through the adapters' account index. Ending a grant revokes every
 * token issued under it (access, refresh, codes); ending a session also ends the grants made in it.
 */
export class OidcSessions {
  constructor(private readonly provider: Provider) {}

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

  private async endSession(id: string, payload: AdapterPayload): Promise<void> {
    const authorizations = (payload.authorizations ?? {}) as Record<string, { grantId?: string }>;
    for (const { grantId } of Object.values(authorizations)) if (grantId) await this.endGrant(grantId);
    await this.provider.Session.adapter.destroy(id);
  }

  /** Whether a provider session of the account still holds `sid` for `clientId` (the `sid` of an ID token it issued). */
  async holds(accountId: string, clientId: string, sid: string): Promise<boolean> {
    const sessions = await this.sessions(accountId);
    return sessions.some(({ payload }) => (payload.authorizations as Record<string, { sid?: string }> | undefined)?.[clientId]?.sid === sid);
  }

  /** Ends the grants of one app (its tokens with them), as when the person's approval of the app is withdrawn. */
  async revokeApp(accountId: string, clientId: string): Promise<number> {
    const grants = (await this.grants(accountId)).filter((g) => g.payload.clientId === clientId);
    for (const g of grants) await this.endGrant(g.id);
    return grants.length;
  }

  /** Ends one session or grant by its ref; false when it no longer exists. */
  async revoke(accountId: string, target: string): Promise<'session' | 'grant' | null> {
    const session = (await this.sessions(accountId)).find((s) => ref(s.id) === target);
    if (session) {
      await this.endSession(session.id, session.payload);
      return 'session';
    }
    const grant = (await this.grants(accountId)).find((g) => ref(g.id) === target);
    if (grant) {
      await this.endGrant(grant.id);
      return 'grant';
    }
    return null;
  }

  /** Ends every session and grant of the account; returns how many of each. */
  async revokeAll(accountId: string): Promise<{ sessions: number; grants: number }> {
    const sessions = await this.sessions(accountId);
    for (const s of sessions) await this.endSession(s.id, s.payload);
    const grants = await this.grants(accountId);
    for (const g of grants) await this.endGrant(g.id);
    return { sessions: sessions.length, grants: grants.length };
  }
}
