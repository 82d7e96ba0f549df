import type Router from '@koa/router';
import { HttpError } from '../web/errors.js';
import { accountOf, type AccountDeps } from './deps.js';
import { redirectDone } from './page.js';

export interface ConnectedApp {
  clientId: string;
  name: string;
  /** What the person approved (or, for apps that need no approval, what their grant allows). */
  scopes: string[];
  approvedAt: Date | null;
  /** Whether the app holds a grant now (tokens it can use). */
  active: boolean;
}

/** The apps the person approved or is signed in to, built-in pages (this account page, the console) aside. */
export async function connectedApps(deps: AccountDeps, userId: string): Promise<ConnectedApp[]> {
  const [approvals, { grants }] = await Promise.all([deps.approvals.list(userId), deps.sessions.list(userId)]);
  const apps: ConnectedApp[] = [];
  for (const clientId of new Set([...approvals.map((a) => a.clientId), ...grants.map((g) => g.clientId)])) {
    const app = await deps.apps.find(clientId);
    if (!app || app.builtIn) continue;
    const approval = approvals.find((a) => a.clientId === clientId);
    const granted = grants.filter((g) => g.clientId === clientId);
    apps.push({ clientId, name: app.name, scopes: approval?.scopes ?? [...new Set(granted.flatMap((g) => g.scopes))], approvedAt: approval?.grantedAt ?? null, active: granted.length > 0 });
  }
  return apps;
}

/**
 * Revoking an app: its approval is forgotten (the next sign-in asks again), its grants and tokens end, it is signed
 * out of the person's sessions and, when it listens for back-channel logout, told to end its own session.
 */
export function appRoutes(router: Router, deps: AccountDeps): void {
  router.post('/apps/:clientId/revoke', async (ctx) => {
    const { user } = accountOf(ctx);
    const clientId = String(ctx.params.clientId);
    if (!(await connectedApps(deps, user.id)).some((a) => a.clientId === clientId)) {
      throw new HttpError(404, 'APP_NOT_CONNECTED', 'This app has no access to your account (any more).');
    }
    const approvals = await deps.approvals.revoke(user.id, clientId);
    const grants = await deps.sessions.revokeApp(user.id, clientId);
    await ctx.state.audit({ type: 'account.app.revoke', outcome: 'success', userId: user.id, actorId: user.id, clientId, details: { approvals, grants } });
    redirectDone(ctx, 'app-revoked');
  });
}
