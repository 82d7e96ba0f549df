import type { Context } from 'koa';
import { HttpError } from './errors.js';
import type { RelyingParty, RpSession } from './relying-party.js';

export interface SignedInDeps {
  rp: RelyingParty;
  /** Whether the provider session behind a client session still exists (sign-out and "revoke all" end it). */
  providerSession(accountId: string, sid: string): Promise<boolean>;
}

/**
 * The session of a built-in client (admin console, account pages) whose provider session still exists. Without
 * one, a page view is sent to `loginPath` and a change is refused with a 401; `null` then means "already answered".
 */
export async function signedIn(ctx: Context, deps: SignedInDeps, loginPath: string, message: string): Promise<RpSession | null> {
  let session = await deps.rp.session(ctx);
  const sid = session?.claims.sid;
  if (session && (typeof sid !== 'string' || !(await deps.providerSession(session.sub, sid)))) {
    await deps.rp.forget(ctx, session);
    session = null;
  }
  if (session) return session;
  if (isReading(ctx)) {
    ctx.redirect(`${loginPath}?next=${encodeURIComponent(ctx.originalUrl)}`);
    return null;
  }
  throw new HttpError(401, 'SIGN_IN_REQUIRED', message, {}, { redirect: loginPath });
}

export const isReading = (ctx: Context) => ctx.method === 'GET' || ctx.method === 'HEAD';
