import type { Context } from 'koa';
import type { User } from '../accounts/users.js';
import type { ServerServices } from '../server/services.js';
import type { InviteStore } from '../enrollment/invites.js';
import { HttpError } from '../web/errors.js';
import type { AccountAdmin } from './accounts.js';
import type { OidcSessions } from './oidc-sessions.js';

/** What the console's route modules work with: the server's stores plus the console's own helpers. */
export type AdminDeps = Pick<ServerServices, 'config' | 'prisma' | 'sealer' | 'users' | 'templates' | 'consents' | 'clients' | 'audit' | 'settings' | 'engine'> & {
  accounts: AccountAdmin;
  sessions: OidcSessions;
  invites: InviteStore;
};

/** The user named by the `:id` route parameter, or a 404 page. */
export async function userParam(ctx: Context, deps: Pick<AdminDeps, 'users'>): Promise<User> {
  const user = await deps.users.byId(String(ctx.params.id));
  if (!user) throw new HttpError(404, 'USER_NOT_FOUND', 'This user does not exist (any more).');
  return user;
}
