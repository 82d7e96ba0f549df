import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { User } from '../accounts/users.js';
import type { Csrf } from '../web/csrf.js';
import { HttpError } from '../web/errors.js';
import type { RpSession } from '../web/relying-party.js';
import { isReading, type SignedInDeps, signedIn } from '../web/signed-in.js';
import { render } from '../web/views.js';

export interface AccessDeps extends SignedInDeps {
  users: { byId(id: string): Promise<User | null> };
  csrf: Csrf;
}

/** How long after a sign-in changes are allowed without signing in again (a max_age-style step-up). */
export const FRESH_SECONDS = 300;

const binding = (session: RpSession) => `account:${session.sid}`;
const active = (user: User | null): user is User => !!user && user.status === 'ACTIVE';
/** Only paths inside the account pages: a crafted `next` must not turn sign-in into an open redirect. */
export const safeNext = (next: unknown) => (typeof next === 'string' && /^\/account(\/|$|\?)/.test(next) && !next.startsWith('//') ? next : '/account');

const authTime = (session: RpSession) => (typeof session.claims.auth_time === 'number' ? session.claims.auth_time : 0);
const amr = (session: RpSession) => (Array.isArray(session.claims.amr) ? (session.claims.amr as unknown[]).map(String) : []);

/** Seconds the session's sign-in stays fresh enough for changes (0 once it is not). */
export const freshFor = (session: RpSession) => Math.max(0, Math.round(authTime(session) + FRESH_SECONDS - Date.now() / 1000));
/**
 * Whether the session's sign-in verified the face with a passed challenge (passkeys and re-enrollment build on it):
 * a passive capture, which a still photo can pass, is not enough to change how the account signs in.
 */
export const faceVerified = (session: RpSession) => amr(session).includes('face') && amr(session).includes('liveness');

/**
 * Changes need a recent sign-in, and some a recent face sign-in. Refused with a 403 whose `redirect` leads to the
 * step-up (a new sign-in with max_age=0) and back to `next`.
 */
export function requireFresh(ctx: Context, session: RpSession, opts: { face?: boolean; next?: string } = {}): void {
  const redirect = `/account/verify?next=${encodeURIComponent(safeNext(opts.next ?? '/account'))}`;
  if (freshFor(session) === 0) {
    throw new HttpError(403, 'STEP_UP_REQUIRED', 'For your security, confirm it is you again before changing your account.', {}, { redirect });
  }
  if (opts.face && !faceVerified(session)) {
    throw new HttpError(403, 'FACE_STEP_UP_REQUIRED', 'Sign in with your face first: passkeys and re-enrollment build on a face sign-in.', {}, { redirect });
  }
}

/**
 * The account pages are an OIDC client of this provider, like the admin console. Their own session lives in the
 * shared store; every request re-reads the account, so disabling it takes effect at once.
 */
export function accessRouter(deps: AccessDeps): Router {
  const router = new Router({ prefix: '/account' });

  router.get('/login', async (ctx) => {
    await deps.rp.login(ctx, safeNext(ctx.query.next));
  });

  /** The step-up: a new sign-in whatever the provider session's age (max_age=0), for the same person. */
  router.get('/verify', async (ctx) => {
    const session = await deps.rp.session(ctx);
    const user = session ? await deps.users.byId(session.sub) : null;
    await deps.rp.login(ctx, safeNext(ctx.query.next), { max_age: '0', ...(user ? { login_hint: user.email } : {}) });
  });

  router.get('/callback', async (ctx) => {
    const { session, returnTo } = await deps.rp.callback(ctx);
    await ctx.state.audit({ type: 'account.signin', outcome: 'success', userId: session.sub, details: { acr: session.claims.acr ?? null, amr: session.claims.amr ?? [] } });
    ctx.redirect(safeNext(returnTo));
  });

  router.get('/signed-out', async (ctx) => {
    await render(ctx, 'account/signed-out', { title: 'Signed out' });
  });

  router.post('/logout', async (ctx) => {
    const session = await deps.rp.session(ctx);
    if (session) deps.csrf.verify(ctx, binding(session));
    await deps.rp.logout(ctx);
  });

  return router;
}

/**
 * Guards everything else under /account: anonymous visitors (and sessions whose provider session ended) are sent to
 * sign in, disabled accounts are refused, and every state-changing request must carry the session's CSRF token —
 * checked here, before any handler runs.
 */
export function requireAccount(deps: AccessDeps) {
  return async (ctx: Context, next: Next) => {
    const session = await signedIn(ctx, deps, '/account/login', 'Your session has ended. Sign in again and repeat the change.');
    if (!session) return;
    const user = await deps.users.byId(session.sub);
    if (!active(user)) throw new HttpError(403, 'ACCOUNT_DISABLED', 'This account is disabled. Ask an administrator.');
    ctx.state.csrf = deps.csrf.token(binding(session));
    ctx.state.account = { user, session };
    if (!isReading(ctx)) {
      // Multipart forms carry the token in a header (enroll-kit.js): their body is streamed by the handler later.
      deps.csrf.verify(ctx, binding(session));
    }
    await next();
  };
}
