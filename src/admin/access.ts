import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { User } from '../accounts/users.js';
import { ACR, type Acr, acrRank } from '../oidc/acr.js';
import type { Settings } from '../settings/index.js';
import type { Csrf } from '../web/csrf.js';
import type { RpSession } from '../web/relying-party.js';
import { isReading, type SignedInDeps, signedIn } from '../web/signed-in.js';
import { render } from '../web/views.js';

export interface AccessDeps extends SignedInDeps {
  users: { byId(id: string): Promise<User | null> };
  csrf: Csrf;
  settings: { get(): Promise<Settings> };
}

const isAdmin = (user: User | null): user is User => !!user && user.status === 'ACTIVE' && user.roles.includes('admin');
const binding = (session: RpSession) => `admin:${session.sid}`;
/** The acr administrators need: face, or face + passkey when the settings say so. */
const requiredAcr = async (deps: AccessDeps): Promise<Acr> => ((await deps.settings.get()).adminPasskeyRequired ? ACR.passkey : ACR.face);
/** The console's client requires face and the login asks for the setting's acr; checked again here on every request. */
const strongEnough = (session: RpSession, acr: Acr) => acrRank(session.claims.acr as string | undefined) >= acrRank(acr);
/** Only paths inside the console: a crafted `next` must not turn sign-in into an open redirect. */
const safeNext = (next: unknown) => (typeof next === 'string' && /^\/admin(\/|$|\?)/.test(next) ? next : '/admin/users');

/**
 * The console is an OIDC client of this provider (code + PKCE, face required by the client's registration). Its
 * own session lives in the shared store; every request re-reads the account, so removing the admin role or
 * disabling the account takes effect at once.
 */
export function accessRouter(deps: AccessDeps): Router {
  const router = new Router({ prefix: '/admin' });

  router.get('/login', async (ctx) => {
    const acr = await requiredAcr(deps);
    await deps.rp.login(ctx, safeNext(ctx.query.next), acr === ACR.face ? {} : { acr_values: acr });
  });

  router.get('/callback', async (ctx) => {
    const { session, returnTo } = await deps.rp.callback(ctx);
    const user = await deps.users.byId(session.sub);
    const acr = await requiredAcr(deps);
    const ok = isAdmin(user) && strongEnough(session, acr);
    await ctx.state.audit({
      type: 'admin.signin',
      outcome: ok ? 'success' : 'failure',
      reason: ok ? null : !isAdmin(user) ? 'NOT_ADMIN' : acr === ACR.face ? 'FACE_REQUIRED' : 'PASSKEY_REQUIRED',
      userId: session.sub,
      actorId: session.sub,
      details: { acr: session.claims.acr ?? null, amr: session.claims.amr ?? [] },
    });
    ctx.redirect(safeNext(returnTo));
  });

  router.get('/signed-out', async (ctx) => {
    await render(ctx, 'admin/signed-out', { title: 'Signed out' });
  });

  router.post('/logout', async (ctx) => {
    const session = await deps.rp.session(ctx);
    if (session) deps.csrf.verify(ctx, binding(session));
    await deps.rp.logout(ctx);
  });

  return router;
}

/**
 * Guards everything else under /admin: anonymous visitors are sent to sign in, signed-in people without the admin
 * role (or whose session is weaker than the required acr) get a 403 page, and every state-changing request must carry the
 * session's CSRF token — checked here, before any handler runs.
 */
export function requireAdmin(deps: AccessDeps) {
  return async (ctx: Context, next: Next) => {
    const session = await signedIn(ctx, deps, '/admin/login', 'Your admin session has ended. Sign in again and repeat the change.');
    if (!session) return;
    const { state } = ctx;
    state.csrf = deps.csrf.token(binding(session));
    const user = await deps.users.byId(session.sub);
    const acr = await requiredAcr(deps);
    if (!isAdmin(user) || !strongEnough(session, acr)) {
      return render(ctx, 'admin/forbidden', { title: 'Administrators only', csrf: state.csrf, name: user?.name ?? null, passkeyRequired: isAdmin(user) && acr === ACR.passkey }, 403);
    }
    state.adminUser = user;
    if (!isReading(ctx)) {
      // Multipart forms carry the token in their action's query string: the handler streams their body later.
      if (ctx.request.is('multipart/form-data') && !ctx.get('x-csrf-token') && typeof ctx.query._csrf === 'string') {
        ctx.request.headers['x-csrf-token'] = ctx.query._csrf;
      }
      deps.csrf.verify(ctx, binding(session));
    }
    await next();
  };
}
