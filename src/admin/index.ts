import Router from '@koa/router';
import type { InviteStore } from '../enrollment/invites.js';
import type { ServerServices } from '../server/services.js';
import type { RelyingParty } from '../web/relying-party.js';
import { accessRouter, requireAdmin } from './access.js';
import { AccountAdmin } from './accounts.js';
import { appRoutes } from './apps.js';
import { auditRoutes } from './audit.js';
import type { AdminDeps } from './deps.js';
import { enrollmentRoutes } from './enrollment.js';
import { OidcSessions } from './oidc-sessions.js';
import { sessionRoutes } from './sessions.js';
import { settingsRoutes } from './settings.js';
import { userRoutes } from './users.js';

/**
 * The admin console under /admin: sign-in through this provider (access.ts), then users, enrollment, sessions,
 * apps, audit and settings — each area registers its routes behind one admin check.
 */
export function adminRouters(s: ServerServices, rp: RelyingParty, invites: InviteStore): Router[] {
  const access = { rp, users: s.users, csrf: s.csrf, audit: s.audit };
  const sessions = new OidcSessions(s.provider);
  const deps: AdminDeps = {
    ...s,
    sessions,
    accounts: new AccountAdmin(s.prisma, s.users, sessions, s.kv),
    invites,
  };
  const guarded = new Router({ prefix: '/admin' });
  guarded.use(requireAdmin(access));
  guarded.get('/', (ctx) => ctx.redirect('/admin/users'));
  for (const register of [userRoutes, enrollmentRoutes, sessionRoutes, appRoutes, auditRoutes, settingsRoutes]) register(guarded, deps);
  return [accessRouter(access), guarded];
}
