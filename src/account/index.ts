import Router from '@koa/router';
import { type AccessDeps, accessRouter, requireAccount } from './access.js';
import { appRoutes } from './apps.js';
import type { AccountDeps } from './deps.js';
import { faceRoutes } from './face.js';
import { reenrollRoutes } from './reenroll.js';
import { homeRoutes } from './home.js';
import { passkeyRoutes } from './passkeys.js';
import { proofingRoutes } from '../proofing/routes.js';

export type { AccountDeps } from './deps.js';

/**
 * The account pages under /account, where people manage their own face data and passkeys: sign-in through this
 * provider (access.ts), then the profile, face enrollment, passkeys, recent sign-ins and a data download.
 */
export function accountRouters(deps: AccountDeps, access: Omit<AccessDeps, 'users'>): Router[] {
  const guard = { ...access, users: deps.users };
  const guarded = new Router({ prefix: '/account' });
  guarded.use(requireAccount(guard));
  for (const register of [homeRoutes, passkeyRoutes, faceRoutes, reenrollRoutes, appRoutes, proofingRoutes]) register(guarded, deps);
  return [accessRouter(guard), guarded];
}
