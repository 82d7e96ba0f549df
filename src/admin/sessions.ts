import type Router from '@koa/router';
import { HttpError } from '../web/errors.js';
import { recordAction } from './actions.js';
import { userParam, type AdminDeps } from './deps.js';
import { page, redirectDone } from './page.js';

/** A person's provider sessions and grants, and the apps they approved; revoke one or everything. */
export function sessionRoutes(router: Router, deps: AdminDeps): void {
  router.get('/users/:id/sessions', async (ctx) => {
    const user = await userParam(ctx, deps);
    const [{ sessions, grants }, approvals, apps] = await Promise.all([
      deps.sessions.list(user.id),
      deps.approvals.list(user.id),
      deps.clients.list(),
    ]);
    await page(ctx, 'users/sessions', {
      title: `Sessions · ${user.name}`,
      section: 'users',
      account: user,
      sessions,
      grants,
      approvals,
      appNames: new Map(apps.map((a) => [a.clientId, a.name])),
    });
  });

  router.post('/users/:id/sessions/:ref/revoke', async (ctx) => {
    const user = await userParam(ctx, deps);
    const kind = await deps.sessions.revoke(user.id, String(ctx.params.ref));
    if (!kind) throw new HttpError(404, 'SESSION_NOT_FOUND', 'This session or grant already ended.');
    await recordAction(ctx, kind === 'session' ? 'session.revoke' : 'grant.revoke', { userId: user.id });
    redirectDone(ctx, `/admin/users/${user.id}/sessions`, 'session-revoked');
  });

  /** Everything: sessions, grants (and their tokens) and the remembered app approvals. */
  router.post('/users/:id/sessions/revoke-all', async (ctx) => {
    const user = await userParam(ctx, deps);
    const ended = await deps.sessions.revokeAll(user.id);
    const approvals = await deps.approvals.revoke(user.id);
    await recordAction(ctx, 'session.revoke_all', { userId: user.id, details: { ...ended, approvals } });
    redirectDone(ctx, `/admin/users/${user.id}/sessions`, 'sessions-revoked');
  });

  router.post('/users/:id/approvals/:clientId/revoke', async (ctx) => {
    const user = await userParam(ctx, deps);
    const clientId = String(ctx.params.clientId);
    const count = await deps.approvals.revoke(user.id, clientId);
    if (count === 0) throw new HttpError(404, 'APPROVAL_NOT_FOUND', 'This app approval was already withdrawn.');
    // Withdrawing the approval also ends what it allowed: the app's grants, and with them its access and refresh tokens.
    const grants = await deps.sessions.revokeApp(user.id, clientId);
    await recordAction(ctx, 'approval.revoke', { userId: user.id, clientId, details: { grants } });
    redirectDone(ctx, `/admin/users/${user.id}/sessions`, 'session-revoked');
  });
}
