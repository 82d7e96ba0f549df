import type { Context } from 'koa';
import type { ConsentStore } from '../accounts/consents.js';
import type { TemplateStore } from '../accounts/templates.js';
import type { User, UserStore } from '../accounts/users.js';
import type { AuditLog } from '../audit/index.js';
import type { Config } from '../config/index.js';
import type { InviteStore } from '../enrollment/invites.js';
import type { FaceEngine } from '../face/index.js';
import type { ClientStore } from '../oidc/clients.js';
import type { SettingsStore } from '../settings/index.js';
import type { Sealer } from '../store/crypto.js';
import type { Prisma } from '../store/database.js';
import { HttpError } from '../web/errors.js';
import type { AccountAdmin } from './accounts.js';
import type { OidcSessions } from './oidc-sessions.js';

/** What the console's route modules work with. */
export interface AdminDeps {
  config: Config;
  prisma: Prisma;
  sealer: Sealer;
  users: UserStore;
  templates: TemplateStore;
  consents: ConsentStore;
  clients: ClientStore;
  audit: AuditLog;
  settings: SettingsStore;
  engine: FaceEngine;
  accounts: AccountAdmin;
  sessions: OidcSessions;
  invites: InviteStore;
}

/** The user named by the `:id` route parameter, or a 404 page. */
export async function userParam(ctx: Context, deps: Pick<AdminDeps, 'users'>): Promise<User> {
  const user = await deps.users.byId(String(ctx.params.id));
  if (!user) throw new HttpError(404, 'USER_NOT_FOUND', 'This user does not exist (any more).');
  return user;
}
