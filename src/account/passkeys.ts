import type Router from '@koa/router';
import type { Context } from 'koa';
import { needsConfirmation } from '../accounts/factors.js';
import { type User, verifyPassword } from '../accounts/users.js';
import { publicProgress } from '../interaction/face-challenge.js';
import { type Bound, PasskeyError, type PasskeySummary } from '../passkeys/index.js';
import { deviceOrigin } from '../web/device-cookie.js';
import { summarizeAgent } from '../web/device.js';
import { HttpError } from '../web/errors.js';
import { withPasskeyErrors } from '../web/passkey-errors.js';
import { rateKeyForIp } from '../web/rate-limit.js';
import { freshFor, requireFresh } from './access.js';
import { accountOf, contextOf, type AccountDeps } from './deps.js';
import { faceCheck } from './face-check.js';
import { factorsOf } from './factors.js';
import { renderHome } from './home.js';
import { formField, page, redirectDone } from './page.js';

const FIRST_KEY_PAGE = '/account/passkeys/new';

/** A name for a key the person did not name, from the browser that made it, e.g. "Chrome on Linux". */
function defaultName(ctx: Context): string {
  const { browser, os } = summarizeAgent(ctx.get('user-agent'));
  const made = [browser?.replace(/\s[\d.]+$/, ''), os?.replace(/\s[\d.]+$/, '')].filter(Boolean).join(' on ');
  return made ? `Passkey (${made})` : 'Passkey';
}

const binding = (ctx: Context) => `account:${accountOf(ctx).session.sid}`;
/** The assertion that confirms a new key is bound to its own ceremony, apart from sign-ins and registrations. */
const confirmBinding = (ctx: Context) => `account-confirm:${accountOf(ctx).session.sid}`;

async function owned(deps: AccountDeps, ctx: Context): Promise<PasskeySummary> {
  const key = (await deps.passkeys.list(accountOf(ctx).user.id)).find((p) => p.id === ctx.params.id);
  if (!key) throw new HttpError(404, 'PASSKEY_NOT_FOUND', 'This passkey does not exist (any more).');
  return key;
}

/**
 * The password, where the account has one, as the second factor next to the face for the first key. Counted like a
 * sign-in's password attempt (the same limits, reserved before the hash is checked).
 */
async function checkPassword(deps: AccountDeps, ctx: Context, user: User, password: unknown): Promise<void> {
  if (user.passwordHash === null) return;
  const { attempts, devices } = deps.verification;
  const start = await attempts.begin('pwd', { userId: user.id, identifier: user.email }, deviceOrigin(ctx, devices, user.id), rateKeyForIp(ctx.ip));
  if (!start.allowed) throw new HttpError(429, 'PASSWORD_DELAYED', 'Too many failed password attempts. Wait before trying again.', { 'Retry-After': String(start.retryAfter) });
  const ok = await verifyPassword(user.passwordHash, typeof password === 'string' ? password : '');
  await ctx.state.audit({ type: 'passkey.confirm', outcome: ok ? 'success' : 'failure', reason: ok ? null : 'PASSWORD_MISMATCH', userId: user.id, actorId: user.id, details: { factor: 'pwd' } });
  if (!ok) {
    await start.attempt.failed();
    throw new HttpError(401, 'PASSWORD_MISMATCH', 'That is not your password.');
  }
  await start.attempt.succeeded();
}

/**
 * Passkeys: add, rename, remove (confirming when it is the last factor). Adding authenticates at the level the key
 * will serve (NIST SP 800-63B; README "Adding a sign-in factor"): an account with keys confirms with one of them now,
 * in the same ceremony; the first key needs a head-movement challenge passed now and the password where the account
 * has one. A recent sign-in alone, with the face or not, adds nothing.
 */
