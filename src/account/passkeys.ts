import type Router from '@koa/router';
import type { Context } from 'koa';
import { needsConfirmation } from '../accounts/factors.js';
import { PasskeyError, type PasskeySummary } from '../passkeys/index.js';
import { summarizeAgent } from '../web/device.js';
import { HttpError } from '../web/errors.js';
import { withPasskeyErrors } from '../web/passkey-errors.js';
import { requireFresh } from './access.js';
import { accountOf, contextOf, type AccountDeps } from './deps.js';
import { factorsOf } from './factors.js';
import { renderHome } from './home.js';
import { formField, page, redirectDone } from './page.js';

/** A name for a key the person did not name, from the browser that made it, e.g. "Chrome on Linux". */
function defaultName(ctx: Context): string {
  const { browser, os } = summarizeAgent(ctx.get('user-agent'));
  const made = [browser?.replace(/\s[\d.]+$/, ''), os?.replace(/\s[\d.]+$/, '')].filter(Boolean).join(' on ');
  return made ? `Passkey (${made})` : 'Passkey';
}

const binding = (ctx: Context) => `account:${accountOf(ctx).session.sid}`;

async function owned(deps: AccountDeps, ctx: Context): Promise<PasskeySummary> {
  const key = (await deps.passkeys.list(accountOf(ctx).user.id)).find((p) => p.id === ctx.params.id);
  if (!key) throw new HttpError(404, 'PASSKEY_NOT_FOUND', 'This passkey does not exist (any more).');
  return key;
}

/** Passkeys: add (after a recent face sign-in), rename, remove (confirming when it is the last factor). */
export function passkeyRoutes(router: Router, deps: AccountDeps): void {
  router.post('/passkeys/options', async (ctx) => {
    const { user, session } = accountOf(ctx);
    requireFresh(ctx, session, { face: true });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { options: await deps.passkeys.registrationOptions(user, binding(ctx)) };
  });

  /** The authenticator's answer (JSON `{ response, name }`); answers `{ redirect, passkey }` or the JSON error shape. */
  router.post('/passkeys', async (ctx) => {
    const { user, session } = accountOf(ctx);
    requireFresh(ctx, session, { face: true });
    ctx.set('Cache-Control', 'no-store');
    const body = (ctx.request.body as Record<string, unknown> | undefined) ?? {};
    const name = typeof body.name === 'string' && body.name.trim() ? body.name : defaultName(ctx);
    const passkey = await withPasskeyErrors(() => deps.passkeys.register(user, binding(ctx), body.response, name, { kind: 'self' }, contextOf(ctx)));
    ctx.body = { redirect: '/account?done=passkey-added', passkey: { id: passkey.id, name: passkey.name, kind: passkey.kind } };
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
