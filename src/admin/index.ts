import Router from '@koa/router';
import { type AccessDeps, accessRouter, requireAdmin } from './access.js';
import { appRoutes } from './apps.js';
import { auditRoutes } from './audit.js';
import { challengeRoutes } from './challenges.js';
import type { AdminDeps } from './deps.js';
import { enrollmentRoutes } from './enrollment.js';
import { sessionRoutes } from './sessions.js';
import { settingsRoutes } from './settings.js';
import { userRoutes } from './users.js';

export type { AdminDeps } from './deps.js';

/**
 * The admin console under /admin: sign-in through this provider (access.ts), then users, enrollment, sessions,
 * apps, audit, the challenge in the field and settings — each area registers its routes behind one admin check.
 */
export function adminRouters(deps: AdminDeps, access: Omit<AccessDeps, 'users' | 'settings'>): Router[] {
  const guard: AccessDeps = { ...access, users: deps.users, settings: deps.settings };
  const guarded = new Router({ prefix: '/admin' });
  guarded.use(requireAdmin(guard));
  guarded.get('/', (ctx) => ctx.redirect('/admin/users'));
  for (const register of [userRoutes, enrollmentRoutes, sessionRoutes, appRoutes, auditRoutes, challengeRoutes, settingsRoutes]) register(guarded, deps);
  return [accessRouter(guard), guarded];
}