export function passkeyRoutes(router: Router, deps: AccountDeps): void {
  const firstKeyCheck = faceCheck(router, deps, {
    page: FIRST_KEY_PAGE,
    name: 'passkey-bind',
    faceSession: false,
    failure: { type: 'passkey.confirm', details: { factor: 'face' } },
    async passed(ctx, user, { progress, total }) {
      await deps.passkeys.proveFace(user.id, binding(ctx));
      await ctx.state.audit({ type: 'passkey.confirm', outcome: 'success', userId: user.id, actorId: user.id, details: { factor: 'face', method: 'challenge' } });
      ctx.body = { progress: publicProgress(progress, total), redirect: FIRST_KEY_PAGE };
    },
  });

  /** What authorises this registration, or null after answering with the assertion options it needs first. */
  async function authorise(ctx: Context, user: User, body: Record<string, unknown>): Promise<Bound | null> {
    if ((await deps.passkeys.count(user.id)) > 0) {
      if (body.assertion === undefined) {
        ctx.body = { confirm: await deps.passkeys.authenticationOptions(confirmBinding(ctx), user.id) };
        return null;
      }
      const voucher = await withPasskeyErrors(() => deps.passkeys.confirm(confirmBinding(ctx), body.assertion, user.id, contextOf(ctx)));
      return { with: 'passkey', approved: voucher.adminReady };
    }
    if (!(await deps.passkeys.faceProven(user.id, binding(ctx)))) {
      throw new HttpError(403, 'FACE_CHALLENGE_REQUIRED', 'Your first passkey needs your face, checked now: follow the movements first.', {}, { redirect: FIRST_KEY_PAGE });
    }
    await checkPassword(deps, ctx, user, body.password);
    // Taken, not read: one challenge passed binds one key, however many requests race for it.
    if (!(await deps.passkeys.takeFaceProof(user.id, binding(ctx)))) {
      throw new HttpError(403, 'FACE_CHALLENGE_REQUIRED', 'Your face check was already used. Follow the movements again.', {}, { redirect: FIRST_KEY_PAGE });
    }
    return { with: 'face' };
  }

  /**
   * Registration options once the change is authorised (JSON `{ assertion?, password? }`): `{ options }`, or
   * `{ confirm }` with the assertion options one of the account's keys must answer first.
   */
  router.post('/passkeys/options', async (ctx) => {
    const { user, session } = accountOf(ctx);
    requireFresh(ctx, session);
    ctx.set('Cache-Control', 'no-store');
    const bound = await authorise(ctx, user, (ctx.request.body as Record<string, unknown> | undefined) ?? {});
    if (bound) ctx.body = { options: await deps.passkeys.registrationOptions(user, binding(ctx), bound) };
  });

  /** The authenticator's answer (JSON `{ response, name }`); answers `{ redirect, passkey }` or the JSON error shape. */
  router.post('/passkeys', async (ctx) => {
    const { user, session } = accountOf(ctx);
    requireFresh(ctx, session);
    ctx.set('Cache-Control', 'no-store');
    const body = (ctx.request.body as Record<string, unknown> | undefined) ?? {};
    const name = typeof body.name === 'string' && body.name.trim() ? body.name : defaultName(ctx);
    const passkey = await withPasskeyErrors(() => deps.passkeys.register(user, binding(ctx), body.response, name, { kind: 'self' }, contextOf(ctx)));
    ctx.body = { redirect: '/account?done=passkey-added', passkey: { id: passkey.id, name: passkey.name, kind: passkey.kind } };
  });

  /** The first key: the head-movement challenge, then (once passed) the password where there is one and the key. */
  router.get('/passkeys/new', async (ctx) => {
    const { user, session } = accountOf(ctx);
    if (freshFor(session) === 0) return ctx.redirect(`/account/verify?next=${encodeURIComponent(FIRST_KEY_PAGE)}`);
    if ((await deps.passkeys.count(user.id)) > 0) return ctx.redirect('/account#passkeys-h');
    const hasFace = await deps.verification.hasFace(user.id);
    const proven = hasFace && (await deps.passkeys.faceProven(user.id, binding(ctx)));
    await page(ctx, 'first-passkey', {
      title: 'Add your first passkey',
      scripts: proven ? ['/static/passkey-register.js'] : hasFace ? ['/static/face-challenge.js'] : [],
      hasFace,
      proven,
      hasPassword: user.passwordHash !== null,
      freshFor: freshFor(session),
      ...(hasFace && !proven ? await firstKeyCheck.page(ctx, user) : { challenge: null, status: null, retryAfter: 0, locked: false }),
    });
  });

  router.post('/passkeys/:id/rename', async (ctx) => {
    const { user, session } = accountOf(ctx);
    requireFresh(ctx, session);
    await owned(deps, ctx);
    try {
      await deps.passkeys.rename(user.id, String(ctx.params.id), formField(ctx, 'name'), { kind: 'self' }, contextOf(ctx));
    } catch (err) {
      if (err instanceof PasskeyError) return renderHome(deps, ctx, err.message, err.status);
      throw err;
    }
    redirectDone(ctx, 'passkey-renamed');
  });

  /** Removal; when it would leave the account with no factor, a page explains that first and asks to confirm. */
  router.post('/passkeys/:id/remove', async (ctx) => {
    const { user, session } = accountOf(ctx);
    requireFresh(ctx, session);
    const key = await owned(deps, ctx);
    const before = await factorsOf(deps, user);
    const confirm = needsConfirmation(before, { ...before, passkeys: before.passkeys - 1 });
    const settings = await deps.settings.get();
    const adminLoses = settings.adminPasskeyRequired && user.roles.includes('admin') && before.passkeys === 1;
    if ((confirm || adminLoses) && formField(ctx, 'confirm') !== 'yes') {
      return page(ctx, 'remove-passkey', { title: 'Remove your last passkey?', key, lastFactor: confirm, adminLoses });
    }
    await withPasskeyErrors(() => deps.passkeys.remove(user.id, key.id, { kind: 'self' }, contextOf(ctx)));
    redirectDone(ctx, 'passkey-removed');
  });
}
