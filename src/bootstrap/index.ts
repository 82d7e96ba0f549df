import Router from '@koa/router';
import type { Context } from 'koa';
import { BootstrapError, type FirstAdmin } from '../accounts/bootstrap.js';
import { AccountError } from '../accounts/users.js';
import { isDirectLoopback } from '../ops/metrics-access.js';
import type { Csrf } from '../web/csrf.js';
import { HttpError } from '../web/errors.js';
import { render } from '../web/views.js';

export interface BootstrapDeps {
  firstAdmin: Pick<FirstAdmin, 'open' | 'createAdmin'>;
  csrf: Csrf;
  /** Where the new admin goes next: their face enrollment. */
  afterCreate: (userId: string) => Promise<string>;
}

export function bootstrapRouter(deps: BootstrapDeps): Router {
  const router = new Router();

  async function validToken(ctx: Context): Promise<string> {
    // The socket, not X-Forwarded-For, and no proxy in between: a proxy on this host makes every visitor look local.
    if (!isDirectLoopback(ctx)) throw new HttpError(403, 'BOOTSTRAP_LOCAL_ONLY', 'The bootstrap link only works from the machine the server runs on.');
    const id = await deps.firstAdmin.open(String(ctx.params.token));
    if (!id) {
      throw new HttpError(410, 'BOOTSTRAP_LINK_INVALID', 'This bootstrap link has expired or was already used. Restart the server to print a new one.');
    }
    return id;
  }

  router.get('/bootstrap/:token', async (ctx) => {
    const id = await validToken(ctx);
    await render(ctx, 'bootstrap', { title: 'Create the first administrator', token: ctx.params.token, csrf: deps.csrf.token(`bootstrap:${id}`), values: {} });
  });

  router.post('/bootstrap/:token', async (ctx) => {
    const id = await validToken(ctx);
    deps.csrf.verify(ctx, `bootstrap:${id}`);
    const form = (ctx.request.body ?? {}) as Record<string, string>;
    const values = { email: form.email ?? '', name: form.name ?? '' };
    const again = (message: string) =>
      render(ctx, 'bootstrap', { title: 'Create the first administrator', token: ctx.params.token, csrf: deps.csrf.token(`bootstrap:${id}`), values, message }, 400);
    if (form.password !== form.password_confirm) return again('The two passwords differ.');
    let userId: string;
    try {
      userId = await deps.firstAdmin.createAdmin(id, { email: values.email, name: values.name, password: form.password || null });
    } catch (err) {
      if (err instanceof AccountError) return again(err.message);
      if (err instanceof BootstrapError) throw new HttpError(410, 'BOOTSTRAP_LINK_INVALID', err.message);
      throw err;
    }
    await ctx.state.audit({ type: 'admin.bootstrap', outcome: 'success', userId, actorId: userId });
    ctx.redirect(await deps.afterCreate(userId));
  });

  return router;
}
